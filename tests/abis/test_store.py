import json
import os

import numpy as np
import pytest

from ektp.abis.errors import GalleryLocked, StorageCorrupt
from ektp.abis.gallery import Gallery
from ektp.abis.matchers import IrisMatcher
from ektp.abis.store import Entry, Op, read_journal

from .factories import subject_id


def open_gallery(directory) -> Gallery:
    return Gallery(IrisMatcher(), directory=directory, fsync=False)


def fill(gallery: Gallery, population, indices) -> None:
    for index in indices:
        gallery.insert(subject_id(index), population[index].tobytes())


def best(gallery: Gallery, population, index) -> str:
    return gallery.identify(population[index].tobytes()).candidates[0].subject_id


def test_restart_maps_the_snapshot_and_replays_the_journal(tmp_path, population):
    with open_gallery(tmp_path) as gallery:
        fill(gallery, population, range(100))
        gallery.checkpoint()
        fill(gallery, population, range(100, 130))
        gallery.delete(subject_id(5))
        gallery.delete(subject_id(110))

    with open_gallery(tmp_path) as restarted:
        assert restarted.count() == 128
        assert subject_id(5) not in restarted and subject_id(110) not in restarted
        assert best(restarted, population, 42) == subject_id(42)
        assert best(restarted, population, 129) == subject_id(129)
        assert restarted.identify(population[5].tobytes()).match is False


def test_restart_without_any_checkpoint_replays_the_whole_journal(tmp_path, population):
    with open_gallery(tmp_path) as gallery:
        fill(gallery, population, range(20))

    with open_gallery(tmp_path) as restarted:
        assert restarted.count() == 20
        assert best(restarted, population, 19) == subject_id(19)


def test_snapshot_is_written_as_npy_rows_and_json_ids(tmp_path, population):
    with open_gallery(tmp_path) as gallery:
        fill(gallery, population, range(10))
        gallery.checkpoint()

    snapshot = json.loads((tmp_path / "snapshot.json").read_text())
    records = np.load(tmp_path / "records-000001.npy", mmap_mode="r")
    assert snapshot["ids"] == [subject_id(i) for i in range(10)]
    assert (snapshot["modality"], snapshot["count"]) == ("iris", 10)
    np.testing.assert_array_equal(records, population[:10])


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs Linux /proc")
def test_restart_memory_maps_the_snapshot_instead_of_reading_it(tmp_path, population):
    with open_gallery(tmp_path) as gallery:
        fill(gallery, population, range(10))
        gallery.checkpoint()

    with open_gallery(tmp_path) as restarted:
        with open("/proc/self/maps") as maps:
            assert str(tmp_path / "records-000001.npy") in maps.read()
        assert best(restarted, population, 9) == subject_id(9)


def test_checkpoint_keeps_one_generation_and_starts_an_empty_journal(tmp_path, population):
    with open_gallery(tmp_path) as gallery:
        fill(gallery, population, range(10))
        gallery.checkpoint()
        fill(gallery, population, range(10, 12))
        gallery.checkpoint()

        names = sorted(p.name for p in tmp_path.iterdir())
        assert names == ["LOCK", "journal-000002.log", "records-000002.npy", "snapshot.json"]
        assert (tmp_path / "journal-000002.log").stat().st_size == 0


def test_torn_last_journal_record_is_ignored(tmp_path, population):
    with open_gallery(tmp_path) as gallery:
        fill(gallery, population, range(3))
    journal = tmp_path / "journal-000000.log"
    os.truncate(journal, journal.stat().st_size - 100)

    with open_gallery(tmp_path) as restarted:
        assert restarted.count() == 2
        assert subject_id(2) not in restarted
        fill(restarted, population, [7])

    with open_gallery(tmp_path) as again:
        assert again.count() == 3
        assert all(subject_id(i) in again for i in (0, 1, 7))


def test_zero_filled_journal_tail_is_ignored(tmp_path, population):
    with open_gallery(tmp_path) as gallery:
        fill(gallery, population, range(3))
    journal = tmp_path / "journal-000000.log"
    with open(journal, "ab") as handle:
        handle.write(bytes(4096))

    with open_gallery(tmp_path) as restarted:
        assert restarted.count() == 3
    assert len(read_journal(journal)[0]) == 3


def test_corrupt_last_record_checksum_is_treated_as_torn(tmp_path, population):
    with open_gallery(tmp_path) as gallery:
        fill(gallery, population, range(2))
    journal = tmp_path / "journal-000000.log"
    data = bytearray(journal.read_bytes())
    data[-1] ^= 0xFF
    journal.write_bytes(bytes(data))

    with open_gallery(tmp_path) as restarted:
        assert restarted.count() == 1


def test_damage_in_the_middle_of_the_journal_is_refused(tmp_path, population):
    with open_gallery(tmp_path) as gallery:
        fill(gallery, population, range(3))
    journal = tmp_path / "journal-000000.log"
    data = bytearray(journal.read_bytes())
    data[500] ^= 0xFF
    journal.write_bytes(bytes(data))

    with pytest.raises(StorageCorrupt, match="byte 0"):
        open_gallery(tmp_path)
    with open_gallery(tmp_path.parent / (tmp_path.name + "-other")):
        pass


def test_crash_before_the_snapshot_rename_restarts_from_the_previous_pair(tmp_path, population):
    with open_gallery(tmp_path) as gallery:
        fill(gallery, population, range(4))
        gallery.checkpoint()
        fill(gallery, population, range(4, 6))
    (tmp_path / "records-000002.npy").write_bytes(b"half written")
    (tmp_path / "journal-000002.log").write_bytes(b"")

    with open_gallery(tmp_path) as restarted:
        assert restarted.count() == 6
    assert not (tmp_path / "records-000002.npy").exists()


def test_second_gallery_on_the_same_directory_is_refused(tmp_path):
    with open_gallery(tmp_path), pytest.raises(GalleryLocked):
        open_gallery(tmp_path)
    open_gallery(tmp_path).close()


def test_snapshot_of_another_modality_is_refused(tmp_path, population):
    with open_gallery(tmp_path) as gallery:
        fill(gallery, population, range(2))
        gallery.checkpoint()
    snapshot = json.loads((tmp_path / "snapshot.json").read_text())
    snapshot["modality"] = "face"
    (tmp_path / "snapshot.json").write_text(json.dumps(snapshot))

    with pytest.raises(StorageCorrupt, match="face"):
        open_gallery(tmp_path)


def test_journal_entries_round_trip_with_their_checksum(tmp_path):
    journal = tmp_path / "journal.log"
    entries = [Entry(Op.INSERT, "Ñoño-1", b"\x01" * 1024), Entry(Op.DELETE, "Ñoño-1")]
    journal.write_bytes(b"".join(e.to_bytes() for e in entries))

    assert read_journal(journal) == (entries, journal.stat().st_size)

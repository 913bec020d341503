import json
import os

import pytest

from ektp.abis.errors import GalleryLocked, StorageCorrupt
from ektp.abis.gallery import Gallery
from ektp.abis.matchers import IrisMatcher
from ektp.abis.sealing import Sealer
from ektp.abis.store import Entry, Op, read_journal

from .factories import KEYS, subject_id


def open_gallery(directory) -> Gallery:
    return Gallery(IrisMatcher(), directory=directory, fsync=False, keys=KEYS)


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


def test_no_template_or_subject_id_is_on_disk_in_clear_and_files_are_0600(tmp_path, population):
    with open_gallery(tmp_path) as gallery:
        fill(gallery, population, range(10))
        gallery.checkpoint()
        fill(gallery, population, range(10, 14))

    snapshot = json.loads((tmp_path / "snapshot.json").read_text())
    assert "ids" not in snapshot and snapshot["count"] == 10
    assert {p.name for p in tmp_path.iterdir()} == {
        "LOCK",
        "snapshot.json",
        "records-000001.bin",
        "journal-000001.log",
    }
    for path in tmp_path.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path
        data = path.read_bytes()
        for index in range(14):
            assert subject_id(index).encode() not in data
            assert population[index].tobytes()[:64] not in data
            assert population[index].tobytes()[-64:] not in data


def test_the_snapshot_restores_exactly_the_rows_it_sealed(tmp_path, population, monkeypatch):
    from ektp.abis import store

    monkeypatch.setattr(store, "CHUNK_BYTES", 3 * 1024)  # several chunks, the last one short
    with open_gallery(tmp_path) as gallery:
        fill(gallery, population, range(10))
        gallery.checkpoint()

    with open_gallery(tmp_path) as restarted:
        assert restarted.count() == 10
        for index in range(10):
            assert restarted.identify(population[index].tobytes()).candidates[0] == (
                subject_id(index),
                0.0,
            )


def test_a_gallery_sealed_with_another_key_is_refused(tmp_path, population):
    with open_gallery(tmp_path) as gallery:
        fill(gallery, population, range(3))
    with pytest.raises(StorageCorrupt, match="key not given"):
        Gallery(IrisMatcher(), directory=tmp_path, fsync=False, keys=[os.urandom(32)])
    with open_gallery(tmp_path) as gallery:
        gallery.checkpoint()
    with pytest.raises(StorageCorrupt, match="key not given"):
        Gallery(IrisMatcher(), directory=tmp_path, fsync=False, keys=[os.urandom(32)])


def test_a_gallery_opens_with_an_old_key_kept_second_and_reseals_with_the_new(tmp_path, population):
    with open_gallery(tmp_path) as gallery:
        fill(gallery, population, range(3))
    new = os.urandom(32)
    with Gallery(IrisMatcher(), directory=tmp_path, fsync=False, keys=[new, *KEYS]) as gallery:
        assert gallery.count() == 3
        gallery.checkpoint()
    with Gallery(IrisMatcher(), directory=tmp_path, fsync=False, keys=[new]) as gallery:
        assert gallery.count() == 3


def test_a_persistent_gallery_needs_a_key(tmp_path):
    with pytest.raises(ValueError, match="needs its keys"):
        Gallery(IrisMatcher(), directory=tmp_path, fsync=False)


def test_journal_entries_swapped_in_place_are_refused(tmp_path, population):
    with open_gallery(tmp_path) as gallery:
        fill(gallery, population, range(3))
    journal = tmp_path / "journal-000000.log"
    data = journal.read_bytes()
    size = len(data) // 3
    journal.write_bytes(data[size : 2 * size] + data[:size] + data[2 * size :])

    with pytest.raises(StorageCorrupt, match="byte 0"):
        open_gallery(tmp_path)


def test_an_unsealed_gallery_of_an_older_version_points_at_rebuild(tmp_path):
    (tmp_path / "journal-000000.log").write_bytes(b"AJ\x01" + bytes(40))
    with pytest.raises(StorageCorrupt, match="ektp abis rebuild"):
        open_gallery(tmp_path)
    (tmp_path / "journal-000000.log").unlink()
    (tmp_path / "snapshot.json").write_text(
        json.dumps(
            {"format": 1, "modality": "iris", "record_size": 1024, "generation": 1, "ids": []}
        )
    )
    with pytest.raises(StorageCorrupt, match="ektp abis rebuild"):
        open_gallery(tmp_path)


def test_checkpoint_keeps_one_generation_and_starts_an_empty_journal(tmp_path, population):
    with open_gallery(tmp_path) as gallery:
        fill(gallery, population, range(10))
        gallery.checkpoint()
        fill(gallery, population, range(10, 12))
        gallery.checkpoint()

        names = sorted(p.name for p in tmp_path.iterdir())
        assert names == ["LOCK", "journal-000002.log", "records-000002.bin", "snapshot.json"]
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
    assert len(read_journal(journal, Sealer(KEYS))[0]) == 3


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
    (tmp_path / "records-000002.bin").write_bytes(b"half written")
    (tmp_path / "journal-000002.log").write_bytes(b"")

    with open_gallery(tmp_path) as restarted:
        assert restarted.count() == 6
    assert not (tmp_path / "records-000002.bin").exists()


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


def test_journal_entries_round_trip_sealed_in_their_place(tmp_path):
    journal = tmp_path / "journal.log"
    sealer = Sealer(KEYS)
    entries = [Entry(Op.INSERT, "Ñoño-1", b"\x01" * 1024), Entry(Op.DELETE, "Ñoño-1")]
    journal.write_bytes(b"".join(e.seal(sealer, 4, i) for i, e in enumerate(entries)))

    assert read_journal(journal, sealer, 4) == (entries, journal.stat().st_size)
    assert "Ñoño".encode() not in journal.read_bytes()
    with pytest.raises(StorageCorrupt):  # the entries of generation 4 do not open as another's
        read_journal(journal, sealer, 5)

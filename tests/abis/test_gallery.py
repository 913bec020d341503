import numpy as np
import pytest

from ektp.abis import synthetic
from ektp.abis.errors import DuplicateSubject, InvalidRequest, InvalidTemplate, UnknownSubject
from ektp.abis.gallery import Gallery, per_comparison_fmr
from ektp.abis.matchers import IrisMatcher

from .factories import KEYS, filled_gallery, genuine_probe, subject_id, template_at


@pytest.fixture(scope="module")
def big_gallery(population):
    return filled_gallery(population)


def test_identify_finds_the_genuine_mate_among_5000_impostors(big_gallery, population):
    mate = 1234
    probe = genuine_probe(template_at(population, mate), seed=7)

    result = big_gallery.identify(probe)

    assert result.gallery_size == 5_000
    assert result.match is True
    assert result.candidates[0].subject_id == subject_id(mate)
    assert result.candidates[0].score <= 0.30
    assert [c.subject_id for c in result.matches] == [subject_id(mate)]
    assert result.candidates[1].score > result.threshold


def test_identify_reports_no_match_for_a_stranger(big_gallery):
    stranger = synthetic.make_subject(99_999)

    result = big_gallery.identify(stranger)

    assert result.match is False
    assert result.matches == []
    assert result.candidates[0].score > result.threshold


def test_identify_returns_top_k_candidates_sorted_best_first(big_gallery, population):
    result = big_gallery.identify(population[17].tobytes(), top_k=12)

    scores = [c.score for c in result.candidates]
    assert len(result.candidates) == 12
    assert scores == sorted(scores)
    assert result.candidates[0] == (subject_id(17), 0.0)


def test_threshold_tightens_as_the_gallery_grows():
    matcher = IrisMatcher()
    thresholds = [
        matcher.threshold(per_comparison_fmr(1e-6, size))
        for size in (1, 1_000, 100_000, 10_000_000, 1_000_000_000)
    ]

    assert thresholds == sorted(thresholds, reverse=True)
    assert len(set(thresholds)) == len(thresholds)


def test_threshold_reported_by_a_search_tightens_as_references_are_added(population):
    gallery = filled_gallery(population[:10])
    small = gallery.identify(population[0].tobytes()).threshold
    for index in range(10, 1_000):
        gallery.insert(subject_id(index), population[index].tobytes())

    large = gallery.identify(population[0].tobytes()).threshold

    assert large < small
    assert large == pytest.approx(gallery.threshold(1_000))


def test_threshold_is_stricter_for_a_smaller_false_match_rate():
    assert Gallery(IrisMatcher(), false_match_rate=1e-9).threshold(1_000) < Gallery(
        IrisMatcher(), false_match_rate=1e-3
    ).threshold(1_000)


def test_deleted_subject_is_no_longer_found(population):
    gallery = filled_gallery(population[:200])
    probe = genuine_probe(template_at(population, 50), seed=3)
    assert gallery.identify(probe).candidates[0].subject_id == subject_id(50)

    gallery.delete(subject_id(50))

    result = gallery.identify(probe)
    assert gallery.count() == 199
    assert subject_id(50) not in gallery
    assert result.match is False
    assert subject_id(50) not in [c.subject_id for c in result.candidates]


def test_compaction_after_many_deletes_keeps_the_others_findable(population):
    gallery = filled_gallery(population[:400])
    for index in range(0, 400, 2):
        gallery.delete(subject_id(index))

    assert gallery.count() == 200
    for index in (1, 201, 399):
        result = gallery.identify(genuine_probe(template_at(population, index), seed=index))
        assert result.match
        assert result.candidates[0].subject_id == subject_id(index)
    assert gallery.identify(population[2].tobytes()).match is False


def test_a_deleted_subject_can_be_enrolled_again(population):
    gallery = filled_gallery(population[:5])
    gallery.delete(subject_id(3))
    gallery.insert(subject_id(3), population[3].tobytes())

    assert gallery.identify(population[3].tobytes()).candidates[0] == (subject_id(3), 0.0)


def test_gallery_grows_past_its_initial_capacity(population):
    gallery = filled_gallery(population[:1_500])

    assert gallery.count() == 1_500
    assert gallery.identify(population[1_499].tobytes()).candidates[0].subject_id == subject_id(
        1_499
    )


def test_empty_gallery_reports_no_match():
    result = Gallery(IrisMatcher()).identify(synthetic.make_subject(1))

    assert (result.match, result.candidates, result.gallery_size) == (False, [], 0)


def test_top_k_larger_than_the_gallery_returns_every_reference(population):
    gallery = filled_gallery(population[:3])

    assert len(gallery.identify(population[0].tobytes(), top_k=10).candidates) == 3


def test_insert_of_an_existing_subject_is_rejected(population):
    gallery = filled_gallery(population[:2])

    with pytest.raises(DuplicateSubject, match="S000001"):
        gallery.insert(subject_id(1), population[3].tobytes())
    assert gallery.count() == 2


def test_delete_of_an_unknown_subject_is_rejected(population):
    gallery = filled_gallery(population[:2])

    with pytest.raises(UnknownSubject, match="nobody"):
        gallery.delete("nobody")


@pytest.mark.parametrize("bad_id", ["", "   ", "a\nb", "x" * 256, 12])
def test_bad_subject_ids_are_rejected(bad_id, population):
    with pytest.raises(InvalidRequest):
        Gallery(IrisMatcher()).insert(bad_id, population[0].tobytes())


@pytest.mark.parametrize("bad_top_k", [0, -1, 101, 2.0, True, "5"])
def test_bad_top_k_is_rejected(bad_top_k, population):
    with pytest.raises(InvalidRequest, match="top_k"):
        filled_gallery(population[:2]).identify(population[0].tobytes(), top_k=bad_top_k)


def test_template_of_the_wrong_size_is_rejected_on_insert_and_identify(population):
    gallery = filled_gallery(population[:2])

    with pytest.raises(InvalidTemplate):
        gallery.insert("short", population[0].tobytes()[:-1])
    with pytest.raises(InvalidTemplate):
        gallery.identify(np.zeros(10, np.uint8).tobytes())
    assert gallery.count() == 2


def test_insert_many_adds_every_reference_of_an_array(population):
    gallery = Gallery(IrisMatcher())
    gallery.insert_many([subject_id(i) for i in range(1_000)], population[:1_000])
    gallery.insert("late", population[1_000].tobytes())

    assert gallery.count() == 1_001
    result = gallery.identify(genuine_probe(template_at(population, 640), seed=4))
    assert result.match and result.candidates[0].subject_id == subject_id(640)
    assert gallery.identify(population[1_000].tobytes()).candidates[0].subject_id == "late"


def test_insert_many_accepts_templates_and_bytes(population):
    gallery = Gallery(IrisMatcher())
    gallery.insert_many(["a", "b"], [template_at(population, 0), population[1].tobytes()])

    assert gallery.identify(population[1].tobytes()).candidates[0] == ("b", 0.0)


def test_insert_many_persists_through_a_restart(tmp_path, population):
    with Gallery(IrisMatcher(), directory=tmp_path, fsync=False, keys=KEYS) as gallery:
        gallery.insert_many([subject_id(i) for i in range(50)], population[:50])

    with Gallery(IrisMatcher(), directory=tmp_path, fsync=False, keys=KEYS) as gallery:
        assert gallery.count() == 50
        assert gallery.identify(population[49].tobytes()).candidates[0] == (subject_id(49), 0.0)


def test_insert_many_journals_in_one_fsync_and_a_torn_batch_keeps_its_prefix(
    tmp_path, population, monkeypatch
):
    from ektp.abis import store

    synced = []
    real_fsync = store.os.fsync
    monkeypatch.setattr(store, "WRITE_CHUNK", 4096)  # several writes for one batch
    monkeypatch.setattr(store.os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    with Gallery(IrisMatcher(), directory=tmp_path, fsync=True, keys=KEYS) as gallery:
        before = len(synced)
        gallery.insert_many([subject_id(i) for i in range(40)], population[:40])
        assert len(synced) - before == 1
    journal = next(tmp_path.glob("journal-*.log"))
    size = journal.stat().st_size
    with journal.open("r+b") as handle:  # a crash inside the batch's last entry
        handle.truncate(size - 7)
    with Gallery(IrisMatcher(), directory=tmp_path, fsync=False, keys=KEYS) as gallery:
        assert gallery.count() == 39
        assert subject_id(38) in gallery and subject_id(39) not in gallery


def _blind(record: np.ndarray) -> np.ndarray:
    blind = record.copy().reshape(2, 2, -1)
    blind[:, 1] = 0
    return blind.reshape(-1)


@pytest.mark.parametrize(
    ("ids", "templates", "error", "message"),
    [
        (["n1", "n2"], lambda p: p[10:12, :-1], InvalidTemplate, "uint8"),
        (["n1", "n2"], lambda p: p[10:12].astype(np.uint16), InvalidTemplate, "uint8"),
        (["n1", "n2"], lambda p: p[10:12].reshape(-1), InvalidTemplate, "uint8"),
        (["n1", "n2"], lambda p: [p[10].tobytes(), p[11].tobytes()[:-7]], InvalidTemplate, "1"),
        (["n1", "n2"], lambda p: [p[10].tobytes(), b""], InvalidTemplate, "template 1"),
        (["n1", "n2"], lambda p: np.stack([p[10], _blind(p[11])]), InvalidTemplate, "no usable"),
        (["n1", "n2"], lambda p: [p[10].tobytes(), _blind(p[11]).tobytes()], InvalidTemplate, "1"),
        (["n1", "n1"], lambda p: p[10:12], DuplicateSubject, "more than once"),
        (["n1", subject_id(3)], lambda p: p[10:12], DuplicateSubject, "already"),
        (["n1", ""], lambda p: p[10:12], InvalidRequest, "empty"),
        (["n1", "a\nb"], lambda p: p[10:12], InvalidRequest, "control"),
        (["n1"], lambda p: p[10:12], InvalidRequest, "1 subject ids for 2"),
    ],
)
def test_insert_many_rejects_bad_input_and_leaves_the_gallery_unchanged(
    tmp_path, population, ids, templates, error, message
):
    with Gallery(IrisMatcher(), directory=tmp_path, fsync=False, keys=KEYS) as gallery:
        gallery.insert_many([subject_id(i) for i in range(5)], population[:5])
        before = gallery.identify(population[10].tobytes())

        with pytest.raises(error, match=message):
            gallery.insert_many(ids, templates(population))

        assert gallery.count() == 5
        assert "n1" not in gallery
        assert gallery.identify(population[10].tobytes()) == before

    with Gallery(IrisMatcher(), directory=tmp_path, fsync=False, keys=KEYS) as gallery:
        assert gallery.count() == 5 and "n1" not in gallery

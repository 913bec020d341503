import numpy as np
import pytest

from ektp.abis import iris, kernels, synthetic
from ektp.abis.errors import InvalidTemplate
from ektp.abis.matchers import IrisMatcher

from .factories import filled_gallery, genuine_probe, random_records, subject_id, template_at


def expected_best(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((np.arange(len(scores)), scores))[:k]
    return order, scores[order]


@pytest.mark.parametrize("shifts", [0, 1, 2, 3, 5, 15])
@pytest.mark.parametrize("rows", [37, kernels.PARALLEL_MIN_ROWS + 300])
def test_batched_search_equals_the_reference_for_every_probe(shifts, rows):
    records = random_records(rows, seed=shifts)
    alive = np.ones(rows, dtype=np.bool_)
    alive[[0, 5, rows - 1]] = False
    probes = [records[i].tobytes() for i in (1, 2, 3, 8, 9)] + [random_records(1, 99)[0].tobytes()]
    matcher = IrisMatcher(shifts=shifts)

    found_rows, found_scores = matcher.search(probes, records, alive, 6)

    for index, probe in enumerate(probes):
        reference = iris.reference_eye_distances(records, probe, shifts=shifts).mean(axis=-1)
        reference[~alive] = np.inf
        rows_expected, scores_expected = expected_best(reference, 6)
        np.testing.assert_allclose(found_scores[index], scores_expected, rtol=0, atol=1e-12)
        assert found_rows[index].tolist() == rows_expected.tolist()


@pytest.mark.parametrize("probes", [1, 2, 3, 9])
def test_batched_scan_scores_are_identical_to_single_probe_scans(probes):
    records = random_records(300, seed=probes)
    words = records.view(np.uint64)
    alive = np.ones(300, dtype=np.bool_)
    alive[7] = False
    rotated = np.stack([iris.rotated_probes(records[i].tobytes(), 3) for i in range(probes)])
    packed = kernels.pack_probes(rotated)
    out = np.empty((probes, 300))

    kernels.scan_serial(
        words,
        alive,
        packed.lanes,
        packed.owners,
        packed.segment,
        kernels.scale_table(iris.REFERENCE_BITS),
        out,
    )

    for index in range(probes):
        single = kernels.scan(words, alive, rotated[index], iris.REFERENCE_BITS)
        assert np.array_equal(out[index], single)


def test_search_pads_with_no_row_when_fewer_rows_are_alive_than_asked():
    records = random_records(4, seed=1)
    alive = np.array([True, False, True, False])

    rows, scores = IrisMatcher().search([records[0].tobytes()], records, alive, 3)

    assert rows.tolist() == [[0, 2, -1]]
    assert np.isfinite(scores[0, :2]).all() and scores[0, 2] == np.inf


def test_pack_probes_gives_each_probe_a_power_of_two_segment_of_lanes():
    rotated = np.zeros((5, 3, 128), dtype=np.uint64)
    packed = kernels.pack_probes(rotated)

    assert packed.segment == 4
    assert packed.owners.tolist() == [[0, 1], [2, 3], [4, -1]]
    assert packed.lanes.shape == (3, 128 * kernels.LANES)
    assert kernels.pack_probes(np.zeros((2, 11, 128), np.uint64)).owners.tolist() == [
        [0],
        [0],
        [1],
        [1],
    ]


def test_pack_probes_rejects_a_partial_block():
    with pytest.raises(ValueError, match="blocks"):
        kernels.pack_probes(np.zeros((2, 7, 100), dtype=np.uint64))


@pytest.fixture(scope="module")
def gallery_with_holes(population):
    gallery = filled_gallery(population[:3_000])
    for index in range(0, 3_000, 7):
        gallery.delete(subject_id(index))
    return gallery


def test_identify_many_answers_what_identify_answers_for_each_probe(gallery_with_holes, population):
    probes = [genuine_probe(template_at(population, index), seed=index) for index in (1, 2, 15)]
    probes += [population[index].tobytes() for index in (5, 21, 2_999)]
    probes += [synthetic.make_subject(seed) for seed in (70_001, 70_002)]

    batched = gallery_with_holes.identify_many(probes, top_k=7)

    assert batched == [gallery_with_holes.identify(probe, top_k=7) for probe in probes]
    assert [result.match for result in batched] == [True] * 3 + [True, False, True] + [False] * 2


def test_identify_many_splits_large_requests_into_batches(gallery_with_holes, population):
    probes = [population[index].tobytes() for index in range(1, 150)]

    batched = gallery_with_holes.identify_many(probes, top_k=1)

    assert [result.candidates[0].subject_id for result in batched if result.match] == [
        subject_id(index) for index in range(1, 150) if index % 7
    ]


def test_identify_many_validates_every_probe_before_searching(gallery_with_holes, population):
    with pytest.raises(InvalidTemplate, match="1024 bytes"):
        gallery_with_holes.identify_many([population[1].tobytes(), b"short"])

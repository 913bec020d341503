"""The pruned iris search answers exactly what the exhaustive scan answers.

A row is scored exactly only when a lower bound of its score can still enter the top k
(``kernels.search_pruned_serial``). These tests hold the bound to being a bound, and the
pruned answers to the exhaustive ones, on random rows, on planted mates and impostors, and on
rows built so that the bound is loose or ties the k-th score.
"""

import numpy as np
import pytest

from ektp.abis import iris, kernels, synthetic
from ektp.abis.matchers import IrisMatcher

from .factories import filled_gallery, genuine_probe, random_records, template_at


def rotations(record: np.ndarray, shifts: int) -> np.ndarray:
    return iris.rotated_probes(record.tobytes(), shifts)


def both_searches(records, alive, probes, shifts, k):
    rotated = np.stack([iris.rotated_probes(probe, shifts) for probe in probes])
    words = records.view(np.uint64)
    pruned = kernels.search(words, alive, rotated, iris.REFERENCE_BITS, k)
    exhaustive = kernels.search(words, alive, rotated, iris.REFERENCE_BITS, k, exhaustive=True)
    return pruned, exhaustive


def alternating_mask_probe(seed: int) -> np.ndarray:
    """Return a probe whose masks cover every other column: turning it by one column moves
    every usable bit, so the bound's slack is as large as it gets."""
    probe = synthetic.make_population(1, seed=seed)[0].copy()
    eyes = probe.reshape(iris.EYES, 2, iris.CODE_BYTES)
    eyes[:, 1] = np.where(np.arange(iris.CODE_BYTES) % 2 == 0, 0xFF, 0x00)
    return probe


@pytest.mark.parametrize("shifts", [0, 1, 2, 3])
def test_bound_is_never_above_the_exact_score(shifts, population):
    records = np.concatenate([random_records(400, seed=shifts), population[:600]])
    probes = [
        records[7],
        population[900],
        genuine_probe(template_at(population, 5), seed=shifts).to_bytes(),
        alternating_mask_probe(seed=shifts),
    ]
    words = records.view(np.uint64)
    alive = np.ones(len(records), dtype=np.bool_)

    for probe in probes:
        record = np.frombuffer(bytes(probe), dtype=np.uint8)
        bounds = kernels.bound_scan(words, rotations(record, shifts), iris.REFERENCE_BITS)
        exact = kernels.scan(words, alive, rotations(record, shifts), iris.REFERENCE_BITS)
        assert (bounds <= exact).all()


def test_bound_is_close_to_the_score_for_ordinary_captures(population):
    probe = genuine_probe(template_at(population, 5), seed=1).to_bytes()
    words = population.view(np.uint64)
    rotated = iris.rotated_probes(probe, 3)

    bounds = kernels.bound_scan(words, rotated, iris.REFERENCE_BITS)
    exact = kernels.scan(words, np.ones(len(population), np.bool_), rotated, iris.REFERENCE_BITS)

    # Loose enough and nothing would be pruned: the bound must sit within a few hundredths.
    assert np.median(exact - bounds) < 0.02


@pytest.mark.parametrize("k", [1, 30])
@pytest.mark.parametrize("shifts", [0, 1, 2, 3])
@pytest.mark.parametrize("rows", [53, kernels.PARALLEL_MIN_ROWS + 700])
def test_pruned_search_equals_exhaustive_on_random_rows(rows, shifts, k):
    records = random_records(rows, seed=rows + shifts)
    alive = np.ones(rows, dtype=np.bool_)
    alive[[0, 11, rows - 1]] = False
    probes = [records[i].tobytes() for i in (1, 3, 11, 20)]
    probes += [random_records(1, seed=77)[0].tobytes(), alternating_mask_probe(seed=k).tobytes()]

    (pruned_rows, pruned_scores), (rows_expected, scores_expected) = both_searches(
        records, alive, probes, shifts, k
    )

    assert pruned_rows.tolist() == rows_expected.tolist()
    assert pruned_scores.tolist() == scores_expected.tolist()


def test_pruned_search_equals_exhaustive_when_the_bound_is_loose(population):
    probe = alternating_mask_probe(seed=3)
    records = population[:3_000].copy()
    # Half the rows get masks that match the probe's at one rotation and miss it at the next.
    eyes = records.reshape(len(records), iris.EYES, 2, iris.CODE_BYTES)
    eyes[::2, :, 1] = np.where(np.arange(iris.CODE_BYTES) % 2 == 1, 0xFF, 0x00)
    words = records.view(np.uint64)
    rotated = iris.rotated_probes(probe.tobytes(), 3)
    alive = np.ones(len(records), dtype=np.bool_)
    exact = kernels.scan(words, alive, rotated, iris.REFERENCE_BITS)
    bounds = kernels.bound_scan(words, rotated, iris.REFERENCE_BITS)
    fifth = np.sort(exact)[4]
    assert np.mean(bounds < fifth) > 0.5  # most rows cannot be pruned: the exact path runs

    (pruned_rows, pruned_scores), (rows_expected, scores_expected) = both_searches(
        records, alive, [probe.tobytes()], 3, 5
    )

    assert pruned_rows.tolist() == rows_expected.tolist()
    assert pruned_scores.tolist() == scores_expected.tolist()


def test_pruned_search_keeps_the_lowest_rows_among_tied_scores(population):
    records = np.concatenate([population[:500]] + [population[[42]]] * 6 + [population[500:900]])
    records[:, :] = records  # contiguous copy with six more copies of row 42 at 500..505
    alive = np.ones(len(records), dtype=np.bool_)
    probe = genuine_probe(template_at(population, 42), seed=9).to_bytes()

    (pruned_rows, pruned_scores), (rows_expected, scores_expected) = both_searches(
        records, alive, [probe], 3, 4
    )

    assert pruned_rows.tolist() == rows_expected.tolist() == [[42, 500, 501, 502]]
    assert pruned_scores.tolist() == scores_expected.tolist()
    assert len(set(pruned_scores[0].tolist())) == 1


def test_pruned_identify_equals_exhaustive_for_planted_mates_and_impostors(population):
    pruned = filled_gallery(population[:4_000])
    exhaustive = filled_gallery(population[:4_000])
    exhaustive.matcher = IrisMatcher(exhaustive=True)
    mates = list(range(0, 4_000, 400))
    probes = [genuine_probe(template_at(population, i), seed=i) for i in mates]
    probes += [synthetic.make_subject(seed) for seed in range(80_000, 80_040)]

    found = pruned.identify_many(probes, top_k=5)

    assert found == exhaustive.identify_many(probes, top_k=5)
    assert [result.match for result in found] == [True] * len(mates) + [False] * 40
    assert [found[i].candidates[0].subject_id for i in range(len(mates))] == [
        f"S{i:06d}" for i in mates
    ]


def test_pruned_search_scores_a_fully_masked_eye_as_no_evidence():
    records = random_records(40, seed=5)
    eyes = records.reshape(40, iris.EYES, 2, iris.CODE_BYTES)
    eyes[:, 0, 1] = 0  # left eyes never compared: that eye counts 0.5
    eyes[9, 1, 1] = 0xFF  # the probe's own right eye then matches at distance 0
    alive = np.ones(40, dtype=np.bool_)

    (pruned_rows, pruned_scores), (rows_expected, scores_expected) = both_searches(
        records, alive, [records[9].tobytes()], 3, 3
    )

    assert pruned_rows.tolist() == rows_expected.tolist()
    assert pruned_scores[0, 0] == 0.25  # (0.5 + 0.0) / 2 for the row itself
    assert pruned_scores.tolist() == scores_expected.tolist()


def test_bound_packing_refuses_more_rotations_than_the_lanes_hold():
    with pytest.raises(ValueError, match="rotations"):
        kernels.pack_bound_probes(np.zeros((1, 9, 128), dtype=np.uint64))


def test_matcher_names_its_reference_path():
    assert repr(IrisMatcher(exhaustive=True)) == "IrisMatcher(shifts=3, exhaustive=True)"
    assert repr(IrisMatcher()) == "IrisMatcher(shifts=3)"

import numpy as np
import pytest

from ektp.abis import iris, synthetic
from ektp.abis.gallery import per_comparison_fmr
from ektp.abis.matchers import IrisMatcher

from .factories import genuine_probe


@pytest.fixture(scope="module")
def impostor_pairs():
    return synthetic.make_population(10_000, seed=1), synthetic.make_population(10_000, seed=2)


def test_impostor_distances_centre_on_half_with_about_249_degrees_of_freedom(impostor_pairs):
    first, second = impostor_pairs
    distances = iris.reference_eye_distances(first, second, shifts=0).ravel()

    mean = distances.mean()
    degrees_of_freedom = mean * (1 - mean) / distances.var()

    assert len(distances) == 20_000
    assert mean == pytest.approx(0.5, abs=0.002)
    assert distances.std() == pytest.approx(np.sqrt(0.25 / 249), rel=0.05)
    assert 235 <= degrees_of_freedom <= 265


def test_best_of_seven_rotations_moves_impostors_to_daugmans_0_458(impostor_pairs):
    first, second = impostor_pairs
    distances = iris.reference_eye_distances(first[:4000], second[:4000], shifts=3)

    assert distances.mean() == pytest.approx(0.458, abs=0.004)


def test_impostors_fall_below_the_threshold_at_the_modelled_rate(impostor_pairs):
    first, second = impostor_pairs
    matcher = IrisMatcher()
    scores = iris.reference_eye_distances(first, second, shifts=matcher.shifts).mean(axis=-1)

    for probability in (0.05, 0.01):
        rate = np.mean(scores <= matcher.threshold(probability))
        assert probability * 0.6 <= rate <= probability * 1.2


def test_genuine_recaptures_lie_between_0_1_and_0_3():
    matcher = IrisMatcher()
    eyes, templates = [], []
    for seed in range(150):
        enrolled = synthetic.make_subject(seed)
        probe = genuine_probe(enrolled, seed=1000 + seed)
        templates.append(matcher.compare(enrolled, probe))
        eyes += [
            matcher.eye_distance(enrolled.left, probe.left),
            matcher.eye_distance(enrolled.right, probe.right),
        ]

    assert min(eyes) >= 0.099 and max(eyes) <= 0.301
    assert 0.16 <= np.mean(eyes) <= 0.20
    assert min(templates) >= 0.099 and max(templates) <= 0.301


def test_genuine_scores_clear_the_threshold_of_a_national_gallery():
    matcher = IrisMatcher()
    threshold = matcher.threshold(per_comparison_fmr(1e-6, 200_000_000))

    assert 0.30 < threshold < 0.32


def test_recapture_turns_the_eyes_within_the_rotation_bound():
    enrolled = synthetic.make_subject(3)
    rng = np.random.default_rng(3)
    for _ in range(20):
        probe = synthetic.recapture(enrolled, rng, max_rotation=2)
        assert IrisMatcher(shifts=2).compare(enrolled, probe) <= 0.301


def test_same_seed_gives_the_same_subject_and_different_seeds_differ():
    assert synthetic.make_subject(42).to_bytes() == synthetic.make_subject(42).to_bytes()
    assert synthetic.make_subject(42).to_bytes() != synthetic.make_subject(43).to_bytes()
    np.testing.assert_array_equal(
        synthetic.make_population(50, seed=9), synthetic.make_population(50, seed=9)
    )


def test_masks_leave_about_four_fifths_of_the_bits_usable():
    population = synthetic.make_population(2_000, seed=5).reshape(-1, 2, 2, iris.CODE_BYTES)
    usable = np.unpackbits(population[:, :, 1]).mean()

    assert 0.75 <= usable <= 0.88

import math
from statistics import NormalDist

import numpy as np
import pytest

from ektp.abis import iris, kernels, synthetic
from ektp.abis.errors import InvalidTemplate
from ektp.abis.iris import IrisCode, IrisTemplate
from ektp.abis.matchers import IrisMatcher


def test_identical_templates_have_distance_zero():
    template = synthetic.make_subject(1)

    assert IrisMatcher().compare(template, template) == 0.0
    reference = iris.reference_eye_distances(template.to_bytes(), template.to_bytes())
    assert reference.tolist() == [0.0, 0.0]


def test_raw_distance_of_identical_eye_is_zero_before_normalisation():
    eye = synthetic.make_subject(2).left

    assert iris.reference_eye_distances(
        eye.code.tobytes() + eye.mask.tobytes(),
        eye.code.tobytes() + eye.mask.tobytes(),
        reference_bits=eye.valid_bits,
    ).tolist() == [0.0]


@pytest.mark.parametrize("columns", [-3, -1, 1, 2, 3])
def test_rotation_within_the_shift_range_is_absorbed(columns):
    template = synthetic.make_subject(3)

    assert IrisMatcher(shifts=3).compare(template, template.rotated(columns)) == 0.0


def test_rotation_beyond_the_shift_range_looks_like_an_impostor():
    template = synthetic.make_subject(4)

    assert IrisMatcher(shifts=3).compare(template, template.rotated(4)) > 0.4
    assert IrisMatcher(shifts=4).compare(template, template.rotated(4)) == 0.0


def test_shift_range_is_limited_to_fifteen_columns():
    IrisMatcher(shifts=15)
    with pytest.raises(ValueError, match="shifts"):
        IrisMatcher(shifts=16)


@pytest.mark.parametrize(
    ("rows", "shifts"), [(300, 0), (300, 15), (kernels.PARALLEL_MIN_ROWS + 500, 3)]
)
def test_kernel_equals_numpy_reference_on_random_data(rows, shifts):
    rng = np.random.default_rng(shifts)
    records = rng.integers(0, 256, size=(rows, iris.TEMPLATE_BYTES), dtype=np.uint8)
    eyes = records.reshape(rows, 2, 2, iris.CODE_BYTES)
    density = rng.uniform(0.0, 1.0, size=(rows, 2, 1))
    eyes[:, :, 1] = np.packbits(
        rng.random((rows, 2, iris.CODE_BITS)) < density, axis=-1, bitorder="little"
    )
    eyes[7, 0, 1] = 0
    probe = records[0].copy()
    probe[: iris.CODE_BYTES] ^= rng.integers(0, 256, iris.CODE_BYTES, dtype=np.uint8) & 0x11
    alive = np.ones(rows, dtype=np.bool_)
    alive[5] = False

    scores = IrisMatcher(shifts=shifts).scan(probe.tobytes(), records, alive)

    expected = iris.reference_eye_distances(records, probe, shifts=shifts).mean(axis=-1)
    expected[5] = np.inf
    np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-12)


def test_kernel_takes_the_minimum_over_the_rotated_probes():
    rng = np.random.default_rng(9)
    gallery = rng.integers(0, 2**63, size=(1, 128), dtype=np.uint64)
    probes = rng.integers(0, 2**63, size=(3, 128), dtype=np.uint64)
    probes[1] = gallery[0]
    scores = kernels.scan(gallery, np.ones(1, np.bool_), probes, 911.0)

    assert scores.tolist() == [0.0]


def test_eye_without_usable_bits_counts_as_no_evidence():
    template = synthetic.make_subject(5)
    blind = IrisCode(template.right.code, np.zeros(iris.CODE_BYTES, np.uint8))
    one_eyed = IrisTemplate(template.left, blind)
    matcher = IrisMatcher()

    assert matcher.eye_distance(blind, template.right) == 0.5
    assert matcher.compare(one_eyed, template) == 0.25


def test_template_round_trips_through_bytes():
    template = synthetic.make_subject(6)
    data = template.to_bytes()

    assert len(data) == iris.TEMPLATE_BYTES == 1024
    assert IrisTemplate.from_bytes(data).to_bytes() == data


@pytest.mark.parametrize("size", [0, 1023, 1025, 2048])
def test_template_of_wrong_length_is_rejected(size):
    with pytest.raises(InvalidTemplate, match="1024 bytes"):
        IrisTemplate.from_bytes(bytes(size))


def test_template_without_any_usable_bit_is_rejected():
    with pytest.raises(InvalidTemplate, match="no usable bit"):
        IrisTemplate.from_bytes(bytes(iris.TEMPLATE_BYTES))


def test_rotation_of_a_code_is_a_roll_of_whole_bytes():
    eye = synthetic.make_subject(7).left
    turned = eye.rotated(5)

    assert turned.code.tobytes() == np.roll(eye.code, 5).tobytes()
    assert turned.rotated(-5).code.tobytes() == eye.code.tobytes()


@pytest.mark.parametrize("probability", [0.5, 1e-3, 1e-9, 1e-15])
def test_single_eye_threshold_matches_the_closed_form(probability):
    shifts = 3
    single = -math.expm1(math.log1p(-probability) / (2 * shifts + 1))
    closed_form = 0.5 + iris.impostor_sigma() * NormalDist().inv_cdf(single)

    threshold = iris.impostor_threshold(probability, shifts=shifts, eyes=1)

    assert threshold == pytest.approx(closed_form, abs=1e-6)


@pytest.mark.parametrize("probability", [1e-2, 1e-3])
def test_two_eye_threshold_matches_a_monte_carlo_of_the_model(probability):
    rng = np.random.default_rng(0)
    sigma = iris.impostor_sigma()
    scores = 0.5 + sigma * rng.standard_normal((1_000_000, 2, 7)).min(axis=2).mean(axis=1)

    threshold = iris.impostor_threshold(probability, shifts=3, eyes=2)

    assert np.mean(scores <= threshold) == pytest.approx(probability, rel=0.15)

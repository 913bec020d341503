"""Generate iris templates with published statistics, seeded for repeatability.

Real capture devices are out of reach, so tests, the demo and the benchmarks use these.

Codes. In each angular column the 8 radial bits form two blocks of 4 identical bits (rings 0-3
and 4-7), as neighbouring Gabor phase bits of a real iris agree. Blocks are independent, so a
code carries 512 independent bits before masking.

Masks. The upper eyelid (around column 64) and the lower eyelid (around column 192) cover the
outer rings over an arc, deepest in its middle; the segmenter reports the eyelid boundary in
steps of two rings. Eyelashes hide scattered outer-ring bits and a specular reflection hides the
two inner rings over a few columns. About 82 % of the bits are usable, about 1,500 in both of
two captures.

Impostors. Against a different eye, the normalised distance at one rotation has mean 0.500 and
standard deviation about 0.0314, i.e. about 253 degrees of freedom (Daugman: 249); the best of
7 rotations has mean about 0.457 (Daugman: 0.458). The eyelids split blocks, which is what
brings the degrees of freedom from 228 (whole blocks of 4 normalised to 911 bits) up to there.

Genuine pairs. ``recapture`` turns the eye by up to ``max_rotation`` columns, draws a fresh
eyelid occlusion, and flips exactly as many of the bits visible in both captures as put the
normalised distance on a target drawn from 0.10 + 0.20 * Beta(2, 3) (mean 0.18). Genuine
distances therefore lie in 0.10-0.30, as for a cooperative subject in Daugman's data.
"""

import numpy as np
from numba import njit

from ektp.abis import iris

BLOCK_RINGS = 4
EYELID_STEP = 2
EYELASH_RATE = 0.02
UPPER_EYELID = {"centre": 64, "halfwidth": (40.0, 90.0), "depth": (1.0, 5.0)}
LOWER_EYELID = {"centre": 192, "halfwidth": (25.0, 60.0), "depth": (0.0, 3.5)}
GENUINE_LOW = 0.10
GENUINE_SPAN = 0.20
_CHUNK = 4096


def random_codes(rng: np.random.Generator, count: int) -> np.ndarray:
    """Return ``count`` iris codes as ``uint8[count, 256]``."""
    blocks = rng.integers(0, 2, size=(count, iris.COLUMNS, 2), dtype=np.uint8)
    return (blocks[..., 0] * np.uint8(0x0F)) | (blocks[..., 1] * np.uint8(0xF0))


def random_masks(rng: np.random.Generator, count: int) -> np.ndarray:
    """Return ``count`` occlusion masks as ``uint8[count, 256]``."""
    depth = np.maximum(
        _eyelid_depth(rng, count, **UPPER_EYELID), _eyelid_depth(rng, count, **LOWER_EYELID)
    )
    usable_rings = iris.ROWS - np.minimum(depth, iris.ROWS)
    masks = ((np.left_shift(1, usable_rings) - 1) & 0xFF).astype(np.uint8)
    lashes = rng.random((count, iris.COLUMNS, 4), dtype=np.float32) < EYELASH_RATE
    lash_bits = np.packbits(lashes, axis=-1, bitorder="little")[..., 0] << np.uint8(4)
    masks &= ~lash_bits
    start = rng.integers(0, iris.COLUMNS, size=(count, 1))
    width = rng.integers(3, 12, size=(count, 1))
    reflection = (np.arange(iris.COLUMNS)[None, :] - start) & (iris.COLUMNS - 1) < width
    masks &= ~(reflection.view(np.uint8) * np.uint8(0x03))
    return masks


def _eyelid_depth(
    rng: np.random.Generator,
    count: int,
    *,
    centre: float,
    halfwidth: tuple[float, float],
    depth: tuple[float, float],
) -> np.ndarray:
    """Return the number of outer rings one eyelid covers in each column."""
    middle = centre + rng.normal(0.0, 8.0, size=count)
    width = rng.uniform(*halfwidth, size=count)
    deepest = rng.uniform(*depth, size=count)
    return _eyelid_rings(middle, width, deepest, np.empty((count, iris.COLUMNS), np.int64))


@njit(cache=True)
def _eyelid_rings(middle, width, deepest, out):
    """Fill ``out[eye, column]`` with the rings an eyelid covers, in steps of EYELID_STEP.

    The eyelid's edge is a parabola: ``deepest`` rings at ``middle``, none ``width`` columns
    away (angular distance, wrapping around).
    """
    half = iris.COLUMNS / 2
    for eye in range(out.shape[0]):
        for column in range(out.shape[1]):
            distance = abs((column - middle[eye] + half) % iris.COLUMNS - half)
            ratio = distance / width[eye]
            rings = max(deepest[eye] * (1.0 - ratio * ratio), 0.0)
            out[eye, column] = np.int64(EYELID_STEP * np.rint(rings / EYELID_STEP))
    return out


def make_population(count: int, seed: int) -> np.ndarray:
    """Return the serialised templates of ``count`` distinct subjects, ``uint8[count, 1024]``."""
    rng = np.random.default_rng(seed)
    out = np.empty((count, iris.EYES, 2, iris.CODE_BYTES), dtype=np.uint8)
    for start in range(0, count, _CHUNK):
        size = min(_CHUNK, count - start)
        eyes = size * iris.EYES
        out[start : start + size, :, 0] = random_codes(rng, eyes).reshape(size, iris.EYES, -1)
        out[start : start + size, :, 1] = random_masks(rng, eyes).reshape(size, iris.EYES, -1)
    return out.reshape(count, iris.TEMPLATE_BYTES)


def make_subject(seed: int) -> iris.IrisTemplate:
    """Return the enrolment capture of both eyes of one synthetic subject."""
    return iris.IrisTemplate.from_bytes(make_population(1, seed)[0].tobytes())


def recapture(
    template: iris.IrisTemplate, rng: np.random.Generator, *, max_rotation: int = 3
) -> iris.IrisTemplate:
    """Return a new capture of the same eyes, at a genuine distance of 0.10-0.30 from ``template``.

    Both eyes turn by the same random number of columns (the head tilts), each gets a fresh
    eyelid occlusion and its own target distance.
    """
    rotation = int(rng.integers(-max_rotation, max_rotation + 1))
    return iris.IrisTemplate(
        _recapture_eye(template.left, rng, rotation), _recapture_eye(template.right, rng, rotation)
    )


def _recapture_eye(eye: iris.IrisCode, rng: np.random.Generator, rotation: int) -> iris.IrisCode:
    """Return one eye recaptured with a target genuine distance from ``eye``."""
    if not eye.mask.any():
        return eye.rotated(rotation)
    mask = np.roll(random_masks(rng, 1)[0], rotation)
    code_bits = np.unpackbits(np.roll(eye.code, rotation), bitorder="little").astype(np.bool_)
    visible = np.unpackbits(np.roll(eye.mask, rotation) & mask, bitorder="little").astype(np.bool_)
    compared = int(visible.sum())
    target = GENUINE_LOW + GENUINE_SPAN * rng.beta(2.0, 3.0)
    scale = np.sqrt(compared / iris.REFERENCE_BITS) if compared else 1.0
    fraction = float(np.clip(0.5 - (0.5 - target) / scale, 0.0, 0.5))
    flips = np.zeros(iris.CODE_BITS, dtype=np.bool_)
    chosen = rng.choice(np.flatnonzero(visible), size=round(fraction * compared), replace=False)
    flips[chosen] = True
    hidden = ~visible
    flips[hidden] = rng.random(int(hidden.sum())) < fraction
    code = np.packbits(code_bits ^ flips, bitorder="little")
    return iris.IrisCode(code, mask)

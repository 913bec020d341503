"""Represent Daugman-style iris codes and measure the distance between them.

Layout. One eye is a 2048-bit code and a 2048-bit mask of 256 bytes each. Byte ``c`` holds the
8 radial bits of angular column ``c``: bit ``r`` is ring ``r``, ring 0 next to the pupil,
ring 7 next to the sclera. A turn of the eye by ``k`` columns (1.4 degrees each) is therefore a
roll of the bytes by ``k``, and on the 64-bit words the scan kernel reads it never splits a
column. A mask bit of 1 marks a code bit that is usable (not eyelid, eyelash or reflection).
A template holds both eyes and serialises to 1024 bytes: left code, left mask, right code,
right mask. An eye that could not be captured has an all-zero mask.

Distance. For one eye, with ``n`` the number of bits valid in both masks,

    HD_raw  = popcount((code_a XOR code_b) AND mask_a AND mask_b) / n
    HD_norm = 0.5 - (0.5 - HD_raw) * sqrt(n / 911)

(Daugman, "How iris recognition works", 2004: the normalisation gives a comparison of few bits
less weight, so every comparison has the same impostor spread whatever its ``n``). ``HD_norm``
is clipped to [0, 1], and ``n = 0`` gives 0.5, "no evidence". The eye distance is the minimum
of ``HD_norm`` over rotations of -S..+S columns (S = 3 by default, at most 15); the template
distance is the mean of the two eye distances. The mean rather than the minimum: both eyes must
agree, which halves the impostor variance, and a missing eye counts as 0.5 so it can only make a
match harder.

Impostor model. Against a different eye, ``HD_norm`` at one rotation is close to a binomial
fraction with mean 0.5 and 249 degrees of freedom (Daugman's figure for 2048-bit codes), i.e.
normal with standard deviation ``sqrt(0.25 / 249) = 0.0317``. ``impostor_threshold`` inverts the
distribution of the template distance (mean over eyes of a minimum over 2S+1 rotations) to
turn a per-comparison false-match probability into a distance threshold; see ``gallery``.
"""

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ektp.abis.errors import InvalidTemplate

ROWS = 8
COLUMNS = 256
CODE_BITS = ROWS * COLUMNS
CODE_BYTES = COLUMNS
EYES = 2
TEMPLATE_BYTES = EYES * 2 * CODE_BYTES
REFERENCE_BITS = 911
DEGREES_OF_FREEDOM = 249
DEFAULT_SHIFTS = 3
MAX_SHIFTS = 15


def _frozen_bytes(value: np.ndarray | bytes, name: str) -> np.ndarray:
    array = np.array(np.frombuffer(value, dtype=np.uint8) if isinstance(value, bytes) else value)
    if array.dtype != np.uint8 or array.shape != (CODE_BYTES,):
        raise InvalidTemplate(f"{name} must be {CODE_BYTES} bytes, got {array.dtype} {array.shape}")
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class IrisCode:
    """Hold one eye's code and mask, one byte per angular column."""

    code: np.ndarray
    mask: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", _frozen_bytes(self.code, "code"))
        object.__setattr__(self, "mask", _frozen_bytes(self.mask, "mask"))

    @property
    def valid_bits(self) -> int:
        """Count the usable code bits."""
        return int(np.bitwise_count(self.mask).sum())

    def rotated(self, columns: int) -> "IrisCode":
        """Return this eye turned by ``columns`` angular columns."""
        return IrisCode(np.roll(self.code, columns), np.roll(self.mask, columns))


@dataclass(frozen=True, eq=False)
class IrisTemplate:
    """Hold the iris codes of both eyes of one capture."""

    left: IrisCode
    right: IrisCode

    def to_bytes(self) -> bytes:
        """Serialise as left code, left mask, right code, right mask."""
        return b"".join(
            part.tobytes() for eye in (self.left, self.right) for part in (eye.code, eye.mask)
        )

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> "IrisTemplate":
        """Parse a serialised template, rejecting a wrong size or a template with no usable bit."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidTemplate(f"iris template must be bytes, got {type(data).__name__}")
        if len(data) != TEMPLATE_BYTES:
            raise InvalidTemplate(f"iris template must be {TEMPLATE_BYTES} bytes, got {len(data)}")
        parts = np.frombuffer(bytes(data), dtype=np.uint8).reshape(EYES, 2, CODE_BYTES)
        if not parts[:, 1].any():
            raise InvalidTemplate("iris template has no usable bit: both masks are empty")
        return cls(IrisCode(parts[0, 0], parts[0, 1]), IrisCode(parts[1, 0], parts[1, 1]))

    def rotated(self, columns: int) -> "IrisTemplate":
        """Return this capture with both eyes turned by ``columns`` angular columns."""
        return IrisTemplate(self.left.rotated(columns), self.right.rotated(columns))


def check_shifts(shifts: int) -> int:
    """Return ``shifts`` if it is a whole number of columns in 0..MAX_SHIFTS."""
    if isinstance(shifts, bool) or not isinstance(shifts, int) or not 0 <= shifts <= MAX_SHIFTS:
        raise ValueError(f"shifts must be an integer in 0..{MAX_SHIFTS}, got {shifts!r}")
    return shifts


def rotated_probes(record: bytes | np.ndarray, shifts: int) -> np.ndarray:
    """Return the 2S+1 rotations of a serialised record as ``uint64[2S+1, record words]``.

    Works for a template (two eyes) or a single eye (code + mask, 512 bytes).
    """
    flat = np.frombuffer(record, dtype=np.uint8) if isinstance(record, bytes) else record
    eyes = np.asarray(flat, dtype=np.uint8).reshape(-1, 2, CODE_BYTES)
    offsets = np.arange(-shifts, shifts + 1)
    columns = (np.arange(CODE_BYTES)[None, :] - offsets[:, None]) % CODE_BYTES
    rotated = eyes[:, :, columns]
    return (
        np.ascontiguousarray(rotated.transpose(2, 0, 1, 3))
        .reshape(len(offsets), -1)
        .view(np.uint64)
    )


def normalised_distance(differing: np.ndarray, compared: np.ndarray, reference_bits: float):
    """Apply Daugman's normalisation to raw counts, with 0.5 where no bit was compared."""
    differing = np.asarray(differing, dtype=np.float64)
    compared = np.asarray(compared, dtype=np.float64)
    raw = np.divide(differing, compared, out=np.full_like(differing, 0.5), where=compared > 0)
    scaled = 0.5 - (0.5 - raw) * np.sqrt(compared / reference_bits)
    return np.where(compared > 0, np.clip(scaled, 0.0, 1.0), 0.5)


def reference_eye_distances(
    a: np.ndarray | bytes,
    b: np.ndarray | bytes,
    *,
    shifts: int = DEFAULT_SHIFTS,
    reference_bits: float = REFERENCE_BITS,
) -> np.ndarray:
    """Compute per-eye distances with plain numpy on unpacked bits (the kernel's reference).

    ``a`` and ``b`` are serialised records of shape ``(..., eyes * 512)`` that broadcast
    together; the result has shape ``(..., eyes)``.
    """
    check_shifts(shifts)
    a_bits = _unpack(a)
    b_bits = _unpack(b)
    best = None
    for offset in range(-shifts, shifts + 1):
        turned = np.roll(b_bits, offset * ROWS, axis=-1)
        both = a_bits[..., 1, :] & turned[..., 1, :]
        compared = both.sum(axis=-1)
        differing = ((a_bits[..., 0, :] ^ turned[..., 0, :]) & both).sum(axis=-1)
        distance = normalised_distance(differing, compared, reference_bits)
        best = distance if best is None else np.minimum(best, distance)
    return best


def _unpack(records: np.ndarray | bytes) -> np.ndarray:
    flat = np.frombuffer(records, dtype=np.uint8) if isinstance(records, bytes) else records
    flat = np.asarray(flat, dtype=np.uint8)
    shaped = flat.reshape((*flat.shape[:-1], -1, 2, CODE_BYTES))
    return np.unpackbits(shaped, axis=-1, bitorder="little")


def impostor_sigma(degrees_of_freedom: float = DEGREES_OF_FREEDOM) -> float:
    """Return the impostor standard deviation of one comparison at one rotation."""
    return math.sqrt(0.25 / degrees_of_freedom)


def impostor_threshold(
    per_comparison_fmr: float,
    *,
    shifts: int = DEFAULT_SHIFTS,
    eyes: int = EYES,
    degrees_of_freedom: float = DEGREES_OF_FREEDOM,
) -> float:
    """Return the distance below which an impostor comparison falls with the given probability.

    One rotation of one eye is N(0.5, 0.25 / dof); the eye distance is the minimum over
    ``2 * shifts + 1`` independent rotations; the template distance is the mean over ``eyes``.
    """
    if not 0.0 < per_comparison_fmr < 1.0:
        raise ValueError(
            f"per-comparison false-match rate must be in (0, 1), got {per_comparison_fmr}"
        )
    log_probability, z = _lower_tail(check_shifts(shifts), eyes)
    target = math.log(per_comparison_fmr)
    mean_z = float(np.interp(target, log_probability, z))
    return 0.5 + impostor_sigma(degrees_of_freedom) * mean_z


_Z_STEP = 0.005
_Z_LOW = -20.0
_Z_HIGH = 10.0


@lru_cache(maxsize=128)
def _lower_tail(shifts: int, eyes: int) -> tuple[np.ndarray, np.ndarray]:
    """Tabulate log P(mean over eyes of the minimum over rotations <= z), z in sigma units."""
    if eyes not in (1, 2):
        raise ValueError(f"eyes must be 1 or 2, got {eyes}")
    rotations = 2 * shifts + 1
    z = np.arange(_Z_LOW, _Z_HIGH, _Z_STEP)
    below = 0.5 * np.array([math.erfc(-v / math.sqrt(2.0)) for v in z])
    above = 0.5 * np.array([math.erfc(v / math.sqrt(2.0)) for v in z])
    lower_half = z < 0
    log_above = np.empty_like(z)
    log_above[lower_half] = np.log1p(-below[lower_half])
    log_above[~lower_half] = np.log(above[~lower_half])
    minimum_cdf = -np.expm1(rotations * log_above)
    if eyes == 1:
        cdf, points = minimum_cdf, z
    else:
        density = (
            rotations
            * np.exp((rotations - 1) * log_above)
            * np.exp(-0.5 * z * z)
            / math.sqrt(2.0 * math.pi)
        )
        cdf = np.convolve(density, minimum_cdf) * _Z_STEP
        points = _Z_LOW + 0.5 * _Z_STEP * np.arange(len(cdf))
    keep = (cdf > 1e-300) & (points <= 0.0)
    return np.log(cdf[keep]), points[keep]

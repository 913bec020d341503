"""Plug biometric modalities into the ABIS through one matcher interface.

A matcher owns everything that is particular to a modality: the template's byte format, the
comparison of two templates, the scan of a whole gallery, and the score threshold that holds a
false-match probability. Galleries, storage and the HTTP service only see fixed-size byte
records, so fingerprint and face matchers plug in without touching them.

Conventions every matcher keeps:

- A score is a dissimilarity: lower means more alike. A modality whose native score is a
  similarity reports its negation, so a gallery sorts every modality the same way.
- A template serialises to exactly ``template_size`` bytes. A modality with variable-length
  templates (minutiae) pads to a maximum, as card formats do (ISO/IEC 19794-2 compact size).
"""

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from ektp.abis import iris, kernels
from ektp.abis.errors import InvalidTemplate, UnknownModality


class Matcher(ABC):
    """Compare and scan the templates of one biometric modality."""

    modality: ClassVar[str]
    template_size: ClassVar[int]

    @abstractmethod
    def encode(self, template: Any) -> bytes:
        """Serialise a template to ``template_size`` bytes."""

    @abstractmethod
    def decode(self, data: bytes) -> Any:
        """Parse serialised bytes, raising ``InvalidTemplate`` when they are not a template."""

    @abstractmethod
    def compare(self, a: Any, b: Any) -> float:
        """Return the dissimilarity of two templates (objects or serialised bytes)."""

    @abstractmethod
    def scan(self, probe: bytes, records: np.ndarray, alive: np.ndarray) -> np.ndarray:
        """Score a serialised probe against ``uint8[N, template_size]`` records.

        Return ``float64[N]`` dissimilarities, +inf where ``alive`` is false.
        """

    def record_array(self, templates: Any) -> np.ndarray:
        """Return many templates as ``uint8[n, template_size]``, validating each one.

        ``templates`` is a sequence of templates or serialised bytes, or such an array. A bad
        template raises ``InvalidTemplate`` naming its position.
        """
        if isinstance(templates, np.ndarray):
            if templates.ndim != 2 or templates.shape[1] != self.template_size:
                raise InvalidTemplate(
                    f"templates must be uint8[n, {self.template_size}], got "
                    f"{templates.dtype} {templates.shape}"
                )
            if templates.dtype != np.uint8:
                raise InvalidTemplate(f"templates must be uint8, got {templates.dtype}")
            records = np.ascontiguousarray(templates)
            self.check_records(records)
            return records
        out = np.empty((len(templates), self.template_size), dtype=np.uint8)
        for position, template in enumerate(templates):
            try:
                out[position] = np.frombuffer(self.record(template), dtype=np.uint8)
            except InvalidTemplate as error:
                raise InvalidTemplate(f"template {position}: {error}") from None
        return out

    def check_records(self, records: np.ndarray) -> None:
        """Validate ``uint8[n, template_size]`` serialised templates (one decode each)."""
        for position, record in enumerate(records):
            try:
                self.decode(record.tobytes())
            except InvalidTemplate as error:
                raise InvalidTemplate(f"template {position}: {error}") from None

    def search(
        self, probes: list[bytes], records: np.ndarray, alive: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return each serialised probe's ``k`` best rows and scores, best first, ties by row.

        Return ``(int64[probes, k], float64[probes, k])``; when fewer than ``k`` rows are
        alive the tail holds row -1 and score +inf. This default scans once per probe; a
        matcher with a batched kernel reads the records once for all probes.
        """
        rows = np.full((len(probes), k), -1, dtype=np.int64)
        scores = np.full((len(probes), k), np.inf, dtype=np.float64)
        for index, probe in enumerate(probes):
            scored = np.asarray(self.scan(probe, records, alive), dtype=np.float64)
            best = best_rows(scored[alive], min(k, int(np.count_nonzero(alive))))
            found = np.flatnonzero(alive)[best]
            rows[index, : len(found)] = found
            scores[index, : len(found)] = scored[found]
        return rows, scores

    @abstractmethod
    def threshold(self, per_comparison_fmr: float) -> float:
        """Return the score at or below which an impostor falls with this probability."""

    @property
    def comparisons_per_record(self) -> int:
        """Count the elementary comparisons one scanned record costs (e.g. eyes x rotations)."""
        return 1

    def record(self, template: Any) -> bytes:
        """Return a template's serialised form, validating bytes and encoding objects."""
        if isinstance(template, bytes | bytearray | memoryview):
            data = bytes(template)
            self.decode(data)
            return data
        return self.encode(template)


class IrisMatcher(Matcher):
    """Match two-eye iris templates by normalised Hamming distance over rotations."""

    modality = "iris"
    template_size = iris.TEMPLATE_BYTES

    def __init__(
        self,
        *,
        shifts: int = iris.DEFAULT_SHIFTS,
        reference_bits: float = iris.REFERENCE_BITS,
        degrees_of_freedom: float = iris.DEGREES_OF_FREEDOM,
        exhaustive: bool = False,
    ) -> None:
        self.shifts = iris.check_shifts(shifts)
        self.exhaustive = exhaustive
        self.reference_bits = float(reference_bits)
        self.degrees_of_freedom = float(degrees_of_freedom)

    def __repr__(self) -> str:
        exhaustive = ", exhaustive=True" if self.exhaustive else ""
        return f"IrisMatcher(shifts={self.shifts}{exhaustive})"

    @property
    def comparisons_per_record(self) -> int:
        """Count eyes x rotations compared per gallery record."""
        return iris.EYES * (2 * self.shifts + 1)

    def encode(self, template: iris.IrisTemplate) -> bytes:
        """Serialise an ``IrisTemplate``."""
        if not isinstance(template, iris.IrisTemplate):
            raise InvalidTemplate(f"expected an IrisTemplate, got {type(template).__name__}")
        return template.to_bytes()

    def decode(self, data: bytes) -> iris.IrisTemplate:
        """Parse a serialised ``IrisTemplate``."""
        return iris.IrisTemplate.from_bytes(data)

    def compare(self, a: Any, b: Any) -> float:
        """Return the template distance: mean over eyes of the best rotation's distance."""
        return self._distance(self.record(a), self.record(b))

    def eye_distance(self, a: iris.IrisCode, b: iris.IrisCode) -> float:
        """Return the distance of two single eyes, minimum over rotations."""
        return self._distance(
            a.code.tobytes() + a.mask.tobytes(), b.code.tobytes() + b.mask.tobytes()
        )

    def scan(self, probe: bytes, records: np.ndarray, alive: np.ndarray) -> np.ndarray:
        """Score a probe against every record with the compiled kernel."""
        probes = iris.rotated_probes(probe, self.shifts)
        words = np.ascontiguousarray(records).view(np.uint64)
        return kernels.scan(words, alive, probes, self.reference_bits)

    def check_records(self, records: np.ndarray) -> None:
        """Reject, vectorised, any serialised template whose masks are both empty."""
        masks = records.reshape(len(records), iris.EYES, 2, iris.CODE_BYTES)[:, :, 1]
        blind = np.flatnonzero(~masks.any(axis=(1, 2)))
        if len(blind):
            raise InvalidTemplate(
                f"template {blind[0]}: iris template has no usable bit: both masks are empty"
            )

    def search(
        self, probes: list[bytes], records: np.ndarray, alive: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Search for all probes in one pass of the compiled kernel over the records.

        Up to 3 shifts, a row is scored exactly only when a lower bound of its score can
        still enter the top ``k`` (``kernels.search``); the answer is the same as scoring every
        row, which ``exhaustive=True`` does (the reference path).
        """
        rotated = np.stack([iris.rotated_probes(probe, self.shifts) for probe in probes])
        words = np.ascontiguousarray(records).view(np.uint64)
        return kernels.search(
            words, alive, rotated, self.reference_bits, k, exhaustive=self.exhaustive
        )

    def threshold(self, per_comparison_fmr: float) -> float:
        """Return the template distance that holds the per-comparison false-match rate."""
        return iris.impostor_threshold(
            per_comparison_fmr,
            shifts=self.shifts,
            degrees_of_freedom=self.degrees_of_freedom,
        )

    def _distance(self, a: bytes, b: bytes) -> float:
        gallery = np.frombuffer(a, dtype=np.uint8).copy().reshape(1, -1).view(np.uint64)
        probes = iris.rotated_probes(b, self.shifts)
        alive = np.ones(1, dtype=np.bool_)
        return float(kernels.scan(gallery, alive, probes, self.reference_bits)[0])


def best_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Return the indices of the ``k`` lowest scores, best first, ties by index."""
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    rows = np.argpartition(scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    order = np.lexsort((rows, scores[rows]))
    return rows[order][:k]


MATCHERS: dict[str, type[Matcher]] = {IrisMatcher.modality: IrisMatcher}


def get_matcher(modality: str) -> Matcher:
    """Return a matcher with default settings for a modality name."""
    try:
        return MATCHERS[modality]()
    except KeyError:
        raise UnknownModality(
            f"unknown modality {modality!r}; known: {', '.join(sorted(MATCHERS))}"
        ) from None

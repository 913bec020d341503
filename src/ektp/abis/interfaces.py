"""Define the ABIS interface that the in-process engine and the HTTP client both implement."""

import contextlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ektp.abis.errors import InvalidTemplate

DEFAULT_MODALITY = "iris"
DEFAULT_TOP_K = 5


class Candidate(NamedTuple):
    """Name one reference found by a search and its score (lower is more alike)."""

    subject_id: str
    score: float


@dataclass(frozen=True)
class Identification:
    """Report a 1:N search: the best candidates, best first, and the decision."""

    candidates: list[Candidate]
    match: bool
    threshold: float
    gallery_size: int
    matches: list[Candidate] = field(init=False)

    def __post_init__(self) -> None:
        found = [c for c in self.candidates if c.score <= self.threshold]
        object.__setattr__(self, "matches", found)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return {
            "candidates": [{"subject_id": c.subject_id, "score": c.score} for c in self.candidates],
            "match": self.match,
            "threshold": self.threshold,
            "gallery_size": self.gallery_size,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Identification":
        """Rebuild from ``to_dict`` output."""
        return cls(
            candidates=[
                Candidate(str(c["subject_id"]), float(c["score"])) for c in data["candidates"]
            ],
            match=bool(data["match"]),
            threshold=float(data["threshold"]),
            gallery_size=int(data["gallery_size"]),
        )


@dataclass(frozen=True)
class EnrollOutcome:
    """Report an enroll: the search made first, and whether the probe was then added."""

    identification: Identification
    inserted: bool
    count: int

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return {
            "identification": self.identification.to_dict(),
            "inserted": self.inserted,
            "count": self.count,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "EnrollOutcome":
        """Rebuild from ``to_dict`` output."""
        return cls(
            identification=Identification.from_dict(data["identification"]),
            inserted=bool(data["inserted"]),
            count=int(data["count"]),
        )


def template_bytes(template: Any) -> bytes:
    """Return a template handed to an engine as bytes, refusing anything else."""
    if not isinstance(template, bytes | bytearray | memoryview):
        raise InvalidTemplate(f"template must be bytes, got {type(template).__name__}")
    return bytes(template)


class PendingJobs:
    """Count an engine's jobs accepted and not finished (what ``Abis.pending`` answers)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def job(self) -> Iterator[None]:
        with self._lock:
            self.count += 1
        try:
            yield
        finally:
            with self._lock:
                self.count -= 1


class Abis(ABC):
    """Keep biometric references and search them 1:N, per modality.

    Templates travel as the modality's serialised bytes; subject ids are the caller's
    reference numbers. Errors are ``ektp.abis.errors.AbisError`` subclasses.
    """

    @abstractmethod
    def insert(self, subject_id: str, template: bytes, *, modality: str = DEFAULT_MODALITY) -> int:
        """Add a reference and return the modality's reference count."""

    @abstractmethod
    def identify(
        self, template: bytes, *, top_k: int = DEFAULT_TOP_K, modality: str = DEFAULT_MODALITY
    ) -> Identification:
        """Search the references of a modality for a probe."""

    @abstractmethod
    def enroll(
        self,
        subject_id: str,
        template: bytes,
        *,
        top_k: int = DEFAULT_TOP_K,
        modality: str = DEFAULT_MODALITY,
    ) -> EnrollOutcome:
        """Search for a probe and add it as ``subject_id`` only if nothing matches, atomically.

        Two probes of one person enrolled at the same instant cannot both pass: the search and
        the insert hold the gallery's lock together, so the second finds the first. A subject
        already in the gallery is left as it is, and its own reference is not a match.
        """

    @abstractmethod
    def delete(self, subject_id: str, *, modality: str = DEFAULT_MODALITY) -> int:
        """Remove a reference and return the modality's reference count."""

    @abstractmethod
    def ping(self) -> dict[str, Any]:
        """Return the engine's status and modalities, raising when it cannot be reached."""

    @abstractmethod
    def pending(self) -> int:
        """Return the number of jobs (inserts, searches, deletes) accepted and not finished."""

    @abstractmethod
    def count(self, *, modality: str = DEFAULT_MODALITY) -> int:
        """Return the number of references of a modality."""

    @abstractmethod
    def close(self) -> None:
        """Release resources held by this handle."""

    def __enter__(self) -> "Abis":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

"""Hold a 1:N gallery of templates in memory and search it with a compiled scan.

Storage. Templates are rows of one contiguous ``uint8[capacity, template_size]`` array with a
parallel ``alive`` flag array; both grow by doubling. The matcher's kernel scans rows
``[0, rows)`` in one call, with no Python loop over templates. A delete leaves a tombstone (the
row's flag drops) and the arrays are compacted once a quarter of the rows are tombstones. With a
directory, each insert and delete is journaled before it is applied, and ``checkpoint()``
writes a snapshot, both sealed with the gallery's key; a restart reads the snapshot and replays
the journal (see ``store``). Sealing is for the files only: the scan reads plain rows in memory.
``insert_many`` adds many references in one validated, all-or-nothing step; ``identify_many``
answers a list of probes reading the references once per ``IDENTIFY_BATCH`` probes.

Decision. A search compares the probe with the N live references and must raise a false match
with probability at most F per search (``false_match_rate``, default 1e-6). With comparisons
treated as independent, each may falsely match with probability

    p = 1 - (1 - F)^(1/N)

and the matcher turns p into a score threshold; a search is a match when its best score is at
or below it. For iris, with sigma = sqrt(0.25 / 249) (binomial, 249 degrees of freedom, mean
0.5) and S rotation shifts each way:

    one eye, one rotation:     HD ~ Normal(0.5, sigma^2)
    one eye, best of 2S+1:     G(x) = P(min <= x) = 1 - (1 - Phi((x - 0.5) / sigma))^(2S+1)
      threshold for one eye:   x = 0.5 + sigma * Phi^-1(p1),  p1 = 1 - (1 - p)^(1 / (2S+1))
    two eyes, score = mean:    P(score <= t) = integral of g(x) * G(2t - x) dx,  g = G'
      threshold:               the t where that probability equals p (tabulated, interpolated)

The threshold therefore tightens as the gallery grows. With S = 3 and F = 1e-6 the two-eye
threshold is 0.377 for N = 1, 0.352 for N = 1,000, 0.338 for N = 100,000 and 0.318 for
N = 100,000,000; synthetic genuine scores lie in 0.10-0.30.
"""

import math
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ektp.abis.errors import DuplicateSubject, InvalidRequest, StorageCorrupt, UnknownSubject
from ektp.abis.interfaces import DEFAULT_TOP_K, Candidate, EnrollOutcome, Identification
from ektp.abis.matchers import Matcher
from ektp.abis.sealing import Sealer
from ektp.abis.store import Entry, GalleryStore, Op

DEFAULT_FALSE_MATCH_RATE = 1e-6
IDENTIFY_BATCH = 64
MAX_TOP_K = 100
MAX_SUBJECT_ID_BYTES = 255
_MIN_CAPACITY = 64
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def per_comparison_fmr(false_match_rate: float, gallery_size: int) -> float:
    """Return the false-match probability per comparison that holds a per-search rate."""
    return -math.expm1(math.log1p(-false_match_rate) / max(gallery_size, 1))


def check_subject_id(subject_id: Any) -> str:
    """Return a subject id if it is a non-empty printable string of at most 255 UTF-8 bytes."""
    if not isinstance(subject_id, str):
        raise InvalidRequest(f"subject_id must be a string, got {type(subject_id).__name__}")
    if not subject_id.strip():
        raise InvalidRequest("subject_id must not be empty")
    if len(subject_id.encode("utf-8")) > MAX_SUBJECT_ID_BYTES:
        raise InvalidRequest(f"subject_id must be at most {MAX_SUBJECT_ID_BYTES} bytes")
    if _CONTROL_CHARACTERS.search(subject_id):
        raise InvalidRequest("subject_id must not contain control characters")
    return subject_id


def check_top_k(top_k: Any) -> int:
    """Return ``top_k`` if it is an integer in 1..MAX_TOP_K."""
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
        raise InvalidRequest(f"top_k must be an integer in 1..{MAX_TOP_K}, got {top_k!r}")
    return top_k


class Gallery:
    """Hold the references of one modality and answer 1:N searches against them."""

    def __init__(
        self,
        matcher: Matcher,
        *,
        directory: Path | str | None = None,
        false_match_rate: float = DEFAULT_FALSE_MATCH_RATE,
        fsync: bool = True,
        keys: Sequence[bytes] | None = None,
    ) -> None:
        if directory is not None and not keys:
            raise ValueError("a gallery on disk needs its keys (AES-256, the first seals)")
        if not 0.0 < false_match_rate < 1.0:
            raise ValueError(f"false_match_rate must be in (0, 1), got {false_match_rate}")
        self.matcher = matcher
        self.false_match_rate = false_match_rate
        self._lock = threading.RLock()
        self._records = np.empty((0, matcher.template_size), dtype=np.uint8)
        self._alive = np.zeros(0, dtype=np.bool_)
        self._ids: list[str | None] = []
        self._rows_by_id: dict[str, int] = {}
        self._store: GalleryStore | None = None
        if directory is not None:
            self._store = GalleryStore(
                directory,
                modality=matcher.modality,
                record_size=matcher.template_size,
                fsync=fsync,
                sealer=Sealer(keys),
            )
            try:
                self._restore()
            except BaseException:
                self._store.close()
                raise

    def __enter__(self) -> "Gallery":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self._rows_by_id)

    def __contains__(self, subject_id: object) -> bool:
        return subject_id in self._rows_by_id

    @property
    def persistent(self) -> bool:
        """Tell whether the gallery journals to a directory."""
        return self._store is not None

    def count(self) -> int:
        """Return the number of references."""
        return len(self._rows_by_id)

    def insert(self, subject_id: str, template: Any) -> None:
        """Add a reference, journaling it first when the gallery is persistent."""
        subject_id = check_subject_id(subject_id)
        record = self.matcher.record(template)
        with self._lock:
            if subject_id in self._rows_by_id:
                raise DuplicateSubject(f"subject {subject_id!r} is already in the gallery")
            if self._store is not None:
                self._store.append(Entry(Op.INSERT, subject_id, record))
            self._insert(subject_id, record)

    def insert_many(self, subject_ids: Sequence[str], templates: Any) -> None:
        """Add many references at once, all or none.

        ``templates`` is a sequence of templates or serialised bytes, or an array
        ``uint8[n, template_size]`` of serialised templates. Every id and template is checked
        (malformed id, wrong size, a template the matcher rejects, an id given twice or already
        held) before anything changes; on error the gallery is unchanged. A persistent gallery
        journals every reference before any is applied, with one fsync for all.
        """
        ids = [check_subject_id(subject_id) for subject_id in subject_ids]
        records = self.matcher.record_array(templates)
        if len(records) != len(ids):
            raise InvalidRequest(f"{len(ids)} subject ids for {len(records)} templates")
        seen: set[str] = set()
        for subject_id in ids:
            if subject_id in seen:
                raise DuplicateSubject(f"subject {subject_id!r} is given more than once")
            seen.add(subject_id)
        with self._lock:
            held = next((i for i in ids if i in self._rows_by_id), None)
            if held is not None:
                raise DuplicateSubject(f"subject {held!r} is already in the gallery")
            if self._store is not None:
                self._store.append_many(
                    [
                        Entry(Op.INSERT, subject_id, record.tobytes())
                        for subject_id, record in zip(ids, records, strict=True)
                    ]
                )
            self._insert_rows(ids, records)

    def delete(self, subject_id: str) -> None:
        """Remove a reference, journaling it first when the gallery is persistent."""
        subject_id = check_subject_id(subject_id)
        with self._lock:
            if subject_id not in self._rows_by_id:
                raise UnknownSubject(f"subject {subject_id!r} is not in the gallery")
            if self._store is not None:
                self._store.append(Entry(Op.DELETE, subject_id))
            self._delete(subject_id)

    def identify(self, probe: Any, top_k: int = DEFAULT_TOP_K) -> Identification:
        """Search the gallery for a probe; return the best ``top_k`` and the decision."""
        top_k = check_top_k(top_k)
        record = self.matcher.record(probe)
        with self._lock:
            return self._search([record], top_k)[0]

    def identify_many(
        self, probes: Sequence[Any], top_k: int = DEFAULT_TOP_K
    ) -> list[Identification]:
        """Search for several probes; return what ``identify`` returns for each, in order.

        Probes go to the matcher in batches of ``IDENTIFY_BATCH``, each batch in one pass over
        the references (the iris kernel reads the gallery once per batch, not once per probe).
        Every probe is validated before the first search; the lock is held for the whole call,
        so every answer sees the same references.
        """
        top_k = check_top_k(top_k)
        records = [self.matcher.record(probe) for probe in probes]
        results: list[Identification] = []
        with self._lock:
            for start in range(0, len(records), IDENTIFY_BATCH):
                results.extend(self._search(records[start : start + IDENTIFY_BATCH], top_k))
        return results

    def enroll(self, subject_id: str, probe: Any, top_k: int = DEFAULT_TOP_K) -> EnrollOutcome:
        """Search for a probe and add it as ``subject_id`` only when nothing matches.

        The search and the insert hold the gallery's lock together: of two probes of one person
        enrolled at the same instant, the second finds the first. A subject already held (a
        retried enrollment) is not added again and its own reference is not counted.
        """
        subject_id = check_subject_id(subject_id)
        top_k = check_top_k(top_k)
        record = self.matcher.record(probe)
        with self._lock:
            held = subject_id in self._rows_by_id
            found = self.identify(record, top_k=min(top_k + held, MAX_TOP_K))
            candidates = [c for c in found.candidates if c.subject_id != subject_id][:top_k]
            match = bool(candidates) and candidates[0].score <= found.threshold
            identification = Identification(
                candidates,
                match=match,
                threshold=found.threshold,
                gallery_size=found.gallery_size - held,
            )
            inserted = not match and not held
            if inserted:
                self.insert(subject_id, record)
            return EnrollOutcome(identification, inserted=inserted, count=self.count())

    def threshold(self, gallery_size: int | None = None) -> float:
        """Return the score threshold for a search over ``gallery_size`` (default: current)."""
        size = len(self._rows_by_id) if gallery_size is None else gallery_size
        return self.matcher.threshold(per_comparison_fmr(self.false_match_rate, size))

    def replace_all(self, subject_ids: Sequence[str], templates: Any) -> None:
        """Make the gallery hold exactly these references, in one step (a rebuild).

        Everything is checked first, as ``insert_many`` does; a persistent gallery then writes
        them as its new snapshot, which replaces the old one and its journal atomically.
        """
        ids = [check_subject_id(subject_id) for subject_id in subject_ids]
        records = self.matcher.record_array(templates)
        if len(records) != len(ids):
            raise InvalidRequest(f"{len(ids)} subject ids for {len(records)} templates")
        if len(set(ids)) != len(ids):
            raise DuplicateSubject("a subject is given more than once")
        with self._lock:
            if self._store is not None:
                self._store.checkpoint(ids, np.ascontiguousarray(records))
            capacity = max(_MIN_CAPACITY, len(ids))
            self._records = np.empty((capacity, self.matcher.template_size), dtype=np.uint8)
            self._records[: len(ids)] = records
            self._alive = np.zeros(capacity, dtype=np.bool_)
            self._alive[: len(ids)] = True
            self._ids = list(ids)
            self._rows_by_id = {subject_id: row for row, subject_id in enumerate(ids)}

    def checkpoint(self) -> None:
        """Compact, write a snapshot atomically and start an empty journal."""
        if self._store is None:
            raise RuntimeError("an in-memory gallery has nothing to checkpoint")
        with self._lock:
            self._compact()
            rows = len(self._ids)
            self._store.checkpoint(list(self._ids), self._records[:rows])

    def close(self) -> None:
        """Release the journal and the directory lock."""
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    def _restore(self) -> None:
        loaded = self._store.load()
        self._records = loaded.records
        self._alive = np.ones(len(loaded.ids), dtype=np.bool_)
        self._ids = list(loaded.ids)
        self._rows_by_id = {subject_id: row for row, subject_id in enumerate(loaded.ids)}
        for entry in loaded.entries:
            if entry.op == Op.INSERT:
                if entry.subject_id in self._rows_by_id:
                    raise StorageCorrupt(f"journal inserts {entry.subject_id!r} twice")
                if len(entry.payload) != self.matcher.template_size:
                    raise StorageCorrupt(f"journal holds a bad template for {entry.subject_id!r}")
                self._insert(entry.subject_id, entry.payload)
            else:
                if entry.subject_id not in self._rows_by_id:
                    raise StorageCorrupt(f"journal deletes unknown {entry.subject_id!r}")
                self._delete(entry.subject_id)

    def _search(self, records: list[bytes], top_k: int) -> list[Identification]:
        """Answer searches for serialised probes; the caller holds the lock."""
        size = len(self._rows_by_id)
        threshold = self.threshold(size)
        if size == 0:
            return [
                Identification([], match=False, threshold=threshold, gallery_size=0)
                for _ in records
            ]
        rows = len(self._ids)
        found_rows, found_scores = self.matcher.search(
            records, self._records[:rows], self._alive[:rows], min(top_k, size)
        )
        results = []
        for best, scores in zip(found_rows, found_scores, strict=True):
            candidates = [
                Candidate(self._ids[row], float(score))
                for row, score in zip(best.tolist(), scores.tolist(), strict=True)
                if row >= 0
            ]
            match = candidates[0].score <= threshold
            results.append(
                Identification(candidates, match=match, threshold=threshold, gallery_size=size)
            )
        return results

    def _insert_rows(self, ids: list[str], records: np.ndarray) -> None:
        start = len(self._ids)
        stop = start + len(ids)
        if stop > len(self._records):
            self._reallocate(max(_MIN_CAPACITY, 2 * len(self._records), stop))
        self._records[start:stop] = records
        self._alive[start:stop] = True
        self._ids.extend(ids)
        self._rows_by_id.update(zip(ids, range(start, stop), strict=True))

    def _insert(self, subject_id: str, record: bytes) -> None:
        row = len(self._ids)
        if row == len(self._records):
            self._reallocate(max(_MIN_CAPACITY, 2 * len(self._records)))
        self._records[row] = np.frombuffer(record, dtype=np.uint8)
        self._alive[row] = True
        self._ids.append(subject_id)
        self._rows_by_id[subject_id] = row

    def _delete(self, subject_id: str) -> None:
        row = self._rows_by_id.pop(subject_id)
        self._alive[row] = False
        self._ids[row] = None
        tombstones = len(self._ids) - len(self._rows_by_id)
        if tombstones * 4 >= len(self._ids):
            self._compact()

    def _compact(self) -> None:
        rows = len(self._ids)
        if rows == len(self._rows_by_id):
            return
        keep = np.flatnonzero(self._alive[:rows])
        capacity = max(_MIN_CAPACITY, 2 * len(keep))
        records = np.empty((capacity, self.matcher.template_size), dtype=np.uint8)
        records[: len(keep)] = self._records[keep]
        alive = np.zeros(capacity, dtype=np.bool_)
        alive[: len(keep)] = True
        self._records, self._alive = records, alive
        self._ids = [self._ids[row] for row in keep]
        self._rows_by_id = {subject_id: row for row, subject_id in enumerate(self._ids)}

    def _reallocate(self, capacity: int) -> None:
        rows = len(self._ids)
        records = np.empty((capacity, self.matcher.template_size), dtype=np.uint8)
        records[:rows] = self._records[:rows]
        alive = np.zeros(capacity, dtype=np.bool_)
        alive[:rows] = self._alive[:rows]
        self._records, self._alive = records, alive

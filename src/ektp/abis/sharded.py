"""Split the gallery into shards, each a long-lived Ray actor holding one ``LocalAbis``.

``ShardedAbis`` answers the ``Abis`` contract as one gallery of the same subjects would:

- a subject lives on one shard, chosen by a stable hash of its id (``shard_of``: BLAKE2b, so
  every process and every restart agrees and shards stay even as districts grow);
- insert and delete go to that shard; count sums the shards;
- identify sends the probe to every shard and merges their best candidates. Scores are the
  kernel's, the same as one gallery's; the threshold is the one for the whole gallery's size;
  ties are broken as one gallery breaks them, by the order the references were added (each
  reference carries the coordinator's insertion stamp, kept by its shard beside its journal);
- enroll searches every shard and inserts under one coordinator lock, so two probes of one
  person enrolled at the same instant cannot both pass;
- a shard that is dead or does not answer within ``timeout`` seconds makes the operation raise
  ``ShardUnavailable``: a partial gallery never answers "no match".

Ray places the actors, queues their calls and restarts one that fails (``max_restarts``); a
restarted shard reopens its directory and reloads its references from its encrypted snapshot
and journal. A gallery kept in memory (no directory) is never restarted: it would come back
empty. On one machine ``ektp abis serve --shards N`` starts Ray itself; with a Ray address the
same code runs the shards on a cluster (their directories must then be reachable from the node
that runs them). One process owns a sharded gallery, as one owns a ``LocalAbis``: a second
process opening the same directory gets ``GalleryLocked`` from the shards.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayError

from ektp.abis.errors import ERRORS_BY_CODE, AbisError, InvalidRequest, ShardUnavailable
from ektp.abis.gallery import (
    DEFAULT_FALSE_MATCH_RATE,
    MAX_TOP_K,
    check_subject_id,
    check_top_k,
    per_comparison_fmr,
)
from ektp.abis.interfaces import (
    DEFAULT_MODALITY,
    DEFAULT_TOP_K,
    Abis,
    Candidate,
    EnrollOutcome,
    Identification,
    PendingJobs,
    template_bytes,
)
from ektp.abis.matchers import MATCHERS, Matcher, get_matcher
from ektp.abis.sealing import Sealer, key_id

DEFAULT_SHARD_TIMEOUT = 30.0
LAYOUT_FILE = "shards.json"
ORDER_FILE = "order.log"
_ORDER_CONTEXT = b"ektp-abis-shard-order"
RAY_NAMESPACE = "ektp-abis"


def shard_of(subject_id: str, shards: int) -> int:
    """Return the shard that holds ``subject_id``: a stable hash, the same in every process."""
    digest = hashlib.blake2b(subject_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def shard_directory(data_dir: Path | str, index: int, shards: int) -> Path:
    """Return the directory of one shard's galleries and its order log."""
    return Path(data_dir) / f"shard-{index:03d}-of-{shards:03d}"


class _OrderLog:
    """Keep, beside a shard's journal, the stamp that orders each reference among all shards.

    Each line is one sealed JSON list of [modality, stamp, subject id]; the last line for a
    reference wins. A line that cannot be opened (a torn last write) is skipped: a reference
    without a stamp sorts first among equal scores, and nothing else depends on it.
    """

    def __init__(self, path: Path, keys: Sequence[bytes], *, fsync: bool) -> None:
        self.path = path
        self.fsync = fsync
        self._sealer = Sealer(keys)
        self._kid = key_id(keys[0])

    def load(self) -> dict[tuple[str, str], int]:
        stamps: dict[tuple[str, str], int] = {}
        if not self.path.exists():
            return stamps
        for line in self.path.read_bytes().splitlines():
            try:
                raw = base64.b64decode(line, validate=True)
            except ValueError:
                continue
            opened = self._sealer.open(raw[:4], raw[4:], _ORDER_CONTEXT)
            if opened is None:
                continue
            modality, stamp, subject_id = json.loads(opened)
            stamps[(modality, subject_id)] = int(stamp)
        return stamps

    def append(self, entries: Iterable[tuple[str, int, str]]) -> None:
        self._write(entries, mode="ab", path=self.path)

    def rewrite(self, entries: Iterable[tuple[str, int, str]]) -> None:
        """Replace the log with exactly these entries, atomically."""
        temporary = self.path.with_suffix(".tmp")
        self._write(entries, mode="wb", path=temporary)
        os.replace(temporary, self.path)

    def _write(self, entries: Iterable[tuple[str, int, str]], *, mode: str, path: Path) -> None:
        lines = []
        for entry in entries:
            sealed = self._sealer.seal(json.dumps(list(entry)).encode("utf-8"), _ORDER_CONTEXT)
            lines.append(base64.b64encode(self._kid + sealed) + b"\n")
        with open(path, mode) as handle:
            handle.write(b"".join(lines))
            handle.flush()
            if self.fsync:
                os.fsync(handle.fileno())


class ShardWorker:
    """Hold one shard as a ``LocalAbis``; run as a Ray actor, one call at a time.

    Every method answers ``("ok", value)`` or ``("error", code, message)`` for an ABIS error,
    so that the coordinator raises the same error class as one gallery would.
    """

    def __init__(
        self,
        directory: str | None,
        keys: Sequence[bytes] | None,
        false_match_rate: float,
        fsync: bool,
        threads: int | None,
    ) -> None:
        from ektp.abis.service import LocalAbis  # the actor's process loads the kernel itself

        if threads:
            import numba

            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        self._order: _OrderLog | None = None
        if directory is not None:
            Path(directory).mkdir(mode=0o700, parents=True, exist_ok=True)
            self._order = _OrderLog(Path(directory) / ORDER_FILE, keys, fsync=fsync)
        self.abis = LocalAbis(directory, keys=keys, false_match_rate=false_match_rate, fsync=fsync)
        stamps = self._order.load() if self._order is not None else {}
        self._stamps = {
            key: stamp
            for key, stamp in stamps.items()
            if key[0] in MATCHERS and key[1] in self.abis.gallery(key[0])
        }

    def insert_many(
        self, subject_ids: list[str], records: Any, stamps: list[int], modality: str
    ) -> tuple:
        def run() -> int:
            gallery = self.abis.gallery(modality)
            if self._order is not None:
                self._order.append(
                    (modality, stamp, subject_id)
                    for subject_id, stamp in zip(subject_ids, stamps, strict=True)
                )
            gallery.insert_many(subject_ids, records)
            for subject_id, stamp in zip(subject_ids, stamps, strict=True):
                self._stamps[(modality, subject_id)] = stamp
            return gallery.count()

        return _answer(run)

    def identify(self, record: bytes, top_k: int, modality: str) -> tuple:
        def run() -> tuple[list[tuple[str, float, int]], int]:
            found = self.abis.identify(record, top_k=top_k, modality=modality)
            candidates = [
                (c.subject_id, c.score, self._stamps.get((modality, c.subject_id), 0))
                for c in found.candidates
            ]
            return candidates, found.gallery_size

        return _answer(run)

    def holds(self, subject_id: str, modality: str) -> tuple:
        return _answer(lambda: subject_id in self.abis.gallery(modality))

    def delete(self, subject_id: str, modality: str) -> tuple:
        def run() -> int:
            count = self.abis.delete(subject_id, modality=modality)
            self._stamps.pop((modality, subject_id), None)
            return count

        return _answer(run)

    def counts(self) -> tuple:
        return _answer(lambda: self.abis.ping()["modalities"])

    def checkpoint(self) -> tuple:
        def run() -> None:
            self.abis.checkpoint()
            if self._order is not None:
                self._order.rewrite(
                    (modality, stamp, subject_id)
                    for (modality, subject_id), stamp in self._stamps.items()
                )

        return _answer(run)

    def pid(self) -> tuple:
        return _answer(os.getpid)

    def close(self) -> None:
        self.abis.close()


def _answer(run: Any) -> tuple:
    try:
        return ("ok", run())
    except AbisError as error:
        return ("error", error.code, str(error))


class ShardedAbis(Abis):
    """Answer the ``Abis`` contract from ``shards`` Ray actors, each holding part of the gallery."""

    def __init__(
        self,
        shards: int,
        data_dir: Path | str | None = None,
        *,
        keys: Sequence[bytes] | None = None,
        false_match_rate: float = DEFAULT_FALSE_MATCH_RATE,
        fsync: bool = True,
        timeout: float = DEFAULT_SHARD_TIMEOUT,
        address: str | None = None,
        threads_per_shard: int | None = None,
        max_restarts: int = -1,
        cpus_per_shard: float = 0,
        start_timeout: float = 300.0,
    ) -> None:
        """Start ``shards`` actors (joining the Ray cluster at ``address``, else starting Ray here).

        With ``data_dir`` each shard keeps its references sealed with ``keys`` in its own
        directory and is restarted by Ray up to ``max_restarts`` times (-1: always). Ray reserves
        ``cpus_per_shard`` for each actor (on a cluster, 1 or more spreads the shards over
        machines); starting the actors may take ``start_timeout`` seconds.
        """
        if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
            raise ValueError(f"shards must be a positive integer, got {shards!r}")
        if data_dir is not None and not keys:
            raise ValueError("a gallery on disk needs its keys (AES-256, the first seals)")
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, got {timeout!r}")
        self.shards = shards
        self.timeout = float(timeout)
        self.false_match_rate = false_match_rate
        self.data_dir = None if data_dir is None else Path(data_dir)
        self._matchers: dict[str, Matcher] = {name: get_matcher(name) for name in MATCHERS}
        self._lock = threading.RLock()
        self._jobs = PendingJobs()
        self._last_stamp = 0
        if self.data_dir is not None:
            _check_layout(self.data_dir, shards)
        if not ray.is_initialized():
            ray.init(
                address=address or None,
                namespace=RAY_NAMESPACE,
                include_dashboard=False,
                log_to_driver=False,
            )
        worker = ray.remote(ShardWorker).options(
            max_restarts=max_restarts if self.data_dir is not None else 0,
            max_task_retries=0,
            max_concurrency=1,
            num_cpus=cpus_per_shard,
        )
        self._workers = [
            worker.remote(
                None
                if self.data_dir is None
                else str(shard_directory(self.data_dir, index, shards)),
                list(keys) if keys else None,
                false_match_rate,
                fsync,
                threads_per_shard,
            )
            for index in range(shards)
        ]
        try:
            self._gather([w.counts.remote() for w in self._workers], timeout=start_timeout)
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"ShardedAbis({self.shards}, {str(self.data_dir)!r})"

    # -- Abis --------------------------------------------------------------------------------

    def insert(self, subject_id: str, template: bytes, *, modality: str = DEFAULT_MODALITY) -> int:
        """Add a reference to its shard and return the modality's reference count."""
        self.insert_many([subject_id], [template], modality=modality)
        return self.count(modality=modality)

    def insert_many(
        self, subject_ids: Sequence[str], templates: Any, *, modality: str = DEFAULT_MODALITY
    ) -> None:
        """Add many references, each to its shard (all or none within one shard)."""
        matcher = self._matcher(modality)
        ids = [check_subject_id(subject_id) for subject_id in subject_ids]
        records = matcher.record_array(templates)
        if len(records) != len(ids):
            raise InvalidRequest(f"{len(ids)} subject ids for {len(records)} templates")
        with self._jobs.job(), self._lock:
            stamps = self._stamps(len(ids))
            by_shard: dict[int, list[int]] = {}
            for position, subject_id in enumerate(ids):
                by_shard.setdefault(shard_of(subject_id, self.shards), []).append(position)
            calls = {
                shard: self._workers[shard].insert_many.remote(
                    [ids[p] for p in positions],
                    records[positions],
                    [stamps[p] for p in positions],
                    modality,
                )
                for shard, positions in by_shard.items()
            }
            self._gather(list(calls.values()), list(calls))

    def identify(
        self, template: bytes, *, top_k: int = DEFAULT_TOP_K, modality: str = DEFAULT_MODALITY
    ) -> Identification:
        """Search every shard for a probe and merge their best candidates."""
        top_k = check_top_k(top_k)
        record = self._matcher(modality).record(template_bytes(template))
        with self._jobs.job():
            candidates, size = self._search(record, top_k, modality)
        threshold = self._threshold(modality, size)
        match = bool(candidates) and candidates[0].score <= threshold
        return Identification(candidates, match=match, threshold=threshold, gallery_size=size)

    def enroll(
        self,
        subject_id: str,
        template: bytes,
        *,
        top_k: int = DEFAULT_TOP_K,
        modality: str = DEFAULT_MODALITY,
    ) -> EnrollOutcome:
        """Search every shard and add the probe only if nothing matches, under one lock."""
        subject_id = check_subject_id(subject_id)
        top_k = check_top_k(top_k)
        record = self._matcher(modality).record(template_bytes(template))
        shard = shard_of(subject_id, self.shards)
        with self._jobs.job(), self._lock:
            held = int(self._gather([self._workers[shard].holds.remote(subject_id, modality)])[0])
            found, size = self._search(record, min(top_k + held, MAX_TOP_K), modality)
            threshold = self._threshold(modality, size)
            candidates = [c for c in found if c.subject_id != subject_id][:top_k]
            match = bool(candidates) and candidates[0].score <= threshold
            identification = Identification(
                candidates, match=match, threshold=threshold, gallery_size=size - held
            )
            inserted = not match and not held
            if inserted:
                self.insert_many([subject_id], [record], modality=modality)
            return EnrollOutcome(identification, inserted=inserted, count=size + inserted)

    def delete(self, subject_id: str, *, modality: str = DEFAULT_MODALITY) -> int:
        """Remove a reference from its shard and return the modality's reference count."""
        subject_id = check_subject_id(subject_id)
        self._matcher(modality)
        shard = shard_of(subject_id, self.shards)
        with self._jobs.job(), self._lock:
            self._gather([self._workers[shard].delete.remote(subject_id, modality)], [shard])
        return self.count(modality=modality)

    def ping(self) -> dict[str, Any]:
        """Return the status, the summed count of each modality and the number of shards."""
        totals: dict[str, int] = {}
        for counts in self.shard_counts():
            for name, count in counts.items():
                totals[name] = totals.get(name, 0) + count
        return {"status": "ok", "modalities": totals, "shards": self.shards}

    def pending(self) -> int:
        """Return the number of jobs accepted and not finished."""
        return self._jobs.count

    def count(self, *, modality: str = DEFAULT_MODALITY) -> int:
        """Return the number of references of a modality on all shards."""
        self._matcher(modality)
        return sum(counts[modality] for counts in self.shard_counts())

    def close(self) -> None:
        """Release every shard's directory and stop its actor."""
        for worker in self._workers if hasattr(self, "_workers") else ():
            with contextlib.suppress(RayError):  # a dead shard holds no lock any more
                ray.get(worker.close.remote(), timeout=self.timeout)
            ray.kill(worker, no_restart=True)
        self._workers = []

    # -- beyond the contract -----------------------------------------------------------------

    def shard_counts(self) -> list[dict[str, int]]:
        """Return each shard's reference count per modality, in shard order."""
        return self._gather([w.counts.remote() for w in self._workers])

    def checkpoint(self) -> None:
        """Snapshot every shard's galleries and empty their journals."""
        with self._lock:
            self._gather([w.checkpoint.remote() for w in self._workers])

    def shard_pids(self) -> list[int]:
        """Return the process id of each shard's actor (for operators and crash drills)."""
        return self._gather([w.pid.remote() for w in self._workers])

    # -- internals ---------------------------------------------------------------------------

    def _matcher(self, modality: str) -> Matcher:
        try:
            return self._matchers[modality]
        except (KeyError, TypeError):
            from ektp.abis.errors import UnknownModality

            known = ", ".join(sorted(self._matchers))
            raise UnknownModality(f"unknown modality {modality!r}; known: {known}") from None

    def _threshold(self, modality: str, size: int) -> float:
        """Return the threshold one gallery of ``size`` references would apply."""
        return self._matchers[modality].threshold(per_comparison_fmr(self.false_match_rate, size))

    def _search(self, record: bytes, top_k: int, modality: str) -> tuple[list[Candidate], int]:
        """Return the best ``top_k`` over all shards, ordered as one gallery, and its size."""
        answers = self._gather([w.identify.remote(record, top_k, modality) for w in self._workers])
        merged = [entry for found, _size in answers for entry in found]
        merged.sort(key=lambda entry: (entry[1], entry[2]))
        size = sum(size for _found, size in answers)
        return [Candidate(subject_id, score) for subject_id, score, _ in merged[:top_k]], size

    def _stamps(self, count: int) -> list[int]:
        """Return ``count`` increasing insertion stamps, later than every stamp given before."""
        first = max(self._last_stamp + 1, time.time_ns())
        self._last_stamp = first + count - 1
        return list(range(first, first + count))

    def _gather(
        self, refs: list, shards: list[int] | None = None, *, timeout: float | None = None
    ) -> list:
        """Wait for every shard's answer; raise ``ShardUnavailable`` if one is dead or late."""
        shards = list(range(len(refs))) if shards is None else shards
        timeout = self.timeout if timeout is None else timeout
        _ready, late = ray.wait(refs, num_returns=len(refs), timeout=timeout)
        if late:
            names = ", ".join(_shard_name(shards[refs.index(ref)]) for ref in late)
            raise ShardUnavailable(
                f"Shard ABIS {names} tidak menjawab dalam {timeout:g} detik. Pencarian "
                "dibatalkan: galeri tanpa shard itu tidak lengkap, jadi tidak boleh menjawab "
                '"tidak cocok". Coba lagi setelah shard pulih.'
            )
        values = []
        for shard, ref in zip(shards, refs, strict=True):
            try:
                answer = ray.get(ref, timeout=timeout)
            except (RayError, GetTimeoutError) as error:
                raise ShardUnavailable(
                    f"Shard ABIS {_shard_name(shard)} mati atau sedang dimulai ulang "
                    f"({type(error).__name__}). Pencarian dibatalkan: galeri tanpa shard itu "
                    'tidak lengkap, jadi tidak boleh menjawab "tidak cocok". Coba lagi setelah '
                    "shard pulih."
                ) from error
            values.append(answer)
        errors = [answer for answer in values if answer[0] == "error"]
        if errors:
            _status, code, message = errors[0]
            raise ERRORS_BY_CODE.get(code, AbisError)(message)
        return [answer[1] for answer in values]


def _shard_name(index: int) -> str:
    return f"#{index}"


def _check_layout(data_dir: Path, shards: int) -> None:
    """Refuse to open a directory laid out for another number of shards (no resharding)."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    layout = data_dir / LAYOUT_FILE
    if layout.exists():
        try:
            recorded = int(json.loads(layout.read_text("utf-8"))["shards"])
        except (ValueError, KeyError, TypeError):
            raise AbisError(f"{layout} is damaged") from None
        if recorded != shards:
            raise AbisError(
                f"Galeri di {data_dir} dibagi menjadi {recorded} shard, bukan {shards}: "
                "jumlah shard tidak dapat diubah tanpa membangun ulang galeri."
            )
        return
    single = [name for name in MATCHERS if (data_dir / name).exists()]
    if single:
        raise AbisError(
            f"Galeri di {data_dir} adalah satu galeri tanpa shard ({', '.join(single)}): "
            "bangun ulang galeri (`ektp abis rebuild`) di direktori baru untuk membaginya."
        )
    layout.write_text(json.dumps({"shards": shards}) + "\n", "utf-8")

"""A cache shared by every process of one server, in an LMDB file: the rate-limit counters of
an install whose web processes all run on one machine (every SQLite install, and a
PostgreSQL install that says so with EKTP_CACHE=host).

LMDB (the memory-mapped key-value store of OpenLDAP) lets every process of the machine write
the same file, one write transaction at a time under a mutex that lives in the file's lock
table, and reads and writes its pages through the memory map. Counting one try in the
client's and the NIK's windows is one write transaction of a few microseconds, against a
write transaction of SQLite (or a round trip to PostgreSQL or Redis) of a hundred or more:
on the public status page that was the largest cost of an inquiry.

How this cache behaves:
- Each value carries its expiry; an expired value reads as missing and is written over. A
  sweep removes expired entries a few hundred at a time, once in CULL_EVERY writes of a
  process; when the file holds more than MAX_ENTRIES, the expired entries are removed, then
  a third (1 / CULL_FREQUENCY) of the rest, as Django's caches cull. A file full before that
  (MAP_SIZE, 1 GiB by default; the file grows only as it is used) is swept and culled at
  once, and the write is tried again.
- Commits are not flushed to disk (the counters are worth less than a flush per inquiry): a
  machine that crashes can lose the last counts, or leave the file damaged. A damaged file is
  put aside when it is opened and a new one is started, which forgives the tries counted so
  far, as PostgreSQL empties an unlogged table after a crash.
- Every operation is a write transaction, reads included (the few reads are not worth a
  second kind): a write needs no slot in LMDB's reader table, where a process killed while
  reading would keep its slot, and the pages it saw, until the table is next checked. A
  process killed while writing releases LMDB's write mutex (a robust one) and its
  transaction is lost, nothing else.
- A full disk makes the cache unavailable, never kills the process: LMDB sizes a new lock
  file with ftruncate (a file with no blocks behind it) and writes its table through a memory
  map, and touching such a page on a full disk raises SIGBUS. The lock file's blocks are
  allocated (posix_fallocate) before LMDB maps it, so that a full disk is an OSError
  (ENOSPC) there; the data file is written with pwrite (no write map), where a full disk is
  an lmdb.Error. Callers see either as the cache being unavailable (see portal.limits).
- A process opens the file on first use. Before a fork, the file is closed (no transaction
  is open then: they all run under one lock of the process), and each side opens it again
  when it next needs it.
- Integers are stored as integers, so that incr and count_hits add to them in place; other
  values are pickled, as in Django's caches.
"""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import logging
import math
import os
import pickle
import shutil
import struct
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import lmdb
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

from ektp.portal.cache import Window

log = logging.getLogger(__name__)

HEADER = struct.Struct("<dB")  # expiry (seconds since the epoch, inf = never), kind
INTEGER = struct.Struct("<q")
KIND_INTEGER, KIND_PICKLE = 0, 1
MAX_KEY = 511  # LMDB's longest key in its default build; longer keys are hashed
SWEEP_BATCH = 500
DEFAULT_MAP_SIZE = 1 << 30
# Bytes of the lock file allocated before LMDB maps it: its header and reader slots take
# 8 KiB with the default 126 readers; LMDB keeps a larger file as it is (more slots).
LOCK_FILE_BYTES = 64 * 1024
# Damage found when a file is opened: the file is put aside and started again.
DAMAGED = (
    lmdb.CorruptedError,
    lmdb.PageNotFoundError,
    lmdb.InvalidError,
    lmdb.VersionMismatchError,
    lmdb.IncompatibleError,
    lmdb.BadChecksumError,
)

# The environments this process has open, by path. One lock of the process runs every
# transaction, so that the fork handler below can close them when none is open.
_environments: dict[str, lmdb.Environment] = {}
_lock = threading.RLock()


def _close_before_fork() -> None:
    _lock.acquire()
    for environment in _environments.values():
        environment.close()
    _environments.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_close_before_fork, after_in_parent=_lock.release, after_in_child=_lock.release
    )


def _open(path: str, map_size: int) -> lmdb.Environment:
    """Open the environment at path, putting a damaged one aside (under a file lock, so
    that processes starting together agree on one new file)."""
    Path(path).mkdir(parents=True, exist_ok=True)
    with open(f"{path}.opening", "a") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        try:
            environment = _open_checked(path, map_size)
        except DAMAGED as exc:
            aside = f"{path}.damaged-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
            log.error("host cache %s is damaged (%s): put aside as %s", path, exc, aside)
            shutil.move(path, aside)
            Path(path).mkdir(parents=True, exist_ok=True)
            environment = _open_checked(path, map_size)
    return environment


def _allocate_lock_file(path: str) -> None:
    """Give the lock file real blocks, all of them, before LMDB maps it (see the module):
    raise OSError (ENOSPC) when the disk has no room for them."""
    fd = os.open(os.path.join(path, "lock.mdb"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.posix_fallocate(fd, 0, max(os.fstat(fd).st_size, LOCK_FILE_BYTES))
    finally:
        os.close(fd)


def _open_checked(path: str, map_size: int) -> lmdb.Environment:
    _allocate_lock_file(path)
    environment = lmdb.open(
        path,
        map_size=map_size,
        subdir=True,
        sync=False,
        metasync=False,
        readahead=False,
        max_dbs=0,
        lock=True,
        writemap=False,  # pages written with pwrite: a full disk is an error, not SIGBUS
    )
    try:
        # Read the first and last pages of the tree.
        with environment.begin(write=True) as txn, txn.cursor() as cursor:
            cursor.first()
            cursor.last()
    except BaseException:
        environment.close()
        raise
    return environment


def _environment(path: str, map_size: int) -> lmdb.Environment:
    environment = _environments.get(path)
    if environment is None:
        environment = _environments[path] = _open(path, map_size)
    return environment


class HostCache(BaseCache):
    """Django's cache API over an LMDB file that every process of one machine shares."""

    def __init__(self, location, params):
        super().__init__(params)
        options = params.get("OPTIONS", {})
        self._path = os.path.realpath(location)
        self._map_size = int(options.get("MAP_SIZE", DEFAULT_MAP_SIZE))
        default_every = min(1000, max(1, self._max_entries // 1000))
        self._cull_every = max(1, int(options.get("CULL_EVERY", default_every)))
        self._sweep_from: bytes | None = None
        self._writes = itertools.count(1)

    # Transactions -------------------------------------------------------------------------

    def _run(self, work):
        """Run work(txn) in one write transaction and return its result; when the file is
        full, make room in it (see _make_room), then run the work once more."""
        try:
            result = self._in_transaction(work)
        except lmdb.MapFullError:
            self._when_full()
            result = self._in_transaction(work)
        if next(self._writes) % self._cull_every == 0:
            self._in_transaction(self._sweep)
        return result

    def _when_full(self) -> None:
        """Sweep and cull a full file. Removing entries writes pages too: when even that
        finds no room, the map is made twice as large first (LMDB lets it grow while the
        other processes run; they take the new size at their next transaction)."""
        log.warning("host cache %s is full: sweeping and culling it", self._path)
        try:
            self._in_transaction(lambda txn: self._make_room(txn, full=True))
        except lmdb.MapFullError:
            with _lock:
                environment = _environment(self._path, self._map_size)
                size = environment.info()["map_size"] * 2
                log.warning("host cache %s: map grown to %d bytes", self._path, size)
                environment.set_mapsize(size)
            self._in_transaction(lambda txn: self._make_room(txn, full=True))

    def _in_transaction(self, work):
        with _lock:
            environment = _environment(self._path, self._map_size)
            try:
                txn = environment.begin(write=True)
            except lmdb.MapResizedError:  # another process made the map larger
                environment.set_mapsize(0)
                txn = environment.begin(write=True)
            try:
                result = work(txn)
            except BaseException:
                txn.abort()
                raise
            txn.commit()
        return result

    def _main(self, txn):
        """The file's main (unnamed) database, within a transaction of this process."""
        return _environment(self._path, self._map_size).open_db(txn=txn)

    # Encoding -----------------------------------------------------------------------------

    def _key(self, key, version) -> bytes:
        return self._raw(self.make_and_validate_key(key, version=version))

    @staticmethod
    def _raw(key: str) -> bytes:
        raw = key.encode()
        if len(raw) > MAX_KEY:
            raw = b"#" + hashlib.sha256(raw).digest()
        return raw

    def _expiry(self, timeout) -> float:
        expiry = self.get_backend_timeout(timeout)
        return math.inf if expiry is None else float(expiry)

    @staticmethod
    def _encode(value, expiry: float) -> bytes:
        if type(value) is int and -(2**63) <= value < 2**63:
            return HEADER.pack(expiry, KIND_INTEGER) + INTEGER.pack(value)
        return HEADER.pack(expiry, KIND_PICKLE) + pickle.dumps(value, pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def _live(raw: bytes | None, now: float) -> tuple[float, int, bytes] | None:
        """Return (expiry, kind, payload) of a stored value that has not expired, else None."""
        if raw is None:
            return None
        expiry, kind = HEADER.unpack_from(raw)
        if expiry <= now:
            return None
        return expiry, kind, raw[HEADER.size :]

    @staticmethod
    def _decode(kind: int, payload: bytes):
        if kind == KIND_INTEGER:
            return INTEGER.unpack(payload)[0]
        return pickle.loads(payload)

    # Django's cache API -------------------------------------------------------------------

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        raw_key, expiry = self._key(key, version), self._expiry(timeout)

        def add(txn) -> bool:
            if self._live(txn.get(raw_key), time.time()) is not None:
                return False
            txn.put(raw_key, self._encode(value, expiry))
            return True

        return self._run(add)

    def get(self, key, default=None, version=None):
        raw_key = self._key(key, version)
        live = self._run(lambda txn: self._live(txn.get(raw_key), time.time()))
        return default if live is None else self._decode(live[1], live[2])

    def get_many(self, keys, version=None):
        raw = {self._key(key, version): key for key in keys}

        def read(txn):
            now = time.time()
            return {key: self._live(txn.get(raw_key), now) for raw_key, key in raw.items()}

        return {
            key: self._decode(live[1], live[2]) for key, live in self._run(read).items() if live
        }

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        raw_key, stored = self._key(key, version), self._encode(value, self._expiry(timeout))
        self._run(lambda txn: txn.put(raw_key, stored))

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        expiry = self._expiry(timeout)
        rows = [
            (self._key(key, version), self._encode(value, expiry)) for key, value in data.items()
        ]

        def write(txn) -> None:
            for raw_key, stored in rows:
                txn.put(raw_key, stored)

        self._run(write)
        return []

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        raw_key, expiry = self._key(key, version), self._expiry(timeout)

        def touch(txn) -> bool:
            live = self._live(txn.get(raw_key), time.time())
            if live is None:
                return False
            txn.put(raw_key, HEADER.pack(expiry, live[1]) + live[2])
            return True

        return self._run(touch)

    def delete(self, key, version=None):
        raw_key = self._key(key, version)

        def delete(txn) -> bool:
            live = self._live(txn.get(raw_key), time.time())
            return txn.delete(raw_key) and live is not None

        return self._run(delete)

    def delete_many(self, keys, version=None):
        raw_keys = [self._key(key, version) for key in keys]

        def delete(txn) -> None:
            for raw_key in raw_keys:
                txn.delete(raw_key)

        self._run(delete)

    def has_key(self, key, version=None):
        raw_key = self._key(key, version)
        return self._run(lambda txn: self._live(txn.get(raw_key), time.time()) is not None)

    def incr(self, key, delta=1, version=None):
        """Add delta to a live value in place, keeping its expiry (ValueError when missing)."""
        raw_key = self._key(key, version)

        def incr(txn):
            live = self._live(txn.get(raw_key), time.time())
            if live is None:
                raise ValueError(f"Key '{key}' not found")
            expiry, kind, payload = live
            value = self._decode(kind, payload) + delta
            txn.put(raw_key, self._encode(value, expiry))
            return value

        return self._run(incr)

    def clear(self):
        self._in_transaction(lambda txn: txn.drop(self._main(txn), delete=False))

    def close(self, **kwargs):
        """Keep the file open: the process opens it once (see the module)."""

    # Counting -----------------------------------------------------------------------------

    def count_hits(self, windows: Sequence[Window], version=None) -> list[int]:
        """Count one hit in each window in turn and return the counts, in one transaction.

        A window's key starts at 1 (expiring after its timeout) when missing, expired or not
        an integer, else goes up by one and keeps its expiry. Counting stops after the first
        window whose count goes over its limit: the later ones are not counted (as
        portal.cache.DatabaseCache.count_hits).
        """
        if not windows:
            return []
        # Keys made by django-ratelimit (hex digests): no need to check them for memcached.
        rows = [
            (self._raw(self.make_key(key, version=version)), float(timeout), int(limit))
            for key, timeout, limit in windows
        ]

        def count(txn) -> list[int]:
            now = time.time()
            counts: list[int] = []
            for raw_key, timeout, limit in rows:
                live = self._live(txn.get(raw_key), now)
                if live is None or live[1] != KIND_INTEGER:
                    expiry, number = now + timeout, 1
                else:
                    expiry, number = live[0], INTEGER.unpack(live[2])[0] + 1
                txn.put(raw_key, HEADER.pack(expiry, KIND_INTEGER) + INTEGER.pack(number))
                counts.append(number)
                if number > limit:
                    break
            return counts

        return self._run(count)

    # Sweeping and culling -----------------------------------------------------------------

    def _sweep(self, txn, batch: int = SWEEP_BATCH) -> None:
        """Remove the expired entries among the next `batch` (in key order, going round),
        then make room when the file holds more than MAX_ENTRIES."""
        with txn.cursor() as cursor:
            found = cursor.set_range(self._sweep_from) if self._sweep_from else cursor.first()
            found, _, _ = _remove_expired(cursor, found, batch)
            self._sweep_from = cursor.key() if found else None
        if txn.stat(self._main(txn))["entries"] > self._max_entries:
            self._make_room(txn, full=False)

    def _make_room(self, txn, *, full: bool) -> None:
        """Remove every expired entry; then, when more than MAX_ENTRIES are left (or nothing
        had expired in a full file), remove 1 / CULL_FREQUENCY of them (all with 0)."""
        with txn.cursor() as cursor:
            _, removed, kept = _remove_expired(cursor, cursor.first())
        if kept <= self._max_entries and (removed or not full):
            return
        if self._cull_frequency == 0:
            txn.drop(self._main(txn), delete=False)
            return
        doomed = max(1, kept // self._cull_frequency)
        with txn.cursor() as cursor:
            found = cursor.first()
            while found and doomed:
                found = _delete(cursor)
                doomed -= 1


def _remove_expired(cursor, found: bool, limit: int | None = None) -> tuple[bool, int, int]:
    """From the cursor's entry on, remove the expired ones among the next `limit` entries (all
    to the end with None); return whether the cursor stands on an entry after them, and how
    many were removed and kept."""
    now = time.time()
    removed = kept = 0
    while found and (limit is None or removed + kept < limit):
        if HEADER.unpack_from(cursor.value())[0] <= now:
            found = _delete(cursor)
            removed += 1
        else:
            found = cursor.next()
            kept += 1
    return found, removed, kept


def _delete(cursor) -> bool:
    """Delete the cursor's entry; tell whether it then stands on a next one (keys are never
    empty: a cursor past the last entry reads an empty key)."""
    cursor.delete()
    return cursor.key() != b""

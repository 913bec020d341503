"""Keep a gallery on disk: a memory-mapped snapshot plus an append-only journal.

A restart maps the snapshot and replays the journal; it never rebuilds from the database.
One directory per gallery:

    LOCK                 flock-ed by the one process that owns the gallery
    snapshot.json        commit point: generation, modality, record size, ids in row order
    records-000007.npy   uint8[count, record_size], mapped copy-on-write on load
    journal-000007.log   every insert and delete since that snapshot

A journal entry is a 13-byte header ``<2sBHII`` (magic ``AJ``, op, id length, payload length,
CRC-32 of op, lengths, id and payload) followed by the UTF-8 id and the payload (the template
for an insert, nothing for a delete). It is written with one ``write`` on an ``O_APPEND``
descriptor and, by default, fsync-ed before the operation is applied (a batch of entries,
as ``insert_many`` journals them, is fsync-ed once).

A crash can tear the last entry: the file ends inside it, or the filesystem zero-filled its
blocks. Replay stops before a torn entry and the file is cut back there before anything is
appended. Damage followed by intact data is not a torn write and raises ``StorageCorrupt``.

A checkpoint from generation g to g+1 writes ``records-(g+1).npy`` (temp file, fsync,
``os.replace``), creates an empty ``journal-(g+1).log``, then replaces ``snapshot.json`` (temp
file, fsync, ``os.replace``, directory fsync). Until that last rename the old snapshot and
journal are authoritative, after it the new pair is, so a crash at any step restarts from a
consistent pair; files of other generations are removed on the next open.
"""

import contextlib
import fcntl
import json
import os
import re
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

import numpy as np

from ektp.abis.errors import GalleryLocked, StorageCorrupt

SNAPSHOT_FORMAT = 1
MAGIC = b"AJ"
HEADER = struct.Struct("<2sBHII")
WRITE_CHUNK = 1 << 20  # bytes per write of a batch of entries
_GENERATION_FILE = re.compile(r"^(records|journal)-(\d{6})\.(npy|log)$")


class Op(IntEnum):
    """Name a journaled operation."""

    INSERT = 1
    DELETE = 2


@dataclass(frozen=True)
class Entry:
    """Describe one journaled operation."""

    op: Op
    subject_id: str
    payload: bytes = b""

    def to_bytes(self) -> bytes:
        """Serialise with header and checksum."""
        subject = self.subject_id.encode("utf-8")
        body = struct.pack("<BHI", self.op, len(subject), len(self.payload)) + subject
        checksum = zlib.crc32(self.payload, zlib.crc32(body))
        return HEADER.pack(MAGIC, self.op, len(subject), len(self.payload), checksum) + (
            subject + self.payload
        )


def read_journal(path: Path) -> tuple[list[Entry], int]:
    """Return the intact entries of a journal and the length of the intact prefix."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], 0
    entries: list[Entry] = []
    offset = 0
    while offset < len(data):
        entry, end = _parse_entry(data, offset)
        if entry is None:
            if not _is_torn_tail(data, end):
                raise StorageCorrupt(f"{path}: damaged entry at byte {offset} followed by data")
            break
        entries.append(entry)
        offset = end
    return entries, offset


def _parse_entry(data: bytes, offset: int) -> tuple[Entry | None, int]:
    """Parse the entry at ``offset``; return (None, where its damage ends) if it is not intact."""
    if len(data) - offset < HEADER.size:
        return None, len(data)
    magic, op, id_length, payload_length, checksum = HEADER.unpack_from(data, offset)
    start = offset + HEADER.size
    end = start + id_length + payload_length
    if magic != MAGIC or op not in (Op.INSERT, Op.DELETE):
        return None, offset
    if end > len(data):
        return None, len(data)
    body = struct.pack("<BHI", op, id_length, payload_length) + data[start : start + id_length]
    if zlib.crc32(data[start + id_length : end], zlib.crc32(body)) != checksum:
        return None, end
    try:
        subject_id = data[start : start + id_length].decode("utf-8")
    except UnicodeDecodeError:
        return None, end
    return Entry(Op(op), subject_id, data[start + id_length : end]), end


def _is_torn_tail(data: bytes, end: int) -> bool:
    """Tell whether a bad entry claiming to end at ``end`` is the remains of the last write."""
    return not data[end:].strip(b"\x00")


class Journal:
    """Append entries to a journal file."""

    def __init__(self, path: Path, *, fsync: bool) -> None:
        self.path = path
        self._fsync = fsync
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def append(self, entry: Entry) -> None:
        """Write one entry in a single call and make it durable."""
        self.append_many([entry])

    def append_many(self, entries: Sequence[Entry]) -> None:
        """Write entries in order, in chunks of about WRITE_CHUNK bytes, then make them durable
        with one fsync. A crash in between keeps a prefix of them (replay cuts a torn tail), as
        it would between appends one by one."""
        chunk: list[bytes] = []
        size = 0
        for entry in entries:
            data = entry.to_bytes()
            chunk.append(data)
            size += len(data)
            if size >= WRITE_CHUNK:
                self._write(b"".join(chunk))
                chunk, size = [], 0
        if chunk:
            self._write(b"".join(chunk))
        if self._fsync:
            os.fsync(self._fd)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def close(self) -> None:
        """Close the file."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


@dataclass(frozen=True)
class Loaded:
    """Carry what a restart needs: the snapshot's ids and rows, and the journal to replay."""

    ids: list[str]
    records: np.ndarray
    entries: list[Entry]


class GalleryStore:
    """Own one gallery directory: its lock, snapshot and journal."""

    def __init__(self, directory: Path | str, *, modality: str, record_size: int, fsync: bool):
        self.directory = Path(directory)
        self.modality = modality
        self.record_size = record_size
        self._fsync = fsync
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(self.directory / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise GalleryLocked(f"{self.directory} is held by another gallery") from None
        self.generation = 0
        self._journal: Journal | None = None

    def load(self) -> Loaded:
        """Map the snapshot, read the journal, cut a torn tail and open it for appending."""
        ids, records = self._read_snapshot()
        journal_path = self._path("journal", self.generation)
        entries, intact = read_journal(journal_path)
        if journal_path.exists() and journal_path.stat().st_size != intact:
            os.truncate(journal_path, intact)
        self._journal = Journal(journal_path, fsync=self._fsync)
        self._remove_other_generations()
        return Loaded(ids, records, entries)

    def append(self, entry: Entry) -> None:
        """Journal an operation before it is applied."""
        self.append_many([entry])

    def append_many(self, entries: Sequence[Entry]) -> None:
        """Journal operations before they are applied, with one fsync for all."""
        if self._journal is None:
            raise RuntimeError("the store is not loaded")
        self._journal.append_many(entries)

    def checkpoint(self, ids: list[str], records: np.ndarray) -> None:
        """Write a new snapshot of ``records`` (rows in the order of ``ids``), empty the journal."""
        if records.shape != (len(ids), self.record_size):
            raise ValueError(f"records {records.shape} do not match {len(ids)} ids")
        generation = self.generation + 1
        records_path = self._path("records", generation)
        with _atomic_file(records_path) as handle:
            np.save(handle, np.ascontiguousarray(records), allow_pickle=False)
        journal_path = self._path("journal", generation)
        with open(journal_path, "wb") as handle:
            os.fsync(handle.fileno())
        snapshot = {
            "format": SNAPSHOT_FORMAT,
            "modality": self.modality,
            "record_size": self.record_size,
            "generation": generation,
            "count": len(ids),
            "ids": ids,
        }
        with _atomic_file(self.directory / "snapshot.json") as handle:
            handle.write(json.dumps(snapshot, ensure_ascii=False).encode("utf-8"))
        _fsync_directory(self.directory)
        if self._journal is not None:
            self._journal.close()
        self._journal = Journal(journal_path, fsync=self._fsync)
        self.generation = generation
        self._remove_other_generations()

    def close(self) -> None:
        """Close the journal and release the directory lock."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self._lock_fd >= 0:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = -1

    def _read_snapshot(self) -> tuple[list[str], np.ndarray]:
        path = self.directory / "snapshot.json"
        empty = np.empty((0, self.record_size), dtype=np.uint8)
        if not path.exists():
            return [], empty
        try:
            snapshot = json.loads(path.read_text(encoding="utf-8"))
            generation = int(snapshot["generation"])
            ids = list(snapshot["ids"])
            modality = snapshot["modality"]
            record_size = int(snapshot["record_size"])
        except (ValueError, KeyError, TypeError) as error:
            raise StorageCorrupt(f"{path}: unreadable snapshot ({error})") from error
        if snapshot.get("format") != SNAPSHOT_FORMAT:
            raise StorageCorrupt(f"{path}: unknown snapshot format {snapshot.get('format')!r}")
        if modality != self.modality or record_size != self.record_size:
            raise StorageCorrupt(
                f"{path}: holds {modality} records of {record_size} bytes, "
                f"expected {self.modality} records of {self.record_size} bytes"
            )
        if len(set(ids)) != len(ids) or not all(isinstance(i, str) for i in ids):
            raise StorageCorrupt(f"{path}: ids are not unique strings")
        self.generation = generation
        if not ids:
            return [], empty
        records_path = self._path("records", generation)
        try:
            records = np.load(records_path, mmap_mode="c", allow_pickle=False)
        except (OSError, ValueError) as error:
            raise StorageCorrupt(f"{records_path}: unreadable records ({error})") from error
        if records.dtype != np.uint8 or records.shape != (len(ids), self.record_size):
            raise StorageCorrupt(
                f"{records_path}: {records.dtype} {records.shape} does not match "
                f"{len(ids)} ids of {self.record_size} bytes"
            )
        return ids, records

    def _path(self, kind: str, generation: int) -> Path:
        suffix = "npy" if kind == "records" else "log"
        return self.directory / f"{kind}-{generation:06d}.{suffix}"

    def _remove_other_generations(self) -> None:
        for path in self.directory.iterdir():
            match = _GENERATION_FILE.match(path.name)
            stale = match is not None and int(match.group(2)) != self.generation
            if stale or path.name.endswith(".tmp"):
                path.unlink(missing_ok=True)


@contextlib.contextmanager
def _atomic_file(path: Path):
    """Yield a binary file that replaces ``path`` atomically once written and synced."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        with open(temporary, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

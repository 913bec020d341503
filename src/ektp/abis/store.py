"""Keep a gallery on disk, sealed: a snapshot plus an append-only journal.

A restart reads the snapshot and replays the journal; it never rebuilds from the database
(``ektp abis rebuild`` does, when the directory is lost).
One directory per gallery:

    LOCK                  flock-ed by the one process that owns the gallery
    snapshot.json         commit point: format, generation, modality, record size, count
    records-000007.bin    the ids and the rows of that snapshot, sealed in chunks
    journal-000007.log    every insert and delete since that snapshot, sealed per entry

Every byte of a template or an id on disk is sealed with AES-256-GCM (``sealing``): each
journal entry and each snapshot chunk has its own random nonce and tag, and its associated
data binds it to its generation and position. Files are created 0600. The key comes from the
caller (the Django side reads the key store; a standalone service reads EKTP_ABIS_KEY).

A journal entry is an 11-byte header ``<2sB4sI`` (magic ``AE``, format 1, key id, sealed
length) followed by the sealed ``<BH`` op and id length, the UTF-8 id and the payload (the
template for an insert, nothing for a delete). It is written with one ``write`` on an
``O_APPEND`` descriptor and, by default, fsync-ed before the operation is applied (a batch of
entries, as ``insert_many`` journals them, is fsync-ed once).

A crash can tear the last entry: the file ends inside it, or the filesystem zero-filled its
blocks. Replay stops before a torn entry and the file is cut back there before anything is
appended. Damage (a tag that does not match) followed by intact data is not a torn write and
raises ``StorageCorrupt``; so does an entry sealed with a key the caller did not give.

A checkpoint from generation g to g+1 writes ``records-(g+1).bin`` (temp file, fsync,
``os.replace``), creates an empty ``journal-(g+1).log``, then replaces ``snapshot.json`` (temp
file, fsync, ``os.replace``, directory fsync). Until that last rename the old snapshot and
journal are authoritative, after it the new pair is, so a crash at any step restarts from a
consistent pair; files of other generations are removed on the next open. A gallery written
before sealing (snapshot format 1, ``.npy`` rows, ``AJ`` entries) is refused with a pointer to
``ektp abis rebuild``.
"""

import contextlib
import fcntl
import json
import os
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

import numpy as np

from ektp.abis.errors import GalleryLocked, StorageCorrupt
from ektp.abis.sealing import KEY_ID_BYTES, Sealer

SNAPSHOT_FORMAT = 2
JOURNAL_FORMAT = 1
MAGIC = b"AE"
HEADER = struct.Struct("<2sB4sI")
BODY = struct.Struct("<BH")
POSITION = struct.Struct("<QQ")  # generation, entry or chunk index: the associated data
RECORDS_MAGIC = b"ektp-abis-records\x00"
RECORDS_HEADER = struct.Struct(f"<{len(RECORDS_MAGIC)}sB{KEY_ID_BYTES}sQII")
CHUNK = struct.Struct("<I")
CHUNK_BYTES = 4 << 20  # plaintext bytes of rows per sealed snapshot chunk
WRITE_CHUNK = 1 << 20  # bytes per write of a batch of entries
FILE_MODE = 0o600
_GENERATION_FILE = re.compile(r"\A(records|journal)-(\d{6})\.(npy|bin|log)\Z")
_LEGACY_MAGIC = b"AJ"


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

    def seal(self, sealer: Sealer, generation: int, index: int) -> bytes:
        """Serialise and seal as entry ``index`` of the journal of ``generation``."""
        subject = self.subject_id.encode("utf-8")
        plaintext = BODY.pack(self.op, len(subject)) + subject + self.payload
        length = len(plaintext) + sealer.overhead
        header = HEADER.pack(MAGIC, JOURNAL_FORMAT, sealer.key_id, length)
        return header + sealer.seal(plaintext, header + POSITION.pack(generation, index))


def read_journal(path: Path, sealer: Sealer, generation: int = 0) -> tuple[list[Entry], int]:
    """Return the intact entries of a journal and the length of the intact prefix."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], 0
    entries: list[Entry] = []
    offset = 0
    while offset < len(data):
        entry, end = _parse_entry(data, offset, sealer, generation, len(entries), path)
        if entry is None:
            if not _is_torn_tail(data, end):
                raise StorageCorrupt(f"{path}: damaged entry at byte {offset} followed by data")
            break
        entries.append(entry)
        offset = end
    return entries, offset


def _parse_entry(
    data: bytes, offset: int, sealer: Sealer, generation: int, index: int, path: Path
) -> tuple[Entry | None, int]:
    """Open the entry at ``offset``; return (None, where its damage ends) if it is not intact."""
    if len(data) - offset < HEADER.size:
        return None, len(data)
    magic, version, kid, length = HEADER.unpack_from(data, offset)
    if magic == _LEGACY_MAGIC and offset == 0:
        raise StorageCorrupt(
            f"{path}: an unsealed journal of an older version; run `ektp abis rebuild`"
        )
    if magic != MAGIC or version != JOURNAL_FORMAT:
        return None, offset
    start = offset + HEADER.size
    end = start + length
    if end > len(data):
        return None, len(data)
    if not sealer.knows(kid):
        raise StorageCorrupt(f"{path}: entry at byte {offset} is sealed with a key not given")
    header = data[offset:start]
    plaintext = sealer.open(kid, data[start:end], header + POSITION.pack(generation, index))
    if plaintext is None or len(plaintext) < BODY.size:
        return None, end
    op, id_length = BODY.unpack_from(plaintext)
    if op not in (Op.INSERT, Op.DELETE) or BODY.size + id_length > len(plaintext):
        return None, end
    try:
        subject_id = plaintext[BODY.size : BODY.size + id_length].decode("utf-8")
    except UnicodeDecodeError:
        return None, end
    return Entry(Op(op), subject_id, plaintext[BODY.size + id_length :]), end


def _is_torn_tail(data: bytes, end: int) -> bool:
    """Tell whether a bad entry claiming to end at ``end`` is the remains of the last write."""
    return not data[end:].strip(b"\x00")


class Journal:
    """Append sealed entries to a journal file."""

    def __init__(
        self, path: Path, *, fsync: bool, sealer: Sealer, generation: int, count: int = 0
    ) -> None:
        self.path = path
        self._fsync = fsync
        self._sealer = sealer
        self._generation = generation
        self._count = count  # entries already in the file: the index of the next one
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)

    def append(self, entry: Entry) -> None:
        """Write one entry in a single call and make it durable."""
        self.append_many([entry])

    def append_many(self, entries: Sequence[Entry]) -> None:
        """Write entries in order, in chunks of about WRITE_CHUNK bytes, then make them durable
        with one fsync. A crash in between keeps a prefix of them (replay cuts a torn tail), as
        it would between appends one by one."""
        chunk: list[bytes] = []
        size = 0
        index = self._count
        try:
            for entry in entries:
                data = entry.seal(self._sealer, self._generation, index)
                index += 1
                chunk.append(data)
                size += len(data)
                if size >= WRITE_CHUNK:
                    self._write(b"".join(chunk))
                    chunk, size = [], 0
            if chunk:
                self._write(b"".join(chunk))
        finally:
            self._count = index
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
    """Own one gallery directory: its lock, snapshot and journal, all sealed with ``sealer``."""

    def __init__(
        self,
        directory: Path | str,
        *,
        modality: str,
        record_size: int,
        fsync: bool,
        sealer: Sealer,
    ):
        if not isinstance(sealer, Sealer):
            raise TypeError("a gallery on disk needs a Sealer with its key")
        self.directory = Path(directory)
        self.modality = modality
        self.record_size = record_size
        self._fsync = fsync
        self._sealer = sealer
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock_fd = os.open(self.directory / "LOCK", os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise GalleryLocked(f"{self.directory} is held by another gallery") from None
        self.generation = 0
        self._journal: Journal | None = None

    def load(self) -> Loaded:
        """Read the snapshot, read the journal, cut a torn tail and open it for appending."""
        ids, records = self._read_snapshot()
        journal_path = self._path("journal", self.generation)
        entries, intact = read_journal(journal_path, self._sealer, self.generation)
        if journal_path.exists() and journal_path.stat().st_size != intact:
            os.truncate(journal_path, intact)
        self._journal = self._open_journal(journal_path, self.generation, len(entries))
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
            self._write_records(handle, generation, ids, records)
        journal_path = self._path("journal", generation)
        fd = os.open(journal_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        snapshot = {
            "format": SNAPSHOT_FORMAT,
            "modality": self.modality,
            "record_size": self.record_size,
            "generation": generation,
            "count": len(ids),
        }
        with _atomic_file(self.directory / "snapshot.json") as handle:
            handle.write(json.dumps(snapshot, ensure_ascii=False).encode("utf-8"))
        _fsync_directory(self.directory)
        if self._journal is not None:
            self._journal.close()
        self._journal = self._open_journal(journal_path, generation, 0)
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

    def _open_journal(self, path: Path, generation: int, count: int) -> Journal:
        return Journal(
            path, fsync=self._fsync, sealer=self._sealer, generation=generation, count=count
        )

    def _rows_per_chunk(self) -> int:
        return max(1, CHUNK_BYTES // max(self.record_size, 1))

    def _write_records(self, handle, generation: int, ids: list[str], records: np.ndarray):
        """Write the header, the sealed ids, then the rows in sealed chunks."""
        per_chunk = self._rows_per_chunk()
        header = RECORDS_HEADER.pack(
            RECORDS_MAGIC,
            SNAPSHOT_FORMAT,
            self._sealer.key_id,
            len(ids),
            self.record_size,
            per_chunk,
        )
        handle.write(header)
        chunks = [json.dumps(ids, ensure_ascii=False).encode("utf-8")]
        rows = np.ascontiguousarray(records)
        for index, plaintext in enumerate(
            [chunks[0]]
            + [rows[start : start + per_chunk].tobytes() for start in range(0, len(ids), per_chunk)]
        ):
            sealed = self._sealer.seal(plaintext, header + POSITION.pack(generation, index))
            handle.write(CHUNK.pack(len(sealed)) + sealed)

    def _read_records(
        self, path: Path, generation: int, count: int
    ) -> tuple[list[str], np.ndarray]:
        """Open the sealed ids and rows of a snapshot."""
        try:
            data = path.read_bytes()
        except OSError as error:
            raise StorageCorrupt(f"{path}: unreadable records ({error})") from error
        if len(data) < RECORDS_HEADER.size:
            raise StorageCorrupt(f"{path}: records file is cut short")
        magic, version, kid, stored, record_size, per_chunk = RECORDS_HEADER.unpack_from(data)
        if magic != RECORDS_MAGIC or version != SNAPSHOT_FORMAT:
            raise StorageCorrupt(f"{path}: not a sealed records file")
        if (stored, record_size) != (count, self.record_size) or per_chunk < 1:
            raise StorageCorrupt(
                f"{path}: holds {stored} records of {record_size} bytes, "
                f"expected {count} of {self.record_size}"
            )
        if not self._sealer.knows(kid):
            raise StorageCorrupt(f"{path}: sealed with a key not given")
        header = data[: RECORDS_HEADER.size]
        offset = RECORDS_HEADER.size
        records = np.empty((count, self.record_size), dtype=np.uint8)
        ids: list[str] | None = None
        chunks = 1 + -(-count // per_chunk)
        for index in range(chunks):
            if offset + CHUNK.size > len(data):
                raise StorageCorrupt(f"{path}: records file is cut short")
            (length,) = CHUNK.unpack_from(data, offset)
            offset += CHUNK.size
            sealed = data[offset : offset + length]
            offset += length
            plaintext = self._sealer.open(kid, sealed, header + POSITION.pack(generation, index))
            if plaintext is None:
                raise StorageCorrupt(f"{path}: chunk {index} is damaged")
            if index == 0:
                try:
                    ids = json.loads(plaintext.decode("utf-8"))
                except ValueError as error:
                    raise StorageCorrupt(f"{path}: unreadable ids ({error})") from error
                continue
            start = (index - 1) * per_chunk
            rows = min(per_chunk, count - start)
            if len(plaintext) != rows * self.record_size:
                raise StorageCorrupt(f"{path}: chunk {index} has the wrong size")
            records[start : start + rows] = np.frombuffer(plaintext, dtype=np.uint8).reshape(
                rows, self.record_size
            )
        if offset != len(data):
            raise StorageCorrupt(f"{path}: data after the last chunk")
        if (
            not isinstance(ids, list)
            or len(ids) != count
            or not all(isinstance(i, str) for i in ids)
            or len(set(ids)) != len(ids)
        ):
            raise StorageCorrupt(f"{path}: ids are not {count} unique strings")
        return ids, records

    def _read_snapshot(self) -> tuple[list[str], np.ndarray]:
        path = self.directory / "snapshot.json"
        empty = np.empty((0, self.record_size), dtype=np.uint8)
        if not path.exists():
            return [], empty
        try:
            snapshot = json.loads(path.read_text(encoding="utf-8"))
            generation = int(snapshot["generation"])
            modality = snapshot["modality"]
            record_size = int(snapshot["record_size"])
            count = int(snapshot.get("count", len(snapshot.get("ids", ()))))
        except (ValueError, KeyError, TypeError) as error:
            raise StorageCorrupt(f"{path}: unreadable snapshot ({error})") from error
        if snapshot.get("format") == 1:
            raise StorageCorrupt(
                f"{path}: an unsealed snapshot of an older version; run `ektp abis rebuild`"
            )
        if snapshot.get("format") != SNAPSHOT_FORMAT:
            raise StorageCorrupt(f"{path}: unknown snapshot format {snapshot.get('format')!r}")
        if modality != self.modality or record_size != self.record_size:
            raise StorageCorrupt(
                f"{path}: holds {modality} records of {record_size} bytes, "
                f"expected {self.modality} records of {self.record_size} bytes"
            )
        if count < 0:
            raise StorageCorrupt(f"{path}: negative count")
        self.generation = generation
        if count == 0 and not self._path("records", generation).exists():
            return [], empty
        return self._read_records(self._path("records", generation), generation, count)

    def _path(self, kind: str, generation: int) -> Path:
        suffix = "bin" if kind == "records" else "log"
        return self.directory / f"{kind}-{generation:06d}.{suffix}"

    def _remove_other_generations(self) -> None:
        for path in self.directory.iterdir():
            match = _GENERATION_FILE.match(path.name)
            stale = match is not None and (
                int(match.group(2)) != self.generation or match.group(3) == "npy"
            )
            if stale or path.name.endswith(".tmp"):
                path.unlink(missing_ok=True)


@contextlib.contextmanager
def _atomic_file(path: Path):
    """Yield a binary file (0600) that replaces ``path`` atomically once written and synced."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        with open(fd, "wb") as handle:
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

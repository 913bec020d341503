"""Printer jobs hold a lock file while they run, so that a job that stopped can be told apart.

A card printer takes 10–30 s per card. The blank is reserved before the printer is called;
if the server dies (a crash, `kill -9`, a power cut) the reservation stays open. The job's
process holds an exclusive `flock` on a file named after the reservation for as long as it
runs; the kernel drops the lock when the process dies, however it dies. Another process on
the same server can then see at once that the job is no longer running, instead of waiting
for the reconciliation timeout. On another server (or where `fcntl` is missing) nothing can
be told and only the reservation's age counts.
"""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

from django.conf import settings

try:
    import fcntl
except ImportError:  # not POSIX: only the age of a reservation tells
    fcntl = None


def this_host() -> str:
    """Name of the server running this process, as stored on reservations."""
    return socket.gethostname()[:100]


def _path(job_id: uuid.UUID) -> Path:
    return Path(settings.EKTP_PRINT_JOB_DIR) / f"{job_id}.lock"


class JobLock:
    """Hold the lock of one printer job (a new id) from before its reservation commits
    until the job has confirmed or given up; the file goes when the job ends."""

    def __init__(self) -> None:
        self.id = uuid.uuid4()
        self._fd: int | None = None

    def __enter__(self) -> JobLock:
        if fcntl is None:
            return self
        path = _path(self.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._fd is None:
            return
        try:
            _path(self.id).unlink(missing_ok=True)
        finally:
            os.close(self._fd)
            self._fd = None


def is_running(job_id: uuid.UUID, host: str) -> bool | None:
    """Whether the printer job of a reservation still runs: True or False when this server
    ran it, None when that cannot be told here."""
    if fcntl is None or host != this_host():
        return None
    try:
        fd = os.open(_path(job_id), os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def forget(job_id: uuid.UUID) -> None:
    """Remove the lock file a dead job left behind."""
    _path(job_id).unlink(missing_ok=True)

"""What /healthz checks: the database takes writes, var/ has room, a worker beats, ABIS is up.

Each check answers with a fixed Bahasa Indonesia sentence, never an error's own text (which
may name hosts, users or paths): /healthz is public.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from ektp.core import worker
from ektp.core.models import WorkerHeartbeat

# A remote ABIS that does not answer its ping within this many seconds is counted as down:
# a load balancer's probe must not hang on it.
ABIS_PING_TIMEOUT = 3.0
PROBE_ID = "healthz-probe"


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str


def database() -> Check:
    """Write a row and roll it back: a read-only or broken database fails here."""
    now = timezone.now()
    try:
        with transaction.atomic():
            WorkerHeartbeat.objects.create(
                worker_id=PROBE_ID, started_at=now, beat_at=now, stopped_at=now
            )
            transaction.set_rollback(True)
    except DatabaseError as error:
        return Check(False, f"basis data tidak dapat ditulis ({type(error).__name__})")
    return Check(True, "basis data dapat ditulis")


def disk() -> Check:
    """Compare the free space of the disk that holds var/ with EKTP_HEALTHZ_MIN_FREE_MB."""
    minimum = int(settings.EKTP_HEALTHZ_MIN_FREE_MB)
    try:
        free = shutil.disk_usage(Path(settings.VAR_DIR)).free // (1024 * 1024)
    except OSError as error:
        return Check(False, f"ruang disk var/ tidak terbaca ({type(error).__name__})")
    if free < minimum:
        return Check(False, f"disk var/ hampir penuh: sisa {free} MiB, batas {minimum} MiB")
    return Check(True, f"sisa {free} MiB")


def task_worker(state: worker.WorkerState) -> Check:
    """A worker must have beaten within EKTP_WORKER_GONE_AFTER_SECONDS, once one ever ran here;
    on Redis Queue, a worker must listen on the queue."""
    from ektp.core import redisqueue

    if redisqueue.in_use():
        return Check(*redisqueue.workers())
    seconds = int(worker.gone_after().total_seconds())
    if not state.ever_seen:
        return Check(True, "belum pernah ada pekerja tugas; tidak diperiksa")
    if not state.alive:
        return Check(False, f"pekerja tugas tidak berdetak dalam {seconds} detik terakhir")
    return Check(True, "pekerja tugas berdetak")


def abis(state: worker.WorkerState) -> Check:
    """Ping a remote ABIS; an in-process gallery is asked where it lives (here or a worker)."""
    url = settings.ABIS_URL
    if url:
        from ektp.abis.client import RemoteAbis

        client = RemoteAbis(url, timeout=ABIS_PING_TIMEOUT)
        try:
            answer = client.ping()
        except Exception as error:  # refused, timed out, or an answer of the wrong shape
            return Check(False, f"ABIS jarak jauh tidak menjawab ({type(error).__name__})")
        finally:
            client.close()
        if not isinstance(answer, dict) or answer.get("status") != "ok":
            return Check(False, "ABIS jarak jauh tidak menjawab ok")
        return Check(True, "ABIS jarak jauh menjawab")
    from ektp.dedup.engine import gallery_state, open_engine

    if open_engine() is not None:
        loaded, _ = gallery_state()
        if loaded:
            return Check(True, "galeri ABIS dimuat di proses ini")
        return Check(False, "galeri ABIS di proses ini tidak menjawab")
    reports = [loaded for loaded, _ in state.galleries if loaded is not None]
    if any(reports):
        return Check(True, "galeri ABIS dimuat di pekerja tugas")
    if reports:
        return Check(False, "galeri ABIS belum dimuat di pekerja tugas")
    return Check(True, "tidak ada pekerja tugas yang memuat galeri; tidak diperiksa")


def report() -> tuple[bool, dict]:
    """Run every check; return whether all passed and the answer /healthz gives."""
    state = worker.worker_state()
    checks = {
        "database": database(),
        "disk": disk(),
        "worker": task_worker(state),
        "abis": abis(state),
    }
    failing = [name for name, check in checks.items() if not check.ok]
    body = {
        "status": "ok" if not failing else "gagal",
        "failing": failing,
        "checks": {name: {"ok": c.ok, "detail": c.detail} for name, c in checks.items()},
    }
    return not failing, body

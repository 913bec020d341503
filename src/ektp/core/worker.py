"""The task worker's heartbeat, and taking up again the tasks that a dead worker left RUNNING.

django-tasks-db marks a task RUNNING when a worker claims it and never looks at it again: after
``kill -9`` (or a power cut) the task stays RUNNING forever. Every ``ektp db_worker`` therefore
writes a heartbeat row every few seconds (``WorkerHeartbeat``); a RUNNING task that started
longer ago than EKTP_TASK_RECLAIM_AFTER_SECONDS and whose worker has not beaten within
EKTP_WORKER_GONE_AFTER_SECONDS is put back as READY, by its id, through the library's public
model. A task under which workers died EKTP_TASK_MAX_RUNS times is marked failed instead.
Every task is safe to run twice (see each app's ``tasks.py``), so running one again is harmless.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from ektp.core.models import WorkerHeartbeat

log = logging.getLogger(__name__)

PRUNE_AFTER = dt.timedelta(days=7)


class WorkerLost(RuntimeError):
    """The worker running a task died under it (the reason recorded on a task given up)."""


def heartbeat_interval() -> float:
    return float(settings.EKTP_WORKER_HEARTBEAT_SECONDS)


def gone_after() -> dt.timedelta:
    return dt.timedelta(seconds=float(settings.EKTP_WORKER_GONE_AFTER_SECONDS))


def reclaim_after() -> dt.timedelta:
    return dt.timedelta(seconds=float(settings.EKTP_TASK_RECLAIM_AFTER_SECONDS))


def max_runs() -> int:
    return int(settings.EKTP_TASK_MAX_RUNS)


def beat(
    *,
    worker_id: str,
    started_at: dt.datetime,
    now: dt.datetime | None = None,
    abis: tuple[bool, str] | None = None,
) -> None:
    """Record that a worker is alive now (and, with ``abis``, whether its gallery is loaded)."""
    now = now or timezone.now()
    state = {"abis_loaded": None, "abis_note": ""}
    if abis is not None:
        state = {"abis_loaded": abis[0], "abis_note": abis[1][:200]}
    with transaction.atomic():
        updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(
            beat_at=now, stopped_at=None, **state
        )
        if not updated:
            WorkerHeartbeat.objects.create(
                worker_id=worker_id,
                hostname=socket.gethostname()[:255],
                pid=os.getpid(),
                started_at=started_at,
                beat_at=now,
                **state,
            )


def gallery_state() -> tuple[bool, str] | None:
    """Load and ping the in-process ABIS gallery, which lives in the worker that runs
    penunggalan; None when the ABIS is remote (/healthz pings that one itself)."""
    if settings.ABIS_URL:
        return None
    from ektp.dedup.engine import gallery_state as probe

    return probe()


def stopped(*, worker_id: str) -> None:
    """Record that a worker stopped on purpose (it is gone, and nothing is wrong)."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).update(stopped_at=timezone.now())


def live_worker_ids(*, now: dt.datetime | None = None) -> set[str]:
    """Return the ids of the workers that beat recently and did not stop."""
    cutoff = (now or timezone.now()) - gone_after()
    return set(
        WorkerHeartbeat.objects.filter(beat_at__gte=cutoff, stopped_at__isnull=True).values_list(
            "worker_id", flat=True
        )
    )


@dataclass(frozen=True)
class WorkerState:
    """What /healthz says about the workers: whether one ever ran here, and whether one is alive."""

    ever_seen: bool
    alive: bool
    last_beat: dt.datetime | None
    # What the live workers say of the in-process ABIS gallery: (loaded, note) pairs.
    galleries: tuple[tuple[bool | None, str], ...] = ()


def worker_state(*, now: dt.datetime | None = None) -> WorkerState:
    """Tell whether a worker ever beat on this install and whether one beat within the limit."""
    cutoff = (now or timezone.now()) - gone_after()
    running = WorkerHeartbeat.objects.filter(stopped_at__isnull=True)
    last = running.order_by("-beat_at").values_list("beat_at", flat=True).first()
    ever = last is not None or WorkerHeartbeat.objects.exists()
    galleries = tuple(running.filter(beat_at__gte=cutoff).values_list("abis_loaded", "abis_note"))
    return WorkerState(
        ever_seen=ever,
        alive=last is not None and last >= cutoff,
        last_beat=last,
        galleries=galleries,
    )


@dataclass
class Reclaimed:
    """The tasks put back in the queue, and those given up after too many dead workers."""

    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def reclaim_stale_tasks(*, now: dt.datetime | None = None) -> Reclaimed:
    """Put back the RUNNING tasks whose worker is gone; give up those that killed too many."""
    now = now or timezone.now()
    live = live_worker_ids(now=now)
    result = Reclaimed()
    candidates = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=now - reclaim_after()
    ).only("id", "started_at", "worker_ids", "task_path")
    for row in candidates:
        workers = list(row.worker_ids or [])
        if workers and workers[-1] in live:
            continue  # still being run by a live worker: a long task, not a lost one
        # Only the run this function saw: a worker that claimed the task again since is left be.
        same_run = DBTaskResult.objects.filter(
            id=row.id, status=TaskResultStatus.RUNNING, started_at=row.started_at
        )
        if len(workers) >= max_runs():
            error = WorkerLost(
                f"Pekerja tugas mati {len(workers)} kali saat menjalankan tugas ini; "
                "tugas tidak diulang lagi."
            )
            if same_run.update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
                traceback=f"{WorkerLost.__qualname__}: {error}\n",
                return_value=None,
            ):
                result.failed.append(str(row.id))
                log.error("task %s (%s) given up: %s", row.id, row.task_path, error)
            continue
        if same_run.update(status=TaskResultStatus.READY, started_at=None):
            result.requeued.append(str(row.id))
            log.warning(
                "task %s (%s) taken up again: worker %s is gone",
                row.id,
                row.task_path,
                workers[-1] if workers else "?",
            )
    WorkerHeartbeat.objects.filter(beat_at__lt=now - PRUNE_AFTER).exclude(
        worker_id__in=WorkerHeartbeat.objects.order_by("-beat_at").values("worker_id")[:1]
    ).delete()
    return result


def queued_or_running(task) -> list[dict]:
    """Return the keyword arguments of a task's runs that are queued or running (by path)."""
    from ektp.core import redisqueue

    if redisqueue.in_use():
        return redisqueue.queued_or_running(task)
    rows = DBTaskResult.objects.filter(
        status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
        task_path=task.module_path,
    ).values_list("args_kwargs", flat=True)
    return [(row or {}).get("kwargs") or {} for row in rows]


class Pulse(threading.Thread):
    """Beat for one worker every EKTP_WORKER_HEARTBEAT_SECONDS and take up stale tasks."""

    def __init__(self, worker_id: str) -> None:
        super().__init__(name=f"heartbeat-{worker_id[:8]}", daemon=True)
        self.worker_id = worker_id
        self.started_at = timezone.now()
        self._stop_event = threading.Event()

    def run(self) -> None:
        try:
            loading = None if settings.ABIS_URL else (False, "galeri dimuat")
            try:  # say "alive" before loading the gallery, which may take a while
                beat(worker_id=self.worker_id, started_at=self.started_at, abis=loading)
            except Exception:
                log.exception("worker heartbeat failed")
            # Looking for lost tasks reads the task table: often enough to take one up soon
            # after the limit, not at every beat.
            every = max(heartbeat_interval(), reclaim_after().total_seconds() / 2)
            last_reclaim = float("-inf")
            while not self._stop_event.is_set():
                try:
                    abis = gallery_state()
                    beat(worker_id=self.worker_id, started_at=self.started_at, abis=abis)
                    if time.monotonic() - last_reclaim >= every:
                        reclaim_stale_tasks()
                        last_reclaim = time.monotonic()
                except Exception:  # a busy or briefly unreachable database: beat again later
                    log.exception("worker heartbeat failed")
                self._stop_event.wait(heartbeat_interval())
        finally:
            connection.close()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=heartbeat_interval() + 5)

"""Background work that a user started: create its row, record its progress, end it, read it.

A view creates the job (``start``) and hands its id to the task; the task wraps its body in
``running`` and reports each step with ``Progress.step``. Every write is its own short
statement, outside the task's transactions, so that the page polling ``core:job`` sees it at
once. A task run twice (see ``ektp.core.worker``) simply starts the count again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator

from django.db.models import Q
from django.utils import timezone

from ektp.core.errors import DomainError
from ektp.core.models import Job, JobState, Role, User

UNEXPECTED = "Terjadi kesalahan tak terduga di pekerja tugas. Coba lagi; bila berulang, hubungi admin sistem."

# A finished job stays on its page this long, so that the user sees how it ended.
RECENT = dt.timedelta(hours=1)


def start(*, kind: str, title: str, user: User | None, total: int | None = None) -> Job:
    """Create the row of a job that is about to be scheduled (it waits in the queue)."""
    return Job.objects.create(
        kind=kind,
        title=title[:200],
        started_by=user,
        total=total,
        message="Menunggu pekerja tugas.",
    )


class Progress:
    """What a running task says about itself, written to its job row at once."""

    def __init__(self, job_id: uuid.UUID | str | None):
        self.job_id = job_id

    def step(self, done: int, total: int | None, message: str) -> None:
        """Record that ``done`` of ``total`` steps are behind the task, and what it does now."""
        if self.job_id is None:
            return
        if total is not None:
            done = min(done, total)
        Job.objects.filter(pk=self.job_id, state__in=[JobState.QUEUED, JobState.RUNNING]).update(
            state=JobState.RUNNING,
            done=max(done, 0),
            total=total,
            message=message[:250],
            updated_at=timezone.now(),
        )

    def finish(self, message: str, *, result_url: str = "") -> None:
        """End the job well, saying what came of it (and where to see it)."""
        if self.job_id is None:
            return
        now = timezone.now()
        job = Job.objects.filter(pk=self.job_id).only("total").first()
        if job is None:
            return
        Job.objects.filter(pk=self.job_id).update(
            state=JobState.DONE,
            done=job.total or 0,
            message=message[:250],
            result_url=result_url[:250],
            finished_at=now,
            updated_at=now,
        )

    def fail(self, message: str) -> None:
        """End the job with the reason it could not be done, in words for the user."""
        if self.job_id is None:
            return
        now = timezone.now()
        Job.objects.filter(pk=self.job_id).update(
            state=JobState.FAILED, message=message[:250], finished_at=now, updated_at=now
        )


@contextlib.contextmanager
def running(job_id: uuid.UUID | str | None) -> Iterator[Progress]:
    """Run a task's body as the job ``job_id``: a domain error or a crash ends it FAILED.

    A domain error is the user's to read and is not raised again (the task did what it could);
    anything else is raised again, so that the task queue records the failure too.
    """
    progress = Progress(job_id)
    if job_id is not None:
        Job.objects.filter(pk=job_id).update(
            state=JobState.RUNNING,
            done=0,
            finished_at=None,
            message="Dimulai.",
            updated_at=timezone.now(),
        )
    try:
        yield progress
    except DomainError as error:
        progress.fail(error.message)
    except Exception:
        progress.fail(UNEXPECTED)
        raise


def job_for(*, user: User, job_id: uuid.UUID) -> Job | None:
    """Return a job its user may follow: the one who started it, or a system admin."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        return None
    if job.started_by_id == user.pk or user.role == Role.SYSTEM_ADMIN:
        return job
    return None


def latest(*, user: User, kind: str, within: dt.timedelta = RECENT) -> Job | None:
    """Return the user's latest job of a kind if it still runs or ended within ``within``."""
    since = timezone.now() - within
    return (
        Job.objects.filter(started_by=user, kind=kind)
        .filter(Q(finished_at__isnull=True) | Q(finished_at__gte=since))
        .order_by("-created_at")
        .first()
    )


def as_json(job: Job) -> dict:
    """The job as the progress bar reads it."""
    return {
        "id": str(job.id),
        "title": job.title,
        "state": job.state,
        "state_label": str(job.get_state_display()),
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "message": job.message,
        "finished": job.finished,
        "result_url": job.result_url,
    }

"""Background work for coverage: the daily snapshot."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

from ektp.coverage.services import take_snapshots


@task()
def snapshot_coverage(day: str | None = None) -> int:
    """Store today's (or the given ISO day's) coverage of every region; safe to run twice."""
    when = dt.date.fromisoformat(day) if day else timezone.localdate()
    return take_snapshots(day=when)

"""Background work for coverage: the daily snapshot, today's village counts counted ahead."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

from ektp.coverage.services import take_snapshots
from ektp.coverage.stats import village_counts


@task()
def snapshot_coverage(day: str | None = None) -> int:
    """Store today's (or the given ISO day's) coverage of every region; safe to run twice."""
    when = dt.date.fromisoformat(day) if day else timezone.localdate()
    return take_snapshots(day=when)


@task()
def warm_counts(district: str) -> int:
    """Count today's villages of a district and of the nation into the kept rows (after the
    day turned, or writes in bulk); safe to run twice. Returns the number of villages with
    wajib KTP in the district."""
    today = timezone.localdate()
    village_counts(as_of=today, within=None)
    return len(village_counts(as_of=today, within=district))

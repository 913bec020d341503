"""Background work for coverage: the daily snapshot, the counts kept ready after a write."""

from __future__ import annotations

import datetime as dt

from django.core.cache import cache
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
    """Compute today's village counts of a district and of the nation into the cache (after
    a write made them stale); safe to run twice. Returns the number of villages counted."""
    from ektp.coverage.receivers import warm_queued_key

    cache.delete(warm_queued_key(district))  # writes from now on queue another warm-up
    today = timezone.localdate()
    village_counts(as_of=today, within=None)
    return len(village_counts(as_of=today, within=district))

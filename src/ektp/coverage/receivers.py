"""Keep the cached coverage counts true: a write to residents (or to their status history)
makes them stale at once and again when it commits, and the district's counts are computed again in the
background (`tasks.warm_counts`), so that the next dashboard reads them ready."""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from ektp.core.ratelimit import BACKEND_ERRORS
from ektp.coverage.models import Target
from ektp.coverage.stats import forget_counts
from ektp.enrollment.models import StatusChange
from ektp.regions.signals import region_change_applied
from ektp.residents.models import Resident

# While a warm-up of a district waits in the queue, more writes need no other one: it reads
# the counts when it runs. The mark lapses if no worker takes the task.
WARM_QUEUED_SECONDS = 600


def warm_queued_key(district: str) -> str:
    return f"coverage:warm-queued:{district}"


def _after_commit(district: str) -> None:
    forget_counts()
    try:
        first = bool(district) and cache.add(warm_queued_key(district), 1, WARM_QUEUED_SECONDS)
    except BACKEND_ERRORS:  # the cache is down: its counts cannot be read either
        first = False
    if first:
        from ektp.coverage.tasks import warm_counts

        warm_counts.enqueue(district=district)


def _stale(district: str) -> None:
    # At once, so that the writing transaction itself reads its own change, and again after
    # commit, so that counts another request read from the old rows meanwhile are not kept.
    forget_counts()
    transaction.on_commit(lambda: _after_commit(district))


@receiver(post_save, sender=Resident, dispatch_uid="coverage_counts_resident_saved")
@receiver(post_delete, sender=Resident, dispatch_uid="coverage_counts_resident_deleted")
def resident_changed(sender, instance: Resident, raw: bool = False, **kwargs) -> None:
    if not raw:
        _stale(instance.kabkota_code or "")


@receiver(post_save, sender=StatusChange, dispatch_uid="coverage_counts_status_saved")
@receiver(post_delete, sender=StatusChange, dispatch_uid="coverage_counts_status_deleted")
def status_changed(sender, instance: StatusChange, raw: bool = False, **kwargs) -> None:
    if not raw:
        _stale("")  # the resident's own save names the district


@receiver(region_change_applied, dispatch_uid="coverage_region_change")
def rebase_on_region_change(sender, *, change_set, successors, **kwargs):
    """A decree moved residents in bulk (past the post_save signals): targets of an ended
    region follow its successor, and the counts go stale now and after commit."""
    for old, new in successors.items():
        Target.objects.filter(region_id=old).update(region_id=new)
    _stale("")

"""Keep the coverage counts true. A write to a resident marks the kept counts of its village
(and of the village it left) stale inside the writing transaction (`stats.bump_villages`):
the next reader counts those villages again, and only those. The cached counts of past days
are made stale at once and again when the write commits."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from ektp.coverage.models import Target
from ektp.coverage.stats import bump_villages, bump_villages_within, forget_counts
from ektp.enrollment.models import StatusChange
from ektp.regions.signals import region_change_applied
from ektp.residents.models import Resident

# The village a resident lived in when a save that may move them began.
LEFT_VILLAGE = "coverage_left_village"


def _stale() -> None:
    # At once, so that the writing transaction itself reads its own change, and again after
    # commit, so that counts another request read from the old rows meanwhile are not kept.
    forget_counts()
    transaction.on_commit(forget_counts)


@receiver(pre_save, sender=Resident, dispatch_uid="coverage_counts_resident_moving")
def resident_saving(sender, instance: Resident, raw: bool = False, update_fields=None, **kwargs):
    if raw or instance._state.adding:
        return
    if update_fields is not None and not {"address_region", "address_region_id"} & set(
        update_fields
    ):
        return
    left = (
        Resident.objects.filter(pk=instance.pk).values_list("address_region_id", flat=True).first()
    )
    setattr(instance, LEFT_VILLAGE, left)


@receiver(post_save, sender=Resident, dispatch_uid="coverage_counts_resident_saved")
@receiver(post_delete, sender=Resident, dispatch_uid="coverage_counts_resident_deleted")
def resident_changed(sender, instance: Resident, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    bump_villages([instance.address_region_id, getattr(instance, LEFT_VILLAGE, None)])
    _stale()


@receiver(post_save, sender=StatusChange, dispatch_uid="coverage_counts_status_saved")
@receiver(post_delete, sender=StatusChange, dispatch_uid="coverage_counts_status_deleted")
def status_changed(sender, instance: StatusChange, raw: bool = False, **kwargs) -> None:
    # The status history corrects past days only: today's kept counts read the status itself.
    if not raw:
        _stale()


# Residents of a decree are read in chunks of this many ids (SQLite's limit on parameters).
CHUNK = 5000


@receiver(region_change_applied, dispatch_uid="coverage_region_change")
def rebase_on_region_change(sender, *, change_set, successors, resident_ids=(), **kwargs):
    """A decree moved residents in bulk (past the post_save signals): targets of an ended
    region follow its successor; the kept counts of every village in the kecamatan it touched
    (the villages they left and those they went to) go stale in the decree's transaction."""
    for old, new in successors.items():
        Target.objects.filter(region_id=old).update(region_id=new)
    villages = {*successors, *successors.values()}
    ids = list(resident_ids)
    for start in range(0, len(ids), CHUNK):
        villages.update(
            Resident.objects.filter(pk__in=ids[start : start + CHUNK])
            .values_list("address_region_id", flat=True)
            .distinct()
        )
    bump_villages(villages)
    bump_villages_within({code[:8] for code in villages if code})
    _stale()

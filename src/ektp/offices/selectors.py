"""Reads for offices, points and devices, limited to the reader's jurisdiction."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from ektp.appointments.models import Counter
from ektp.core.models import User
from ektp.offices.models import Device, DeviceStatusChange, Office, ServicePoint


def _office_q(user: User, prefix: str = "") -> Q:
    code = user.jurisdiction_code
    if code is None:
        return Q()
    return Q(**{f"{prefix}region_id": code}) | Q(
        **{f"{prefix}region__code__startswith": code + "."}
    )


def offices_for(user: User) -> QuerySet[Office]:
    """Return the offices this user may see."""
    return Office.objects.filter(_office_q(user)).order_by("name")


def office_for(user: User, region_code: str) -> Office | None:
    """Return the office of a kab/kota if it lies in the user's jurisdiction."""
    return offices_for(user).filter(region_id=region_code).first()


def office_choices(user: User) -> QuerySet:
    """Return (kab/kota code, office name) of the offices this user may see, by code: the
    choices of a page about one district (RegionNotChosen)."""
    return offices_for(user).order_by("region_id").values_list("region_id", "name")


def points_for(user: User) -> QuerySet[ServicePoint]:
    """Return the service points this user may see, with their kit counts."""
    kits = Q(devices__kind=Device.Kind.RECORDING_KIT)
    return (
        ServicePoint.objects.filter(_office_q(user, "office__"))
        .select_related("office", "region")
        .annotate(
            kit_count=Count("devices", filter=kits),
            working_kit_count=Count("devices", filter=kits & Q(devices__status="active")),
            printer_count=Count("devices", filter=Q(devices__kind=Device.Kind.CARD_PRINTER)),
        )
        .order_by("office__name", "kind", "code")
    )


def get_point(*, user: User, pk) -> ServicePoint | None:
    """Return one service point if the user may see it."""
    return points_for(user).filter(pk=pk).first()


def devices_for(user: User) -> QuerySet[Device]:
    """Return the devices this user may see."""
    return Device.objects.filter(_office_q(user, "service_point__office__")).select_related(
        "service_point__office"
    )


def device_history(device: Device) -> QuerySet[DeviceStatusChange]:
    """Return a device's status changes, newest first."""
    return device.status_changes.select_related("changed_by").order_by("-changed_at")


def staff_for(user: User) -> QuerySet[User]:
    """Return the staff accounts in this user's jurisdiction, by role then username."""
    code = user.jurisdiction_code
    qs = User.objects.select_related("region")
    if code is not None:
        qs = qs.filter(Q(region_id=code) | Q(region__code__startswith=code + "."))
    return qs.order_by("role", "username")


def counters_of_point(point: ServicePoint) -> QuerySet:
    """Return every counter of a point, open ones first."""
    return Counter.objects.filter(service_point=point).order_by("-is_active", "name")

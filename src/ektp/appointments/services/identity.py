"""Who is asking: a resident by NIK and birth date, a booking by its code, a family."""

from __future__ import annotations

import datetime as dt

from ektp.appointments.models import (
    Booking,
)
from ektp.appointments.services.common import (
    IDENTITY_MESSAGE,
    NotIdentified,
    UnknownCode,
    normalise_code,
)
from ektp.residents.models import LifeStatus, Resident
from ektp.residents.nik import InvalidNumber, decode_nik


def checked_nik(nik: str) -> str:
    """Return a well-formed NIK or raise NotIdentified naming the numbering rule."""
    try:
        return decode_nik((nik or "")[:40]).nik
    except InvalidNumber as exc:
        raise NotIdentified(exc.message, rule="nik_format") from None


def identify_resident(*, nik: str, birth_date: dt.date) -> Resident:
    """Return the living resident with this NIK and birth date; the same refusal for any mismatch."""
    nik = checked_nik(nik)
    resident = (
        Resident.objects.filter(nik=nik, birth_date=birth_date, life_status=LifeStatus.ALIVE)
        .select_related("family")
        .first()
    )
    if resident is None:
        raise NotIdentified(IDENTITY_MESSAGE)
    return resident


def booking_by_code(code: str, *, for_update: bool = False) -> Booking:
    """Return the booking with this code or raise UnknownCode."""
    qs = Booking.objects.select_related("window", "window__service_point", "resident")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    booking = qs.filter(code=normalise_code(code)).first()
    if booking is None:
        raise UnknownCode("Kode booking tidak dikenal.")
    return booking


def resident_by_code(code: str) -> Resident:
    """Return the resident a booking code identifies.

    Here the code stands in for NIK and birth date, so an unknown code fails identification
    (422, like a mismatched NIK) rather than naming a missing booking (404)."""
    try:
        return booking_by_code(code).resident
    except UnknownCode as exc:
        raise NotIdentified(exc.message, rule=exc.rule) from None


def family_of(resident: Resident) -> list[Resident]:
    """Return the living members of a resident's KK, the resident first."""
    if resident.family_id is None:
        return [resident]
    others = (
        Resident.objects.filter(family_id=resident.family_id, life_status=LifeStatus.ALIVE)
        .exclude(pk=resident.pk)
        .order_by("birth_date")
    )
    return [resident, *others]

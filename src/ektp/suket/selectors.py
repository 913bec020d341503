"""Reads for suket: lists in the reader's jurisdiction, the public lookup, outstanding counts."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db.models import QuerySet

from ektp.core.access import limit_to_jurisdiction
from ektp.core.models import User
from ektp.offices.models import Office
from ektp.suket import signing
from ektp.suket.models import Suket
from ektp.suket.policy import blanks_in_stock

MAX_NUMBER = 60


def sukets_for(user: User) -> QuerySet[Suket]:
    """Return the suket this user may see."""
    return limit_to_jurisdiction(Suket.objects.all(), user).select_related("office", "officer")


def office_sukets(*, user: User, office: Office, status: str = "", today: dt.date) -> QuerySet:
    """List an office's suket, optionally by current status (expired is derived)."""
    qs = sukets_for(user).filter(office=office)
    if status == Suket.Status.EXPIRED:
        return qs.filter(status__in=[Suket.Status.VALID, Suket.Status.EXPIRED]).exclude(
            status=Suket.Status.VALID, valid_until__gte=today
        )
    if status == Suket.Status.VALID:
        return qs.filter(status=Suket.Status.VALID, valid_until__gte=today)
    if status in Suket.Status.values:
        return qs.filter(status=status)
    return qs


def get_suket(*, user: User, suket_id) -> Suket | None:
    """Return one suket by id if the user may see it."""
    try:
        key = uuid.UUID(str(suket_id))
    except (TypeError, ValueError):
        return None
    return sukets_for(user).select_related("office__region").filter(pk=key).first()


def public_suket(number: str) -> Suket | None:
    """Find a suket by its number for the public verification page."""
    number = (number or "").strip()
    if not number or len(number) > MAX_NUMBER:
        return None
    return Suket.objects.select_related("office__region").filter(number=number).first()


def qr_fields(scanned: str) -> dict:
    """Check what a suket's QR holds (the verification link and the signed payload, or the
    payload alone) with the office public key; return its fields or raise ForgedPayload."""
    text = (scanned or "").strip()
    if "\n" in text:
        text = text.split("\n", 1)[1].strip()
    return signing.verify_qr_payload(text, signing.office_keys().qr_public_keys)


@dataclass(frozen=True)
class Outstanding:
    office: Office
    valid: int
    blanks: int

    @property
    def cover(self) -> bool:
        """Tell whether the blanks in stock could replace every outstanding suket."""
        return self.blanks >= self.valid


def outstanding(office: Office, today: dt.date) -> Outstanding:
    """Count the office's suket still valid against its blanks in stock."""
    valid = Suket.objects.filter(
        office=office, status=Suket.Status.VALID, valid_until__gte=today
    ).count()
    return Outstanding(office=office, valid=valid, blanks=blanks_in_stock(office))

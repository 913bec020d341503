"""Demo stock for a demo office."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from ektp.cards.models import (
    LedgerEntry,
)
from ektp.cards.services.ledger import receive_blanks, transfer_blanks
from ektp.core.models import Role, User
from ektp.offices.models import Office


def ensure_demo_stock(office: Office, *, actor: User | None = None) -> None:
    """Give a demo office a realistic receipt and transfers to its points (idempotent)."""
    if LedgerEntry.objects.filter(office=office, kind=LedgerEntry.Kind.RECEIPT).exists():
        return
    if actor is None:
        actor = (
            User.objects.filter(role=Role.SUPERVISOR, region_id=office.region_id).first()
            or User.objects.filter(role=Role.SYSTEM_ADMIN).first()
        )
        if actor is None:
            actor = User.objects.create(
                username=f"sistem-{office.region_id}", role=Role.SYSTEM_ADMIN, is_active=False
            )
    prefix = office.region_id.replace(".", "")
    start = int(f"{prefix}26{0:08d}") + 1
    received_at = timezone.now() - dt.timedelta(days=40)
    receive_blanks(
        office=office,
        serial_first=str(start),
        serial_last=str(start + 2999),
        source=LedgerEntry.Source.MINISTRY,
        reference=f"DUKCAPIL/BLANGKO/{office.region_id}/2026-01",
        actor=actor,
        at=received_at,
    )
    points = list(office.service_points.filter(is_active=True).order_by("code"))
    for i, point in enumerate(points[:6]):
        transfer_blanks(
            office=office,
            from_point=None,
            to_point=point,
            quantity=300 if i == 0 else 100,
            actor=actor,
            reason="Distribusi awal",
        )

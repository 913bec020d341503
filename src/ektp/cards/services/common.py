"""What every cards service shares: the node, the office's policy, jurisdiction checks."""

from __future__ import annotations

from django.conf import settings

from ektp.cards.errors import (
    CardsError,
    StockInvalid,
)
from ektp.cards.models import (
    CardPolicy,
)
from ektp.core.access import within_jurisdiction
from ektp.core.models import User
from ektp.offices.models import Office, ServicePoint


def node_name() -> str:
    """Return the name of the node (office server or edge laptop) writing ledger rows."""
    return settings.EKTP_NODE_ID


def policy_for(office: Office) -> CardPolicy:
    """Return the office's card policy (the unsaved default when it has none); writes nothing."""
    return CardPolicy.of(office)


def _check_office(actor: User, office: Office) -> None:
    if not within_jurisdiction(actor, office.region_id):
        raise CardsError(f"{office.name} di luar wilayah kerja Anda.")


def _check_point(office: Office, point: ServicePoint | None) -> None:
    if point is not None and point.office_id != office.pk:
        raise StockInvalid(f"Titik layanan {point.name} bukan milik {office.name}.")

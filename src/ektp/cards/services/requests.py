"""Blank requests: drafting and submitting a request for blanks, and what is still owed."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from ektp.cards import rationing
from ektp.cards.errors import (
    CardsError,
    StockInvalid,
)
from ektp.cards.models import (
    BlankRequest,
)
from ektp.cards.services.common import _check_office
from ektp.cards.signals import announce, blank_request_submitted
from ektp.core.models import Role, User
from ektp.offices.models import Office


def draft_blank_request(*, office: Office, actor: User) -> BlankRequest:
    """Draft a request for enough blanks to reach the target cover, with the figures behind it."""
    from ektp.cards.forecast import office_cover

    _check_office(actor, office)
    cover = office_cover(office)
    if cover.suggested_request < 1:
        raise StockInvalid(
            f"Stok cukup untuk target {cover.target_cover_days} hari; tidak perlu permohonan."
        )
    return BlankRequest.objects.create(
        office=office,
        quantity=cover.suggested_request,
        target_cover_days=cover.target_cover_days,
        figures=cover.as_figures(),
        created_by=actor,
    )


def submit_blank_request(*, request: BlankRequest, actor: User) -> BlankRequest:
    """Let the head of office submit a draft request."""
    if actor.role not in (Role.SUPERVISOR, Role.SYSTEM_ADMIN):
        raise CardsError(
            "Hanya kepala dinas (supervisor) yang dapat mengajukan permohonan blangko."
        )
    with transaction.atomic():
        request = BlankRequest.objects.select_for_update().get(pk=request.pk)
        _check_office(actor, request.office)
        if request.status != BlankRequest.Status.DRAFT:
            raise CardsError(f"Permohonan ini sudah {request.get_status_display().lower()}.")
        request.status = BlankRequest.Status.SUBMITTED
        request.submitted_at = timezone.now()
        request.submitted_by = actor
        request.save(update_fields=["status", "submitted_at", "submitted_by"])
        announce(blank_request_submitted, blank_request=request)
        transaction.on_commit(lambda: rationing.forget(request.office))
    return request


def outstanding_requested(office: Office) -> int:
    """Blanks requested and submitted but not yet delivered."""
    open_ = BlankRequest.objects.filter(
        office=office,
        status__in=[BlankRequest.Status.SUBMITTED, BlankRequest.Status.PARTIALLY_DELIVERED],
    ).aggregate(q=Sum("quantity"), d=Sum("delivered_quantity"))
    return max((open_["q"] or 0) - (open_["d"] or 0), 0)

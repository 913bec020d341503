"""Reads for cards: offices in reach, the print queue, stock by location, the ledger."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from ektp.cards import jobs
from ektp.cards.models import (
    Blank,
    BlankRequest,
    CardPolicy,
    CardPrint,
    LedgerEntry,
    PrintReason,
    PrintReservation,
    ReprintRequest,
)
from ektp.cards.rationing import QueueItem, Shortage, category, order_and_cap
from ektp.offices.models import Office, ServicePoint
from ektp.residents.models import KtpStatus, Resident

QUEUE_LIMIT = 500


def point_of(office: Office, point_id) -> ServicePoint | None:
    """Return the office's service point with this id, or None."""
    try:
        return office.service_points.filter(pk=point_id).first()
    except (ValueError, TypeError, ValidationError):
        return None


def on_hand(office: Office, point: ServicePoint | None = None) -> int:
    """Count blanks in stock at one place (None = the office store)."""
    return Blank.objects.filter(
        office=office, service_point=point, state=Blank.State.IN_STOCK
    ).count()


@dataclass(frozen=True)
class StockRow:
    point: ServicePoint | None
    place: str
    in_stock: int


def stock_by_location(office: Office) -> list[StockRow]:
    """On hand at the store and each service point, derived from the blanks."""
    counts = dict(
        Blank.objects.filter(office=office, state=Blank.State.IN_STOCK)
        .values("service_point_id")
        .annotate(n=Count("id"))
        .values_list("service_point_id", "n")
    )
    rows = [StockRow(None, "Gudang kantor", counts.get(None, 0))]
    for point in office.service_points.order_by("code"):
        rows.append(StockRow(point, point.name, counts.get(point.pk, 0)))
    return rows


def blank_totals(office: Office) -> dict[str, int]:
    """Count the office's blanks by state."""
    rows = Blank.objects.filter(office=office).values("state").annotate(n=Count("id"))
    totals = dict.fromkeys(Blank.State.values, 0)
    totals.update({r["state"]: r["n"] for r in rows})
    return totals


def ledger(office: Office, *, point: ServicePoint | None = None, kind: str = "") -> QuerySet:
    """The office's ledger, newest first, optionally for one point or one kind."""
    qs = LedgerEntry.objects.filter(Q(office=office) | Q(counterpart_office=office))
    if point is not None:
        qs = qs.filter(Q(from_point=point) | Q(to_point=point))
    if kind:
        qs = qs.filter(kind=kind)
    return qs.select_related(
        "from_point", "to_point", "actor", "counterpart_office", "device"
    ).order_by("-at")


def pending_loans(office: Office) -> QuerySet[LedgerEntry]:
    """Loans sent to this office and not yet received."""
    return LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.LOAN_OUT, counterpart_office=office, loan_in_entry__isnull=True
    ).select_related("office")


def print_queue(
    office: Office, point: ServicePoint | None = None, *, limit: int = QUEUE_LIMIT
) -> tuple[list[QueueItem], Shortage]:
    """The PRR residents and open reprint requests, in print order, capped under shortage."""
    policy = CardPolicy.objects.filter(office=office).first() or CardPolicy(office=office)
    residents = Resident.objects.filter(
        kabkota_code=office.region_id, ktp_status=KtpStatus.PRINT_READY_RECORD
    )
    requests = ReprintRequest.objects.filter(
        office=office,
        status__in=[ReprintRequest.Status.WAITING, ReprintRequest.Status.DEFERRED],
    ).select_related("resident")
    if point is not None and point.region_id and point.kind != ServicePoint.Kind.OFFICE:
        residents = residents.filter(kecamatan_code=point.region_id)
        requests = requests.filter(
            Q(service_point=point)
            | Q(service_point__isnull=True, resident__kecamatan_code=point.region_id)
        )
    printing = PrintReservation.objects.filter(status=PrintReservation.Status.PRINTING)
    requests = requests.exclude(resident__in=printing.values("resident"))
    residents = (
        residents.exclude(
            reprint_requests__status__in=[
                ReprintRequest.Status.WAITING,
                ReprintRequest.Status.DEFERRED,
            ]
        )
        .exclude(pk__in=printing.values("resident"))
        .order_by("recorded_on", "nik")[:limit]
    )
    items = [
        QueueItem(
            resident=r,
            request=None,
            reason=PrintReason.NEW,
            category=category(
                reason=PrintReason.NEW,
                resident=r,
                old_card_usable=False,
                election_date=policy.election_date,
            ),
            waiting_since=r.recorded_on,
        )
        for r in residents
    ]
    for req in requests[:limit]:
        item = QueueItem(
            resident=req.resident,
            request=req,
            reason=req.reason,
            category=category(
                reason=req.reason,
                resident=req.resident,
                old_card_usable=req.old_card_usable,
                election_date=policy.election_date,
            ),
            waiting_since=req.created_at.date(),
        )
        if req.status == ReprintRequest.Status.DEFERRED:
            item.note = req.deferral_reason
        items.append(item)
    return order_and_cap(items, office=office)


def awaiting_hand_over(office: Office, point: ServicePoint | None = None) -> QuerySet[CardPrint]:
    """Cards printed and not yet handed over."""
    qs = CardPrint.objects.filter(
        service_point__office=office, voided_at__isnull=True, handed_over_at__isnull=True
    )
    if point is not None:
        qs = qs.filter(service_point=point)
    return qs.select_related("resident", "blank", "service_point").order_by("printed_at")


def requests_of(office: Office) -> QuerySet[BlankRequest]:
    """The office's blank requests, newest first."""
    return BlankRequest.objects.filter(office=office).select_related("created_by", "submitted_by")


def awaits_reconciliation(reservation: PrintReservation, *, now: dt.datetime | None = None) -> bool:
    """Whether an open reservation waits for an operator to say what became of the card: its
    printer job is no longer running, or it has not answered within the setting's minutes."""
    if reservation.status != PrintReservation.Status.PRINTING:
        return False
    limit = dt.timedelta(minutes=settings.EKTP_PRINT_RECONCILE_AFTER_MINUTES)
    if reservation.reserved_at <= (now or timezone.now()) - limit:
        return True
    return jobs.is_running(reservation.pk, reservation.host) is False


@dataclass(frozen=True)
class OpenPrint:
    reservation: PrintReservation
    awaiting: bool


def open_prints(office: Office, point: ServicePoint | None = None) -> list[OpenPrint]:
    """The office's blanks on a printer now, oldest first, each marked when it awaits
    reconciliation (its job stopped or took too long) rather than still printing."""
    qs = PrintReservation.objects.filter(
        service_point__office=office, status=PrintReservation.Status.PRINTING
    )
    if point is not None:
        qs = qs.filter(service_point=point)
    qs = qs.select_related("blank", "resident", "service_point", "printer", "operator")
    now = timezone.now()
    return [OpenPrint(r, awaits_reconciliation(r, now=now)) for r in qs.order_by("reserved_at")]


def reservation_of(office: Office, reservation_id) -> PrintReservation | None:
    """Return the office's print reservation with this id, or None."""
    try:
        return (
            PrintReservation.objects.filter(pk=reservation_id, service_point__office=office)
            .select_related("blank", "resident", "service_point", "printer", "operator")
            .first()
        )
    except (ValueError, TypeError, ValidationError):
        return None


def reconciled_prints(office: Office) -> QuerySet[PrintReservation]:
    """Reservations settled on the reconciliation page, newest first."""
    return (
        PrintReservation.objects.filter(service_point__office=office, reconciled=True)
        .select_related("blank", "resident", "service_point", "resolved_by")
        .order_by("-resolved_at")
    )

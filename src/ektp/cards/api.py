"""API for cards: print queue, printing, hand-over, stock, ledger, days of cover."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from ektp.cards import forecast, selectors, services
from ektp.cards.models import CardPrint, LedgerEntry, PrintReservation, ReprintRequest
from ektp.cards.printers import default_printer
from ektp.core.models import Role
from ektp.offices.models import Office, ServicePoint
from ektp.offices.selectors import office_for
from ektp.regions.fields import KabKotaCodeIn
from ektp.residents.nik import NikIn
from ektp.residents.selectors import get_resident_by_nik

router = Router(tags=["cards"])

PRINTER_ROLES = {Role.OPERATOR, Role.SUPERVISOR, Role.SYSTEM_ADMIN}
READER_ROLES = PRINTER_ROLES | {Role.PROVINCE_ADMIN}


def _office(request, kab: str) -> Office:
    if request.auth.role not in READER_ROLES:
        raise HttpError(403, "Peran Anda tidak boleh melihat data blangko.")
    office = office_for(request.auth, kab)
    if office is None:
        raise HttpError(404, "Kantor Disdukcapil tidak ditemukan di wilayah kerja Anda.")
    return office


def _printer_role(request) -> None:
    if request.auth.role not in PRINTER_ROLES:
        raise HttpError(403, "Peran Anda tidak boleh mencetak atau memindahkan blangko.")


class OfficeIn(Schema):
    kab: KabKotaCodeIn


class QueueIn(OfficeIn):
    point: uuid.UUID | None = None
    q: str = Field("", max_length=100, description="NIK (atau awalnya) atau nama")
    page: int = Field(1, ge=1)
    limit: int = Field(50, ge=1, le=200)


class QueueItemOut(Schema):
    position: int
    nik: str
    name: str
    reason: str
    category: str
    request_id: uuid.UUID | None
    waiting_since: dt.date | None
    decision: str
    note: str


class QueueOut(Schema):
    prr: int
    total: int
    page: int
    pages: int
    short: bool
    daily_allowance: int | None
    printed_today: int | None
    left_today: int | None
    items: list[QueueItemOut]


@router.get("/queue", response=QueueOut)
def queue(request, params: Query[QueueIn]):
    """Return one page of the print queue in print order, with the ration's decisions and
    the office's PRR count (the same as the dashboard's)."""
    office = _office(request, params.kab)
    point = selectors.point_of(office, params.point) if params.point else None
    if params.point and point is None:
        raise HttpError(404, "Titik layanan tidak ditemukan di kantor ini.")
    result = selectors.print_queue(
        office, point, search=params.q, page=params.page, per_page=params.limit
    )
    state = result.shortage
    return {
        "prr": result.prr,
        "total": result.page.paginator.count,
        "page": result.page.number,
        "pages": result.page.paginator.num_pages,
        "short": state.short,
        "daily_allowance": state.daily_allowance,
        "printed_today": state.printed_today,
        "left_today": result.left_today,
        "items": [
            {
                "position": it.position,
                "nik": it.resident.nik,
                "name": it.resident.name,
                "reason": it.reason,
                "category": it.category,
                "request_id": it.request.pk if it.request else None,
                "waiting_since": it.waiting_since,
                "decision": it.decision,
                "note": it.note,
            }
            for it in result.items
        ],
    }


class PrintIn(Schema):
    point: uuid.UUID
    nik: NikIn | None = None
    request_id: uuid.UUID | None = None
    serial: str | None = Field(None, pattern=r"^[0-9]{6,20}$")


class CardOut(Schema):
    id: uuid.UUID
    serial: str
    nik: str
    reason: str
    printed_at: dt.datetime
    service_point: str
    handed_over_at: dt.datetime | None = None
    received_by_name: str = ""

    @staticmethod
    def resolve_serial(obj) -> str:
        return obj.blank.serial

    @staticmethod
    def resolve_nik(obj) -> str:
        return obj.resident.nik

    @staticmethod
    def resolve_service_point(obj) -> str:
        return obj.service_point.name


class ErrorOut(Schema):
    detail: str


@router.post("/print", response={201: CardOut, 409: ErrorOut, 422: ErrorOut})
def print_card(request, payload: PrintIn):
    """Print one card for a PRR resident (nik) or a reprint request (request_id).

    The blank is reserved before the printer runs; 409 when a card for this resident is
    already on a printer (see /reservations)."""
    _printer_role(request)
    if bool(payload.nik) == bool(payload.request_id):
        raise HttpError(422, "Isi salah satu: nik atau request_id.")
    point = ServicePoint.objects.select_related("office").filter(pk=payload.point).first()
    if point is None or office_for(request.auth, point.office.region_id) is None:
        raise HttpError(404, "Titik layanan tidak ditemukan di wilayah kerja Anda.")
    if payload.request_id:
        target = ReprintRequest.objects.filter(pk=payload.request_id, office=point.office).first()
    else:
        target = get_resident_by_nik(user=request.auth, nik=payload.nik)
    if target is None:
        raise HttpError(404, "Penduduk atau permohonan tidak ditemukan di wilayah kerja Anda.")
    card = services.print_card(
        request_or_resident=target,
        service_point=point,
        printer=default_printer(),
        operator=request.auth,
        serial=payload.serial,
    )
    return Status(201, card)


class ReservationOut(Schema):
    id: uuid.UUID
    serial: str
    nik: str
    reason: str
    service_point: str
    printer: str | None
    operator: str
    reserved_at: dt.datetime
    status: str
    awaiting_reconciliation: bool = Field(
        description="Pekerjaan cetaknya terhenti atau terlalu lama: nyatakan hasilnya."
    )
    card_id: uuid.UUID | None
    note: str


def _reservation_out(reservation: PrintReservation, awaiting: bool) -> dict:
    return {
        "id": reservation.pk,
        "serial": reservation.blank.serial,
        "nik": reservation.resident.nik,
        "reason": reservation.reason,
        "service_point": reservation.service_point.name,
        "printer": reservation.printer.serial_number if reservation.printer_id else None,
        "operator": reservation.operator.username,
        "reserved_at": reservation.reserved_at,
        "status": reservation.status,
        "awaiting_reconciliation": awaiting,
        "card_id": reservation.card_print_id,
        "note": reservation.note,
    }


@router.get("/reservations", response=list[ReservationOut])
def open_reservations(request, params: Query[OfficeIn]):
    """Return the blanks on a printer now, oldest first, marked when they await reconciliation."""
    _printer_role(request)
    office = _office(request, params.kab)
    return [_reservation_out(p.reservation, p.awaiting) for p in selectors.open_prints(office)]


class ReconcileIn(Schema):
    outcome: Literal["printed", "spoiled", "not_printed"]
    note: str = Field("", max_length=250)


@router.post(
    "/reservations/{reservation_id}/reconcile",
    response={200: ReservationOut, 409: ErrorOut, 422: ErrorOut},
)
def reconcile(request, reservation_id: uuid.UUID, payload: ReconcileIn):
    """Say what became of a blank whose printer job stopped: printed, spoiled or not printed."""
    _printer_role(request)
    reservation = (
        PrintReservation.objects.select_related("service_point__office")
        .filter(pk=reservation_id)
        .first()
    )
    if (
        reservation is None
        or office_for(request.auth, reservation.service_point.office.region_id) is None
    ):
        raise HttpError(404, "Cetakan tidak ditemukan di wilayah kerja Anda.")
    settled = services.reconcile_print(
        reservation=reservation,
        outcome=payload.outcome,
        note=payload.note,
        actor=request.auth,
    )
    settled = selectors.reservation_of(settled.service_point.office, settled.pk)
    return _reservation_out(settled, False)


class HandOverIn(Schema):
    received_by_name: str = Field(..., min_length=1, max_length=100)
    relation: str = Field(..., max_length=20)


@router.post("/prints/{card_id}/hand-over", response={200: CardOut, 422: ErrorOut})
def hand_over(request, card_id: uuid.UUID, payload: HandOverIn):
    """Record who received a printed card."""
    _printer_role(request)
    card = CardPrint.objects.select_related("service_point__office").filter(pk=card_id).first()
    if card is None or office_for(request.auth, card.service_point.office.region_id) is None:
        raise HttpError(404, "Cetakan kartu tidak ditemukan.")
    card = services.hand_over(
        card_print=card,
        received_by_name=payload.received_by_name,
        relation=payload.relation,
        operator=request.auth,
    )
    return card


class StockRowOut(Schema):
    point_id: uuid.UUID | None
    place: str
    in_stock: int


class StockOut(Schema):
    office: str
    locations: list[StockRowOut]
    totals: dict[str, int]


@router.get("/stock", response=StockOut)
def stock(request, params: Query[OfficeIn]):
    """Return blanks on hand per location (derived from the serials) and totals by state."""
    office = _office(request, params.kab)
    return {
        "office": office.name,
        "locations": [
            {"point_id": r.point.pk if r.point else None, "place": r.place, "in_stock": r.in_stock}
            for r in selectors.stock_by_location(office)
        ],
        "totals": selectors.blank_totals(office),
    }


class LedgerIn(OfficeIn):
    kind: str = Field("", max_length=12)
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


class LedgerOut(Schema):
    id: uuid.UUID
    kind: str
    at: dt.datetime
    quantity: int
    serial_first: str
    serial_last: str
    from_point: str | None
    to_point: str | None
    reference: str
    reason: str
    counted: int | None
    expected: int | None
    actor: str
    node: str

    @staticmethod
    def resolve_from_point(obj):
        return obj.from_point.name if obj.from_point_id else None

    @staticmethod
    def resolve_to_point(obj):
        return obj.to_point.name if obj.to_point_id else None

    @staticmethod
    def resolve_actor(obj):
        return obj.actor.username


@router.get("/ledger", response=list[LedgerOut])
def ledger(request, params: Query[LedgerIn]):
    """Return the office's ledger, newest first."""
    office = _office(request, params.kab)
    if params.kind and params.kind not in LedgerEntry.Kind.values:
        raise HttpError(422, f"Jenis mutasi '{params.kind}' tidak dikenal.")
    qs = selectors.ledger(office, kind=params.kind)
    return list(qs[params.offset : params.offset + params.limit])


class TransferIn(OfficeIn):
    from_point: uuid.UUID | None = None
    to_point: uuid.UUID | None = None
    quantity: int | None = Field(None, ge=1, le=100_000)
    serials: list[str] | None = Field(None, max_length=5000)
    reason: str = Field("", max_length=250)


@router.post("/transfers", response={201: LedgerOut, 409: ErrorOut, 422: ErrorOut})
def transfer(request, payload: TransferIn):
    """Move blanks between the store and service points."""
    _printer_role(request)
    office = _office(request, payload.kab)
    points = {}
    for name in ("from_point", "to_point"):
        value = getattr(payload, name)
        points[name] = selectors.point_of(office, value) if value else None
        if value and points[name] is None:
            raise HttpError(404, "Titik layanan tidak ditemukan di kantor ini.")
    entry = services.transfer_blanks(
        office=office,
        actor=request.auth,
        quantity=payload.quantity,
        serials=payload.serials,
        reason=payload.reason,
        **points,
    )
    return Status(201, entry)


class ReceiptIn(OfficeIn):
    serial_first: str = Field(..., max_length=20)
    serial_last: str = Field(..., max_length=20)
    source: str = Field(..., max_length=10)
    reference: str = Field(..., max_length=100)
    request_id: uuid.UUID | None = None


@router.post("/receipts", response={201: LedgerOut, 422: ErrorOut})
def receive(request, payload: ReceiptIn):
    """Record a delivery of a serial range, matched to a request if given."""
    _printer_role(request)
    office = _office(request, payload.kab)
    blank_request = None
    if payload.request_id:
        blank_request = selectors.requests_of(office).filter(pk=payload.request_id).first()
        if blank_request is None:
            raise HttpError(404, "Permohonan blangko tidak ditemukan.")
    entry = services.receive_blanks(
        office=office,
        serial_first=payload.serial_first,
        serial_last=payload.serial_last,
        source=payload.source,
        reference=payload.reference,
        actor=request.auth,
        request=blank_request,
    )
    return Status(201, entry)


class CoverOut(Schema):
    place: str
    on_hand: int
    consumption_rate: float
    recording_rate: float
    backlog: int | None
    stale_backlog: int
    daily_demand: float
    days_of_cover: float | None
    lead_time_days: int
    target_cover_days: int
    outstanding_requested: int
    days_to_next_delivery: int
    suggested_request: int
    use_basis: str
    history_days: int
    printed_today: int
    definition: str
    alert: bool
    backlog_flag: bool


class CoverReport(Schema):
    office: CoverOut
    points: list[CoverOut]


@router.get("/cover", response=CoverReport)
def cover(request, params: Query[OfficeIn]):
    """Return days of cover for the office and each point, with the alerts (the definition
    is in each row's `definition`)."""
    office = _office(request, params.kab)
    whole, points = forecast.cover_report(office)
    return {"office": whole, "points": points}

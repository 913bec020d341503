"""API for appointments: windows, bookings, the gate, the counters, the board and invitations.

Residents book without a token (NIK + birth date, or an invitation code). Seeing, moving or
cancelling a booking needs more than its code: a one-time code sent to the resident's phone
on record (POST /bookings/{code}/access-code, then /bookings/{code}/access), which earns an
access token sent back in the X-Access-Token header. Staff endpoints need an API token."""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from ektp.appointments import selectors, services
from ektp.appointments.models import Counter, InvitationBatch, QueueTicket, TimeWindow
from ektp.appointments.qr import qr_data_url
from ektp.core.models import Role
from ektp.core.ratelimit import over_limit, per_client, per_nik
from ektp.offices import selectors as office_selectors
from ektp.portal import grants
from ektp.portal import services as access
from ektp.portal.models import DocumentKind
from ektp.portal.selectors import document_of, mask_name, mask_phone
from ektp.residents.models import Resident

router = Router(tags=["appointments"])

GATE = (Role.GATE_OFFICER, Role.SUPERVISOR, Role.SYSTEM_ADMIN)
COUNTER = (Role.OPERATOR, Role.SUPERVISOR, Role.SYSTEM_ADMIN)
MANAGERS = (Role.SUPERVISOR, Role.SYSTEM_ADMIN)


class ErrorOut(Schema):
    detail: str
    rule: str = ""


class WindowOut(Schema):
    id: uuid.UUID
    day: dt.date
    starts_at: dt.time
    ends_at: dt.time
    capacity: int
    booked: int
    remaining: int
    bookable: bool
    reason: str


class DayIn(Schema):
    day: dt.date


class OptionalDayIn(Schema):
    day: dt.date | None = None


class IdentityIn(Schema):
    nik: str | None = Field(None, max_length=16)
    birth_date: dt.date | None = None
    code: str | None = Field(None, max_length=20)


class BookIn(IdentityIn):
    window_id: uuid.UUID
    for_nik: str | None = Field(None, max_length=16)


class MoveIn(Schema):
    window_id: uuid.UUID


class BookingOut(Schema):
    code: str
    status: str
    resident_name: str
    masked_nik: str
    service_point: str
    day: dt.date
    starts_at: dt.time
    ends_at: dt.time
    queue_number: int
    qr: str


class CheckInIn(Schema):
    code: str = Field(..., max_length=20)
    priority: str = Field("", max_length=12)


class WalkInIn(Schema):
    nik: str = Field("", max_length=16)
    priority: str = Field("", max_length=12)


class RecallIn(Schema):
    counter_id: uuid.UUID


class TicketOut(Schema):
    id: uuid.UUID
    label: str
    day: dt.date
    series: str
    number: int
    priority: str
    status: str
    counter: str | None = None
    window_starts_at: dt.time
    resident_nik: str | None = None
    record_url: str | None = None


class BoardRowOut(Schema):
    counter: str
    number: str | None


class BoardOut(Schema):
    day: dt.date
    counters: list[BoardRowOut]
    recent: list[str]
    waiting: int


class InvitationIn(Schema):
    kind: str = Field(..., max_length=20)
    village_code: str | None = Field(None, max_length=13)
    reference_day: dt.date
    first_day: dt.date
    limit: int = Field(200, ge=1, le=services.MAX_INVITATIONS)


class InvitationBatchOut(Schema):
    id: uuid.UUID
    kind: str
    invited: int
    skipped: int


class NoShowOut(Schema):
    starts_at: dt.time
    ends_at: dt.time
    capacity: int
    bookings: int
    checked_in: int
    served: int
    no_show: int
    walk_ins: int


class AccessCodeOut(Schema):
    access_code_id: uuid.UUID
    sent_to: str
    expires_in_minutes: int


class RedeemIn(Schema):
    access_code_id: str = Field(..., max_length=40)
    code: str = Field(..., max_length=20)


class AccessOut(Schema):
    access_token: str
    expires_in_minutes: int


def _booking_out(booking, *, masked: bool = False) -> dict:
    window = booking.window
    name = booking.resident.name
    return {
        "code": booking.code,
        "status": booking.status,
        "resident_name": mask_name(name) if masked else name,
        "masked_nik": booking.resident.masked_nik,
        "service_point": window.service_point.name,
        "day": window.day,
        "starts_at": window.starts_at,
        "ends_at": window.ends_at,
        "queue_number": booking.queue_number,
        "qr": qr_data_url(booking.code),
    }


def _ticket_out(ticket: QueueTicket) -> dict:
    nik = ticket.resident.nik if ticket.resident_id else None
    return {
        "id": ticket.pk,
        "label": ticket.label,
        "day": ticket.day,
        "series": ticket.series,
        "number": ticket.number,
        "priority": ticket.priority,
        "status": ticket.status,
        "counter": ticket.counter.name if ticket.counter_id else None,
        "window_starts_at": ticket.window.starts_at,
        "resident_nik": nik,
        "record_url": selectors.record_url(nik) if nik else None,
    }


def _require(request, roles) -> None:
    if request.auth.role not in roles:
        raise HttpError(403, "Peran Anda tidak diizinkan melakukan ini.")


def _staff_point(request, point_id):
    point = office_selectors.get_point(user=request.auth, pk=point_id)
    if point is None:
        raise HttpError(404, "Titik layanan tidak ditemukan di wilayah kerja Anda.")
    return point


def _identify(request, payload: IdentityIn) -> Resident:
    limits = [per_client(request), *([per_nik(payload.nik)] if payload.nik else [])]
    if over_limit(request, *limits):
        raise HttpError(429, "Terlalu banyak percobaan. Coba lagi nanti.")
    if payload.code:
        return services.resident_by_code(payload.code)
    if not payload.nik or payload.birth_date is None:
        raise services.NotIdentified(
            "Isi NIK dan tanggal lahir, atau kode undangan/booking.", rule="identity_missing"
        )
    return services.identify_resident(nik=payload.nik, birth_date=payload.birth_date)


@router.get(
    "/points/{point_id}/windows",
    auth=None,
    response={200: list[WindowOut], 404: ErrorOut, 422: ErrorOut},
)
def point_windows(request, point_id: uuid.UUID, params: Query[DayIn]):
    """List a point's time windows on a day with the places left; none when it is closed."""
    point = selectors.public_points().filter(pk=point_id).first()
    if point is None:
        return Status(404, {"detail": "Titik layanan tidak ditemukan."})
    services.check_bookable_day(params.day)
    now = timezone.now()
    rows = []
    for w in services.windows_for(point=point, day=params.day):
        w.service_point = point
        reason = services.why_not_bookable(w, now)
        rows.append(
            {**w.__dict__, "remaining": w.remaining, "bookable": not reason, "reason": reason}
        )
    return rows


@router.post(
    "/bookings", auth=None, response={201: BookingOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}
)
def create_booking(request, payload: BookIn):
    """Book a window for the identified resident, or for a member of their KK (for_nik)."""
    requester = _identify(request, payload)
    resident = requester
    if payload.for_nik:
        nik = services.checked_nik(payload.for_nik)
        member = [m for m in services.family_of(requester) if m.nik == nik]
        if not member:
            raise services.AppointmentError(
                "Hanya anggota keluarga dalam KK yang sama yang boleh didaftarkan.",
                rule="family",
            )
        resident = member[0]
    window = TimeWindow.objects.select_related("service_point").filter(pk=payload.window_id).first()
    if window is None:
        return Status(404, {"detail": "Jendela waktu tidak dikenal.", "rule": "window"})
    booking = services.book(resident=resident, window=window, booked_by=requester)
    # A NIK and a birth date are public: the name stays masked in this answer.
    return Status(201, _booking_out(booking, masked=True))


ACCESS_REQUIRED = {
    "detail": "Kode booking saja tidak cukup. Minta kode sekali pakai yang dikirim ke nomor "
    "WhatsApp/telepon terdaftar (POST /bookings/{code}/access-code), lalu tukarkan di "
    "/bookings/{code}/access dan kirim hasilnya di header X-Access-Token.",
    "rule": "access_code_required",
}


def _held_booking(request, code: str):
    """Return the booking of a code when the request carries its access token, else a refusal
    (an unknown code raises UnknownCode, a 404)."""
    booking = services.booking_by_code(code)
    token = request.headers.get("X-Access-Token")
    if not grants.grant_valid(token, kind=DocumentKind.BOOKING, document_id=booking.pk):
        return None, Status(403, ACCESS_REQUIRED)
    return booking, None


def _manageable(request, code: str):
    """Return the booking of a code as a document a one-time code can open, or a refusal
    (the client over its rate, an unknown code, a booking no longer active)."""
    if over_limit(request, per_client(request)):
        return None, Status(429, {"detail": "Terlalu banyak permintaan. Coba lagi nanti."})
    booking = services.booking_by_code(code)
    document = document_of(DocumentKind.BOOKING, booking.pk)
    if document is None:
        return None, Status(
            422, {"detail": "Janji temu ini tidak aktif lagi.", "rule": "booking_inactive"}
        )
    return document, None


@router.post(
    "/bookings/{code}/access-code",
    auth=None,
    response={202: AccessCodeOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut},
)
def send_access_code(request, code: str):
    """Send a one-time code for a booking to the resident's phone on record."""
    document, refusal = _manageable(request, code)
    if refusal is not None:
        return refusal
    sent = access.request_access_code(
        resident=document.resident,
        kind=document.kind,
        document_id=document.id,
        what=document.what,
    )
    return Status(
        202,
        {
            "access_code_id": sent.id,
            "sent_to": mask_phone(document.resident.phone),
            "expires_in_minutes": access.code_minutes(),
        },
    )


@router.post(
    "/bookings/{code}/access",
    auth=None,
    response={200: AccessOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut},
)
def redeem_access_code(request, code: str, payload: RedeemIn):
    """Take the one-time code sent for a booking; answer with an access token for it."""
    document, refusal = _manageable(request, code)
    if refusal is not None:
        return refusal
    access.redeem_access_code(
        access_code_id=payload.access_code_id,
        kind=document.kind,
        document_id=document.id,
        code=payload.code,
    )
    return {
        "access_token": grants.grant_token(kind=document.kind, document_id=document.id),
        "expires_in_minutes": grants.grant_seconds() // 60,
    }


@router.get("/bookings/{code}", auth=None, response={200: BookingOut, 403: ErrorOut, 404: ErrorOut})
def get_booking(request, code: str):
    """Return a booking by its code, with its QR, to the holder of its access token."""
    booking, refusal = _held_booking(request, code)
    if refusal is not None:
        return refusal
    return _booking_out(booking)


@router.post(
    "/bookings/{code}/move",
    auth=None,
    response={200: BookingOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
)
def move_booking(request, code: str, payload: MoveIn):
    """Move a booking to another window of the same point; the code stays."""
    booking, refusal = _held_booking(request, code)
    if refusal is not None:
        return refusal
    window = (
        TimeWindow.objects.select_related("service_point")
        .filter(pk=payload.window_id, service_point_id=booking.window.service_point_id)
        .first()
    )
    if window is None:
        return Status(404, {"detail": "Jendela waktu tidak dikenal di titik layanan ini."})
    moved = services.move_booking(booking=booking, window=window)
    return _booking_out(services.booking_by_code(moved.code))


@router.post(
    "/bookings/{code}/cancel",
    auth=None,
    response={200: BookingOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
)
def cancel_booking(request, code: str):
    """Cancel a booking that has not checked in (holder of its access token)."""
    booking, refusal = _held_booking(request, code)
    if refusal is not None:
        return refusal
    services.cancel_booking(booking=booking)
    return _booking_out(services.booking_by_code(booking.code))


@router.get("/points/{point_id}/board", auth=None, response={200: BoardOut, 404: ErrorOut})
def point_board(request, point_id: uuid.UUID):
    """Return what a point's board shows now."""
    point = selectors.public_points().filter(pk=point_id).first()
    if point is None:
        return Status(404, {"detail": "Titik layanan tidak ditemukan."})
    data = selectors.board(point=point)
    return {
        "day": data["day"],
        "counters": [
            {"counter": r.counter.name, "number": r.ticket.label if r.ticket else None}
            for r in data["rows"]
        ],
        "recent": [t.label for t in data["recent"]],
        "waiting": data["waiting"],
    }


@router.post("/points/{point_id}/check-in", response={201: TicketOut, 404: ErrorOut, 422: ErrorOut})
def check_in(request, point_id: uuid.UUID, payload: CheckInIn):
    """Check a booked resident in at the gate (gate officer)."""
    _require(request, GATE)
    point = _staff_point(request, point_id)
    ticket = services.check_in(
        point=point, code=payload.code, priority=payload.priority, actor=request.auth
    )
    return Status(201, _ticket_out(ticket))


@router.post("/points/{point_id}/walk-in", response={201: TicketOut, 422: ErrorOut})
def walk_in(request, point_id: uuid.UUID, payload: WalkInIn):
    """Give a walk-in resident a queue number for today (gate officer)."""
    _require(request, GATE)
    point = _staff_point(request, point_id)
    ticket = services.issue_walk_in(
        point=point, nik=payload.nik, priority=payload.priority, actor=request.auth
    )
    return Status(201, _ticket_out(ticket))


def _staff_counter(request, counter_id) -> Counter:
    counter = Counter.objects.select_related("service_point").filter(pk=counter_id).first()
    if counter is None:
        raise HttpError(404, "Loket tidak ditemukan.")
    _staff_point(request, counter.service_point_id)
    return counter


def _staff_ticket(request, ticket_id) -> QueueTicket:
    ticket = QueueTicket.objects.select_related("window", "counter", "resident").filter(
        pk=ticket_id
    )
    ticket = ticket.first()
    if ticket is None:
        raise HttpError(404, "Nomor antrean tidak ditemukan.")
    _staff_point(request, ticket.service_point_id)
    return ticket


@router.post("/counters/{counter_id}/call-next", response={200: TicketOut, 422: ErrorOut})
def call_next(request, counter_id: uuid.UUID):
    """Call the next waiting number to a counter (operator)."""
    _require(request, COUNTER)
    counter = _staff_counter(request, counter_id)
    ticket = services.call_next(counter=counter, actor=request.auth)
    return _ticket_out(_staff_ticket(request, ticket.pk))


def _finish(request, ticket_id, action):
    _require(request, COUNTER)
    ticket = _staff_ticket(request, ticket_id)
    action(ticket=ticket)
    return _ticket_out(_staff_ticket(request, ticket.pk))


@router.post("/tickets/{ticket_id}/served", response={200: TicketOut, 422: ErrorOut})
def served(request, ticket_id: uuid.UUID):
    """Mark a called number as served (operator)."""
    return _finish(request, ticket_id, services.mark_served)


@router.post("/tickets/{ticket_id}/no-show", response={200: TicketOut, 422: ErrorOut})
def no_show(request, ticket_id: uuid.UUID):
    """Mark a called number as not present (operator)."""
    return _finish(request, ticket_id, services.mark_no_show)


@router.post("/tickets/{ticket_id}/recall", response={200: TicketOut, 422: ErrorOut})
def recall(request, ticket_id: uuid.UUID, payload: RecallIn):
    """Call a number again at a counter (operator)."""
    _require(request, COUNTER)
    ticket = _staff_ticket(request, ticket_id)
    counter = _staff_counter(request, payload.counter_id)
    if counter.service_point_id != ticket.service_point_id:
        return Status(422, {"detail": "Loket dan nomor antrean berada di titik yang berbeda."})
    services.recall(ticket=ticket, counter=counter, actor=request.auth)
    return _ticket_out(_staff_ticket(request, ticket.pk))


@router.post("/points/{point_id}/invitations", response={201: InvitationBatchOut, 422: ErrorOut})
def create_invitations(request, point_id: uuid.UUID, payload: InvitationIn):
    """Invite a list of residents to the point's windows (head of office)."""
    _require(request, MANAGERS)
    point = _staff_point(request, point_id)
    if payload.kind not in InvitationBatch.Kind.values:
        return Status(422, {"detail": "Jenis sasaran undangan tidak dikenal.", "rule": "kind"})
    batch = services.invite(
        point=point,
        kind=payload.kind,
        village_code=payload.village_code or None,
        reference_day=payload.reference_day,
        first_day=payload.first_day,
        limit=payload.limit,
        actor=request.auth,
    )
    return Status(
        201,
        {
            "id": batch.pk,
            "kind": batch.kind,
            "invited": batch.invitations.count(),
            "skipped": batch.skipped,
        },
    )


@router.get("/points/{point_id}/no-shows", response=list[NoShowOut])
def no_shows(request, point_id: uuid.UUID, params: Query[OptionalDayIn]):
    """Count bookings, check-ins and no-shows per window of a day (head of office)."""
    _require(request, MANAGERS)
    point = _staff_point(request, point_id)
    counts = selectors.no_show_counts(point=point, day=params.day or timezone.localdate())
    return [
        {
            "starts_at": c.window.starts_at,
            "ends_at": c.window.ends_at,
            "capacity": c.window.capacity,
            "bookings": c.bookings,
            "checked_in": c.checked_in,
            "served": c.served,
            "no_show": c.no_show,
            "walk_ins": c.walk_ins,
        }
        for c in counts
    ]

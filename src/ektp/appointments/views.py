"""Pages: public booking and the board; staff gate, counters, invitations and reports."""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ektp.appointments import selectors, services
from ektp.appointments.after_hours import gate_closed_reason, ticket_window_note
from ektp.appointments.forms import (
    BookForm,
    CheckInForm,
    CounterForm,
    DayForm,
    IdentifyForm,
    InvitationForm,
    MoveForm,
    ReportForm,
    WalkInForm,
)
from ektp.appointments.models import Counter, InvitationBatch, QueueTicket, TimeWindow
from ektp.appointments.qr import qr_data_url
from ektp.core.access import role_required
from ektp.core.models import Role
from ektp.core.ratelimit import over_limit, per_client, per_nik, too_many_requests
from ektp.core.refusals import refused_as_message
from ektp.offices import selectors as office_selectors
from ektp.offices import setup
from ektp.offices.models import ServicePoint
from ektp.portal import grants
from ektp.portal.models import DocumentKind
from ektp.portal.selectors import mask_name
from ektp.residents.models import Resident

SESSION_KEY = "appointments_resident"
STAFF = (Role.GATE_OFFICER, Role.OPERATOR, Role.SUPERVISOR)
GATE = (Role.GATE_OFFICER, Role.SUPERVISOR)
COUNTER = (Role.OPERATOR, Role.SUPERVISOR)
MANAGERS = (Role.SUPERVISOR,)


# ---------------------------------------------------------------- public booking


def _session_resident(request) -> Resident | None:
    pk = request.session.get(SESSION_KEY)
    return Resident.objects.filter(pk=pk).select_related("family").first() if pk else None


def identify(request: HttpRequest) -> HttpResponse:
    """Let a resident identify with NIK and birth date, or with an invitation/booking code."""
    form = IdentifyForm(request.POST if request.method == "POST" else None)
    if request.method != "POST":
        return render(request, "appointments/identify.html", {"form": form})
    if not form.is_valid():
        return render(request, "appointments/identify.html", {"form": form}, status=422)
    data = form.cleaned_data
    limits = [per_client(request), *([per_nik(data["nik"])] if data.get("nik") else [])]
    if over_limit(request, *limits):
        return too_many_requests(request)
    try:
        if data.get("code"):
            # A code alone opens nothing: the booking's page asks for a one-time code.
            booking = services.booking_by_code(data["code"])
            return redirect("booking:detail", code=booking.code)
        resident = services.identify_resident(nik=data["nik"], birth_date=data["birth_date"])
    except services.AppointmentError as exc:
        form.add_error(None, exc.message)
        return render(request, "appointments/identify.html", {"form": form}, status=422)
    request.session.cycle_key()
    request.session[SESSION_KEY] = str(resident.pk)
    return redirect("booking:choose")


def _windows_context(request, point: ServicePoint | None, day: dt.date | None) -> dict:
    if point is None or day is None:
        return {"windows": None}
    now = timezone.now()
    windows = services.windows_for(point=point, day=day)
    rows = []
    for w in windows:
        w.service_point = point
        rows.append((w, services.why_not_bookable(w, now)))
    return {"windows": rows, "point": point, "day": day}


def choose(request: HttpRequest) -> HttpResponse:
    """Show a resident's family, their bookings and a point's windows on a day."""
    resident = _session_resident(request)
    if resident is None:
        return redirect("booking:identify")
    family = services.family_of(resident)
    for member in family:  # a NIK and a birth date are public: names stay masked here
        member.shown_name = mask_name(member.name)
    bookings = selectors.active_bookings_of([m.pk for m in family])
    for booking in bookings:
        booking.shown_name = mask_name(booking.resident.name)
        booking.ref = grants.document_ref(kind=DocumentKind.BOOKING, document_id=booking.pk)
    context = {
        "resident": resident,
        "shown_name": mask_name(resident.name),
        "family": family,
        "bookings": bookings,
        "points": selectors.public_points(),
        "day_form": DayForm(request.GET or None),
        "book_form": BookForm(),
        "windows": None,
    }
    status = 200
    if request.GET:
        if context["day_form"].is_valid():
            point = selectors.public_points().filter(pk=context["day_form"].cleaned_data["point"])
            point = point.first()
            if point is None:
                context["day_form"].add_error("point", "Titik layanan tidak dikenal.")
                status = 422
            else:
                day = context["day_form"].cleaned_data["day"]
                try:
                    services.check_bookable_day(day)
                except services.AppointmentError as exc:
                    context["day_form"].add_error("day", exc.message)
                    status = 422
                else:
                    context.update(_windows_context(request, point, day))
                    if not context["windows"]:
                        context["closed"] = services.opening(point=point, day=day).reason
        else:
            status = 422
    return render(request, "appointments/choose.html", context, status=status)


@require_POST
def book(request: HttpRequest) -> HttpResponse:
    """Book a window for the identified resident or a family member."""
    resident = _session_resident(request)
    if resident is None:
        return redirect("booking:identify")
    form = BookForm(request.POST)
    error = None
    if form.is_valid():
        family = {str(m.pk): m for m in services.family_of(resident)}
        member = family.get(str(form.cleaned_data["resident"]))
        window = (
            TimeWindow.objects.select_related("service_point")
            .filter(pk=form.cleaned_data["window"])
            .first()
        )
        if member is None:
            error = "Hanya anggota keluarga dalam KK yang sama yang boleh didaftarkan."
        elif window is None:
            error = "Jendela waktu tidak dikenal."
        else:
            try:
                booking = services.book(resident=member, window=window, booked_by=resident)
            except services.AppointmentError as exc:
                error = exc.message
            else:
                # The session that made the booking holds it; anyone else needs a one-time code.
                grants.grant_session(request, kind=DocumentKind.BOOKING, document_id=booking.pk)
                messages.success(request, f"Janji temu tersimpan. Kode Anda: {booking.code}")
                return redirect("booking:detail", code=booking.code)
    else:
        error = " ".join(e for errs in form.errors.values() for e in errs)
    messages.error(request, error)
    return redirect("booking:choose")


def _held(request, booking) -> bool:
    """Tell whether this session holds the booking: it made it, or gave its one-time code."""
    return grants.session_granted(request, kind=DocumentKind.BOOKING, document_id=booking.pk)


def _ask_for_code(booking) -> HttpResponse:
    """Send the visitor to the page that sends a one-time code to the resident's phone."""
    ref = grants.document_ref(kind=DocumentKind.BOOKING, document_id=booking.pk)
    return redirect("portal:access", ref=ref)


def _booking_or_404(request, code):
    try:
        return services.booking_by_code(code)
    except services.UnknownCode as exc:
        raise Http404(exc.message) from None


def detail(request: HttpRequest, code: str) -> HttpResponse:
    """Show a booking with its code and QR; move or cancel it (with the one-time code)."""
    try:
        booking = services.booking_by_code(code)
    except services.UnknownCode as exc:
        return render(
            request, "appointments/unknown_code.html", {"message": exc.message}, status=404
        )
    if not _held(request, booking):
        return _ask_for_code(booking)
    point = booking.window.service_point
    move_day = booking.window.day
    day_form = DayForm(request.GET or None)
    if request.GET and day_form.is_valid():
        try:
            services.check_bookable_day(day_form.cleaned_data["day"])
        except services.AppointmentError as exc:
            day_form.add_error("day", exc.message)
        else:
            move_day = day_form.cleaned_data["day"]
    context = {
        "booking": booking,
        "qr": qr_data_url(booking.code),
        "move_form": MoveForm(),
        "day_form": day_form,
        **_windows_context(request, point, move_day),
    }
    return render(request, "appointments/detail.html", context)


@require_POST
def move(request: HttpRequest, code: str) -> HttpResponse:
    """Move a booking to another window of the same point."""
    booking = _booking_or_404(request, code)
    if not _held(request, booking):
        return _ask_for_code(booking)
    form = MoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect("booking:detail", code=booking.code)
    window = (
        TimeWindow.objects.select_related("service_point")
        .filter(pk=form.cleaned_data["window"], service_point_id=booking.window.service_point_id)
        .first()
    )
    if window is None:
        messages.error(request, "Jendela waktu tidak dikenal di titik layanan ini.")
        return redirect("booking:detail", code=booking.code)
    with refused_as_message(request):
        services.move_booking(booking=booking, window=window)
        messages.success(request, "Janji temu dipindahkan; kode tetap sama.")
    return redirect("booking:detail", code=booking.code)


@require_POST
def cancel(request: HttpRequest, code: str) -> HttpResponse:
    """Cancel a booking."""
    booking = _booking_or_404(request, code)
    if not _held(request, booking):
        return _ask_for_code(booking)
    with refused_as_message(request):
        services.cancel_booking(booking=booking)
        messages.success(request, "Janji temu dibatalkan.")
    return redirect("booking:detail", code=booking.code)


def _public_point(pk) -> ServicePoint:
    point = selectors.public_points().filter(pk=pk).first()
    if point is None:
        raise Http404("Titik layanan tidak ditemukan.")
    return point


def board(request: HttpRequest, pk) -> HttpResponse:
    """Show the public board of a point: the number called at each counter."""
    point = _public_point(pk)
    return render(
        request, "appointments/board.html", {"point": point, **selectors.board(point=point)}
    )


def board_fragment(request: HttpRequest, pk) -> HttpResponse:
    """Return the board's live part for htmx polling."""
    point = _public_point(pk)
    return render(
        request,
        "appointments/_board_rows.html",
        {"point": point, **selectors.board(point=point)},
    )


# ---------------------------------------------------------------- staff


def _point_or_404(request, pk) -> ServicePoint:
    point = office_selectors.get_point(user=request.user, pk=pk)
    if point is None:
        raise Http404("Titik layanan tidak ditemukan di wilayah kerja Anda.")
    return point


@role_required(*STAFF)
def index(request: HttpRequest) -> HttpResponse:
    """List the service points with links to their gate, counters and board."""
    return render(
        request, "appointments/index.html", {"points": office_selectors.points_for(request.user)}
    )


@role_required(*STAFF)
def point_day(request: HttpRequest, pk) -> HttpResponse:
    """Show a point's windows for a day and its counters; supervisors open counters."""
    point = _point_or_404(request, pk)
    form = ReportForm(request.GET or None)
    day = timezone.localdate()
    status = 200
    if request.GET and form.is_valid() and form.cleaned_data["day"]:
        day = form.cleaned_data["day"]
    elif request.GET and not form.is_valid():
        status = 422
    counter_form = CounterForm()
    if request.method == "POST":
        counter_form = CounterForm(request.POST)
        if request.user.role not in (Role.SUPERVISOR, Role.SYSTEM_ADMIN):
            messages.error(request, "Hanya kepala dinas / supervisor yang boleh membuka loket.")
            status = 403
        elif not counter_form.is_valid():
            status = 422
        else:
            # The set-up pages' service: checked against the user's jurisdiction and audited.
            try:
                setup.add_counter(
                    actor=request.user,
                    point=point,
                    name=counter_form.cleaned_data["name"],
                    request=request,
                )
            except setup.SetupError as exc:
                counter_form.add_error("name", exc.message)
                status = 422
            else:
                messages.success(request, "Loket dibuka.")
                return redirect("appointments:point", pk=point.pk)
    context = {
        "point": point,
        "day": day,
        "form": form,
        "counter_form": counter_form,
        "windows": services.windows_for(point=point, day=day),
        "opening": services.opening(point=point, day=day),
        "counters": selectors.counters_of(point),
        "may_manage": request.user.role in (Role.SUPERVISOR, Role.SYSTEM_ADMIN),
    }
    return render(request, "appointments/point_day.html", context, status=status)


def _render_gate(request, point, *, walk_in=None, check_in=None, status=200):
    today = timezone.localdate()
    return render(
        request,
        "appointments/gate.html",
        {
            "point": point,
            "remaining": services.remaining_today(point=point, day=today),
            "opening": services.opening(point=point, day=today),
            "walk_in_form": walk_in or WalkInForm(),
            "check_in_form": check_in or CheckInForm(),
            "tickets": selectors.tickets_of_day(point=point, day=today).order_by("-issued_at")[:20],
            "closed_reason": gate_closed_reason(point=point),
            "counters": selectors.counters_of(point),
            "may_manage": request.user.role in (Role.SUPERVISOR, Role.SYSTEM_ADMIN),
        },
        status=status,
    )


# The gate's two forms: action → (form class, template slot, service, field of the form).
_GATE_ACTIONS = {
    "check_in": (CheckInForm, "check_in", services.check_in, "code"),
    "walk_in": (WalkInForm, "walk_in", services.issue_walk_in, "nik"),
}


@role_required(*GATE)
def gate(request: HttpRequest, pk) -> HttpResponse:
    """Hand out walk-in numbers and check booked residents in."""
    point = _point_or_404(request, pk)
    if request.method != "POST":
        return _render_gate(request, point)
    action = _GATE_ACTIONS.get(request.POST.get("action"))
    if action is None:
        messages.error(request, "Pilih ambil nomor atau catat kedatangan.")
        return _render_gate(request, point, status=422)
    form_class, slot, service, field = action
    form = form_class(request.POST)
    if form.is_valid():
        try:
            ticket = service(
                point=point,
                priority=form.cleaned_data["priority"],
                actor=request.user,
                **{field: form.cleaned_data[field]},
            )
        except services.AppointmentError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("appointments:ticket", pk=ticket.pk)
    return _render_gate(request, point, status=422, **{slot: form})


def _ticket_or_404(request, pk) -> QueueTicket:
    ticket = QueueTicket.objects.select_related("service_point", "window", "counter").filter(pk=pk)
    ticket = ticket.first()
    if ticket is None or _point_or_404(request, ticket.service_point_id) is None:
        raise Http404("Nomor antrean tidak ditemukan.")
    return ticket


@role_required(*STAFF)
def ticket(request: HttpRequest, pk) -> HttpResponse:
    """Show a printable queue ticket."""
    found = _ticket_or_404(request, pk)
    return render(
        request,
        "appointments/ticket.html",
        {"ticket": found, "window_note": ticket_window_note(found)},
    )


def _counter_or_404(request, pk) -> Counter:
    counter = Counter.objects.select_related("service_point").filter(pk=pk).first()
    if counter is None:
        raise Http404("Loket tidak ditemukan.")
    _point_or_404(request, counter.service_point_id)
    return counter


@role_required(*STAFF)
def counter(request: HttpRequest, pk) -> HttpResponse:
    """Serve at a counter: call the next number, mark served / no-show, recall."""
    if request.user.role not in COUNTER and request.user.role != Role.SYSTEM_ADMIN:
        # The gate hands out numbers; calling them is the operators' work (core.access roles).
        raise PermissionDenied(
            "Petugas gerbang tidak melayani loket: loket dipakai operator dan kepala dinas "
            "untuk memanggil nomor. Gunakan halaman Gerbang untuk memberi nomor antrean."
        )
    found = _counter_or_404(request, pk)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        current = selectors.current_ticket(found)
        try:
            if action == "call":
                services.call_next(counter=found, actor=request.user)
            elif action in ("served", "no_show") and current is not None:
                (services.mark_served if action == "served" else services.mark_no_show)(
                    ticket=current
                )
            elif action == "recall":
                target = QueueTicket.objects.filter(
                    pk=_uuid_or_none(request.POST.get("ticket")),
                    service_point_id=found.service_point_id,
                    day=timezone.localdate(),
                ).first()
                if target is None:
                    raise services.QueueError("Nomor antrean tidak dikenal.")
                services.recall(ticket=target, counter=found, actor=request.user)
            else:
                raise services.QueueError("Tindakan tidak dikenal atau tidak ada nomor dipanggil.")
        except services.AppointmentError as exc:
            messages.error(request, exc.message)
            status = 422
        else:
            return redirect("appointments:counter", pk=found.pk)
    current = selectors.current_ticket(found)
    today = timezone.localdate()
    context = {
        "counter": found,
        "current": current,
        "record_url": selectors.record_url(current.resident.nik)
        if current and current.resident
        else None,
        "waiting": QueueTicket.objects.filter(
            service_point=found.service_point, day=today, status=QueueTicket.Status.WAITING
        ).count(),
        "no_shows": QueueTicket.objects.filter(
            service_point=found.service_point, day=today, status=QueueTicket.Status.NO_SHOW
        ).order_by("-finished_at")[:10],
    }
    return render(request, "appointments/counter.html", context, status=status)


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value)[:40])
    except ValueError:
        return None


@role_required(*MANAGERS)
def invitations(request: HttpRequest, pk) -> HttpResponse:
    """Invite a list of residents to windows; list earlier batches."""
    point = _point_or_404(request, pk)
    form = InvitationForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                batch = services.invite(
                    point=point,
                    kind=data["kind"],
                    village_code=data["village"] or None,
                    reference_day=data["reference_day"],
                    first_day=data["first_day"],
                    limit=data["limit"],
                    actor=request.user,
                )
            except services.AppointmentError as exc:
                form.add_error(None, exc.message)
                status = 422
            else:
                messages.success(request, "Undangan dibuat.")
                return redirect("appointments:batch", pk=batch.pk)
        else:
            status = 422
    return render(
        request,
        "appointments/invitations.html",
        {"point": point, "form": form, "batches": selectors.batches_of(point)},
        status=status,
    )


@role_required(*MANAGERS)
def batch(request: HttpRequest, pk) -> HttpResponse:
    """Show a printable list of one batch of invitations."""
    found = InvitationBatch.objects.select_related("service_point").filter(pk=pk).first()
    if found is None:
        raise Http404("Kiriman undangan tidak ditemukan.")
    _point_or_404(request, found.service_point_id)
    return render(
        request,
        "appointments/batch.html",
        {"batch": found, "invitations": selectors.invitation_list(found)},
    )


@role_required(*MANAGERS)
def report(request: HttpRequest, pk) -> HttpResponse:
    """Count bookings, check-ins and no-shows per window of a day (head of office)."""
    point = _point_or_404(request, pk)
    form = ReportForm(request.GET or None)
    day = timezone.localdate()
    status = 200
    if request.GET and form.is_valid() and form.cleaned_data["day"]:
        day = form.cleaned_data["day"]
    elif request.GET and not form.is_valid():
        status = 422
    counts = selectors.no_show_counts(point=point, day=day)
    return render(
        request,
        "appointments/report.html",
        {
            "point": point,
            "day": day,
            "form": form,
            "counts": counts,
            "total_no_show": sum(c.no_show for c in counts),
        },
        status=status,
    )

"""Writes for appointments: windows, bookings, invitations, the gate and the counters."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from ektp.appointments.models import (
    ACTIVE_BOOKING,
    Booking,
    BookingStatus,
    Counter,
    Invitation,
    InvitationBatch,
    PriorityReason,
    QueueDay,
    QueueTicket,
    Service,
    TimeWindow,
)
from ektp.core.errors import DomainError
from ektp.core.models import AuditEvent, User
from ektp.core.services import record_audit
from ektp.notifications.events import notify_booking
from ektp.offices.calendar import Opening, opening
from ektp.offices.models import ServicePoint
from ektp.residents.models import Citizenship, LifeStatus, Resident, years_ago
from ektp.residents.nik import InvalidNumber, parse_nik

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
ELDERLY_AGE = 60
MAX_INVITATIONS = 5000


def cutoff_minutes() -> int:
    """Return how many minutes before a window online booking closes."""
    return int(getattr(settings, "APPOINTMENTS_CUTOFF_MINUTES", 60))


def window_minutes() -> int:
    """Return the length of one time window in minutes."""
    return int(getattr(settings, "APPOINTMENTS_WINDOW_MINUTES", 60))


def horizon_days() -> int:
    """Return how many days ahead a resident may book."""
    return int(getattr(settings, "APPOINTMENTS_HORIZON_DAYS", 30))


class AppointmentError(DomainError, ValueError):
    """A booking or queue rule is broken; `rule` names it, the message explains it."""

    rule = "appointment"


class NotIdentified(AppointmentError):
    rule = "identity"


class UnknownCode(AppointmentError):
    rule = "unknown_code"


class WindowUnavailable(AppointmentError):
    rule = "window"


class WindowFull(AppointmentError):
    rule = "full"


class AlreadyBooked(AppointmentError):
    rule = "one_active_booking"


class QueueError(AppointmentError):
    rule = "queue"


IDENTITY_MESSAGE = "NIK dan tanggal lahir tidak cocok dengan data kependudukan."


def generate_code() -> str:
    """Return a random booking code that is hard to guess."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(value: str) -> str:
    """Return a typed code in canonical form, or raise UnknownCode when it cannot be one."""
    code = (value or "").strip().upper().replace("-", "").replace(" ", "")
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        raise UnknownCode("Kode booking tidak dikenal.")
    return code


# ---------------------------------------------------------------- time windows


@dataclass(frozen=True)
class WindowPlan:
    starts_at: dt.time
    ends_at: dt.time
    capacity: int


def plan_windows(day_opening: Opening, *, minutes: int | None = None) -> list[WindowPlan]:
    """Split an open day's hours into windows and spread its capacity across them."""
    if not day_opening.is_open or not day_opening.hours or day_opening.capacity <= 0:
        return []
    minutes = minutes or window_minutes()
    opens, closes = day_opening.hours
    anchor = dt.date(2000, 1, 1)
    start, end = dt.datetime.combine(anchor, opens), dt.datetime.combine(anchor, closes)
    bounds = []
    while start < end:
        stop = min(start + dt.timedelta(minutes=minutes), end)
        bounds.append((start.time(), stop.time()))
        start = stop
    base, extra = divmod(day_opening.capacity, len(bounds))
    plans = [WindowPlan(s, e, base + (1 if i < extra else 0)) for i, (s, e) in enumerate(bounds)]
    return [p for p in plans if p.capacity > 0]


def windows_for(*, point: ServicePoint, day: dt.date) -> list[TimeWindow]:
    """Return a point's windows on a day, creating them from its calendar; none when closed."""
    day_opening = opening(point=point, day=day)
    if not day_opening.is_open:
        return []
    existing = list(TimeWindow.objects.filter(service_point=point, day=day))
    if not existing:
        TimeWindow.objects.bulk_create(
            [
                TimeWindow(
                    service_point=point,
                    day=day,
                    starts_at=p.starts_at,
                    ends_at=p.ends_at,
                    capacity=p.capacity,
                )
                for p in plan_windows(day_opening)
            ],
            ignore_conflicts=True,
        )
        existing = list(TimeWindow.objects.filter(service_point=point, day=day))
    return sorted(existing, key=lambda w: w.starts_at)


def check_bookable_day(day: dt.date, *, today: dt.date | None = None) -> None:
    """Refuse a day residents may not look at: before today or beyond the booking horizon."""
    today = today or timezone.localdate()
    if not today <= day <= today + dt.timedelta(days=horizon_days()):
        raise WindowUnavailable(
            f"Tanggal harus antara hari ini dan {horizon_days()} hari ke depan.", rule="horizon"
        )


# ---------------------------------------------------------------- identity


def parse_nik_or_error(nik: str) -> str:
    """Return a well-formed NIK or raise NotIdentified naming the numbering rule."""
    try:
        return parse_nik((nik or "")[:40]).nik
    except InvalidNumber as exc:
        raise NotIdentified(exc.message, rule="nik_format") from None


def identify_resident(*, nik: str, birth_date: dt.date) -> Resident:
    """Return the living resident with this NIK and birth date; the same refusal for any mismatch."""
    nik = parse_nik_or_error(nik)
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


# ---------------------------------------------------------------- booking rules


def _check_window_open_for_booking(window: TimeWindow, now: dt.datetime) -> None:
    today = timezone.localdate(now)
    if window.day > today + dt.timedelta(days=horizon_days()):
        raise WindowUnavailable(
            f"Booking paling jauh {horizon_days()} hari ke depan.", rule="horizon"
        )
    if now >= window.end_datetime():
        raise WindowUnavailable("Jendela waktu ini sudah lewat.", rule="past")
    cutoff = cutoff_minutes()
    if now > window.start_datetime() - dt.timedelta(minutes=cutoff):
        raise WindowUnavailable(
            f"Pendaftaran daring ditutup {cutoff} menit sebelum jendela waktu dimulai; "
            "silakan ambil nomor antrean di loket gerbang.",
            rule="cutoff",
        )
    if not opening(point=window.service_point, day=window.day).is_open:
        raise WindowUnavailable("Titik layanan tutup pada tanggal itu.", rule="closed")


def why_not_bookable(window: TimeWindow, now: dt.datetime) -> str:
    """Return why a window cannot be booked now, or an empty string when it can."""
    try:
        _check_window_open_for_booking(window, now)
    except AppointmentError as exc:
        return exc.message
    return "" if window.remaining > 0 else "Penuh."


def _check_may_book(resident: Resident, booked_by: Resident | None) -> None:
    other_family = booked_by is not None and (
        booked_by.family_id is None or booked_by.family_id != resident.family_id
    )
    if other_family and booked_by.pk != resident.pk:
        raise AppointmentError(
            "Hanya anggota keluarga dalam KK yang sama yang boleh didaftarkan.", rule="family"
        )
    if resident.life_status != LifeStatus.ALIVE:
        raise AppointmentError("Penduduk tidak berstatus hidup.", rule="alive")
    if resident.recorded_on is not None:
        raise AppointmentError(
            "Penduduk ini sudah melakukan perekaman KTP-el; tidak perlu booking perekaman.",
            rule="already_recorded",
        )


def _take_place(window: TimeWindow) -> int:
    """Take one place in a window with a conditional UPDATE; return the queue number."""
    taken = TimeWindow.objects.filter(pk=window.pk, booked__lt=F("capacity")).update(
        booked=F("booked") + 1, issued=F("issued") + 1
    )
    if not taken:
        raise WindowFull("Jendela waktu ini sudah penuh; pilih jendela lain.")
    return TimeWindow.objects.values_list("issued", flat=True).get(pk=window.pk)


def _give_back_place(window_id) -> None:
    TimeWindow.objects.filter(pk=window_id, booked__gt=0).update(booked=F("booked") - 1)


def _active_booking_exists(resident: Resident, service: str) -> bool:
    return Booking.objects.filter(
        resident=resident, service=service, status__in=ACTIVE_BOOKING
    ).exists()


ALREADY_BOOKED_MESSAGE = (
    "Penduduk ini sudah punya booking aktif untuk layanan ini; pindahkan atau batalkan dulu."
)


def _reserve(
    *, resident: Resident, window: TimeWindow, booked_by: Resident | None, source: str
) -> Booking:
    if _active_booking_exists(resident, Service.RECORDING):
        raise AlreadyBooked(ALREADY_BOOKED_MESSAGE)
    number = _take_place(window)
    return Booking.objects.create(
        code=generate_code(),
        resident=resident,
        booked_by=booked_by,
        window=window,
        queue_number=number,
        source=source,
    )


def book(
    *,
    resident: Resident,
    window: TimeWindow,
    booked_by: Resident | None = None,
    now: dt.datetime | None = None,
) -> Booking:
    """Book a place for a resident (or a family member) in a window."""
    now = now or timezone.now()
    _check_may_book(resident, booked_by)
    _check_window_open_for_booking(window, now)
    try:
        with transaction.atomic():
            booking = _reserve(
                resident=resident,
                window=window,
                booked_by=booked_by or resident,
                source=Booking.Source.ONLINE,
            )
            notify_booking(booking=booking)
    except IntegrityError:
        raise AlreadyBooked(ALREADY_BOOKED_MESSAGE) from None
    return booking


def move_booking(
    *, booking: Booking, window: TimeWindow, now: dt.datetime | None = None
) -> Booking:
    """Move an active booking to another window; its code stays."""
    now = now or timezone.now()
    _check_window_open_for_booking(window, now)
    with transaction.atomic():
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        if locked.status != BookingStatus.BOOKED:
            raise AppointmentError(
                f"Booking berstatus {locked.get_status_display().lower()} tidak dapat dipindah.",
                rule="status",
            )
        if locked.window_id == window.pk:
            raise AppointmentError("Booking sudah berada di jendela waktu ini.", rule="same_window")
        old_window = TimeWindow.objects.get(pk=locked.window_id)
        if now >= old_window.start_datetime() - dt.timedelta(minutes=cutoff_minutes()):
            raise AppointmentError(
                "Booking tidak dapat dipindah lagi setelah batas waktu jendela semula.",
                rule="cutoff",
            )
        locked.queue_number = _take_place(window)
        _give_back_place(locked.window_id)
        locked.window = window
        locked.save(update_fields=["window", "queue_number", "updated_at"])
    return locked


def cancel_booking(*, booking: Booking) -> Booking:
    """Cancel a booking that has not checked in, freeing its place."""
    with transaction.atomic():
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        if locked.status != BookingStatus.BOOKED:
            raise AppointmentError(
                f"Booking berstatus {locked.get_status_display().lower()} tidak dapat dibatalkan.",
                rule="status",
            )
        locked.status = BookingStatus.CANCELLED
        locked.save(update_fields=["status", "updated_at"])
        _give_back_place(locked.window_id)
    return locked


# ---------------------------------------------------------------- invitations


def invitation_targets(
    *,
    point: ServicePoint,
    kind: str,
    reference_day: dt.date,
    village_code: str | None,
    today: dt.date,
):
    """Return the residents an invitation of this kind is for, in the point's kab/kota."""
    kabkota = point.office.region_id
    if kind == InvitationBatch.Kind.UNRECORDED_VILLAGE:
        if not village_code:
            raise AppointmentError("Pilih desa/kelurahan tujuan undangan.", rule="village")
        qs = Resident.objects.wajib_ktp(reference_day).filter(
            recorded_on__isnull=True, address_region_id=village_code
        )
    elif kind == InvitationBatch.Kind.FIRST_VOTERS:
        qs = Resident.objects.alive().filter(
            recorded_on__isnull=True,
            birth_date__gt=years_ago(today, 17),
            birth_date__lte=years_ago(reference_day, 17),
        )
        qs = qs.filter(citizenship=Citizenship.WNI) | qs.filter(has_itap=True)
        if village_code:
            qs = qs.filter(address_region_id=village_code)
    else:
        raise AppointmentError("Jenis sasaran undangan tidak dikenal.", rule="kind")
    if village_code and not village_code.startswith(kabkota + "."):
        raise AppointmentError(
            "Desa/kelurahan itu di luar kabupaten/kota kantor ini.", rule="jurisdiction"
        )
    active = Booking.objects.filter(service=Service.RECORDING, status__in=ACTIVE_BOOKING).values(
        "resident_id"
    )
    return qs.filter(kabkota_code=kabkota).exclude(pk__in=active).order_by("birth_date", "nik")


def invite(
    *,
    point: ServicePoint,
    kind: str,
    reference_day: dt.date,
    first_day: dt.date,
    actor: User,
    village_code: str | None = None,
    limit: int = 500,
    now: dt.datetime | None = None,
) -> InvitationBatch:
    """Invite a list of residents, each to the next window with room from a first day on."""
    from ektp.appointments.tasks import send_invitation

    now = now or timezone.now()
    today = timezone.localdate(now)
    if not 1 <= limit <= MAX_INVITATIONS:
        raise AppointmentError(
            f"Jumlah undangan harus antara 1 dan {MAX_INVITATIONS}.", rule="limit"
        )
    if first_day <= today:
        raise AppointmentError("Tanggal mulai undangan harus setelah hari ini.", rule="past")
    if first_day > today + dt.timedelta(days=horizon_days()):
        raise AppointmentError(
            f"Tanggal mulai undangan paling jauh {horizon_days()} hari ke depan.", rule="horizon"
        )
    targets = list(
        invitation_targets(
            point=point,
            kind=kind,
            reference_day=reference_day,
            village_code=village_code,
            today=today,
        )[:limit]
    )
    if not targets:
        raise AppointmentError("Tidak ada penduduk sasaran yang perlu diundang.", rule="empty")
    with transaction.atomic():
        batch = InvitationBatch.objects.create(
            service_point=point,
            kind=kind,
            village_id=village_code or None,
            reference_day=reference_day,
            first_day=first_day,
            created_by=actor,
            created_at=now,
        )
        day, last_day = first_day, first_day + dt.timedelta(days=horizon_days())
        windows: list[TimeWindow] = []
        invited = []
        pending = iter(targets)
        resident = next(pending, None)
        while resident is not None and day <= last_day:
            if not windows:
                windows = [w for w in windows_for(point=point, day=day) if w.remaining > 0]
                day += dt.timedelta(days=1)
                continue
            window = windows[0]
            try:
                booking = _reserve(
                    resident=resident,
                    window=window,
                    booked_by=None,
                    source=Booking.Source.INVITATION,
                )
            except WindowFull:
                windows.pop(0)
                continue
            window.booked += 1
            if window.remaining <= 0:
                windows.pop(0)
            invited.append(Invitation(batch=batch, resident=resident, booking=booking))
            resident = next(pending, None)
        if not invited:
            raise AppointmentError(
                "Tidak ada jendela waktu yang masih kosong dalam rentang tanggal itu.",
                rule="full",
            )
        Invitation.objects.bulk_create(invited)
        batch.skipped = len(targets) - len(invited)
        batch.save(update_fields=["skipped"])
        record_audit(
            user=actor,
            action=AuditEvent.Action.CREATE,
            object_type="invitation_batch",
            object_id=str(batch.pk),
            detail={"invited": len(invited), "skipped": batch.skipped},
        )
        ids = [i.pk for i in invited]
        transaction.on_commit(lambda: [send_invitation.enqueue(invitation_id=str(i)) for i in ids])
    return batch


# ---------------------------------------------------------------- the gate


def _queue_day(point: ServicePoint, day: dt.date) -> QueueDay:
    QueueDay.objects.get_or_create(service_point=point, day=day)
    return QueueDay.objects.select_for_update().get(service_point=point, day=day)


def _priority_for(resident: Resident | None, flagged: str, day: dt.date) -> str:
    if flagged:
        if flagged not in PriorityReason.values:
            raise QueueError("Alasan prioritas tidak dikenal.", rule="priority")
        return flagged
    if resident is not None and resident.age(day) >= ELDERLY_AGE:
        return PriorityReason.ELDERLY
    return PriorityReason.NONE


def check_in(
    *,
    point: ServicePoint,
    code: str,
    actor: User,
    priority: str = "",
    now: dt.datetime | None = None,
) -> QueueTicket:
    """Check a booked resident in at the gate and give them a queue number (series A)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        booking = booking_by_code(code, for_update=True)
        if booking.window.service_point_id != point.pk:
            raise QueueError(
                f"Booking ini untuk {booking.window.service_point.name}, bukan titik layanan ini.",
                rule="point",
            )
        if booking.window.day != today:
            raise QueueError(
                f"Booking ini untuk tanggal {booking.window.day:%d-%m-%Y}, bukan hari ini.",
                rule="day",
            )
        if booking.status != BookingStatus.BOOKED:
            raise QueueError(
                f"Booking berstatus {booking.get_status_display().lower()}; tidak dapat check-in.",
                rule="status",
            )
        queue_day = _queue_day(point, today)
        queue_day.last_booked += 1
        queue_day.save(update_fields=["last_booked"])
        ticket = QueueTicket.objects.create(
            service_point=point,
            day=today,
            series=QueueTicket.Series.BOOKED,
            number=queue_day.last_booked,
            window=booking.window,
            booking=booking,
            resident=booking.resident,
            on_time=now <= booking.window.end_datetime(),
            priority=_priority_for(booking.resident, priority, today),
            issued_at=now,
            issued_by=actor,
        )
        booking.status = BookingStatus.CHECKED_IN
        booking.save(update_fields=["status", "updated_at"])
    return ticket


def remaining_today(*, point: ServicePoint, day: dt.date) -> int:
    """Return the places still free on a day across all its windows."""
    return sum(w.remaining for w in windows_for(point=point, day=day))


def issue_walk_in(
    *,
    point: ServicePoint,
    actor: User,
    priority: str = "",
    nik: str = "",
    now: dt.datetime | None = None,
) -> QueueTicket:
    """Give a walk-in resident a queue number for today (series B) while places remain."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    resident = None
    if nik:
        nik = parse_nik_or_error(nik)
        resident = Resident.objects.filter(nik=nik).first()
        if resident is None:
            raise QueueError("NIK tidak terdaftar di data kependudukan.", rule="nik_unknown")
        if _active_booking_exists(resident, Service.RECORDING):
            raise QueueError(
                "Penduduk ini punya booking aktif; check-in dengan kode booking.", rule="booked"
            )
    priority = _priority_for(resident, priority, today)
    windows = windows_for(point=point, day=today)
    if not windows:
        raise QueueError("Titik layanan tutup hari ini.", rule="closed")
    with transaction.atomic():
        queue_day = _queue_day(point, today)
        for window in windows:
            try:
                _take_place(window)
            except WindowFull:
                continue
            break
        else:
            raise QueueError("Kapasitas layanan hari ini sudah habis.", rule="capacity")
        queue_day.last_walk_in += 1
        queue_day.save(update_fields=["last_walk_in"])
        return QueueTicket.objects.create(
            service_point=point,
            day=today,
            series=QueueTicket.Series.WALK_IN,
            number=queue_day.last_walk_in,
            window=window,
            resident=resident,
            priority=priority,
            issued_at=now,
            issued_by=actor,
        )


# ---------------------------------------------------------------- counters


def create_counter(*, point: ServicePoint, name: str) -> Counter:
    """Open a counter (loket) at a point."""
    name = (name or "").strip()
    if not name or len(name) > 40:
        raise QueueError("Nama loket wajib diisi, paling banyak 40 karakter.", rule="name")
    try:
        with transaction.atomic():
            return Counter.objects.create(service_point=point, name=name)
    except IntegrityError:
        raise QueueError(f"Loket {name} sudah ada di titik ini.", rule="duplicate") from None


def call_order(tickets: list[QueueTicket], now: dt.datetime) -> list[QueueTicket]:
    """Order waiting tickets: booked-on-time first, then ticket order; priority first in each."""
    clock = timezone.localtime(now).time()

    def key(t: QueueTicket):
        on_time = (
            t.series == QueueTicket.Series.BOOKED and t.on_time and t.window.starts_at <= clock
        )
        return (0 if on_time else 1, 0 if t.priority else 1, t.issued_at, t.series, t.number)

    return sorted(tickets, key=key)


def call_next(*, counter: Counter, actor: User, now: dt.datetime | None = None) -> QueueTicket:
    """Call the next waiting number to a counter."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        _queue_day(counter.service_point, today)
        current = QueueTicket.objects.filter(
            counter=counter, day=today, status=QueueTicket.Status.CALLED
        ).first()
        if current is not None:
            raise QueueError(
                f"Selesaikan dulu nomor {current.label} (dilayani atau tidak hadir).",
                rule="busy",
            )
        waiting = list(
            QueueTicket.objects.filter(
                service_point=counter.service_point, day=today, status=QueueTicket.Status.WAITING
            ).select_related("window")
        )
        if not waiting:
            raise QueueError("Tidak ada nomor antrean yang menunggu.", rule="empty")
        ticket = call_order(waiting, now)[0]
        ticket.status = QueueTicket.Status.CALLED
        ticket.counter = counter
        ticket.called_at = now
        ticket.called_by = actor
        ticket.save(update_fields=["status", "counter", "called_at", "called_by"])
    return ticket


def _finish(ticket: QueueTicket, status: str, booking_status: str, now) -> QueueTicket:
    with transaction.atomic():
        locked = QueueTicket.objects.select_for_update().get(pk=ticket.pk)
        if locked.status != QueueTicket.Status.CALLED:
            raise QueueError(
                f"Nomor {locked.label} berstatus {locked.get_status_display().lower()}, "
                "belum dipanggil.",
                rule="status",
            )
        locked.status = status
        locked.finished_at = now or timezone.now()
        locked.save(update_fields=["status", "finished_at"])
        if locked.booking_id:
            Booking.objects.filter(pk=locked.booking_id).update(
                status=booking_status, updated_at=timezone.now()
            )
    return locked


def mark_served(*, ticket: QueueTicket, now: dt.datetime | None = None) -> QueueTicket:
    """Mark a called number as served."""
    return _finish(ticket, QueueTicket.Status.SERVED, BookingStatus.SERVED, now)


def mark_no_show(*, ticket: QueueTicket, now: dt.datetime | None = None) -> QueueTicket:
    """Mark a called number as not present."""
    return _finish(ticket, QueueTicket.Status.NO_SHOW, BookingStatus.NO_SHOW, now)


def recall(*, ticket: QueueTicket, counter: Counter, actor: User, now=None) -> QueueTicket:
    """Call a number again: still called at its counter, or back after a no-show."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = QueueTicket.objects.select_for_update().get(pk=ticket.pk)
        if locked.status not in (QueueTicket.Status.CALLED, QueueTicket.Status.NO_SHOW):
            raise QueueError(
                f"Nomor {locked.label} berstatus {locked.get_status_display().lower()}; "
                "tidak dapat dipanggil ulang.",
                rule="status",
            )
        busy = (
            QueueTicket.objects.filter(counter=counter, day=locked.day, status="called")
            .exclude(pk=locked.pk)
            .first()
        )
        if busy is not None:
            raise QueueError(f"Selesaikan dulu nomor {busy.label} di loket ini.", rule="busy")
        if locked.status == QueueTicket.Status.NO_SHOW and locked.booking_id:
            Booking.objects.filter(pk=locked.booking_id).update(
                status=BookingStatus.CHECKED_IN, updated_at=timezone.now()
            )
        locked.status = QueueTicket.Status.CALLED
        locked.counter = counter
        locked.called_at = now
        locked.called_by = actor
        locked.recall_count += 1
        locked.finished_at = None
        locked.save(
            update_fields=[
                "status",
                "counter",
                "called_at",
                "called_by",
                "recall_count",
                "finished_at",
            ]
        )
    return locked


# ---------------------------------------------------------------- reminders


def bookings_to_remind(day: dt.date):
    """Return the bookings of a day that have not been reminded yet."""
    return Booking.objects.filter(
        window__day=day, status=BookingStatus.BOOKED, reminded_at__isnull=True
    )


def remind_day(*, day: dt.date) -> int:
    """Enqueue a reminder for every booking of a day not yet reminded; return how many."""
    from ektp.appointments.tasks import send_reminder

    ids = list(bookings_to_remind(day).values_list("pk", flat=True))
    for booking_id in ids:
        send_reminder.enqueue(booking_id=str(booking_id))
    return len(ids)

"""Reads for the public status inquiry: a resident's KTP-el stage, suket and bookings."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field

import psycopg
from django.apps import apps
from django.core.exceptions import FieldError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ektp.core.errors import DomainError
from ektp.core.formats import collect_from, tanggal
from ektp.residents.models import KtpStatus, LifeStatus, Resident

GENERIC_NOT_FOUND = (
    "Data tidak ditemukan. Periksa kembali NIK dan tanggal lahir Anda, atau datang ke kantor "
    "Disdukcapil terdekat."
)


class InquiryInvalid(DomainError, ValueError):
    """The birth date typed by a resident is malformed (a NIK: residents.nik.InvalidNumber)."""

    rule = "inquiry_invalid"


# The ways a birth date may be written: DD-MM-YYYY, DD/MM/YYYY (day and month of one or two
# digits) and YYYY-MM-DD. A regular expression and date() read them several times faster
# than strptime, which the status inquiry would run on every try.
DAY_FIRST = re.compile(r"([0-9]{1,2})([-/])([0-9]{1,2})\2([0-9]{4})")
YEAR_FIRST = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")


def parse_birth_date(text: str, *, today: dt.date | None = None) -> dt.date:
    """Return a birth date written DD-MM-YYYY (or DD/MM/YYYY, or YYYY-MM-DD)."""
    text = (text or "").strip()
    day = None
    if found := DAY_FIRST.fullmatch(text):
        day, _, month, year = found.groups()
    elif found := YEAR_FIRST.fullmatch(text):
        year, month, day = found.groups()
    try:
        born = dt.date(int(year), int(month), int(day)) if day is not None else None
    except ValueError:
        born = None
    if born is None:
        raise InquiryInvalid("Tanggal lahir harus ditulis HH-BB-TTTT, misalnya 17-08-1990.")
    if born > (today or timezone.localdate()) or born.year < 1900:
        raise InquiryInvalid("Tanggal lahir tidak mungkin (di masa depan atau sebelum 1900).")
    return born


RESIDENT_FIELDS = (
    "id", "nik", "name", "birth_date", "ktp_status", "recorded_on", "kabkota_code", "phone",
    "email",
)  # fmt: skip


def _model(label: str):
    """Return an optional app's model, or None when the app is not installed."""
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _literal(value: str) -> str:
    """Write one of our own constants (a status) into the SQL as a quoted literal."""
    if not re.fullmatch(r"[A-Za-z0-9_]+", value):
        raise ValueError(f"not a plain constant: {value!r}")
    return f"'{value}'"


@functools.cache
def _lookup_sql(vendor: str) -> str:
    """Write once per process the one query of an inquiry: the living resident with this NIK
    and birth date, whether a valid suket or an upcoming booking exists, the card in hand and
    the office of a printed card with no print on record.

    Written out rather than built with the ORM on every inquiry, the busiest request of the
    public site: building and compiling that queryset cost several times the query itself.
    Table and column names come from the models; its four values are parameters
    (NIK, birth date, today twice), the constants are literals (SQLite plans a statement
    again on every run when a parameter could decide whether a partial index applies).
    """
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name

    def table(model) -> str:
        return quote(model._meta.db_table)

    def col(alias: str, model, name: str) -> str:
        return f"{alias}.{quote(model._meta.get_field(name).column)}"

    r = Resident
    printed = f"{col('r', r, 'ktp_status')} = {_literal(KtpStatus.CARD_PRINTED.value)}"
    columns = [col("r", r, name) for name in RESIDENT_FIELDS]
    suket, booking = _model("suket.Suket"), _model("appointments.Booking")
    window = _model("appointments.TimeWindow")
    card, point, office = (
        _model("cards.CardPrint"),
        _model("offices.ServicePoint"),
        _model("offices.Office"),
    )
    if suket is not None:
        columns.append(
            f"EXISTS (SELECT 1 FROM {table(suket)} s WHERE {col('s', suket, 'resident')} = "
            f"{col('r', r, 'id')} AND {col('s', suket, 'status')} = {_literal('valid')} "
            f"AND {col('s', suket, 'valid_until')} >= %s) AS has_suket"
        )
    else:
        columns.append("%s IS NULL AS has_suket")
    if booking is not None:
        statuses = ", ".join(_literal(status) for status in ("booked", "checked_in"))
        columns.append(
            f"EXISTS (SELECT 1 FROM {table(booking)} b INNER JOIN {table(window)} w "
            f"ON {col('w', window, 'id')} = {col('b', booking, 'window')} "
            f"WHERE {col('b', booking, 'resident')} = {col('r', r, 'id')} "
            f"AND {col('b', booking, 'status')} IN ({statuses}) "
            f"AND {col('w', window, 'day')} >= %s) AS has_booking"
        )
    else:
        columns.append("%s IS NULL AS has_booking")
    if card is not None:
        latest = (
            f"FROM {table(card)} c LEFT OUTER JOIN {table(point)} p "
            f"ON {col('p', point, 'id')} = {col('c', card, 'service_point')} "
            f"WHERE {col('c', card, 'resident')} = {col('r', r, 'id')} "
            f"AND {col('c', card, 'voided_at')} IS NULL "
            f"ORDER BY {col('c', card, 'printed_at')} DESC LIMIT 1"
        )
        on_record = (
            f"EXISTS (SELECT 1 FROM {table(card)} c "
            f"WHERE {col('c', card, 'resident')} = {col('r', r, 'id')})"
        )
        columns += [
            f"CASE WHEN {printed} THEN (SELECT {col('p', point, 'name')} {latest}) END "
            "AS print_point",
            f"CASE WHEN {printed} THEN (SELECT {col('c', card, 'printed_at')} {latest}) END "
            "AS printed_at",
        ]
        for field, name in (("name", "home_office"), ("address", "home_office_address")):
            home = (
                f"(SELECT {col('o', office, field)} FROM {table(office)} o "
                f"WHERE {col('o', office, 'region')} = {col('r', r, 'kabkota_code')} LIMIT 1)"
            )
            columns.append(f"CASE WHEN {printed} AND NOT {on_record} THEN {home} END AS {name}")
    alive = _literal(LifeStatus.ALIVE.value)
    return (
        f"SELECT {', '.join(columns)} FROM {table(r)} r "
        f"WHERE {col('r', r, 'nik')} = %s AND {col('r', r, 'birth_date')} = %s "
        f"AND {col('r', r, 'life_status')} = {alive} LIMIT 1"
    )


def _aware(value):
    """A datetime read from an extra column: SQLite gives its text, in UTC."""
    if isinstance(value, str):
        value = parse_datetime(value)
        if value is not None and timezone.is_naive(value):
            value = timezone.make_aware(value, dt.UTC)
    return value


def _lookup_cursor(connection):
    """On PostgreSQL a psycopg cursor that binds on the server, so that psycopg prepares the
    inquiry once per connection (the `prepare_threshold` option, see settings): planning its
    subqueries costs PostgreSQL several times running them, and Django's own cursors bind on
    the client, where nothing is prepared. Logged and wrapped like Django's cursors. Django's
    own cursor elsewhere (SQLite keeps its statements prepared itself)."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    return wrap(raw)


def _find_prepared(connection, sql: str, params: list) -> Resident | None:
    """Run the inquiry and make the resident from its row: the model's fields through
    Model.from_db, the other columns as attributes."""
    with _lookup_cursor(connection) as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        names = [column[0] for column in cursor.description]
    if row is None:
        return None
    count = len(RESIDENT_FIELDS)
    read = dict(zip(RESIDENT_FIELDS, row[:count], strict=True))
    # from_db takes the values in the order of the model's fields.
    names_in_order = [f.attname for f in Resident._meta.concrete_fields if f.attname in read]
    resident = Resident.from_db(
        DEFAULT_DB_ALIAS, names_in_order, [read[name] for name in names_in_order]
    )
    for name, value in zip(names[count:], row[count:], strict=True):
        setattr(resident, name, value)
    return resident


def find_resident(
    *, nik: str, birth_date: dt.date, today: dt.date | None = None
) -> Resident | None:
    """Return the living resident with both this NIK and this birth date, or None.

    One query: the resident carries `has_suket` and `has_booking`, so that status_of
    reads suket and bookings only for the few who have them, `print_point` and
    `printed_at` of the card in hand (None when there is none), and `home_office` and
    `home_office_address` where a printed card has no print on record.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    adapt = connection.ops.adapt_datefield_value
    today = adapt(today or timezone.localdate())
    params = [today, today, nik, adapt(birth_date)]
    resident = _find_prepared(connection, _lookup_sql(connection.vendor), params)
    if resident is None:
        return None
    if hasattr(resident, "printed_at"):
        resident.printed_at = _aware(resident.printed_at)
    return resident


def mask_name(name: str) -> str:
    """Keep the first two letters of each word and hide the rest."""
    words = []
    for word in name.split():
        keep = 2 if len(word) > 2 else 1
        words.append(word[:keep] + "*" * (len(word) - keep))
    return " ".join(words)


@dataclass
class StatusAnswer:
    """Where a KTP-el stands and where to go; never a booking code or a download link (a NIK
    and a birth date are public): the ids of suket and bookings stay on the server's side."""

    stage: str
    headline: str
    detail: str
    masked_nik: str
    masked_name: str
    steps_done: int
    sukets: list[dict] = field(default_factory=list)
    bookings: list[dict] = field(default_factory=list)
    print_wait: str = ""  # for a PRR record: when the card may be printed (see print_wait)

    def as_text(self) -> str:
        """Render the answer as a short chat message."""
        lines = [f"NIK {self.masked_nik} ({self.masked_name})", f"*{self.headline}*", self.detail]
        lines += [f"Suket {s['number']} berlaku sampai {s['valid_until']}." for s in self.sukets]
        lines += [
            f"Janji temu {b['date']} pukul {b['window']} di {b['point']}." for b in self.bookings
        ]
        return "\n".join(lines)


STAGES = {
    KtpStatus.BELUM_REKAM: (
        "not_recorded",
        0,
        "Belum rekam",
        "Anda belum melakukan perekaman KTP-el. Datang ke kantor Disdukcapil atau UPT kecamatan, "
        "atau buat janji temu lebih dulu. Layanan gratis.",
    ),
    KtpStatus.BIO_CAPTURED: (
        "waiting",
        1,
        "Sudah rekam, menunggu penunggalan",
        "Data Anda sudah direkam dan sedang diperiksa di pusat (penunggalan).",
    ),
    KtpStatus.SENT_FOR_ENROLLMENT: (
        "waiting",
        1,
        "Sudah rekam, menunggu penunggalan",
        "Data Anda sudah direkam dan sedang diperiksa di pusat (penunggalan).",
    ),
    KtpStatus.ENROLL_FAILURE: (
        "problem",
        1,
        "Perekaman perlu diulang",
        "Hasil perekaman tidak dapat diproses. Mohon datang ke kantor Disdukcapil untuk "
        "rekam ulang.",
    ),
    KtpStatus.DUPLICATE_RECORD: (
        "problem",
        1,
        "Data perlu diperiksa petugas",
        "Ditemukan data ganda. Mohon datang ke kantor Disdukcapil dengan membawa Kartu Keluarga.",
    ),
    KtpStatus.PRINT_READY_RECORD: (
        "ready",
        2,
        "Siap cetak",
        "Data Anda sudah lolos penunggalan; KTP-el menunggu dicetak.",
    ),
    KtpStatus.CARD_PRINTED: ("printed", 3, "Sudah dicetak", "KTP-el Anda sudah dicetak."),
    KtpStatus.CARD_ISSUED: (
        "issued",
        4,
        "Sudah diserahkan",
        "KTP-el Anda sudah diserahkan. Bila hilang atau rusak, ajukan cetak ulang.",
    ),
}


def _latest_print(resident: Resident) -> tuple[str, dt.datetime] | None:
    """Return (collection point, printed at) of the resident's card in hand, or None."""
    try:
        card_print = apps.get_model("cards", "CardPrint")
    except LookupError:
        return None
    return (
        card_print.objects.filter(resident=resident, voided_at__isnull=True)
        .order_by("-printed_at")
        .values_list("service_point__name", "printed_at")
        .first()
    )


def _office_of_unrecorded_print(resident: Resident) -> tuple[str, str] | None:
    """Return (name, address) of the Disdukcapil office of the resident's kab/kota when the
    card was printed before this system recorded prints (data brought over from SIAK: no
    print, voided or not, is on record), else None; the office is where such a card waits.
    find_resident reads it in its one query (home_office)."""
    if hasattr(resident, "home_office"):
        return (
            (resident.home_office, resident.home_office_address or "")
            if resident.home_office
            else None
        )
    try:
        card_print = apps.get_model("cards", "CardPrint")
        office = apps.get_model("offices", "Office")
    except LookupError:
        return None
    if card_print.objects.filter(resident=resident).exists():
        return None
    return (
        office.objects.filter(region_id=resident.kabkota_code)
        .values_list("name", "address")
        .first()
    )


def valid_sukets(resident: Resident, today: dt.date) -> list:
    """Return the resident's suket that are valid today (none when the suket app is absent)."""
    try:
        suket = apps.get_model("suket", "Suket")
        return list(
            suket.objects.filter(resident=resident, status="valid", valid_until__gte=today)
            .select_related("office")
            .order_by("-issued_at")
        )
    except (LookupError, FieldError):
        return []


def _valid_suket_rows(resident: Resident, today: dt.date) -> list[tuple]:
    try:
        suket = apps.get_model("suket", "Suket")
        return list(
            suket.objects.filter(resident=resident, status="valid", valid_until__gte=today)
            .order_by("-issued_at")
            .values_list("id", "number", "valid_until")
        )
    except (LookupError, FieldError):
        return []


def _booking_rows(resident: Resident, today: dt.date) -> list[tuple]:
    try:
        booking = apps.get_model("appointments", "Booking")
        return list(
            booking.objects.filter(
                resident=resident, status__in=["booked", "checked_in"], window__day__gte=today
            )
            .order_by("window__day", "window__starts_at")
            .values_list(
                "id",
                "window__day",
                "window__starts_at",
                "window__ends_at",
                "window__service_point__name",
                "queue_number",
            )
        )
    except (LookupError, FieldError):
        return []


def status_of(resident: Resident, *, today: dt.date | None = None) -> StatusAnswer:
    """Say in plain Bahasa Indonesia where the resident's KTP-el stands."""
    today = today or timezone.localdate()
    stage, steps, headline, detail = STAGES.get(resident.ktp_status, STAGES[KtpStatus.BIO_CAPTURED])
    if resident.ktp_status == KtpStatus.CARD_PRINTED:
        if hasattr(resident, "printed_at"):  # read by find_resident
            card = (resident.print_point, resident.printed_at) if resident.printed_at else None
        else:
            card = _latest_print(resident)
        if card is not None:
            point, printed_at = card
            detail = (
                f"KTP-el Anda sudah dicetak. Silakan ambil di {point} "
                f"mulai {tanggal(collect_from(printed_at))}. Pengambilan gratis."
            )
            headline = f"Sudah dicetak, ambil di {point}"
        elif (office := _office_of_unrecorded_print(resident)) is not None:
            name, address = office
            where = f"{name}, {address}" if address else name
            detail = (
                f"KTP-el Anda sudah dicetak. Silakan ambil di {where}, atau tanyakan ke kantor "
                "itu bila Anda merekam di UPT kecamatan. Pengambilan gratis."
            )
    answer = StatusAnswer(
        stage=stage,
        headline=headline,
        detail=detail,
        masked_nik=resident.masked_nik,
        masked_name=mask_name(resident.name),
        steps_done=steps,
    )
    suket_rows = _valid_suket_rows(resident, today) if getattr(resident, "has_suket", True) else []
    for suket_id, number, valid_until in suket_rows:
        answer.sukets.append(
            {"id": str(suket_id), "number": number, "valid_until": tanggal(valid_until)}
        )
    booking_rows = _booking_rows(resident, today) if getattr(resident, "has_booking", True) else []
    for booking_id, day, starts, ends, point, number in booking_rows:
        answer.bookings.append(
            {
                "id": str(booking_id),
                "date": tanggal(day),
                "window": f"{starts:%H.%M}–{ends:%H.%M}",
                "point": point,
                "queue_number": number,
            }
        )
    return answer


def print_wait_text(
    *,
    position: int | None,
    exact: bool,
    short: bool,
    daily_allowance: int | None,
    printed_today: int | None,
    days_to_next_delivery: int,
) -> str:
    """Say when a card at this place of the print queue may be printed, from the daily ration."""
    if not short or position is None:
        return (
            "Perkiraan cetak: 1 hari layanan; stok blangko cukup, KTP-el dicetak tanpa penjatahan."
        )
    place = f"ke-{position}" if exact else f"setelah {position - 1} orang"
    if not daily_allowance:
        return (
            f"Perkiraan cetak: setelah blangko datang (sekitar {days_to_next_delivery} hari lagi). "
            f"Urutan Anda {place}. Selama menunggu, Anda dapat meminta suket di kantor Disdukcapil."
        )
    left_today = max(daily_allowance - (printed_today or 0), 0)
    if exact and position <= left_today:
        return (
            f"Perkiraan cetak: hari ini. Urutan Anda {place} dalam jatah hari ini "
            f"({daily_allowance} kartu per hari)."
        )
    days = -(-(position - left_today) // daily_allowance)  # whole service days, rounded up
    return (
        f"Perkiraan cetak: {'sekitar' if exact else 'paling cepat'} {days} hari layanan lagi. "
        f"Urutan Anda {place}; stok blangko dijatah {daily_allowance} kartu per hari."
    )


def print_wait(resident: Resident) -> str:
    """Estimate when a PRR resident's card will be printed: the place in the office's print
    queue and the daily print ration, as the cards app reads them ("" without an office)."""
    found = _print_queue_place(resident)
    if found is None:
        return ""
    position, state = found
    return print_wait_text(
        position=position,
        exact=True,
        short=state.short,
        daily_allowance=state.daily_allowance,
        printed_today=state.printed_today,
        days_to_next_delivery=state.days_to_next_delivery,
    )


def _print_queue_place(resident: Resident):
    """Return (place in the office's print queue or None when printing is not rationed, the
    office's shortage state), or None when the resident is not in an office's queue.

    The one call into the cards app's print queue: its place is counted there, by the same
    rule the print operator's queue and the suket policy follow."""
    from ektp.cards import selectors as cards
    from ektp.cards.rationing import shortage
    from ektp.offices.models import Office

    office = Office.objects.filter(region_id=resident.kabkota_code).first()
    if office is None:
        return None
    state = shortage(office)  # kept for a minute: most answers stop here, with no ration
    if not state.short:
        return None, state
    outlook = cards.print_outlook(office, resident)
    if not outlook.in_queue:
        return None
    return outlook.position, state


def queue_today(code: str = "", *, today: dt.date | None = None) -> list[dict] | None:
    """Return today's queue per active point (or one point by code); None without the app."""
    try:
        ticket = apps.get_model("appointments", "QueueTicket")
    except LookupError:
        return None
    from ektp.offices.models import ServicePoint

    today = today or timezone.localdate()
    points = ServicePoint.objects.filter(is_active=True).order_by("code")
    if code:
        points = points.filter(code__iexact=code)
    rows = []
    for point in points[:5]:
        tickets = ticket.objects.filter(service_point=point, day=today)
        last = tickets.filter(called_at__isnull=False).order_by("-called_at").first()
        rows.append(
            {
                "code": point.code,
                "name": point.name,
                "waiting": tickets.filter(status="waiting").count(),
                "serving": last.label if last is not None else "-",
            }
        )
    return rows


UNAVAILABLE = object()


def latest_valid_suket(resident: Resident, *, today: dt.date | None = None):
    """Return the resident's latest valid suket, None, or UNAVAILABLE without the suket app."""
    try:
        apps.get_model("suket", "Suket")
    except LookupError:
        return UNAVAILABLE
    found = valid_sukets(resident, today or timezone.localdate())
    return found[0] if found else None


def suket_pdf(request, suket) -> bytes | None:
    """Render a suket's signed PDF through the suket app, or None when it cannot."""
    try:
        from ektp.suket import documents
    except ImportError:
        return None
    return documents.signed_pdf(suket, verify_url=documents.verify_url(request, suket.number))


def mask_phone(phone: str) -> str:
    """Show a phone number the way a resident recognises it without giving it away:
    0812******89."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("62"):
        digits = "0" + digits[2:]
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:4] + "*" * (len(digits) - 6) + digits[-2:]


@dataclass(frozen=True)
class Document:
    """A resident's document that a one-time code opens: a booking or a suket."""

    kind: str
    id: object
    resident: Resident
    title: str  # shown on the page that sends the code
    what: str  # said in the message that carries the code
    record: object  # the Booking or the Suket


def document_of(kind: str, document_id, *, today: dt.date | None = None) -> Document | None:
    """Return a booking that can still be managed or a suket still valid, or None."""
    today = today or timezone.localdate()
    if kind == "booking":
        try:
            booking = apps.get_model("appointments", "Booking")
        except LookupError:
            return None
        found = (
            booking.objects.select_related("resident", "window__service_point")
            .filter(pk=document_id, status__in=["booked", "checked_in"], window__day__gte=today)
            .first()
        )
        if found is None:
            return None
        window = found.window
        title = (
            f"Janji temu {tanggal(window.day)}, pukul {window.starts_at:%H.%M}–"
            f"{window.ends_at:%H.%M}, di {window.service_point.name}"
        )
        what = f"melihat atau membatalkan janji temu {tanggal(window.day)}"
        return Document(kind, found.pk, found.resident, title, what, found)
    if kind == "suket":
        try:
            suket = apps.get_model("suket", "Suket")
        except LookupError:
            return None
        found = (
            suket.objects.select_related("resident", "office__region")
            .filter(pk=document_id, status="valid", valid_until__gte=today)
            .first()
        )
        if found is None:
            return None
        title = f"Suket {found.number}, berlaku sampai {tanggal(found.valid_until)}"
        what = f"mengunduh suket {found.number}"
        return Document(kind, found.pk, found.resident, title, what, found)
    return None

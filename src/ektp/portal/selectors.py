"""Reads for the public status inquiry: a resident's KTP-el stage, suket and bookings."""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
from dataclasses import dataclass, field

from django.apps import apps
from django.core.exceptions import FieldError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import (
    Case,
    CharField,
    DateTimeField,
    Exists,
    OuterRef,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from ektp.core.errors import DomainError
from ektp.core.prepared import Read, fetch_one, statement
from ektp.notifications.events import collect_from, tanggal
from ektp.residents.models import KtpStatus, LifeStatus, Resident

NIK_PATTERN = re.compile(r"^[0-9]{16}$")
GENERIC_NOT_FOUND = (
    "Data tidak ditemukan. Periksa kembali NIK dan tanggal lahir Anda, atau datang ke kantor "
    "Disdukcapil terdekat."
)


class InquiryInvalid(DomainError, ValueError):
    """The NIK or birth date typed by a resident is malformed."""

    rule = "inquiry_invalid"


def parse_nik(text: str) -> str:
    """Return a NIK of 16 digits from what was typed (spaces and dots allowed)."""
    nik = re.sub(r"[\s.\-]", "", text or "")
    if not NIK_PATTERN.match(nik):
        raise InquiryInvalid("NIK harus 16 angka.")
    return nik


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


_NIK_SLOT = "nik-slot"
_BIRTH_SLOT = dt.date(1900, 1, 2)
_TODAY_SLOT = dt.date(1900, 1, 3)
RESIDENT_FIELDS = (
    "id", "nik", "name", "birth_date", "ktp_status", "recorded_on", "kabkota_code", "phone",
    "email",
)  # fmt: skip


def _flag(model_label: str, **lookups):
    """Return Exists(rows of an optional app's model for the outer resident), or False."""
    try:
        model = apps.get_model(model_label)
    except LookupError:
        return Value(False)
    return Exists(model.objects.filter(resident=OuterRef("pk"), **lookups))


def _latest_print_of(field: str, output_field):
    """Return a field of the latest card in hand (not voided) of a resident whose card is
    printed (read only for them: others cost no subquery), or None without the cards app."""
    try:
        model = apps.get_model("cards.CardPrint")
    except LookupError:
        return Value(None, output_field=output_field)
    latest = model.objects.filter(resident=OuterRef("pk"), voided_at__isnull=True)
    value = Subquery(latest.order_by("-printed_at").values(field)[:1])
    return Case(When(ktp_status=KtpStatus.CARD_PRINTED, then=value), default=Value(None))


def _home_office_of(field: str):
    """Return a field of the Disdukcapil office of the resident's kab/kota for a resident
    whose card is printed with no print on record (see _office_of_unrecorded_print), read
    only for them; else None."""
    try:
        card_print = apps.get_model("cards.CardPrint")
        office = apps.get_model("offices.Office")
    except LookupError:
        return Value(None, output_field=CharField())
    on_record = Exists(card_print.objects.filter(resident=OuterRef("pk")))
    home = Subquery(office.objects.filter(region_id=OuterRef("kabkota_code")).values(field)[:1])
    unrecorded = Case(When(on_record, then=Value(None)), default=home, output_field=CharField())
    return Case(
        When(ktp_status=KtpStatus.CARD_PRINTED, then=unrecorded),
        default=Value(None),
        output_field=CharField(),
    )


# What the lookup reads beside the resident's own fields, set on the resident it returns.
EXTRAS = (
    "has_suket", "has_booking", "print_point", "printed_at", "home_office", "home_office_address",
)  # fmt: skip


@dataclass(frozen=True)
class _Lookup:
    sql: str
    slots: list  # the slot of each parameter, in order (the constants are in the SQL)
    fields: list[int]  # columns of the resident's fields
    field_names: list[str]  # their attnames
    converters: list[tuple[int, list, object]]  # (column, converters, expression)
    extras: list[tuple[str, int]]  # (name, column) of each of EXTRAS


@functools.cache
def _lookup_statement(alias: str) -> _Lookup:
    """Compile once per process the one query of an inquiry, with slots for its values.

    The ORM writes the SQL (the resident and whether a valid suket or an upcoming booking
    exists) and says how to read each column back; only the values change between
    inquiries, so compiling it (or going through a RawQuerySet) every time is waste.

    The constants ("valid", the booking statuses, the life status) are written into the SQL
    as literals, quoted by the backend; only the slots stay parameters. SQLite compiles a
    statement again on every run when a parameter could decide whether a partial index
    applies (suket_one_valid_per_resident holds only status = 'valid'): that was most of
    the query's time. On PostgreSQL the statement is prepared on the server (see
    ektp.core.prepared).
    """
    query = (
        Resident.objects.filter(nik=_NIK_SLOT, birth_date=_BIRTH_SLOT, life_status=LifeStatus.ALIVE)
        .only(*RESIDENT_FIELDS)
        .annotate(
            has_suket=_flag("suket.Suket", status="valid", valid_until__gte=_TODAY_SLOT),
            has_booking=_flag(
                "appointments.Booking",
                status__in=["booked", "checked_in"],
                window__day__gte=_TODAY_SLOT,
            ),
            print_point=_latest_print_of("service_point__name", CharField()),
            printed_at=_latest_print_of("printed_at", DateTimeField()),
            home_office=_home_office_of("name"),
            home_office_address=_home_office_of("address"),
        )
        .order_by()[:1]
    ).query
    compiler = query.get_compiler(alias)
    sql, params = compiler.as_sql()
    sql, slots = _inline_constants(connections[alias], sql, params)
    selected = compiler.klass_info["select_fields"]
    field_names = [compiler.select[i][0].target.attname for i in selected]
    converters = compiler.get_converters([column for column, _, _ in compiler.select])
    return _Lookup(
        sql=statement(connections[alias], sql),
        slots=slots,
        fields=list(selected),
        field_names=field_names,
        converters=[(i, convs, expr) for i, (convs, expr) in converters.items()],
        extras=[(name, compiler.annotation_col_map[name]) for name in EXTRAS],
    )


def _inline_constants(connection, sql: str, params) -> tuple[str, list]:
    """Write every parameter that is not a slot into the SQL as a literal; return the SQL and
    the slots of the parameters left."""
    adapt = connection.ops.adapt_datefield_value
    marks = {_NIK_SLOT: _NIK_SLOT, adapt(_BIRTH_SLOT): _BIRTH_SLOT, adapt(_TODAY_SLOT): _TODAY_SLOT}
    params = [param.value if isinstance(param, enum.Enum) else param for param in params]
    slot_of = [marks.get(param) if isinstance(param, (str, dt.date)) else None for param in params]
    pieces = sql.split("%s")
    if len(pieces) != len(params) + 1:  # a literal "%s" in the SQL: keep every parameter
        return sql, [slot or param for slot, param in zip(slot_of, params, strict=True)]
    connection.ensure_connection()  # PostgreSQL quotes with the connection's encoding
    quote = connection.schema_editor().quote_value
    kept: list = []
    written = [pieces[0]]
    for param, slot, piece in zip(params, slot_of, pieces[1:], strict=True):
        if slot is not None:
            kept.append(slot)
            written.append("%s")
        else:
            written.append(quote(param).replace("%", "%%"))
        written.append(piece)
    return "".join(written), kept


def find_resident(
    *, nik: str, birth_date: dt.date, today: dt.date | None = None
) -> Resident | None:
    """Return the living resident with both this NIK and this birth date, or None.

    One query: the resident carries `has_suket` and `has_booking`, so that status_of
    reads suket and bookings only for the few who have them, and `print_point` and
    `printed_at` of the card in hand (None when there is none).
    """
    return resident_from_row(fetch_one(resident_read(nik=nik, birth_date=birth_date, today=today)))


def resident_read(*, nik: str, birth_date: dt.date, today: dt.date | None = None) -> Read:
    """Return find_resident's query as a Read, for a caller that runs it along with another
    statement (the inquiry counts its tries in the same round trip: see limits); its row
    goes to resident_from_row."""
    db = connections[DEFAULT_DB_ALIAS]  # once: each use of the proxy looks it up again
    lookup = _lookup_statement(db.alias)
    adapt = db.ops.adapt_datefield_value
    values = {
        _NIK_SLOT: nik,
        _BIRTH_SLOT: adapt(birth_date),
        _TODAY_SLOT: adapt(today or timezone.localdate()),
    }
    return Read(lookup.sql, [values.get(slot, slot) for slot in lookup.slots], db.alias)


def resident_from_row(row: tuple | None, using: str = DEFAULT_DB_ALIAS) -> Resident | None:
    """Return the resident of a row of resident_read's query (None for no row)."""
    if row is None:
        return None
    db = connections[using]
    lookup = _lookup_statement(using)
    row = list(row)
    for index, convs, expression in lookup.converters:
        for converter in convs:
            row[index] = converter(row[index], expression, db)
    resident = Resident.from_db(using, lookup.field_names, [row[i] for i in lookup.fields])
    for name, column in lookup.extras:
        setattr(resident, name, row[column])
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
        from ektp.suket.views import verify_url
    except ImportError:
        return None
    return documents.signed_pdf(suket, verify_url=verify_url(request, suket.number))


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

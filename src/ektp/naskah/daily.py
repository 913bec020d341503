"""The rekap harian: one day of an office's service, per service point, as figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

from django.db.models import Count, Q, Sum
from django.utils import timezone

from ektp.appointments.models import Booking, BookingStatus, QueueTicket
from ektp.cards.models import CardPrint, LedgerEntry
from ektp.cards.selectors import stock_by_location
from ektp.core import tables
from ektp.core.formats import tanggal
from ektp.enrollment.models import Enrollment, StatusChange
from ektp.offices.models import Office, ServicePoint
from ektp.residents.models import KtpStatus
from ektp.suket.models import Suket

SFE = KtpStatus.SENT_FOR_ENROLLMENT


@dataclass
class DayRow:
    """One place's figures of the day (a service point, the store, or the whole office)."""

    place: str
    recordings: int = 0
    prr: int = 0
    duplicates: int = 0
    failures: int = 0
    prints: int = 0
    hand_overs: int = 0
    bookings: int = 0
    bookings_present: int = 0
    walk_ins: int = 0
    blanks_used: int = 0
    blanks_spoiled: int = 0
    blanks_left: int = 0


# Column titles, in the order of DayRow's figures (shared by the PDF and the workbook).
COLUMNS = {
    "recordings": "Perekaman",
    "prr": "Penunggalan: siap cetak (PRR)",
    "duplicates": "Penunggalan: data ganda",
    "failures": "Penunggalan: gagal",
    "prints": "KTP-el dicetak",
    "hand_overs": "KTP-el diserahkan",
    "bookings": "Booking",
    "bookings_present": "Booking hadir",
    "walk_ins": "Datang langsung",
    "blanks_used": "Blangko terpakai",
    "blanks_spoiled": "Blangko rusak",
    "blanks_left": "Sisa blangko",
}
FIGURES = [f.name for f in fields(DayRow) if f.name != "place"]
# The printed page groups the columns under a heading each, with short titles below.
GROUPS = [
    ("Rekam", {"recordings": "Jumlah"}),
    ("Penunggalan", {"prr": "PRR", "duplicates": "Ganda", "failures": "Gagal"}),
    ("KTP-el", {"prints": "Cetak", "hand_overs": "Serah"}),
    ("Kunjungan", {"bookings": "Booking", "bookings_present": "Hadir", "walk_ins": "Datang"}),
    ("Blangko", {"blanks_used": "Terpakai", "blanks_spoiled": "Rusak", "blanks_left": "Sisa"}),
]


@dataclass
class DailyReport:
    office: Office
    day: dt.date
    rows: list[DayRow]
    total: DayRow
    suket: int


def _bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


def _per_point(qs, point_field: str, **figures) -> dict:
    """Aggregate a queryset per service point: {point_id: {figure: n}}."""
    rows = qs.values(point_field).annotate(**figures).order_by()
    return {r[point_field]: r for r in rows}


def _counts(office: Office, day: dt.date) -> dict[str, dict]:
    start, end = _bounds(day)
    window = {"gte": start, "lt": end}

    def between(name: str) -> dict:
        return {f"{name}__{k}": v for k, v in window.items()}

    return {
        "recordings": _per_point(
            Enrollment.objects.filter(service_point__office=office, **between("captured_at")),
            "service_point_id",
            recordings=Count("id"),
        ),
        "penunggalan": _per_point(
            StatusChange.objects.filter(
                enrollment__service_point__office=office, from_status=SFE, **between("at")
            ),
            "enrollment__service_point_id",
            prr=Count("id", filter=Q(to_status=KtpStatus.PRINT_READY_RECORD)),
            duplicates=Count("id", filter=Q(to_status=KtpStatus.DUPLICATE_RECORD)),
            failures=Count("id", filter=Q(to_status=KtpStatus.ENROLL_FAILURE)),
        ),
        "prints": _per_point(
            CardPrint.objects.filter(
                service_point__office=office, voided_at__isnull=True, **between("printed_at")
            ),
            "service_point_id",
            prints=Count("id"),
        ),
        "hand_overs": _per_point(
            CardPrint.objects.filter(service_point__office=office, **between("handed_over_at")),
            "service_point_id",
            hand_overs=Count("id"),
        ),
        "bookings": _per_point(
            Booking.objects.filter(window__service_point__office=office, window__day=day).exclude(
                status=BookingStatus.CANCELLED
            ),
            "window__service_point_id",
            bookings=Count("id"),
            bookings_present=Count(
                "id", filter=Q(status__in=[BookingStatus.CHECKED_IN, BookingStatus.SERVED])
            ),
        ),
        "walk_ins": _per_point(
            QueueTicket.objects.filter(
                service_point__office=office, day=day, series=QueueTicket.Series.WALK_IN
            ),
            "service_point_id",
            walk_ins=Count("id"),
        ),
        "blanks": _per_point(
            LedgerEntry.objects.filter(
                office=office,
                kind__in=[LedgerEntry.Kind.CONSUMPTION, LedgerEntry.Kind.SPOILAGE],
                **between("at"),
            ),
            "from_point_id",
            blanks_used=Sum("quantity", filter=Q(kind=LedgerEntry.Kind.CONSUMPTION)),
            blanks_spoiled=Sum("quantity", filter=Q(kind=LedgerEntry.Kind.SPOILAGE)),
        ),
    }


def daily_report(office: Office, day: dt.date) -> DailyReport:
    """Count one day of the office's service per point; the store's row holds its blanks."""
    counts = _counts(office, day)
    left = {row.point.pk if row.point else None: row.in_stock for row in stock_by_location(office)}
    points = list(ServicePoint.objects.filter(office=office).order_by("code"))
    rows = []
    for key, place in [(p.pk, p.name) for p in points] + [(None, "Gudang kantor")]:
        row = DayRow(place=place, blanks_left=left.get(key, 0))
        for figures in counts.values():
            for name, value in figures.get(key, {}).items():
                if name in FIGURES:
                    setattr(row, name, value or 0)
        point_active = key is None or next(p for p in points if p.pk == key).is_active
        if point_active or any(getattr(row, name) for name in FIGURES):
            rows.append(row)
    total = DayRow(place="Jumlah")
    for name in FIGURES:
        setattr(total, name, sum(getattr(row, name) for row in rows))
    start, end = _bounds(day)
    suket = Suket.objects.filter(office=office, issued_at__gte=start, issued_at__lt=end).count()
    return DailyReport(office=office, day=day, rows=rows, total=total, suket=suket)


def daily_workbook(report: DailyReport) -> bytes:
    """The rekap harian as an XLSX workbook: one sheet, a row per place, the totals last."""
    rows = [[row.place, *(getattr(row, name) for name in FIGURES)] for row in report.rows]
    total = report.total
    return tables.to_xlsx(
        ["Titik layanan", *COLUMNS.values()],
        rows,
        title=f"Rekapitulasi harian layanan KTP-el — {report.office.name}",
        subtitle=f"Tanggal: {tanggal(report.day)}",
        sheet="Rekap harian",
        footer=[
            [total.place, *(getattr(total, name) for name in FIGURES)],
            ["Suket diterbitkan", report.suket],
        ],
    )

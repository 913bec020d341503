"""The head of office's day at a glance: one figure per tile, each with its last two weeks.

Every figure comes from the app that owns it; this module only reads and arranges them.
The PRR backlog and the days of cover are read in one place (`stock_figures`) so that the
office's single definition of both (cards) is the one every page shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from ektp.appointments.models import Booking, BookingStatus, QueueTicket
from ektp.cards.models import CardPrint
from ektp.core.formats import tanggal_pendek
from ektp.core.models import User
from ektp.coverage import selectors as coverage
from ektp.coverage.models import CoverageSnapshot
from ektp.coverage.stats import CoverageRow, percent
from ektp.offices.models import Office
from ektp.residents.models import Resident
from ektp.suket.models import Suket

TREND_DAYS = 14


@dataclass
class Tile:
    """One figure of the dashboard with its trend (oldest day first)."""

    key: str
    title: str
    value: str
    note: str = ""
    url: str = ""
    series: list[float | None] = field(default_factory=list)
    days: list[dt.date] = field(default_factory=list)
    tone: str = ""  # "", "ok", "warn", "bad": how the figure stands
    decimals: int = 0

    @property
    def trend_label(self) -> str:
        """Say the trend in words for a screen reader: first and last day, lowest, highest."""
        known = [v for v in self.series if v is not None]
        if not known or not self.days:
            return "Belum ada data tren."
        return (
            f"Tren {tanggal_pendek(self.days[0])} sampai {tanggal_pendek(self.days[-1])}: "
            f"terendah {number(min(known), self.decimals)}, "
            f"tertinggi {number(max(known), self.decimals)}, "
            f"terakhir {number(known[-1], self.decimals)}."
        )

    @property
    def points(self) -> str:
        return sparkline_points(self.series)


def number(value: float | Decimal | int | None, decimals: int = 0) -> str:
    """Write a number the id-ID way: 19.825 or 92,5."""
    if value is None:
        return "—"
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def sparkline_points(
    series: list[float | None], *, width: float = 100, height: float = 24, pad: float = 2
) -> str:
    """Return SVG polyline points for a series (None = no figure that day, skipped)."""
    known = [v for v in series if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = (high - low) or 1
    step = width / max(len(series) - 1, 1)
    points = []
    for i, value in enumerate(series):
        if value is None:
            continue
        y = height - pad - (value - low) / span * (height - 2 * pad)
        if high == low:
            y = height / 2
        points.append(f"{i * step:.1f},{y:.1f}")
    return " ".join(points)


def window(today: dt.date, days: int = TREND_DAYS) -> list[dt.date]:
    return [today - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]


def _per_day(counts: dict, days: list[dt.date]) -> list[float | None]:
    return [float(counts.get(d, 0)) for d in days]


def stock_figures(office: Office, today: dt.date):
    """The office's PRR backlog and days of cover, from the cards app's one definition."""
    from ektp.cards.forecast import office_cover

    return office_cover(office, today=today)


def _active_target(user: User, today: dt.date):
    return coverage.targets_for(user).filter(due_date__gte=today).order_by("due_date").first()


def _recordings(office: Office, user: User, days: list[dt.date], today: dt.date) -> Tile:
    counts = dict(
        Resident.objects.filter(
            kabkota_code=office.region_id, recorded_on__gte=days[0], recorded_on__lte=today
        )
        .order_by()
        .values("recorded_on")
        .annotate(n=Count("pk"))
        .values_list("recorded_on", "n")
    )
    done = counts.get(today, 0)
    target = _active_target(user, today)
    note, tone = "Belum ada target perekaman.", ""
    if target is not None:
        progress = coverage.target_progress(target, as_of=today)
        need = progress.per_day or 0
        note = (
            f"Target {number(need)}/hari untuk “{target.name}” ({tanggal_pendek(target.due_date)})"
        )
        tone = "ok" if done >= need else "warn"
    return Tile(
        key="rekam",
        title="Perekaman hari ini",
        value=number(done),
        note=note,
        url=reverse("coverage:targets"),
        series=_per_day(counts, days),
        days=days,
        tone=tone,
    )


def _snapshots(office: Office, days: list[dt.date]) -> dict[dt.date, CoverageSnapshot]:
    return {
        s.day: s
        for s in CoverageSnapshot.objects.filter(
            region_code=office.region_id, day__gte=days[0], day__lte=days[-1]
        )
    }


def _stock_tiles(office: Office, days: list[dt.date], today: dt.date, snaps: dict) -> list[Tile]:
    cover = stock_figures(office, today)
    prr_series = [float(snaps[d].prr) if d in snaps else None for d in days]
    prr_series[-1] = float(cover.backlog)
    used = _prints_per_day(office, days)
    if cover.days_of_cover is None:
        cover_text, cover_note = "—", "Pemakaian belum terukur."
    else:
        cover_text = f"{number(cover.days_of_cover, 1)} hari"
        cover_note = f"{number(cover.on_hand)} blangko; kiriman berikutnya ±{cover.days_to_next_delivery} hari."
    return [
        Tile(
            key="prr",
            title="PRR menunggu cetak",
            value=number(cover.backlog),
            note="Siap cetak, belum dicetak.",
            url=reverse("cards:queue"),
            series=prr_series,
            days=days,
            tone="warn" if cover.backlog_flag else "",
        ),
        Tile(
            key="cover",
            title="Ketahanan blangko",
            value=cover_text,
            note=cover_note + " Tren: blangko terpakai per hari.",
            url=reverse("cards:cover"),
            series=_per_day(used, days),
            days=days,
            tone="bad" if cover.alert else "",
        ),
    ]


def _prints_per_day(office: Office, days: list[dt.date]) -> dict[dt.date, int]:
    since = timezone.make_aware(dt.datetime.combine(days[0], dt.time.min))
    counts: dict[dt.date, int] = {}
    printed = CardPrint.objects.filter(blank__office=office, printed_at__gte=since)
    for moment in printed.values_list("printed_at", flat=True).iterator():
        day = timezone.localdate(moment)
        counts[day] = counts.get(day, 0) + 1
    return counts


def _suket(office: Office, days: list[dt.date], today: dt.date) -> Tile:
    counts = dict(
        Suket.objects.filter(office=office, issued_on__gte=days[0], issued_on__lte=today)
        .order_by()
        .values("issued_on")
        .annotate(n=Count("pk"))
        .values_list("issued_on", "n")
    )
    return Tile(
        key="suket",
        title="Suket terbit hari ini",
        value=number(counts.get(today, 0)),
        note="Surat keterangan pengganti KTP-el.",
        url=reverse("suket:list"),
        series=_per_day(counts, days),
        days=days,
    )


def _visits(office: Office, days: list[dt.date], today: dt.date) -> list[Tile]:
    bookings = dict(
        Booking.objects.filter(
            window__service_point__office=office,
            window__day__gte=days[0],
            window__day__lte=today,
        )
        .exclude(status=BookingStatus.CANCELLED)
        .order_by()
        .values("window__day")
        .annotate(n=Count("pk"))
        .values_list("window__day", "n")
    )
    walk_ins = dict(
        QueueTicket.objects.filter(
            service_point__office=office, day__gte=days[0], day__lte=today, booking__isnull=True
        )
        .order_by()
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    return [
        Tile(
            key="janji",
            title="Janji temu hari ini",
            value=number(bookings.get(today, 0)),
            note="Pendaftaran daring dan undangan.",
            series=_per_day(bookings, days),
            days=days,
        ),
        Tile(
            key="datang",
            title="Datang langsung hari ini",
            value=number(walk_ins.get(today, 0)),
            note="Nomor antrean dari petugas gerbang.",
            series=_per_day(walk_ins, days),
            days=days,
        ),
    ]


def _coverage(office: Office, user: User, days: list[dt.date], today: dt.date, snaps: dict) -> Tile:
    row: CoverageRow = coverage.headline(user=user, code=office.region_id, as_of=today)
    series = [
        float(percent(snaps[d].recorded, snaps[d].wajib_ktp) or 0) if d in snaps else None
        for d in days
    ]
    if row.rate is not None:
        series[-1] = float(row.rate)
    zone_names = {
        "hijau": "hijau",
        "kuning": "kuning",
        "merah": "merah",
        "tanpa_data": "tanpa data",
    }
    return Tile(
        key="cakupan",
        title="Cakupan perekaman",
        value=f"{number(row.rate, 2)} %",
        note=f"Zona {zone_names.get(row.zone, row.zone)}; "
        f"{number(row.missing)} wajib KTP belum rekam.",
        url=reverse("coverage:dashboard"),
        series=series,
        days=days,
        tone={"hijau": "ok", "kuning": "warn", "merah": "bad"}.get(row.zone, ""),
        decimals=2,
    )


def head_dashboard(*, user: User, office: Office, today: dt.date | None = None) -> list[Tile]:
    """Return the tiles of the head of office's home page, each with its last two weeks."""
    today = today or timezone.localdate()
    days = window(today)
    snaps = _snapshots(office, days)
    return [
        _recordings(office, user, days, today),
        *_stock_tiles(office, days, today, snaps),
        _suket(office, days, today),
        *_visits(office, days, today),
        _coverage(office, user, days, today, snaps),
    ]

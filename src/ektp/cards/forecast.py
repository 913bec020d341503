"""Days of cover (ketahanan stok): how long the blanks last at the recent pace.

One definition, computed here and nowhere else (pages, the API, the request letter and the
ration all read `office_cover` / `cover_report`):

    ketahanan (hari layanan) = blangko tersedia ÷ pemakaian rata-rata per hari layanan

- A service day (hari layanan) is a weekday, Monday to Friday, that is not a public holiday
  or cuti bersama (the service calendar's default week).
- Average use = blanks consumed (cards printed, misprints included: the ledger's
  consumption) on the last `SERVICE_DAYS` service days before today, divided by the number
  of those days since the place printed its first card. Today is left out: a morning's
  few cards are not a day's pace.
- Without history (the place has never printed before today, or printed nothing in the
  window) the pace is the planned one: the office policy's `planned_daily_prints` (shared
  among the points that have a card printer), but no more than there is to print (the PRR
  waiting spread over the days to the next delivery, plus the new recordings per day), and
  never less than what was printed today.
- The cover is a number of service days: 0 with no stock left; None (shown as "belum ada
  pemakaian", never "∞") only when nothing is used, waiting or planned.

The suggested request adds the reprints a region change decree queued (its own line,
`decree_reprints`, apart from the PRR backlog), so that the letter asks for what the decree
costs in blanks.

The next delivery is also counted in service days (the delivery's lead time in calendar
days from the oldest open request, or from today), and the ration of `rationing.shortage`
spreads the day's stock over those days.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field

from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from ektp.cards.models import Blank, BlankRequest, CardPolicy, LedgerEntry, ReprintRequest
from ektp.offices.calendar import DEFAULT_WEEK, holiday_name
from ektp.offices.models import Device, Office, ServicePoint
from ektp.residents.models import Resident

SERVICE_DAYS = 20
BASIS_HISTORY = "riwayat"
BASIS_PLANNED = "rencana"
DEFINITION = (
    "Ketahanan = blangko tersedia ÷ pemakaian rata-rata per hari layanan "
    f"({SERVICE_DAYS} hari layanan terakhir, Senin–Jumat di luar hari libur dan cuti "
    "bersama; hari ini tidak dihitung). Tanpa riwayat cetak dipakai rencana cetak per hari."
)


def is_service_day(day: dt.date) -> bool:
    """A weekday of the default service week that is not a public holiday or cuti bersama."""
    return day.weekday() in DEFAULT_WEEK and holiday_name(day) is None


def service_days_before(today: dt.date, n: int = SERVICE_DAYS) -> list[dt.date]:
    """The last `n` service days before `today`, oldest first."""
    days: list[dt.date] = []
    day = today
    while len(days) < n:
        day -= dt.timedelta(days=1)
        if is_service_day(day):
            days.append(day)
    return days[::-1]


def service_days_until(today: dt.date, due: dt.date) -> int:
    """Service days from today (included) up to the delivery day (excluded), at least 1."""
    count, day = 0, today
    while day < due:
        count += is_service_day(day)
        day += dt.timedelta(days=1)
    return max(count, 1)


@dataclass(frozen=True)
class Cover:
    """The figures behind a days-of-cover judgement, for an office or one of its points.

    `backlog` is None for a point that serves the whole district (office, mobile unit, M2M):
    its PRR are the district's, shown once on the office row. `days_of_cover` is None only
    for a point that has no card printer and has never printed: it uses no blanks."""

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
    use_basis: str = BASIS_HISTORY
    history_days: int = 0
    printed_today: int = 0
    decree_reprints: int = 0
    definition: str = field(default=DEFINITION)

    @property
    def alert(self) -> bool:
        """Cover below the service days until the next delivery: printing is rationed."""
        return self.days_of_cover is not None and self.days_of_cover < self.days_to_next_delivery

    @property
    def backlog_flag(self) -> bool:
        """PRR records waiting more than a day while blanks are in stock and printing is not
        rationed (under the ration the queue says who is printed today)."""
        return self.on_hand > 0 and self.stale_backlog > 0 and not self.alert

    def as_figures(self) -> dict:
        figures = asdict(self)
        figures["days_of_cover"] = (
            None if self.days_of_cover is None else round(self.days_of_cover, 1)
        )
        figures["consumption_rate"] = round(self.consumption_rate, 2)
        figures["recording_rate"] = round(self.recording_rate, 2)
        figures["daily_demand"] = round(self.daily_demand, 2)
        figures["computed_on"] = timezone.localdate().isoformat()
        return figures


def _policy(office: Office) -> CardPolicy:
    return CardPolicy.of(office)


def _next_delivery_due(office: Office, lead: int, today: dt.date) -> dt.date:
    pending = (
        BlankRequest.objects.filter(
            office=office,
            status__in=[BlankRequest.Status.SUBMITTED, BlankRequest.Status.PARTIALLY_DELIVERED],
        )
        .order_by("submitted_at")
        .values_list("submitted_at", flat=True)
        .first()
    )
    start = timezone.localdate(pending) if pending is not None else today
    return max(start + dt.timedelta(days=lead), today + dt.timedelta(days=1))


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _use_by_place(office: Office, days: list[dt.date], today: dt.date) -> dict:
    """Per place (None = whole office, else point id): (used in window, first day, today)."""
    start = _day_start(days[0])
    end = _day_start(today)
    consumption = LedgerEntry.objects.filter(office=office, kind=LedgerEntry.Kind.CONSUMPTION)
    rows = consumption.values("from_point_id").annotate(
        window=Sum("quantity", filter=Q(at__gte=start, at__lt=end)),
        today=Sum("quantity", filter=Q(at__gte=end)),
        first=Min("at"),
    )
    out: dict = {}
    total_window = total_today = 0
    first_any = None
    for r in rows:
        out[r["from_point_id"]] = (r["window"] or 0, r["first"], r["today"] or 0)
        total_window += r["window"] or 0
        total_today += r["today"] or 0
        if r["first"] is not None and (first_any is None or r["first"] < first_any):
            first_any = r["first"]
    out[None] = (total_window, first_any, total_today)
    return out


def _daily_use(used: int, first: dt.datetime | None, printed_today: int, days, planned: float):
    """Average use per service day over the window since the first print, or the plan
    (already bounded by what there is to print)."""
    history = 0
    if first is not None:
        first_day = timezone.localdate(first)
        history = sum(1 for d in days if d >= first_day)
    if history and used:
        return used / history, BASIS_HISTORY, history
    return max(planned, float(printed_today)), BASIS_PLANNED, history


def _prr_figures(residents, today: dt.date, group: str | None = None):
    """PRR waiting (the one definition of cards.selectors.prr_waiting) and those stale."""
    stale = Q(recorded_on__lt=today - dt.timedelta(days=1))
    if group is None:
        agg = residents.aggregate(n=Count("pk"), stale=Count("pk", filter=stale))
        return agg["n"], agg["stale"]
    rows = (
        residents.order_by().values(group).annotate(n=Count("pk"), stale=Count("pk", filter=stale))
    )
    return {r[group]: (r["n"], r["stale"]) for r in rows}


def kept_prr_by_kecamatan(region_code: str, *, today: dt.date) -> dict[str, tuple[int, int]]:
    """Today's PRR waiting and those stale by kecamatan, from the village counts the coverage
    pages read (the same filter as prr_waiting, kept per village: no count over residents)."""
    from ektp.coverage.stats import village_counts

    out: dict[str, tuple[int, int]] = {}
    for village, counts in village_counts(as_of=today, within=region_code).items():
        n, stale = out.get(village[:8], (0, 0))
        out[village[:8]] = (n + counts["prr"], stale + counts["prr_stale"])
    return out


def _recording_by(office: Office, days: list[dt.date], group: str | None = None):
    qs = Resident.objects.filter(
        kabkota_code=office.region_id, recorded_on__gte=days[0], recorded_on__lte=days[-1]
    )
    if group is None:
        return qs.count()
    return dict(qs.order_by().values(group).annotate(n=Count("pk")).values_list(group, "n"))


def _serves_own_kecamatan(point: ServicePoint) -> bool:
    return bool(point.region_id) and point.kind == ServicePoint.Kind.UPT


def cover_report(
    office: Office, *, today: dt.date | None = None, with_points: bool = True
) -> tuple[Cover, list[Cover]]:
    """Days of cover for the whole office and for each active service point, each with its
    own stock, use and (for a UPT) its kecamatan's PRR, in a fixed number of queries."""
    from ektp.cards.selectors import prr_waiting
    from ektp.cards.services import outstanding_requested

    today = today or timezone.localdate()
    policy = _policy(office)
    days = service_days_before(today)
    lead = policy.lead_time_days
    to_delivery = service_days_until(today, _next_delivery_due(office, lead, today))
    stock = dict(
        Blank.objects.filter(office=office, state=Blank.State.IN_STOCK)
        .values("service_point_id")
        .annotate(n=Count("id"))
        .values_list("service_point_id", "n")
    )
    use = _use_by_place(office, days, today)
    if today == timezone.localdate():  # today's counts kept per village (coverage)
        by_kec = kept_prr_by_kecamatan(office.region_id, today=today)
    else:
        by_kec = _prr_figures(prr_waiting(office.region_id, today=today), today, "kecamatan_code")
    backlog = sum(n for n, _ in by_kec.values())  # the district is the sum of its kecamatan
    stale = sum(s for _, s in by_kec.values())
    recording = _recording_by(office, days) / len(days)
    outstanding = outstanding_requested(office)
    decree_reprints = ReprintRequest.objects.filter(
        office=office,
        status__in=[ReprintRequest.Status.WAITING, ReprintRequest.Status.DEFERRED],
        change_set__isnull=False,
    ).count()

    def build(place, on_hand, used, planned, backlog, stale, recording, outstanding, whole):
        if backlog is not None:  # no more than there is to print before the delivery
            planned = min(planned, backlog / to_delivery + recording)
        rate, basis, history = _daily_use(used[0], used[1], used[2], days, planned)
        demand = max(rate, recording)
        need = 0
        if whole:
            need = backlog + demand * (to_delivery + policy.target_cover_days) - on_hand
            need += decree_reprints - outstanding
        return Cover(
            place=place,
            on_hand=on_hand,
            consumption_rate=rate,
            recording_rate=recording,
            backlog=backlog,
            stale_backlog=stale,
            daily_demand=demand,
            days_of_cover=on_hand / rate if rate > 0 else None,
            lead_time_days=lead,
            target_cover_days=policy.target_cover_days,
            outstanding_requested=outstanding,
            days_to_next_delivery=to_delivery,
            suggested_request=max(math.ceil(need), 0),
            use_basis=basis,
            history_days=history,
            printed_today=used[2],
            decree_reprints=decree_reprints if whole else 0,
        )

    whole = build(
        office.name,
        sum(stock.values()),
        use[None],
        float(policy.planned_daily_prints),
        backlog,
        stale,
        recording,
        outstanding,
        True,
    )
    if not with_points:
        return whole, []
    points = list(office.service_points.filter(is_active=True).order_by("code"))
    printing_points = set(
        Device.objects.filter(service_point__in=points, kind=Device.Kind.CARD_PRINTER).values_list(
            "service_point_id", flat=True
        )
    )
    share = policy.planned_daily_prints / max(len(printing_points), 1)
    rec_kec = _recording_by(office, days, "kecamatan_code")
    rows = []
    for p in points:
        own = _serves_own_kecamatan(p)
        p_backlog, p_stale = by_kec.get(p.region_id, (0, 0)) if own else (None, 0)
        rows.append(
            build(
                p.name,
                stock.get(p.pk, 0),
                use.get(p.pk, (0, None, 0)),
                share if p.pk in printing_points else 0.0,
                p_backlog,
                p_stale,
                rec_kec.get(p.region_id, 0) / len(days) if own else 0.0,
                0,
                False,
            )
        )
    return whole, rows


def office_cover(office: Office, today: dt.date | None = None) -> Cover:
    """Days of cover for the whole office."""
    return cover_report(office, today=today, with_points=False)[0]


def cover_by_point(office: Office, today: dt.date | None = None) -> list[Cover]:
    """Days of cover for each active service point of the office."""
    return cover_report(office, today=today)[1]

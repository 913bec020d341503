"""Days of cover: how long the blanks last at the recent pace, and when to ask for more."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from ektp.cards.models import Blank, BlankRequest, CardPolicy, LedgerEntry
from ektp.offices.models import Office, ServicePoint
from ektp.residents.models import KtpStatus, Resident

WINDOW_DAYS = 28
HALF_LIFE_DAYS = 7.0


def ewma(daily: list[float], half_life: float = HALF_LIFE_DAYS) -> float:
    """Exponentially weighted mean of daily figures (oldest first); recent days weigh more."""
    if not daily:
        return 0.0
    n = len(daily)
    weights = [0.5 ** ((n - 1 - i) / half_life) for i in range(n)]
    return sum(w * x for w, x in zip(weights, daily, strict=True)) / sum(weights)


def _series(counts: dict[dt.date, int], today: dt.date, days: int = WINDOW_DAYS) -> list[float]:
    return [float(counts.get(today - dt.timedelta(days=days - i), 0)) for i in range(days)]


@dataclass(frozen=True)
class Cover:
    """The figures behind a days-of-cover judgement, for an office or one of its points."""

    place: str
    on_hand: int
    consumption_rate: float
    recording_rate: float
    backlog: int
    stale_backlog: int
    daily_demand: float
    days_of_cover: float | None
    lead_time_days: int
    target_cover_days: int
    outstanding_requested: int
    days_to_next_delivery: int
    suggested_request: int

    @property
    def alert(self) -> bool:
        """Cover below the lead time of the next delivery."""
        return self.days_of_cover is not None and self.days_of_cover < self.days_to_next_delivery

    @property
    def backlog_flag(self) -> bool:
        """PRR records waiting more than a day while blanks are in stock."""
        return self.on_hand > 0 and self.stale_backlog > 0

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


def _consumption_counts(office: Office, point: ServicePoint | None, since: dt.datetime) -> dict:
    until = since + dt.timedelta(days=WINDOW_DAYS)
    qs = LedgerEntry.objects.filter(
        office=office, kind=LedgerEntry.Kind.CONSUMPTION, at__gte=since, at__lt=until
    )
    if point is not None:
        qs = qs.filter(from_point=point)
    rows = qs.annotate(day=TruncDate("at")).values("day").annotate(n=Sum("quantity"))
    return {r["day"]: r["n"] for r in rows}


def _recording_counts(residents, since: dt.date) -> dict:
    rows = (
        residents.filter(recorded_on__gte=since)
        .values("recorded_on")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {r["recorded_on"]: r["n"] for r in rows}


def _next_delivery_days(office: Office, lead: int, today: dt.date) -> int:
    pending = (
        BlankRequest.objects.filter(
            office=office,
            status__in=[BlankRequest.Status.SUBMITTED, BlankRequest.Status.PARTIALLY_DELIVERED],
        )
        .order_by("submitted_at")
        .first()
    )
    if pending is None:
        return lead
    due = timezone.localdate(pending.submitted_at) + dt.timedelta(days=lead)
    return max((due - today).days, 1)


def compute_cover(
    *, office: Office, point: ServicePoint | None = None, today: dt.date | None = None
) -> Cover:
    """Compute the days of cover for an office (all its stock) or for one service point."""
    from ektp.cards.services import outstanding_requested

    today = today or timezone.localdate()
    policy = CardPolicy.objects.filter(office=office).first() or CardPolicy(office=office)
    stock = Blank.objects.filter(office=office, state=Blank.State.IN_STOCK)
    residents = Resident.objects.filter(kabkota_code=office.region_id)
    if point is not None:
        stock = stock.filter(service_point=point)
        if point.region_id and point.kind != ServicePoint.Kind.OFFICE:
            residents = residents.filter(kecamatan_code=point.region_id)
    on_hand = stock.count()
    start = today - dt.timedelta(days=WINDOW_DAYS)
    since = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    consumption = ewma(_series(_consumption_counts(office, point, since), today))
    recording = ewma(_series(_recording_counts(residents, start), today))
    prr = residents.filter(ktp_status=KtpStatus.PRINT_READY_RECORD)
    backlog = prr.count()
    stale = prr.filter(recorded_on__lt=today - dt.timedelta(days=1)).count()
    demand = max(consumption, recording)
    usable = max(on_hand - backlog, 0)
    cover: float | None = usable / demand if demand > 0 else None
    if demand == 0 and on_hand < backlog:
        cover = 0.0
    outstanding = outstanding_requested(office) if point is None else 0
    lead = policy.lead_time_days
    need = backlog + demand * (lead + policy.target_cover_days) - on_hand - outstanding
    return Cover(
        place=point.name if point is not None else office.name,
        on_hand=on_hand,
        consumption_rate=consumption,
        recording_rate=recording,
        backlog=backlog,
        stale_backlog=stale,
        daily_demand=demand,
        days_of_cover=cover,
        lead_time_days=lead,
        target_cover_days=policy.target_cover_days,
        outstanding_requested=outstanding,
        days_to_next_delivery=_next_delivery_days(office, lead, today),
        suggested_request=max(math.ceil(need), 0),
    )


def office_cover(office: Office, today: dt.date | None = None) -> Cover:
    """Days of cover for the whole office."""
    return compute_cover(office=office, today=today)


def cover_by_point(office: Office, today: dt.date | None = None) -> list[Cover]:
    """Days of cover for each active service point of the office."""
    points = office.service_points.filter(is_active=True).order_by("code")
    return [compute_cover(office=office, point=p, today=today) for p in points]

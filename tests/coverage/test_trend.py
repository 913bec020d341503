"""The coverage trend has one point per day, dated the Indonesian way; legends name places."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from ektp.core.formats import tanggal_pendek
from ektp.core.models import Role
from ektp.coverage import selectors
from ektp.coverage.models import CoverageSnapshot
from ektp.coverage.services import backfill_snapshots
from ektp.regions.models import Region
from tests.coverage.factories import adults

pytestmark = pytest.mark.django_db
A1 = "18.09.01.2001"
DAY = dt.date(2024, 6, 30)


@pytest.fixture
def supervisor(make_staff):
    return make_staff(Role.SUPERVISOR, region="18.09")


def test_short_dates_are_indonesian():
    assert tanggal_pendek(dt.date(2026, 12, 7)) == "7 Des"
    assert tanggal_pendek(dt.date(2026, 8, 17)) == "17 Agu"
    assert tanggal_pendek(dt.date(2026, 5, 1)) == "1 Mei"


def test_backfill_stores_one_point_per_day_rising_with_the_recordings(supervisor):
    for n in range(5):
        adults(A1, 1, recorded=1, recorded_on=DAY - dt.timedelta(days=n))
    adults(A1, 3)
    written = backfill_snapshots(within="18.09", days=7, today=DAY)
    assert written == [DAY - dt.timedelta(days=n) for n in range(6, -1, -1)]
    assert backfill_snapshots(within="18.09", days=7, today=DAY) == []  # stored already
    points = selectors.daily_trend(
        user=supervisor, code="18.09", start=DAY - dt.timedelta(days=30), end=DAY
    )
    assert [p.day for p in points] == written
    assert len({p.day for p in points}) == len(points)
    assert [p.recorded for p in points] == [0, 0, 1, 2, 3, 4, 5]
    assert all(p.stored for p in points)


def test_live_figure_closes_the_trend_when_today_is_not_stored_yet(supervisor):
    adults(A1, 2, recorded=1, recorded_on=DAY - dt.timedelta(days=1))
    backfill_snapshots(within="18.09", days=3, today=DAY - dt.timedelta(days=1))
    live = selectors.headline(user=supervisor, code="18.09", as_of=DAY)
    points = selectors.daily_trend(
        user=supervisor, code="18.09", start=DAY - dt.timedelta(days=10), end=DAY, live=live
    )
    assert [p.day for p in points][-2:] == [DAY - dt.timedelta(days=1), DAY]
    assert not points[-1].stored and points[-1].recorded == 1
    again = selectors.daily_trend(
        user=supervisor,
        code="18.09",
        start=DAY - dt.timedelta(days=10),
        end=DAY - dt.timedelta(days=1),
        live=live,
    )
    assert len(again) == 3  # that day is stored: no second point for it


def test_dashboard_charts_label_days_in_indonesian_and_name_kecamatan(client, supervisor):
    adults(A1, 3, recorded=2, recorded_on=DAY - dt.timedelta(days=2))
    adults("18.09.02.2001", 2, recorded=1, recorded_on=DAY - dt.timedelta(days=1))
    backfill_snapshots(within="18.09", days=5, today=DAY - dt.timedelta(days=1))
    client.force_login(supervisor)
    page = client.get(f"/cakupan/?tanggal={DAY.isoformat()}")
    assert page.status_code == 200
    html = page.content.decode()
    data = json.loads(
        html.split('id="coverage-data" type="application/json">')[1].split("</script>")[0]
    )
    assert [p["day"] for p in data["trend"]] == [
        (DAY - dt.timedelta(days=n)).isoformat() for n in range(5, -1, -1)
    ]
    assert data["trend"][-1]["label"] == "30 Jun"
    regions = {p["region"] for p in data["per_day"]}
    names = {Region.objects.get(code=c).name for c in ("18.09.01", "18.09.02")}
    assert regions == names
    assert not any(r[:1].isdigit() for r in regions)
    assert {p["label"] for p in data["per_day"]} == {"28 Jun", "29 Jun"}
    assert CoverageSnapshot.objects.filter(day=DAY).count() == 0  # a page view writes nothing

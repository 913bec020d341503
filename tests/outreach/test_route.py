"""A mobile unit's day in route order (nearest next from its base), drawn and printable."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from ektp.core.models import Role
from ektp.outreach import route, services
from ektp.outreach.distance import Point
from tests.outreach.factories import MobileUnitFactory

KM_PER_DEGREE = 111.2  # one degree of longitude on the equator


def _stops(*codes):
    return [route.Stop(code=c, name=f"Desa {c}") for c in codes]


def test_nearest_next_is_not_nearest_to_the_base():
    """On a line: A 1° east, B 1.2° west, C 2° east. From the base A is nearest, then from A
    the nearest is C (1°), not B (2.2°): A, C, B; a stop without a point comes last."""
    points = {
        "A": Point(lat=0, lng=1, code="A"),
        "B": Point(lat=0, lng=-1.2, code="B"),
        "C": Point(lat=0, lng=2, code="C"),
        "D": None,
    }
    legs = route.nearest_next(Point(lat=0, lng=0, code="base"), _stops("B", "D", "C", "A"), points)
    assert [leg.stop.code for leg in legs] == ["A", "C", "B", "D"]
    assert [leg.number for leg in legs] == [1, 2, 3, 4]
    assert legs[0].km == pytest.approx(KM_PER_DEGREE, abs=0.2)
    assert legs[2].km == pytest.approx(3.2 * KM_PER_DEGREE, abs=0.5)
    assert legs[3].km is None
    assert route.total_km(legs) == pytest.approx(5.2 * KM_PER_DEGREE, abs=1)


def test_without_a_base_point_the_route_still_chains_from_the_first_village():
    points = {c: Point(lat=0, lng=x, code=c) for c, x in (("A", 5), ("B", 1), ("C", 2))}
    legs = route.nearest_next(None, _stops("A", "B", "C"), points)
    assert [leg.stop.code for leg in legs] == ["A", "C", "B"]
    assert legs[0].km is None and legs[1].km == pytest.approx(3 * KM_PER_DEGREE, abs=0.5)


@pytest.mark.django_db
def test_route_page_orders_the_days_visits_and_draws_them(client, make_staff):
    head = make_staff(Role.SUPERVISOR, region="18.09")
    unit = MobileUnitFactory(region_id="18.09.01")  # base: Gedong Tataan's point
    day = timezone.localdate() + dt.timedelta(days=3)
    # Padang Ratu, Kurungan Nyawa, Wiyono: Wiyono lies next to the base, then Kurungan Nyawa.
    for village in ("18.09.01.2001", "18.09.01.2011", "18.09.01.2015"):
        services.plan_visit(
            actor=head,
            village_code=village,
            date=day,
            service_point_id=unit.pk,
            team="Tim A",
            expected_people=20,
            blanks_to_carry=10,
        )
    client.force_login(head)
    page = client.get(f"/jemput-bola/rute/?dari={unit.pk}&tanggal={day.isoformat()}")
    assert page.status_code == 200
    assert [leg.stop.code for leg in page.context["legs"]] == [
        "18.09.01.2015",
        "18.09.01.2011",
        "18.09.01.2001",
    ]
    html = page.content.decode()
    assert html.count('class="stop"') == 3 and 'class="path"' in html
    svg = html[html.index("<svg") : html.index("</svg>")]
    numbers = re.findall(r'(?:cx|cy|x|y|points|d)="([^"]*)"', svg)
    assert numbers and not any("," in n and " " not in n and "M" not in n for n in numbers)
    assert "Wiyono" in html and "data-print" in html
    pdf = client.get(f"/jemput-bola/rute/?dari={unit.pk}&tanggal={day.isoformat()}&format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    empty = client.get(f"/jemput-bola/rute/?dari={unit.pk}&tanggal={timezone.localdate()}")
    assert "Tidak ada kunjungan terjadwal" in empty.content.decode()


@pytest.mark.django_db
def test_route_page_refuses_bad_input(client, make_staff):
    client.force_login(make_staff(Role.SUPERVISOR, region="18.09"))
    assert client.get("/jemput-bola/rute/?dari=bukan-uuid").status_code == 400
    assert client.get("/jemput-bola/rute/?tanggal=kemarin").status_code == 400
    other = MobileUnitFactory(office__region_id="18.71", office__name="Disdukcapil Bandar Lampung")
    assert client.get(f"/jemput-bola/rute/?dari={other.pk}").status_code == 400


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_route_page_prints_its_map_in_a_browser(live_server, log_in, page, make_staff):
    from pathlib import Path

    head = make_staff(Role.SUPERVISOR, region="18.09")
    unit = MobileUnitFactory(region_id="18.09.01")
    day = timezone.localdate() + dt.timedelta(days=2)
    for village in ("18.09.01.2001", "18.09.01.2011", "18.09.01.2015"):
        services.plan_visit(
            actor=head,
            village_code=village,
            date=day,
            service_point_id=unit.pk,
            team="Tim A",
            expected_people=20,
            blanks_to_carry=10,
        )
    log_in(page, head)
    page.goto(f"{live_server.url}/jemput-bola/rute/?dari={unit.pk}&tanggal={day.isoformat()}")
    page.emulate_media(media="print")
    assert not page.locator(".topbar").is_visible()
    assert page.locator(".route-map .stop").count() == 3
    Path("var").mkdir(exist_ok=True)
    page.screenshot(path="var/route-plan.png", full_page=True)

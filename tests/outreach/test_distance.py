"""Distances from the base of a trip to the suggested villages."""

from __future__ import annotations

import math
import uuid

import pytest
from django.utils import timezone

from ektp.core.models import Role
from ektp.core.services import issue_api_token
from ektp.coverage import boundaries
from ektp.outreach import selectors
from ektp.outreach.distance import Point, base_for, distance_to, haversine_km, point_of
from ektp.outreach.selectors import OutreachInputError
from tests.coverage.factories import adults
from tests.outreach.factories import MobileUnitFactory, OfficeFactory

pytestmark = pytest.mark.django_db
A1, A2, A3 = "18.09.01.2001", "18.09.01.2002", "18.09.01.2003"
# A village of Pesawaran that the shipped coordinates do not list (its kecamatan's are used).
NO_POINT = "18.09.02.2020"


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def supervisor(make_staff):
    return make_staff(Role.SUPERVISOR, region="18.09")


def centre(code: str) -> Point:
    lng, lat = boundaries.load()[code]["c"]
    return Point(lat=lat, lng=lng, code=code)


def test_haversine_is_the_great_circle_distance():
    equator = Point(0, 0, "a"), Point(0, 1, "b")
    assert haversine_km(*equator) == pytest.approx(2 * math.pi * 6371.0088 / 360, rel=1e-9)
    gedong_tataan, padang_cermin = centre("18.09.01"), centre("18.09.02")
    assert haversine_km(gedong_tataan, padang_cermin) == haversine_km(padang_cermin, gedong_tataan)
    assert haversine_km(gedong_tataan, gedong_tataan) == 0


def test_points_come_from_the_region_or_its_kecamatan_never_made_up():
    assert point_of(A1) == centre(A1)
    assert NO_POINT not in boundaries.load()
    assert point_of(NO_POINT) == centre("18.09.02")
    # A village outside the shipped coordinates and without its kecamatan's: no point.
    assert point_of("99.99.99.9999") is None


def test_suggestions_carry_the_distance_from_the_office(supervisor, today):
    OfficeFactory()
    adults(A1, 10, recorded=2)
    adults(NO_POINT, 10, recorded=2)
    suggested, _ = selectors.suggestions(user=supervisor, within="18.09", as_of=today, day=today)
    by_code = {s.row.code: s for s in suggested}
    district = centre("18.09")
    assert by_code[A1].distance_km == round(haversine_km(district, centre(A1)), 1)
    assert by_code[A1].distance.approximate  # the district's point stands for the office
    assert by_code[NO_POINT].distance_km == round(haversine_km(district, centre("18.09.02")), 1)


def test_a_mobile_unit_based_in_a_kecamatan_measures_from_there(supervisor, today):
    unit = MobileUnitFactory(region_id="18.09.01")
    base = base_for(within="18.09", service_point=unit)
    assert base.point == centre("18.09.01") and not base.approximate
    exact = distance_to(base, A2)
    assert exact.km == round(haversine_km(centre("18.09.01"), centre(A2)), 1)
    assert not exact.approximate
    assert distance_to(base, NO_POINT).approximate


def test_nearest_first_order_and_ties_broken_by_distance(supervisor, today):
    unit = MobileUnitFactory(region_id="18.09.01")
    for village in (A1, A2, A3):
        adults(village, 10, recorded=5)  # the same number needed everywhere
    by_need, _ = selectors.suggestions(
        user=supervisor, within="18.09", as_of=today, day=today, service_point=unit
    )
    distances = [s.distance_km for s in by_need]
    assert len({s.needed for s in by_need}) == 1 and distances == sorted(distances)
    adults(A3, 10, recorded=0)  # A3 now needs the most
    by_need, _ = selectors.suggestions(
        user=supervisor, within="18.09", as_of=today, day=today, service_point=unit
    )
    assert by_need[0].row.code == A3
    nearest, _ = selectors.suggestions(
        user=supervisor, within="18.09", as_of=today, day=today, service_point=unit, order="jarak"
    )
    assert [s.distance_km for s in nearest] == sorted(s.distance_km for s in nearest)
    with pytest.raises(OutreachInputError, match="Urutan harus"):
        selectors.suggestions(user=supervisor, within="18.09", as_of=today, day=today, order="acak")


def test_page_shows_the_distance_and_refuses_a_unit_outside_the_jurisdiction(
    client, supervisor, today
):
    unit = MobileUnitFactory(region_id="18.09.01")
    other = MobileUnitFactory(office=OfficeFactory(region_id="18.71"), region_id="18.71.01")
    adults(A2, 10, recorded=2)
    client.force_login(supervisor)
    page = client.get("/jemput-bola/", {"dari": str(unit.pk)})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Jarak (km)" in text
    km = round(haversine_km(centre("18.09.01"), centre(A2)), 1)
    assert f'data-km="{km}"' in text
    for bad in (str(other.pk), "bukan-uuid", str(uuid.uuid4())):
        refused = client.get("/jemput-bola/", {"dari": bad})
        assert refused.status_code == 400
        assert "Mobil keliling tidak dikenal" in refused.content.decode()
    assert client.get("/jemput-bola/", {"urut": "acak"}).status_code == 400


def test_api_gives_the_distance_and_its_base(client, supervisor, today):
    unit = MobileUnitFactory(region_id="18.09.01")
    other = MobileUnitFactory(office=OfficeFactory(region_id="18.71"))
    adults(A2, 10, recorded=2)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {issue_api_token(user=supervisor, name='uji')}"}
    rows = client.get(f"/api/v1/outreach/suggestions?dari={unit.pk}&urut=jarak", **auth).json()
    assert rows[0]["code"] == A2
    assert rows[0]["distance_km"] == round(haversine_km(centre("18.09.01"), centre(A2)), 1)
    assert rows[0]["distance_approximate"] is False
    assert rows[0]["distance_from"] == unit.name
    refused = client.get(f"/api/v1/outreach/suggestions?dari={other.pk}", **auth)
    assert refused.status_code == 422 and "tidak dikenal" in refused.json()["detail"]
    assert client.get("/api/v1/outreach/suggestions?urut=acak", **auth).status_code == 422


@pytest.mark.parametrize(
    ("role", "region"), [(Role.PROVINCE_ADMIN, "18"), (Role.SYSTEM_ADMIN, None)]
)
def test_province_and_national_users_see_their_mobile_units(client, make_staff, role, region):
    ours = MobileUnitFactory(region_id="18.09.01")
    elsewhere = MobileUnitFactory(office=OfficeFactory(region_id="31.71"), region_id="31.71.01")
    user = make_staff(role, region=region)
    assert ours in selectors.mobile_units(user)
    assert (elsewhere in selectors.mobile_units(user)) is (region is None)
    client.force_login(user)
    page = client.get("/jemput-bola/", {"wilayah": "18.09", "urut": "jarak"})
    assert page.status_code == 200
    assert ours.name in page.content.decode()

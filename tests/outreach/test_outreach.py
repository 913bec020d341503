"""Target lists, closures, visit plans, results and suggestions for jemput bola."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from ektp.core.models import Role
from ektp.core.services import issue_api_token
from ektp.offices.models import ServicePoint
from ektp.outreach import selectors, services
from ektp.outreach.models import OutreachVisit, SpecialNeed, ZoneClosure
from ektp.outreach.selectors import OutreachInputError
from ektp.outreach.services import OutreachError
from tests.coverage.factories import adults
from tests.outreach.factories import MobileUnitFactory, OfficeFactory
from tests.residents.factories import ResidentFactory

pytestmark = pytest.mark.django_db
A1, A2, A3, B1 = "18.09.01.2001", "18.09.01.2002", "18.09.01.2003", "18.09.02.2001"


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def supervisor(make_staff):
    return make_staff(Role.SUPERVISOR, region="18.09")


@pytest.fixture
def unit():
    return MobileUnitFactory()


def plan(actor, unit, **kw):
    args = {
        "village_code": A1,
        "date": timezone.localdate() + dt.timedelta(days=3),
        "service_point_id": unit.pk,
        "team": "Tim A: Budi, Sari",
        "expected_people": 40,
        "blanks_to_carry": 30,
    }
    args.update(kw)
    return services.plan_visit(actor=actor, **args)


def test_target_lists_of_a_village(supervisor, today):
    missing = adults(A1, 3, recorded=1)[1:]
    old = ResidentFactory(address_region_id=A1, birth_date=dt.date(1950, 1, 1))
    disabled = missing[0]
    SpecialNeed.objects.create(resident=disabled, kind="disabilitas")
    voter = ResidentFactory(
        address_region_id=A1, birth_date=today.replace(year=today.year - 16) + dt.timedelta(days=30)
    )
    unrecorded = set(
        selectors.target_list(user=supervisor, village=A1, kind="belum_rekam", as_of=today)
    )
    assert unrecorded == {*missing, old}
    door = set(selectors.target_list(user=supervisor, village=A1, kind="door_to_door", as_of=today))
    assert door == {old, disabled}
    voters = set(
        selectors.target_list(
            user=supervisor,
            village=A1,
            kind="pemilih_pemula",
            as_of=today,
            polling_day=today + dt.timedelta(days=400),
        )
    )
    assert voter in voters and old not in voters


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "semua"}, "Daftar harus"),
        ({"village": "18.09.01"}, "per desa"),
        ({"village": "18.71.01.1003"}, "luar wilayah kerja"),
        ({"kind": "pemilih_pemula"}, "hari pemungutan suara"),
    ],
)
def test_target_list_bad_input(supervisor, today, kwargs, message):
    args = {"village": A1, "kind": "belum_rekam", "as_of": today}
    args.update(kwargs)
    with pytest.raises((OutreachInputError, ValueError), match=message):
        selectors.target_list(user=supervisor, **args)


def test_suggestions_put_most_needed_first_and_leave_out_closed_villages(supervisor, today):
    adults(A1, 10, recorded=9)  # needs 1 more for 92 %
    adults(A2, 10, recorded=2)  # needs 8
    adults(A3, 20, recorded=10)  # needs 9
    adults(B1, 10, recorded=0)  # needs 10, but closed
    ZoneClosure.objects.create(region_id="18.09.02", starts_on=today, reason="Zona merah pandemi")
    suggested, closed = selectors.suggestions(
        user=supervisor, within="18.09", as_of=today, day=today
    )
    assert [s.row.code for s in suggested] == [A3, A2, A1]
    assert [s.needed for s in suggested] == [9, 8, 1]
    assert [r.code for r in closed] == [B1]
    _later, closed_later = selectors.suggestions(
        user=supervisor, within="18.09", as_of=today, day=today + dt.timedelta(days=1)
    )
    assert [r.code for r in closed_later] == [B1]


def test_visit_is_planned_and_its_result_recorded(supervisor, unit, today):
    visit = plan(supervisor, unit, date=today)
    assert visit.status == OutreachVisit.Status.PLANNED and visit.kabkota_code == "18.09"
    done = services.record_result(
        actor=supervisor, visit_id=visit.pk, recorded_people=35, cards_printed=30
    )
    assert (done.status, done.recorded_people, done.cards_printed) == ("selesai", 35, 30)
    with pytest.raises(OutreachError, match="sudah dicatat"):
        services.record_result(actor=supervisor, visit_id=visit.pk, recorded_people=1)


def test_visit_to_a_closed_village_is_refused(supervisor, unit, today):
    ZoneClosure.objects.create(
        region_id="18.09.01",
        starts_on=today,
        ends_on=today + dt.timedelta(days=10),
        reason="Zona merah pandemi",
    )
    with pytest.raises(OutreachError, match=r"ditutup.*Zona merah"):
        plan(supervisor, unit)
    assert plan(supervisor, unit, date=today + dt.timedelta(days=11)).pk
    assert OutreachVisit.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"village_code": "18.09.01"}, "per desa"),
        ({"village_code": "18.71.01.1003"}, "luar wilayah kerja"),
        ({"village_code": "18.09.99.9999"}, "tidak dikenal"),
        ({"date": dt.date(2000, 1, 1)}, "masa lalu"),
        ({"service_point_id": "bukan-uuid"}, "tidak ditemukan"),
        ({"service_point_id": uuid.uuid4()}, "tidak ditemukan"),
        ({"team": " "}, "Tim wajib"),
        ({"expected_people": -1}, "antara 0"),
        ({"blanks_to_carry": "banyak"}, "bilangan bulat"),
    ],
)
def test_bad_visit_plan_is_refused(supervisor, unit, change, message):
    with pytest.raises(OutreachError, match=message):
        plan(supervisor, unit, **change)
    assert not OutreachVisit.objects.exists()


def test_visit_needs_a_mobile_unit_of_the_villages_office(supervisor):
    upt = MobileUnitFactory(kind=ServicePoint.Kind.UPT)
    with pytest.raises(OutreachError, match="mobil keliling"):
        plan(supervisor, upt)
    other = MobileUnitFactory(office=OfficeFactory(region_id="18.71"))
    with pytest.raises(OutreachError, match="milik kantor"):
        plan(supervisor, other)


def test_same_unit_same_village_same_day_is_refused(supervisor, unit):
    plan(supervisor, unit)
    with pytest.raises(OutreachError, match="sudah dijadwalkan"):
        plan(supervisor, unit)


def test_result_cannot_print_more_cards_than_blanks_carried(supervisor, unit, today):
    visit = plan(supervisor, unit, date=today, blanks_to_carry=5)
    with pytest.raises(OutreachError, match="melebihi blangko"):
        services.record_result(
            actor=supervisor, visit_id=visit.pk, recorded_people=10, cards_printed=6
        )
    visit.refresh_from_db()
    assert visit.status == "rencana"


def test_result_not_before_the_visit_day(supervisor, unit):
    visit = plan(supervisor, unit)
    with pytest.raises(OutreachError, match="sebelum tanggal kunjungan"):
        services.record_result(actor=supervisor, visit_id=visit.pk, recorded_people=1)


def test_closure_rules(supervisor, today):
    with pytest.raises(OutreachError, match="Alasan"):
        services.close_zone(
            actor=supervisor, region_code=A1, starts_on=today, ends_on=None, reason=""
        )
    with pytest.raises(OutreachError, match="sebelum tanggal mulai"):
        services.close_zone(
            actor=supervisor,
            region_code=A1,
            starts_on=today,
            ends_on=today - dt.timedelta(days=1),
            reason="Banjir",
        )
    with pytest.raises(OutreachError, match="luar wilayah kerja"):
        services.close_zone(
            actor=supervisor, region_code="18.71", starts_on=today, ends_on=None, reason="Banjir"
        )
    assert not ZoneClosure.objects.exists()


def test_special_need_flag_rules(supervisor, operator):
    person = ResidentFactory(address_region_id=A1)
    services.flag_special_need(actor=operator, nik=person.nik, kind="odgj")
    with pytest.raises(OutreachError, match="sudah ditandai"):
        services.flag_special_need(actor=operator, nik=person.nik, kind="odgj")
    with pytest.raises(OutreachError, match="Jenis"):
        services.flag_special_need(actor=operator, nik=person.nik, kind="lainnya")
    stranger = ResidentFactory(address_region_id="18.71.01.1003")
    with pytest.raises(OutreachError, match="tidak ditemukan"):
        services.flag_special_need(actor=operator, nik=stranger.nik, kind="odgj")
    assert SpecialNeed.objects.count() == 1


def test_pages_work_and_refuse_bad_input(client, supervisor, unit, today):
    adults(A1, 3, recorded=1)
    client.force_login(supervisor)
    assert client.get("/jemput-bola/").status_code == 200
    assert client.get(f"/jemput-bola/desa/{A1}/").context["page"].paginator.count == 2
    bad = client.get(f"/jemput-bola/desa/{A1}/?daftar=pemilih_pemula&pemilu=besok")
    assert bad.status_code == 400 and "TTTT-BB-HH" in bad.content.decode()
    assert client.get("/jemput-bola/desa/18.71.01.1003/").status_code == 400
    form = {
        "village": A1,
        "date": str(today),
        "service_point": str(unit.pk),
        "team": "Tim A",
        "expected_people": "10",
        "blanks_to_carry": "-3",
    }
    assert client.post("/jemput-bola/kunjungan/baru/", form).status_code == 422
    form["blanks_to_carry"] = "5"
    assert client.post("/jemput-bola/kunjungan/baru/", form).status_code == 302
    visit = OutreachVisit.objects.get()
    bad = client.post(
        f"/jemput-bola/kunjungan/{visit.pk}/hasil/", {"recorded_people": "3", "cards_printed": "9"}
    )
    assert bad.status_code == 422 and "melebihi blangko" in bad.content.decode()
    assert (
        client.post(
            f"/jemput-bola/kunjungan/{visit.pk}/hasil/", {"recorded_people": "3"}
        ).status_code
        == 302
    )


def test_api_suggestions_and_visit(client, supervisor, unit, today):
    adults(A2, 5, recorded=1)
    token = issue_api_token(user=supervisor, name="uji")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    rows = client.get("/api/v1/outreach/suggestions", **auth).json()
    assert rows[0]["code"] == A2 and rows[0]["needed_for_green"] == 4
    bad = client.post(
        "/api/v1/outreach/visits",
        {
            "village": "18.71.01.1003",
            "date": str(today),
            "service_point": str(unit.pk),
            "team": "T",
            "expected_people": 1,
        },
        content_type="application/json",
        **auth,
    )
    assert bad.status_code == 422 and "luar wilayah kerja" in bad.json()["detail"]
    bad = client.post(
        "/api/v1/outreach/visits",
        {"village": A2, "date": "kemarin"},
        content_type="application/json",
        **auth,
    )
    assert bad.status_code == 422
    ok = client.post(
        "/api/v1/outreach/visits",
        {
            "village": A2,
            "date": str(today),
            "service_point": str(unit.pk),
            "team": "T",
            "expected_people": 4,
        },
        content_type="application/json",
        **auth,
    )
    assert ok.status_code == 201
    assert client.get("/api/v1/outreach/suggestions?wilayah=18.71", **auth).status_code == 422


@pytest.mark.parametrize(
    ("role", "region", "status", "sees"),
    [
        (Role.SUPERVISOR, "18.09", 200, {"18.09"}),
        (Role.PROVINCE_ADMIN, "18", 200, {"18.09"}),
        (Role.PROVINCE_ADMIN, "31", 200, {"31.71"}),
        (Role.SYSTEM_ADMIN, None, 200, {"18.09", "31.71"}),
        (Role.OPERATOR, "18.09", 403, set()),
        (Role.GATE_OFFICER, "18.09", 403, set()),
    ],
)
def test_visit_plan_page_opens_for_every_role_allowed_and_refuses_the_others(
    client, make_staff, unit, role, region, status, sees
):
    """The page offers the mobile units of the offices in the user's jurisdiction (a
    province admin's was looked up with startswith on a foreign key: a server error)."""
    units = {"18.09": unit, "31.71": MobileUnitFactory(office=OfficeFactory(region_id="31.71"))}
    client.force_login(make_staff(role, region=region))
    response = client.get("/jemput-bola/kunjungan/baru/")
    assert response.status_code == status
    if status == 200:
        offered = {value for value, _ in response.context["form"].fields["service_point"].choices}
        assert {code for code, u in units.items() if str(u.pk) in offered} == sees


def test_province_admin_plans_a_visit_with_a_unit_of_its_districts(client, make_staff, unit, today):
    client.force_login(make_staff(Role.PROVINCE_ADMIN, region="18"))
    form = {
        "village": A1,
        "date": str(today),
        "service_point": str(unit.pk),
        "team": "Tim A",
        "expected_people": "10",
        "blanks_to_carry": "5",
    }
    response = client.post("/jemput-bola/kunjungan/baru/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert OutreachVisit.objects.get().service_point == unit


@pytest.mark.parametrize("pemilu", ["9999-12-31", "0001-01-01", "2010-12-31"])
def test_first_time_voters_for_a_polling_day_out_of_range_are_refused(client, supervisor, pemilu):
    client.force_login(supervisor)
    page = client.get(f"/jemput-bola/desa/{A1}/?daftar=pemilih_pemula&pemilu={pemilu}")
    assert page.status_code == 400
    assert "Hari pemungutan suara harus antara" in page.content.decode()
    token = issue_api_token(user=supervisor, name="uji")
    api = client.get(
        f"/api/v1/outreach/villages/{A1}/people?daftar=pemilih_pemula&pemilu={pemilu}",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert api.status_code == 422
    assert "Hari pemungutan suara harus antara" in api.json()["detail"]


def test_first_time_voters_of_a_polling_day_on_29_february(supervisor):
    """The previous polling day five years earlier falls on 28 February of a common year."""
    ResidentFactory(address_region_id=A1, birth_date=dt.date(2007, 2, 28))  # 17 on the day
    ResidentFactory(address_region_id=A1, birth_date=dt.date(2002, 2, 28))  # 17 in 2019
    found = selectors.target_list(
        user=supervisor,
        village=A1,
        kind="pemilih_pemula",
        as_of=dt.date(2024, 2, 1),
        polling_day=dt.date(2024, 2, 29),
    )
    assert [r.birth_date for r in found] == [dt.date(2007, 2, 28)]


@pytest.mark.parametrize("fmt", ["xlsx", "pdf", "csv"])
def test_door_to_door_list_downloads(client, supervisor, today, fmt):
    import csv
    import io

    from openpyxl import load_workbook

    ResidentFactory(address_region_id=A1, birth_date=dt.date(1950, 1, 1), name="SITI LANSIA")
    young = adults(A1, 1)[0]
    client.force_login(supervisor)
    response = client.get(f"/jemput-bola/desa/{A1}/ekspor.{fmt}?daftar=door_to_door")
    assert response.status_code == 200
    if fmt == "xlsx":
        values = list(
            load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
        )
        assert "pintu ke pintu" in values[0][0]
        names = [v[2] for v in values[2:]]
        assert names == ["SITI LANSIA"]
        assert young.name not in names
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
        assert [r[2] for r in rows[1:]] == ["SITI LANSIA"]
        assert rows[1][4] == "01-01-1950"
    else:
        assert response.content.startswith(b"%PDF-")


def test_target_list_export_refuses_bad_input(client, supervisor):
    client.force_login(supervisor)
    assert client.get(f"/jemput-bola/desa/{A1}/ekspor.xlsx?daftar=semua").status_code == 400
    assert client.get("/jemput-bola/desa/18.09.01/ekspor.xlsx").status_code == 400
    assert client.get(f"/jemput-bola/desa/{A1}/ekspor.html").status_code == 404


def test_suggestions_default_to_the_next_service_day_not_a_year_ahead(client, supervisor, today):
    from ektp.offices.calendar import holiday_name, next_service_day

    client.force_login(supervisor)
    page = client.get("/jemput-bola/")
    day = page.context["day"]
    assert day == next_service_day(after=today)
    assert today < day <= today + dt.timedelta(days=7)
    assert day.weekday() < 5 and not holiday_name(day)
    assert f'value="{day:%Y-%m-%d}"' in page.content.decode()
    chosen = today + dt.timedelta(days=40)
    assert client.get("/jemput-bola/", {"tanggal": str(chosen)}).context["day"] == chosen
    for bad in ("07-12-2027", "besok", str(today + dt.timedelta(days=400))):
        assert client.get("/jemput-bola/", {"tanggal": bad}).status_code == 400


def test_next_service_day_skips_weekends_holidays_and_a_units_closed_days(unit):
    from ektp.offices.calendar import next_service_day
    from ektp.offices.models import SpecialDay

    friday = dt.date(2025, 12, 19)
    assert next_service_day(after=friday) == dt.date(2025, 12, 22)  # Monday
    assert next_service_day(after=dt.date(2025, 12, 24)) == dt.date(2025, 12, 29)  # Christmas
    SpecialDay.objects.create(
        office=unit.office,
        service_point=unit,
        day=dt.date(2025, 12, 22),
        is_open=False,
        reason="Servis kendaraan",
    )
    assert next_service_day(after=friday, point=unit) == dt.date(2025, 12, 23)


def test_new_visit_plan_starts_on_the_chosen_or_next_service_day(client, supervisor, today):
    from ektp.offices.calendar import next_service_day

    client.force_login(supervisor)
    chosen = today + dt.timedelta(days=9)
    page = client.get("/jemput-bola/kunjungan/baru/", {"desa": A1, "tanggal": str(chosen)})
    assert page.context["form"].initial["date"] == chosen
    for bad in ("", "kemarin", str(today - dt.timedelta(days=1))):
        page = client.get("/jemput-bola/kunjungan/baru/", {"desa": A1, "tanggal": bad})
        assert page.context["form"].initial["date"] == next_service_day(after=today)


def test_target_list_and_distances_name_regions_not_codes(client, supervisor, make_staff, today):
    from ektp.regions.models import Region

    adults(A1, 2, recorded=0)
    client.force_login(supervisor)
    village = Region.objects.get(code=A1).name
    page = client.get(f"/jemput-bola/desa/{A1}/").content.decode()
    assert f"<title>Daftar sasaran {village}" in page or f"Daftar sasaran {village}" in page
    client.force_login(make_staff(Role.PROVINCE_ADMIN, region="18"))
    home = client.get("/jemput-bola/").content.decode()
    assert "dari Lampung" in home and "dari 18," not in home

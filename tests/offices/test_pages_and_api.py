import pytest
from django.urls import reverse

from ektp.core.models import Role
from ektp.core.services import issue_api_token
from ektp.offices.demo import ensure_demo_offices
from ektp.offices.models import Device, DeviceStatusChange, Office, ServicePoint, SpecialDay
from ektp.regions.models import Region
from tests.offices.factories import DeviceFactory, ServicePointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor(make_staff):
    return make_staff(Role.SUPERVISOR)


@pytest.fixture
def supervisor_client(client, supervisor):
    client.force_login(supervisor)
    return client


@pytest.fixture
def api(client, supervisor):
    token = issue_api_token(user=supervisor, name="uji")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def test_demo_offices_build_pesawaran_with_a_upt_per_kecamatan(pesawaran):
    office = ensure_demo_offices(pesawaran)
    again = ensure_demo_offices(pesawaran)
    assert office == again and Office.objects.count() == 1
    kecamatans = Region.objects.filter(parent=pesawaran).count()
    points = ServicePoint.objects.filter(office=office)
    assert points.filter(kind="upt").count() == kecamatans
    assert points.filter(kind="kantor").count() == 1 and points.filter(kind="mobile").count() == 1
    assert Device.objects.filter(kind="card_printer").count() == 3
    assert Device.objects.filter(kind="recording_kit").count() == kecamatans + 3


def test_point_list_and_detail_show_kits(operator_client):
    kit = DeviceFactory()
    page = operator_client.get(reverse("offices:points"))
    assert page.status_code == 200 and kit.service_point.name in page.content.decode()
    detail = operator_client.get(reverse("offices:point", args=[kit.service_point_id]))
    assert kit.serial_number in detail.content.decode()


def test_point_of_another_district_is_not_found(operator_client):
    from tests.offices.factories import OfficeFactory

    point = ServicePointFactory(office=OfficeFactory(region_id="18.01", name="Lampung Barat"))
    assert operator_client.get(reverse("offices:point", args=[point.pk])).status_code == 404


def test_supervisor_marks_a_kit_broken_from_the_page(supervisor_client):
    kit = DeviceFactory()
    response = supervisor_client.post(
        reverse("offices:device_status", args=[kit.pk]),
        {"status": "broken", "reason": "Kamera wajah mati"},
    )
    assert response.status_code == 302
    kit.refresh_from_db()
    assert kit.status == "broken"
    history = supervisor_client.get(reverse("offices:device", args=[kit.pk]))
    assert "Kamera wajah mati" in history.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"status": "hilang", "reason": "x"}, "Pilih"),
        ({"status": "broken", "reason": ""}, "Wajib diisi"),
        ({"status": "broken", "reason": "x" * 251}, "250"),
        ({"status": "active", "reason": "sama"}, "sudah berstatus"),
    ],
)
def test_bad_device_status_form_is_refused(supervisor_client, data, message):
    kit = DeviceFactory()
    response = supervisor_client.post(reverse("offices:device_status", args=[kit.pk]), data)
    assert response.status_code == 422 and message in response.content.decode()
    assert not DeviceStatusChange.objects.exists()


def test_operator_cannot_change_device_status(operator_client):
    kit = DeviceFactory()
    response = operator_client.post(
        reverse("offices:device_status", args=[kit.pk]), {"status": "broken", "reason": "x"}
    )
    assert response.status_code == 403
    kit.refresh_from_db()
    assert kit.status == "active"


def test_calendar_page_shows_holidays_and_accepts_a_special_day(supervisor_client):
    point = ServicePointFactory()
    url = reverse("offices:calendar", args=[point.pk])
    page = supervisor_client.get(url, {"bulan": "2025-03"})
    assert "Idul Fitri" in page.content.decode()
    response = supervisor_client.post(
        url + "?bulan=2025-03",
        {
            "day": "2025-03-09",
            "is_open": "1",
            "opens_at": "08:00",
            "closes_at": "12:00",
            "reason": "Lembur akhir pekan",
        },
    )
    assert response.status_code == 302
    assert SpecialDay.objects.get().service_point == point


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"day": "2025-02-30", "is_open": "0", "reason": "x"}, "bukan tanggal"),
        ({"day": "2025-03-09", "is_open": "1", "reason": "x"}, "wajib diisi"),
        (
            {"day": "2025-03-09", "is_open": "1", "opens_at": "25:00", "reason": "x"},
            "Jam tidak sah",
        ),
        (
            {
                "day": "2025-03-09",
                "is_open": "1",
                "opens_at": "12:00",
                "closes_at": "08:00",
                "reason": "x",
            },
            "lebih awal",
        ),
        ({"day": "2025-03-09", "is_open": "0", "reason": ""}, "Wajib diisi"),
        ({"day": "2025-03-09", "is_open": "9", "reason": "x"}, "Pilih"),
    ],
)
def test_bad_special_day_form_is_refused(supervisor_client, data, message):
    point = ServicePointFactory()
    response = supervisor_client.post(reverse("offices:calendar", args=[point.pk]), data)
    assert response.status_code == 422 and message in response.content.decode()
    assert not SpecialDay.objects.exists()


def test_bad_month_is_reported(operator_client):
    point = ServicePointFactory()
    url = reverse("offices:calendar", args=[point.pk])
    for month in ("2025-13", "abc", "0000-01"):
        response = operator_client.get(url, {"bulan": month})
        assert response.status_code == 200
        assert (
            "Bulan harus" in response.content.decode() or "Tahun harus" in response.content.decode()
        )


def test_operator_cannot_add_special_day_on_the_page(operator_client):
    point = ServicePointFactory()
    response = operator_client.post(
        reverse("offices:calendar", args=[point.pk]),
        {"day": "2025-03-09", "is_open": "0", "reason": "x"},
    )
    assert response.status_code == 403 and not SpecialDay.objects.exists()


def test_api_opening_answers_for_holiday_and_weekday(api):
    point = ServicePointFactory()
    DeviceFactory(service_point=point)
    base = f"/api/v1/offices/points/{point.pk}/opening"
    holiday = api.get(base, {"day": "2025-03-31"}).json()
    assert holiday["is_open"] is False and "Idul Fitri" in holiday["reason"]
    monday = api.get(base, {"day": "2025-03-10"}).json()
    assert monday["is_open"] and monday["capacity"] == 60 and monday["opens_at"] == "08:00:00"
    month = api.get(f"/api/v1/offices/points/{point.pk}/calendar", {"month": "2025-04"}).json()
    assert len(month) == 30


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("opening", {"day": "2025-02-30"}),
        ("opening", {}),
        ("calendar", {"month": "2025-13"}),
        ("calendar", {"month": "1900-01"}),
    ],
)
def test_api_bad_query_is_422_in_indonesian(api, path, params):
    point = ServicePointFactory()
    response = api.get(f"/api/v1/offices/points/{point.pk}/{path}", params)
    assert (
        response.status_code == 422
        and response.json()["detail"] == "Data yang dikirim tidak valid."
    )


def test_api_device_status_change_and_history(api):
    kit = DeviceFactory()
    response = api.post(
        f"/api/v1/offices/devices/{kit.pk}/status",
        {"status": "in_repair", "reason": "Servis rutin"},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["status"] == "in_repair"
    history = api.get(f"/api/v1/offices/devices/{kit.pk}/history").json()
    assert history[0]["to_status"] == "in_repair" and history[0]["reason"] == "Servis rutin"


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"status": "meledak", "reason": "x"}, 422),
        ({"status": "broken", "reason": ""}, 422),
        ({"status": "broken"}, 422),
        ({"status": "broken", "reason": "x" * 251}, 422),
    ],
)
def test_api_bad_device_status_is_refused(api, payload, status):
    kit = DeviceFactory()
    response = api.post(
        f"/api/v1/offices/devices/{kit.pk}/status", payload, content_type="application/json"
    )
    assert response.status_code == status and response.json()["detail"]
    assert not DeviceStatusChange.objects.exists()


def test_api_operator_may_not_change_device_status(client, operator, api_token):
    kit = DeviceFactory()
    response = client.post(
        f"/api/v1/offices/devices/{kit.pk}/status",
        {"status": "broken", "reason": "x"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api_token}",
    )
    assert response.status_code == 403


def test_api_special_day_and_its_bad_input(api):
    point = ServicePointFactory()
    url = f"/api/v1/offices/points/{point.pk}/special-days"
    ok = api.post(
        url,
        {
            "day": "2020-12-09",
            "is_open": True,
            "opens_at": "07:00",
            "closes_at": "13:00",
            "reason": "Pilkada 2020",
        },
        content_type="application/json",
    )
    assert ok.status_code == 201 and ok.json()["is_open"]
    again = api.post(
        url, {"day": "2020-12-09", "is_open": False, "reason": "x"}, content_type="application/json"
    )
    assert again.status_code == 422 and "Sudah ada" in again.json()["detail"]
    bad = api.post(
        url, {"day": "kemarin", "is_open": False, "reason": "x"}, content_type="application/json"
    )
    assert bad.status_code == 422
    assert SpecialDay.objects.count() == 1


def test_api_unknown_point_is_404(api):
    import uuid

    response = api.get(f"/api/v1/offices/points/{uuid.uuid4()}/opening", {"day": "2025-03-10"})
    assert response.status_code == 404 and "tidak ditemukan" in response.json()["detail"]


def test_api_lists_points(api):
    ServicePointFactory.create_batch(2)
    assert len(api.get("/api/v1/offices/points").json()) == 2

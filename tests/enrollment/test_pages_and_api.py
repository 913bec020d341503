import base64
import datetime as dt
import json

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from ektp.core.models import Role
from ektp.core.services import issue_api_token
from ektp.enrollment.biometrics import SimulatorDevice
from ektp.enrollment.models import Enrollment, StatusChange
from ektp.offices.models import SpecialDay
from ektp.offices.services import change_device_status
from tests.enrollment.factories import open_point, simulated
from tests.offices.factories import OfficeFactory, ServicePointFactory
from tests.residents.factories import ResidentFactory

pytestmark = pytest.mark.django_db


def weak_right_thumb(*, resident_id, device_id, recording):
    return SimulatorDevice(seed=str(resident_id), low_quality={"finger_r1": 99})


@pytest.fixture
def api(client, api_token):
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {api_token}"
    return client


def _nothing_written(resident):
    resident.refresh_from_db()
    assert resident.ktp_status == "BELUM_REKAM"
    assert not Enrollment.objects.exists() and not StatusChange.objects.exists()


def test_operator_records_sends_and_sees_the_timeline_and_day_figures(
    operator_client, make_staff, client, django_capture_on_commit_callbacks
):
    resident = ResidentFactory()
    point, kit = open_point()
    found = operator_client.get(reverse("enrollment:find"), {"q": resident.nik})
    assert reverse("enrollment:record", args=[resident.nik]) in found.content.decode()
    screen = operator_client.get(reverse("enrollment:record", args=[resident.nik]))
    assert kit.serial_number in screen.content.decode()
    response = operator_client.post(
        reverse("enrollment:record", args=[resident.nik]),
        {"device": str(kit.pk), "exc_finger_l5": "amputasi", "note_finger_l5": "Kecelakaan kerja"},
    )
    assert response.status_code == 302
    resident.refresh_from_db()
    assert resident.ktp_status == "BIO_CAPTURED"
    with django_capture_on_commit_callbacks(execute=False):
        operator_client.post(reverse("enrollment:send", args=[resident.nik]))
    resident.refresh_from_db()
    assert resident.ktp_status == "SENT_FOR_ENROLLMENT"
    timeline = operator_client.get(
        reverse("enrollment:history", args=[resident.nik])
    ).content.decode()
    assert "Amputasi" in timeline and "Dikirim untuk penunggalan" in timeline
    kadis = make_staff(Role.SUPERVISOR)
    client.force_login(kadis)
    daily = client.get(reverse("enrollment:daily"))
    row = next(r for r in daily.context["rows"] if r.point == point)
    assert row.recorded == 1 and row.opening.capacity == 60


def test_recording_screen_shows_why_a_broken_kit_blocks(operator_client, make_staff):
    resident = ResidentFactory()
    _point, kit = open_point()
    change_device_status(
        device=kit, to="broken", actor=make_staff(Role.SUPERVISOR), reason="Lensa iris retak"
    )
    screen = operator_client.get(reverse("enrollment:record", args=[resident.nik]))
    assert "Lensa iris retak" in screen.content.decode()
    response = operator_client.post(
        reverse("enrollment:record", args=[resident.nik]), {"device": str(kit.pk)}
    )
    assert response.status_code == 422 and "Lensa iris retak" in response.content.decode()
    _nothing_written(resident)


@override_settings(EKTP_CAPTURE_DRIVER="tests.enrollment.test_pages_and_api.weak_right_thumb")
def test_low_quality_after_retries_asks_for_an_exception_then_records(operator_client):
    resident = ResidentFactory()
    _point, kit = open_point()
    url = reverse("enrollment:record", args=[resident.nik])
    response = operator_client.post(url, {"device": str(kit.pk)})
    body = response.content.decode()
    assert response.status_code == 422 and "Ibu jari kanan" in body and "di bawah ambang" in body
    _nothing_written(resident)
    response = operator_client.post(url, {"device": str(kit.pk), "exc_finger_r1": "cedera"})
    assert response.status_code == 302
    assert Enrollment.objects.get().exceptions.get().modality == "finger_r1"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Pilih alat"),
        ({"device": "bukan-uuid"}, "Pilih alat"),
        ({"device": "KIT", "exc_finger_r1": "hilang"}, "amputasi, cedera atau disabilitas"),
        (
            {"device": "KIT", "exc_iris_left": "cedera", "note_iris_left": "x" * 201},
            "paling banyak 200",
        ),
    ],
)
def test_bad_recording_form_is_refused(operator_client, data, message):
    resident = ResidentFactory()
    _point, kit = open_point()
    data = {k: (str(kit.pk) if v == "KIT" else v) for k, v in data.items()}
    response = operator_client.post(reverse("enrollment:record", args=[resident.nik]), data)
    assert response.status_code == 422
    body = response.content.decode()
    assert message in body
    _nothing_written(resident)


def test_kit_of_another_district_cannot_be_chosen(operator_client):
    resident = ResidentFactory()
    _point, kit = open_point(office=OfficeFactory(region_id="18.01", name="Lampung Barat"))
    response = operator_client.post(
        reverse("enrollment:record", args=[resident.nik]), {"device": str(kit.pk)}
    )
    assert response.status_code == 422
    _nothing_written(resident)


def test_recording_screen_at_a_closed_point_says_so(operator_client):
    resident = ResidentFactory()
    _point, kit = open_point()
    SpecialDay.objects.update(is_open=False, opens_at=None, closes_at=None, reason="Banjir")
    response = operator_client.post(
        reverse("enrollment:record", args=[resident.nik]), {"device": str(kit.pk)}
    )
    assert response.status_code == 422 and "Banjir" in response.content.decode()


def test_gate_officer_cannot_open_the_recording_screen(client, make_staff):
    client.force_login(make_staff(Role.GATE_OFFICER))
    resident = ResidentFactory()
    assert client.get(reverse("enrollment:record", args=[resident.nik])).status_code == 403


def test_resident_outside_jurisdiction_is_not_found(operator_client):
    resident = ResidentFactory(address_region_id="18.01.04.2001")
    assert (
        operator_client.get(reverse("enrollment:history", args=[resident.nik])).status_code == 404
    )


def test_send_twice_shows_the_refusal(operator_client):
    resident = ResidentFactory()
    response = operator_client.post(reverse("enrollment:send", args=[resident.nik]), follow=True)
    assert "status masih belum rekam" in response.content.decode()


def test_daily_with_a_bad_date_is_reported(client, make_staff):
    client.force_login(make_staff(Role.SUPERVISOR))
    response = client.get(reverse("enrollment:daily"), {"tanggal": "2025-02-30"})
    assert response.status_code == 422 and "bukan tanggal" in response.content.decode()


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2010-12-31"])
@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.OPERATOR, Role.PROVINCE_ADMIN])
def test_daily_for_a_day_out_of_range_says_which_days_are_possible(client, make_staff, role, day):
    """The last and first days of the calendar overflowed the day's time range (a 500)."""
    ServicePointFactory()
    user = make_staff(role, region="18" if role == Role.PROVINCE_ADMIN else "18.09")
    client.force_login(user)
    response = client.get(reverse("enrollment:daily"), {"tanggal": day})
    assert response.status_code == 422
    assert "Tanggal harus antara 01-01-2011 dan" in response.content.decode()
    api = client.get(
        "/api/v1/enrollment/daily",
        {"day": day},
        HTTP_AUTHORIZATION=f"Bearer {issue_api_token(user=user, name='uji')}",
    )
    assert api.status_code == 422
    assert api.json()["detail"].startswith("Tanggal harus antara 01-01-2011 dan")


def test_daily_of_the_first_day_and_a_year_ahead_are_shown(client, make_staff):
    client.force_login(make_staff(Role.SUPERVISOR))
    ahead = timezone.localdate() + dt.timedelta(days=366)
    for day in ("2011-01-01", str(ahead)):
        assert client.get(reverse("enrollment:daily"), {"tanggal": day}).status_code == 200


def _payload(nik, kit, **kwargs):
    samples = [
        {
            "modality": m,
            "quality": c.quality,
            "attempts": c.attempts,
            "template_b64": base64.b64encode(c.template).decode(),
            "image_b64": base64.b64encode(c.image).decode() if c.image else "",
        }
        for m, c in simulated(nik).items()
    ]
    return {"nik": nik, "device_id": str(kit.pk), "samples": samples, **kwargs}


def test_api_records_with_samples_then_sends_and_shows_history(
    api, django_capture_on_commit_callbacks
):
    resident = ResidentFactory()
    point, kit = open_point()
    response = api.post(
        "/api/v1/enrollment/records",
        _payload(resident.nik, kit, node_id="mobil-1"),
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["ktp_status"] == "BIO_CAPTURED" and len(body["enrollment"]["samples"]) == 14
    assert body["enrollment"]["node_id"] == "mobil-1"
    with django_capture_on_commit_callbacks(execute=False):
        sent = api.post(f"/api/v1/enrollment/{resident.nik}/send")
    assert sent.json()["ktp_status"] == "SENT_FOR_ENROLLMENT"
    history = api.get(f"/api/v1/enrollment/{resident.nik}/history").json()
    assert [h["to_status"] for h in history] == ["BIO_CAPTURED", "SENT_FOR_ENROLLMENT"]
    assert history[0]["node_id"] == "mobil-1"
    assert (
        api.get(f"/api/v1/enrollment/{resident.nik}").json()["enrollment"]["penunggalan"] == "antre"
    )
    daily = api.get("/api/v1/enrollment/daily").json()
    assert next(d for d in daily if d["code"] == point.code)["recorded"] == 1


def test_api_records_with_the_simulator(api):
    resident = ResidentFactory()
    _point, kit = open_point()
    response = api.post(
        "/api/v1/enrollment/records",
        {
            "nik": resident.nik,
            "device_id": str(kit.pk),
            "simulate": True,
            "exceptions": [{"modality": "iris_right", "reason": "disabilitas"}],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["enrollment"]["exceptions"][0]["modality"] == "iris_right"


def _mutate(payload, kind):
    samples = payload["samples"]
    if kind == "wrong_size":
        samples[0]["template_b64"] = base64.b64encode(b"\0" * 10).decode()
    elif kind == "not_base64":
        samples[0]["template_b64"] = "@@@"
    elif kind == "missing":
        samples.pop(1)
    elif kind == "twice":
        samples[1] = dict(samples[0])
    elif kind == "quality_out_of_range":
        samples[0]["quality"] = 150
    elif kind == "low_quality":
        samples[0]["quality"] = 1
    elif kind == "short_nik":
        payload["nik"] = "123"
    elif kind == "arabic_indic_nik":
        payload["nik"] = "18٠٩" + payload["nik"][4:]
    elif kind == "bad_device":
        payload["device_id"] = "bukan-uuid"
    elif kind == "both":
        payload["simulate"] = True
    elif kind == "bad_exception":
        payload["exceptions"] = [{"modality": "face", "reason": "cedera"}]
        samples.pop(0)
    return payload


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("wrong_size", "ukuran templat"),
        ("not_base64", "base64"),
        ("missing", "belum direkam"),
        ("twice", "dua kali"),
        ("quality_out_of_range", "tidak valid"),
        ("low_quality", "di bawah ambang"),
        ("short_nik", "tidak valid"),
        ("arabic_indic_nik", "NIK hanya boleh berisi angka 0–9."),
        ("bad_device", "tidak valid"),
        ("both", "bukan keduanya"),
        ("bad_exception", "wajib direkam"),
    ],
)
def test_api_bad_recording_is_refused_and_nothing_written(api, kind, message):
    resident = ResidentFactory()
    _point, kit = open_point()
    payload = _mutate(_payload(resident.nik, kit), kind)
    response = api.post("/api/v1/enrollment/records", payload, content_type="application/json")
    assert response.status_code == 422, response.json()
    assert message in json.dumps(response.json(), ensure_ascii=False)
    _nothing_written(resident)


def test_api_recording_twice_is_refused(api):
    resident = ResidentFactory()
    _point, kit = open_point()
    first = api.post(
        "/api/v1/enrollment/records", _payload(resident.nik, kit), content_type="application/json"
    )
    assert first.status_code == 201
    again = api.post(
        "/api/v1/enrollment/records", _payload(resident.nik, kit), content_type="application/json"
    )
    assert again.status_code == 422 and "sekali seumur hidup" in again.json()["detail"]
    assert StatusChange.objects.count() == 1


def test_api_unknown_resident_or_foreign_kit_is_404(api):
    resident = ResidentFactory()
    _point, kit = open_point(office=OfficeFactory(region_id="18.01", name="Lampung Barat"))
    response = api.post(
        "/api/v1/enrollment/records", _payload(resident.nik, kit), content_type="application/json"
    )
    assert response.status_code == 404
    assert api.get("/api/v1/enrollment/1809010101010001").status_code == 404


def test_api_send_refused_with_reason(api):
    resident = ResidentFactory()
    response = api.post(f"/api/v1/enrollment/{resident.nik}/send")
    assert response.status_code == 422 and "belum rekam" in response.json()["detail"]


def test_api_daily_bad_date_is_422(api):
    assert api.get("/api/v1/enrollment/daily", {"day": "2025-13-01"}).status_code == 422


def test_points_without_kits_have_no_capacity_in_figures(api):
    ServicePointFactory()
    assert all(d["capacity"] == 0 for d in api.get("/api/v1/enrollment/daily").json())


def test_sending_a_record_without_biometrics_is_refused_on_the_page_and_the_api(
    operator_client, api_token, client
):
    """A BIO_CAPTURED resident with no enrollment row (as every seeded one was) answered 500."""
    resident = ResidentFactory(ktp_status="BIO_CAPTURED", recorded_on=dt.date(2024, 3, 1))
    page = operator_client.post(reverse("enrollment:send", args=[resident.nik]), follow=True)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Rekam ulang biometriknya" in text
    assert "data biometrik penduduk ini tidak tersimpan" in text
    assert reverse("enrollment:record", args=[resident.nik]) in text
    assert "Kirim untuk penunggalan" not in text
    api = client.post(
        f"/api/v1/enrollment/{resident.nik}/send", HTTP_AUTHORIZATION=f"Bearer {api_token}"
    )
    assert api.status_code == 422
    assert "Rekam ulang biometriknya" in api.json()["detail"]
    resident.refresh_from_db()
    assert resident.ktp_status == "BIO_CAPTURED"
    assert not StatusChange.objects.exists()
    found = operator_client.get(reverse("enrollment:find"), {"q": resident.nik})
    assert resident.nik in found.content.decode()

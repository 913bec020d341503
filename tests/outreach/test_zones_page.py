"""The zones page: thresholds with their periods and the regions closed to visits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from ektp.core.models import Role
from ektp.coverage.models import CoveragePolicy
from ektp.coverage.services import CoverageError, end_policy
from ektp.outreach import services
from ektp.outreach.models import ZoneClosure
from ektp.outreach.services import OutreachError

pytestmark = pytest.mark.django_db
URL = "/jemput-bola/zona/"


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def head(make_staff):
    return make_staff(Role.SUPERVISOR, region="18.09")


@pytest.fixture
def province_admin(make_staff):
    return make_staff(Role.PROVINCE_ADMIN, region="18")


def policy_post(**kw):
    data = {
        "aksi": "kebijakan",
        "region": "18",
        "green_min": "92",
        "yellow_min": "80",
        "valid_from": "2026-01-01",
        "valid_to": "",
        "note": "",
    }
    data.update(kw)
    return data


def closure_post(today, **kw):
    data = {
        "aksi": "penutupan",
        "region": "18.09.01",
        "starts_on": today.isoformat(),
        "ends_on": "",
        "reason": "Zona merah pandemi",
    }
    data.update(kw)
    return data


def test_page_is_for_the_head_of_office_and_the_province_only(client, make_staff, head):
    client.force_login(make_staff(Role.OPERATOR, region="18.09"))
    assert client.get(URL).status_code == 403
    client.force_login(head)
    page = client.get(URL)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Ambang zona yang berlaku hari ini" in text and "hijau ≥ 92" in text
    assert "ditetapkan oleh admin provinsi" in text and 'id="form-kebijakan"' not in text
    client.logout()
    assert client.get(URL).status_code == 302


def test_province_admin_sets_thresholds_and_the_page_shows_them(client, province_admin):
    client.force_login(province_admin)
    done = client.post(URL, policy_post(green_min="90", yellow_min="75", note="Target 2026"))
    assert done.status_code == 302
    saved = CoveragePolicy.objects.get()
    assert (saved.region_id, saved.green_min, saved.yellow_min) == (
        "18",
        Decimal("90.00"),
        Decimal("75.00"),
    )
    text = client.get(URL).content.decode()
    assert "Kebijakan zona tersimpan" in text and "hijau ≥ 90" in text and "Target 2026" in text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"green_min": "80", "yellow_min": "85"}, "harus lebih rendah dari ambang hijau"),
        ({"green_min": "80", "yellow_min": "80"}, "tidak boleh tumpang tindih"),
        ({"green_min": "101"}, "tidak boleh lebih dari 100"),
        ({"yellow_min": "-1"}, "tidak boleh kurang dari 0"),
        ({"green_min": "sembilan"}, "Isi angka persen"),
        ({"green_min": "92.123"}, "dua angka di belakang koma"),
        ({"valid_from": "2026-02-30"}, "TTTT-BB-HH"),
        ({"valid_from": ""}, "Tanggal wajib diisi"),
        ({"valid_from": "0202-01-01"}, "antara tahun 2000 dan 2100"),
        ({"valid_to": "2025-12-31"}, "sebelum tanggal mulai berlaku"),
        ({"region": "99.99"}, "tidak dikenal"),
        ({"region": "31"}, "luar wilayah kerja"),
        ({"region": "18.09.01"}, "provinsi atau kabupaten"),
        ({"region": ""}, "nasional"),
    ],
)
def test_bad_thresholds_and_dates_are_refused_with_a_clear_message(
    client, province_admin, change, message
):
    client.force_login(province_admin)
    response = client.post(URL, policy_post(**change))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not CoveragePolicy.objects.exists()


def test_overlapping_periods_are_refused_until_the_first_is_ended(client, province_admin):
    client.force_login(province_admin)
    assert client.post(URL, policy_post()).status_code == 302
    clash = client.post(URL, policy_post(valid_from="2026-06-01", green_min="95"))
    assert clash.status_code == 422 and "bertumpang tindih" in clash.content.decode()
    first = CoveragePolicy.objects.get()
    bad_end = client.post(
        URL, {"aksi": "akhiri_kebijakan", "id": first.pk, "ends_on": "2025-12-01"}
    )
    assert bad_end.status_code == 422 and "sebelum tanggal mulai" in bad_end.content.decode()
    ended = client.post(URL, {"aksi": "akhiri_kebijakan", "id": first.pk, "ends_on": "2026-05-31"})
    assert ended.status_code == 302
    assert client.post(URL, policy_post(valid_from="2026-06-01", green_min="95")).status_code == 302
    assert CoveragePolicy.objects.count() == 2


def test_head_of_office_may_not_set_thresholds_even_by_posting(client, head):
    client.force_login(head)
    response = client.post(URL, policy_post(region="18.09"))
    assert response.status_code == 422 and "admin provinsi" in response.content.decode()
    assert not CoveragePolicy.objects.exists()


def test_head_of_office_closes_a_village_and_opens_it_again(client, head, today):
    client.force_login(head)
    assert client.post(URL, closure_post(today)).status_code == 302
    closure = ZoneClosure.objects.get()
    assert (closure.region_id, closure.ends_on) == ("18.09.01", None)
    assert "Zona merah pandemi" in client.get(URL).content.decode()
    ended = client.post(
        URL, {"aksi": "akhiri_penutupan", "id": closure.pk, "ends_on": today.isoformat()}
    )
    assert ended.status_code == 302
    closure.refresh_from_db()
    assert closure.ends_on == today


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ends_on": "2000-01-01"}, "tidak boleh sebelum tanggal mulai"),
        ({"starts_on": "2026-13-01"}, "TTTT-BB-HH"),
        ({"starts_on": "2999-01-01"}, "antara tahun 2000 dan 2100"),
        ({"region": "18.71.01"}, "luar wilayah kerja"),
        ({"region": "18.09.99"}, "tidak dikenal"),
        ({"reason": ""}, "wajib diisi"),
    ],
)
def test_bad_closures_are_refused(client, head, today, change, message):
    client.force_login(head)
    response = client.post(URL, closure_post(today, **change))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not ZoneClosure.objects.exists()


def test_ending_rules(head, province_admin, make_staff, today):
    other_head = make_staff(Role.SUPERVISOR, region="18.71")
    closure = services.close_zone(
        actor=head, region_code="18.09.01", starts_on=today, ends_on=None, reason="Banjir"
    )
    with pytest.raises(OutreachError, match="tidak ditemukan"):
        services.end_closure(actor=other_head, closure_id=closure.pk, ends_on=today)
    services.end_closure(actor=head, closure_id=closure.pk, ends_on=today + dt.timedelta(days=5))
    with pytest.raises(OutreachError, match="hanya boleh dimajukan"):
        services.end_closure(actor=head, closure_id=closure.pk, ends_on=today + dt.timedelta(9))
    policy = CoveragePolicy.objects.create(
        region_id="18", green_min=92, yellow_min=80, valid_from=dt.date(2026, 1, 1)
    )
    with pytest.raises(CoverageError, match="admin provinsi"):
        end_policy(actor=head, policy_id=policy.pk, valid_to=today)
    national = CoveragePolicy.objects.create(
        green_min=92, yellow_min=80, valid_from=dt.date(2020, 1, 1), valid_to=dt.date(2020, 12, 31)
    )
    with pytest.raises(CoverageError, match="tidak ditemukan"):
        end_policy(actor=province_admin, policy_id=national.pk, valid_to=dt.date(2020, 6, 1))


def test_unknown_action_and_bad_end_input_are_answered(client, head):
    client.force_login(head)
    response = client.post(URL, {"aksi": "hapus"})
    assert response.status_code == 422 and "Permintaan tidak dikenal" in response.content.decode()
    response = client.post(URL, {"aksi": "akhiri_penutupan", "id": "x", "ends_on": "kemarin"})
    assert response.status_code == 422 and "TTTT-BB-HH" in response.content.decode()
    response = client.post(URL, {"aksi": "akhiri_penutupan", "id": "999", "ends_on": "2026-01-01"})
    assert response.status_code == 422 and "tidak ditemukan" in response.content.decode()

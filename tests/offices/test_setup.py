"""The head of office sets up the day in ektp's own pages: counters, points, devices, hours,
staff accounts; each rule refused with an Indonesian message, each write audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from ektp.appointments.models import Counter
from ektp.core.models import AuditEvent, Role, User
from ektp.offices import setup
from ektp.offices.models import Device, ServicePoint, WorkingHours
from ektp.regions.models import Region
from tests.appointments.factories import CounterFactory
from tests.conftest import PASSWORD
from tests.offices.factories import OfficeFactory, ServicePointFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "loket-pagi-Pesawaran-7"


@pytest.fixture
def head(make_staff):
    return make_staff(Role.SUPERVISOR, username="kepala")


@pytest.fixture
def point():
    return ServicePointFactory(name="Kantor Dinas Gedong Tataan")


def audited(object_type: str, object_id) -> bool:
    return AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id)).exists()


# ---------------------------------------------------------------- counters


def test_head_adds_renames_closes_and_reopens_a_counter_each_audited(head, point):
    counter = setup.add_counter(actor=head, point=point, name="  Loket   1 ")
    assert counter.name == "Loket 1" and counter.is_active
    setup.rename_counter(actor=head, counter=counter, name="Loket Prioritas")
    setup.set_counter_active(actor=head, counter=counter, active=False)
    counter.refresh_from_db()
    assert (counter.name, counter.is_active) == ("Loket Prioritas", False)
    setup.set_counter_active(actor=head, counter=counter, active=True)
    assert AuditEvent.objects.filter(object_type="counter", object_id=str(counter.pk)).count() == 4


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "Nama loket wajib diisi"), ("x" * 41, "paling banyak 40"), ("Loket 1", "sudah ada")],
)
def test_counter_name_rules(head, point, name, message):
    CounterFactory(service_point=point, name="Loket 1")
    with pytest.raises(setup.SetupError, match=message):
        setup.add_counter(actor=head, point=point, name=name)
    assert Counter.objects.filter(service_point=point).count() == 1


def test_counter_refused_to_other_roles_and_other_districts(make_staff, point):
    for role, region in [(Role.OPERATOR, "18.09"), (Role.GATE_OFFICER, "18.09")]:
        with pytest.raises(setup.SetupError, match="Hanya kepala dinas"):
            setup.add_counter(actor=make_staff(role, region=region), point=point, name="Loket 9")
    outsider = make_staff(Role.SUPERVISOR, region="18.01", username="kepala-lain")
    with pytest.raises(setup.SetupError, match="di luar wilayah kerja"):
        setup.add_counter(actor=outsider, point=point, name="Loket 9")
    assert not Counter.objects.exists()


def test_closing_a_closed_counter_or_renaming_to_same_name_is_refused(head, point):
    counter = CounterFactory(service_point=point, name="Loket 1", is_active=False)
    with pytest.raises(setup.SetupError, match="sudah ditutup"):
        setup.set_counter_active(actor=head, counter=counter, active=False)
    with pytest.raises(setup.SetupError, match="tidak berubah"):
        setup.rename_counter(actor=head, counter=counter, name="Loket 1")


# ---------------------------------------------------------------- points, devices, hours


def test_head_adds_a_service_point_and_refuses_bad_input(head):
    office = OfficeFactory()
    kecamatan = Region.objects.filter(level=Region.Level.KECAMATAN, code__startswith="18.09.")[0]
    point = setup.save_point(
        actor=head, office=office, kind="upt", code="upt-01", name="UPT Gedong", region=kecamatan
    )
    assert point.code == "UPT-01" and audited("service_point", point.pk)
    elsewhere = Region.objects.filter(level=Region.Level.KECAMATAN, code__startswith="18.01.")[0]
    for kwargs, message in [
        ({"kind": "kapal", "code": "X", "name": "X"}, "tidak dikenal"),
        ({"kind": "upt", "code": "", "name": "X"}, "Kode titik layanan wajib"),
        ({"kind": "upt", "code": "X", "name": " "}, "Nama titik layanan wajib"),
        ({"kind": "upt", "code": "UPT-01", "name": "X"}, "sudah dipakai"),
        ({"kind": "upt", "code": "X", "name": "X", "region": elsewhere}, "bukan kecamatan"),
        ({"kind": "upt", "code": "X", "name": "X", "per_kit_daily_throughput": 0}, "antara 1"),
    ]:
        with pytest.raises(setup.SetupError, match=message):
            setup.save_point(actor=head, office=office, **kwargs)
    assert ServicePoint.objects.count() == 1


def test_head_registers_a_printer_and_refuses_a_duplicate_serial(head, point):
    printer = setup.add_device(actor=head, point=point, kind="card_printer", serial_number="p-1")
    assert printer.serial_number == "P-1" and audited("device", printer.pk)
    with pytest.raises(setup.SetupError, match="sudah terdaftar"):
        setup.add_device(actor=head, point=point, kind="recording_kit", serial_number="P-1")
    with pytest.raises(setup.SetupError, match="tidak dikenal"):
        setup.add_device(actor=head, point=point, kind="kamera", serial_number="K-1")
    assert Device.objects.count() == 1


def test_head_sets_weekly_hours_and_bad_hours_are_refused(head, point):
    eight, three = dt.time(8, 0), dt.time(15, 0)
    setup.set_working_hours(actor=head, point=point, week={0: (eight, three), 5: (eight, three)})
    assert sorted(WorkingHours.objects.values_list("weekday", flat=True)) == [0, 5]
    assert audited("working_hours", point.pk)
    for week, message in [
        ({}, "paling sedikit satu hari"),
        ({1: (three, eight)}, "lebih awal"),
        ({1: (eight, None)}, "wajib diisi"),
    ]:
        with pytest.raises(setup.SetupError, match=message):
            setup.set_working_hours(actor=head, point=point, week=week)
    assert WorkingHours.objects.count() == 2


# ---------------------------------------------------------------- staff accounts


def test_head_creates_an_operator_in_the_own_district_audited(head):
    pesawaran = Region.objects.get(code="18.09")
    user = setup.create_staff(
        actor=head,
        username="operator-baru",
        password=NEW_PASSWORD,
        role=Role.OPERATOR,
        region=pesawaran,
        full_name="Sri Wahyuni",
    )
    assert (user.role, user.region_id, user.first_name) == (Role.OPERATOR, "18.09", "Sri")
    assert user.check_password(NEW_PASSWORD) and audited("user", user.pk)


@pytest.mark.parametrize(
    ("role", "region", "message"),
    [
        (Role.PROVINCE_ADMIN, "18", "lebih tinggi dari peran Anda"),
        (Role.SYSTEM_ADMIN, "18.09", "lebih tinggi dari peran Anda"),
        (Role.OPERATOR, "18.01", "di luar wilayah kerja Anda"),
        (Role.OPERATOR, "18", "di luar wilayah kerja Anda"),
        (Role.OPERATOR, None, "Wilayah kerja wajib diisi"),
        ("raja", "18.09", "tidak dikenal"),
    ],
)
def test_head_cannot_grant_a_role_above_their_own_nor_a_region_outside(head, role, region, message):
    region_obj = Region.objects.get(code=region) if region else None
    with pytest.raises(setup.SetupError, match=message):
        setup.create_staff(
            actor=head, username="baru", password=NEW_PASSWORD, role=role, region=region_obj
        )
    assert not User.objects.filter(username="baru").exists()


def test_staff_creation_refuses_weak_passwords_taken_names_and_non_heads(head, make_staff):
    pesawaran = Region.objects.get(code="18.09")
    base = {"role": Role.OPERATOR, "region": pesawaran}
    with pytest.raises(setup.SetupError, match="terlalu pendek"):
        setup.create_staff(actor=head, username="baru", password="123", **base)
    with pytest.raises(setup.SetupError, match="sudah dipakai"):
        setup.create_staff(actor=head, username="KEPALA", password=NEW_PASSWORD, **base)
    with pytest.raises(setup.SetupError, match="Hanya kepala dinas"):
        setup.create_staff(
            actor=make_staff(Role.OPERATOR), username="baru", password=NEW_PASSWORD, **base
        )


def test_province_admin_creates_a_head_in_one_of_its_districts(make_staff):
    province_admin = make_staff(Role.PROVINCE_ADMIN, region="18")
    user = setup.create_staff(
        actor=province_admin,
        username="kepala-lambar",
        password=NEW_PASSWORD,
        role=Role.SUPERVISOR,
        region=Region.objects.get(code="18.01"),
    )
    assert user.region_id == "18.01"
    with pytest.raises(setup.SetupError, match="kabupaten/kota"):
        setup.create_staff(
            actor=province_admin,
            username="kepala-provinsi",
            password=NEW_PASSWORD,
            role=Role.SUPERVISOR,
            region=Region.objects.get(code="18"),
        )


def test_head_resets_a_password_and_deactivates_an_account_audited(head, make_staff):
    operator = make_staff(Role.OPERATOR)
    setup.reset_staff_password(actor=head, target=operator, password=NEW_PASSWORD)
    setup.set_staff_active(actor=head, target=operator, active=False)
    operator.refresh_from_db()
    assert operator.check_password(NEW_PASSWORD) and not operator.is_active
    assert AuditEvent.objects.filter(object_type="user", object_id=str(operator.pk)).count() == 2
    with pytest.raises(setup.SetupError, match="sudah nonaktif"):
        setup.set_staff_active(actor=head, target=operator, active=False)


def test_head_cannot_touch_accounts_outside_or_above_or_their_own(head, make_staff):
    outsider = make_staff(Role.OPERATOR, region="18.01", username="operator-lambar")
    province_admin = make_staff(Role.PROVINCE_ADMIN, region="18")
    for target, message in [
        (outsider, "di luar wilayah kerja"),
        (province_admin, "di luar wilayah kerja"),
        (head, "Akun Anda sendiri"),
    ]:
        with pytest.raises(setup.SetupError, match=message):
            setup.set_staff_active(actor=head, target=target, active=False)
        with pytest.raises(setup.SetupError, match=message):
            setup.reset_staff_password(actor=head, target=target, password=NEW_PASSWORD)
    peer_above = make_staff(Role.SYSTEM_ADMIN, region=None)
    with pytest.raises(setup.SetupError, match="di luar wilayah kerja"):
        setup.set_staff_active(actor=head, target=peer_above, active=False)
    assert User.objects.filter(is_active=False).count() == 0


# ---------------------------------------------------------------- pages


def test_setup_page_is_on_the_heads_menu_and_home(client, head, point):
    client.force_login(head)
    home = client.get(reverse("core:home")).content.decode()
    assert home.count(reverse("offices:setup")) == 2  # the menu and a home tile
    page = client.get(reverse("offices:setup")).content.decode()
    assert point.name in page and "Belum ada loket" in page
    assert reverse("offices:counters", args=[point.pk]) in page
    # The field units' devices are reached from here (they have no menu entry of their own).
    assert reverse("sync:devices") in page


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.GATE_OFFICER])
def test_setup_pages_are_refused_to_other_office_roles(client, make_staff, point, role):
    client.force_login(make_staff(role))
    for url in [
        reverse("offices:setup"),
        reverse("offices:counters", args=[point.pk]),
        reverse("offices:staff"),
        reverse("offices:working_hours", args=[point.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 403 and "tidak diizinkan" in response.content.decode()


def test_counter_page_adds_renames_and_closes_with_messages(client, head, point):
    client.force_login(head)
    url = reverse("offices:counters", args=[point.pk])
    response = client.post(url, {"action": "add", "name": "Loket 1"}, follow=True)
    assert "Loket Loket 1 dibuka" in response.content.decode()
    counter = Counter.objects.get()
    bad = client.post(url, {"action": "add", "name": "Loket 1"})
    assert bad.status_code == 422 and "sudah ada di titik ini" in bad.content.decode()
    bad = client.post(url, {"action": "add", "name": ""})
    assert bad.status_code == 422 and "Wajib diisi" in bad.content.decode()
    client.post(url, {"action": "rename", "counter": counter.pk, "name": "Loket A"})
    client.post(url, {"action": "close", "counter": counter.pk})
    counter.refresh_from_db()
    assert (counter.name, counter.is_active) == ("Loket A", False)
    bad = client.post(url, {"action": "close", "counter": "bukan"})
    assert bad.status_code == 422 and "Loket tidak ditemukan" in bad.content.decode()


def test_head_of_another_district_gets_404_for_a_point(client, make_staff, point):
    client.force_login(make_staff(Role.SUPERVISOR, region="18.01", username="kepala-lain"))
    response = client.post(
        reverse("offices:counters", args=[point.pk]), {"action": "add", "name": "Loket 1"}
    )
    assert response.status_code == 404 and not Counter.objects.exists()


def test_point_pages_add_a_point_a_device_and_hours(client, head):
    OfficeFactory()
    client.force_login(head)
    response = client.post(
        reverse("offices:point_new"),
        {
            "kind": "upt",
            "code": "UPT-02",
            "name": "UPT Padang Cermin",
            "per_kit_daily_throughput": 40,
        },
    )
    point = ServicePoint.objects.get(code="UPT-02")
    assert response.url == reverse("offices:point", args=[point.pk])
    bad = client.post(reverse("offices:point_new"), {"kind": "kapal", "code": "", "name": ""})
    assert bad.status_code == 422 and "Pilih salah satu" in bad.content.decode()
    client.post(
        reverse("offices:device_new", args=[point.pk]),
        {"kind": "card_printer", "serial_number": "PRN-9"},
    )
    assert point.devices.get().kind == "card_printer"
    bad = client.post(
        reverse("offices:device_new", args=[point.pk]),
        {"kind": "card_printer", "serial_number": "PRN-9"},
    )
    assert bad.status_code == 422 and "sudah terdaftar" in bad.content.decode()
    hours = reverse("offices:working_hours", args=[point.pk])
    client.post(hours, {"open_0": "on", "opens_0": "07:30", "closes_0": "14:00"})
    assert list(WorkingHours.objects.values_list("weekday", "opens_at")) == [(0, dt.time(7, 30))]
    bad = client.post(hours, {"open_1": "on", "opens_1": "14:00", "closes_1": "07:00"})
    assert bad.status_code == 422 and "lebih awal dari jam tutup" in bad.content.decode()
    page = client.get(reverse("offices:point", args=[point.pk])).content.decode()
    assert "Senin 07:30–14:00" in page and "PRN-9" in page


def test_staff_pages_create_an_account_and_refuse_a_higher_role(client, head):
    client.force_login(head)
    form = client.get(reverse("offices:staff_new")).content.decode()
    assert 'value="province_admin"' not in form and 'value="18.01"' not in form
    data = {"username": "gerbang-1", "role": "gate_officer", "region": "18.09"}
    response = client.post(reverse("offices:staff_new"), {**data, "password": NEW_PASSWORD})
    assert response.url == reverse("offices:staff")
    for bad_data, message in [
        ({**data, "username": "x", "role": "province_admin"}, "Pilih salah satu"),
        ({**data, "username": "x", "region": "18.01"}, "Pilih salah satu"),
        ({**data, "password": NEW_PASSWORD}, "sudah dipakai"),
    ]:
        bad = client.post(reverse("offices:staff_new"), {"password": NEW_PASSWORD, **bad_data})
        assert bad.status_code == 422 and message in bad.content.decode(), bad_data
    assert User.objects.filter(username="gerbang-1", role="gate_officer").count() == 1
    assert "gerbang-1" in client.get(reverse("offices:staff")).content.decode()


def test_staff_detail_resets_a_password_and_deactivates(client, head, make_staff):
    operator = make_staff(Role.OPERATOR)
    client.force_login(head)
    url = reverse("offices:staff_detail", args=[operator.pk])
    client.post(url, {"action": "password", "password": NEW_PASSWORD})
    client.post(url, {"action": "deactivate"})
    operator.refresh_from_db()
    assert operator.check_password(NEW_PASSWORD) and not operator.is_active
    bad = client.post(url, {"action": "password", "password": "1"})
    assert bad.status_code == 422 and "terlalu pendek" in bad.content.decode()
    own = client.post(reverse("offices:staff_detail", args=[head.pk]), {"action": "deactivate"})
    assert own.status_code == 422 and "Akun Anda sendiri" in own.content.decode()
    outsider = make_staff(Role.OPERATOR, region="18.01", username="operator-lambar")
    assert client.get(reverse("offices:staff_detail", args=[outsider.pk])).status_code == 404
    assert outsider.check_password(PASSWORD)


def test_province_admin_finds_staff_of_its_districts_from_home(client, make_staff):
    lambar = make_staff(Role.OPERATOR, region="18.01", username="operator-lambar")
    elsewhere = make_staff(Role.OPERATOR, region="31.71", username="operator-jakpus")
    client.force_login(make_staff(Role.PROVINCE_ADMIN, region="18"))
    assert reverse("offices:staff") in client.get(reverse("core:home")).content.decode()
    page = client.get(reverse("offices:staff")).content.decode()
    assert lambar.username in page and elsewhere.username not in page

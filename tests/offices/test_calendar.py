import datetime as dt

import pytest

from ektp.core.models import Role
from ektp.offices.calendar import month_openings, opening
from ektp.offices.models import SpecialDay, WorkingHours
from ektp.offices.services import OfficeError, change_device_status, set_special_day
from tests.offices.factories import DeviceFactory, ServicePointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor(make_staff):
    return make_staff(Role.SUPERVISOR)


@pytest.fixture
def point():
    point = ServicePointFactory(per_kit_daily_throughput=60)
    DeviceFactory.create_batch(2, service_point=point)
    return point


def test_ordinary_weekday_is_open_with_default_hours_and_capacity(point):
    monday = opening(point=point, day=dt.date(2025, 3, 10))
    assert monday.is_open and monday.hours == (dt.time(8), dt.time(15))
    assert monday.capacity == 120
    friday = opening(point=point, day=dt.date(2025, 3, 14))
    assert friday.is_open and friday.hours == (dt.time(8), dt.time(11, 30))


def test_weekend_is_closed(point):
    sunday = opening(point=point, day=dt.date(2025, 3, 9))
    assert not sunday.is_open and sunday.capacity == 0 and sunday.hours is None
    assert "luar hari layanan" in sunday.reason


def test_idul_fitri_is_closed_with_its_name(point):
    day = opening(point=point, day=dt.date(2025, 3, 31))
    assert not day.is_open and "Idul Fitri" in day.reason


def test_cuti_bersama_is_closed(point):
    day = opening(point=point, day=dt.date(2025, 4, 2))  # Wednesday
    assert not day.is_open and "Cuti Bersama" in day.reason


def test_special_opening_on_a_sunday_is_open(point, supervisor):
    sunday = dt.date(2025, 3, 9)
    set_special_day(
        actor=supervisor,
        office=point.office,
        point=point,
        day=sunday,
        is_open=True,
        reason="Lembur akhir pekan pemilih pemula",
        hours=(dt.time(8), dt.time(12)),
    )
    day = opening(point=point, day=sunday)
    assert day.is_open and day.hours == (dt.time(8), dt.time(12)) and day.capacity == 120
    assert "Lembur" in day.reason


def test_pilkada_day_opening_for_the_whole_office(point, supervisor):
    pilkada = dt.date(2020, 12, 9)
    assert not opening(point=point, day=pilkada).is_open
    set_special_day(
        actor=supervisor,
        office=point.office,
        day=pilkada,
        is_open=True,
        reason="Pilkada 2020: layanan perekaman dan suket",
        hours=(dt.time(7), dt.time(13)),
    )
    assert opening(point=point, day=pilkada).is_open


def test_point_closure_overrides_office_opening(point, supervisor):
    day = dt.date(2025, 3, 11)
    set_special_day(
        actor=supervisor,
        office=point.office,
        point=point,
        day=day,
        is_open=False,
        reason="Petugas jemput bola ke Desa Bernung",
    )
    closed = opening(point=point, day=day)
    assert not closed.is_open and "jemput bola" in closed.reason
    other = ServicePointFactory(office=point.office)
    assert opening(point=other, day=day).is_open


def test_point_with_own_week_is_open_only_on_listed_days(point):
    WorkingHours.objects.create(
        service_point=point, weekday=5, opens_at=dt.time(9), closes_at=dt.time(12)
    )
    assert opening(point=point, day=dt.date(2025, 3, 15)).is_open  # Saturday
    assert not opening(point=point, day=dt.date(2025, 3, 10)).is_open  # Monday


def test_inactive_point_is_closed(point):
    point.is_active = False
    point.save()
    assert not opening(point=point, day=dt.date(2025, 3, 10)).is_open


def test_open_day_with_every_kit_broken_has_no_capacity(point, supervisor):
    for kit in point.devices.all():
        change_device_status(device=kit, to="broken", actor=supervisor, reason="Petir")
    day = opening(point=point, day=dt.date(2025, 3, 10))
    assert day.is_open and day.capacity == 0 and "alat perekaman" in day.reason


def test_month_has_every_day(point):
    days = month_openings(point=point, year=2025, month=4)
    assert len(days) == 30
    assert next(d for d, o in days if o.is_open) == dt.date(2025, 4, 8)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"is_open": True, "hours": None}, "wajib diisi"),
        ({"is_open": True, "hours": (dt.time(12), dt.time(8))}, "lebih awal"),
        ({"is_open": False, "reason": ""}, "Alasan"),
    ],
)
def test_bad_special_day_is_refused(point, supervisor, kwargs, message):
    args = {"reason": "Lembur", **kwargs}
    with pytest.raises(OfficeError, match=message):
        set_special_day(actor=supervisor, office=point.office, day=dt.date(2025, 3, 9), **args)
    assert not SpecialDay.objects.exists()


def test_second_special_day_for_the_same_day_is_refused(point, supervisor):
    day = dt.date(2025, 3, 9)
    set_special_day(actor=supervisor, office=point.office, day=day, is_open=False, reason="A")
    with pytest.raises(OfficeError, match="Sudah ada"):
        set_special_day(actor=supervisor, office=point.office, day=day, is_open=False, reason="B")
    assert SpecialDay.objects.count() == 1


def test_operator_may_not_declare_a_special_day(point, operator):
    with pytest.raises(OfficeError):
        set_special_day(
            actor=operator, office=point.office, day=dt.date(2025, 3, 9), is_open=False, reason="x"
        )

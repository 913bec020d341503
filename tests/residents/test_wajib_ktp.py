import datetime as dt

import pytest

from ektp.residents.models import Resident
from tests.residents.factories import ResidentFactory

pytestmark = pytest.mark.django_db
POLLING_DAY = dt.date(2024, 11, 27)


def test_seventeen_on_the_day_is_wajib_ktp():
    r = ResidentFactory(birth_date=dt.date(2007, 11, 27))
    assert r.is_wajib_ktp(POLLING_DAY)
    assert not r.is_wajib_ktp(POLLING_DAY - dt.timedelta(days=1))
    assert Resident.objects.wajib_ktp(POLLING_DAY).filter(pk=r.pk).exists()
    assert (
        not Resident.objects.wajib_ktp(POLLING_DAY - dt.timedelta(days=1)).filter(pk=r.pk).exists()
    )


def test_married_under_seventeen_is_wajib_ktp():
    r = ResidentFactory(birth_date=dt.date(2009, 1, 1), marital_status="kawin")
    assert r.is_wajib_ktp(POLLING_DAY)
    assert Resident.objects.wajib_ktp(POLLING_DAY).filter(pk=r.pk).exists()


def test_divorced_under_seventeen_stays_wajib_ktp():
    r = ResidentFactory(birth_date=dt.date(2009, 1, 1), marital_status="cerai_hidup")
    assert r.is_wajib_ktp(POLLING_DAY)


def test_foreigner_needs_itap_and_the_dead_are_not_counted():
    wna = ResidentFactory(citizenship="WNA")
    itap = ResidentFactory(citizenship="WNA", has_itap=True)
    dead = ResidentFactory(life_status="meninggal")
    wajib = set(Resident.objects.wajib_ktp(POLLING_DAY).values_list("pk", flat=True))
    assert itap.pk in wajib and wna.pk not in wajib and dead.pk not in wajib
    assert not wna.is_wajib_ktp(POLLING_DAY) and itap.is_wajib_ktp(POLLING_DAY)


def test_born_on_29_february_turns_seventeen_on_1_march_in_a_common_year():
    r = ResidentFactory(birth_date=dt.date(2008, 2, 29))
    for day, expected in [(dt.date(2025, 2, 28), False), (dt.date(2025, 3, 1), True)]:
        assert r.is_wajib_ktp(day) is expected
        assert Resident.objects.wajib_ktp(day).filter(pk=r.pk).exists() is expected

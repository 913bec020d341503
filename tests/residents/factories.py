"""Factories for synthetic residents (never real people)."""

from __future__ import annotations

import datetime as dt
import itertools

import factory

from ektp.residents.models import Family, Resident
from ektp.residents.nik import make_kk, make_nik

_serial = itertools.count(1)


def resident_data(**overrides) -> dict:
    """Valid input for services.create_resident; override any field."""
    birth_date = overrides.pop("birth_date", dt.date(1990, 5, 17))
    sex = overrides.pop("sex", "L")
    village = overrides.pop("address_region", "18.09.01.2001")
    data = {
        "nik": make_nik(
            kecamatan_code=village[:8],
            birth_date=birth_date if isinstance(birth_date, dt.date) else dt.date(1990, 5, 17),
            sex=sex if sex in ("L", "P") else "L",
            serial=next(_serial),
        ),
        "name": "Budi Santoso",
        "birth_place": "Gedong Tataan",
        "birth_date": birth_date,
        "sex": sex,
        "marital_status": "belum_kawin",
        "religion": "islam",
        "occupation": "Petani/Pekebun",
        "citizenship": "WNI",
        "mother_name": "Siti Aminah",
        "address_region": village,
        "rt": "1",
        "rw": "2",
        "street": "Dusun I",
        "phone": "081234567890",
        "email": "budi@contoh.id",
        "life_status": "hidup",
        "family_relation": "kepala_keluarga",
    }
    data.update(overrides)
    return data


class FamilyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Family

    address_region_id = "18.09.01.2001"
    rt = "001"
    rw = "001"
    issued_on = dt.date(2015, 3, 2)
    kk_number = factory.LazyAttribute(
        lambda o: make_kk(
            kecamatan_code=o.address_region_id[:8], issued_on=o.issued_on, serial=next(_serial)
        )
    )

    kecamatan_code = factory.LazyAttribute(lambda o: o.address_region_id[:8])
    kabkota_code = factory.LazyAttribute(lambda o: o.address_region_id[:5])
    province_code = factory.LazyAttribute(lambda o: o.address_region_id[:2])


class ResidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resident

    name = factory.Sequence(lambda n: f"PENDUDUK UJI {n}")
    birth_place = "PESAWARAN"
    birth_date = dt.date(1995, 1, 10)
    sex = "L"
    religion = "islam"
    mother_name = "IBU UJI"
    address_region_id = "18.09.01.2001"
    rt = "001"
    rw = "001"
    nik = factory.LazyAttribute(
        lambda o: make_nik(
            kecamatan_code=o.address_region_id[:8],
            birth_date=o.birth_date,
            sex=o.sex,
            serial=next(_serial),
        )
    )

    kecamatan_code = factory.LazyAttribute(lambda o: o.address_region_id[:8])
    kabkota_code = factory.LazyAttribute(lambda o: o.address_region_id[:5])
    province_code = factory.LazyAttribute(lambda o: o.address_region_id[:2])

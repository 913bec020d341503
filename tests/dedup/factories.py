"""Helpers for penunggalan tests: residents with distinct demographics, iris captures, SFE records."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np

from ektp.abis.iris import IrisTemplate
from ektp.abis.synthetic import make_subject, recapture
from ektp.enrollment.biometrics import Capture
from ektp.enrollment.services import send_for_penunggalan
from tests.enrollment.factories import record, simulated
from tests.residents.factories import ResidentFactory

FIRST = [
    "ADI",
    "BAYU",
    "CITRA",
    "DEWI",
    "EKO",
    "FAJAR",
    "GILANG",
    "HENDRA",
    "INDAH",
    "JOKO",
    "KARTIKA",
    "LUKMAN",
    "MAYA",
    "NANDA",
    "OKTA",
    "PUTRI",
    "RIZKY",
    "SARI",
    "TEGUH",
    "UMAR",
    "VINA",
    "WULAN",
    "YOGA",
    "ZAHRA",
]
LAST = [
    "PRATAMA",
    "LESTARI",
    "HIDAYAT",
    "WIJAYA",
    "SANTOSO",
    "RAHAYU",
    "KURNIAWAN",
    "SETIAWAN",
    "PURNAMA",
    "HASIBUAN",
    "SIREGAR",
    "NASUTION",
    "SAPUTRA",
    "MAHARANI",
]
MOTHERS = [
    "SITI AMINAH",
    "SRI WAHYUNI",
    "NUR HASANAH",
    "ROSMINI",
    "JUARIAH",
    "MARYATI",
    "SUPARMI",
    "KHADIJAH",
    "ROHAYATI",
    "PARTINI",
    "SUMIATI",
    "NURLELA",
    "MASITOH",
]
PLACES = ["GEDONG TATAAN", "PESAWARAN", "BANDAR LAMPUNG", "METRO", "PRINGSEWU", "KALIANDA"]

_people = itertools.count(0)


def distinct_person(i: int) -> dict:
    """Return demographics unlike every other index's: name, mother, birth date all differ."""
    return {
        "name": f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]}",
        "mother_name": f"{MOTHERS[(i * 7) % len(MOTHERS)]} {LAST[(i * 5 + 3) % len(LAST)]}",
        "birth_place": PLACES[i % len(PLACES)],
        "birth_date": dt.date(1950, 1, 1) + dt.timedelta(days=(i * 97) % 20000),
        "sex": "L" if i % 2 else "P",
    }


def person(**overrides):
    """Create a resident whose demographics match no other person() resident."""
    data = distinct_person(next(_people) + 1000)
    data.update(overrides)
    return ResidentFactory(**data)


def iris_captures(template: IrisTemplate, quality: int = 90) -> dict[str, Capture]:
    data = template.to_bytes()
    return {
        "iris_left": Capture("iris_left", data[:512], quality),
        "iris_right": Capture("iris_right", data[512:], quality),
    }


def subject(seed: int) -> IrisTemplate:
    return make_subject(seed)


def genuine(template: IrisTemplate, seed: int = 7) -> IrisTemplate:
    return recapture(template, np.random.default_rng(seed))


def sent(operator, resident, iris: IrisTemplate | None = None, exceptions=None, **kwargs):
    """Record a resident (with these irises if given) and send the record to penunggalan."""
    captures = simulated(str(resident.pk), skip=set(exceptions or {}))
    if iris is not None:
        captures.update(iris_captures(iris))
    enrollment = record(
        operator, resident=resident, captures=captures, exceptions=exceptions, **kwargs
    )
    send_for_penunggalan(resident=resident, actor=operator)
    return enrollment

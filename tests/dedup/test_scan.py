"""The demographic scan finds planted double NIKs and not lookalike siblings."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from ektp.core.models import AuditEvent
from ektp.dedup import demographic, services
from ektp.dedup.errors import DedupError
from ektp.dedup.models import CaseSource, CaseStatus, DuplicateCase
from ektp.residents.models import Resident
from tests.dedup.factories import distinct_person
from tests.residents.factories import ResidentFactory

pytestmark = pytest.mark.django_db

POPULATION = 300


def _typo(name: str) -> str:
    first, *rest = name.split(" ")
    return " ".join([first[:-1] + ("I" if first[-1] != "I" else "E"), *rest])


@pytest.fixture
def district():
    """300 distinct residents plus 5 planted second NIKs (typo in name) and 5 sibling pairs."""
    base = [ResidentFactory(**distinct_person(i)) for i in range(POPULATION)]
    planted = []
    for original in base[:5]:
        copy = ResidentFactory(
            name=_typo(original.name),
            mother_name=original.mother_name,
            birth_place=original.birth_place,
            birth_date=original.birth_date,
            sex=original.sex,
        )
        planted.append((original, copy))
    siblings = []
    for i, elder in enumerate(base[10:15]):
        younger = ResidentFactory(
            name=f"{['ZAINAL', 'YUSUF', 'XAVERIA', 'WIDURI', 'VERA'][i]} {elder.name.split(' ')[1]}",
            mother_name=elder.mother_name,
            birth_place=elder.birth_place,
            birth_date=elder.birth_date + dt.timedelta(days=600 + 31 * i),
            sex=elder.sex,
        )
        siblings.append((elder, younger))
    return base, planted, siblings


def _pairs():
    return {frozenset((c.resident_id, c.candidate_id)) for c in DuplicateCase.objects.all()}


def test_scan_finds_every_planted_second_nik_and_no_sibling(district):
    _, planted, siblings = district
    result = services.scan_registry(region="18.09")

    found = _pairs()
    assert {frozenset((a.pk, b.pk)) for a, b in planted} == found
    assert not found & {frozenset((a.pk, b.pk)) for a, b in siblings}
    assert result.records == Resident.objects.count()
    assert result.created == 5
    assert sorted(len(c) for c in result.clusters) == [2] * 5


def test_case_names_the_newer_record_as_the_one_to_adjudicate(district):
    _, planted, _ = district
    services.scan_registry(region="18.09")
    original, copy = planted[0]
    case = DuplicateCase.objects.get(candidate=original)
    assert case.resident == copy
    assert case.source == CaseSource.SCAN
    assert case.status == CaseStatus.OPEN
    assert case.demographic_probability >= demographic.MATCH_PROBABILITY
    assert case.kabkota_code == "18.09"


def test_second_scan_opens_no_new_case(district):
    services.scan_registry(region="18.09")
    again = services.scan_registry(region="18.09")
    assert again.created == 0
    assert DuplicateCase.objects.count() == 5


def test_scan_of_another_region_does_not_see_these_residents(district):
    result = services.scan_registry(region="18.71")
    assert result.records == 0
    assert not DuplicateCase.objects.exists()


def test_scan_is_audited(district):
    services.scan_registry(region="18.09")
    event = AuditEvent.objects.get(object_type="dedup_scan")
    assert event.detail["created"] == 5


def test_single_record_check_uses_the_same_model():
    original = ResidentFactory(**distinct_person(1))
    copy = ResidentFactory(**{**distinct_person(1), "name": _typo(original.name)})
    ResidentFactory(**distinct_person(2))
    matches = services.demographic_matches(resident=copy)
    assert [m.right for m in matches] == [str(original.pk)]
    assert matches[0].probability >= demographic.MATCH_PROBABILITY


def test_names_are_normalised_before_comparison():
    assert demographic.normalise_name("  H. Muhammad  Ridwan, S.Pd ") == "MUHAMMAD RIDWAN"
    assert demographic.normalise_name("Dr. Siti Nur'aini") == "SITI NURAINI"


@pytest.mark.parametrize(
    ("region", "message"),
    [("18-09", "tidak sah"), ("99.99", "tidak dikenal"), ("abc", "tidak sah")],
)
def test_scan_refuses_a_bad_region(region, message):
    with pytest.raises(DedupError, match=message):
        services.scan_registry(region=region)


def test_scan_command_reports_and_refuses_bad_region(district, capsys):
    call_command("dedup", "scan", "--region", "18.09")
    assert "5 kasus baru" in capsys.readouterr().out
    with pytest.raises(CommandError, match="tidak dikenal"):
        call_command("dedup", "scan", "--region", "99.99")


def test_planted_demo_duplicates_are_found_by_the_scan(capsys):
    for i in range(60):
        ResidentFactory(**distinct_person(i))
    call_command("dedup", "plant", "--region", "18.09", "--count", "4")
    assert "4 NIK ganda ditanam" in capsys.readouterr().out
    assert services.scan_registry(region="18.09").created == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plant", "--count", "0"], "jumlah harus bilangan bulat"),
        (["plant", "--count", "banyak"], "jumlah harus bilangan bulat"),
        (["plant", "--region", "18/09"], "tidak sah"),
    ],
)
def test_plant_command_refuses_bad_arguments(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("dedup", *args)
    assert not Resident.objects.exists()


def _row(pk, name, mother, born, sex="L", place="PESAWARAN"):
    return (pk, name, mother, place, born, sex)


def test_scan_links_a_typo_in_the_birth_year_and_a_missing_mother():
    rows = [
        _row("a", "AGUS PRATAMA", "SITI AMINAH", dt.date(1990, 5, 12)),
        _row("b", "AGUS PRATAMA", "SITI AMINAH", dt.date(1991, 5, 12)),
        _row("c", "DEWI LESTARI", "", dt.date(1985, 3, 4), "P"),
        _row("d", "DEWI LESTARI", "SRI WAHYUNI", dt.date(1985, 3, 4), "P"),
        _row("e", "RUDI HIDAYAT", "SRI WAHYUNI", dt.date(1985, 3, 4)),
    ]
    timings = {}
    pairs = demographic.find_pairs(rows, timings=timings)
    assert [(p.left, p.right) for p in pairs] == [("a", "b"), ("c", "d")]
    assert {"table", "load", "model", "predict"} <= timings.keys()


def test_a_lower_threshold_links_the_same_name_and_birth_date_with_another_mother():
    rows = [
        _row("a", "AGUS PRATAMA", "SITI AMINAH", dt.date(1990, 5, 12)),
        _row("b", "AGUS PRATAMA", "NUR HASANAH", dt.date(1990, 5, 12)),
    ]
    assert demographic.find_pairs(rows) == []
    assert [(p.left, p.right) for p in demographic.find_pairs(rows, threshold=0.5)] == [("a", "b")]

"""Coverage arithmetic on small hand-made populations, at every level."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ektp.coverage.models import Zone
from ektp.coverage.stats import NATION, coverage_by_level, coverage_of, percent
from ektp.coverage.zones import DEFAULT, apply_zones, thresholds_for, zone_for
from ektp.residents.models import Resident
from tests.coverage.factories import AS_OF, PolicyFactory, adults
from tests.residents.factories import ResidentFactory

pytestmark = pytest.mark.django_db

A1, A2, B1 = "18.09.01.2001", "18.09.01.2002", "18.09.02.2001"
KOTA = "18.71.01.1003"


@pytest.fixture
def population():
    adults(A1, 10, recorded=9)
    adults(A2, 4, recorded=1)
    adults(B1, 5, recorded=5)
    adults(KOTA, 2, recorded=0)
    # Not wajib KTP: a child, a dead adult, a foreigner without ITAP.
    ResidentFactory(address_region_id=A1, birth_date=dt.date(2015, 1, 1))
    ResidentFactory(address_region_id=A1, life_status="meninggal")
    ResidentFactory(address_region_id=A1, citizenship="WNA")


def by_code(rows):
    return {r.code: r for r in rows}


def test_pesawaran_2018_figures_are_92_28_percent_and_green():
    assert percent(380_249, 412_048) == Decimal("92.28")
    assert zone_for(380_249, 412_048, DEFAULT) == Zone.GREEN


def test_coverage_counts_at_every_level(population):
    desa = by_code(coverage_by_level(level=4, as_of=AS_OF, within="18.09"))
    assert (desa[A1].wajib_ktp, desa[A1].recorded, desa[A1].rate) == (10, 9, Decimal("90.00"))
    assert (desa[A2].wajib_ktp, desa[A2].recorded) == (4, 1)
    kec = by_code(coverage_by_level(level=3, as_of=AS_OF, within="18.09"))
    assert (kec["18.09.01"].wajib_ktp, kec["18.09.01"].recorded) == (14, 10)
    assert kec["18.09.02"].rate == Decimal("100.00")
    kab = by_code(coverage_by_level(level=2, as_of=AS_OF, within="18"))
    assert (kab["18.09"].wajib_ktp, kab["18.09"].recorded) == (19, 15)
    assert (kab["18.71"].wajib_ktp, kab["18.71"].recorded) == (2, 0)
    prov = coverage_of(code="18", as_of=AS_OF)
    assert (prov.wajib_ktp, prov.recorded) == (21, 15)
    nation = coverage_by_level(level=NATION, as_of=AS_OF)[0]
    assert (nation.wajib_ktp, nation.recorded) == (21, 15)


def test_recorded_count_matches_the_residents_rule(population):
    rows = coverage_by_level(level=2, as_of=AS_OF, within="18")
    expected = Resident.objects.wajib_ktp(AS_OF).recorded(AS_OF).count()
    assert sum(r.recorded for r in rows) == expected


def test_coverage_as_of_an_earlier_date_ignores_later_recordings():
    adults(A1, 4, recorded=2, recorded_on=dt.date(2024, 1, 15))
    adults(A1, 2, recorded=2, recorded_on=dt.date(2024, 5, 1))
    before = coverage_of(code=A1, as_of=dt.date(2024, 3, 1))
    after = coverage_of(code=A1, as_of=AS_OF)
    assert (before.recorded, after.recorded) == (2, 4)


def test_someone_turning_17_later_is_not_yet_wajib_ktp():
    ResidentFactory(address_region_id=A1, birth_date=dt.date(2007, 7, 1))
    assert coverage_of(code=A1, as_of=AS_OF).wajib_ktp == 0
    assert coverage_of(code=A1, as_of=dt.date(2024, 7, 1)).wajib_ktp == 1


def test_coverage_above_100_percent_is_not_clamped():
    adults(A1, 2, recorded=2)
    row = coverage_of(code=A1, as_of=AS_OF)
    row.recorded += 1  # one more person recorded here than live here
    assert row.rate == Decimal("150.00")
    assert zone_for(3, 2, DEFAULT) == Zone.GREEN
    assert percent(103, 100) == Decimal("103.00")


def test_village_without_wajib_ktp_is_listed_without_a_rate():
    adults(A1, 1, recorded=1)
    rows = by_code(apply_zones(coverage_by_level(level=4, as_of=AS_OF, within="18.09.01"), AS_OF))
    assert rows[A2].wajib_ktp == 0 and rows[A2].rate is None
    assert rows[A2].zone == Zone.NO_DATA


def test_printed_prr_and_ikd_counts():
    adults(A1, 3, recorded=3, ktp_status="CARD_PRINTED")
    adults(A1, 2, recorded=2, ktp_status="PRINT_READY_RECORD")
    person = ResidentFactory(
        address_region_id=A1, recorded_on=dt.date(2024, 1, 2), ktp_status="CARD_ISSUED"
    )
    person.ikd_activated_at = dt.datetime(2024, 6, 30, 10, tzinfo=dt.UTC)
    person.save()
    row = coverage_of(code=A1, as_of=AS_OF)
    assert (row.recorded, row.printed, row.prr, row.ikd) == (6, 4, 2, 1)
    assert row.printed_rate == Decimal("66.67")
    assert coverage_of(code=A1, as_of=dt.date(2024, 6, 29)).ikd == 0


def test_zone_boundaries_are_exact():
    assert zone_for(92, 100, DEFAULT) == Zone.GREEN
    assert zone_for(91_999, 100_000, DEFAULT) == Zone.YELLOW
    assert zone_for(80, 100, DEFAULT) == Zone.YELLOW
    assert zone_for(79, 100, DEFAULT) == Zone.RED
    assert zone_for(0, 0, DEFAULT) == Zone.NO_DATA


def test_zone_follows_the_policy_valid_on_the_date():
    PolicyFactory(
        green_min=Decimal("95"),
        yellow_min=Decimal("85"),
        valid_from=dt.date(2024, 1, 1),
        valid_to=dt.date(2024, 3, 31),
    )
    PolicyFactory(
        region_id="18.09",
        green_min=Decimal("90"),
        yellow_min=Decimal("70"),
        valid_from=dt.date(2024, 6, 1),
    )
    assert thresholds_for("18.09", dt.date(2023, 12, 31)).green_min == Decimal("92")
    assert thresholds_for("18.09", dt.date(2024, 2, 1)).green_min == Decimal("95")
    assert thresholds_for("18.09", dt.date(2024, 5, 1)) == DEFAULT
    assert thresholds_for("18.09", dt.date(2024, 6, 1)).green_min == Decimal("90")
    assert thresholds_for("18.71", dt.date(2024, 6, 1)) == DEFAULT
    adults(A1, 100, recorded=91)
    rows = apply_zones([coverage_of(code=A1, as_of=AS_OF)], AS_OF)
    assert rows[0].zone == Zone.GREEN
    rows = apply_zones([coverage_of(code=A1, as_of=AS_OF)], dt.date(2024, 2, 1))
    assert rows[0].zone == Zone.YELLOW


def test_tree_rolled_up_from_villages_equals_one_group_by_per_level(population):
    from ektp.coverage.stats import coverage_tree

    tree = coverage_tree(code="", as_of=AS_OF)
    for level, rows in tree.items():
        direct = coverage_by_level(level=level, as_of=AS_OF)
        assert [r.as_dict() for r in rows] == [r.as_dict() for r in direct], level

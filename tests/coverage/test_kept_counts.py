"""Today's coverage counts kept per village in the database (VillageCount): the figures of
the live GROUP BY, read on a cold cache without counting the residents again, and counted
again (only the villages written to) after a write, never stored from before one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ektp.coverage.models import CountedScope, VillageCount
from ektp.coverage.stats import (
    coverage_of,
    forget_all_counts,
    kept_village_counts,
    live_village_counts,
    village_counts,
)
from ektp.residents.models import Resident
from tests.coverage.factories import adults

pytestmark = pytest.mark.django_db
A1, A2, B1 = "18.09.01.2001", "18.09.01.2002", "18.09.02.2001"
OTHER = "18.71.01.1003"


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def population():
    people = [
        *adults(A1, 6, recorded=4),
        *adults(A2, 3, recorded=0),
        *adults(B1, 5, recorded=5, ktp_status="PRINT_READY_RECORD"),
        *adults(OTHER, 2, recorded=1),
    ]
    forget_all_counts()  # the rows the factories' saves created: count from nothing
    return people


def resident_sql(queries) -> list[str]:
    return [q["sql"] for q in queries if '"residents_resident"' in q["sql"]]


def test_kept_counts_are_the_live_counts_at_every_scope(population, today):
    for within in (None, "18", "18.09"):
        assert village_counts(as_of=today, within=within) == live_village_counts(
            as_of=today, within=within
        )
    assert set(village_counts(as_of=today, within="18.09.01")) == {A1, A2}
    row = coverage_of(code="18.09", as_of=today)
    assert (row.wajib_ktp, row.recorded, row.prr, row.printed) == (14, 9, 5, 4)


def test_a_cold_cache_reads_the_kept_rows_without_counting_residents(population, today):
    village_counts(as_of=today, within="18.09")
    cache.clear()
    with CaptureQueriesContext(connection) as reads:
        counts = village_counts(as_of=today, within="18.09")
    assert counts == live_village_counts(as_of=today, within="18.09")
    assert resident_sql(reads.captured_queries) == []
    assert len(reads.captured_queries) == 2  # the scope's day, the village rows


def test_a_region_counted_whole_covers_the_regions_inside_it(population, today):
    village_counts(as_of=today, within=None)
    assert set(CountedScope.objects.values_list("scope", flat=True)) == {""}
    with CaptureQueriesContext(connection) as reads:
        village_counts(as_of=today, within="18.09")
    assert resident_sql(reads.captured_queries) == []


def test_a_write_recounts_only_its_village_and_the_figure_follows(population, today):
    before = coverage_of(code="18.09", as_of=today)
    person = Resident.objects.get(pk=population[6].pk)  # in A2, not recorded
    person.recorded_on, person.ktp_status = today, "PRINT_READY_RECORD"
    person.save(update_fields=["recorded_on", "ktp_status"])
    with CaptureQueriesContext(connection) as reads:
        after = coverage_of(code="18.09", as_of=today)
    (recount,) = resident_sql(reads.captured_queries)
    assert "GROUP BY" in recount and A2 in recount and A1 not in recount
    assert (after.recorded, after.prr) == (before.recorded + 1, before.prr + 1)
    assert village_counts(as_of=today, within="18.09") == live_village_counts(
        as_of=today, within="18.09"
    )


def test_a_move_to_another_village_changes_both_villages(population, today):
    village_counts(as_of=today, within="18.09")
    person = Resident.objects.get(pk=population[0].pk)  # in A1, recorded
    person.address_region_id = B1
    person.set_region_codes()
    person.save()
    counts = village_counts(as_of=today, within="18.09")
    assert (counts[A1]["wajib"], counts[B1]["wajib"]) == (5, 6)
    assert counts == live_village_counts(as_of=today, within="18.09")


def test_a_village_s_first_resident_appears_in_its_region(population, today):
    village_counts(as_of=today, within="18.09")
    newcomer = "18.09.03.2001"
    adults(newcomer, 1, recorded=1)
    counts = village_counts(as_of=today, within="18.09")
    assert counts[newcomer]["rec"] == 1
    assert counts == live_village_counts(as_of=today, within="18.09")


def test_a_deleted_resident_leaves_the_counts(population, today):
    village_counts(as_of=today, within="18.09")
    Resident.objects.get(pk=population[7].pk).delete()  # A2
    assert village_counts(as_of=today, within="18.09")[A2]["wajib"] == 2


def test_a_village_left_without_wajib_ktp_drops_out(population, today):
    village_counts(as_of=today, within="18.09")
    for person in Resident.objects.filter(address_region_id=A2):
        person.delete()
    assert A2 not in village_counts(as_of=today, within="18.09")
    assert VillageCount.objects.get(village=A2).wajib_ktp == 0


def test_counts_read_before_a_write_are_not_kept(population, today):
    """A reader counts a village, a write to it lands before the reader stores the counts:
    the row keeps its stale mark, so the next read counts the village again."""
    village_counts(as_of=today, within="18.09")
    first = Resident.objects.get(pk=population[6].pk)  # A2
    first.recorded_on = today
    first.save(update_fields=["recorded_on"])
    second = Resident.objects.get(pk=population[7].pk)  # A2 too
    wrote = []

    def write_after_the_count(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if "GROUP BY" in sql and not wrote:
            wrote.append(True)
            second.recorded_on = today
            second.save(update_fields=["recorded_on"])
        return result

    with connection.execute_wrapper(write_after_the_count):
        racing = village_counts(as_of=today, within="18.09")
    assert wrote and racing[A2]["rec"] == 1  # counted before the second write
    row = VillageCount.objects.get(village=A2)
    assert row.counted_version != row.version  # not kept: still stale
    assert village_counts(as_of=today, within="18.09")[A2]["rec"] == 2


def test_a_new_day_counts_every_village_again(population, today):
    village_counts(as_of=today, within="18.09")
    tomorrow = today + dt.timedelta(days=1)
    counts = kept_village_counts(within="18.09", today=tomorrow)
    assert counts == live_village_counts(as_of=tomorrow, within="18.09")
    assert set(VillageCount.objects.values_list("day", flat=True)) == {tomorrow}
    assert list(CountedScope.objects.values_list("day", flat=True)) == [tomorrow]


def test_the_seed_s_bulk_writes_are_counted_after_forgetting(population, today):
    village_counts(as_of=today, within="18.09")
    # Written past the signals, as the seed writes: the kept rows do not know.
    Resident.objects.filter(pk=population[8].pk).update(recorded_on=today)
    forget_all_counts()
    assert village_counts(as_of=today, within="18.09")[A2]["rec"] == 1

"""The coverage counts of past days kept in the cache: the same figures as the live GROUP BY,
read again without a query, and never read from before a write to residents that committed.
(Today's counts are kept per village in the database: test_kept_counts.py.)"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from ektp.core.models import Role
from ektp.coverage import selectors, stats
from ektp.coverage.stats import coverage_of, live_village_counts, village_counts
from ektp.coverage.tasks import warm_counts
from ektp.residents.models import Resident
from tests.coverage.factories import AS_OF, adults

pytestmark = pytest.mark.django_db
A1, A2, B1 = "18.09.01.2001", "18.09.01.2002", "18.09.02.2001"
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def population():
    return [
        *adults(A1, 6, recorded=4),
        *adults(A2, 3, recorded=0),
        *adults(B1, 5, recorded=5, ktp_status="PRINT_READY_RECORD"),
        *adults("18.71.01.1003", 2, recorded=1),
    ]


def test_cached_counts_are_the_live_counts_and_cost_no_query(population):
    for within in (None, "18", "18.09"):
        live = live_village_counts(as_of=AS_OF, within=within)
        assert village_counts(as_of=AS_OF, within=within) == live
        with CaptureQueriesContext(connection) as reads:
            assert village_counts(as_of=AS_OF, within=within) == live
        assert reads.captured_queries == []
    # A kecamatan's or a village's counts are its district's villages inside it.
    assert set(village_counts(as_of=AS_OF, within="18.09.01")) == {A1, A2}
    assert village_counts(as_of=AS_OF, within=A2) == {
        A2: live_village_counts(as_of=AS_OF, within=A2)[A2]
    }


def test_a_committed_write_to_a_resident_makes_the_counts_stale(
    population, django_capture_on_commit_callbacks, settings
):
    settings.TASKS = DB_TASKS
    before = coverage_of(code="18.09", as_of=AS_OF)
    assert (before.wajib_ktp, before.recorded, before.prr) == (14, 9, 5)
    person = Resident.objects.get(pk=population[6].pk)  # in A2, not recorded
    person.recorded_on, person.ktp_status = dt.date(2024, 2, 1), "PRINT_READY_RECORD"
    with django_capture_on_commit_callbacks(execute=True):
        person.save()
    after = coverage_of(code="18.09", as_of=AS_OF)
    assert (after.wajib_ktp, after.recorded, after.prr) == (14, 10, 6)
    # No warm-up is queued: today's counts are kept per village, counted again at the read.
    assert not DBTaskResult.objects.filter(task_path__endswith=".warm_counts").exists()


def test_a_write_not_yet_committed_is_counted_by_its_own_transaction(
    population, django_capture_on_commit_callbacks
):
    before = village_counts(as_of=AS_OF, within="18.09")
    person = Resident.objects.get(pk=population[6].pk)
    person.recorded_on = dt.date(2024, 2, 1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        person.save()  # inside the test's transaction: not committed yet
    after = village_counts(as_of=AS_OF, within="18.09")
    assert after != before  # the writer reads its own change
    assert len(callbacks) == 1  # and the counts are made stale again once it commits


def test_the_warm_up_counts_today_s_villages_into_the_kept_rows(population):
    today = stats.timezone.localdate()
    assert warm_counts.call(district="18.09") == 3
    with CaptureQueriesContext(connection) as reads:
        village_counts(as_of=today, within="18.09")
        village_counts(as_of=today, within=None)
    assert not [q for q in reads.captured_queries if "residents_resident" in q["sql"]]


def test_unrecorded_list_pages_are_the_straightforward_query_in_order(population, make_staff):
    user = make_staff(Role.SUPERVISOR, region="18.09")
    people = selectors.unrecorded_list(user=user, code="18.09", as_of=AS_OF)
    expected = list(
        selectors.unrecorded_wajib_ktp(user=user, code="18.09", as_of=AS_OF)
        .order_by("address_region_id", "name", "nik")
        .values_list("pk", flat=True)
    )
    assert people.count() == len(expected) == 5
    for size in (1, 2, 3, 4, 5, 7):
        pages = [people[start : start + size] for start in range(0, len(expected), size)]
        assert [r.pk for page in pages for r in page] == expected
    assert people[5:10] == []
    with pytest.raises(TypeError):
        people[0]

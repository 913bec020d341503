"""A reader counting a village while another connection writes to it and commits: the
reader's counts are not kept (PostgreSQL, real connections)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from ektp.coverage.models import VillageCount
from ektp.coverage.stats import forget_all_counts, live_village_counts, village_counts
from ektp.residents.models import Resident
from tests.coverage.factories import adults

A1 = "18.09.01.2001"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_write_committed_while_a_reader_counts_leaves_the_village_stale():
    today = timezone.localdate()
    people = adults(A1, 4, recorded=1)
    forget_all_counts()
    village_counts(as_of=today, within="18.09")
    first = Resident.objects.get(pk=people[2].pk)
    first.recorded_on = today
    first.save(update_fields=["recorded_on"])  # A1 stale: the next reader counts it again

    counted, written = threading.Event(), threading.Event()
    errors: list[Exception] = []

    def writer():
        try:
            assert counted.wait(timeout=30)
            with transaction.atomic():
                second = Resident.objects.get(pk=people[3].pk)
                second.recorded_on = today
                second.save(update_fields=["recorded_on"])
        except Exception as exc:  # surfaced in the assertion below
            errors.append(exc)
        finally:
            written.set()
            connection.close()

    def pause_after_the_count(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if "GROUP BY" in sql and not counted.is_set():
            counted.set()
            assert written.wait(timeout=30)  # the other connection commits meanwhile
        return result

    thread = threading.Thread(target=writer)
    thread.start()
    with connection.execute_wrapper(pause_after_the_count):
        racing = village_counts(as_of=today, within="18.09")
    thread.join()
    assert errors == []
    assert racing[A1]["rec"] == 2  # counted before the second write committed
    row = VillageCount.objects.get(village=A1)
    assert row.counted_version != row.version  # so not kept
    assert village_counts(as_of=today, within="18.09") == live_village_counts(
        as_of=today, within="18.09"
    )
    assert village_counts(as_of=today, within="18.09")[A1]["rec"] == 3

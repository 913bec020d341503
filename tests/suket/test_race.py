"""Two operators issuing at once never get the same number (PostgreSQL, real threads)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from ektp.core.models import Role
from ektp.suket.models import Suket, SuketCounter
from ektp.suket.services import SuketNotAllowed, issue_suket
from tests.cards.factories import OfficeFactory
from tests.suket.factories import RecordedResidentFactory

WORKERS = 8


def _run_together(jobs):
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job):
        try:
            barrier.wait()
            job()
        except BaseException as exc:  # collected and asserted by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_get_distinct_consecutive_numbers(make_staff):
    office = OfficeFactory()
    operators = [make_staff(Role.OPERATOR, username=f"op{i}") for i in range(WORKERS)]
    residents = [RecordedResidentFactory() for _ in range(WORKERS)]
    jobs = [
        (lambda r=r, o=o: issue_suket(resident=r, office=office, officer=o))
        for r, o in zip(residents, operators, strict=True)
    ]
    assert _run_together(jobs) == []
    numbers = sorted(Suket.objects.values_list("number", flat=True))
    assert len(set(numbers)) == WORKERS
    assert [n.split("/")[1] for n in numbers] == [f"{i:04d}" for i in range(1, WORKERS + 1)]
    assert SuketCounter.objects.get(office=office).last == WORKERS


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_for_one_resident_give_one_suket(make_staff):
    office = OfficeFactory()
    operators = [make_staff(Role.OPERATOR, username=f"op{i}") for i in range(WORKERS)]
    resident = RecordedResidentFactory()
    jobs = [
        (lambda o=o: issue_suket(resident=resident, office=office, officer=o)) for o in operators
    ]
    errors = _run_together(jobs)
    assert Suket.objects.filter(resident=resident).count() == 1
    assert len(errors) == WORKERS - 1
    assert all(isinstance(e, SuketNotAllowed) for e in errors)

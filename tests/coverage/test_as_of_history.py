"""Printed and PRR as of a past date follow the KTP status history, not today's status."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ektp.coverage.models import CoverageSnapshot
from ektp.coverage.services import take_snapshots
from ektp.coverage.stats import NATION, coverage_by_level, coverage_of, coverage_tree
from ektp.enrollment.models import StatusChange
from tests.coverage.factories import adults

pytestmark = pytest.mark.django_db

A1, A2, B1 = "18.09.01.2001", "18.09.01.2002", "18.09.02.2001"


def at(day: str, time: str = "10:00") -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(f"{day}T{time}"))


def change(resident, steps):
    for from_status, to_status, when in steps:
        StatusChange.objects.create(
            resident=resident, from_status=from_status, to_status=to_status, at=when, reason="uji"
        )


@pytest.fixture
def history():
    """A1: one card issued after PRR and printing, one PRR since January, one never recorded.
    B1: a card printed in March that later went back to PRR (reprint), no later change."""
    issued, waiting, _ = adults(A1, 3, recorded=2, recorded_on=dt.date(2024, 1, 15))
    issued.ktp_status = "CARD_ISSUED"
    issued.save()
    change(
        issued,
        [
            ("BELUM_REKAM", "BIO_CAPTURED", at("2024-01-15")),
            ("BIO_CAPTURED", "PRINT_READY_RECORD", at("2024-02-01", "23:30")),
            ("PRINT_READY_RECORD", "CARD_PRINTED", at("2024-03-10")),
            ("CARD_PRINTED", "CARD_ISSUED", at("2024-03-20")),
        ],
    )
    waiting.ktp_status = "PRINT_READY_RECORD"
    waiting.save()
    change(waiting, [("BIO_CAPTURED", "PRINT_READY_RECORD", at("2024-01-20"))])
    (reprint,) = adults(B1, 1, recorded=1, recorded_on=dt.date(2024, 1, 10))
    reprint.ktp_status = "PRINT_READY_RECORD"
    reprint.save()
    change(
        reprint,
        [
            ("PRINT_READY_RECORD", "CARD_PRINTED", at("2024-03-01")),
            ("CARD_PRINTED", "PRINT_READY_RECORD", at("2024-04-05")),
        ],
    )
    # Recorded after the dates below: never counted before its recording date.
    (late,) = adults(A2, 1, recorded=1, recorded_on=dt.date(2024, 5, 1))
    change(late, [("PRINT_READY_RECORD", "CARD_ISSUED", at("2024-05-20"))])


def figures(code: str, day: str) -> tuple[int, int, int]:
    row = coverage_of(code=code, as_of=dt.date.fromisoformat(day))
    return row.recorded, row.printed, row.prr


@pytest.mark.parametrize(
    ("day", "a1", "b1"),
    [
        # (recorded, printed, PRR) in A1 and in B1
        ("2024-01-16", (2, 0, 0), (1, 0, 1)),  # A1: both BIO_CAPTURED then
        ("2024-01-31", (2, 0, 1), (1, 0, 1)),
        ("2024-02-01", (2, 0, 2), (1, 0, 1)),  # the 23:30 change counts for its own day
        ("2024-03-05", (2, 0, 2), (1, 1, 0)),
        ("2024-03-15", (2, 1, 1), (1, 1, 0)),
        ("2024-04-30", (2, 1, 1), (1, 0, 1)),
    ],
)
def test_printed_and_prr_of_a_past_day_follow_the_status_history(history, day, a1, b1):
    assert figures(A1, day) == a1
    assert figures(B1, day) == b1
    kecamatan = figures("18.09.01", day)
    assert kecamatan == a1  # A2's resident is recorded only in May
    district = figures("18.09", day)
    assert district == tuple(x + y for x, y in zip(a1, b1, strict=True))
    nation = coverage_by_level(level=NATION, as_of=dt.date.fromisoformat(day))[0]
    assert (nation.recorded, nation.printed, nation.prr) == district


def test_today_uses_the_current_status(history):
    today = timezone.localdate()
    assert figures("18.09", today.isoformat()) == (4, 2, 2)


def test_the_tree_and_the_snapshot_of_a_past_day_agree_with_the_history(history):
    day = dt.date(2024, 3, 15)
    tree = coverage_tree(code="18.09", as_of=day)
    by_code = {r.code: r for rows in tree.values() for r in rows}
    assert (by_code[A1].printed, by_code[A1].prr) == (1, 1)
    assert (by_code["18.09.02"].printed, by_code["18.09.02"].prr) == (1, 0)
    assert (by_code["18.09"].printed, by_code["18.09"].prr) == (2, 1)
    take_snapshots(day=day, within="18.09")
    snapshot = CoverageSnapshot.objects.get(region_code="18.09", day=day)
    assert (snapshot.recorded, snapshot.printed, snapshot.prr) == (3, 2, 1)


def test_a_village_whose_only_change_is_later_keeps_its_counts(history):
    rows = {r.code: r for r in coverage_by_level(level=4, as_of=dt.date(2024, 3, 5))}
    assert rows[A2].recorded == 0 and rows[A2].printed == 0 and rows[A2].prr == 0

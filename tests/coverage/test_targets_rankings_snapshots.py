"""Policies, targets, first-time voters, rankings and daily snapshots."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from ektp.core.models import Role
from ektp.coverage import selectors, services
from ektp.coverage.models import CoveragePolicy, CoverageSnapshot, Target
from ektp.coverage.services import CoverageError
from ektp.coverage.tasks import snapshot_coverage
from tests.coverage.factories import AS_OF, TargetFactory, adults
from tests.residents.factories import ResidentFactory

pytestmark = pytest.mark.django_db
A1, A2, B1 = "18.09.01.2001", "18.09.01.2002", "18.09.02.2001"
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def province_admin(make_staff):
    return make_staff(Role.PROVINCE_ADMIN, region="18")


@pytest.fixture
def supervisor(make_staff):
    return make_staff(Role.SUPERVISOR, region="18.09")


def policy(admin, **kw):
    args = {
        "region_code": "18",
        "green_min": "92",
        "yellow_min": "80",
        "valid_from": dt.date(2024, 1, 1),
    }
    args.update(kw)
    return services.create_policy(actor=admin, **args)


def test_policy_saved_for_the_province(province_admin):
    p = policy(province_admin)
    assert (p.green_min, p.yellow_min, p.region_id) == (Decimal("92"), Decimal("80"), "18")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"green_min": "80", "yellow_min": "85"}, "lebih tinggi"),
        ({"green_min": "80", "yellow_min": "80"}, "tumpang tindih"),
        ({"green_min": "101"}, "antara 0 dan 100"),
        ({"yellow_min": "-1"}, "antara 0 dan 100"),
        ({"green_min": "sembilan"}, "angka persen"),
        ({"green_min": "92.123"}, "dua angka"),
        ({"valid_to": dt.date(2023, 1, 1)}, "sebelum tanggal mulai"),
        ({"region_code": "99.99"}, "tidak dikenal"),
        ({"region_code": "31"}, "luar wilayah kerja"),
        ({"region_code": "18.09.01"}, "provinsi atau kabupaten"),
        ({"region_code": "x"}, "kode Kemendagri"),
        ({"region_code": None}, "nasional"),
    ],
)
def test_bad_policy_is_refused_with_a_reason(province_admin, change, message):
    with pytest.raises(CoverageError, match=message):
        policy(province_admin, **change)
    assert not CoveragePolicy.objects.exists()


def test_overlapping_policy_periods_are_refused(province_admin):
    policy(province_admin, valid_to=dt.date(2024, 6, 30))
    with pytest.raises(CoverageError, match="tumpang tindih"):
        policy(province_admin, valid_from=dt.date(2024, 6, 1))
    policy(province_admin, valid_from=dt.date(2024, 7, 1))
    assert CoveragePolicy.objects.count() == 2


def test_supervisor_may_not_set_zones(supervisor):
    with pytest.raises(CoverageError, match="admin provinsi"):
        policy(supervisor, region_code="18.09")


def test_first_time_voters_turn_17_by_polling_day_and_not_before_the_last_one():
    polling = dt.date(2024, 11, 27)
    turns_17_on_polling_day = ResidentFactory(birth_date=dt.date(2007, 11, 27))
    turns_17_the_day_after = ResidentFactory(birth_date=dt.date(2007, 11, 28))
    voted_last_time = ResidentFactory(birth_date=dt.date(2002, 2, 14))
    first_time = ResidentFactory(birth_date=dt.date(2002, 2, 15))
    ResidentFactory(birth_date=dt.date(2006, 1, 1), citizenship="WNA", has_itap=True)
    ResidentFactory(birth_date=dt.date(2006, 1, 1), life_status="meninggal")
    from ektp.residents.models import Resident

    found = set(
        selectors.first_time_voters(
            Resident.objects.all(), polling_day=polling, previous_polling_day=dt.date(2019, 2, 14)
        )
    )
    assert turns_17_on_polling_day in found and first_time in found
    assert turns_17_the_day_after not in found and voted_last_time not in found
    assert len(found) == 2


def test_target_progress_and_daily_rate_needed():
    adults(A1, 10, recorded=4)
    target = TargetFactory(rate=Decimal("90"), due_date=AS_OF + dt.timedelta(days=4))
    p = selectors.target_progress(target, as_of=AS_OF)
    assert (p.population, p.recorded, p.goal, p.remaining, p.days_left) == (10, 4, 9, 5, 5)
    assert p.per_day == 1 and not p.met and not p.overdue
    late = selectors.target_progress(target, as_of=AS_OF + dt.timedelta(days=5))
    assert late.overdue and late.per_day is None


def test_first_time_voter_target_counts_only_first_time_voters():
    ResidentFactory(
        birth_date=dt.date(2007, 1, 1), recorded_on=dt.date(2024, 6, 1), ktp_status="BIO_CAPTURED"
    )
    ResidentFactory(birth_date=dt.date(2007, 6, 1))
    adults(A1, 5, recorded=0)
    target = TargetFactory(
        population="pemilih_pemula", polling_day=dt.date(2024, 11, 27), rate=Decimal("100")
    )
    target.previous_polling_day = dt.date(2019, 11, 27)
    p = selectors.target_progress(target, as_of=AS_OF)
    assert (p.population, p.recorded, p.remaining) == (2, 1, 1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rate": "0"}, "lebih dari 0"),
        ({"rate": "120"}, "antara 0 dan 100"),
        ({"due_date": dt.date(2020, 1, 1)}, "masa lalu"),
        ({"population": "semua"}, "Populasi"),
        ({"population": "pemilih_pemula"}, "hari pemungutan suara"),
        ({"name": "  "}, "Nama target"),
        ({"region_code": "18.71"}, "luar wilayah kerja"),
        (
            {
                "population": "pemilih_pemula",
                "polling_day": dt.date(2024, 11, 27),
                "previous_polling_day": dt.date(2025, 1, 1),
            },
            "sebelumnya",
        ),
    ],
)
def test_bad_target_is_refused(supervisor, change, message):
    args = {
        "name": "Pilkada 2024",
        "population": "wajib_ktp",
        "region_code": "18.09",
        "rate": "100",
        "due_date": dt.date(2024, 11, 20),
        "today": AS_OF,
    }
    args.update(change)
    with pytest.raises(CoverageError, match=message):
        services.create_target(actor=supervisor, **args)
    assert not Target.objects.exists()


def test_ranking_of_villages_best_first_ties_share_a_rank(supervisor):
    adults(A1, 4, recorded=2)
    adults(A2, 2, recorded=1)
    adults(B1, 4, recorded=4)
    ranked = selectors.ranking(user=supervisor, code="18.09", level=4, as_of=AS_OF)
    assert [(r.rank, r.row.code) for r in ranked] == [(1, B1), (2, A1), (2, A2)]


def test_ranking_of_districts_within_a_province(province_admin):
    adults(A1, 2, recorded=1)
    adults("18.71.01.1003", 2, recorded=2)
    ranked = selectors.ranking(user=province_admin, code="18", level=2, as_of=AS_OF)
    assert [r.row.code for r in ranked] == ["18.71", "18.09"]


def test_snapshot_twice_on_one_day_keeps_one_row_per_region():
    adults(A1, 3, recorded=1)
    services.take_snapshots(day=AS_OF)
    first = CoverageSnapshot.objects.count()
    adults(A1, 1, recorded=1)
    services.take_snapshots(day=AS_OF)
    assert CoverageSnapshot.objects.count() == first == 5  # nation, 18, 18.09, 18.09.01, A1
    village = CoverageSnapshot.objects.get(region_code=A1, day=AS_OF)
    assert (village.wajib_ktp, village.recorded) == (4, 2)


def test_snapshot_command_and_task(capsys):
    adults(A1, 2, recorded=1)
    call_command("coverage", "snapshot", "--date", "2024-06-30")
    assert "5 cuplikan" in capsys.readouterr().out
    with override_settings(TASKS=IMMEDIATE):
        snapshot_coverage.enqueue(day="2024-06-30")
    assert CoverageSnapshot.objects.filter(day=AS_OF).count() == 5
    with pytest.raises(CommandError, match="TTTT-BB-HH"):
        call_command("coverage", "snapshot", "--date", "30-06-2024")
    with pytest.raises(CommandError, match="masa depan"):
        call_command("coverage", "snapshot", "--date", "2999-01-01")


def test_trend_reads_snapshots_in_order(supervisor):
    adults(A1, 2, recorded=1, recorded_on=dt.date(2024, 6, 1))
    for day in (dt.date(2024, 6, 2), dt.date(2024, 5, 1)):
        services.take_snapshots(day=day)
    points = selectors.trend(user=supervisor, code="18.09", start=dt.date(2024, 1, 1), end=AS_OF)
    assert [(p.day, p.recorded) for p in points] == [
        (dt.date(2024, 5, 1), 0),
        (dt.date(2024, 6, 2), 1),
    ]


def test_as_of_date_rules():
    today = dt.date(2024, 6, 30)
    assert selectors.parse_as_of("", today=today) == today
    assert selectors.parse_as_of("2018-12-31", today=today) == dt.date(2018, 12, 31)
    for bad, message in [
        ("2024-07-01", "masa depan"),
        ("31/12/2018", "TTTT-BB-HH"),
        ("2009-01-01", "2011"),
    ]:
        with pytest.raises(CoverageError, match=message):
            selectors.parse_as_of(bad, today=today)

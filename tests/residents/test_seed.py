import datetime as dt

import pytest
from django.core.management import call_command
from django.db.models import Count, Q

from ektp.core.models import User
from ektp.residents.models import Family, Resident, years_ago
from ektp.residents.nik import check_nik_matches, decode_nik, parse_kk
from ektp.residents.seed import RECORDING_STARTED, recording_date

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 1)


def _seed(n=3000, seed=42):
    call_command(
        "seed", region="18.09", seed=seed, residents=n, today=TODAY.isoformat(), no_progress=True
    )


def test_seed_builds_valid_consistent_residents():
    _seed()
    assert Resident.objects.count() == 3000
    for r in Resident.objects.select_related("family"):
        info = decode_nik(r.nik)
        check_nik_matches(info, birth_date=r.birth_date, sex=r.sex)
        assert info.kecamatan_code == r.kecamatan_code
        assert parse_kk(r.family.kk_number).kecamatan_code == r.kecamatan_code
    assert (
        User.objects.filter(
            username__in=["gerbang", "operator", "kadis", "provinsi", "admin"]
        ).count()
        == 5
    )


def test_seed_is_repeatable():
    _seed(n=500, seed=7)
    first = list(
        Resident.objects.order_by("nik").values_list("nik", "name", "birth_date", "ktp_status")
    )
    Resident.objects.all().delete()
    Family.objects.all().delete()
    _seed(n=500, seed=7)
    second = list(
        Resident.objects.order_by("nik").values_list("nik", "name", "birth_date", "ktp_status")
    )
    assert first == second


def test_seed_follows_sex_ratio_age_pyramid_and_family_structure():
    _seed(n=6000)
    residents = Resident.objects.all()
    male_share = residents.filter(sex="L").count() / 6000
    assert 0.49 < male_share < 0.54  # Pesawaran: 257,325 of 501,047
    children = residents.filter(birth_date__gt=dt.date(2011, 11, 1)).count() / 6000
    assert 0.18 < children < 0.32  # under 15: about a quarter in SP2020
    assert not residents.filter(
        marital_status="kawin", birth_date__gt=dt.date(2010, 11, 1)
    ).exists()
    sizes = Family.objects.annotate(n=Count("members")).values_list("n", flat=True)
    assert 2.5 < sum(sizes) / len(sizes) < 4.5


def test_seed_leaves_recording_coverage_mostly_between_80_and_100_percent():
    _seed(n=20000)
    rows = (
        Resident.objects.wajib_ktp(TODAY)
        .values("address_region")
        .annotate(n=Count("id"), rec=Count("id", filter=Q(recorded_on__isnull=False)))
    )
    coverage = [r["rec"] / r["n"] for r in rows if r["n"] >= 60]
    assert coverage and min(coverage) > 0.70 and max(coverage) <= 1.0
    overall = sum(r["rec"] for r in rows) / sum(r["n"] for r in rows)
    assert 0.85 < overall < 0.95


def test_seed_refuses_unknown_region_and_skips_when_not_empty(capsys):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("seed", region="99.99", residents=10, no_progress=True)
    _seed(n=50)
    call_command("seed", region="18.09", residents=50, if_empty=True, no_progress=True)
    assert Resident.objects.count() == 50


def test_seed_a_province_shares_the_residents_by_district_population():
    from django.db import connection

    from ektp.regions.models import Region
    from ektp.residents.seed import district_sizes

    call_command(
        "seed", region="18", seed=3, residents=1500, today=TODAY.isoformat(), no_progress=True
    )
    counts = dict(Resident.objects.values_list("kabkota_code").annotate(n=Count("id")).order_by())
    expected = {d.code: n for d, n in district_sizes(Region.objects.get(code="18"), 1500)}
    assert sum(expected.values()) == 1500 and len(expected) == 15
    assert counts == {code: n for code, n in expected.items() if n}
    assert counts["18.71"] > counts["18.72"]  # Bandar Lampung is far larger than Metro
    for r in Resident.objects.select_related("family")[:300]:
        info = decode_nik(r.nik)
        check_nik_matches(info, birth_date=r.birth_date, sex=r.sex)
        assert info.kecamatan_code == r.kecamatan_code == r.family.kecamatan_code
    # The plain indexes dropped for the load (PostgreSQL) are back.
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "residents_resident")
    assert "resident_village_status" in constraints and "resident_kab_name" in constraints


def test_seed_refuses_a_kecamatan_and_zero_jobs():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="provinsi atau kabupaten"):
        call_command("seed", region="18.09.01", residents=10, no_progress=True)
    with pytest.raises(CommandError, match="--jobs"):
        call_command("seed", region="18", residents=10, jobs=0, no_progress=True)


def test_every_seeded_bio_captured_resident_has_its_biometrics():
    """Sending one for penunggalan needs its enrollment; the seed used to write none."""
    from ektp.enrollment.models import Enrollment
    from ektp.regions.models import Region
    from ektp.residents.demo import prepare_demo_district

    _seed(n=3000)
    recent = TODAY - dt.timedelta(days=30)
    captured = Resident.objects.filter(ktp_status="BIO_CAPTURED")
    assert not captured.filter(recorded_on__lte=recent).exists()  # unsent for years: no
    # Two recent recordings, left unsent, as a district's last days would leave them.
    for resident in Resident.objects.filter(ktp_status="CARD_ISSUED").order_by("nik")[:2]:
        resident.ktp_status, resident.recorded_on = "BIO_CAPTURED", TODAY
        resident.save(update_fields=["ktp_status", "recorded_on"])
    prepare_demo_district(Region.objects.get(code="18.09"))
    assert captured.count() >= 2
    for resident in captured:
        enrollment = Enrollment.objects.get(resident=resident)
        assert enrollment.samples.count() == 14
        assert enrollment.captured_at.date() == resident.recorded_on
    prepare_demo_district(Region.objects.get(code="18.09"))  # a second run adds nothing
    assert Enrollment.objects.count() == captured.count()


def test_seed_writes_two_weeks_of_daily_coverage_and_no_recording_after_its_today():
    from ektp.coverage.models import CoverageSnapshot

    _seed(n=800)
    assert not Resident.objects.filter(recorded_on__gt=TODAY).exists()
    days = list(
        CoverageSnapshot.objects.filter(region_code="18.09")
        .order_by("day")
        .values_list("day", flat=True)
    )
    assert days == [TODAY - dt.timedelta(days=n) for n in range(13, -1, -1)]
    kecamatan = CoverageSnapshot.objects.filter(level=3, day=TODAY).count()
    assert kecamatan >= 1
    recorded = list(
        CoverageSnapshot.objects.filter(region_code="18.09")
        .order_by("day")
        .values_list("recorded", flat=True)
    )
    assert recorded == sorted(recorded)  # a cumulative count never drops


def test_seed_refuses_a_today_in_the_future_or_malformed():
    from django.core.management.base import CommandError
    from django.utils import timezone

    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    for bad, message in ((tomorrow.isoformat(), "masa depan"), ("07-12-2026", "TTTT-BB-HH")):
        with pytest.raises(CommandError, match=message):
            call_command("seed", region="18.09", residents=10, today=bad, no_progress=True)
    assert not Resident.objects.exists()


@pytest.mark.parametrize("draw", [0.0, 0.5, 0.999999])
@pytest.mark.parametrize("days_old", [16 * 365, 16 * 365 + 3, 16 * 365 + 4, 17 * 365 + 40])
def test_recording_date_is_never_after_today(days_old, draw):
    born = TODAY - dt.timedelta(days=days_old)
    age = days_old // 365  # the seed's count, a few days ahead of the calendar
    day = recording_date(birth_date=born, age=age, today=TODAY, draw=draw)
    assert born <= day <= TODAY


def test_recording_date_on_the_day_the_recording_could_start_is_that_day():
    born = years_ago(TODAY, 16)
    assert recording_date(birth_date=born, age=16, today=TODAY, draw=0.999) == TODAY


def test_recording_date_never_before_recording_started():
    born = dt.date(1970, 1, 1)
    assert recording_date(birth_date=born, age=56, today=TODAY, draw=0.0) == RECORDING_STARTED

"""The heavy pages on a small seeded district: the selectors' figures, in a pinned number of
queries (so that a page cannot slow down quietly by reading row by row)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ektp.core.models import Role
from ektp.coverage import stats
from ektp.coverage.stats import coverage_of
from ektp.residents.models import Resident

pytestmark = pytest.mark.django_db
DISTRICT = "18.09"


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def seeded(db, today):
    call_command(
        "seed",
        region=DISTRICT,
        seed=7,
        residents=600,
        today=today.isoformat(),
        no_progress=True,
        stdout=io.StringIO(),
    )
    # One resident recorded after the day a page asks about: still "belum rekam" on that day.
    late = Resident.objects.wajib_ktp(today).filter(recorded_on__isnull=False).first()
    late.recorded_on = today + dt.timedelta(days=2)
    late.save(update_fields=["recorded_on"])
    return late


@pytest.fixture
def kadis_client(make_staff):
    client = Client()
    client.force_login(make_staff(Role.SUPERVISOR, region=DISTRICT))
    return client


@pytest.fixture
def admin_client(make_staff):
    client = Client()
    client.force_login(make_staff(Role.SYSTEM_ADMIN, region=None))
    return client


def not_recorded_as_before(code_filter: dict, as_of: dt.date) -> set:
    """The people behind the figure as the pages first listed them: wajib KTP minus everyone
    recorded by the day (the slow NOT IN form, kept here as the reference)."""
    wajib = Resident.objects.wajib_ktp(as_of).filter(**code_filter)
    recorded = Resident.objects.recorded(as_of).values("pk")
    return set(wajib.exclude(pk__in=recorded).values_list("pk", flat=True))


def listed(client, url: str) -> set:
    """Every resident on every page of a paginated list."""
    first = client.get(url)
    assert first.status_code == 200
    paginator = first.context["page"].paginator
    people = set()
    for number in paginator.page_range:
        page = client.get(f"{url}&hal={number}").context["page"]
        people |= {r.pk for r in page.object_list}
    assert len(people) == paginator.count
    return people


def test_unrecorded_page_lists_the_people_behind_the_dashboard_figure(seeded, kadis_client, today):
    row = coverage_of(code=DISTRICT, as_of=today)
    people = listed(kadis_client, f"/cakupan/belum-rekam/?wilayah={DISTRICT}")
    assert len(people) == row.missing
    assert people == not_recorded_as_before({"kabkota_code": DISTRICT}, today)
    assert seeded.pk in people  # recorded after the day asked about


def test_unrecorded_page_of_a_past_day_with_many_later_recordings(
    seeded, kadis_client, today, monkeypatch
):
    # Past the limit of ids spelt out, the list falls back to "recorded after the day".
    monkeypatch.setattr(stats, "LATER_IDS_MAX", 0)
    day = today - dt.timedelta(days=400)
    url = f"/cakupan/belum-rekam/?wilayah={DISTRICT}&tanggal={day.isoformat()}"
    people = listed(kadis_client, url)
    assert len(people) == coverage_of(code=DISTRICT, as_of=day).missing
    assert people == not_recorded_as_before({"kabkota_code": DISTRICT}, day)


def test_village_target_list_counts_the_village_figure(seeded, kadis_client, today):
    village = seeded.address_region_id
    row = coverage_of(code=village, as_of=today)
    people = listed(kadis_client, f"/jemput-bola/desa/{village}/?daftar=belum_rekam")
    assert len(people) == row.missing > 0
    assert people == not_recorded_as_before({"address_region_id": village}, today)


def test_dashboard_figures_are_the_selector_figures(seeded, kadis_client, admin_client, today):
    district = kadis_client.get("/cakupan/").context
    row = coverage_of(code=DISTRICT, as_of=today)
    assert (district["top"].wajib_ktp, district["top"].recorded) == (row.wajib_ktp, row.recorded)
    assert sum(c.recorded for c in district["children"]) == row.recorded
    assert sum(v.wajib_ktp for v in district["villages"]) == row.wajib_ktp

    nation = admin_client.get("/cakupan/").context
    assert nation["top"].recorded == coverage_of(code="", as_of=today).recorded == row.recorded
    lampung = next(c for c in nation["children"] if c.code == "18")
    assert (lampung.wajib_ktp, lampung.recorded) == (row.wajib_ktp, row.recorded)
    assert nation["villages"] == []


@pytest.fixture
def operator_client(make_staff):
    client = Client()
    client.force_login(make_staff(Role.OPERATOR, region=DISTRICT))
    return client


HEAVY_PAGES = [
    ("kadis", "/", 27),  # the head of office's day at a glance
    ("kadis", f"/cakupan/belum-rekam/?wilayah={DISTRICT}", 15),
    ("kadis", "/jemput-bola/desa/{village}/", 9),
    ("kadis", "/cakupan/", 30),  # with the blank stock panel of the cards app
    ("admin", "/cakupan/", 11),
    ("kadis", "/jemput-bola/", 18),
    ("kadis", f"/cakupan/peringkat/?wilayah={DISTRICT}", 12),
    ("kadis", "/penunggalan/", 8),
    ("admin", "/penunggalan/", 7),
    ("kadis", "/cetak/", 27),
    ("admin", f"/cetak/?kab={DISTRICT}", 26),
    ("operator", "/cetak/", 28),
    ("kadis", "/cetak/ketahanan/", 20),
    ("kadis", f"/cetak/stok/?kab={DISTRICT}", 24),
    ("kadis", "/notifikasi/", 6),
    ("kadis", "/perekaman/harian/", 45),  # a few per service point (opening hours)
    ("kadis", "/naskah/rekap-harian/", 17),
    ("kadis", "/wilayah/", 7),
]


@pytest.mark.parametrize(("who", "url", "most"), HEAVY_PAGES)
def test_heavy_pages_read_in_a_fixed_number_of_queries(
    seeded,
    kadis_client,
    admin_client,
    operator_client,
    who,
    url,
    most,
    django_assert_max_num_queries,
):
    """On a cold cache (the kept village counts in the database, as after a restart or a
    write elsewhere): no query per row, no count over the district's residents."""
    client = {"kadis": kadis_client, "admin": admin_client, "operator": operator_client}[who]
    url = url.format(village=seeded.address_region_id)
    assert client.get(url).status_code == 200  # today's villages counted once, kept
    cache.clear()
    with django_assert_max_num_queries(most) as reads:
        assert client.get(url).status_code == 200
    recounts = [
        q["sql"]
        for q in reads.captured_queries
        if "GROUP BY" in q["sql"] and '"residents_resident"."address_region_id"' in q["sql"]
    ]
    assert recounts == []
    # A second page of a list costs the same: no query per row.
    if "belum-rekam" in url or "desa" in url:
        with django_assert_max_num_queries(most):
            client.get(url + ("&" if "?" in url else "?") + "hal=2")


def test_the_first_view_of_a_day_counts_the_district_once(
    seeded, kadis_client, django_assert_max_num_queries
):
    """The day's first view counts every village (one GROUP BY) and keeps the counts."""
    stats.forget_all_counts()
    with django_assert_max_num_queries(37) as first:
        assert kadis_client.get("/cakupan/").status_code == 200
    grouped = [q for q in first.captured_queries if "GROUP BY" in q["sql"]]
    assert len([q for q in grouped if '"address_region_id"' in q["sql"]]) == 1


@pytest.mark.parametrize(
    "url",
    [
        "/cakupan/",
        f"/cakupan/peringkat/?wilayah={DISTRICT}",
        f"/cakupan/belum-rekam/?wilayah={DISTRICT}&hal=3",
        "/jemput-bola/",
    ],
)
def test_a_second_view_reads_the_counts_from_the_cache(seeded, kadis_client, url):
    """The village counts are one GROUP BY by village over the district's residents: the
    first view runs it, the next ones (until a resident changes) read it from the cache."""
    kadis_client.get(url)
    with CaptureQueriesContext(connection) as second:
        assert kadis_client.get(url).status_code == 200
    grouped = [
        q["sql"]
        for q in second.captured_queries
        if "GROUP BY" in q["sql"] and '"residents_resident"."address_region_id"' in q["sql"]
    ]
    assert grouped == []

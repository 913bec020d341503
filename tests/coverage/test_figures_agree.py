"""Today's figures of a district read the same on every page that shows them: the coverage
dashboard, the ranking, the exports, the API, the head of office's home page and the print
queue's PRR count, after writes and on a cold cache (the kept village counts)."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.cache import cache
from django.utils import timezone
from openpyxl import load_workbook

from ektp.cards.selectors import prr_count
from ektp.core.models import Role
from ektp.core.services import issue_api_token
from ektp.coverage.stats import forget_all_counts, live_village_counts
from ektp.offices import dashboard
from ektp.residents.models import Resident
from tests.coverage.factories import adults
from tests.outreach.factories import OfficeFactory

pytestmark = pytest.mark.django_db
A1, A2, B1 = "18.09.01.2001", "18.09.01.2002", "18.09.02.2001"


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def district(make_staff, today):
    office = OfficeFactory(region_id="18.09")
    head = make_staff(Role.SUPERVISOR, region="18.09")
    people = [
        *adults(A1, 5, recorded=3, recorded_on=today),
        *adults(A2, 4, recorded=2, ktp_status="PRINT_READY_RECORD"),
        *adults(B1, 3, recorded=3, ktp_status="PRINT_READY_RECORD"),
        *adults("18.71.01.1003", 2, recorded=2),  # another district: never counted here
    ]
    forget_all_counts()
    return office, head, people


def figures(client, head, office, today) -> dict[str, tuple]:
    """(wajib KTP, recorded, PRR) of the district as each page shows it."""
    out = {}
    context = client.get("/cakupan/").context
    top = context["top"]
    out["dashboard"] = (top.wajib_ktp, top.recorded, top.prr)
    kec = context["children"]
    out["dashboard kecamatan"] = tuple(
        sum(getattr(r, f) for r in kec) for f in ("wajib_ktp", "recorded", "prr")
    )
    ranked = client.get("/cakupan/peringkat/?wilayah=18.09&tingkat=desa").context["ranked"]
    out["ranking"] = tuple(
        sum(getattr(r.row, f) for r in ranked) for f in ("wajib_ktp", "recorded", "prr")
    )
    body = client.get("/cakupan/ekspor.csv?wilayah=18.09&tingkat=desa").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body), delimiter=";"))
    out["csv"] = tuple(
        sum(int(r[c]) for r in rows) for c in ("Wajib KTP", "Sudah rekam", "PRR (siap cetak)")
    )
    sheet = load_workbook(
        io.BytesIO(client.get("/cakupan/ekspor.xlsx?wilayah=18.09&tingkat=kabkota").content)
    ).active
    values = list(sheet.iter_rows(values_only=True))
    header = list(values[1])
    row = next(v for v in values[2:] if v[0] == "18.09")
    out["xlsx"] = tuple(
        row[header.index(c)] for c in ("Wajib KTP", "Sudah rekam", "PRR (siap cetak)")
    )
    token = issue_api_token(user=head, name="uji")
    api = client.get(
        "/api/v1/coverage/?wilayah=18.09&tingkat=kabkota", HTTP_AUTHORIZATION=f"Bearer {token}"
    ).json()
    out["api"] = (api[0]["wajib_ktp"], api[0]["recorded"], api[0]["prr"])
    tiles = {t.key: t for t in dashboard.head_dashboard(user=head, office=office, today=today)}
    out["head home prr"] = int(tiles["prr"].value.replace(".", ""))
    out["print queue prr"] = prr_count(office, today=today)
    return out


def assert_agree(got: dict, live: dict) -> None:
    wajib = sum(v["wajib"] for v in live.values())
    rec = sum(v["rec"] for v in live.values())
    prr = sum(v["prr"] for v in live.values())
    for page in ("dashboard", "dashboard kecamatan", "ranking", "csv", "xlsx", "api"):
        assert got[page] == (wajib, rec, prr), page
    assert got["head home prr"] == got["print queue prr"] == prr


def test_every_page_shows_the_same_figures_after_writes_and_on_a_cold_cache(
    client, district, today
):
    office, head, people = district
    client.force_login(head)
    got = figures(client, head, office, today)
    assert got["dashboard"] == (12, 8, 5)
    assert_agree(got, live_village_counts(as_of=today, within="18.09"))

    # A recording and a move to another kecamatan: the kept rows of three villages go stale.
    recorded = Resident.objects.get(pk=people[4].pk)  # A1, not recorded
    recorded.recorded_on, recorded.ktp_status = today, "PRINT_READY_RECORD"
    recorded.save(update_fields=["recorded_on", "ktp_status"])
    moved = Resident.objects.get(pk=people[5].pk)  # A2, PRR
    moved.address_region_id = B1
    moved.set_region_codes()
    moved.save()
    cache.clear()
    got = figures(client, head, office, today)
    assert got["dashboard"] == (12, 9, 6)
    assert_agree(got, live_village_counts(as_of=today, within="18.09"))

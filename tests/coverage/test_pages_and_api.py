"""Dashboard, exports, the residents behind a figure, and the API, within jurisdiction."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from ektp.core.models import Role
from ektp.core.services import issue_api_token
from ektp.coverage.models import Target
from tests.coverage.factories import adults

pytestmark = pytest.mark.django_db
A1, A2 = "18.09.01.2001", "18.09.01.2002"


@pytest.fixture
def supervisor(make_staff):
    return make_staff(Role.SUPERVISOR, region="18.09")


@pytest.fixture
def sup_client(client, supervisor):
    client.force_login(supervisor)
    return client


@pytest.fixture
def people():
    adults(A1, 4, recorded=3)
    adults(A2, 2, recorded=0)
    adults("18.71.01.1003", 3, recorded=1)


def test_dashboard_shows_the_district_with_chart_data_as_json(sup_client, people):
    page = sup_client.get("/cakupan/?tanggal=2024-06-30")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="coverage-data" type="application/json"' in html
    assert "Stok blangko: belum tersedia" in html or "stok blangko" in html
    assert "/cakupan/belum-rekam/?wilayah=18.09.01.2002" in html
    assert "<script>" not in html  # CSP: no inline script runs


def test_supervisor_of_pesawaran_cannot_see_bandar_lampung(sup_client, people):
    for url in (
        "/cakupan/?wilayah=18.71",
        "/cakupan/belum-rekam/?wilayah=18.71.01.1003",
        "/cakupan/ekspor.csv?wilayah=18.71",
        "/cakupan/peringkat/?wilayah=18",
    ):
        page = sup_client.get(url)
        assert page.status_code == 400, url
        assert "luar wilayah kerja" in page.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("tanggal=2999-01-01", "masa depan"),
        ("tanggal=kemarin", "TTTT-BB-HH"),
        ("wilayah=99.99", "tidak dikenal"),
        ("wilayah=18.09.01.2001.9", "kode Kemendagri"),
        ("tingkat=dusun", "Tingkat harus"),
    ],
)
def test_bad_dashboard_input_gets_a_clear_answer(sup_client, query, message):
    for path in ("/cakupan/peringkat/", "/cakupan/ekspor.csv"):
        page = sup_client.get(f"{path}?{query}")
        assert page.status_code == 400
        assert message in page.content.decode()


def test_operator_may_not_open_the_dashboard(operator_client):
    assert operator_client.get("/cakupan/").status_code == 403


def test_csv_export_has_the_figures(sup_client, people):
    response = sup_client.get(
        "/cakupan/ekspor.csv?wilayah=18.09.01&tingkat=desa&tanggal=2024-06-30"
    )
    assert response.status_code == 200
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:6] == [
        "Kode wilayah",
        "Nama wilayah",
        "Wajib KTP",
        "Sudah rekam",
        "Belum rekam",
        "Cakupan (%)",
    ]
    by_code = {r[0]: r for r in rows[1:]}
    assert by_code[A1][2:7] == ["4", "3", "1", "75,0", "merah"]
    assert by_code[A2][2:6] == ["2", "0", "2", "0,0"]


def test_xlsx_export_has_the_figures(sup_client, people):
    response = sup_client.get("/cakupan/ekspor.xlsx?wilayah=18.09&tingkat=desa&tanggal=2024-06-30")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[1][0] == "Kode wilayah"
    row = next(v for v in values[2:] if v[0] == A1)
    assert row[2:6] == (4, 3, 1, 75.0)


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "pdf"])
def test_unrecorded_list_downloads_in_every_format(sup_client, people, fmt):
    response = sup_client.get(f"/cakupan/belum-rekam/ekspor.{fmt}?wilayah={A2}&tanggal=2024-06-30")
    assert response.status_code == 200
    assert f'belum-rekam-{A2}-20240630.{fmt}"' in response["Content-Disposition"]
    if fmt == "xlsx":
        values = list(
            load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
        )
        assert "Wajib KTP belum rekam" in values[0][0]
        assert values[1][:3] == ("No.", "NIK", "Nama")
        assert len(values) == 2 + 2
        assert all("******" in v[1] for v in values[2:])
    elif fmt == "csv":
        assert response.content.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
        assert len(rows) == 3 and rows[1][0] == "1"
    else:
        assert response.content.startswith(b"%PDF-")


def test_unrecorded_export_refuses_what_the_page_refuses(sup_client, people):
    assert sup_client.get("/cakupan/belum-rekam/ekspor.xlsx").status_code == 400
    outside = sup_client.get("/cakupan/belum-rekam/ekspor.xlsx?wilayah=18.71.01.1003")
    assert outside.status_code == 400
    assert "luar wilayah kerja" in outside.content.decode()
    assert sup_client.get(f"/cakupan/belum-rekam/ekspor.docx?wilayah={A2}").status_code == 404


def test_too_long_a_list_for_a_pdf_is_refused_with_advice(sup_client, people, monkeypatch):
    from ektp.coverage import exports

    monkeypatch.setitem(exports.MAX_ROWS, "pdf", 1)
    response = sup_client.get(f"/cakupan/belum-rekam/ekspor.pdf?wilayah={A2}&tanggal=2024-06-30")
    assert response.status_code == 400
    assert "wilayah yang lebih kecil" in response.content.decode()


def test_unknown_export_format_is_not_found(sup_client):
    assert sup_client.get("/cakupan/ekspor.pdf").status_code == 404


def test_unrecorded_list_names_the_people_behind_the_figure(sup_client, people):
    page = sup_client.get(f"/cakupan/belum-rekam/?wilayah={A2}&tanggal=2024-06-30")
    assert page.status_code == 200
    assert page.context["page"].paginator.count == 2


def test_plotly_is_served_locally_with_long_caching(client):
    response = client.get("/cakupan/plotly-7.min.js")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("public, max-age=31536000")
    assert b"plotly" in b"".join(response.streaming_content)[:2000].lower()


def test_target_form_refuses_bad_input_and_saves_good(sup_client):
    bad = sup_client.post(
        "/cakupan/target/",
        {
            "name": "X",
            "population": "wajib_ktp",
            "region": "18.71",
            "rate": "90",
            "due_date": "2999-01-01",
        },
    )
    assert bad.status_code == 422 and "luar wilayah kerja" in bad.content.decode()
    bad = sup_client.post(
        "/cakupan/target/",
        {
            "name": "X",
            "population": "wajib_ktp",
            "region": "18.09",
            "rate": "abc",
            "due_date": "besok",
        },
    )
    assert bad.status_code == 422
    assert not Target.objects.exists()
    good = sup_client.post(
        "/cakupan/target/",
        {
            "name": "Pilkada",
            "population": "wajib_ktp",
            "region": "18.09",
            "rate": "95",
            "due_date": "2999-01-01",
        },
    )
    assert good.status_code == 302 and Target.objects.count() == 1
    assert sup_client.get(f"/cakupan/target/{Target.objects.get().pk}/").status_code == 200


@pytest.fixture
def api(client, supervisor):
    token = issue_api_token(user=supervisor, name="uji")
    return lambda method, url, **kw: getattr(client, method)(
        url, HTTP_AUTHORIZATION=f"Bearer {token}", content_type="application/json", **kw
    )


def test_api_coverage_and_ranking(api, people):
    rows = api("get", "/api/v1/coverage/?wilayah=18.09&tingkat=desa&tanggal=2024-06-30").json()
    assert {r["code"]: r["recorded"] for r in rows}[A1] == 3
    ranked = api("get", "/api/v1/coverage/ranking?wilayah=18.09.01&tanggal=2024-06-30").json()
    assert [r["region"]["code"] for r in ranked] == [A1, A2]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/api/v1/coverage/?wilayah=18.71", "luar wilayah kerja"),
        ("/api/v1/coverage/?tanggal=2999-01-01", "masa depan"),
        ("/api/v1/coverage/?wilayah=abc", "kode Kemendagri"),
        ("/api/v1/coverage/ranking?wilayah=18.09&tingkat=provinsi", "di bawah wilayah"),
    ],
)
def test_api_bad_input_is_422_with_a_reason(api, url, message):
    response = api("get", url)
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_api_target_create_and_progress(api, people):
    bad = api(
        "post",
        "/api/v1/coverage/targets",
        data={
            "name": "x",
            "population": "pemilih_pemula",
            "region": "18.09",
            "rate": "100",
            "due_date": "2999-01-01",
        },
    )
    assert bad.status_code == 422 and "pemungutan suara" in bad.json()["detail"]
    malformed = api("post", "/api/v1/coverage/targets", data={"name": "x", "rate": "banyak"})
    assert malformed.status_code == 422
    made = api(
        "post",
        "/api/v1/coverage/targets",
        data={
            "name": "Semua",
            "population": "wajib_ktp",
            "region": "18.09",
            "rate": "100",
            "due_date": "2999-01-01",
        },
    )
    assert made.status_code == 201
    progress = api("get", f"/api/v1/coverage/targets/{made.json()['id']}/progress").json()
    assert progress["population"] == 6 and progress["recorded"] == 3


def test_api_policy_refused_for_supervisor(api):
    response = api(
        "post",
        "/api/v1/coverage/policies",
        data={"region": "18.09", "green_min": "92", "yellow_min": "80", "valid_from": "2024-01-01"},
    )
    assert response.status_code == 422 and "admin provinsi" in response.json()["detail"]


@pytest.mark.parametrize(
    "query",
    [
        {"sampai": "0001-01-01"},
        {"dari": "0001-01-01"},
        {"sampai": "9999-12-31"},
        {"dari": "9999-12-31", "sampai": "9999-12-31"},
        {"dari": "2010-12-31"},
    ],
)
def test_trend_for_days_out_of_range_says_which_days_are_possible(client, supervisor, query):
    """'sampai' on the calendar's first day took 90 days off it (a 500)."""
    token = issue_api_token(user=supervisor, name="uji")
    response = client.get(
        "/api/v1/coverage/trend",
        {"wilayah": "18.09", **query},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 422
    assert "harus antara 01-01-2011 dan" in response.json()["detail"]


def test_trend_from_the_first_recordings_is_read(client, supervisor):
    token = issue_api_token(user=supervisor, name="uji")
    for query in ({"dari": "2011-01-01"}, {"sampai": "2011-02-01"}, {}):
        response = client.get(
            "/api/v1/coverage/trend",
            {"wilayah": "18.09", **query},
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert response.status_code == 200, (query, response.content)

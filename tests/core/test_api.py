import pytest

from ektp.core.models import ApiToken, Role
from ektp.residents.models import Resident
from tests.conftest import PASSWORD
from tests.residents.factories import ResidentFactory, resident_data

pytestmark = pytest.mark.django_db


def _auth(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _json(data):
    out = dict(data)
    out["birth_date"] = str(out["birth_date"])
    return out


def test_openapi_schema_is_published(client):
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert "/api/v1/residents/" in paths and "/api/v1/regions/{code}" in paths
    assert "/api/v1/auth/token" in paths


def test_token_exchange_and_bearer_auth(client, operator):
    response = client.post(
        "/api/v1/auth/token",
        {"username": operator.username, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert ApiToken.objects.filter(user=operator).count() == 1
    assert not ApiToken.objects.filter(key_hash=token).exists()  # only the hash is stored
    assert client.get("/api/v1/regions/18.09", **_auth(token)).json()["kind"] == "kabupaten"


def test_wrong_password_and_missing_token_are_refused(client, operator):
    bad = client.post(
        "/api/v1/auth/token",
        {"username": operator.username, "password": "x"},
        content_type="application/json",
    )
    assert bad.status_code == 401 and "salah" in bad.json()["detail"]
    assert client.get("/api/v1/regions/18.09").status_code == 401
    assert client.get("/api/v1/regions/18.09", **_auth("bukan-token")).status_code == 401


def test_regions_endpoints(client, api_token):
    children = client.get("/api/v1/regions/18.09/children", **_auth(api_token)).json()
    assert any(c["code"] == "18.09.01" for c in children)
    ancestors = client.get("/api/v1/regions/18.09.01.2001/ancestors", **_auth(api_token)).json()
    assert [a["code"] for a in ancestors] == ["18", "18.09", "18.09.01"]
    found = client.get("/api/v1/regions/search", {"q": "pesawaran"}, **_auth(api_token)).json()
    assert found[0]["code"] == "18.09"
    assert len(client.get("/api/v1/regions/", **_auth(api_token)).json()) == 38


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/regions/18.9", 422),
        ("/api/v1/regions/99.99", 404),
        ("/api/v1/regions/search?q=a", 422),
        ("/api/v1/regions/search?q=ab&level=9", 422),
        ("/api/v1/regions/search?q=ab&within=x", 422),
    ],
)
def test_regions_bad_input(client, api_token, path, status):
    response = client.get(path, **_auth(api_token))
    assert response.status_code == status
    assert response.json()["detail"]


def test_create_read_update_resident_through_the_api(client, api_token):
    data = _json(resident_data(kk_number="1809010203150002"))
    created = client.post(
        "/api/v1/residents/", data, content_type="application/json", **_auth(api_token)
    )
    assert created.status_code == 201, created.content
    body = created.json()["resident"]
    assert body["nik"] == data["nik"] and body["kk_number"] == "1809010203150002"
    assert body["wajib_ktp"] is True
    got = client.get(f"/api/v1/residents/{data['nik']}", **_auth(api_token)).json()
    assert got["name"] == "BUDI SANTOSO"
    data["name"] = "Budi S"
    updated = client.put(
        f"/api/v1/residents/{data['nik']}",
        data,
        content_type="application/json",
        **_auth(api_token),
    )
    assert updated.status_code == 200 and updated.json()["resident"]["name"] == "BUDI S"
    listed = client.get("/api/v1/residents/", {"q": "budi"}, **_auth(api_token)).json()
    assert [r["nik"] for r in listed] == [data["nik"]]


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"nik": "1809"}, "nik"),
        ({"nik": "1" * 17}, "nik"),
        ({"birth_date": "2001-02-30"}, "birth_date"),
        ({"birth_date": "kemarin"}, "birth_date"),
        ({"address_region": "18.09.99.9999"}, "address_region"),
        ({"name": "A" * 101}, "name"),
        ({"sex": "Z"}, "sex"),
        ({"email": "x@"}, "email"),
        ({"rt": "1234"}, "rt"),
    ],
)
def test_api_bad_input_names_the_rule_and_changes_nothing(client, api_token, overrides, needle):
    data = _json(resident_data())
    data.update(overrides)
    before = Resident.objects.count()
    response = client.post(
        "/api/v1/residents/", data, content_type="application/json", **_auth(api_token)
    )
    assert response.status_code == 422, response.content
    assert needle in response.content.decode()
    assert Resident.objects.count() == before


def test_api_rejects_malformed_json(client, api_token):
    response = client.post(
        "/api/v1/residents/", "{bukan json", content_type="application/json", **_auth(api_token)
    )
    assert response.status_code in (400, 422)
    assert "JSON" in response.json()["detail"]
    assert Resident.objects.count() == 0


def test_api_duplicate_nik(client, api_token):
    data = _json(resident_data())
    client.post("/api/v1/residents/", data, content_type="application/json", **_auth(api_token))
    again = client.post(
        "/api/v1/residents/", data, content_type="application/json", **_auth(api_token)
    )
    assert again.status_code == 422 and "sudah terdaftar" in again.json()["detail"]


def test_api_respects_jurisdiction_and_roles(client, make_staff):
    from ektp.core.services import issue_api_token

    there = ResidentFactory(address_region_id="18.71.01.1003")
    op = make_staff(Role.OPERATOR, region="18.09")
    token = issue_api_token(user=op, name="t")
    assert client.get(f"/api/v1/residents/{there.nik}", **_auth(token)).status_code == 404
    gate = make_staff(Role.GATE_OFFICER, region="18.09")
    gate_token = issue_api_token(user=gate, name="g")
    response = client.post(
        "/api/v1/residents/",
        _json(resident_data()),
        content_type="application/json",
        **_auth(gate_token),
    )
    assert response.status_code == 403

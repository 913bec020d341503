"""API: queue, print, hand-over, stock, ledger, transfers, receipts, cover; bad input is 4xx."""

from __future__ import annotations

import pytest

from ektp.cards.models import Blank, CardPrint, LedgerEntry, LedgerLine, PrintReservation
from ektp.core.models import Role
from ektp.core.services import issue_api_token
from tests.cards.factories import PrrResidentFactory, stopped_print

BASE = "/api/v1/cards"


def snapshot():
    return (
        LedgerEntry.objects.count(),
        LedgerLine.objects.count(),
        CardPrint.objects.count(),
        sorted(Blank.objects.values_list("serial", "state", "service_point_id")),
    )


@pytest.fixture
def api(client, api_token):
    headers = {"Authorization": f"Bearer {api_token}"}

    class Api:
        def get(self, path, params=None):
            return client.get(BASE + path, params or {}, headers=headers)

        def post(self, path, body):
            return client.post(BASE + path, body, content_type="application/json", headers=headers)

    return Api()


def test_queue_print_and_hand_over(api, stocked_point):
    resident = PrrResidentFactory()
    queue = api.get("/queue", {"kab": "18.09", "point": str(stocked_point.pk)}).json()
    assert queue["items"][0]["nik"] == resident.nik and not queue["short"]
    response = api.post("/print", {"point": str(stocked_point.pk), "nik": resident.nik})
    assert response.status_code == 201, response.content
    card = response.json()
    assert card["serial"] == "180926000001"
    response = api.post(
        f"/prints/{card['id']}/hand-over", {"received_by_name": "Budi", "relation": "diri_sendiri"}
    )
    assert response.status_code == 200 and response.json()["received_by_name"] == "Budi"


def test_print_refusals_carry_the_reason(api, point):
    resident = PrrResidentFactory()
    response = api.post("/print", {"point": str(point.pk), "nik": resident.nik})
    assert response.status_code == 409
    assert "Tidak ada blangko" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"point": "nope", "nik": "1809011001950006"}, 422),
        ({"nik": "1809011001950006", "request_id": "00000000-0000-0000-0000-000000000000"}, 422),
        ({"point": "00000000-0000-0000-0000-000000000000", "nik": "1809011001950006"}, 404),
        ({"nik": "12"}, 422),
        ({"serial": "x1"}, 422),
        ({}, 422),
        ({"nik": "9999999999999999"}, 404),
    ],
)
def test_print_with_bad_input(api, stocked_point, body, status):
    body.setdefault("point", str(stocked_point.pk))
    before = snapshot()
    response = api.post("/print", body)
    assert response.status_code == status
    assert response.json()["detail"]
    assert snapshot() == before


def test_printing_twice_is_refused(api, stocked_point):
    resident = PrrResidentFactory()
    api.post("/print", {"point": str(stocked_point.pk), "nik": resident.nik})
    response = api.post("/print", {"point": str(stocked_point.pk), "nik": resident.nik})
    assert response.status_code == 422 and "bukan siap cetak" in response.json()["detail"]


def test_hand_over_with_bad_input(api, stocked_point):
    resident = PrrResidentFactory()
    card = api.post("/print", {"point": str(stocked_point.pk), "nik": resident.nik}).json()
    for body in (
        {"received_by_name": "", "relation": "anak"},
        {"received_by_name": "A", "relation": "x"},
    ):
        response = api.post(f"/prints/{card['id']}/hand-over", body)
        assert response.status_code == 422
    assert (
        api.post(
            "/prints/nope/hand-over", {"received_by_name": "A", "relation": "anak"}
        ).status_code
        == 422
    )


def test_stock_ledger_and_cover(api, stocked_point):
    stock = api.get("/stock", {"kab": "18.09"}).json()
    assert {r["place"]: r["in_stock"] for r in stock["locations"]} == {
        "Gudang kantor": 5,
        "UPT Gedong Tataan": 5,
    }
    ledger = api.get("/ledger", {"kab": "18.09", "kind": "transfer"}).json()
    assert ledger[0]["quantity"] == 5 and ledger[0]["to_point"] == "UPT Gedong Tataan"
    cover = api.get("/cover", {"kab": "18.09"}).json()
    assert cover["office"]["on_hand"] == 10 and len(cover["points"]) == 1


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/stock", {"kab": "1809"}, 422),
        ("/stock", {}, 422),
        ("/stock", {"kab": "18.01"}, 404),
        ("/ledger", {"kab": "18.09", "kind": "curi"}, 422),
        ("/ledger", {"kab": "18.09", "limit": "0"}, 422),
        ("/queue", {"kab": "18.09", "point": "x"}, 422),
        ("/cover", {"kab": "'; drop"}, 422),
    ],
)
def test_reads_with_bad_input(api, office, path, params, status):
    response = api.get(path, params)
    assert response.status_code == status
    assert response.json()["detail"]


def test_transfer_and_receipt(api, office, point):
    response = api.post(
        "/receipts",
        {
            "kab": "18.09",
            "serial_first": "180926000001",
            "serial_last": "180926000020",
            "source": "province",
            "reference": "P-1",
        },
    )
    assert response.status_code == 201 and response.json()["quantity"] == 20
    response = api.post("/transfers", {"kab": "18.09", "to_point": str(point.pk), "quantity": 5})
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"quantity": 25}, 422, "tidak cukup"),
        ({"quantity": 0}, 422, "tidak valid"),
        ({"serials": ["180926000099"]}, 422, "tidak tersedia"),
        (
            {"to_point": "00000000-0000-0000-0000-000000000000", "quantity": 1},
            404,
            "tidak ditemukan",
        ),
        ({"to_point": None, "quantity": 1}, 422, "sama"),
    ],
)
def test_transfer_with_bad_input(api, office, point, receive, body, status, message):
    receive("180926000001", "180926000020")
    before = snapshot()
    payload = {"kab": "18.09", "to_point": str(point.pk), **body}
    response = api.post("/transfers", payload)
    assert response.status_code == status
    assert message in response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"serial_first": "180926000005"}, "tumpang tindih"),
        ({"source": "pasar"}, "Sumber"),
        ({"serial_last": "1"}, "angka"),
        ({"reference": ""}, "referensi"),
    ],
)
def test_receipt_with_bad_input(api, office, receive, body, message):
    receive("180926000001", "180926000010")
    before = snapshot()
    payload = {
        "kab": "18.09",
        "serial_first": "180926000100",
        "serial_last": "180926000120",
        "source": "ministry",
        "reference": "K-2",
        **body,
    }
    response = api.post("/receipts", payload)
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert snapshot() == before


def test_gate_officer_token_cannot_print_or_read_stock(client, make_staff, stocked_point):
    token = issue_api_token(user=make_staff(Role.GATE_OFFICER), name="uji")
    headers = {"Authorization": f"Bearer {token}"}
    response = client.get(f"{BASE}/stock", {"kab": "18.09"}, headers=headers)
    assert response.status_code == 403
    response = client.post(
        f"{BASE}/print",
        {"point": str(stocked_point.pk), "nik": PrrResidentFactory().nik},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 403


def test_stopped_prints_are_listed_and_reconciled(api, stocked_point, operator):
    resident = PrrResidentFactory()
    reservation = stopped_print(resident, stocked_point, operator)
    response = api.post("/print", {"point": str(stocked_point.pk), "nik": resident.nik})
    assert response.status_code == 409 and "sedang dicetak" in response.json()["detail"]
    [listed] = api.get("/reservations", {"kab": "18.09"}).json()
    assert listed["id"] == str(reservation.pk) and listed["serial"] == "180926000001"
    assert listed["status"] == "printing" and listed["awaiting_reconciliation"] is True
    response = api.post(
        f"/reservations/{reservation.pk}/reconcile",
        {"outcome": "not_printed", "note": "Blangko utuh di baki"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "not_printed"
    assert api.get("/reservations", {"kab": "18.09"}).json() == []
    again = api.post(
        f"/reservations/{reservation.pk}/reconcile", {"outcome": "printed", "note": ""}
    )
    assert again.status_code == 409 and "sudah diselesaikan" in again.json()["detail"]
    assert Blank.objects.get(serial="180926000001").state == Blank.State.IN_STOCK


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"outcome": "hilang"}, 422),
        ({"outcome": "spoiled"}, 422),
        ({"outcome": "spoiled", "note": "x" * 251}, 422),
        ({}, 422),
    ],
)
def test_reconcile_with_bad_input(api, stocked_point, operator, body, status):
    reservation = stopped_print(PrrResidentFactory(), stocked_point, operator)
    before = snapshot()
    response = api.post(f"/reservations/{reservation.pk}/reconcile", body)
    assert response.status_code == status
    assert response.json()["detail"]
    assert snapshot() == before
    assert PrintReservation.objects.get().status == "printing"


def test_reconcile_outside_the_jurisdiction_or_unknown_is_404(
    client, make_staff, stocked_point, operator, api
):
    reservation = stopped_print(PrrResidentFactory(), stocked_point, operator)
    assert (
        api.post(
            "/reservations/00000000-0000-0000-0000-000000000000/reconcile",
            {"outcome": "printed"},
        ).status_code
        == 404
    )
    outsider = make_staff(Role.OPERATOR, region="18.01", username="operator-lamsel")
    headers = {"Authorization": f"Bearer {issue_api_token(user=outsider, name='uji')}"}
    response = client.post(
        f"{BASE}/reservations/{reservation.pk}/reconcile",
        {"outcome": "not_printed", "note": "x"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 404
    gate = make_staff(Role.GATE_OFFICER)
    headers = {"Authorization": f"Bearer {issue_api_token(user=gate, name='uji')}"}
    assert client.get(f"{BASE}/reservations", {"kab": "18.09"}, headers=headers).status_code == 403
    assert PrintReservation.objects.get().status == "printing"

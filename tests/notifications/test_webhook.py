"""The WhatsApp webhook: handshake, Meta's signature, the Cloud API shape, each bot command."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from ektp.notifications.models import InboundMessage, Message
from ektp.portal.selectors import GENERIC_NOT_FOUND
from tests.notifications.factories import APP_SECRET, VERIFY_TOKEN, payload, sign
from tests.portal.factories import PortalResidentFactory, printed_card

pytestmark = pytest.mark.django_db
SENDER = "6281234567890"


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.WHATSAPP_APP_SECRET = APP_SECRET
    settings.WHATSAPP_VERIFY_TOKEN = VERIFY_TOKEN


def post(client, body: bytes, signature: str | None = "auto"):
    headers = {}
    if signature == "auto":
        headers["HTTP_X_HUB_SIGNATURE_256"] = sign(body)
    elif signature is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    return client.post(
        reverse("whatsapp:webhook"), data=body, content_type="application/json", **headers
    )


def ask(client, text: str, message_id: str = "wamid.A1", sender: str = SENDER) -> str:
    response = post(client, payload("text_message", ID=message_id, FROM=sender, TEXT=text))
    assert response.status_code == 200, response.content
    return Message.objects.get(dedup_key=f"wa-reply:{message_id}").body


def test_handshake_echoes_the_challenge(client):
    response = client.get(
        reverse("whatsapp:webhook"),
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )
    assert response.status_code == 200
    assert response.content == b"1158201444"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "salah", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN[:-1], "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN + "é", "hub.challenge": "1"},
        {},
    ],
)
def test_handshake_with_wrong_token_or_mode_is_refused(client, query):
    response = client.get(reverse("whatsapp:webhook"), query)
    assert response.status_code == 403
    assert "hub.verify_token" in response.json()["detail"]


def test_valid_signature_is_accepted_and_answered(client):
    reply = ask(client, "bantuan")
    assert "cek status" in reply
    inbound = InboundMessage.objects.get()
    assert (inbound.sender, inbound.text) == (SENDER, "bantuan")


def test_invalid_signature_is_refused_and_nothing_stored(client):
    body = payload("text_message", ID="wamid.X", FROM=SENDER, TEXT="bantuan")
    response = post(client, body, signature=sign(body, secret="rahasia-lain"))
    assert response.status_code == 401
    assert "tidak cocok" in response.json()["detail"]
    assert not InboundMessage.objects.exists()


def test_signature_of_another_body_is_refused(client):
    body = payload("text_message", ID="wamid.X", FROM=SENDER, TEXT="bantuan")
    response = post(client, body, signature=sign(body.replace(b"bantuan", b"antrian")))
    assert response.status_code == 401


def test_missing_signature_is_refused(client):
    body = payload("text_message", ID="wamid.X", FROM=SENDER, TEXT="bantuan")
    response = post(client, body, signature=None)
    assert response.status_code == 401
    assert "tidak ada" in response.json()["detail"]


def test_no_app_secret_configured_refuses_everything(client, settings):
    settings.WHATSAPP_APP_SECRET = ""
    body = payload("text_message", ID="wamid.X", FROM=SENDER, TEXT="bantuan")
    assert post(client, body).status_code == 401


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{bukan json", "bukan JSON"),
        (b'{"object": "page", "entry": []}', "whatsapp_business_account"),
        (b'{"object": "whatsapp_business_account", "entry": {}}', "entry harus berupa daftar"),
        (
            b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"value": '
            b'{"messages": [{"from": "62812", "type": "text", "text": {"body": "x"}}]}}]}]}',
            "tanpa id",
        ),
        (
            b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"value": '
            b'{"messages": [{"id": "w", "from": "62812", "type": "text"}]}}]}]}',
            "text.body",
        ),
        (b"[]", "whatsapp_business_account"),
    ],
)
def test_malformed_body_is_refused_with_a_reason(client, body, message):
    response = post(client, body)
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert not InboundMessage.objects.exists()


def test_status_updates_carry_no_message(client):
    response = post(client, payload("status_update", FROM=SENDER))
    assert response.status_code == 200
    assert response.json() == {"diterima": 0, "dijawab": 0}
    assert not Message.objects.exists()


def test_unknown_message_type_gets_the_help(client):
    response = post(client, payload("image_message", ID="wamid.IMG", FROM=SENDER))
    assert response.status_code == 200
    reply = Message.objects.get(dedup_key="wa-reply:wamid.IMG").body
    assert "hanya dapat membaca pesan teks" in reply


def test_same_incoming_message_is_handled_once(client):
    body = payload("text_message", ID="wamid.DUP", FROM=SENDER, TEXT="bantuan")
    assert post(client, body).json()["dijawab"] == 1
    assert post(client, body).json()["dijawab"] == 0
    assert InboundMessage.objects.count() == 1
    assert Message.objects.count() == 1


def test_unknown_text_gets_the_help(client):
    assert "bantuan" in ask(client, "halo pak, ktp saya mana?")


def test_check_status_answers_the_stage_masked(client):
    resident = PortalResidentFactory(
        ktp_status="PRINT_READY_RECORD", recorded_on=dt.date(2026, 1, 5)
    )
    reply = ask(client, f"cek status {resident.nik} 17-05-1990")
    assert "Siap cetak" in reply
    assert resident.masked_nik in reply
    assert resident.nik not in reply
    assert "BUDI SANTOSO" not in reply


def test_check_status_of_printed_card_names_the_point(client):
    resident = PortalResidentFactory(ktp_status="CARD_PRINTED", recorded_on=dt.date(2026, 1, 5))
    printed_card(resident)
    reply = ask(client, f"CEK STATUS {resident.nik} 17-05-1990")
    assert "UPT Gedong Tataan" in reply


def test_check_status_unknown_nik_and_wrong_date_get_the_same_answer(client):
    resident = PortalResidentFactory()
    wrong_date = ask(client, f"cek status {resident.nik} 18-05-1990", "wamid.1")
    unknown = ask(client, "cek status 1809015705909999 17-05-1990", "wamid.2")
    assert wrong_date == unknown == GENERIC_NOT_FOUND


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cek status 12345 17-05-1990", "NIK harus 16 digit (yang diisi 5 karakter)."),
        ("cek status 18٠٩015705900001 17-05-1990", "NIK hanya boleh berisi angka 0–9."),
        ("cek status 1809-0157-0590-0001 32-05-1990", "HH-BB-TTTT"),
        ("cek status 1809015705900001 1990/17/05", "HH-BB-TTTT"),
        ("cek status 1809015705900001 17-05-2990", "tidak mungkin"),
        ("cek status", "Format: cek status"),
    ],
)
def test_check_status_with_bad_input_names_the_rule(client, text, message):
    assert message in ask(client, text)


def test_check_status_is_rate_limited_per_nik(client, settings):
    settings.PORTAL_RATE_PER_NIK = "2/h"
    nik = "1809015705909999"
    replies = [ask(client, f"cek status {nik} 17-05-1990", f"wamid.{i}") for i in range(3)]
    assert "Coba lagi nanti" in replies[2]
    assert replies[0] == GENERIC_NOT_FOUND


def test_queue_command_reports_today_at_each_point(client):
    from tests.cards.factories import ServicePointFactory

    ServicePointFactory(code="UPT001", name="UPT Gedong Tataan")
    reply = ask(client, "antrian")
    assert "UPT Gedong Tataan" in reply
    assert "0 orang menunggu" in reply


def test_queue_command_for_an_unknown_point(client):
    assert "tidak ditemukan" in ask(client, "antrian ZZZ999")


def test_suket_command_without_a_suket(client):
    PortalResidentFactory(ktp_status="BIO_CAPTURED", recorded_on=dt.date(2026, 1, 5))
    assert "Tidak ada suket yang masih berlaku" in ask(client, "suket")


def test_suket_command_from_an_unregistered_number(client):
    reply = ask(client, "suket", sender="6289999999999")
    assert "tidak terdaftar" in reply


def test_suket_command_resends_the_valid_suket_as_pdf(client, settings):
    from tests.portal.factories import valid_suket

    resident = PortalResidentFactory(ktp_status="BIO_CAPTURED", recorded_on=dt.date(2026, 1, 5))
    suket = valid_suket(resident)
    text = ask(client, "suket", "wamid.SK")
    message = Message.objects.get(dedup_key="wa-reply:wamid.SK")
    assert suket.number in text
    assert message.attachment_name.endswith(".pdf")
    assert (settings.MEDIA_ROOT / message.attachment_path).read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("length", [192, 200, 201, 4000])
def test_message_with_a_very_long_id_is_answered_once_not_a_500(client, length):
    message_id = "wamid." + "X" * (length - 6)
    body = payload("text_message", ID=message_id, FROM=SENDER, TEXT="bantuan")
    response = post(client, body)
    assert response.status_code == 200, response.content
    assert response.json() == {"diterima": 1, "dijawab": 1}
    assert post(client, body).json()["dijawab"] == 0  # a replay is still answered once
    [reply] = Message.objects.all()
    assert len(reply.dedup_key) <= 200
    assert "bantuan" in reply.body


def test_two_long_ids_that_share_their_first_200_characters_are_two_messages(client):
    common = "wamid." + "Y" * 250
    for suffix in ("A", "B"):
        body = payload("text_message", ID=common + suffix, FROM=SENDER, TEXT="bantuan")
        assert post(client, body).json()["dijawab"] == 1
    assert InboundMessage.objects.count() == 2
    assert Message.objects.count() == 2


def test_status_receipt_confirms_a_message_left_unconfirmed_by_a_dead_worker(client):
    from ektp.notifications.models import MessageStatus
    from tests.notifications.factories import ReachableResidentFactory

    resident = ReachableResidentFactory()
    message = Message.objects.create(
        resident=resident,
        event="print_ready",
        channel="whatsapp",
        dedup_key="k",
        recipient=SENDER,
        body="siap cetak",
        status=MessageStatus.UNCONFIRMED,
    )
    text = payload("status_update", FROM=SENDER).decode()
    text = text.replace(
        '"status": "delivered",',
        f'"status": "delivered", "biz_opaque_callback_data": "{message.idempotency_key}",',
    )
    response = post(client, text.encode())
    assert response.status_code == 200
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.provider_id.startswith("wamid.")

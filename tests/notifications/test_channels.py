"""Each channel client against a real local server (HTTP) or Django's locmem mail."""

from __future__ import annotations

import json
import urllib.parse

import pytest
from django.core import mail

from ektp.notifications.channels import (
    ChannelError,
    HttpSmsBackend,
    LocalOutboxBackend,
    Outgoing,
    WhatsAppCloudBackend,
    get_backend,
    normalize_msisdn,
)


@pytest.fixture
def whatsapp(settings, http_server):
    settings.WHATSAPP_GRAPH_URL = http_server.url + "/v21.0"
    settings.WHATSAPP_PHONE_NUMBER_ID = "106540352242922"
    settings.WHATSAPP_TOKEN = "token-uji"
    return WhatsAppCloudBackend()


def test_whatsapp_text_message_posts_the_cloud_api_shape(whatsapp, http_server):
    provider_id = whatsapp.send(Outgoing(recipient="6281234567890", body="Halo"))
    assert provider_id == "wamid.UJI"
    [request] = http_server.requests
    assert request["path"] == "/v21.0/106540352242922/messages"
    assert request["headers"]["Authorization"] == "Bearer token-uji"
    assert json.loads(request["body"]) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "6281234567890",
        "type": "text",
        "text": {"preview_url": False, "body": "Halo"},
    }


def test_whatsapp_template_message_carries_parameters_in_order(settings, whatsapp, http_server):
    settings.WHATSAPP_TEMPLATES = {"card_printed": "ktp_dicetak"}
    WhatsAppCloudBackend().send(
        Outgoing(
            recipient="6281234567890",
            body="…",
            event="card_printed",
            template_params=["BUDI", "UPT Gedong Tataan", "5 Desember 2026"],
        )
    )
    sent = json.loads(http_server.requests[0]["body"])
    assert sent["type"] == "template"
    assert sent["template"]["name"] == "ktp_dicetak"
    assert sent["template"]["language"] == {"code": "id"}
    assert [p["text"] for p in sent["template"]["components"][0]["parameters"]] == [
        "BUDI",
        "UPT Gedong Tataan",
        "5 Desember 2026",
    ]


def test_whatsapp_document_by_link(whatsapp, http_server):
    whatsapp.send(
        Outgoing(
            recipient="6281234567890",
            body="Suket terlampir",
            attachment_url="https://contoh.id/suket.pdf",
            attachment_name="suket.pdf",
        )
    )
    sent = json.loads(http_server.requests[0]["body"])
    assert sent["type"] == "document"
    assert sent["document"] == {
        "link": "https://contoh.id/suket.pdf",
        "filename": "suket.pdf",
        "caption": "Suket terlampir",
    }


def test_whatsapp_document_by_upload_sends_the_media_id(whatsapp, http_server, tmp_path):
    pdf = tmp_path / "suket.pdf"
    pdf.write_bytes(b"%PDF-1.4 uji")
    http_server.answers = [(200, b'{"id": "media-77"}')]
    whatsapp.send(
        Outgoing(
            recipient="6281234567890",
            body="Suket",
            attachment_path=str(pdf),
            attachment_name="suket.pdf",
        )
    )
    upload, message = http_server.requests
    assert upload["path"] == "/v21.0/106540352242922/media"
    assert upload["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b"%PDF-1.4 uji" in upload["body"]
    assert b'name="messaging_product"\r\n\r\nwhatsapp' in upload["body"]
    assert json.loads(message["body"])["document"]["id"] == "media-77"


def test_whatsapp_server_error_is_transient_and_client_error_permanent(whatsapp, http_server):
    http_server.answers = [(503, b'{"error": {"message": "down"}}')]
    with pytest.raises(ChannelError) as transient:
        whatsapp.send(Outgoing(recipient="6281234567890", body="x"))
    assert not transient.value.permanent
    http_server.answers = [(400, b'{"error": {"message": "invalid recipient"}}')]
    with pytest.raises(ChannelError) as permanent:
        whatsapp.send(Outgoing(recipient="6281234567890", body="x"))
    assert permanent.value.permanent
    assert "invalid recipient" in str(permanent.value)


def test_whatsapp_unreachable_server_is_transient(settings):
    settings.WHATSAPP_GRAPH_URL = "http://127.0.0.1:9"
    settings.WHATSAPP_PHONE_NUMBER_ID = "1"
    settings.WHATSAPP_TOKEN = "t"
    with pytest.raises(ChannelError) as error:
        WhatsAppCloudBackend().send(Outgoing(recipient="6281234567890", body="x"))
    assert not error.value.permanent


def test_whatsapp_without_credentials_fails_permanently(settings):
    settings.WHATSAPP_TOKEN = ""
    with pytest.raises(ChannelError) as error:
        WhatsAppCloudBackend().send(Outgoing(recipient="6281234567890", body="x"))
    assert error.value.permanent


def test_sms_gateway_json_body_is_escaped(settings, http_server):
    settings.SMS_GATEWAY_URL = http_server.url + "/kirim"
    settings.SMS_GATEWAY_BODY = '{"msisdn": "{to}", "pesan": "{text}"}'
    settings.SMS_GATEWAY_HEADERS = {"X-Api-Key": "kunci"}
    http_server.answers = [(200, b"ID-123")]
    provider_id = HttpSmsBackend().send(
        Outgoing(recipient="6281234567890", body='Kata "kutip"\nbaris')
    )
    assert provider_id == "ID-123"
    [request] = http_server.requests
    assert request["method"] == "POST"
    assert request["headers"]["X-Api-Key"] == "kunci"
    assert json.loads(request["body"]) == {
        "msisdn": "6281234567890",
        "pesan": 'Kata "kutip"\nbaris',
    }


def test_sms_gateway_form_body(settings, http_server):
    settings.SMS_GATEWAY_URL = http_server.url + "/kirim"
    settings.SMS_GATEWAY_BODY = "to={to}&text={text}"
    settings.SMS_GATEWAY_CONTENT_TYPE = "application/x-www-form-urlencoded"
    HttpSmsBackend().send(Outgoing(recipient="6281234567890", body="A & B"))
    body = urllib.parse.parse_qs(http_server.requests[0]["body"].decode())
    assert body == {"to": ["6281234567890"], "text": ["A & B"]}


def test_sms_gateway_get_puts_values_in_the_url(settings, http_server):
    settings.SMS_GATEWAY_URL = http_server.url + "/kirim?no={to}&isi={text}"
    settings.SMS_GATEWAY_METHOD = "GET"
    HttpSmsBackend().send(Outgoing(recipient="6281234567890", body="halo dunia&x=1"))
    request = http_server.requests[0]
    query = urllib.parse.parse_qs(urllib.parse.urlparse(request["path"]).query)
    assert request["method"] == "GET"
    assert query == {"no": ["6281234567890"], "isi": ["halo dunia&x=1"]}


def test_sms_gateway_unset_fails_permanently(settings):
    settings.SMS_GATEWAY_URL = ""
    with pytest.raises(ChannelError) as error:
        HttpSmsBackend().send(Outgoing(recipient="6281234567890", body="x"))
    assert error.value.permanent


def test_email_carries_subject_body_and_pdf(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFICATION_BACKENDS = {"email": "smtp"}
    pdf = tmp_path / "suket.pdf"
    pdf.write_bytes(b"%PDF-1.4 uji")
    get_backend("email").send(
        Outgoing(
            recipient="warga@contoh.id",
            subject="Suket",
            body="Terlampir",
            attachment_path=str(pdf),
            attachment_name="suket.pdf",
        )
    )
    [email] = mail.outbox
    assert email.to == ["warga@contoh.id"]
    assert email.subject == "Suket"
    assert email.attachments[0][0] == "suket.pdf"
    assert email.attachments[0][1] == b"%PDF-1.4 uji"


def test_local_outbox_writes_one_line_per_message(settings):
    backend = get_backend("whatsapp")
    assert isinstance(backend, LocalOutboxBackend)
    backend.send(Outgoing(recipient="6281234567890", body="Halo"))
    backend.send(Outgoing(recipient="6281234567890", body="Lagi"))
    lines = (settings.NOTIFICATIONS_OUTBOX_DIR / "whatsapp.jsonl").read_text().splitlines()
    assert [json.loads(line)["body"] for line in lines] == ["Halo", "Lagi"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("0812-3456-7890", "6281234567890"),
        ("+62 812 3456 7890", "6281234567890"),
        ("6281234567890", "6281234567890"),
        ("0721-123456", ""),
        ("bukan nomor", ""),
        ("", ""),
    ],
)
def test_phone_numbers_are_normalised_or_refused(typed, expected):
    assert normalize_msisdn(typed) == expected

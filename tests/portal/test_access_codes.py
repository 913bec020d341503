"""A NIK and a birth date are public: the status answer carries no capability, and a suket or
a booking opens only with a one-time code sent to the phone on record."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from ektp.notifications.models import Event, Message
from ektp.portal import grants, services
from ektp.portal.models import AccessCode, DocumentKind
from ektp.portal.selectors import find_resident, mask_phone, status_of
from tests.portal.factories import PortalResidentFactory, active_booking, valid_suket

pytestmark = pytest.mark.django_db


def check(client, nik: str, birth_date: str = "17-05-1990", **extra):
    return client.post(reverse("portal:status"), {"nik": nik, "birth_date": birth_date}, **extra)


def sent_codes(resident) -> list[str]:
    """The codes in the outbox for a resident, newest first (the local channel backend)."""
    bodies = Message.objects.filter(resident=resident, event=Event.ACCESS_CODE).order_by(
        "-created_at"
    )
    return [re.search(r"Kode Anda: (\d{6})", m.body).group(1) for m in bodies]


def access_link(text: str) -> str:
    return re.search(r'href="(/cek/akses/[^"]+/)"', text).group(1)


def recorded_with_suket(**kwargs):
    resident = PortalResidentFactory(
        ktp_status="BIO_CAPTURED", recorded_on=dt.date(2026, 1, 5), **kwargs
    )
    return resident, valid_suket(resident)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# ------------------------------------------------------------------ the status answer


def test_status_page_shows_a_booking_without_its_code(client):
    resident = PortalResidentFactory()
    booking = active_booking(resident)
    text = check(client, resident.nik).content.decode()
    assert "UPT Negeri Katon" in text and "08.00–10.00" in text
    assert booking.code not in text
    assert "/booking/kode/" not in text
    assert "/cek/akses/" in text


def test_status_page_offers_a_code_for_the_suket_not_a_download_link(client):
    resident, suket = recorded_with_suket()
    text = check(client, resident.nik).content.decode()
    assert suket.number in text
    assert "/cek/suket/" not in text
    link = access_link(text)
    page = client.get(link).content.decode()  # the link alone only offers to send a code
    assert "%PDF" not in page
    assert "Kirim kode ke WhatsApp 0812******90" in page


def test_the_old_download_link_is_gone(client):
    assert client.get("/cek/suket/palsu:1a2b:3c/").status_code == 404


def test_status_api_returns_no_booking_code(client):
    resident = PortalResidentFactory()
    booking = active_booking(resident)
    response = client.post(
        "/api/v1/portal/status",
        {"nik": resident.nik, "birth_date": "17-05-1990"},
        content_type="application/json",
    )
    assert response.status_code == 200
    [shown] = response.json()["bookings"]
    assert "code" not in shown and shown["point"] == "UPT Negeri Katon"
    assert booking.code not in response.content.decode()


def test_whatsapp_status_text_has_no_booking_code():
    resident = PortalResidentFactory()
    booking = active_booking(resident)
    text = status_of(find_resident(nik=resident.nik, birth_date=resident.birth_date)).as_text()
    assert "UPT Negeri Katon" in text
    assert booking.code not in text


def test_unknown_nik_and_known_nik_without_data_still_get_the_same_page(client):
    resident, _ = recorded_with_suket()
    wrong_date = check(client, resident.nik, "18-05-1990")
    unknown = check(client, "1809015705909999", "17-05-1990")

    def strip_token(html: bytes, typed_nik: str) -> str:
        # The box keeps the NIK that was typed (nothing learnt: the asker typed it).
        return "\n".join(
            line for line in html.decode().splitlines() if "csrfmiddlewaretoken" not in line
        ).replace(typed_nik, "NIK")

    assert strip_token(wrong_date.content, resident.nik) == strip_token(
        unknown.content, "1809015705909999"
    )


# ------------------------------------------------------------------ the suket by code


def ask_code(client, link: str, **extra):
    return client.post(link, {"action": "send"}, **extra)


def give_code(client, link: str, code: str, **extra):
    return client.post(link, {"action": "verify", "code": code}, **extra)


def test_suket_download_needs_the_code_and_the_code_works_once(client):
    resident, suket = recorded_with_suket()
    link = access_link(check(client, resident.nik).content.decode())
    document = link + "dokumen/"
    assert client.get(document).url == link  # no code yet: back to the code page
    sent = ask_code(client, link)
    assert sent.status_code == 200
    assert "0812******90" in sent.content.decode()
    [code] = sent_codes(resident)
    opened = give_code(client, link, code)
    assert opened.status_code == 302 and opened.url == document
    pdf = client.get(document)
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert suket.number.replace("/", "-").replace(".", "") in pdf["Content-Disposition"]


def test_a_code_is_used_once():
    resident, suket = recorded_with_suket()
    access = services.request_access_code(
        resident=resident, kind=DocumentKind.SUKET, document_id=suket.pk, what="uji"
    )
    [code] = sent_codes(resident)
    redeem = dict(access_code_id=access.pk, kind="suket", document_id=suket.pk, code=code)
    assert services.redeem_access_code(**redeem).used_at is not None
    with pytest.raises(services.CodeRefused, match="sudah dipakai"):
        services.redeem_access_code(**redeem)


def test_only_a_hash_of_the_code_is_stored():
    resident, suket = recorded_with_suket()
    access = services.request_access_code(
        resident=resident, kind=DocumentKind.SUKET, document_id=suket.pk, what="uji"
    )
    [code] = sent_codes(resident)
    stored = AccessCode.objects.get(pk=access.pk)
    assert code not in stored.code_hash and len(stored.code_hash) == 64


def test_the_code_goes_to_the_phone_on_record_through_the_outbox():
    resident, suket = recorded_with_suket()
    services.request_access_code(
        resident=resident, kind=DocumentKind.SUKET, document_id=suket.pk, what="unduh suket"
    )
    [message] = Message.objects.filter(event=Event.ACCESS_CODE)
    assert message.recipient == "6281234567890"
    assert message.channel == "whatsapp"
    assert "Jangan berikan kode ini" in message.body


def test_a_resident_without_a_phone_is_told_to_come_to_the_office(client):
    resident, _ = recorded_with_suket(phone="")
    link = access_link(check(client, resident.nik).content.decode())
    page = ask_code(client, link)
    assert page.status_code == 422
    assert "datang ke kantor Disdukcapil" in page.content.decode()
    assert not AccessCode.objects.exists()


def test_a_code_is_taken_only_by_the_browser_that_asked_for_it(client):
    resident, _ = recorded_with_suket()
    link = access_link(check(client, resident.nik).content.decode())
    ask_code(client, link)
    [code] = sent_codes(resident)
    stranger = client.__class__()
    assert give_code(stranger, link, code).status_code == 400
    assert give_code(client, link, code).status_code == 302


def test_a_code_expires(client):
    resident, suket = recorded_with_suket()
    access = services.request_access_code(
        resident=resident, kind=DocumentKind.SUKET, document_id=suket.pk, what="uji"
    )
    [code] = sent_codes(resident)
    later = access.expires_at + dt.timedelta(seconds=1)
    with pytest.raises(services.CodeRefused, match="tidak berlaku lagi"):
        services.redeem_access_code(
            access_code_id=access.pk, kind="suket", document_id=suket.pk, code=code, now=later
        )


def test_a_code_is_for_one_document_only():
    resident, suket = recorded_with_suket()
    booking = active_booking(resident)
    access = services.request_access_code(
        resident=resident, kind=DocumentKind.SUKET, document_id=suket.pk, what="uji"
    )
    [code] = sent_codes(resident)
    with pytest.raises(services.CodeRefused):
        services.redeem_access_code(
            access_code_id=access.pk, kind="booking", document_id=booking.pk, code=code
        )


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "１２３４５６", "12 34 5x"])
def test_malformed_codes_are_refused_without_spending_a_try(client, typed):
    resident, _ = recorded_with_suket()
    link = access_link(check(client, resident.nik).content.decode())
    ask_code(client, link)
    response = give_code(client, link, typed)
    assert response.status_code == 400
    assert AccessCode.objects.get().failures == 0


def test_a_code_allows_five_wrong_tries_then_is_dead(client):
    resident, _ = recorded_with_suket()
    link = access_link(check(client, resident.nik).content.decode())
    ask_code(client, link)
    [code] = sent_codes(resident)
    for left in (4, 3, 2, 1):
        assert (
            f"Sisa percobaan untuk kode ini: {left}"
            in give_code(client, link, wrong(code)).content.decode()
        )
    give_code(client, link, wrong(code))
    dead = give_code(client, link, code)
    assert dead.status_code == 400
    assert "Minta kode baru" in dead.content.decode()


def test_attacker_failing_from_rotating_addresses_does_not_lock_the_resident_out(client):
    """Whoever knows the NIK may ask for codes and guess from many addresses: the guesses
    spend the attacker's own codes, and the resident's code still opens the suket."""
    resident, _ = recorded_with_suket()
    link = access_link(check(client, resident.nik).content.decode())
    assert ask_code(client, link).status_code == 200  # the resident's code
    [code] = sent_codes(resident)
    attacker = client.__class__()
    check(attacker, resident.nik, REMOTE_ADDR="203.0.113.1")
    for n in range(30):
        address = f"198.51.100.{n + 1}"
        asked = ask_code(attacker, link, REMOTE_ADDR=address)
        assert asked.status_code in (200, 429)
        guess = give_code(attacker, link, f"{n:06d}" if f"{n:06d}" != code else "999999",
                          REMOTE_ADDR=address)  # fmt: skip
        assert guess.status_code == 400
    opened = give_code(client, link, code, REMOTE_ADDR="192.0.2.7")
    assert opened.status_code == 302
    assert client.get(opened.url)["Content-Type"] == "application/pdf"


def test_new_codes_for_one_document_back_off_briefly_and_never_for_an_hour(settings):
    settings.PORTAL_ACCESS_CODE_RESEND_SECONDS = 30
    settings.PORTAL_ACCESS_CODE_RESEND_CAP_SECONDS = 600
    resident, suket = recorded_with_suket()
    now = timezone.now()
    waits = []
    for _ in range(12):
        wait = services.resend_wait(kind="suket", document_id=suket.pk, now=now)
        waits.append(wait)
        now += dt.timedelta(seconds=wait)
        services.request_access_code(
            resident=resident, kind="suket", document_id=suket.pk, what="uji", now=now
        )
    assert waits[:6] == [0, 30, 60, 120, 240, 480]
    assert max(waits) == 600
    with pytest.raises(services.ResendTooSoon):
        services.request_access_code(
            resident=resident, kind="suket", document_id=suket.pk, what="uji", now=now
        )


def test_grants_are_for_one_document_and_cannot_be_forged():
    _, suket = recorded_with_suket()
    token = grants.grant_token(kind="suket", document_id=suket.pk)
    assert grants.grant_valid(token, kind="suket", document_id=suket.pk)
    assert not grants.grant_valid(token, kind="booking", document_id=suket.pk)
    assert not grants.grant_valid(token + "x", kind="suket", document_id=suket.pk)
    assert not grants.grant_valid("", kind="suket", document_id=suket.pk)
    assert not grants.grant_valid("a" * 600, kind="suket", document_id=suket.pk)


@pytest.mark.parametrize("ref", ["palsu", "a:b:c", "x" * 300])
def test_forged_references_are_not_found(client, ref):
    assert client.get(f"/cek/akses/{ref}/").status_code == 404
    assert client.post(f"/cek/akses/{ref}/", {"action": "send"}).status_code == 404
    assert client.get(f"/cek/akses/{ref}/dokumen/").status_code == 404


def test_the_code_pages_need_csrf():
    from django.test import Client

    resident, _ = recorded_with_suket()
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("portal:status"))
    token = page.cookies["csrftoken"].value
    text = client.post(
        reverse("portal:status"),
        {"nik": resident.nik, "birth_date": "17-05-1990", "csrfmiddlewaretoken": token},
    ).content.decode()
    link = access_link(text)
    assert ask_code(client, link).status_code == 403
    assert not AccessCode.objects.exists()


def test_asking_for_codes_counts_against_the_client_rate(client, settings):
    settings.PORTAL_RATE_PER_IP = "3/h"
    resident, _ = recorded_with_suket()
    link = access_link(check(client, resident.nik, REMOTE_ADDR="192.0.2.1").content.decode())
    for _ in range(2):
        give_code(client, link, "123456", REMOTE_ADDR="192.0.2.1")
    assert give_code(client, link, "123456", REMOTE_ADDR="192.0.2.1").status_code == 429


def test_mask_phone_keeps_the_ends():
    assert mask_phone("081234567890") == "0812******90"
    assert mask_phone("+62 812-3456-7890") == "0812******90"
    assert mask_phone("") == ""


def test_the_inquiry_about_one_nik_is_slowed_for_minutes_not_an_hour():
    from django.conf import settings as declared

    count, number, unit = re.fullmatch(
        r"(\d+)/(\d*)([smhd])", declared.PORTAL_RATE_PER_NIK
    ).groups()
    seconds = int(number or 1) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    assert int(count) >= 5 and seconds <= 600


def test_an_attacker_who_exhausts_the_nik_leaves_the_code_path_open(client, settings):
    """Five wrong inquiries about a NIK from five addresses slow /cek/ for that NIK; the
    resident's booking code (from the WhatsApp confirmation) and the link already on the
    phone still lead to a one-time code that opens the booking and the suket."""
    resident, _ = recorded_with_suket()
    booking = active_booking(resident)
    suket_link = access_link(check(client, resident.nik).content.decode())
    attacker = client.__class__()
    for n in range(6):
        check(attacker, resident.nik, f"0{n + 1}-01-1990", REMOTE_ADDR=f"198.51.100.{n + 1}")
    assert check(client, resident.nik, REMOTE_ADDR="192.0.2.7").status_code == 429

    to_code = client.get(reverse("booking:detail", args=[booking.code]))
    assert to_code.status_code == 302
    ask_code(client, to_code.url)
    opened = give_code(client, to_code.url, sent_codes(resident)[0])
    assert client.get(opened.url, follow=True).status_code == 200
    assert (
        booking.code in client.get(reverse("booking:detail", args=[booking.code])).content.decode()
    )

    ask_code(client, suket_link)
    give_code(client, suket_link, sent_codes(resident)[0])
    assert client.get(suket_link + "dokumen/")["Content-Type"] == "application/pdf"

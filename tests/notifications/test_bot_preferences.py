"""A resident stops or restarts WhatsApp notices and picks their language, by chat or staff."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ektp.core.models import Role
from ektp.notifications.models import (
    ChannelOptOut,
    Event,
    InboundMessage,
    Message,
    MessageStatus,
    Preference,
)
from ektp.notifications.services import (
    NotificationInvalid,
    notify,
    preferred_language,
    set_language,
)
from tests.notifications.factories import (
    APP_SECRET,
    VERIFY_TOKEN,
    ReachableResidentFactory,
    payload,
    sign,
)

pytestmark = pytest.mark.django_db
SENDER = "6281234567890"  # the WhatsApp id of 081234567890, the factory's phone


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.WHATSAPP_APP_SECRET = APP_SECRET
    settings.WHATSAPP_VERIFY_TOKEN = VERIFY_TOKEN


_serial = iter(range(10_000))


def ask(client, text: str, sender: str = SENDER) -> Message:
    message_id = f"wamid.PREF{next(_serial)}"
    body = payload("text_message", ID=message_id, FROM=sender, TEXT=text)
    response = client.post(
        reverse("whatsapp:webhook"),
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=sign(body),
    )
    assert response.status_code == 200, response.content
    return Message.objects.get(dedup_key=f"wa-reply:{message_id}")


def deferred_notice(resident, key: str = "k") -> dict[str, Message]:
    messages = notify(
        event=Event.PRINTING_DEFERRED,
        resident=resident,
        context={"reason": "stok menipis"},
        dedup_key=f"deferred:{key}",
        channels=["whatsapp", "sms"],
    )
    return {m.channel: m for m in messages}


@pytest.mark.parametrize("word", ["berhenti", "STOP", "Berhenti.", " stop "])
def test_stop_word_opts_the_number_out_of_whatsapp_and_confirms(client, word):
    resident = ReachableResidentFactory()
    reply = ask(client, word)
    assert "tidak akan lagi menerima" in reply.body
    assert "mulai" in reply.body
    assert reply.status == MessageStatus.QUEUED  # the confirmation itself is still sent
    assert ChannelOptOut.objects.filter(resident=resident, channel="whatsapp").exists()
    sent = deferred_notice(resident)
    assert sent["whatsapp"].status == MessageStatus.SKIPPED_OPTED_OUT
    assert sent["sms"].status == MessageStatus.QUEUED


def test_stop_also_skips_notices_already_queued(client):
    resident = ReachableResidentFactory()
    queued = deferred_notice(resident, "before")["whatsapp"]
    ask(client, "berhenti")
    queued.refresh_from_db()
    assert queued.status == MessageStatus.SKIPPED_OPTED_OUT


def test_start_word_opts_back_in(client):
    resident = ReachableResidentFactory()
    ask(client, "berhenti")
    reply = ask(client, "mulai")
    assert "menerima lagi" in reply.body
    assert not ChannelOptOut.objects.exists()
    assert deferred_notice(resident)["whatsapp"].status == MessageStatus.QUEUED


def test_stop_covers_every_resident_registered_with_the_number(client):
    parent, child = ReachableResidentFactory(), ReachableResidentFactory()
    other = ReachableResidentFactory(phone="081299990000")
    ask(client, "stop")
    assert set(ChannelOptOut.objects.values_list("resident_id", flat=True)) == {
        parent.id,
        child.id,
    }
    assert deferred_notice(other)["whatsapp"].status == MessageStatus.QUEUED


def test_stop_from_an_unregistered_number_changes_nothing(client):
    ReachableResidentFactory()
    reply = ask(client, "berhenti", sender="6289900001111")
    assert "tidak terdaftar" in reply.body
    assert not ChannelOptOut.objects.exists()


@pytest.mark.parametrize("text", ["berhenti sekarang juga", "stop sms", "mulai lagi ya"])
def test_malformed_stop_or_start_gets_the_format(client, text):
    ReachableResidentFactory()
    reply = ask(client, text)
    assert "Format" in reply.body
    assert not ChannelOptOut.objects.exists()


def test_notices_are_in_indonesian_by_default():
    resident = ReachableResidentFactory()
    assert preferred_language(resident) == "id"
    message = deferred_notice(resident)["whatsapp"]
    assert message.language == "id"
    assert message.body.startswith("Yth.")


@pytest.mark.parametrize("text", ["bahasa en", "language en", "Bahasa Inggris", "LANGUAGE english"])
def test_language_command_switches_notices_to_english(client, text):
    resident = ReachableResidentFactory()
    reply = ask(client, text)
    assert "sent in English" in reply.body
    assert Preference.objects.get(resident=resident).language == "en"
    message = deferred_notice(resident)["whatsapp"]
    assert message.language == "en"
    assert message.body.startswith("Dear")
    assert "printing of your KTP-el is deferred" in message.body


def test_language_command_switches_back_to_indonesian(client):
    resident = ReachableResidentFactory()
    ask(client, "bahasa en")
    reply = ask(client, "bahasa id")
    assert "Bahasa Indonesia" in reply.body
    assert preferred_language(resident) == "id"
    assert deferred_notice(resident)["sms"].body.startswith("Yth.")


def test_confirmation_of_stop_comes_in_the_chosen_language(client):
    ReachableResidentFactory()
    ask(client, "language en")
    assert "no longer receive" in ask(client, "stop").body


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("bahasa jawa", "Bahasa tidak dikenal: jawa"),
        ("language fr", "Bahasa tidak dikenal: fr"),
        ("bahasa", "Format: bahasa id"),
        ("bahasa en id", "Format: bahasa id"),
    ],
)
def test_unknown_or_malformed_language_is_refused(client, text, words):
    ReachableResidentFactory()
    reply = ask(client, text)
    assert words in reply.body
    assert not Preference.objects.exists()


def test_language_from_an_unregistered_number_changes_nothing(client):
    reply = ask(client, "bahasa en", sender="6289900001111")
    assert "tidak terdaftar" in reply.body
    assert not Preference.objects.exists()


@pytest.mark.parametrize("language", ["fr", "", "ID-id", None])
def test_set_language_refuses_unknown_language(language):
    resident = ReachableResidentFactory()
    with pytest.raises(NotificationInvalid, match="Bahasa tidak dikenal"):
        set_language(resident=resident, language=language)
    assert not Preference.objects.exists()


def test_email_footer_follows_the_language(settings):
    resident = ReachableResidentFactory()
    set_language(resident=resident, language="en")
    [email] = notify(
        event=Event.PRINT_READY, resident=resident, context={}, dedup_key="e", channels=["email"]
    )
    assert "Stop receiving emails from Disdukcapil" in email.body


def test_help_names_the_new_commands(client):
    reply = ask(client, "apa ini")
    assert "berhenti" in reply.body
    assert "bahasa id" in reply.body
    assert InboundMessage.objects.count() == 1


def test_staff_set_language_and_channels_on_the_preferences_page(client, make_staff):
    resident = ReachableResidentFactory()
    client.force_login(make_staff(Role.OPERATOR))
    url = reverse("notifications:preferences", args=[resident.nik])
    page = client.get(url)
    assert page.status_code == 200
    assert "Preferensi pemberitahuan" in page.content.decode()
    saved = client.post(url, {"language": "en", "opted_out": ["sms"]}, follow=True)
    assert "Preferensi pemberitahuan disimpan" in saved.content.decode()
    assert preferred_language(resident) == "en"
    assert list(ChannelOptOut.objects.values_list("channel", flat=True)) == ["sms"]
    client.post(url, {"language": "id", "opted_out": ["whatsapp"]})
    assert preferred_language(resident) == "id"
    assert list(ChannelOptOut.objects.values_list("channel", flat=True)) == ["whatsapp"]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"language": "fr"}, "Bahasa tidak dikenal"),
        ({"language": "id", "opted_out": ["pos"]}, "Saluran tidak dikenal"),
        ({}, "wajib"),
    ],
)
def test_staff_bad_preferences_are_refused(client, make_staff, data, words):
    resident = ReachableResidentFactory()
    client.force_login(make_staff(Role.OPERATOR))
    response = client.post(reverse("notifications:preferences", args=[resident.nik]), data)
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not Preference.objects.exists()
    assert not ChannelOptOut.objects.exists()


def test_staff_cannot_reach_residents_of_other_districts(client, make_staff):
    outsider = ReachableResidentFactory(address_region_id="11.01.01.2001")
    client.force_login(make_staff(Role.OPERATOR))
    url = reverse("notifications:preferences", args=[outsider.nik])
    assert client.get(url).status_code == 404
    assert client.post(url, {"language": "en"}).status_code == 404
    assert not Preference.objects.exists()


def test_preferences_page_needs_an_editing_role(client, make_staff):
    resident = ReachableResidentFactory()
    url = reverse("notifications:preferences", args=[resident.nik])
    assert client.get(url).status_code == 302
    client.force_login(make_staff(Role.GATE_OFFICER))
    assert client.get(url).status_code in (302, 403)

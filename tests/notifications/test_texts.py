"""Every event has a text in Bahasa Indonesia and English that needs the same context."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import override_settings

from ektp.notifications import texts
from ektp.notifications.events import notify_printing_deferred, notify_suket_issued
from ektp.notifications.models import Event, MessageStatus
from tests.notifications.conftest import IMMEDIATE_TASKS
from tests.notifications.factories import ReachableResidentFactory


@pytest.mark.parametrize("event", Event.values)
def test_each_event_renders_in_both_languages_from_the_same_context(event):
    assert texts.fields_of(event, "id") == texts.fields_of(event, "en")
    context = {name: f"<{name}>" for name in texts.fields_of(event)}
    indonesian, english = texts.render(event, "id", context), texts.render(event, "en", context)
    for value in context.values():
        assert value in indonesian.body
        assert value in english.body
    assert indonesian.body != english.body or event == Event.BOT_REPLY


def test_unknown_language_falls_back_to_indonesian():
    assert texts.render(Event.PRINT_READY, "fr", {"name": "A"}).subject == "KTP-el siap cetak"


@pytest.mark.django_db
@override_settings(
    TASKS=IMMEDIATE_TASKS,
    NOTIFICATION_BACKENDS={"email": "smtp"},
    NOTIFICATIONS_DEFAULT_CHANNELS=["whatsapp", "email"],
    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
)
def test_suket_issued_sends_the_pdf_by_email_and_whatsapp(django_capture_on_commit_callbacks):
    from tests.portal.factories import valid_suket

    resident = ReachableResidentFactory(ktp_status="BIO_CAPTURED", recorded_on="2026-01-05")
    suket = valid_suket(resident)
    with django_capture_on_commit_callbacks(execute=True):
        messages = notify_suket_issued(suket=suket, pdf=b"%PDF-1.4 suket")
    assert {m.channel for m in messages} == {"whatsapp", "email"}
    [email] = mail.outbox
    assert suket.number in email.body
    assert email.attachments[0][1] == b"%PDF-1.4 suket"
    for message in messages:
        message.refresh_from_db()
        assert message.status == MessageStatus.SENT


@pytest.mark.django_db
def test_printing_deferred_tells_the_reason():
    from ektp.cards.models import ReprintRequest
    from tests.cards.factories import OfficeFactory

    resident = ReachableResidentFactory(ktp_status="CARD_ISSUED", recorded_on="2020-01-05")
    request = ReprintRequest(
        id="00000000-0000-0000-0000-000000000001",
        resident=resident,
        office=OfficeFactory(),
        reason="rusak",
        deferral_reason="kartu lama masih dapat dipakai; blangko untuk pemilih pemula",
    )
    [message] = notify_printing_deferred(request=request)
    assert "blangko untuk pemilih pemula" in message.body

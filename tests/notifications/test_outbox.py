"""The outbox: queued after commit, sent once, retried with backoff, final state recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from ektp.notifications import services
from ektp.notifications.events import notify_status_change
from ektp.notifications.models import ChannelOptOut, Event, Message, MessageStatus
from ektp.notifications.services import NotificationInvalid, deliver, notify, retry_due
from tests.notifications.conftest import IMMEDIATE_TASKS
from tests.notifications.factories import ReachableResidentFactory
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db


def _notify(resident, key="k1", **kwargs):
    return notify(
        event=Event.PRINTING_DEFERRED,
        resident=resident,
        context={"reason": "blangko tinggal 20, prioritas pemilih pemula"},
        dedup_key=key,
        **kwargs,
    )


@override_settings(TASKS=IMMEDIATE_TASKS)
def test_message_is_sent_after_commit_not_before(django_capture_on_commit_callbacks, settings):
    resident = ReachableResidentFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        [message] = _notify(resident, channels=["whatsapp"])
    assert Message.objects.get(id=message.id).status == MessageStatus.QUEUED
    for callback in callbacks:
        callback()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.sent_at is not None
    assert message.recipient == "6281234567890"
    assert "blangko tinggal 20" in message.body
    outbox = (settings.NOTIFICATIONS_OUTBOX_DIR / "whatsapp.jsonl").read_text()
    assert "blangko tinggal 20" in outbox


@override_settings(TASKS=IMMEDIATE_TASKS)
def test_same_event_twice_sends_once(django_capture_on_commit_callbacks, settings):
    resident = ReachableResidentFactory()
    with django_capture_on_commit_callbacks(execute=True):
        _notify(resident, channels=["whatsapp", "email"])
    with django_capture_on_commit_callbacks(execute=True) as second:
        again = _notify(resident, channels=["whatsapp", "email"])
    assert second == []
    assert Message.objects.count() == 2
    assert {m.status for m in again} == {MessageStatus.SENT}
    lines = (settings.NOTIFICATIONS_OUTBOX_DIR / "whatsapp.jsonl").read_text().splitlines()
    assert len(lines) == 1


def test_delivering_a_sent_message_again_does_nothing(settings):
    resident = ReachableResidentFactory()
    [message] = _notify(resident, channels=["sms"])
    assert deliver(message_id=str(message.id)) == MessageStatus.SENT
    assert deliver(message_id=str(message.id)) == MessageStatus.SENT
    lines = (settings.NOTIFICATIONS_OUTBOX_DIR / "sms.jsonl").read_text().splitlines()
    assert len(lines) == 1


def test_opted_out_channel_is_skipped_and_others_still_go():
    resident = ReachableResidentFactory()
    ChannelOptOut.objects.create(resident=resident, channel="whatsapp")
    messages = {m.channel: m for m in _notify(resident, channels=["whatsapp", "email"])}
    assert messages["whatsapp"].status == MessageStatus.SKIPPED_OPTED_OUT
    assert messages["email"].status == MessageStatus.QUEUED


def test_opting_out_after_queueing_stops_the_queued_message():
    resident = ReachableResidentFactory()
    [message] = _notify(resident, channels=["whatsapp"])
    services.opt_out(resident=resident, channel="whatsapp")
    assert deliver(message_id=str(message.id)) == MessageStatus.SKIPPED_OPTED_OUT


def test_resident_without_phone_or_email_is_skipped_no_address():
    resident = ReachableResidentFactory(phone="", email="bukan-email")
    statuses = {m.channel: m.status for m in _notify(resident, channels=["whatsapp", "email"])}
    assert statuses == {
        "whatsapp": MessageStatus.SKIPPED_NO_ADDRESS,
        "email": MessageStatus.SKIPPED_NO_ADDRESS,
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"event": "tidak_ada"}, "Peristiwa tidak dikenal"),
        ({"channels": ["telegram"]}, "Saluran tidak dikenal"),
        ({"context": {}}, "Konteks kurang: reason"),
        ({"dedup_key": ""}, "Kunci dedup wajib diisi"),
    ],
)
def test_bad_notify_call_is_refused_and_stores_nothing(kwargs, message):
    resident = ReachableResidentFactory()
    arguments = {
        "event": Event.PRINTING_DEFERRED,
        "resident": resident,
        "context": {"reason": "x"},
        "dedup_key": "k",
        **kwargs,
    }
    with pytest.raises(NotificationInvalid, match=message):
        notify(**arguments)
    assert not Message.objects.exists()


@pytest.fixture
def sms_gateway(settings, http_server):
    settings.NOTIFICATION_BACKENDS = {"sms": "http"}
    settings.SMS_GATEWAY_URL = http_server.url + "/kirim"
    settings.NOTIFICATIONS_BACKOFF_SECONDS = 60
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    return http_server


def test_channel_down_keeps_message_queued_with_doubling_backoff(sms_gateway):
    sms_gateway.answers = [(503, b"down"), (503, b"down")]
    [message] = _notify(ReachableResidentFactory(), channels=["sms"])
    before = timezone.now()
    assert deliver(message_id=str(message.id)) == MessageStatus.QUEUED
    message.refresh_from_db()
    assert message.attempts == 1
    assert "HTTP 503" in message.last_error
    first_wait = message.next_attempt_at - before
    assert dt.timedelta(seconds=55) < first_wait < dt.timedelta(seconds=65)
    assert deliver(message_id=str(message.id)) == MessageStatus.QUEUED  # not yet due
    assert len(sms_gateway.requests) == 1
    Message.objects.filter(id=message.id).update(next_attempt_at=timezone.now())
    before = timezone.now()
    assert deliver(message_id=str(message.id)) == MessageStatus.QUEUED
    message.refresh_from_db()
    assert message.attempts == 2
    second_wait = message.next_attempt_at - before
    assert dt.timedelta(seconds=115) < second_wait < dt.timedelta(seconds=125)
    Message.objects.filter(id=message.id).update(next_attempt_at=timezone.now())
    assert deliver(message_id=str(message.id)) == MessageStatus.SENT
    message.refresh_from_db()
    assert (message.attempts, message.last_error) == (3, "")


def test_message_fails_after_the_last_attempt(sms_gateway):
    sms_gateway.answers = [(503, b"down")] * 3
    [message] = _notify(ReachableResidentFactory(), channels=["sms"])
    for _ in range(3):
        Message.objects.filter(id=message.id).update(next_attempt_at=timezone.now())
        deliver(message_id=str(message.id))
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 3)


def test_permanent_refusal_fails_at_once(sms_gateway):
    sms_gateway.answers = [(400, b"nomor tidak valid")]
    [message] = _notify(ReachableResidentFactory(), channels=["sms"])
    assert deliver(message_id=str(message.id)) == MessageStatus.FAILED
    message.refresh_from_db()
    assert "nomor tidak valid" in message.last_error


@override_settings(TASKS=IMMEDIATE_TASKS)
def test_retry_command_sends_due_messages_and_reclaims_stale_sends(
    sms_gateway, django_capture_on_commit_callbacks
):
    resident = ReachableResidentFactory()
    _notify(resident, key="due", channels=["sms"])
    [later] = _notify(resident, key="later", channels=["sms"])
    [stuck] = _notify(resident, key="stuck", channels=["sms"])
    Message.objects.filter(id=later.id).update(
        next_attempt_at=timezone.now() + dt.timedelta(hours=1)
    )
    Message.objects.filter(id=stuck.id).update(
        status=MessageStatus.SENDING, claimed_at=timezone.now() - dt.timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        call_command("notifications", "retry")
    statuses = dict(Message.objects.values_list("dedup_key", "status"))
    # The SMS gateway cannot say whether the stuck send left: it is not sent a second time.
    assert statuses == {"due": "sent", "later": "queued", "stuck": "unconfirmed"}
    assert len(sms_gateway.requests) == 1


def test_retry_due_counts_what_it_enqueued():
    resident = ReachableResidentFactory()
    _notify(resident, key="a", channels=["sms"])
    _notify(resident, key="b", channels=["sms"])
    assert retry_due() == 2


def test_status_change_to_printed_names_the_collection_point(settings):
    from tests.portal.factories import printed_card

    resident = ReachableResidentFactory(ktp_status="CARD_PRINTED", recorded_on=dt.date(2026, 1, 5))
    card = printed_card(resident)
    [message] = notify_status_change(resident, "CARD_PRINTED")
    assert message.event == Event.CARD_PRINTED
    assert card.service_point.name in message.body
    assert message.dedup_key.endswith(str(card.id))
    assert notify_status_change(resident, "CARD_PRINTED")[0].id == message.id


def test_status_without_a_notice_is_ignored():
    resident = ReachableResidentFactory()
    assert notify_status_change(resident, "SENT_FOR_ENROLLMENT") == []
    assert not Message.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_send_a_message_exactly_once(settings):
    resident = ReachableResidentFactory()
    [message] = _notify(resident, channels=["whatsapp"])
    results = []

    def worker():
        results.append(deliver(message_id=str(message.id)))

    assert run_in_threads(worker, 8) == []
    lines = (settings.NOTIFICATIONS_OUTBOX_DIR / "whatsapp.jsonl").read_text().splitlines()
    assert len(lines) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 1)
    assert len(results) == 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_notify_of_the_same_event_stores_one_message():
    resident = ReachableResidentFactory()

    def worker():
        _notify(resident, key="race", channels=["whatsapp"])

    assert run_in_threads(worker, 6) == []
    assert Message.objects.filter(dedup_key="race").count() == 1


def _left_sending(message, *, run_id="", ago=dt.timedelta(seconds=1)):
    """Leave a message as a worker killed mid-send leaves it: claimed, never settled."""
    Message.objects.filter(id=message.id).update(
        status=MessageStatus.SENDING,
        claimed_at=timezone.now() - ago,
        claimed_by=run_id,
        attempts=1,
    )


def _journal(settings, channel="whatsapp"):
    path = settings.NOTIFICATIONS_OUTBOX_DIR / f"{channel}.jsonl"
    return path.read_text().splitlines() if path.exists() else []


def test_rerun_of_a_send_that_reached_the_outbox_records_it_without_sending_again(settings):
    from ektp.notifications.channels import LocalOutboxBackend, Outgoing

    [message] = _notify(ReachableResidentFactory(), channels=["whatsapp"])
    # The worker sent it, then died before it could record the send.
    LocalOutboxBackend("whatsapp").send(
        Outgoing(
            recipient=message.recipient, body=message.body, idempotency_key=message.idempotency_key
        )
    )
    _left_sending(message, run_id="run-1")
    assert deliver(message_id=str(message.id), run_id="run-1") == MessageStatus.SENT
    assert len(_journal(settings)) == 1
    message.refresh_from_db()
    assert message.provider_id.startswith("local-")
    assert deliver(message_id=str(message.id), run_id="run-1") == MessageStatus.SENT
    assert len(_journal(settings)) == 1


def test_rerun_of_a_send_that_never_left_sends_it_once(settings):
    [message] = _notify(ReachableResidentFactory(), channels=["whatsapp"])
    _left_sending(message, run_id="run-1")
    assert deliver(message_id=str(message.id), run_id="run-1") == MessageStatus.SENT
    [line] = _journal(settings)
    assert message.idempotency_key in line


def test_another_run_leaves_a_fresh_claim_alone(settings):
    [message] = _notify(ReachableResidentFactory(), channels=["whatsapp"])
    _left_sending(message, run_id="run-1")
    assert deliver(message_id=str(message.id), run_id="run-2") == MessageStatus.SENDING
    assert _journal(settings) == []


def test_stale_claim_is_settled_by_any_run(settings):
    settings.NOTIFICATIONS_STALE_SENDING_SECONDS = 60
    [message] = _notify(ReachableResidentFactory(), channels=["whatsapp"])
    _left_sending(message, run_id="run-1", ago=dt.timedelta(minutes=5))
    assert deliver(message_id=str(message.id), run_id="run-2") == MessageStatus.SENT
    assert len(_journal(settings)) == 1


def test_channel_that_cannot_tell_never_gets_a_lost_send_twice(sms_gateway):
    [message] = _notify(ReachableResidentFactory(), channels=["sms"])
    _left_sending(message, run_id="run-1")
    assert deliver(message_id=str(message.id), run_id="run-1") == MessageStatus.UNCONFIRMED
    assert sms_gateway.requests == []
    message.refresh_from_db()
    assert "tidak dikirim ulang" in message.last_error
    assert deliver(message_id=str(message.id), run_id="run-1") == MessageStatus.UNCONFIRMED


def test_whatsapp_cloud_message_carries_its_idempotency_key(settings, http_server):
    import json

    settings.NOTIFICATION_BACKENDS = {"whatsapp": "cloud"}
    settings.WHATSAPP_GRAPH_URL = http_server.url
    settings.WHATSAPP_PHONE_NUMBER_ID = "123"
    settings.WHATSAPP_TOKEN = "token-uji"
    [message] = _notify(ReachableResidentFactory(), channels=["whatsapp"])
    assert deliver(message_id=str(message.id)) == MessageStatus.SENT
    [request] = http_server.requests
    sent = json.loads(request["body"])
    assert sent["biz_opaque_callback_data"] == message.idempotency_key


def _notify_with_pdf(resident, content: bytes):
    return notify(
        event=Event.PRINTING_DEFERRED,
        resident=resident,
        context={"reason": "blangko habis"},
        dedup_key="lampiran-1",
        channels=["email"],
        attachment=("suket.pdf", content),
    )


def test_a_repeat_notify_leaves_the_first_attachment_as_it_was(settings):
    resident = ReachableResidentFactory()
    [first] = _notify_with_pdf(resident, b"%PDF-1.4 yang pertama")
    path = settings.MEDIA_ROOT / first.attachment_path
    assert path.read_bytes() == b"%PDF-1.4 yang pertama"
    [again] = _notify_with_pdf(resident, b"%PDF-1.4 dibuat ulang")
    assert again.pk == first.pk
    assert path.read_bytes() == b"%PDF-1.4 yang pertama"
    assert [p.name for p in path.parent.iterdir()] == ["suket.pdf"]  # no temporary file left

"""Writes for notifications: queue messages, send them once, opt-outs, incoming WhatsApp."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
import uuid
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from ektp.core.errors import DomainError
from ektp.notifications import texts
from ektp.notifications.channels import ChannelError, Outgoing, address_for, get_backend
from ektp.notifications.models import (
    Channel,
    ChannelOptOut,
    Event,
    InboundMessage,
    Language,
    Message,
    MessageStatus,
    Preference,
)

OPT_OUT_SALT = "ektp.notifications.opt-out"


class NotificationInvalid(DomainError, ValueError):
    """A notification was asked for with an unknown event, channel or missing context."""

    rule = "notification_invalid"


def max_attempts() -> int:
    return int(settings.NOTIFICATIONS_MAX_ATTEMPTS)


def backoff(attempts: int) -> dt.timedelta:
    """Return the wait before the next try after `attempts` failed ones (doubling, capped)."""
    base = float(settings.NOTIFICATIONS_BACKOFF_SECONDS)
    cap = float(settings.NOTIFICATIONS_BACKOFF_CAP_SECONDS)
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


def default_channels() -> list[str]:
    return list(settings.NOTIFICATIONS_DEFAULT_CHANNELS)


def _enqueue(message_id: str, *, run_after: dt.datetime | None = None) -> None:
    from ektp.notifications.tasks import send_message

    task = send_message
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return  # picked up by `ektp notifications retry`
        task = task.using(run_after=run_after)
    task.enqueue(message_id=message_id)


def _store_attachment(dedup_key: str, attachment: tuple[str, bytes]) -> tuple[str, str]:
    """Write an attachment under MEDIA_ROOT/notifications/ and return (relative path, name).

    The file is written whole under a temporary name and then renamed into place, so a
    channel reading it (or a crash while writing) never meets half a document."""
    name, content = attachment
    name = Path(name).name or "lampiran.pdf"
    folder = hashlib.sha256(dedup_key.encode()).hexdigest()[:24]
    relative = Path("notifications") / folder / name
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tulis-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return str(relative), name


def _stored_attachment(dedup_key: str) -> tuple[str, str] | None:
    """The attachment an earlier call with this dedup key stored, if any (it stays as sent)."""
    row = (
        Message.objects.filter(dedup_key=dedup_key)
        .exclude(attachment_path="")
        .values_list("attachment_path", "attachment_name")
        .first()
    )
    return (row[0], row[1]) if row else None


def notify(
    *,
    event: str,
    resident,
    context: dict,
    dedup_key: str,
    channels: list[str] | None = None,
    language: str | None = None,
    attachment: tuple[str, bytes] | None = None,
    attachment_url: str = "",
    recipient: str = "",
) -> list[Message]:
    """Queue one message per channel for an event, sent after commit; repeat calls add nothing."""
    if event not in Event.values:
        raise NotificationInvalid(f"Peristiwa tidak dikenal: {event}.")
    channels = default_channels() if channels is None else list(channels)
    unknown = [c for c in channels if c not in Channel.values]
    if unknown:
        raise NotificationInvalid(f"Saluran tidak dikenal: {', '.join(unknown)}.")
    if not dedup_key or len(dedup_key) > 200:
        raise NotificationInvalid("Kunci dedup wajib diisi, paling banyak 200 karakter.")
    if language is None:
        language = preferred_language(resident)
    context = {"name": getattr(resident, "name", ""), **context}
    missing = texts.fields_of(event) - set(context)
    if missing:
        raise NotificationInvalid(f"Konteks kurang: {', '.join(sorted(missing))}.")
    text = texts.render(event, language, context)
    params = [str(context[n]) for n in _ordered_fields(event, language)]
    opted_out = set()
    if resident is not None:
        opted_out = set(
            ChannelOptOut.objects.filter(resident=resident).values_list("channel", flat=True)
        )
    attachment_path, attachment_name = "", ""
    if attachment is not None:
        # A repeat call adds nothing: the file of the first call may be on its way already.
        stored = _stored_attachment(dedup_key)
        attachment_path, attachment_name = stored or _store_attachment(dedup_key, attachment)
    messages = []
    with transaction.atomic():
        for channel in channels:
            address = recipient or address_for(channel, resident)
            if channel in opted_out:
                status = MessageStatus.SKIPPED_OPTED_OUT
            elif not address:
                status = MessageStatus.SKIPPED_NO_ADDRESS
            else:
                status = MessageStatus.QUEUED
            try:
                with transaction.atomic():
                    message = Message.objects.create(
                        resident=resident,
                        event=event,
                        channel=channel,
                        dedup_key=dedup_key,
                        recipient=address,
                        language=language if language in texts.LANGUAGES else "id",
                        subject=text.subject,
                        body=_with_opt_out(
                            text.body, channel=channel, resident=resident, language=language
                        ),
                        template_params=params,
                        attachment_path=attachment_path,
                        attachment_url=attachment_url,
                        attachment_name=attachment_name or Path(attachment_url).name[:120],
                        status=status,
                    )
            except IntegrityError:
                messages.append(Message.objects.get(dedup_key=dedup_key, channel=channel))
                continue
            messages.append(message)
            if status == MessageStatus.QUEUED:
                transaction.on_commit(lambda mid=str(message.id): _enqueue(mid))
    return messages


def opt_out_url(*, resident, channel: str) -> str:
    """Return the public link that stops messages to a resident on a channel."""
    path = reverse(
        "notifications:opt_out", args=[opt_out_token(resident=resident, channel=channel)]
    )
    return settings.EKTP_PUBLIC_URL.rstrip("/") + path


OPT_OUT_FOOTER = {
    Language.ID: "Berhenti menerima email dari Disdukcapil",
    Language.EN: "Stop receiving emails from Disdukcapil",
}


def _with_opt_out(body: str, *, channel: str, resident, language: str = Language.ID) -> str:
    """Add the opt-out link under an email (short channels leave it out)."""
    if channel != Channel.EMAIL or resident is None:
        return body
    link = opt_out_url(resident=resident, channel=channel)
    footer = OPT_OUT_FOOTER.get(language, OPT_OUT_FOOTER[Language.ID])
    return f"{body}\n\n--\n{footer}: {link}"


def _ordered_fields(event: str, language: str) -> list[str]:
    import string

    body = texts.TEXTS[event][language if language in texts.LANGUAGES else "id"].body
    seen: list[str] = []
    for _, name, _, _ in string.Formatter().parse(body):
        if name and name not in seen:
            seen.append(name)
    return seen


def stale_sending() -> dt.timedelta:
    """Return how long after its claim a send not settled was surely left by a dead worker."""
    return dt.timedelta(seconds=float(settings.NOTIFICATIONS_STALE_SENDING_SECONDS))


def _claim(message_id: str, now: dt.datetime, run_id: str = "") -> bool:
    """Take a due message for sending; only one worker can win it."""
    return bool(
        Message.objects.filter(
            id=message_id, status=MessageStatus.QUEUED, next_attempt_at__lte=now
        ).update(
            status=MessageStatus.SENDING,
            claimed_at=now,
            claimed_by=run_id[:64],
            attempts=F("attempts") + 1,
        )
    )


UNCONFIRMED_NOTE = (
    "Pekerja berhenti saat mengirim dan saluran ini tidak dapat memastikan pesan sudah keluar; "
    "pesan tidak dikirim ulang agar tidak ganda. Periksa dengan penduduk bila perlu."
)


def settle_in_doubt(*, message_id: str) -> str:
    """Settle a message whose sender died mid-send: sent, to send again, or unconfirmed.

    A channel that can tell (``Backend.can_tell_sent``) is asked whether the message left under
    its idempotency key: if so it is recorded as sent, else it is queued again. A channel that
    cannot tell never gets it twice: the message is marked unconfirmed for staff to check.
    """
    message = Message.objects.filter(id=message_id, status=MessageStatus.SENDING).first()
    if message is None:
        status = Message.objects.filter(id=message_id).values_list("status", flat=True).first()
        return status or "missing"
    in_doubt = Message.objects.filter(
        id=message.id, status=MessageStatus.SENDING, claimed_at=message.claimed_at
    )
    backend = get_backend(message.channel)
    if backend.can_tell_sent:
        provider_id = backend.find_sent(message.idempotency_key)
        if provider_id:
            in_doubt.update(
                status=MessageStatus.SENT,
                sent_at=timezone.now(),
                provider_id=provider_id[:200],
                last_error="",
                claimed_at=None,
                claimed_by="",
            )
            return MessageStatus.SENT
        in_doubt.update(
            status=MessageStatus.QUEUED,
            next_attempt_at=timezone.now(),
            claimed_at=None,
            claimed_by="",
        )
        return MessageStatus.QUEUED
    in_doubt.update(
        status=MessageStatus.UNCONFIRMED,
        last_error=UNCONFIRMED_NOTE,
        claimed_at=None,
        claimed_by="",
    )
    return MessageStatus.UNCONFIRMED


def deliver(*, message_id: str, run_id: str = "") -> str:
    """Send one queued message if it is due and return its status; safe to run twice.

    ``run_id`` names the task run: when a run that claimed the message is taken up again after
    its worker died, or a claim is older than NOTIFICATIONS_STALE_SENDING_SECONDS, the send it
    may have made is settled first (``settle_in_doubt``), so a message never leaves twice.
    """
    now = timezone.now()
    if not _claim(message_id, now, run_id):
        row = (
            Message.objects.filter(id=message_id)
            .values("status", "claimed_at", "claimed_by")
            .first()
        )
        if row is None:
            return "missing"
        if row["status"] != MessageStatus.SENDING:
            return row["status"]
        lost = (run_id and row["claimed_by"] == run_id) or (
            row["claimed_at"] is not None and row["claimed_at"] < now - stale_sending()
        )
        if not lost:
            return row["status"]
        if settle_in_doubt(message_id=message_id) != MessageStatus.QUEUED:
            return Message.objects.get(id=message_id).status
        if not _claim(message_id, timezone.now(), run_id):
            return Message.objects.get(id=message_id).status
    message = Message.objects.get(id=message_id)
    claimed = Message.objects.filter(id=message_id, status=MessageStatus.SENDING)
    if (
        message.resident_id
        and ChannelOptOut.objects.filter(
            resident_id=message.resident_id, channel=message.channel
        ).exists()
    ):
        claimed.update(status=MessageStatus.SKIPPED_OPTED_OUT, claimed_at=None, claimed_by="")
        return MessageStatus.SKIPPED_OPTED_OUT
    outgoing = Outgoing(
        recipient=message.recipient,
        body=message.body,
        subject=message.subject,
        event=message.event,
        language=message.language,
        template_params=list(message.template_params or []),
        attachment_path=message.attachment_path,
        attachment_url=message.attachment_url,
        attachment_name=message.attachment_name,
        message_id=str(message.id),
        idempotency_key=message.idempotency_key,
    )
    try:
        provider_id = get_backend(message.channel).send(outgoing)
    except ChannelError as exc:
        error = str(exc)[:500]
        if exc.permanent or message.attempts >= max_attempts():
            claimed.update(
                status=MessageStatus.FAILED, last_error=error, claimed_at=None, claimed_by=""
            )
            return MessageStatus.FAILED
        next_at = timezone.now() + backoff(message.attempts)
        claimed.update(
            status=MessageStatus.QUEUED,
            last_error=error,
            next_attempt_at=next_at,
            claimed_at=None,
            claimed_by="",
        )
        _enqueue(str(message.id), run_after=next_at)
        return MessageStatus.QUEUED
    claimed.update(
        status=MessageStatus.SENT,
        sent_at=timezone.now(),
        provider_id=provider_id[:200],
        last_error="",
        claimed_at=None,
        claimed_by="",
    )
    return MessageStatus.SENT


def confirm_sent(*, idempotency_key: str, provider_id: str) -> bool:
    """Record a channel's receipt for a message that was in doubt (e.g. WhatsApp's status)."""
    prefix = "ektp-"
    if not idempotency_key.startswith(prefix):
        return False
    try:
        message_id = uuid.UUID(idempotency_key.removeprefix(prefix))
    except ValueError:
        return False
    return bool(
        Message.objects.filter(
            id=message_id, status__in=[MessageStatus.SENDING, MessageStatus.UNCONFIRMED]
        ).update(
            status=MessageStatus.SENT,
            sent_at=timezone.now(),
            provider_id=provider_id[:200],
            last_error="",
            claimed_at=None,
            claimed_by="",
        )
    )


def retry_due(*, now: dt.datetime | None = None) -> int:
    """Enqueue every due message again, after settling sends that a dead worker left behind."""
    now = now or timezone.now()
    stale = list(
        Message.objects.filter(
            status=MessageStatus.SENDING, claimed_at__lt=now - stale_sending()
        ).values_list("id", flat=True)
    )
    for message_id in stale:
        settle_in_doubt(message_id=str(message_id))
    with transaction.atomic():
        due = list(
            Message.objects.filter(
                status=MessageStatus.QUEUED, next_attempt_at__lte=now
            ).values_list("id", flat=True)
        )
        for message_id in due:
            transaction.on_commit(lambda mid=str(message_id): _enqueue(mid))
    return len(due)


def opt_out_token(*, resident, channel: str) -> str:
    """Return a signed token that lets the resident opt out of a channel without logging in."""
    return signing.dumps({"r": str(resident.id), "c": channel}, salt=OPT_OUT_SALT)


def read_opt_out_token(token: str) -> tuple[str, str]:
    """Return (resident id, channel) from a token; raise NotificationInvalid when it is forged."""
    try:
        data = signing.loads(token, salt=OPT_OUT_SALT)
        resident_id, channel = str(data["r"]), str(data["c"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise NotificationInvalid("Tautan berhenti berlangganan tidak sah.") from exc
    if channel not in Channel.values:
        raise NotificationInvalid("Tautan berhenti berlangganan tidak sah.")
    return resident_id, channel


def preferred_language(resident) -> str:
    """Return the language a resident reads notices in (Bahasa Indonesia unless chosen)."""
    if resident is None or resident.pk is None:
        return Language.ID
    chosen = Preference.objects.filter(resident=resident).values_list("language", flat=True).first()
    return chosen or Language.ID


def set_language(*, resident, language: str) -> Preference:
    """Make a resident's future notices come in a language ("id" or "en")."""
    language = (language or "").strip().lower()
    if language not in Language.values:
        raise NotificationInvalid(
            f"Bahasa tidak dikenal: {language or '(kosong)'}. Pilihan: "
            + ", ".join(f"{value} ({label})" for value, label in Language.choices)
            + "."
        )
    with transaction.atomic():
        row, _ = Preference.objects.update_or_create(
            resident=resident, defaults={"language": language}
        )
    return row


def set_preferences(*, resident, language: str, opted_out: list[str]) -> None:
    """Set a resident's language and the channels the resident does not want, at once."""
    unknown = [c for c in opted_out if c not in Channel.values]
    if unknown:
        raise NotificationInvalid(f"Saluran tidak dikenal: {', '.join(unknown)}.")
    with transaction.atomic():
        set_language(resident=resident, language=language)
        for channel in Channel.values:
            if channel in opted_out:
                opt_out(resident=resident, channel=channel)
            else:
                opt_in(resident=resident, channel=channel)


def opt_out(*, resident, channel: str) -> ChannelOptOut:
    """Stop messages to a resident on a channel, including those still queued."""
    if channel not in Channel.values:
        raise NotificationInvalid(f"Saluran tidak dikenal: {channel}.")
    with transaction.atomic():
        row, _ = ChannelOptOut.objects.get_or_create(resident=resident, channel=channel)
        Message.objects.filter(
            resident=resident, channel=channel, status=MessageStatus.QUEUED
        ).update(status=MessageStatus.SKIPPED_OPTED_OUT)
    return row


def opt_in(*, resident, channel: str) -> None:
    """Let messages reach a resident on a channel again."""
    with transaction.atomic():
        ChannelOptOut.objects.filter(resident=resident, channel=channel).delete()


def fitted_key(text: str, limit: int) -> str:
    """Return a key as it is when it fits in ``limit`` characters, else its SHA-256 (one key
    per text either way: two long ids that share a beginning stay apart)."""
    if len(text) <= limit:
        return text
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def record_inbound(*, provider_id: str, sender: str, kind: str, text: str) -> InboundMessage | None:
    """Store an incoming WhatsApp message once; return None when it was already handled."""
    try:
        with transaction.atomic():
            return InboundMessage.objects.create(
                provider_id=fitted_key(provider_id, 200),
                sender=sender[:30],
                kind=kind[:20],
                text=text,
            )
    except IntegrityError:
        return None


def reply_on_whatsapp(
    *,
    inbound: InboundMessage,
    text: str,
    resident=None,
    attachment: tuple[str, bytes] | None = None,
) -> Message:
    """Queue the bot's answer to one incoming message (once per incoming message)."""
    with transaction.atomic():
        InboundMessage.objects.filter(id=inbound.id).update(reply=text)
        return notify(
            event=Event.BOT_REPLY,
            resident=resident,
            context={"text": text},
            channels=[Channel.WHATSAPP],
            dedup_key="wa-reply:" + fitted_key(inbound.provider_id, 200 - len("wa-reply:")),
            recipient=inbound.sender,
            attachment=attachment,
        )[0]

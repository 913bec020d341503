"""Channels behind one interface: WhatsApp Cloud API, an HTTP SMS gateway, SMTP, a local outbox."""

from __future__ import annotations

import json
import mimetypes
import os
import re
import smtplib
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import timezone

from ektp.notifications.models import Channel

DEFAULT_BACKENDS = {Channel.WHATSAPP: "local", Channel.SMS: "local", Channel.EMAIL: "local"}
EMAIL_PATTERN = re.compile(r"\A[^@\s]+@[^@\s]+\.[^@\s]+\Z")


class ChannelError(Exception):
    """A channel could not deliver a message; a permanent error is not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Outgoing:
    """What a channel needs to deliver one message."""

    recipient: str
    body: str
    subject: str = ""
    event: str = ""
    language: str = "id"
    template_params: list[str] = field(default_factory=list)
    attachment_path: str = ""
    attachment_url: str = ""
    attachment_name: str = ""
    message_id: str = ""
    # The same on every try of one message: a channel that can use it delivers the message once.
    idempotency_key: str = ""


def normalize_msisdn(phone: str) -> str:
    """Return an Indonesian mobile number in international form (62…), or "" if it is not one."""
    digits = re.sub(r"[\s\-().]", "", phone or "")
    if digits.startswith("+"):
        digits = digits[1:]
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    if not digits.isdigit() or not digits.startswith("628") or not 10 <= len(digits) <= 15:
        return ""
    return digits


def address_for(channel: str, resident) -> str:
    """Return the resident's address on a channel from the registry, or "" when there is none."""
    if resident is None:
        return ""
    if channel == Channel.EMAIL:
        email = (resident.email or "").strip()
        return email if EMAIL_PATTERN.match(email) else ""
    return normalize_msisdn(resident.phone)


def attachment_file(path: str) -> Path | None:
    """Resolve an attachment path (relative paths are under MEDIA_ROOT)."""
    if not path:
        return None
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = Path(settings.MEDIA_ROOT) / candidate
    return candidate


def _timeout() -> float:
    return float(settings.NOTIFICATIONS_HTTP_TIMEOUT)


def _http(
    url: str, *, method: str = "POST", data: bytes | None = None, headers: dict | None = None
) -> tuple[int, bytes]:
    """Make one HTTP request; raise ChannelError (transient for 429, 5xx and network faults)."""
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=_timeout()) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()[:300].decode("utf-8", "replace")
        permanent = 400 <= exc.code < 500 and exc.code not in (408, 429)
        raise ChannelError(f"HTTP {exc.code}: {body}", permanent=permanent) from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise ChannelError(f"tidak terhubung: {exc}") from exc


class Backend:
    """A way to deliver messages on one channel."""

    channel: str = ""
    # Whether ``find_sent`` can tell if a message left: after a worker died mid-send, a channel
    # that can tell is asked; one that cannot is never sent the message again.
    can_tell_sent: bool = False

    def send(self, outgoing: Outgoing) -> str:
        """Deliver one message and return the provider's id for it."""
        raise NotImplementedError

    def find_sent(self, idempotency_key: str) -> str | None:
        """Return the provider's id of the message delivered under this key, or None."""
        return None


class LocalOutboxBackend(Backend):
    """Append every message to var/outbox/<channel>.jsonl so that the demo shows it.

    Each message is one line written by one append, so a process killed mid-send leaves the
    whole line or none; ``find_sent`` reads the lines back by idempotency key.
    """

    can_tell_sent = True

    def __init__(self, channel: str) -> None:
        self.channel = channel

    def journal(self) -> Path:
        directory = Path(settings.NOTIFICATIONS_OUTBOX_DIR)
        return directory / f"{self.channel}.jsonl"

    def send(self, outgoing: Outgoing) -> str:
        path = self.journal()
        path.parent.mkdir(parents=True, exist_ok=True)
        provider_id = f"local-{uuid.uuid4().hex[:12]}"
        line = {"at": timezone.now().isoformat(), "provider_id": provider_id, **asdict(outgoing)}
        data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            written = os.write(fd, data)
        finally:
            os.close(fd)
        if written != len(data):
            raise ChannelError(f"outbox lokal: hanya {written} dari {len(data)} byte tertulis")
        return provider_id

    def find_sent(self, idempotency_key: str) -> str | None:
        if not idempotency_key:
            return None
        try:
            with self.journal().open(encoding="utf-8") as lines:
                for text in lines:
                    if idempotency_key not in text:
                        continue
                    try:
                        line = json.loads(text)
                    except ValueError:
                        continue
                    if line.get("idempotency_key") == idempotency_key:
                        return str(line.get("provider_id") or "local")
        except FileNotFoundError:
            return None
        return None


class WhatsAppCloudBackend(Backend):
    """WhatsApp Cloud API (Meta Graph API) over plain HTTPS."""

    channel = Channel.WHATSAPP

    def __init__(self) -> None:
        self.base = settings.WHATSAPP_GRAPH_URL
        self.phone_number_id = settings.WHATSAPP_PHONE_NUMBER_ID
        self.token = settings.WHATSAPP_TOKEN
        self.templates = settings.WHATSAPP_TEMPLATES

    def _post_json(self, path: str, payload: dict) -> dict:
        if not self.phone_number_id or not self.token:
            raise ChannelError(
                "WHATSAPP_PHONE_NUMBER_ID/WHATSAPP_TOKEN belum diatur", permanent=True
            )
        _, body = _http(
            f"{self.base.rstrip('/')}/{self.phone_number_id}/{path}",
            data=json.dumps(payload).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            return json.loads(body or b"{}")
        except ValueError as exc:
            raise ChannelError("jawaban WhatsApp bukan JSON") from exc

    def upload_media(self, path: Path, filename: str) -> str:
        """Upload a file to the Cloud API and return its media id."""
        if not self.phone_number_id or not self.token:
            raise ChannelError(
                "WHATSAPP_PHONE_NUMBER_ID/WHATSAPP_TOKEN belum diatur", permanent=True
            )
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise ChannelError(f"lampiran tidak terbaca: {path.name}", permanent=True) from exc
        mime = mimetypes.guess_type(filename)[0] or "application/pdf"
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="messaging_product"\r\n\r\n'
            "whatsapp\r\n",
            f'--{boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\n{mime}\r\n',
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"'
            f"\r\nContent-Type: {mime}\r\n\r\n",
        ]
        data = "".join(parts).encode() + content + f"\r\n--{boundary}--\r\n".encode()
        _, body = _http(
            f"{self.base.rstrip('/')}/{self.phone_number_id}/media",
            data=data,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
        try:
            return str(json.loads(body)["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ChannelError("jawaban unggah media WhatsApp tanpa id") from exc

    def payload_for(self, outgoing: Outgoing) -> dict:
        """Build the Cloud API message: a document, a template, or plain text."""
        base = {"messaging_product": "whatsapp", "recipient_type": "individual"}
        base["to"] = outgoing.recipient
        if outgoing.idempotency_key:
            # The Cloud API has no idempotency key; it echoes this in the status webhook, which
            # confirms a message whose send the worker did not live to record.
            base["biz_opaque_callback_data"] = outgoing.idempotency_key[:512]
        if outgoing.attachment_url or outgoing.attachment_path:
            name = outgoing.attachment_name or "dokumen.pdf"
            document: dict = {"filename": name, "caption": outgoing.body[:1024]}
            if outgoing.attachment_url:
                document["link"] = outgoing.attachment_url
            else:
                path = attachment_file(outgoing.attachment_path)
                document["id"] = self.upload_media(path, name)
            return {**base, "type": "document", "document": document}
        template = self.templates.get(outgoing.event)
        if template:
            parameters = [{"type": "text", "text": str(p)} for p in outgoing.template_params]
            return {
                **base,
                "type": "template",
                "template": {
                    "name": template,
                    "language": {"code": outgoing.language or "id"},
                    "components": [{"type": "body", "parameters": parameters}],
                },
            }
        return {**base, "type": "text", "text": {"preview_url": False, "body": outgoing.body}}

    def send(self, outgoing: Outgoing) -> str:
        answer = self._post_json("messages", self.payload_for(outgoing))
        try:
            return str(answer["messages"][0]["id"])
        except (KeyError, IndexError, TypeError) as exc:
            raise ChannelError("jawaban WhatsApp tanpa id pesan") from exc


class HttpSmsBackend(Backend):
    """An SMS gateway over HTTP with a configurable URL, method and body template.

    `{to}` and `{text}` in SMS_GATEWAY_URL and SMS_GATEWAY_BODY are replaced,
    escaped for where they stand (URL query, JSON string or form field)."""

    channel = Channel.SMS

    def __init__(self) -> None:
        self.url = settings.SMS_GATEWAY_URL
        self.method = settings.SMS_GATEWAY_METHOD.upper()
        self.body = settings.SMS_GATEWAY_BODY
        self.content_type = settings.SMS_GATEWAY_CONTENT_TYPE
        self.headers = dict(settings.SMS_GATEWAY_HEADERS)

    def _fill(self, template: str, values: dict, escape) -> str:
        for key, value in values.items():
            template = template.replace("{" + key + "}", escape(value))
        return template

    def send(self, outgoing: Outgoing) -> str:
        if not self.url:
            raise ChannelError("SMS_GATEWAY_URL belum diatur", permanent=True)
        text = outgoing.body
        if outgoing.attachment_url:
            text = f"{text} {outgoing.attachment_url}"
        values = {"to": outgoing.recipient, "text": text}
        url = self._fill(self.url, values, lambda v: urllib.parse.quote(v, safe=""))
        data = None
        headers = dict(self.headers)
        if self.method != "GET":
            if "json" in self.content_type:
                escape = lambda v: json.dumps(v, ensure_ascii=False)[1:-1]  # noqa: E731
            else:
                escape = lambda v: urllib.parse.quote_plus(v)  # noqa: E731
            data = self._fill(self.body, values, escape).encode("utf-8")
            headers.setdefault("Content-Type", self.content_type)
        _, body = _http(url, method=self.method, data=data, headers=headers)
        return body[:200].decode("utf-8", "replace").strip()


class SmtpEmailBackend(Backend):
    """Email through Django's mail (EMAIL_BACKEND, SMTP in production), with the attachment."""

    channel = Channel.EMAIL

    def send(self, outgoing: Outgoing) -> str:
        body = outgoing.body
        if outgoing.attachment_url and not outgoing.attachment_path:
            body = f"{body}\n\n{outgoing.attachment_url}"
        email = EmailMessage(
            subject=outgoing.subject or "Disdukcapil",
            body=body,
            to=[outgoing.recipient],
            headers={"Message-ID": f"<{outgoing.message_id or uuid.uuid4()}@ektp>"},
        )
        path = attachment_file(outgoing.attachment_path)
        if path is not None:
            try:
                email.attach(outgoing.attachment_name or path.name, path.read_bytes())
            except OSError as exc:
                raise ChannelError(f"lampiran tidak terbaca: {path.name}", permanent=True) from exc
        try:
            get_connection(fail_silently=False).send_messages([email])
        except smtplib.SMTPRecipientsRefused as exc:
            raise ChannelError(f"alamat ditolak: {exc}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"SMTP: {exc}") from exc
        return email.extra_headers["Message-ID"]


REAL_BACKENDS = {
    Channel.WHATSAPP: {"cloud": WhatsAppCloudBackend},
    Channel.SMS: {"http": HttpSmsBackend},
    Channel.EMAIL: {"smtp": SmtpEmailBackend},
}


def get_backend(channel: str) -> Backend:
    """Return the backend that settings choose for a channel (the local outbox by default)."""
    chosen = {**DEFAULT_BACKENDS, **settings.NOTIFICATION_BACKENDS}
    name = chosen.get(channel, "local")
    factory = REAL_BACKENDS.get(channel, {}).get(name)
    return factory() if factory else LocalOutboxBackend(channel)

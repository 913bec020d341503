"""Writes of the public site: one-time access codes for a resident's booking or suket.

A code is six digits sent to the phone on record (through whatever listens to
signals.access_code_requested: the notification channels). Only a keyed hash is kept; a
code is used once, lives PORTAL_ACCESS_CODE_MINUTES and allows PORTAL_ACCESS_CODE_ATTEMPTS
wrong tries. Each code belongs to the browser or client that asked for it (its id is not
shown to anyone else), so wrong tries by someone else spend *their* codes, never the
resident's. New codes for one document come after a short wait that doubles with each code
of the last hour (PORTAL_ACCESS_CODE_RESEND_SECONDS, capped at
PORTAL_ACCESS_CODE_RESEND_CAP_SECONDS): guessing stays slow, and nobody can lock the resident
out for longer than that cap.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import secrets
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from ektp.core.errors import DomainError
from ektp.portal.models import AccessCode, DocumentKind
from ektp.portal.signals import access_code_requested
from ektp.residents.models import Resident

CODE_SALT = "ektp.portal.access-code"
CODE_DIGITS = 6
CODE_PATTERN = re.compile(r"\A[0-9]{6}\Z")  # ASCII digits: \d takes any script's digits
RESEND_WINDOW = dt.timedelta(hours=1)


class AccessError(DomainError, ValueError):
    """A one-time code cannot be sent or is not accepted; the message says why."""

    rule = "access"
    status = 403


class NoPhoneOnRecord(AccessError):
    rule = "no_phone"
    status = 422


class ResendTooSoon(AccessError):
    rule = "resend_wait"
    status = 429

    def __init__(self, seconds: int):
        super().__init__(
            f"Kode baru untuk dokumen ini dapat diminta lagi dalam {seconds} detik. "
            "Kode yang sudah terkirim tetap berlaku.",
        )
        self.seconds = seconds


class CodeRefused(AccessError):
    rule = "code_refused"


def code_minutes() -> int:
    return int(settings.PORTAL_ACCESS_CODE_MINUTES)


def max_attempts() -> int:
    return int(settings.PORTAL_ACCESS_CODE_ATTEMPTS)


def _hash(access_id: uuid.UUID, code: str) -> str:
    return salted_hmac(CODE_SALT, f"{access_id}:{code}", algorithm="sha256").hexdigest()


def resend_wait(*, kind: str, document_id, now: dt.datetime) -> int:
    """Return the seconds before a new code may be sent for a document (0: now)."""
    recent = list(
        AccessCode.objects.filter(
            kind=kind, document_id=document_id, created_at__gt=now - RESEND_WINDOW
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:32]
    )
    if not recent:
        return 0
    base = float(settings.PORTAL_ACCESS_CODE_RESEND_SECONDS)
    cap = float(settings.PORTAL_ACCESS_CODE_RESEND_CAP_SECONDS)
    wait = min(base * 2 ** (len(recent) - 1), cap)
    left = (recent[0] + dt.timedelta(seconds=wait) - now).total_seconds()
    return max(0, math.ceil(left))


def request_access_code(
    *, resident: Resident, kind: str, document_id, what: str, now: dt.datetime | None = None
) -> AccessCode:
    """Make a one-time code for a resident's document and have it sent to the phone on record.

    The code is handed to the listeners of access_code_requested (the notification outbox)
    and kept nowhere else here; raise NoPhoneOnRecord or ResendTooSoon when no code can be sent now."""
    if kind not in DocumentKind.values:
        raise AccessError("Jenis dokumen tidak dikenal.", rule="kind")
    if not (resident.phone or "").strip():
        raise NoPhoneOnRecord(
            "Nomor telepon/WhatsApp Anda belum terdaftar, jadi kode tidak dapat dikirim. "
            "Silakan datang ke kantor Disdukcapil dengan membawa KTP-el atau Kartu Keluarga."
        )
    now = now or timezone.now()
    with transaction.atomic():
        # One request at a time per resident: two at once would both see no recent code.
        Resident.objects.select_for_update().filter(pk=resident.pk).values_list("pk").first()
        wait = resend_wait(kind=kind, document_id=document_id, now=now)
        if wait:
            raise ResendTooSoon(wait)
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        access = AccessCode(
            id=uuid.uuid4(),
            resident=resident,
            kind=kind,
            document_id=document_id,
            created_at=now,
            expires_at=now + dt.timedelta(minutes=code_minutes()),
        )
        access.code_hash = _hash(access.id, code)
        access.save(force_insert=True)
        # In the same transaction: the outbox row that carries the code is written with the
        # code's own row or not at all; the channels send it after commit.
        access_code_requested.send(
            sender=AccessCode,
            resident=resident,
            code=code,
            access_code_id=str(access.id),
            what=what,
            minutes=code_minutes(),
        )
    return access


def redeem_access_code(
    *, access_code_id, kind: str, document_id, code: str, now: dt.datetime | None = None
) -> AccessCode:
    """Accept a typed code once for the document it was sent for, or raise CodeRefused.

    A wrong code counts one try against that code only; after PORTAL_ACCESS_CODE_ATTEMPTS
    wrong tries, or once used or expired, the code is refused and a new one must be asked."""
    typed = re.sub(r"\s", "", code or "")[:20]
    if not CODE_PATTERN.match(typed):
        raise CodeRefused("Kode terdiri dari 6 angka.", rule="code_format")
    try:
        key = uuid.UUID(str(access_code_id))
    except (TypeError, ValueError):
        key = None
    now = now or timezone.now()
    expired = CodeRefused(
        "Kode ini tidak berlaku lagi (sudah dipakai, kedaluwarsa, atau terlalu sering salah). "
        "Minta kode baru.",
        rule="code_expired",
    )
    if key is None:
        raise expired
    with transaction.atomic():
        access = (
            AccessCode.objects.select_for_update()
            .filter(pk=key, kind=kind, document_id=document_id)
            .first()
        )
        if (
            access is None
            or access.used_at is not None
            or access.expires_at <= now
            or access.failures >= max_attempts()
        ):
            raise expired
        if constant_time_compare(access.code_hash, _hash(access.id, typed)):
            access.used_at = now
            access.save(update_fields=["used_at"])
            return access
        access.failures += 1
        access.save(update_fields=["failures"])
        left = max_attempts() - access.failures
    if left <= 0:
        raise expired
    raise CodeRefused(f"Kode salah. Sisa percobaan untuk kode ini: {left}.", rule="code_wrong")

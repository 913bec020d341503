"""Writes for the core app: audit events, API tokens, staff accounts."""

from __future__ import annotations

import ipaddress
import secrets
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from ektp.core.errors import DomainError
from ektp.core.models import ApiToken, AuditChainHead, AuditEvent, Role, User
from ektp.core.net import client_ip
from ektp.regions.models import Region


class InvalidStaffAssignment(DomainError, ValueError):
    """A staff user's role does not fit the region given."""

    rule = "staff_assignment"


def record_audit(
    *,
    user: User | None,
    action: str,
    object_type: str = "",
    object_id: str = "",
    request: HttpRequest | None = None,
    channel: str = "web",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event to the hash chain; never stores biometric data or secrets.

    The chain's head row is locked until the surrounding transaction ends: audit writers
    queue there (one short UPDATE each), which is what keeps the chain from forking."""
    ip = client_ip(request)
    event = AuditEvent(
        user=user if (user is not None and user.is_authenticated) else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:64],
        ip_address=normalized_ip(ip),
        user_agent=(request.META.get("HTTP_USER_AGENT", "")[:300] if request else ""),
        channel=channel,
        detail=detail or {},
    )
    with transaction.atomic():
        head = chain_head_for_update()
        event.seq = head.seq + 1
        event.prev_hash = head.hash
        event.at = timezone.now()
        event.hash = event.chain_hash()
        event.save(force_insert=True)
        AuditChainHead.objects.filter(pk=1).update(seq=event.seq, hash=event.hash)
    return event


def chain_head_for_update() -> AuditChainHead:
    """Lock the chain's head row; make it again from the last event when it is missing (an
    emptied database)."""
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        last = AuditEvent.objects.order_by("-seq").first()
        AuditChainHead.objects.bulk_create(
            [AuditChainHead(pk=1, seq=last.seq, hash=last.hash) if last else AuditChainHead(pk=1)],
            ignore_conflicts=True,
        )
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


def normalized_ip(value: str | None) -> str | None:
    """An address as the database gives it back (so that its hash still matches)."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


class TokenNotFound(DomainError, LookupError):
    """No token of this user has that id."""

    rule = "token_not_found"
    status = 404


def issue_api_token(*, user: User, name: str) -> str:
    """Create an API token for a user and return the key (shown once); it expires after
    EKTP_API_TOKEN_DAYS and dies when the user's password changes."""
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user,
        name=name[:100],
        key_hash=ApiToken.hash_key(key),
        expires_at=timezone.now() + timedelta(days=settings.EKTP_API_TOKEN_DAYS),
        password_fingerprint=ApiToken.fingerprint(user),
    )
    return key


@transaction.atomic
def revoke_api_token(*, user: User, token_id: uuid.UUID) -> ApiToken:
    """Revoke one of the user's own tokens (revoking twice changes nothing)."""
    token = ApiToken.objects.select_for_update().filter(user=user, pk=token_id).first()
    if token is None:
        raise TokenNotFound("Token tidak ditemukan.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


@transaction.atomic
def create_staff_user(
    *, username: str, password: str, role: str, region: Region | None, **extra: Any
) -> User:
    """Create a staff account whose region matches its role."""
    if role in {Role.GATE_OFFICER, Role.OPERATOR, Role.SUPERVISOR}:
        if region is None or region.level != Region.Level.KABKOTA:
            raise InvalidStaffAssignment("Petugas kantor harus terikat pada kabupaten/kota.")
    elif role == Role.PROVINCE_ADMIN and (region is None or region.level != Region.Level.PROVINSI):
        raise InvalidStaffAssignment("Admin provinsi harus terikat pada provinsi.")
    user = User(username=username, role=role, region=region, **extra)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user

"""Writes for the core app: audit events, API tokens, staff accounts."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from ektp.core.models import ApiToken, AuditEvent, Role, User
from ektp.core.net import client_ip
from ektp.regions.models import Region


class InvalidStaffAssignment(ValueError):
    """A staff user's role does not fit the region given."""


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
    """Append one audit event; never stores biometric data or secrets."""
    return AuditEvent.objects.create(
        user=user if (user is not None and user.is_authenticated) else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:64],
        ip_address=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "")[:300] if request else ""),
        channel=channel,
        detail=detail or {},
    )


class TokenNotFound(LookupError):
    """No token of this user has that id."""


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

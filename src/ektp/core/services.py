"""Writes for the core app: audit events, API tokens, staff accounts."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.http import HttpRequest

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


def issue_api_token(*, user: User, name: str) -> str:
    """Create an API token for a user and return the key (shown once)."""
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name[:100], key_hash=ApiToken.hash_key(key))
    return key


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

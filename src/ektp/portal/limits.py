"""Rate limits of the public inquiry: per client address and per NIK, against enumeration."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit import ALL
from django_ratelimit.core import is_ratelimited


def per_ip_rate() -> str:
    return getattr(settings, "PORTAL_RATE_PER_IP", "30/10m")


def per_nik_rate() -> str:
    return getattr(settings, "PORTAL_RATE_PER_NIK", "5/h")


def client_over_limit(request: HttpRequest) -> bool:
    """Count one inquiry from the client's address and tell whether it is over the rate."""
    return is_ratelimited(
        request, group="portal-ip", key="ip", rate=per_ip_rate(), method=ALL, increment=True
    )


def nik_over_limit(request: HttpRequest, nik: str) -> bool:
    """Count one inquiry about a NIK (known or not) and tell whether it is over the rate."""
    return is_ratelimited(
        request,
        group="portal-nik",
        key=lambda group, req: nik,
        rate=per_nik_rate(),
        method=ALL,
        increment=True,
    )

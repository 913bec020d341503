"""Login lockout: the limits (see LockoutHandler) and the answer to a locked-out login,
JSON for the API, a page for people."""

from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from ektp.core.net import client_ip

LOCKED_MESSAGE = (
    "Terlalu banyak percobaan masuk yang gagal; akun terkunci sementara. "
    "Silakan coba lagi setelah 15 menit, atau hubungi admin sistem."
)


def lockout_response(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    """Return 429 with a clear message in the form the client reads."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": LOCKED_MESSAGE}, status=429)
    return render(request, "core/locked_out.html", {"message": LOCKED_MESSAGE}, status=429)


class LockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler (AXES_HANDLER, its documented extension point) with one
    more limit: failed logins from one address across all user names, against password
    spraying. axes counts every parameter set of AXES_LOCKOUT_PARAMETERS against the one
    AXES_FAILURE_LIMIT; the per-address limit must be higher (an office shares one address),
    so it is counted here over axes' own records (AccessAttempt, one per user name and address)
    within the cool-off time."""

    def is_locked(self, request, credentials=None) -> bool:
        if super().is_locked(request, credentials):
            return True
        return address_failures(request) >= settings.EKTP_LOGIN_FAILURE_LIMIT_PER_ADDRESS

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        """Record the failure as axes does; then lock the address out once it has failed
        too often across user names (axes itself judges only its own parameter sets)."""
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or getattr(request, "axes_locked_out", False):
            return
        if address_failures(request) >= settings.EKTP_LOGIN_FAILURE_LIMIT_PER_ADDRESS:
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes",
                request=request,
                username=get_client_username(request, credentials),
                ip_address=request.axes_ip_address,
            )


def address_failures(request: HttpRequest) -> int:
    """Failed logins from the client's address within the cool-off time, any user name."""
    address = client_ip(request)
    if address is None:
        return 0
    since = timezone.now() - timedelta(hours=settings.AXES_COOLOFF_TIME)
    total = AccessAttempt.objects.filter(ip_address=address, attempt_time__gte=since).aggregate(
        total=Sum("failures_since_start")
    )["total"]
    return total or 0

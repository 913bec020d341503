"""Middleware of the staff pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from ektp.core import otp
from ektp.core.access import RegionNotChosen
from ektp.core.errors import DomainError
from ektp.core.net import is_from_trusted_proxy

FORWARDED_HEADERS = ("HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PORT")


class TrustedProxyMiddleware:
    """Drop the X-Forwarded-Proto/Host/Port headers of a request that did not come through a
    trusted proxy (EKTP_TRUSTED_PROXIES): only those proxies may say the client used https
    (SECURE_PROXY_SSL_HEADER). X-Forwarded-For is judged by ektp.core.net.client_ip."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_from_trusted_proxy(request):
            for header in FORWARDED_HEADERS:
                request.META.pop(header, None)
        return self.get_response(request)


class NoStoreForStaffMiddleware:
    """Tell browsers and proxies not to keep any page shown to a signed-in staff member
    (Cache-Control: no-store), nor the public pages under EKTP_NO_STORE_PUBLIC_PATHS (status,
    booking, verification): those pages show personal data, and a shared computer's back
    button or disk cache must not show them to the next person."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.public_paths = tuple(settings.EKTP_NO_STORE_PUBLIC_PATHS)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(self.public_paths) and not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
            return response
        user = getattr(request, "user", None)
        # A response that already says how to cache it chose so (e.g. plotly.js, boundaries).
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response


class RegionChoiceMiddleware:
    """Answer a RegionNotChosen with a page that lists the kab/kota to choose from."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, RegionNotChosen):
            return None
        links = []
        for code, name in exception.choices:
            query = request.GET.copy()
            query[exception.param] = code
            links.append({"url": f"{request.path}?{query.urlencode()}", "code": code, "name": name})
        return render(
            request, "core/choose_region.html", {"message": exception.message, "links": links}
        )


class DomainErrorMiddleware:
    """Answer a DomainError that a page did not handle with its message, never a 500.

    A refused form post goes back to the page it came from with the message shown there; any
    other request gets a short page with the message and the error's HTTP status. (The API
    answers DomainError itself, in ektp.core.api.) A DomainError with a 5xx status is a fault,
    not a refusal: it is left to Django's 500 handling, which logs it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, DomainError) or exception.status >= 500:
            return None  # a fault of the machinery (an ABIS down) stays a logged 500
        back = request.META.get("HTTP_REFERER", "")
        if (
            request.method == "POST"
            and back
            and url_has_allowed_host_and_scheme(
                back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            )
        ):
            messages.error(request, exception.message)
            return redirect(back)
        return render(
            request,
            "core/error.html",
            {"title": "Permintaan tidak dapat diproses", "message": exception.message},
            status=exception.status,
        )


class SecondFactorMiddleware:
    """Send a signed-in user who must give a TOTP code (see ektp.core.otp) and has not yet
    to the code page, or to enrolment when the user has no device. After django-otp's
    OTPMiddleware. The API is left to its own token check (api.py asks for the code when a
    token is issued)."""

    EXEMPT = ("/static/", "/api/", "/i18n/", "/healthz")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not user.is_verified()
            and not request.path.startswith(self.EXEMPT)
            and request.path
            not in (reverse("core:otp_verify"), reverse("core:otp_enrol"), reverse("core:logout"))
            and otp.second_factor_required(user)
        ):
            target = "core:otp_verify" if otp.has_device(user) else "core:otp_enrol"
            return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


class ChosenLanguageMiddleware:
    """Speak Indonesian unless the user picked English with the language switch (/i18n/).

    Django's LocaleMiddleware also follows the browser's Accept-Language, which turned the staff
    pages English (with Indonesian leftovers) on any browser set to English. Only the language
    cookie that set_language writes counts here; anything else gets LANGUAGE_CODE.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = chosen_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Cookie",))
        return response


def chosen_language(request: HttpRequest) -> str:
    """Return the language the user chose with the switch, or the default (Indonesian)."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen:
        try:
            return translation.get_supported_language_variant(chosen)
        except LookupError:
            pass
    return settings.LANGUAGE_CODE

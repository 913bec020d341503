"""Login, the home page of each role, and friendly error pages."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404
from django.views.decorators.http import require_GET

from ektp.core import selectors
from ektp.core.forms import LoginForm


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Show the role's own starting page."""
    context = selectors.home_context(request.user)
    return render(request, "core/home.html", context)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer a load balancer's probe: 200 when every check passes, else 503 naming the failing."""
    from ektp.core import health

    healthy, body = health.report()
    response = JsonResponse(body, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    return response


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    """Say what was not found when a view said it (its Http404 message), else that the
    address does not exist."""
    message = "Alamat yang Anda buka tidak ada. Periksa kembali atau kembali ke beranda."
    said = getattr(exception, "args", None)
    if not isinstance(exception, Resolver404) and said and isinstance(said[0], str):
        message = said[0]
    return render(
        request,
        "core/error.html",
        {"title": "Halaman tidak ditemukan", "message": message},
        status=404,
    )


def server_error(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/error.html",
        {
            "title": "Terjadi gangguan",
            "message": "Permintaan Anda belum dapat diproses. Data Anda tidak berubah; silakan coba lagi.",
        },
        status=500,
    )


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    return render(
        request,
        "core/error.html",
        {
            "title": "Akses ditolak",
            "message": str(exception)
            if exception and str(exception)
            else "Anda tidak berwenang membuka halaman ini.",
        },
        status=403,
    )

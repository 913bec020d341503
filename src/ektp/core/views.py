"""Login, the home page of each role, and friendly error pages."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django_otp import login as otp_login

from ektp.core import jobs, otp, selectors
from ektp.core.forms import LoginForm
from ektp.core.models import Role


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


class OtpTokenForm(forms.Form):
    token = forms.CharField(
        label=_("Kode 6 angka dari aplikasi autentikator"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


# The session key naming the unconfirmed device whose key the enrolment page showed.
ENROLLING_DEVICE = "otp_enrolling_device"


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("core:home")


@login_required
def otp_enrol(request: HttpRequest) -> HttpResponse:
    """Enrol a TOTP device: a QR code and the secret, then a first code to confirm it."""
    if otp.has_device(request.user) and not request.user.is_verified():
        return redirect(f"{reverse('core:otp_verify')}?next={_next_url(request)}")
    form = OtpTokenForm(request.POST or None)
    device = None
    if request.method == "POST":
        # Only the device whose key this session was shown can be confirmed here.
        device = otp.pending_device(request.user, request.session.get(ENROLLING_DEVICE))
    notice = ""
    if device is None:
        device = otp.new_pending_device(request.user)
        request.session[ENROLLING_DEVICE] = device.pk
        if request.method == "POST":
            form = OtpTokenForm()
            notice = _("Kunci autentikator sudah diganti. Pindai kode QR yang baru.")
    elif form.is_valid():
        if otp.confirm_device(device, form.cleaned_data["token"]):
            request.session.pop(ENROLLING_DEVICE, None)
            otp_login(request, device)
            return redirect(_next_url(request))
        form.add_error("token", _("Kode salah atau kedaluwarsa. Coba kode yang sedang tampil."))
    context = {
        "form": form,
        "qr": mark_safe(otp.qr_svg(device)),  # SVG made by qrcode from our own otpauth URL
        "secret": otp.secret_of(device),
        "next": _next_url(request),
        "required": request.user.role in settings.EKTP_OTP_REQUIRED_ROLES,
        "notice": notice,
    }
    return render(request, "core/otp_enrol.html", context)


@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    """Ask for the TOTP code after the password."""
    if not otp.has_device(request.user):
        return redirect(f"{reverse('core:otp_enrol')}?next={_next_url(request)}")
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = otp.verified_device(request.user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            return redirect(_next_url(request))
        form.add_error("token", _("Kode salah atau kedaluwarsa. Coba kode yang sedang tampil."))
    return render(request, "core/otp_verify.html", {"form": form, "next": _next_url(request)})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Show the role's own starting page."""
    context = selectors.home_context(request.user)
    context["dashboard"] = _head_dashboard(request.user)
    return render(request, "core/home.html", context)


def _head_dashboard(user) -> list:
    """The figures of the day for a head of office (supervisor) bound to a district's office."""
    if user.role != Role.SUPERVISOR or not user.region_id:
        return []
    from ektp.offices.dashboard import head_dashboard
    from ektp.offices.selectors import office_for

    office = office_for(user, user.region_id[:5])
    return head_dashboard(user=user, office=office) if office is not None else []


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


@login_required
@require_GET
def job(request: HttpRequest, job_id) -> JsonResponse:
    """Tell how far a background job the user started has got (polled by its progress bar)."""
    found = jobs.job_for(user=request.user, job_id=job_id)
    if found is None:
        return JsonResponse({"error": "Tugas tidak ditemukan."}, status=404)
    return JsonResponse(jobs.as_json(found))


DATA_NOTICES = (
    (
        _("Kode dan nama wilayah"),
        _(
            "Kode wilayah administrasi pemerintahan menurut Keputusan Menteri Dalam Negeri "
            "(Kepmendagri) Nomor 300.2.2-2138 Tahun 2025, dihimpun oleh Cahya DSN."
        ),
        "regions/data/LICENSE-wilayah",
    ),
    (
        _("Batas wilayah pada peta"),
        _(
            "Batas kabupaten/kota, kecamatan di Lampung dan desa di Pesawaran, dihimpun oleh "
            "Cahya DSN (cahyadsn/wilayah_boundaries)."
        ),
        "coverage/data/LICENSE-boundaries",
    ),
)


@require_GET
def about(request: HttpRequest) -> HttpResponse:
    """Tell what ektp is: its version, its licence, the data it ships and the libraries it uses."""
    package = Path(__file__).resolve().parent.parent
    notices = [
        (title, text, (package / path).read_text(encoding="utf-8"))
        for title, text, path in DATA_NOTICES
    ]
    context = {
        "version": selectors.ektp_version(),
        "notices": notices,
        "credits": selectors.library_credits(),
    }
    return render(request, "core/about.html", context)

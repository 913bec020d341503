"""Public pages: where a resident's KTP-el stands, and the download of a valid suket."""

from __future__ import annotations

import functools
import uuid

from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import engines
from django.utils import timezone, translation
from django.utils.http import http_date
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ektp.core.jinja import catalog
from ektp.portal import limits, selectors
from ektp.portal.forms import InquiryForm
from ektp.residents.models import Resident

DOWNLOAD_SALT = "ektp.portal.suket-download"
DOWNLOAD_MAX_AGE = 30 * 60


def too_many(request: HttpRequest) -> HttpResponse:
    """Answer a client or NIK over its rate with a plain "try again later" page."""
    response = render(request, "portal/too_many.html", status=429)
    response["Retry-After"] = "600"
    return response


def download_token(*, resident: Resident, suket_id: str) -> str:
    return signing.dumps({"r": str(resident.id), "s": suket_id}, salt=DOWNLOAD_SALT)


# What Django's never_cache writes on a response that says nothing of caching.
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


def never_cached(view):
    """Django's never_cache for the busiest page: the same two headers, written outright
    instead of parsed and merged into what the response says already (nothing)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.headers["Expires"] = http_date()
        response.headers["Cache-Control"] = NEVER_CACHE
        return response

    return wrapper


@never_cached
@require_http_methods(["GET", "POST"])
def status(request: HttpRequest) -> HttpResponse:
    """Ask for NIK and birth date, then say where the KTP-el stands; never reveal a NIK exists."""
    if request.method == "GET":
        return render(request, "portal/status.html", {"form": InquiryForm()})
    today = timezone.localdate()
    inquiry = InquiryForm.parse(request.POST, today=today)
    if inquiry is None:
        if limits.inquiry_over_limit(request):
            return too_many(request)
        form = InquiryForm(request.POST)
        return render(request, "portal/status.html", {"form": form}, status=400)
    nik, birth_date = inquiry
    # Counting the tries and reading the answer: one round trip where both are in PostgreSQL.
    read = selectors.resident_read(nik=nik, birth_date=birth_date, today=today)
    over, row = limits.inquiry_over_limit_then_read(request, nik, read)
    if over:
        return too_many(request)
    resident = selectors.resident_from_row(row)
    if resident is None:
        return render(
            request,
            "portal/status.html",
            {"form": InquiryForm(), "not_found": selectors.GENERIC_NOT_FOUND},
        )
    answer = selectors.status_of(resident, today=today)
    for suket in answer.sukets:
        suket["token"] = download_token(resident=resident, suket_id=suket["id"])
    return answer_page(request, answer)


STEPS = (
    gettext_noop("Perekaman"),
    gettext_noop("Penunggalan selesai, siap cetak"),
    gettext_noop("Dicetak"),
    gettext_noop("Diserahkan"),
)


def answer_page(request: HttpRequest, answer: selectors.StatusAnswer) -> HttpResponse:
    """Render the answer with only what its template reads (no form, no CSRF token).

    The busiest page of the public site: a compiled Jinja2 template (see ektp.core.jinja)
    with no context processors (the answer reads no user, messages or request), its texts
    and steps translated once per language, and a link to its own path instead of a
    reversed URL.
    """
    texts = catalog(translation.get_language())
    steps = [(texts[label], number <= answer.steps_done) for number, label in enumerate(STEPS, 1)]
    context = {"answer": answer, "steps": steps, "status_url": request.path, "_": texts.__getitem__}
    return HttpResponse(engines["jinja2"].get_template("portal/status.html").render(context))


@never_cache
def suket_download(request: HttpRequest, token: str) -> HttpResponse:
    """Send the signed PDF of a valid suket from the link on the status page."""
    try:
        data = signing.loads(token, salt=DOWNLOAD_SALT, max_age=DOWNLOAD_MAX_AGE)
        resident_id, suket_id = uuid.UUID(data["r"]), uuid.UUID(data["s"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise Http404("Tautan unduh suket tidak sah atau sudah kedaluwarsa.") from exc
    resident = Resident.objects.filter(id=resident_id).first()
    if resident is None:
        raise Http404("Tautan unduh suket tidak sah atau sudah kedaluwarsa.")
    suket = next(
        (s for s in selectors.valid_sukets(resident, timezone.localdate()) if s.id == suket_id),
        None,
    )
    if suket is None:
        raise Http404("Suket tidak berlaku lagi.")
    try:
        from ektp.suket.views import pdf_response
    except ImportError as exc:
        raise Http404("Layanan suket belum tersedia.") from exc
    return pdf_response(request, suket)

"""Public pages: where a resident's KTP-el stands, and a one-time code for a document.

The status answer says where a KTP-el stands and where to go. What a resident may do with a
suket or a booking (download it, see it, cancel it) needs a one-time code sent to the phone
on record (see ektp.portal.services): a NIK and a birth date are public.
"""

from __future__ import annotations

import functools

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import engines
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import http_date
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ektp.core.jinja import catalog
from ektp.core.ratelimit import over_limit, per_client, per_nik, too_many_requests
from ektp.portal import grants, selectors, services
from ektp.portal.forms import AccessCodeForm, InquiryForm
from ektp.portal.models import DocumentKind

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
        if over_limit(request, per_client(request)):
            return too_many_requests(request)
        form = InquiryForm(request.POST)
        return render(request, "portal/status.html", {"form": form}, status=400)
    nik, birth_date = inquiry
    if over_limit(request, per_client(request), per_nik(nik)):
        return too_many_requests(request)
    resident = selectors.find_resident(nik=nik, birth_date=birth_date, today=today)
    if resident is None:
        # The NIK typed stays in the box for a second try; the birth date is not echoed back.
        return render(
            request,
            "portal/status.html",
            {"form": InquiryForm(initial={"nik": nik}), "not_found": selectors.GENERIC_NOT_FOUND},
        )
    answer = selectors.status_of(resident, today=today)
    if answer.stage == "ready":
        answer.print_wait = selectors.print_wait(resident)
    for suket in answer.sukets:
        suket["ref"] = grants.document_ref(kind=DocumentKind.SUKET, document_id=suket["id"])
    for booking in answer.bookings:
        booking["ref"] = grants.document_ref(kind=DocumentKind.BOOKING, document_id=booking["id"])
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


def _access_page(request, document, ref, *, form=None, sent=False, error="", status=200):
    context = {
        "document": document,
        "ref": ref,
        "phone": selectors.mask_phone(document.resident.phone),
        "has_phone": bool((document.resident.phone or "").strip()),
        "sent": sent or grants.code_of_session(request, ref) is not None,
        "form": form or AccessCodeForm(),
        "error": error,
        "minutes": services.code_minutes(),
    }
    return render(request, "portal/access.html", context, status=status)


def _gone(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/gone.html", status=404)


@never_cache
@require_http_methods(["GET", "POST"])
def access(request: HttpRequest, ref: str) -> HttpResponse:
    """Send a one-time code to the phone on record, then take it and open the document."""
    found = grants.read_ref(ref)
    document = selectors.document_of(*found) if found else None
    if document is None:
        return _gone(request)
    if grants.session_granted(request, kind=document.kind, document_id=document.id):
        return redirect("portal:document", ref=ref)
    if request.method == "GET":
        return _access_page(request, document, ref)
    if over_limit(request, per_client(request)):
        return too_many_requests(request)
    if request.POST.get("action") == "send":
        try:
            sent = services.request_access_code(
                resident=document.resident,
                kind=document.kind,
                document_id=document.id,
                what=document.what,
            )
        except services.AccessError as exc:
            return _access_page(request, document, ref, error=exc.message, status=exc.status)
        grants.remember_code(request, ref, sent.id)
        return _access_page(request, document, ref, sent=True)
    form = AccessCodeForm(request.POST)
    if not form.is_valid():
        return _access_page(request, document, ref, form=form, status=400)
    try:
        services.redeem_access_code(
            access_code_id=grants.code_of_session(request, ref),
            kind=document.kind,
            document_id=document.id,
            code=form.cleaned_data["code"],
        )
    except services.AccessError as exc:
        return _access_page(request, document, ref, form=form, error=exc.message, status=400)
    request.session.cycle_key()
    grants.grant_session(request, kind=document.kind, document_id=document.id)
    return redirect("portal:document", ref=ref)


@never_cache
def document(request: HttpRequest, ref: str) -> HttpResponse:
    """Open a document this session holds a grant for: the suket's PDF, or the booking."""
    found = grants.read_ref(ref)
    document = selectors.document_of(*found) if found else None
    if document is None:
        return _gone(request)
    if not grants.session_granted(request, kind=document.kind, document_id=document.id):
        return redirect("portal:access", ref=ref)
    if document.kind == DocumentKind.BOOKING:
        return redirect(reverse("booking:detail", args=[document.record.code]))
    try:
        from ektp.suket.documents import public_pdf_response
    except ImportError:
        return _gone(request)
    return public_pdf_response(request, document.record, by="one-time code")

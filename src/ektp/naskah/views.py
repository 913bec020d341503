"""Staff pages that hand out the office's documents: letter, receipt, rekap harian."""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from ektp.cards.models import BlankRequest, CardPrint
from ektp.cards.selectors import requests_of
from ektp.core.access import role_required
from ektp.core.models import Role
from ektp.naskah import daily, documents, services
from ektp.naskah.forms import DayForm
from ektp.naskah.models import Letter
from ektp.naskah.selectors import letter_for, letterhead_of
from ektp.offices.access import office_of_page

PRINTERS = (Role.OPERATOR, Role.SUPERVISOR)
HEADS = (Role.SUPERVISOR, Role.PROVINCE_ADMIN)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _file(body: bytes, *, content_type: str, name: str, inline: bool = True) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    return response


def _slug(number: str) -> str:
    return number.replace("/", "-").replace(" ", "")


def _numbered(request: HttpRequest, *, kind: str, subject_id, number, what: str):
    """Return (the document's letter, None), or (None, the answer) while it has no number:
    a POST numbers it (number()) and comes back here; opening the page only offers the button,
    so a crawler, a prefetch or a refresh never takes a number."""
    letter = letter_for(kind=kind, subject_id=subject_id)
    if letter is not None:
        return letter, None
    if request.method == "POST":
        number()
        return None, redirect(request.get_full_path(), permanent=False)
    return None, render(request, "naskah/to_be_numbered.html", {"what": what}, status=409)


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(*HEADS)
def request_letter(request: HttpRequest, request_id) -> HttpResponse:
    """The blank request letter as a PDF. It is numbered when the request is submitted; a
    submitted one without its number gets it by POST here, never by opening the page."""
    office = office_of_page(request)
    blank_request = requests_of(office).filter(pk=request_id).first()
    if blank_request is None:
        raise Http404("Permohonan blangko tidak ditemukan.")
    letter = None
    if blank_request.status != BlankRequest.Status.DRAFT:
        letter, answer = _numbered(
            request,
            kind=Letter.Kind.BLANK_REQUEST,
            subject_id=blank_request.pk,
            number=lambda: services.number_request_letter(
                blank_request=blank_request, actor=request.user
            ),
            what=documents.REQUEST_PERIHAL,
        )
        if answer is not None:
            return answer
    body = documents.request_letter_pdf(blank_request, letter, sign=letter is not None)
    name = f"permohonan-blangko-{_slug(letter.number) if letter else 'draf'}.pdf"
    return _file(body, content_type="application/pdf", name=name)


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(*PRINTERS)
def receipt(request: HttpRequest, card_id) -> HttpResponse:
    """The tanda terima of a handed-over card, numbered at the hand-over (or by POST here)."""
    office = office_of_page(request)
    card = (
        CardPrint.objects.filter(pk=card_id, service_point__office=office)
        .select_related("resident", "blank", "service_point__office", "handed_over_by")
        .first()
    )
    if card is None:
        raise Http404("Cetakan kartu tidak ditemukan di kantor ini.")
    if card.handed_over_at is None:
        raise Http404("Kartu ini belum diserahkan; tanda terima dibuat saat penyerahan.")
    letter, answer = _numbered(
        request,
        kind=Letter.Kind.HANDOVER_RECEIPT,
        subject_id=card.pk,
        number=lambda: services.number_receipt(card=card, actor=request.user),
        what=documents.RECEIPT_PERIHAL,
    )
    if answer is not None:
        return answer
    body = documents.handover_receipt_pdf(card, letter, sign=True)
    return _file(
        body, content_type="application/pdf", name=f"tanda-terima-{_slug(letter.number)}.pdf"
    )


@role_required(*HEADS)
def daily_report(request: HttpRequest) -> HttpResponse:
    """The rekap harian of a day: the page, or its PDF (?format=pdf) or XLSX (?format=xlsx)."""
    office = office_of_page(request)
    form = DayForm(request.GET)
    day = timezone.localdate()
    status = 200
    if form.is_valid():
        day = form.cleaned_data["tanggal"] or day
    else:
        status = 422
    report = daily.daily_report(office, day)
    wanted = request.GET.get("format", "") if status == 200 else ""
    name = f"rekap-harian-{office.region_id.replace('.', '')}-{day:%Y-%m-%d}"
    if wanted == "pdf":
        body = documents.daily_report_pdf(report, printed_by=request.user)
        return _file(body, content_type="application/pdf", name=f"{name}.pdf")
    if wanted == "xlsx":
        return _file(
            daily.daily_workbook(report), content_type=XLSX, name=f"{name}.xlsx", inline=False
        )
    return render(
        request,
        "naskah/daily.html",
        {
            "office": office,
            "form": form,
            "report": report,
            "columns": list(daily.COLUMNS.values()),
            "rows": [
                (row.place, [getattr(row, n) for n in daily.FIGURES])
                for row in [*report.rows, report.total]
            ],
            "letterhead_missing": not letterhead_of(office).pk,
            "today": day == timezone.localdate(),
            "previous": day - dt.timedelta(days=1),
        },
        status=status,
    )

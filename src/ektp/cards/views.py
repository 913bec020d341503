"""Staff pages: print queue, printing and hand-over, stock and ledger, days of cover."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ektp.cards import forecast, rationing, selectors, services
from ektp.cards.forms import (
    CountForm,
    HandOverForm,
    MisprintForm,
    PrintForm,
    ReceiptForm,
    ReconcileForm,
    ReprintRequestForm,
    SpoilForm,
    TransferForm,
)
from ektp.cards.models import BlankRequest, CardPrint, LedgerEntry, ReprintRequest
from ektp.cards.printers import default_printer
from ektp.core.access import role_required
from ektp.core.models import Role
from ektp.core.refusals import refused_as_message
from ektp.naskah.selectors import handed_over_today
from ektp.offices.access import office_of_page
from ektp.offices.models import Office
from ektp.offices.selectors import offices_for
from ektp.residents.selectors import get_resident_by_nik

PRINTERS = (Role.OPERATOR, Role.SUPERVISOR)
STOCK_READERS = (Role.OPERATOR, Role.SUPERVISOR, Role.PROVINCE_ADMIN)


def _back(name: str, office: Office, **query) -> HttpResponse:
    params = "&".join(f"{k}={v}" for k, v in {"kab": office.region_id, **query}.items() if v)
    return redirect(f"{reverse(name)}?{params}")


def _first_error(form) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else None
        return f"{label}: {errors[0]}" if label else errors[0]
    return "Data tidak valid."


@role_required(*PRINTERS)
def queue(request: HttpRequest) -> HttpResponse:
    """Show the print queue of an office or one of its points in print order, a page at a
    time, searchable by NIK or name, with each entry's place and decision under the ration."""
    office = office_of_page(request)
    point = (
        selectors.point_of(office, request.GET.get("titik")) if request.GET.get("titik") else None
    )
    search = " ".join(request.GET.get("q", "").split())[:100]
    queue = selectors.print_queue(office, point, search=search, page=request.GET.get("hal"))
    policy = selectors.card_policy(office)
    return render(
        request,
        "cards/queue.html",
        {
            "office": office,
            "point": point,
            "points": office.service_points.filter(is_active=True).order_by("code"),
            "queue": queue,
            "page": queue.page,
            "items": queue.items,
            "shortage": queue.shortage,
            "search": search,
            "order_labels": [
                rationing.CATEGORY_LABELS[c] for c in rationing.priority_order(policy)
            ],
            "awaiting": selectors.awaiting_hand_over(office, point)[:100],
            "relations": HandOverForm().fields["relation"].choices,
            "reprint_form": ReprintRequestForm(),
            "open_prints": selectors.open_prints(office, point),
            "handed_today": handed_over_today(office, point),
        },
    )


@require_POST
@role_required(*PRINTERS)
def print_view(request: HttpRequest) -> HttpResponse:
    """Print one card from the queue."""
    office = office_of_page(request)
    form = PrintForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return _back("cards:queue", office)
    point = selectors.point_of(office, form.cleaned_data["point"])
    if point is None:
        messages.error(request, "Titik layanan tidak ditemukan di kantor ini.")
        return _back("cards:queue", office)
    if form.cleaned_data["request"]:
        target = ReprintRequest.objects.filter(
            pk=form.cleaned_data["request"], office=office
        ).first()
    else:
        target = get_resident_by_nik(user=request.user, nik=form.cleaned_data["nik"])
    if target is None:
        messages.error(request, "Penduduk atau permohonan tidak ditemukan di wilayah kerja Anda.")
        return _back("cards:queue", office, titik=point.pk)
    with refused_as_message(request):
        card = services.print_card(
            request_or_resident=target,
            service_point=point,
            printer=default_printer(),
            operator=request.user,
            serial=form.cleaned_data["serial"] or None,
        )
        messages.success(
            request, f"Kartu {card.resident.name} dicetak pada blangko {card.blank.serial}."
        )
    return _back("cards:queue", office, titik=point.pk)


def _card(request: HttpRequest, office: Office, card_id) -> CardPrint:
    try:
        card = CardPrint.objects.filter(pk=card_id, service_point__office=office).first()
    except (ValueError, TypeError):
        card = None
    if card is None:
        raise Http404("Cetakan kartu tidak ditemukan.")
    return card


@require_POST
@role_required(*PRINTERS)
def hand_over_view(request: HttpRequest, card_id) -> HttpResponse:
    """Record the hand-over of a printed card."""
    office = office_of_page(request)
    card = _card(request, office, card_id)
    form = HandOverForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return _back("cards:queue", office)
    with refused_as_message(request):
        services.hand_over(
            card_print=card,
            received_by_name=form.cleaned_data["received_by_name"],
            relation=form.cleaned_data["relation"],
            operator=request.user,
        )
        messages.success(
            request,
            f"Kartu {card.resident.name} diserahkan; cetak tanda terimanya di daftar "
            "'Diserahkan hari ini'.",
        )
    return _back("cards:queue", office)


@require_POST
@role_required(*PRINTERS)
def misprint_view(request: HttpRequest, card_id) -> HttpResponse:
    """Void a misprinted card and print again on the next blank."""
    office = office_of_page(request)
    card = _card(request, office, card_id)
    form = MisprintForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return _back("cards:queue", office)
    with refused_as_message(request):
        again = services.report_misprint(
            card_print=card,
            reason=form.cleaned_data["reason"],
            printer=default_printer(),
            operator=request.user,
        )
        messages.success(request, f"Blangko dibatalkan; dicetak ulang pada {again.blank.serial}.")
    return _back("cards:queue", office)


@role_required(*PRINTERS)
def reconciliation(request: HttpRequest) -> HttpResponse:
    """Show the blanks on a printer now; those whose printer job stopped wait for the
    operator to say whether the card came out."""
    office = office_of_page(request)
    return render(
        request,
        "cards/reconcile.html",
        {
            "office": office,
            "prints": selectors.open_prints(office),
            "form": ReconcileForm(),
            "history": selectors.reconciled_prints(office)[:50],
            "after_minutes": settings.EKTP_PRINT_RECONCILE_AFTER_MINUTES,
        },
    )


RECONCILED = {
    "printed": "Kartu {name} dicatat tercetak pada blangko {serial}.",
    "spoiled": "Blangko {serial} dicatat rusak; {name} kembali ke antrean cetak.",
    "not_printed": "Blangko {serial} kembali ke stok; {name} kembali ke antrean cetak.",
}


@require_POST
@role_required(*PRINTERS)
def reconcile_view(request: HttpRequest, reservation_id) -> HttpResponse:
    """Settle one print whose job stopped: printed, spoiled or not printed."""
    office = office_of_page(request)
    reservation = selectors.reservation_of(office, reservation_id)
    if reservation is None:
        raise Http404("Cetakan tidak ditemukan di kantor ini.")
    form = ReconcileForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return _back("cards:reconcile", office)
    with refused_as_message(request):
        services.reconcile_print(
            reservation=reservation,
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"],
            actor=request.user,
        )
        messages.success(
            request,
            RECONCILED[form.cleaned_data["outcome"]].format(
                name=reservation.resident.name, serial=reservation.blank.serial
            ),
        )
    return _back("cards:reconcile", office)


@require_POST
@role_required(*PRINTERS)
def reprint_request_view(request: HttpRequest) -> HttpResponse:
    """Put a resident in the queue for a replacement card."""
    office = office_of_page(request)
    form = ReprintRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return _back("cards:queue", office)
    resident = get_resident_by_nik(user=request.user, nik=form.cleaned_data["nik"])
    if resident is None:
        messages.error(request, "Penduduk tidak ditemukan di wilayah kerja Anda.")
        return _back("cards:queue", office)
    with refused_as_message(request):
        services.create_reprint_request(
            resident=resident,
            reason=form.cleaned_data["reason"],
            actor=request.user,
            old_card_usable=form.cleaned_data["old_card_usable"],
        )
        messages.success(request, f"{resident.name} masuk antrean cetak ulang.")
    return _back("cards:queue", office)


def _stock_context(request: HttpRequest, office: Office, **forms) -> dict:
    kind = request.GET.get("jenis", "")
    if kind not in LedgerEntry.Kind.values:
        kind = ""
    page = Paginator(selectors.ledger(office, kind=kind), 50).get_page(request.GET.get("hal"))
    return {
        "office": office,
        "cover": forecast.office_cover(office),
        "rows": selectors.stock_by_location(office),
        "totals": selectors.blank_totals(office),
        "page": page,
        "kind": kind,
        "kinds": LedgerEntry.Kind.choices,
        "pending_loans": selectors.pending_loans(office),
        "receipt_form": forms.get("receipt_form") or ReceiptForm(office=office),
        "transfer_form": forms.get("transfer_form") or TransferForm(office=office),
        "spoil_form": forms.get("spoil_form") or SpoilForm(office=office),
        "count_form": forms.get("count_form") or CountForm(office=office),
        "can_edit": request.user.role in (Role.SUPERVISOR, Role.SYSTEM_ADMIN, Role.OPERATOR),
    }


@role_required(*STOCK_READERS)
def stock(request: HttpRequest) -> HttpResponse:
    """Show the stock per location and the ledger."""
    office = office_of_page(request)
    return render(request, "cards/stock.html", _stock_context(request, office))


def _stock_post(request, office, form_name, form, action) -> HttpResponse:
    if form.is_valid():
        try:
            message = action(form)
        except services.CardsError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, message)
            return _back("cards:stock", office)
    context = _stock_context(request, office, **{form_name: form})
    return render(request, "cards/stock.html", context, status=422)


@require_POST
@role_required(Role.OPERATOR, Role.SUPERVISOR)
def receive_view(request: HttpRequest) -> HttpResponse:
    office = office_of_page(request)
    form = ReceiptForm(request.POST, office=office)

    def act(f):
        req = None
        if f.cleaned_data["request"]:
            req = BlankRequest.objects.get(pk=f.cleaned_data["request"])
        entry = services.receive_blanks(
            office=office,
            serial_first=f.cleaned_data["serial_first"],
            serial_last=f.cleaned_data["serial_last"],
            source=f.cleaned_data["source"],
            reference=f.cleaned_data["reference"],
            actor=request.user,
            request=req,
        )
        return f"{entry.quantity} blangko diterima ({entry.serial_first}–{entry.serial_last})."

    return _stock_post(request, office, "receipt_form", form, act)


@require_POST
@role_required(Role.OPERATOR, Role.SUPERVISOR)
def transfer_view(request: HttpRequest) -> HttpResponse:
    office = office_of_page(request)
    form = TransferForm(request.POST, office=office)

    def act(f):
        entry = services.transfer_blanks(
            office=office,
            from_point=f.point("from_place"),
            to_point=f.point("to_place"),
            quantity=f.cleaned_data["quantity"],
            serials=f.serial_list() or None,
            actor=request.user,
            reason=f.cleaned_data["reason"],
        )
        return f"{entry.quantity} blangko dipindahkan."

    return _stock_post(request, office, "transfer_form", form, act)


@require_POST
@role_required(Role.OPERATOR, Role.SUPERVISOR)
def spoil_view(request: HttpRequest) -> HttpResponse:
    office = office_of_page(request)
    form = SpoilForm(request.POST, office=office)

    def act(f):
        services.spoil_blank(
            office=office,
            serial=f.cleaned_data["serial"],
            cause=f.cleaned_data["cause"],
            reason=f.cleaned_data["reason"],
            actor=request.user,
        )
        return f"Blangko {f.cleaned_data['serial']} dicatat rusak."

    return _stock_post(request, office, "spoil_form", form, act)


@require_POST
@role_required(Role.OPERATOR, Role.SUPERVISOR)
def count_view(request: HttpRequest) -> HttpResponse:
    office = office_of_page(request)
    form = CountForm(request.POST, office=office)

    def act(f):
        entry = services.record_stock_count(
            office=office,
            service_point=f.point("place"),
            counted=f.cleaned_data["counted"],
            actor=request.user,
            note=f.cleaned_data["note"],
        )
        if entry.discrepancy:
            return f"Stok opname tercatat; selisih {entry.discrepancy:+d} dari catatan buku."
        return "Stok opname tercatat; sesuai catatan buku."

    return _stock_post(request, office, "count_form", form, act)


@require_POST
@role_required(Role.SUPERVISOR, Role.PROVINCE_ADMIN)
def receive_loan_view(request: HttpRequest, entry_id) -> HttpResponse:
    office = office_of_page(request)
    loan = selectors.pending_loans(office).filter(pk=entry_id).first()
    if loan is None:
        raise Http404("Pinjaman tidak ditemukan.")
    with refused_as_message(request):
        services.receive_loan(loan_out=loan, actor=request.user)
        messages.success(request, f"{loan.quantity} blangko pinjaman diterima.")
    return _back("cards:stock", office)


@role_required(*STOCK_READERS)
def cover(request: HttpRequest) -> HttpResponse:
    """Show days of cover, the alert and the blank requests."""
    office = office_of_page(request)
    whole, points = forecast.cover_report(office)
    return render(
        request,
        "cards/cover.html",
        {
            "office": office,
            "cover": whole,
            "points": points,
            "shortage": rationing.shortage(office, cover=whole),
            "requests": selectors.requests_of(office)[:20],
            "policy": selectors.card_policy(office),
            "definition": forecast.DEFINITION,
        },
    )


@require_POST
@role_required(Role.OPERATOR, Role.SUPERVISOR)
def draft_request_view(request: HttpRequest) -> HttpResponse:
    office = office_of_page(request)
    with refused_as_message(request):
        draft = services.draft_blank_request(office=office, actor=request.user)
        messages.success(request, f"Draf permohonan {draft.quantity} blangko dibuat.")
    return _back("cards:cover", office)


@require_POST
@role_required(Role.SUPERVISOR)
def submit_request_view(request: HttpRequest, request_id) -> HttpResponse:
    office = office_of_page(request)
    blank_request = selectors.requests_of(office).filter(pk=request_id).first()
    if blank_request is None:
        raise Http404("Permohonan blangko tidak ditemukan.")
    with refused_as_message(request):
        services.submit_blank_request(request=blank_request, actor=request.user)
        messages.success(request, "Permohonan blangko diajukan.")
    return _back("cards:cover", office)


@role_required(Role.SUPERVISOR, Role.PROVINCE_ADMIN)
def request_letter(request: HttpRequest, request_id) -> HttpResponse:
    """Show the request letter with the figures behind the quantity."""
    office = office_of_page(request)
    blank_request = selectors.requests_of(office).filter(pk=request_id).first()
    if blank_request is None:
        raise Http404("Permohonan blangko tidak ditemukan.")
    return render(request, "cards/letter.html", {"office": office, "r": blank_request})


@role_required(Role.PROVINCE_ADMIN)
def province(request: HttpRequest) -> HttpResponse:
    """Show every district's stock, cover and loans in the province."""
    rows = []
    for office in offices_for(request.user).order_by("region_id").select_related("region"):
        rows.append(
            {
                "office": office,
                "cover": forecast.office_cover(office),
                "lent": LedgerEntry.objects.filter(office=office, kind=LedgerEntry.Kind.LOAN_OUT),
                "pending": selectors.pending_loans(office),
            }
        )
    return render(request, "cards/province.html", {"rows": rows})

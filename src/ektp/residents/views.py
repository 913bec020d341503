"""Staff pages: resident search, detail, create and edit."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from ektp.core.access import may_open, role_required
from ektp.core.models import AuditEvent, Role
from ektp.core.services import record_audit
from ektp.residents import selectors, services
from ektp.residents.forms import ResidentForm, SearchForm

ALL_STAFF = (Role.GATE_OFFICER, Role.OPERATOR, Role.SUPERVISOR, Role.PROVINCE_ADMIN)
EDITORS = (Role.OPERATOR, Role.SUPERVISOR)


@role_required(*ALL_STAFF)
def search(request: HttpRequest) -> HttpResponse:
    """Find residents by NIK, KK, name or village."""
    form = SearchForm(request.GET or None)
    page = None
    if form.is_valid() and (form.cleaned_data["q"] or form.cleaned_data["desa"]):
        qs = selectors.search_residents(
            user=request.user, query=form.cleaned_data["q"], village=form.cleaned_data["desa"]
        )
        page = Paginator(qs, 25).get_page(request.GET.get("hal"))
        record_audit(
            user=request.user,
            action=AuditEvent.Action.SEARCH,
            object_type="resident",
            request=request,
            detail={"q": form.cleaned_data["q"], "desa": form.cleaned_data["desa"]},
        )
        if len(page.object_list) == 1 and page.paginator.count == 1:
            return redirect("residents:detail", nik=page.object_list[0].nik)
    template = "residents/_results.html" if request.htmx else "residents/search.html"
    return render(request, template, {"form": form, "page": page})


@role_required(*ALL_STAFF)
def detail(request: HttpRequest, nik: str) -> HttpResponse:
    """Show a resident with the family, the KTP-el history, cards, sukets and bookings, and
    the next steps that fit the resident's state."""
    page = selectors.resident_page(user=request.user, nik=nik)
    if page is None:
        raise Http404("Penduduk tidak ditemukan di wilayah kerja Anda.")
    resident = page.resident
    record_audit(
        user=request.user,
        action=AuditEvent.Action.VIEW,
        object_type="resident",
        object_id=resident.nik,
        request=request,
    )
    return render(
        request,
        "residents/detail.html",
        {
            "r": resident,
            "page": page,
            "actions": selectors.resident_actions(page, role=request.user.role),
            "region_path": page.region_path,
            "may_read_suket": may_open(request.user.role, reverse("suket:list")),
            "wajib_ktp": resident.is_wajib_ktp(),
            "age": resident.age(),
        },
    )


def _render_form(request, form, *, resident=None, status=200):
    return render(request, "residents/form.html", {"form": form, "r": resident}, status=status)


def _apply_errors(form: ResidentForm, exc: services.ResidentInvalid) -> None:
    for field, problems in exc.errors.items():
        for problem in problems:
            form.add_error(None if field not in form.fields else field, problem)


@role_required(*EDITORS)
def create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        initial = {"address_region": request.GET.get("desa", "")}
        return _render_form(request, ResidentForm(initial=initial))
    form = ResidentForm(request.POST)
    if not form.is_valid():
        return _render_form(request, form, status=422)
    try:
        resident, warnings = services.create_resident(
            actor=request.user, data=form.cleaned_data, request=request
        )
    except services.ResidentInvalid as exc:
        _apply_errors(form, exc)
        return _render_form(request, form, status=422)
    for warning in warnings:
        messages.warning(request, warning)
    messages.success(request, f"Penduduk {resident.name} ({resident.nik}) terdaftar.")
    return redirect("residents:detail", nik=resident.nik)


@role_required(*EDITORS)
def edit(request: HttpRequest, nik: str) -> HttpResponse:
    resident = selectors.get_resident_by_nik(user=request.user, nik=nik)
    if resident is None:
        raise Http404("Penduduk tidak ditemukan di wilayah kerja Anda.")
    if request.method != "POST":
        initial = {f: getattr(resident, f) for f in services.EDITABLE_FIELDS}
        initial.update(
            nik=resident.nik,
            address_region=resident.address_region_id,
            kk_number=resident.family.kk_number if resident.family else "",
        )
        return _render_form(request, ResidentForm(initial=initial, editing=True), resident=resident)
    form = ResidentForm(request.POST, editing=True, initial={"nik": resident.nik})
    if not form.is_valid():
        return _render_form(request, form, resident=resident, status=422)
    try:
        resident, warnings = services.update_resident(
            actor=request.user, resident=resident, data=form.cleaned_data, request=request
        )
    except services.ResidentInvalid as exc:
        _apply_errors(form, exc)
        return _render_form(request, form, resident=resident, status=422)
    for warning in warnings:
        messages.warning(request, warning)
    messages.success(request, "Perubahan data tersimpan.")
    return redirect("residents:detail", nik=resident.nik)

"""Staff pages for jemput bola: suggestions, target lists, visit plans and results, closures."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from ektp.core.access import role_required
from ektp.core.models import Role
from ektp.coverage.selectors import parse_as_of
from ektp.coverage.services import CoverageError
from ektp.offices.models import ServicePoint
from ektp.outreach import selectors, services
from ektp.outreach.forms import ClosureForm, ResultForm, VisitForm

VIEWERS = (Role.SUPERVISOR, Role.PROVINCE_ADMIN, Role.OPERATOR)


def _error(request, message: str) -> HttpResponse:
    return render(request, "outreach/error.html", {"message": message}, status=400)


@role_required(*VIEWERS)
def home(request: HttpRequest) -> HttpResponse:
    """Suggest the next villages and list planned visits and closures."""
    today = timezone.localdate()
    try:
        day = parse_as_of(request.GET.get("tanggal"), today=today + dt.timedelta(days=365))
        within = request.GET.get("wilayah") or request.user.jurisdiction_code or ""
        suggested, closed = selectors.suggestions(
            user=request.user, within=within, as_of=today, day=max(day, today)
        )
    except (CoverageError, selectors.OutreachInputError) as exc:
        return _error(request, str(exc))
    visits = selectors.visits_for(request.user).filter(date__gte=today - dt.timedelta(days=30))
    return render(
        request,
        "outreach/home.html",
        {
            "within": within,
            "day": max(day, today),
            "suggested": suggested,
            "closed": closed,
            "visits": visits,
            "closures": selectors.closures_for(request.user)[:50],
        },
    )


@role_required(*VIEWERS)
def target_list(request: HttpRequest, village: str) -> HttpResponse:
    """List the people of a village to reach: unrecorded, first-time voters, door to door."""
    kind = request.GET.get("daftar", "belum_rekam")
    try:
        polling_day = None
        if request.GET.get("pemilu"):
            try:
                polling_day = dt.date.fromisoformat(request.GET["pemilu"][:10])
            except ValueError:
                raise selectors.OutreachInputError(
                    "Hari pemungutan suara harus berformat TTTT-BB-HH."
                ) from None
        as_of = timezone.localdate()
        qs = selectors.target_list(
            user=request.user, village=village, kind=kind, as_of=as_of, polling_day=polling_day
        )
    except (CoverageError, selectors.OutreachInputError) as exc:
        return _error(request, str(exc))
    page = Paginator(qs.order_by("rt", "rw", "name"), 100).get_page(request.GET.get("hal"))
    return render(
        request,
        "outreach/target_list.html",
        {
            "village": village,
            "kind": kind,
            "kinds": selectors.LIST_KINDS,
            "page": page,
            "polling_day": polling_day,
        },
    )


def _mobile_units(user):
    qs = ServicePoint.objects.filter(kind=ServicePoint.Kind.MOBILE, is_active=True)
    code = user.jurisdiction_code
    if code is not None:
        qs = (
            qs.filter(office__region_id__startswith=code[:2])
            if "." not in code
            else qs.filter(office__region_id=code)
        )
    return qs.order_by("name")


@role_required(Role.SUPERVISOR, Role.PROVINCE_ADMIN)
def plan(request: HttpRequest) -> HttpResponse:
    """Plan a visit of a mobile unit to a village."""
    units = _mobile_units(request.user)
    form = VisitForm(
        request.POST or None, units=units, initial={"village": request.GET.get("desa", "")}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            visit = services.plan_visit(
                actor=request.user,
                village_code=data["village"],
                date=data["date"],
                service_point_id=data["service_point"],
                team=data["team"],
                expected_people=data["expected_people"],
                blanks_to_carry=data["blanks_to_carry"],
            )
        except services.OutreachError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Kunjungan ke {visit.village.name} pada {visit.date:%d-%m-%Y} direncanakan.",
            )
            return redirect("outreach:home")
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "outreach/form.html",
        {"form": form, "title": "Rencanakan kunjungan"},
        status=status,
    )


@role_required(Role.OPERATOR, Role.SUPERVISOR)
def result(request: HttpRequest, pk) -> HttpResponse:
    """Record what a visit achieved."""
    visit = selectors.visits_for(request.user).filter(pk=pk).first()
    if visit is None:
        raise Http404("Kunjungan tidak ditemukan di wilayah kerja Anda.")
    form = ResultForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_result(
                actor=request.user,
                visit_id=visit.pk,
                recorded_people=form.cleaned_data["recorded_people"],
                cards_printed=form.cleaned_data["cards_printed"] or 0,
                note=form.cleaned_data["note"],
            )
        except services.OutreachError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Hasil kunjungan tersimpan.")
            return redirect("outreach:home")
    status = 422 if request.method == "POST" else 200
    title = f"Hasil kunjungan {visit.village.name} {visit.date:%d-%m-%Y}"
    return render(request, "outreach/form.html", {"form": form, "title": title}, status=status)


@role_required(Role.SUPERVISOR, Role.PROVINCE_ADMIN)
def close(request: HttpRequest) -> HttpResponse:
    """Close a region to visits for a period."""
    form = ClosureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.close_zone(
                actor=request.user,
                region_code=data["region"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                reason=data["reason"],
            )
        except services.OutreachError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Penutupan wilayah tersimpan.")
            return redirect("outreach:home")
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "outreach/form.html",
        {"form": form, "title": "Tutup wilayah untuk kunjungan"},
        status=status,
    )

"""Staff pages for jemput bola: suggestions, target lists, visit plans and results, closures."""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from ektp.core import tables
from ektp.core.access import RegionNotChosen, role_required
from ektp.core.formats import tanggal
from ektp.core.models import AuditEvent, Role
from ektp.core.services import record_audit
from ektp.coverage import exports
from ektp.coverage.selectors import parse_as_of, policies_for
from ektp.coverage.services import POLICY_ROLES, CoverageError, create_policy, end_policy
from ektp.coverage.zones import thresholds_for
from ektp.offices.calendar import next_service_day
from ektp.offices.models import ServicePoint
from ektp.offices.selectors import office_choices
from ektp.outreach import route, selectors, services
from ektp.outreach.distance import base_for
from ektp.outreach.forms import (
    ClosureForm,
    EndForm,
    PolicyForm,
    ResultForm,
    VisitForm,
    ZoneClosureForm,
)
from ektp.outreach.models import OutreachVisit
from ektp.regions.selectors import region_name

VIEWERS = (Role.SUPERVISOR, Role.PROVINCE_ADMIN, Role.OPERATOR)


def _error(request, message: str) -> HttpResponse:
    return render(request, "outreach/error.html", {"message": message}, status=400)


def _chosen_unit(user, value: str | None) -> ServicePoint | None:
    """Return the mobile unit named by `?dari=`, or None; refuse one outside the user's reach."""
    if not value:
        return None
    try:
        pk = uuid.UUID(value)
    except ValueError:
        pk = None
    unit = selectors.mobile_units(user).filter(pk=pk).first() if pk else None
    if unit is None:
        raise selectors.OutreachInputError("Mobil keliling tidak dikenal di wilayah kerja Anda.")
    return unit


def _planned_day(value: str | None, *, today: dt.date) -> dt.date:
    """The day a new visit plan starts with: the day chosen on the suggestions (when it is a
    date from today on), else the next service day."""
    try:
        day = dt.date.fromisoformat((value or "").strip()[:10])
    except ValueError:
        day = None
    return day if day is not None and day >= today else next_service_day(after=today)


@role_required(*VIEWERS)
def home(request: HttpRequest) -> HttpResponse:
    """Suggest the next villages and list planned visits and closures."""
    today = timezone.localdate()
    order = request.GET.get("urut") or "perlu"
    try:
        # A visit day may be chosen up to a year ahead; without one, the next service day.
        typed = request.GET.get("tanggal")
        day = parse_as_of(typed, today=today + dt.timedelta(days=365)) if typed else None
        within = request.GET.get("wilayah") or request.user.jurisdiction_code or ""
        if not within:
            raise RegionNotChosen(
                "Saran kunjungan dihitung per kabupaten/kota: pilih yang ingin direncanakan.",
                office_choices(request.user),
                param="wilayah",
            )
        unit = _chosen_unit(request.user, request.GET.get("dari"))
        day = day or next_service_day(after=today, point=unit)
        suggested, closed = selectors.suggestions(
            user=request.user,
            within=within,
            as_of=today,
            day=max(day, today),
            service_point=unit,
            order=order,
        )
        base = selectors.suggestion_base(user=request.user, within=within, service_point=unit)
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
            "base": base,
            "units": selectors.mobile_units(request.user),
            "unit": unit,
            "order": order,
            "orders": selectors.ORDERS,
        },
    )


def _target_query(request: HttpRequest, village: str):
    """Read a target list request: (kind, polling day, residents); refuse bad input."""
    kind = request.GET.get("daftar", "belum_rekam")
    polling_day = None
    if request.GET.get("pemilu"):
        try:
            polling_day = dt.date.fromisoformat(request.GET["pemilu"][:10])
        except ValueError:
            raise selectors.OutreachInputError(
                "Hari pemungutan suara harus berformat TTTT-BB-HH."
            ) from None
    qs = selectors.target_list(
        user=request.user,
        village=village,
        kind=kind,
        as_of=timezone.localdate(),
        polling_day=polling_day,
    )
    return kind, polling_day, qs


@role_required(*VIEWERS)
def target_list(request: HttpRequest, village: str) -> HttpResponse:
    """List the people of a village to reach: unrecorded, first-time voters, door to door."""
    try:
        kind, polling_day, qs = _target_query(request, village)
    except (CoverageError, selectors.OutreachInputError) as exc:
        return _error(request, str(exc))
    page = Paginator(qs.order_by("rt", "rw", "name"), 100).get_page(request.GET.get("hal"))
    return render(
        request,
        "outreach/target_list.html",
        {
            "village": village,
            "village_name": region_name(village),
            "kind": kind,
            "kinds": selectors.LIST_KINDS,
            "page": page,
            "polling_day": polling_day,
        },
    )


@role_required(*VIEWERS)
def target_list_export(request: HttpRequest, village: str, fmt: str) -> HttpResponse:
    """Download a village's target list (e.g. door to door) as XLSX, CSV or a printable PDF."""
    if fmt not in exports.FORMATS:
        raise Http404("Format ekspor harus xlsx, csv atau pdf.")
    try:
        kind, polling_day, qs = _target_query(request, village)
        title = f"{selectors.LIST_KINDS[kind]}: {region_name(village)} ({village})"
        subtitle = f"Per {tanggal(timezone.localdate())}"
        if polling_day:
            subtitle += f"; hari pemungutan suara {tanggal(polling_day)}"
        subtitle += ". NIK disamarkan; buka data lengkap di ektp."
        content = exports.people_table(qs, fmt=fmt, title=title, subtitle=subtitle)
    except (CoverageError, selectors.OutreachInputError, exports.TooManyRows) as exc:
        return _error(request, str(exc))
    record_audit(
        user=request.user,
        action=AuditEvent.Action.VIEW,
        object_type="outreach_list_export",
        object_id=village,
        request=request,
        detail={"format": fmt, "kind": kind},
    )
    return tables.download(content, stem=f"sasaran-{kind}-{village}", fmt=fmt)


@role_required(Role.SUPERVISOR, Role.PROVINCE_ADMIN)
def plan(request: HttpRequest) -> HttpResponse:
    """Plan a visit of a mobile unit to a village."""
    units = selectors.mobile_units(request.user)
    form = VisitForm(
        request.POST or None,
        units=units,
        initial={
            "village": request.GET.get("desa", ""),
            "date": _planned_day(request.GET.get("tanggal"), today=timezone.localdate()),
        },
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


ZONE_PAGE_ROLES = (Role.SUPERVISOR, Role.PROVINCE_ADMIN)
ZONE_ACTIONS = ("kebijakan", "penutupan", "akhiri_kebijakan", "akhiri_penutupan")


@role_required(*ZONE_PAGE_ROLES)
def zones(request: HttpRequest) -> HttpResponse:
    """Zone policies (green/yellow/red thresholds with their periods) and the regions closed
    to visits, with the forms to set and end them, for the head of office and the province."""
    user = request.user
    today = timezone.localdate()
    action = request.POST.get("aksi", "") if request.method == "POST" else ""
    may_set_policy = user.role in POLICY_ROLES
    code = user.jurisdiction_code or ""
    policy_form = PolicyForm(
        request.POST if action == "kebijakan" else None,
        initial={"region": code, "green_min": "92", "yellow_min": "80", "valid_from": today},
    )
    closure_form = ZoneClosureForm(
        request.POST if action == "penutupan" else None, initial={"starts_on": today}
    )
    end_form = EndForm(request.POST if action.startswith("akhiri_") else None)
    error = ""
    if action and action not in ZONE_ACTIONS:
        error = "Permintaan tidak dikenal."
    elif action:
        done = _zone_action(request, action, policy_form, closure_form, end_form, may_set_policy)
        if done is not None:
            messages.success(request, done)
            return redirect("outreach:zones")
        if end_form.is_bound:
            error = " ".join(str(e) for errors in end_form.errors.values() for e in errors)
    in_force = thresholds_for(code, today)
    return render(
        request,
        "outreach/zones.html",
        {
            "today": today,
            "code": code,
            "in_force": in_force,
            "policies": policies_for(user),
            "closures": selectors.closures_for(user),
            "policy_form": policy_form,
            "closure_form": closure_form,
            "may_set_policy": may_set_policy,
            "error": error,
        },
        status=422 if action else 200,
    )


def _zone_action(request, action, policy_form, closure_form, end_form, may_set_policy):
    """Run one POST of the zones page; return the success message, or None (errors are
    left on the forms)."""
    user = request.user
    try:
        if action == "kebijakan" and policy_form.is_valid():
            if not may_set_policy:
                raise CoverageError("Ambang zona ditetapkan oleh admin provinsi atau admin sistem.")
            data = policy_form.cleaned_data
            policy = create_policy(
                actor=user,
                region_code=data["region"] or None,
                green_min=data["green_min"],
                yellow_min=data["yellow_min"],
                valid_from=data["valid_from"],
                valid_to=data["valid_to"],
                note=data["note"],
            )
            return f"Kebijakan zona tersimpan: hijau ≥ {policy.green_min} %, kuning ≥ {policy.yellow_min} %."
        if action == "penutupan" and closure_form.is_valid():
            data = closure_form.cleaned_data
            closure = services.close_zone(
                actor=user,
                region_code=data["region"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                reason=data["reason"],
            )
            return (
                f"{closure.region.name} ditutup untuk kunjungan sejak {closure.starts_on:%d-%m-%Y}."
            )
        if action == "akhiri_kebijakan" and end_form.is_valid():
            policy = end_policy(
                actor=user,
                policy_id=end_form.cleaned_data["id"],
                valid_to=end_form.cleaned_data["ends_on"],
            )
            return f"Kebijakan zona berlaku sampai {policy.valid_to:%d-%m-%Y}."
        if action == "akhiri_penutupan" and end_form.is_valid():
            closure = services.end_closure(
                actor=user,
                closure_id=end_form.cleaned_data["id"],
                ends_on=end_form.cleaned_data["ends_on"],
            )
            return f"Penutupan {closure.region.name} berakhir {closure.ends_on:%d-%m-%Y}."
    except (CoverageError, services.OutreachError) as exc:
        form = {"kebijakan": policy_form, "penutupan": closure_form}.get(action, end_form)
        form.add_error(None, str(exc))
    return None


@role_required(*VIEWERS)
def route_plan(request: HttpRequest) -> HttpResponse:
    """A mobile unit's visits of one day in route order (nearest next from its base), drawn
    on the district's map; printable, and as a PDF."""
    units = selectors.mobile_units(request.user)
    try:
        unit = _chosen_unit(request.user, request.GET.get("dari"))
        if unit is None and units.count() == 1:
            unit = units.first()
        day = _route_day(request.GET.get("tanggal"))
    except selectors.OutreachInputError as exc:
        return _error(request, str(exc))
    context = {"units": units, "unit": unit, "day": day, "legs": [], "map": None}
    if unit is not None:
        visits = list(
            selectors.visits_for(request.user)
            .filter(service_point=unit, date=day)
            .exclude(status=OutreachVisit.Status.CANCELLED)
        )
        base = base_for(within=unit.office.region_id, service_point=unit)
        legs = route.plan_route(
            base, [route.Stop(code=v.village_id, name=v.village.name, item=v) for v in visits]
        )
        context.update(
            base=base,
            legs=legs,
            total_km=route.total_km(legs),
            map=route.route_map(base, legs, district=unit.office.region_id),
        )
        if request.GET.get("format") == "pdf":
            return _route_pdf(unit, day, base, legs)
    return render(request, "outreach/route.html", context)


def _route_day(value: str | None) -> dt.date:
    if not value:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise selectors.OutreachInputError("Tanggal harus berformat TTTT-BB-HH.") from None


ROUTE_HEADER = [
    "Urutan",
    "Desa/kelurahan",
    "Kode",
    "Jarak dari sebelumnya (km)",
    "Tim",
    "Perkiraan orang",
    "Blangko dibawa",
]


def _route_pdf(unit, day: dt.date, base, legs) -> HttpResponse:
    rows = [
        [
            leg.number,
            leg.stop.name,
            leg.stop.code,
            ("± " if leg.approximate else "") + tables.csv_cell(leg.km)
            if leg.km is not None
            else "—",
            leg.stop.item.team,
            leg.stop.item.expected_people,
            leg.stop.item.blanks_to_carry,
        ]
        for leg in legs
    ]
    total = route.total_km(legs)
    subtitle = f"{tanggal(day)}. Berangkat dari {base.name}."
    if total is not None:
        subtitle += (
            f" Jarak garis lurus ±{tables.csv_cell(total)} km (urutan: terdekat berikutnya)."
        )
    content = tables.to_pdf(
        ROUTE_HEADER, rows, title=f"Rencana kunjungan {unit.name}", subtitle=subtitle
    )
    return tables.download(content, stem=f"rute-{unit.code}-{day:%Y%m%d}", fmt="pdf")

"""Staff pages: coverage dashboard, rankings, targets, exports and the residents behind a figure."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from pathlib import Path

import plotly
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from ektp.core import tables
from ektp.core.access import role_required
from ektp.core.formats import tanggal, tanggal_pendek
from ektp.core.models import AuditEvent, Role
from ektp.core.services import record_audit
from ektp.coverage import boundaries, exports, selectors, services
from ektp.coverage.forms import TargetForm
from ektp.coverage.services import CoverageError
from ektp.coverage.stats import NATION
from ektp.coverage.zones import thresholds_for
from ektp.regions import codes
from ektp.regions.models import Region

VIEWERS = (Role.SUPERVISOR, Role.PROVINCE_ADMIN)
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
LEVEL_NAMES = {1: "provinsi", 2: "kabkota", 3: "kecamatan", 4: "desa"}


def _region_name(code: str) -> str:
    if not code:
        return "Indonesia"
    region = Region.objects.filter(code=code).first()
    return region.name if region else code


def _error(request: HttpRequest, exc: CoverageError, *, status: int = 400) -> HttpResponse:
    return render(request, "coverage/error.html", {"message": str(exc)}, status=status)


def _chart_rows(rows) -> list[dict]:
    return [
        {
            "code": r.code,
            "name": r.name,
            "rate": float(r.rate) if r.rate is not None else None,
            "zone": r.zone,
            "wajib": r.wajib_ktp,
            "recorded": r.recorded,
        }
        for r in rows
    ]


def _per_day_rows(per_day: list, known: list) -> list[dict]:
    """Name each region of the recordings-per-day chart (its legend shows names, not codes),
    from the rows the page has already read, asking only for any code they lack."""
    names = {row.code: row.name for row in known}
    missing = {r for _d, r, _n in per_day} - names.keys()
    if missing:
        names.update(selectors.region_names(missing))
    return [
        {"day": d.isoformat(), "label": tanggal_pendek(d), "region": names[r], "n": n}
        for d, r, n in per_day
    ]


@role_required(*VIEWERS)
def dashboard(request: HttpRequest) -> HttpResponse:
    """Show coverage of the user's jurisdiction (or a region inside it) on a date."""
    try:
        as_of = selectors.parse_as_of(request.GET.get("tanggal"))
        code = selectors.scope_for(user=request.user, code=request.GET.get("wilayah"))
        top_level = codes.level_of(code) if code else NATION
        level = min(selectors.child_level(code), codes.DESA)
        with_villages = bool(code) and top_level == codes.KABKOTA
        # Only the levels the page shows: the nation's tree has some 80,000 villages.
        shown = {top_level, level, *([codes.DESA] if with_villages else [])}
        tree = selectors.zoned_tree(user=request.user, code=code, as_of=as_of, levels=shown)
        top = tree[top_level][0]
        children = tree[level]
        villages = tree[codes.DESA] if with_villages else []
        start = as_of - dt.timedelta(days=90)
        points = selectors.daily_trend(
            user=request.user, code=code, start=start, end=as_of, live=top
        )
        per_day = selectors.recordings_per_day(
            user=request.user, code=code, start=as_of - dt.timedelta(days=29), end=as_of
        )
    except CoverageError as exc:
        return _error(request, exc)
    thresholds = thresholds_for(code[:5], as_of)
    chart = {
        "children": _chart_rows(children),
        "villages": _chart_rows(villages),
        "thresholds": {
            "green": float(thresholds.green_min),
            "yellow": float(thresholds.yellow_min),
        },
        "trend": [
            {
                "day": p.day.isoformat(),
                "label": tanggal_pendek(p.day),
                "rate": float(p.rate) if p.rate is not None else None,
            }
            for p in points
        ],
        "per_day": _per_day_rows(per_day, [top, *children]),
    }
    return render(
        request,
        "coverage/dashboard.html",
        {
            "code": code,
            "region_name": _region_name(code),
            "as_of": as_of,
            "top": top,
            "children": children,
            "villages": villages,
            "child_level": LEVEL_NAMES[level],
            "chart": chart,
            "thresholds": thresholds,
            "plotly_version": plotly.__version__,
            "plotly_style_ids": plotly_styles()[1],
            "map_level": LEVEL_NAMES[codes.DESA if villages else level],
            "map_tiles": settings.EKTP_MAP_TILE_URL,
            "stock": selectors.stock_panel(code[:5]) if len(code) >= 5 else {"available": False},
        },
    )


@role_required(*VIEWERS)
def ranking(request: HttpRequest) -> HttpResponse:
    """Rank districts within a province or villages within a district."""
    try:
        as_of = selectors.parse_as_of(request.GET.get("tanggal"))
        code = selectors.scope_for(user=request.user, code=request.GET.get("wilayah"))
        level = selectors.parse_level(request.GET.get("tingkat"), code=code)
        ranked = selectors.ranking(user=request.user, code=code, level=level, as_of=as_of)
    except CoverageError as exc:
        return _error(request, exc)
    return render(
        request,
        "coverage/ranking.html",
        {
            "code": code,
            "region_name": _region_name(code),
            "as_of": as_of,
            "ranked": ranked,
            "level": LEVEL_NAMES[level],
        },
    )


@role_required(*VIEWERS)
def export(request: HttpRequest, fmt: str) -> HttpResponse:
    """Download a coverage table as CSV or XLSX."""
    if fmt not in ("csv", "xlsx"):
        raise Http404("Format ekspor harus csv atau xlsx.")
    try:
        as_of = selectors.parse_as_of(request.GET.get("tanggal"))
        code = selectors.scope_for(user=request.user, code=request.GET.get("wilayah"))
        level = selectors.parse_level(request.GET.get("tingkat"), code=code)
        rows = selectors.coverage_rows(user=request.user, code=code, level=level, as_of=as_of)
    except CoverageError as exc:
        return _error(request, exc)
    record_audit(
        user=request.user,
        action=AuditEvent.Action.VIEW,
        object_type="coverage_export",
        object_id=code,
        request=request,
        detail={"format": fmt, "level": level, "as_of": as_of.isoformat()},
    )
    stem = f"cakupan-{code or 'nasional'}-{LEVEL_NAMES[level]}-{as_of:%Y%m%d}"
    if fmt == "csv":
        content = exports.to_csv(rows)
    else:
        title = f"Cakupan perekaman KTP-el {_region_name(code)} per {tanggal(as_of)}"
        content = exports.to_xlsx(rows, title=title)
    return tables.download(content, stem=stem, fmt=fmt)


@role_required(*VIEWERS)
def unrecorded(request: HttpRequest) -> HttpResponse:
    """List the wajib KTP of a region who have not recorded: the people behind a figure."""
    try:
        as_of = selectors.parse_as_of(request.GET.get("tanggal"))
        code = request.GET.get("wilayah", "")
        if not code:
            raise CoverageError("Pilih wilayah (kode kecamatan atau desa).")
        people = selectors.unrecorded_list(user=request.user, code=code, as_of=as_of)
    except CoverageError as exc:
        return _error(request, exc)
    page = Paginator(people, 50)
    record_audit(
        user=request.user,
        action=AuditEvent.Action.SEARCH,
        object_type="resident",
        request=request,
        detail={"belum_rekam": code, "as_of": as_of.isoformat()},
    )
    return render(
        request,
        "coverage/unrecorded.html",
        {
            "code": code,
            "region_name": _region_name(code),
            "as_of": as_of,
            "page": page.get_page(request.GET.get("hal")),
        },
    )


@role_required(*VIEWERS)
def unrecorded_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """Download the wajib KTP of a region who have not recorded as XLSX, CSV or a printable PDF."""
    if fmt not in exports.FORMATS:
        raise Http404("Format ekspor harus xlsx, csv atau pdf.")
    try:
        as_of = selectors.parse_as_of(request.GET.get("tanggal"))
        code = request.GET.get("wilayah", "")
        if not code:
            raise CoverageError("Pilih wilayah (kode kecamatan atau desa).")
        qs = selectors.unrecorded_wajib_ktp(user=request.user, code=code, as_of=as_of)
        title = f"Wajib KTP belum rekam: {_region_name(code)} ({code})"
        subtitle = f"Per {tanggal(as_of)}. NIK disamarkan; buka data lengkap di ektp."
        content = exports.people_table(qs, fmt=fmt, title=title, subtitle=subtitle)
    except (CoverageError, exports.TooManyRows) as exc:
        return render(request, "coverage/error.html", {"message": str(exc)}, status=400)
    record_audit(
        user=request.user,
        action=AuditEvent.Action.VIEW,
        object_type="unrecorded_export",
        object_id=code,
        request=request,
        detail={"format": fmt, "as_of": as_of.isoformat()},
    )
    return tables.download(content, stem=f"belum-rekam-{code}-{as_of:%Y%m%d}", fmt=fmt)


@role_required(*VIEWERS)
def targets(request: HttpRequest) -> HttpResponse:
    """List targets with progress; supervisors and province admins add new ones."""
    form = TargetForm(request.POST or None, initial={"region": request.user.jurisdiction_code})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                target = services.create_target(actor=request.user, **_target_args(form))
            except CoverageError as exc:
                form.add_error(None, str(exc))
                status = 422
            else:
                messages.success(request, f"Target “{target.name}” tersimpan.")
                return redirect("coverage:targets")
        else:
            status = 422
    today = timezone.localdate()
    listed = [
        (t, selectors.target_progress(t, as_of=today)) for t in selectors.targets_for(request.user)
    ]
    return render(
        request,
        "coverage/targets.html",
        {"form": form, "targets": listed, "today": today},
        status=status,
    )


def _target_args(form: TargetForm) -> dict:
    data = form.cleaned_data
    return {
        "name": data["name"],
        "population": data["population"],
        "region_code": data["region"],
        "rate": data["rate"],
        "due_date": data["due_date"],
        "polling_day": data["polling_day"],
        "previous_polling_day": data["previous_polling_day"],
    }


@role_required(*VIEWERS)
def target_detail(request: HttpRequest, pk) -> HttpResponse:
    target = selectors.targets_for(request.user).filter(pk=pk).first()
    if target is None:
        raise Http404("Target tidak ditemukan di wilayah kerja Anda.")
    progress = selectors.target_progress(target, as_of=timezone.localdate())
    return render(request, "coverage/target_detail.html", {"t": target, "p": progress})


@role_required(*VIEWERS)
def map_shapes(request: HttpRequest) -> HttpResponse:
    """Return the boundaries of the regions one level below a region (villages for a district)."""
    try:
        code = selectors.scope_for(user=request.user, code=request.GET.get("wilayah"))
        level = selectors.parse_level(request.GET.get("tingkat"), code=code)
    except CoverageError as exc:
        return JsonResponse({"detail": str(exc)}, status=400)
    response = JsonResponse({"shapes": boundaries.children_shapes(code, level)})
    response["Cache-Control"] = "private, max-age=86400"
    return response


JS_STRING = r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
CSS_RULE = re.compile(JS_STRING + ":" + JS_STRING)


INJECTED_STYLE = re.compile(
    r'getElementById\("([0-9a-f]{64})"\)\)\{var (\w+)=document\.createElement\("style"\);'
    r'\2\.id="\1",\2\.textContent=' + JS_STRING
)


@lru_cache(maxsize=1)
def plotly_styles() -> tuple[str, tuple[str, ...]]:
    """Return the CSS plotly.js would inject as inline <style> elements (forbidden by our CSP)
    and the ids of those elements: when an element with such an id exists, plotly skips it."""
    source = PLOTLY_JS.read_text(encoding="utf-8")
    rules = []
    start = source.find('{"X,X div":')
    end = source.find("};", start)
    if start >= 0 and end >= 0:
        for selector, body in CSS_RULE.findall(source[start : end + 1]):
            selector = re.sub(r"^,", " ,", selector[1:-1])
            selector = selector.replace("X", ".js-plotly-plot .plotly").replace(
                "Y", ".plotly-notifier"
            )
            rules.append(f"{selector}{{{body[1:-1]}}}")
    ids = []
    for match in INJECTED_STYLE.finditer(source):
        ids.append(match[1])
        rules.append(match[3][1:-1].encode().decode("unicode_escape"))
    return "\n".join(rules) + "\n", tuple(ids)


@require_GET
def plotly_css(request: HttpRequest, version: str) -> HttpResponse:
    """Serve plotly.js's own rules as a stylesheet so that it needs no inline style."""
    response = HttpResponse(plotly_styles()[0], content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@require_GET
def plotly_js(request: HttpRequest, version: str) -> FileResponse:
    """Serve the plotly.js shipped inside the locked plotly package (works offline)."""
    response = FileResponse(PLOTLY_JS.open("rb"), content_type="text/javascript")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response

"""Staff page: browse regions from the province down to the villages."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from ektp.regions import codes, selectors


@login_required
def browse(request, code: str | None = None):
    code = code or request.user.jurisdiction_code
    region = None
    if code:
        if not codes.is_valid_code(code):
            raise Http404("Kode wilayah tidak sah.")
        try:
            region = selectors.get_region(code)
        except selectors.RegionNotFound:
            raise Http404("Wilayah tidak ditemukan.") from None
    query = request.GET.get("q", "").strip()[:100]
    found = selectors.search_regions(query, within=code) if len(query) >= 2 else None
    return render(
        request,
        "regions/browse.html",
        {
            "region": region,
            "ancestors": selectors.ancestors_of(code) if code else [],
            "children": selectors.children_of(code),
            "query": query,
            "found": found,
        },
    )

"""The office a staff page is about, read from the request for the pages of every app."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from ektp.core.access import RegionNotChosen
from ektp.offices import selectors
from ektp.offices.models import Office


def office_of_page(request: HttpRequest) -> Office:
    """The office a staff page is about: the user's own, or the one `kab` names.

    Province and national staff who open the page without naming one get the list of the
    offices they see to choose from (RegionNotChosen); an office outside the user's
    jurisdiction, or a form sent without one, is a 404.
    """
    named = request.GET.get("kab") or request.POST.get("kab") or ""
    code = str(named or request.user.region_id or "")[:5]
    office = selectors.office_for(request.user, code) if code else None
    if office is not None:
        return office
    if not named and request.method == "GET" and "." not in (request.user.jurisdiction_code or ""):
        raise RegionNotChosen(
            "Halaman ini tentang satu kantor Disdukcapil: pilih kabupaten/kota yang ingin dibuka.",
            selectors.office_choices(request.user),
        )
    raise Http404("Kantor Disdukcapil tidak ditemukan di wilayah kerja Anda.")

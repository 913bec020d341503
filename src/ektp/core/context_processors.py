"""What every staff page shows: the user's role and jurisdiction, and the top menu."""

from __future__ import annotations

import functools

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ektp.core import otp
from ektp.core.access import may_open

# The top menu, in order. A link shows only to the roles its view lets in (role_required).
MENU = (
    ("residents:search", _("Penduduk")),
    ("appointments:index", _("Antrean")),
    ("enrollment:find", _("Perekaman")),
    ("enrollment:daily", _("Rekap harian")),
    ("cards:queue", _("Cetak KTP-el")),
    ("suket:list", _("Suket")),
    ("notifications:outbox", _("Pesan")),
    ("offices:points", _("Titik layanan")),
    ("offices:setup", _("Persiapan kantor")),
    ("coverage:dashboard", _("Cakupan")),
    ("outreach:home", _("Jemput bola")),
    ("partners:imports", _("Data mitra")),
    ("partners:ikd", _("IKD")),
    ("dedup:queue", _("Penunggalan")),
    ("regions:browse", _("Wilayah")),
)


@functools.cache
def menu_for(role: str) -> tuple[tuple[str, str], ...]:
    """Return the (address, label) of each menu link whose page lets this role in."""
    links = []
    for name, label in MENU:
        url = reverse(name)
        if may_open(role, url):
            links.append((url, label))
    return tuple(links)


def navigation(request):
    """Expose the user's role, jurisdiction and menu to every template, once the session is
    fully signed in: a password alone (second factor still due) shows nothing but the way out."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    is_verified = getattr(user, "is_verified", None)  # set by django-otp's OTPMiddleware
    if not (is_verified and is_verified()) and otp.second_factor_required(user):
        return {"nav_signed_in": False}
    return {
        "nav_signed_in": True,
        "nav_role": user.get_role_display(),
        "nav_region": user.region,
        "nav_links": menu_for(user.role),
    }

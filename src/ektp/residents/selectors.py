"""Reads for residents, always limited to the reader's jurisdiction."""

from __future__ import annotations

from django.db.models import QuerySet

from ektp.core.access import limit_to_jurisdiction
from ektp.core.models import User
from ektp.regions import codes
from ektp.residents.models import Resident
from ektp.residents.nik import is_digits


def residents_for(user: User) -> QuerySet[Resident]:
    """Return the residents this user may see."""
    return limit_to_jurisdiction(Resident.objects.all(), user)


def search_residents(*, user: User, query: str = "", village: str = "") -> QuerySet[Resident]:
    """Find residents by NIK or No. KK (exact), by name (contains) and/or by village code."""
    qs = residents_for(user).select_related("address_region", "family")
    query = " ".join((query or "").split())[:100]
    if is_digits(query) and len(query) == 16:
        by_nik = qs.filter(nik=query)
        return by_nik if by_nik.exists() else qs.filter(family__kk_number=query)
    if query:
        qs = qs.filter(name__icontains=query.upper())
    if village:
        if not codes.is_valid_code(village):
            return qs.none()
        field = {1: "province_code", 2: "kabkota_code", 3: "kecamatan_code", 4: "address_region_id"}
        qs = qs.filter(**{field[codes.level_of(village)]: village})
    if not query and not village:
        return qs.none()
    return qs.order_by("name", "nik")


def get_resident_by_nik(*, user: User, nik: str) -> Resident | None:
    """Return the resident with this NIK if the user may see it, else None."""
    return residents_for(user).select_related("address_region", "family").filter(nik=nik).first()

"""Reads for the core app."""

from __future__ import annotations

from django.db.models import QuerySet

from ektp.core.models import ApiToken, Role, User

HOME_LINKS = {
    Role.GATE_OFFICER: [
        (
            "residents:search",
            "Cari penduduk",
            "Temukan penduduk dengan NIK sebelum memberi nomor antrean.",
        )
    ],
    Role.OPERATOR: [
        ("residents:search", "Cari penduduk", "Cari dengan NIK, No. KK, nama atau desa."),
        ("residents:create", "Daftarkan penduduk", "Tambahkan penduduk baru ke register."),
    ],
    Role.SUPERVISOR: [
        ("residents:search", "Cari penduduk", "Cari dengan NIK, No. KK, nama atau desa."),
        ("regions:browse", "Wilayah", "Telusuri kecamatan dan desa kabupaten Anda."),
    ],
    Role.PROVINCE_ADMIN: [
        ("regions:browse", "Wilayah", "Telusuri kabupaten/kota provinsi Anda."),
        ("residents:search", "Cari penduduk", "Cari penduduk di seluruh provinsi."),
    ],
    Role.SYSTEM_ADMIN: [
        ("residents:search", "Cari penduduk", "Cari penduduk."),
        ("regions:browse", "Wilayah", "Telusuri wilayah."),
        ("admin:index", "Administrasi", "Kelola pengguna dan data acuan."),
    ],
}


def home_context(user: User) -> dict:
    """Return what the home page of this user's role shows."""
    return {"links": HOME_LINKS.get(user.role, []), "role_label": user.get_role_display()}


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    """The user's own API tokens, newest first."""
    return ApiToken.objects.filter(user=user).order_by("-created_at")

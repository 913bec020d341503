"""Reads for the core app."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from ektp.core.models import GENESIS_HASH, ApiToken, AuditChainHead, AuditEvent, Role, User

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
        (
            "offices:setup",
            "Persiapan kantor",
            "Loket, titik layanan, perangkat, jam layanan, hari khusus dan akun petugas.",
        ),
        ("residents:search", "Cari penduduk", "Cari dengan NIK, No. KK, nama atau desa."),
        ("regions:browse", "Wilayah", "Telusuri kecamatan dan desa kabupaten Anda."),
    ],
    Role.PROVINCE_ADMIN: [
        ("regions:browse", "Wilayah", "Telusuri kabupaten/kota provinsi Anda."),
        ("offices:staff", "Akun petugas", "Buat akun dan atur peran petugas di provinsi Anda."),
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
    links = [
        link
        for link in HOME_LINKS.get(user.role, [])
        # Django's admin lets in only staff accounts: others would land on its login page.
        if link[0] != "admin:index" or user.is_staff
    ]
    return {"links": links, "role_label": user.get_role_display()}


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    """The user's own API tokens, newest first."""
    return ApiToken.objects.filter(user=user).order_by("-created_at")


@dataclass(frozen=True)
class BrokenLink:
    """Where the audit chain first fails to hold, and why (in Bahasa Indonesia)."""

    seq: int
    event_id: str | None
    reason: str


def first_broken_audit_link() -> tuple[int, BrokenLink | None]:
    """Walk the audit chain in order; return how many events were checked and the first
    broken link (None when the whole chain holds)."""
    prev, expected_seq, checked = GENESIS_HASH, 1, 0
    events = AuditEvent.objects.order_by("seq").iterator(chunk_size=2000)
    for event in events:
        if event.seq != expected_seq:
            return checked, BrokenLink(
                expected_seq,
                str(event.id),
                f"catatan nomor {expected_seq} hilang (berikutnya nomor {event.seq})",
            )
        if event.prev_hash != prev:
            return checked, BrokenLink(
                event.seq, str(event.id), "tidak menyambung ke catatan sebelumnya"
            )
        if event.chain_hash() != event.hash:
            return checked, BrokenLink(event.seq, str(event.id), "isinya diubah setelah dicatat")
        prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.seq, head.hash) != (checked, prev):
        return checked, BrokenLink(
            checked + 1, None, f"ujung rantai menyebut nomor {head.seq}: catatan terakhir hilang"
        )
    return checked, None

"""Reads for the core app."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import metadata

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


# The copy of htmx served from core/static (it has no Python package to read the version from).
HTMX_VERSION = "2.0.10"


@dataclass(frozen=True)
class Credit:
    """A library ektp runs on, with its version and licence (for the Tentang page)."""

    name: str
    version: str
    licence: str


def _licence(meta) -> str:
    expression = meta.get("License-Expression")
    if expression:
        return expression
    for classifier in meta.get_all("Classifier") or []:
        if classifier.startswith("License :: OSI Approved :: "):
            return classifier.rsplit(" :: ", 1)[1].replace(" License", "")
    text = (meta.get("License") or "").strip()
    return text if text and len(text) <= 40 and "\n" not in text else "—"


@functools.cache
def library_credits() -> tuple[Credit, ...]:
    """The libraries ektp depends on directly (from its own package metadata), sorted by name."""
    try:
        requirements = metadata.requires("ektp") or []
    except metadata.PackageNotFoundError:
        return ()
    credits = []
    for requirement in requirements:
        if "extra ==" in requirement:
            continue
        name = re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0]
        try:
            meta = metadata.metadata(name)
        except metadata.PackageNotFoundError:
            continue
        credits.append(Credit(name=meta["Name"], version=meta["Version"], licence=_licence(meta)))
    credits.append(Credit(name="htmx", version=HTMX_VERSION, licence="0BSD"))
    return tuple(sorted(credits, key=lambda c: c.name.lower()))


def ektp_version() -> str:
    try:
        return metadata.version("ektp")
    except metadata.PackageNotFoundError:
        return "—"

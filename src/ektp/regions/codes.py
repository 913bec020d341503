"""Kemendagri region codes: levels and kinds read from the code alone."""

from __future__ import annotations

import re

PROVINSI, KABKOTA, KECAMATAN, DESA = 1, 2, 3, 4
LEVEL_NAMES = {
    PROVINSI: "provinsi",
    KABKOTA: "kabupaten/kota",
    KECAMATAN: "kecamatan",
    DESA: "desa/kelurahan",
}
CODE_RE = re.compile(r"\A[0-9]{2}(\.[0-9]{2}(\.[0-9]{2}(\.[0-9]{4})?)?)?\Z")


def is_valid_code(code: str, *, level: int | None = None) -> bool:
    """Tell whether a string has the shape of a region code (11, 11.01, 11.01.01, 11.01.01.2001),
    of the given level when one is named. Nothing around it (a space, a line break) is allowed."""
    if not isinstance(code, str) or not CODE_RE.match(code):
        return False
    return level is None or level_of(code) == level


def level_of(code: str) -> int:
    """Return the level (1 provinsi … 4 desa/kelurahan) of a region code."""
    return code.count(".") + 1


def parent_code(code: str) -> str | None:
    """Return the code of the parent region, or None for a province."""
    return code.rsplit(".", 1)[0] if "." in code else None


def ancestor_codes(code: str) -> list[str]:
    """Return the codes of all ancestors, the province first."""
    parts = code.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def kind_of(code: str) -> str:
    """Return provinsi, kabupaten, kota, kecamatan, kelurahan, desa or desa_adat."""
    level = level_of(code)
    if level == PROVINSI:
        return "provinsi"
    if level == KABKOTA:
        return "kota" if int(code[3:5]) >= 71 else "kabupaten"
    if level == KECAMATAN:
        return "kecamatan"
    return {"1": "kelurahan", "2": "desa", "3": "desa_adat"}.get(code[9], "desa")


def compact(code: str) -> str:
    """Return the code without dots, as it appears inside a NIK or No. KK."""
    return code.replace(".", "")


def dotted(digits: str) -> str:
    """Return the dotted code for the leading digits of a NIK (2, 4, 6 or 10 digits)."""
    cuts = [2, 4, 6, 10]
    parts, start = [], 0
    for cut in cuts:
        if len(digits) < cut:
            break
        parts.append(digits[start:cut])
        start = cut
    return ".".join(parts)

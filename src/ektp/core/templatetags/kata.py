"""Filters that tell codes, numbers and dates to people in words (``{% load kata %}``).

``{{ r.ktp_status|siak_status }}`` shows a SIAK status in words, its code as the tooltip;
``angka``, ``tanggal``, ``hari`` and ``waktu`` write numbers and dates the id-ID way (core.formats) —
in English the same figures follow Django's English formats.
"""

from __future__ import annotations

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.html import format_html

from ektp.core import formats

register = template.Library()


def _indonesian() -> bool:
    return (translation.get_language() or "id").split("-")[0] == "id"


@register.filter
def siak_status(code: str | None) -> str:
    """A resident's KTP-el status in words, with its SIAK code as the tooltip."""
    from ektp.residents.models import KtpStatus

    if not code:
        return "—"
    try:
        label = KtpStatus(code).label
    except ValueError:
        label = code
    return format_html('<span class="status" title="SIAK: {}">{}</span>', code, label)


@register.filter
def angka(value, decimals: int = 0) -> str:
    """A number with its thousands grouped: 19.825 (19,825 in English)."""
    if value is None or value == "":
        return "—"
    try:
        number = float(value) if decimals else int(value)
    except (TypeError, ValueError):
        return str(value)
    if _indonesian():
        return formats.angka(number, int(decimals))
    return number_format(number, int(decimals), use_l10n=True, force_grouping=True)


@register.filter
def tanggal(value) -> str:
    """A date in words: 7 Desember 2026 (7 December 2026 in English)."""
    if value in (None, ""):
        return "—"
    if _indonesian():
        return formats.tanggal(value)
    return date_filter(value, "j F Y")


@register.filter
def hari(value) -> str:
    """A day with its name: Senin, 7 Desember 2026 (Monday, 7 December 2026 in English)."""
    if value in (None, ""):
        return "—"
    if _indonesian():
        return formats.hari(value)
    return date_filter(value, "l, j F Y")


@register.filter
def waktu(value) -> str:
    """A moment in words with the office's time zone: 7 Desember 2026 14.05 WIB."""
    if value in (None, ""):
        return "—"
    if _indonesian():
        return formats.waktu(value)
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{date_filter(local, 'j F Y H:i')} {local.tzname() or ''}".rstrip()


@register.filter
def zona(code: str | None) -> str:
    """A coverage zone in words (Hijau, Kuning, Merah, Tanpa data)."""
    from ektp.coverage.models import Zone

    try:
        return str(Zone(code).label)
    except ValueError:
        return code or "—"

"""A pattern checks the whole value: "$" also matches before a final line break, so
"3201...\n" or "18.09\n" passed checks written with it. Region codes go through the one
parser (codes.is_valid_code); every other pattern is anchored with \\A and \\Z."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import DataError, IntegrityError, transaction

from ektp.cards.services import SERIAL_RE, StockInvalid, parse_serial_range
from ektp.dedup.errors import DedupError
from ektp.dedup.forms import ScanForm
from ektp.dedup.services import check_region_code
from ektp.naskah.models import Letterhead
from ektp.notifications.channels import EMAIL_PATTERN
from ektp.portal.services import CODE_PATTERN
from ektp.regions import codes
from ektp.regions.fields import KabKotaCodeIn, RegionCodeField
from ektp.residents.services import NAME_RE, PHONE_RE, RT_RW_RE
from tests.cards.factories import OfficeFactory
from tests.naskah.conftest import HEAD

SRC = Path(__file__).resolve().parents[2] / "src" / "ektp"
# A Python regular expression (re, a form's regex=, a database __regex) whose literal ends in $.
# Ninja/pydantic `pattern=` is left out: its engine (Rust regex) ends "$" at the end of the text.
DOLLAR_END = re.compile(
    r"""(?:re\.(?:compile|match|search|fullmatch)\(|\bregex=|__regex=)\s*r?(["'])[^"'\n]*\$\1"""
)


def test_no_python_pattern_in_the_code_ends_with_a_dollar_anchor():
    found = []
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if DOLLAR_END.search(line):
                found.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert found == []


@pytest.mark.parametrize(
    ("pattern", "good"),
    [
        (SERIAL_RE, "18090000001"),
        (NAME_RE, "SITI AMINAH"),
        (RT_RW_RE, "003"),
        (PHONE_RE, "081234567890"),
        (EMAIL_PATTERN, "warga@contoh.id"),
        (CODE_PATTERN, "123456"),
    ],
)
def test_a_trailing_line_break_is_refused_by_every_pattern(pattern, good):
    assert pattern.match(good)
    assert not pattern.match(good + "\n")


@pytest.mark.parametrize("text", ["18.09\n", "18.09\r\n", " 18.09", "18.09.01", "18", "18.9"])
def test_a_kabkota_code_is_the_whole_value_and_of_its_level(text):
    assert not codes.is_valid_code(text, level=codes.KABKOTA)
    from pydantic import TypeAdapter, ValidationError

    with pytest.raises(ValidationError):
        TypeAdapter(KabKotaCodeIn).validate_python(text)


def test_a_region_code_field_takes_a_typed_code_and_refuses_the_wrong_level():
    field = RegionCodeField(level=codes.DESA)
    assert field.clean("18.09.01.2001\n") == "18.09.01.2001"  # the box's own spaces are trimmed
    from django import forms

    with pytest.raises(forms.ValidationError):
        field.clean("18.09.01")


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["18.09.01.01", "18.09\n.01", "18.09.01.2001.1"])
def test_penunggalan_scan_takes_only_real_region_codes(code):
    with pytest.raises(DedupError):
        check_region_code(code)
    assert not ScanForm({"region": code}).is_valid()


@pytest.mark.django_db
def test_penunggalan_scan_takes_a_village_code():
    assert check_region_code("18.09.01.2001") == "18.09.01.2001"


def test_a_blank_serial_range_with_a_line_break_inside_is_refused():
    with pytest.raises(StockInvalid):
        parse_serial_range("180900\n01", "18090002")


@pytest.mark.django_db
def test_the_database_refuses_a_head_nip_with_a_line_break():
    office = OfficeFactory()
    fields = {k: v for k, v in HEAD.items() if k != "address"}
    fields["head_nip"] = HEAD["head_nip"] + "\n"
    # SQLite keeps no length: its REGEXP (Python's re.search) is what refuses the value there.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        Letterhead.objects.create(office=office, **fields)

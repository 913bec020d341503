"""A region code typed in a form or an API: codes.is_valid_code is the one check, wrapped for
Django forms (RegionCodeField) and Ninja schemas (RegionCodeIn, KabKotaCodeIn)."""

from __future__ import annotations

from typing import Annotated

from django import forms
from django.utils.translation import gettext_lazy as _
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from ektp.regions import codes

EXAMPLES = {
    None: "18, 18.09, 18.09.01, 18.09.01.2001",
    codes.PROVINSI: "18",
    codes.KABKOTA: "18.09",
    codes.KECAMATAN: "18.09.01",
    codes.DESA: "18.09.01.2001",
}


def invalid_message(level: int | None = None) -> str:
    return f"Kode wilayah tidak sah (contoh: {EXAMPLES[level]})."


def _schema_check(level: int | None):
    def check(value: str) -> str:
        if not codes.is_valid_code(value, level=level):
            raise PydanticCustomError("region_code", invalid_message(level))
        return value

    return check


# A region code of any level in a Ninja schema, path or query.
RegionCodeIn = Annotated[
    str,
    Field(max_length=13, description="Kode wilayah", examples=["18.09"]),
    AfterValidator(_schema_check(None)),
]
# The code of a kab/kota (an office's district) in a Ninja schema, path or query.
KabKotaCodeIn = Annotated[
    str,
    Field(max_length=5, description="Kode kab/kota kantor, mis. 18.09", examples=["18.09"]),
    AfterValidator(_schema_check(codes.KABKOTA)),
]


class RegionCodeField(forms.CharField):
    """A region code in a form (of one level when `level` is given), checked by is_valid_code."""

    def __init__(self, *, level: int | None = None, **kwargs):
        self.level = level
        kwargs.setdefault("max_length", 13)
        kwargs.setdefault("label", _("Kode wilayah"))
        super().__init__(**kwargs)
        self.error_messages.setdefault("invalid", invalid_message(level))

    def to_python(self, value) -> str:
        value = super().to_python(value)  # strips spaces and line breaks around it
        if value in self.empty_values:
            return value
        if not codes.is_valid_code(value, level=self.level):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return value

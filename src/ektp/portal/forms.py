"""The status inquiry form: NIK and birth date."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from ektp.portal import selectors
from ektp.residents.nik import InvalidNumber, NikField, parse_nik


class BlankAfterSubmit(forms.TextInput):
    """A text box that is empty again when the page comes back after a submit."""

    def format_value(self, value):
        return None


class InquiryForm(forms.Form):
    nik = NikField(label=_("NIK (16 angka)"), max_length=40)
    # The page answers for a NIK and a birth date together: after an error the NIK stays,
    # the birth date is typed again, so the page never shows it back.
    birth_date = forms.CharField(
        label=_("Tanggal lahir (HH-BB-TTTT)"),
        max_length=20,
        widget=BlankAfterSubmit(attrs={"placeholder": "17-08-1990", "autocomplete": "off"}),
        error_messages={"required": "Tanggal lahir wajib diisi."},
    )

    def clean_birth_date(self):
        try:
            return selectors.parse_birth_date(self.cleaned_data["birth_date"])
        except selectors.InquiryInvalid as exc:
            raise forms.ValidationError(str(exc)) from exc

    @classmethod
    def parse(cls, data, *, today: dt.date | None = None) -> tuple[str, dt.date] | None:
        """Return (NIK, birth date) when the form would be valid, without building it.

        The busiest path of the public site: a bound form copies its fields and runs every
        validator. This applies the same rules (stripped text, the length limits, the two
        parsers); None means the form must be built to say what is wrong.
        """
        values = []
        for name in ("nik", "birth_date"):
            text = data.get(name) or ""
            if not isinstance(text, str):
                return None
            text = text.strip()
            if not text or len(text) > cls.base_fields[name].max_length or "\x00" in text:
                return None
            values.append(text)
        try:
            nik = parse_nik(values[0])
            return nik, selectors.parse_birth_date(values[1], today=today)
        except (InvalidNumber, selectors.InquiryInvalid):
            return None


class AccessCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Kode 6 angka"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9 ]*"}
        ),
        error_messages={"required": _("Kode wajib diisi.")},
    )

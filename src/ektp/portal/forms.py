"""The status inquiry form: NIK and birth date."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ektp.portal import selectors


class InquiryForm(forms.Form):
    nik = forms.CharField(
        label=_("NIK (16 angka)"),
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"required": "NIK wajib diisi."},
    )
    birth_date = forms.CharField(
        label=_("Tanggal lahir (HH-BB-TTTT)"),
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "17-08-1990", "autocomplete": "off"}),
        error_messages={"required": "Tanggal lahir wajib diisi."},
    )

    def clean_nik(self) -> str:
        try:
            return selectors.parse_nik(self.cleaned_data["nik"])
        except selectors.InquiryInvalid as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_birth_date(self):
        try:
            return selectors.parse_birth_date(self.cleaned_data["birth_date"])
        except selectors.InquiryInvalid as exc:
            raise forms.ValidationError(str(exc)) from exc

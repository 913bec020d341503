"""Forms for coverage pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ektp.coverage.models import PopulationKind

DATE_ERRORS = {"invalid": _("Tanggal harus berformat TTTT-BB-HH.")}


class TargetForm(forms.Form):
    name = forms.CharField(label=_("Nama target"), max_length=150)
    population = forms.ChoiceField(label=_("Populasi"), choices=PopulationKind.choices)
    region = forms.CharField(label=_("Kode wilayah"), max_length=13)
    rate = forms.DecimalField(
        label=_("Target (%)"), max_digits=5, decimal_places=2, min_value=0.01, max_value=100
    )
    due_date = forms.DateField(
        label=_("Batas waktu"),
        error_messages=DATE_ERRORS,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    polling_day = forms.DateField(
        label=_("Hari pemungutan suara"),
        required=False,
        error_messages=DATE_ERRORS,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    previous_polling_day = forms.DateField(
        label=_("Pemungutan suara sebelumnya"),
        required=False,
        error_messages=DATE_ERRORS,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Kosongkan untuk lima tahun sebelumnya."),
    )

"""Forms for jemput bola pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

DATE_ERRORS = {
    "invalid": _("Tanggal harus berformat TTTT-BB-HH."),
    "required": _("Tanggal wajib diisi."),
}
DATE = forms.DateInput(attrs={"type": "date"})


class VisitForm(forms.Form):
    village = forms.CharField(label=_("Kode desa/kelurahan"), max_length=13)
    date = forms.DateField(label=_("Tanggal"), widget=DATE, error_messages=DATE_ERRORS)
    service_point = forms.ChoiceField(label=_("Mobil keliling"))
    team = forms.CharField(label=_("Tim"), max_length=300)
    expected_people = forms.IntegerField(label=_("Perkiraan orang"), min_value=0, max_value=100000)
    blanks_to_carry = forms.IntegerField(label=_("Blangko dibawa"), min_value=0, max_value=100000)

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_point"].choices = [(str(u.pk), u.name) for u in units]


class ResultForm(forms.Form):
    recorded_people = forms.IntegerField(label=_("Orang direkam"), min_value=0, max_value=100000)
    cards_printed = forms.IntegerField(
        label=_("Kartu dicetak"), min_value=0, max_value=100000, required=False
    )
    note = forms.CharField(label=_("Catatan"), max_length=500, required=False)


class ClosureForm(forms.Form):
    region = forms.CharField(label=_("Kode wilayah"), max_length=13)
    starts_on = forms.DateField(label=_("Mulai"), widget=DATE, error_messages=DATE_ERRORS)
    ends_on = forms.DateField(
        label=_("Sampai"), widget=DATE, required=False, error_messages=DATE_ERRORS
    )
    reason = forms.CharField(label=_("Alasan"), max_length=200)

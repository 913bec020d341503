"""Forms of the partner pages: an import, an IKD activation, an IKD target."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ektp.partners.models import IkdActivation, IkdDenominator, ImportKind
from ektp.regions import codes
from ektp.regions.fields import RegionCodeField
from ektp.residents.nik import NikField

REQUIRED = {"required": _("Wajib diisi.")}
DATE = {"required": _("Wajib diisi."), "invalid": _("Tanggal harus berformat TTTT-BB-HH.")}
CHOICE = {"required": _("Wajib diisi."), "invalid_choice": _("Pilih salah satu pilihan.")}


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Jenis data"), choices=ImportKind.choices, error_messages=CHOICE
    )
    file = forms.FileField(
        label=_("Berkas (CSV atau XLSX)"), error_messages={"required": _("Pilih berkas.")}
    )
    election = forms.ChoiceField(label=_("Pemilihan"), required=False, error_messages=CHOICE)
    election_name = forms.CharField(
        label=_("atau pemilihan baru: nama"), required=False, max_length=150
    )
    polling_day = forms.DateField(
        label=_("hari pemungutan suara"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages=DATE,
    )

    def __init__(self, *args, elections=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["election"].choices = [("", "—")] + [(str(e.pk), str(e)) for e in elections]

    def clean(self):
        data = super().clean()
        new_election = data.get("election_name") and data.get("polling_day")
        if data.get("kind") == ImportKind.VOTERS and not data.get("election") and not new_election:
            raise forms.ValidationError(
                _("Daftar pemilih: pilih pemilihan, atau isi nama dan hari pemungutan suaranya.")
            )
        return data


class IkdActivationForm(forms.Form):
    nik = NikField(max_length=40)
    channel = forms.ChoiceField(
        label=_("Cara"), choices=IkdActivation.Channel.choices, error_messages=CHOICE
    )
    place = forms.CharField(label=_("Tempat"), max_length=150, error_messages=REQUIRED)
    activated_on = forms.DateField(
        label=_("Tanggal aktivasi"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages=DATE,
    )


class IkdTargetForm(forms.Form):
    kecamatan = RegionCodeField(
        level=codes.KECAMATAN,
        label=_("Kode kecamatan"),
        error_messages={**REQUIRED, "invalid": _("Kode kecamatan berbentuk 18.09.01.")},
    )
    rate = forms.DecimalField(
        label=_("Target (%)"),
        max_digits=5,
        decimal_places=2,
        min_value=0.01,
        max_value=100,
        error_messages={**REQUIRED, "invalid": _("Isi angka persen.")},
    )
    denominator = forms.ChoiceField(
        label=_("Dihitung dari"), choices=IkdDenominator.choices, error_messages=CHOICE
    )
    due_date = forms.DateField(
        label=_("Batas waktu"), widget=forms.DateInput(attrs={"type": "date"}), error_messages=DATE
    )

from django import forms
from django.utils.translation import gettext_lazy as _

from ektp.appointments.models import InvitationBatch, PriorityReason
from ektp.regions import codes
from ektp.regions.fields import RegionCodeField
from ektp.residents.nik import NikField

REQUIRED = {"required": _("Wajib diisi.")}
DATE = {**REQUIRED, "invalid": _("Tanggal bukan tanggal yang sah (TTTT-BB-HH).")}
CHOICE = {**REQUIRED, "invalid_choice": _("Pilih salah satu pilihan yang tersedia.")}
CODE = {**REQUIRED, "max_length": _("Kode booking paling banyak 20 karakter.")}


def _date_field(label, **kwargs):
    return forms.DateField(
        label=label, widget=forms.DateInput(attrs={"type": "date"}), error_messages=DATE, **kwargs
    )


class IdentifyForm(forms.Form):
    nik = NikField(required=False)
    birth_date = _date_field(_("Tanggal lahir"), required=False)
    code = forms.CharField(
        label=_("atau kode undangan / booking"), max_length=20, required=False, error_messages=CODE
    )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if data.get("code"):
            return data
        if not data.get("nik") or not data.get("birth_date"):
            raise forms.ValidationError(_("Isi NIK dan tanggal lahir, atau kode undangan/booking."))
        return data


class DayForm(forms.Form):
    point = forms.UUIDField(
        label=_("Titik layanan"),
        error_messages={**REQUIRED, "invalid": _("Titik layanan tidak dikenal.")},
    )
    day = _date_field(_("Tanggal"))


class BookForm(forms.Form):
    window = forms.UUIDField(
        label=_("Jendela waktu"),
        error_messages={**REQUIRED, "invalid": _("Jendela waktu tidak dikenal.")},
    )
    resident = forms.UUIDField(
        label=_("Untuk"),
        error_messages={**REQUIRED, "invalid": _("Anggota keluarga tidak dikenal.")},
    )


class MoveForm(forms.Form):
    window = forms.UUIDField(
        label=_("Jendela waktu baru"),
        error_messages={**REQUIRED, "invalid": _("Jendela waktu tidak dikenal.")},
    )


class CheckInForm(forms.Form):
    code = forms.CharField(label=_("Kode booking"), max_length=20, error_messages=CODE)
    priority = forms.ChoiceField(
        label=_("Prioritas"), choices=PriorityReason.choices, required=False, error_messages=CHOICE
    )


class WalkInForm(forms.Form):
    nik = NikField(label=_("NIK (jika ada)"), required=False)
    priority = forms.ChoiceField(
        label=_("Prioritas"), choices=PriorityReason.choices, required=False, error_messages=CHOICE
    )


class CounterForm(forms.Form):
    name = forms.CharField(
        label=_("Nama loket"),
        max_length=40,
        error_messages={**REQUIRED, "max_length": _("Paling banyak 40 karakter.")},
    )


class InvitationForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Sasaran"),
        choices=[  # a married-under-17 batch is made by a KUA import, never by hand
            (k, label)
            for k, label in InvitationBatch.Kind.choices
            if k != InvitationBatch.Kind.MARRIED
        ],
        error_messages=CHOICE,
    )
    village = RegionCodeField(
        level=codes.DESA,
        label=_("Kode desa/kelurahan"),
        required=False,
        error_messages={
            "invalid": _("Kode desa harus berformat NN.NN.NN.NNNN, misalnya 18.09.01.2001."),
            "max_length": _("Kode desa harus berformat NN.NN.NN.NNNN, misalnya 18.09.01.2001."),
        },
    )
    reference_day = _date_field(_("Tanggal acuan (hari ini, atau hari pemungutan suara)"))
    first_day = _date_field(_("Undang mulai tanggal"))
    limit = forms.IntegerField(
        label=_("Jumlah paling banyak"),
        min_value=1,
        max_value=5000,
        initial=200,
        error_messages={
            **REQUIRED,
            "invalid": _("Harus berupa bilangan bulat."),
            "min_value": _("Paling sedikit 1."),
            "max_value": _("Paling banyak 5000."),
        },
    )


class ReportForm(forms.Form):
    day = _date_field(_("Tanggal"), required=False)

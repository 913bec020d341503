from django import forms
from django.utils.translation import gettext_lazy as _

from ektp.offices.models import Device

REQUIRED = {"required": _("Wajib diisi.")}
CHOICE = {**REQUIRED, "invalid_choice": _("Pilih salah satu pilihan yang tersedia.")}


class DeviceStatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status baru"), choices=Device.Status.choices, error_messages=CHOICE
    )
    reason = forms.CharField(label=_("Alasan"), max_length=250, error_messages=REQUIRED)


class MonthForm(forms.Form):
    bulan = forms.RegexField(
        label=_("Bulan"),
        regex=r"^[0-9]{4}-(0[1-9]|1[0-2])$",
        required=False,
        error_messages={"invalid": _("Bulan harus berformat TTTT-BB, misalnya 2025-03.")},
    )

    def clean_bulan(self):
        value = self.cleaned_data["bulan"]
        if value and not 2000 <= int(value[:4]) <= 2100:
            raise forms.ValidationError(_("Tahun harus antara 2000 dan 2100."))
        return value


class SpecialDayForm(forms.Form):
    day = forms.DateField(
        label=_("Tanggal"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={**REQUIRED, "invalid": _("Tanggal bukan tanggal yang sah (TTTT-BB-HH).")},
    )
    is_open = forms.TypedChoiceField(
        label=_("Jenis"),
        choices=[("1", _("Buka khusus")), ("0", _("Tutup"))],
        coerce=lambda v: v == "1",
        error_messages=CHOICE,
    )
    whole_office = forms.BooleanField(label=_("Berlaku untuk semua titik kantor"), required=False)
    opens_at = forms.TimeField(
        label=_("Buka pukul"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        error_messages={"invalid": _("Jam tidak sah (JJ:MM).")},
    )
    closes_at = forms.TimeField(
        label=_("Tutup pukul"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        error_messages={"invalid": _("Jam tidak sah (JJ:MM).")},
    )
    reason = forms.CharField(label=_("Alasan"), max_length=250, error_messages=REQUIRED)

from django import forms
from django.utils.translation import gettext_lazy as _

from ektp.core.dates import DayOutOfRange
from ektp.enrollment.biometrics import EXCEPTABLE, ExceptionReason, Modality
from ektp.enrollment.selectors import check_daily_day


class FindForm(forms.Form):
    q = forms.CharField(label=_("NIK atau nama"), max_length=100, required=False)


class RecordForm(forms.Form):
    """The device and, per finger, eye or signature, an optional exception with its reason."""

    device = forms.ChoiceField(label=_("Alat perekaman"))

    def __init__(self, *args, kits=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["device"].choices = [
            (str(k.pk), f"{k.service_point.name} — {k.serial_number} ({k.get_status_display()})")
            for k in kits
        ]
        pick = _("Pilih alat perekaman yang ada di wilayah kerja Anda.")
        self.fields["device"].error_messages.update(required=pick, invalid_choice=pick)
        for modality in Modality.values:
            if modality not in EXCEPTABLE:
                continue
            self.fields[f"exc_{modality}"] = forms.ChoiceField(
                label=Modality(modality).label,
                required=False,
                choices=[("", _("Direkam")), *ExceptionReason.choices],
                error_messages={
                    "invalid_choice": _(
                        "Alasan pengecualian harus amputasi, cedera atau disabilitas."
                    )
                },
            )
            self.fields[f"note_{modality}"] = forms.CharField(
                label=_("Keterangan"),
                max_length=200,
                required=False,
                error_messages={"max_length": _("Keterangan paling banyak 200 karakter.")},
            )

    def exception_rows(self):
        return [(self[f"exc_{m}"], self[f"note_{m}"]) for m in Modality.values if m in EXCEPTABLE]

    def exceptions(self) -> dict[str, tuple[str, str]]:
        return {
            m: (self.cleaned_data[f"exc_{m}"], self.cleaned_data[f"note_{m}"])
            for m in Modality.values
            if m in EXCEPTABLE and self.cleaned_data.get(f"exc_{m}")
        }


class DayForm(forms.Form):
    tanggal = forms.DateField(
        label=_("Tanggal"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Tanggal bukan tanggal yang sah (TTTT-BB-HH).")},
    )

    def clean_tanggal(self):
        day = self.cleaned_data["tanggal"]
        if day is not None:
            try:
                check_daily_day(day)
            except DayOutOfRange as exc:
                raise forms.ValidationError(exc.message) from None
        return day

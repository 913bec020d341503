"""Forms of the device pages: register a laptop, revoke it, decide on a quarantined packet."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ektp.offices.models import ServicePoint


class RegisterDeviceForm(forms.Form):
    name = forms.CharField(label=_("Nama perangkat"), max_length=100)
    service_point = forms.ModelChoiceField(
        label=_("Titik layanan"), queryset=ServicePoint.objects.none()
    )
    operator = forms.CharField(label=_("Nama pengguna operator"), max_length=150)
    villages = forms.CharField(
        label=_("Desa yang dilayani"),
        max_length=500,
        help_text=_("Kode wilayah desa, dipisah koma, mis. 18.09.01.2001"),
    )
    freeze_after_days = forms.IntegerField(
        label=_("Berhenti merekam setelah tidak sinkron (hari)"),
        min_value=1,
        max_value=30,
        initial=3,
    )

    def __init__(self, *args, points=None, **kwargs):
        super().__init__(*args, **kwargs)
        if points is not None:
            self.fields["service_point"].queryset = points

    def village_codes(self) -> list[str]:
        return [c.strip() for c in self.cleaned_data["villages"].split(",") if c.strip()]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Alasan"), max_length=250)

"""Forms for adjudication and the registry scan."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ektp.dedup.models import CaseStatus
from ektp.dedup.services import MAX_REASON
from ektp.regions.fields import RegionCodeField


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Keputusan"),
        choices=[
            (CaseStatus.CONFIRMED_DUPLICATE, _("Orang yang sama — gabungkan ke NIK yang ada")),
            (CaseStatus.NOT_DUPLICATE, _("Orang berbeda — lanjutkan ke siap cetak")),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Pilih keputusan: orang yang sama atau orang berbeda."),
            "invalid_choice": _("Keputusan harus 'orang yang sama' atau 'orang berbeda'."),
        },
    )
    reason = forms.CharField(
        label=_("Alasan"),
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("Alasan keputusan wajib diisi."),
            "max_length": _("Alasan keputusan paling banyak %(limit_value)d karakter."),
        },
    )

    def clean_reason(self) -> str:
        text = " ".join(self.cleaned_data["reason"].split())
        if not text:
            raise forms.ValidationError(_("Alasan keputusan wajib diisi."))
        return text


class ScanForm(forms.Form):
    region = RegionCodeField(
        label=_("Kode wilayah"),
        error_messages={
            "required": _("Kode wilayah wajib diisi, mis. 18.09."),
            "invalid": _("Kode wilayah tidak sah; contoh: 18 atau 18.09."),
            "max_length": _("Kode wilayah paling banyak %(limit_value)d karakter."),
        },
    )

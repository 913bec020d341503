"""Forms for suket pages, with messages in Bahasa Indonesia."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

NIK_MESSAGES = {
    "required": _("NIK wajib diisi."),
    "invalid": _("NIK harus 16 angka."),
}


class IssueForm(forms.Form):
    nik = forms.RegexField(
        label=_("NIK"), regex=r"^[0-9]{16}$", max_length=16, error_messages=NIK_MESSAGES
    )
    purpose = forms.CharField(label=_("Keperluan"), max_length=100, required=False)
    technical_failure = forms.CharField(
        label=_("Gangguan teknis (jika ada)"),
        max_length=250,
        required=False,
        help_text=_("Isi bila KTP-el tidak dapat dicetak karena gangguan teknis."),
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Alasan pencabutan"),
        min_length=5,
        max_length=250,
        error_messages={
            "required": _("Alasan pencabutan wajib diisi."),
            "min_length": _("Alasan pencabutan paling sedikit 5 karakter."),
        },
    )


class QrDownloadForm(forms.Form):
    """What the suket's QR holds: whoever holds the document may download it again."""

    qr = forms.CharField(
        label=_("Isi kode QR suket"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        error_messages={
            "required": _("Tempel isi kode QR yang tercetak pada suket."),
            "max_length": _("Isi kode QR terlalu panjang."),
        },
    )

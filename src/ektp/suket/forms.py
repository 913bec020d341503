"""Forms for suket pages, with messages in Bahasa Indonesia."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ektp.residents.nik import NikField


class IssueForm(forms.Form):
    nik = NikField()
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

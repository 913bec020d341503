"""Forms for suket pages, with messages in Bahasa Indonesia."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ektp.residents.nik import NikField
from ektp.suket.selectors import MAX_NUMBER


class IssueForm(forms.Form):
    nik = NikField()
    purpose = forms.CharField(label=_("Keperluan"), max_length=100, required=False)
    technical_failure = forms.CharField(
        label=_("Gangguan teknis (jika ada)"),
        max_length=250,
        required=False,
        help_text=_(
            "Isi bila KTP-el tidak dapat dicetak karena gangguan teknis. Diterima hanya bila "
            "printer kartu kantor tercatat rusak atau dalam perbaikan."
        ),
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


class VerifyNumberForm(forms.Form):
    """The number printed on a suket (or its verification link), typed or pasted."""

    nomor = forms.CharField(
        label=_("Nomor suket"),
        max_length=200,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "placeholder": "474.11/0001/SKT/1809/XII/2026"}
        ),
        error_messages={
            "required": _("Isi nomor suket seperti yang tercetak pada dokumen."),
            "max_length": _("Nomor suket terlalu panjang."),
        },
    )

    def clean_nomor(self) -> str:
        value = self.cleaned_data["nomor"].strip()
        # A link copied from the document's QR code carries the number after /verify/.
        if "/verify/" in value:
            value = value.split("/verify/", 1)[1].split("?", 1)[0].strip()
        if not value:
            raise forms.ValidationError(_("Isi nomor suket seperti yang tercetak pada dokumen."))
        if len(value) > MAX_NUMBER:
            raise forms.ValidationError(_("Nomor suket terlalu panjang."))
        return value

"""Forms of the cards pages; they shape input, the stock rules live in services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ektp.cards.models import LedgerEntry, PrintReason
from ektp.cards.services import RECEIVER_RELATIONS, RECONCILE_OUTCOMES, SERIAL_RE
from ektp.residents.nik import NikField

STORE = ""
INT_ERRORS = {
    "required": _("Jumlah wajib diisi."),
    "invalid": _("Jumlah harus bilangan bulat."),
    "min_value": _("Jumlah harus minimal %(limit_value)s."),
    "max_value": _("Jumlah paling banyak %(limit_value)s."),
}


def place_choices(office) -> list[tuple[str, str]]:
    """The office store and its service points as choices."""
    points = office.service_points.order_by("code")
    return [(STORE, "Gudang kantor"), *[(str(p.pk), p.name) for p in points]]


class PlaceField(forms.ChoiceField):
    def __init__(self, *, office, **kwargs):
        super().__init__(
            choices=place_choices(office),
            required=False,
            error_messages={"invalid_choice": _("Lokasi tidak dikenal untuk kantor ini.")},
            **kwargs,
        )


class OfficeForm(forms.Form):
    def __init__(self, *args, office, **kwargs):
        self.office = office
        super().__init__(*args, **kwargs)

    def point(self, field: str):
        value = self.cleaned_data.get(field) or STORE
        if value == STORE:
            return None
        return self.office.service_points.get(pk=value)


class ReceiptForm(OfficeForm):
    serial_first = forms.CharField(label=_("Nomor seri awal"), max_length=20)
    serial_last = forms.CharField(label=_("Nomor seri akhir"), max_length=20)
    source = forms.ChoiceField(
        label=_("Sumber"),
        choices=LedgerEntry.Source.choices,
        error_messages={"invalid_choice": _("Sumber harus Kemendagri atau provinsi.")},
    )
    reference = forms.CharField(label=_("Nomor surat/pengiriman"), max_length=100)
    request = forms.ChoiceField(label=_("Untuk permohonan"), required=False)

    def __init__(self, *args, office, **kwargs):
        super().__init__(*args, office=office, **kwargs)
        from ektp.cards.models import BlankRequest

        open_requests = BlankRequest.objects.filter(
            office=office,
            status__in=[BlankRequest.Status.SUBMITTED, BlankRequest.Status.PARTIALLY_DELIVERED],
        )
        self.fields["request"].choices = [("", "—")] + [
            (str(r.pk), f"{r.quantity} blangko, diajukan {r.submitted_at:%d-%m-%Y}")
            for r in open_requests
        ]
        self.fields["request"].error_messages["invalid_choice"] = _(
            "Permohonan tidak dikenal atau sudah diterima lengkap."
        )


class TransferForm(OfficeForm):
    from_place = forms.ChoiceField(label=_("Dari"), required=False)
    to_place = forms.ChoiceField(label=_("Ke"), required=False)
    quantity = forms.IntegerField(
        label=_("Jumlah"), min_value=1, max_value=100000, required=False, error_messages=INT_ERRORS
    )
    serials = forms.CharField(
        label=_("Atau nomor seri (pisahkan dengan koma)"), max_length=2000, required=False
    )
    reason = forms.CharField(label=_("Keterangan"), max_length=250, required=False)

    def __init__(self, *args, office, **kwargs):
        super().__init__(*args, office=office, **kwargs)
        for name in ("from_place", "to_place"):
            self.fields[name].choices = place_choices(office)
            self.fields[name].error_messages["invalid_choice"] = _(
                "Lokasi tidak dikenal untuk kantor ini."
            )

    def clean(self):
        data = super().clean()
        if not data.get("quantity") and not (data.get("serials") or "").strip():
            raise forms.ValidationError(_("Isi jumlah atau nomor seri blangko yang dipindahkan."))
        return data

    def serial_list(self) -> list[str]:
        raw = self.cleaned_data.get("serials") or ""
        return [s for s in raw.replace("\n", ",").replace(" ", ",").split(",") if s.strip()]


class SpoilForm(OfficeForm):
    serial = forms.CharField(label=_("Nomor seri"), max_length=20)
    cause = forms.ChoiceField(
        label=_("Penyebab"),
        choices=LedgerEntry.SpoilCause.choices,
        error_messages={"invalid_choice": _("Penyebab harus salah cetak atau rusak fisik.")},
    )
    reason = forms.CharField(label=_("Alasan"), max_length=250)


class CountForm(OfficeForm):
    place = forms.ChoiceField(label=_("Lokasi"), required=False)
    counted = forms.IntegerField(
        label=_("Jumlah fisik"), min_value=0, max_value=10_000_000, error_messages=INT_ERRORS
    )
    note = forms.CharField(label=_("Catatan"), max_length=250, required=False)

    def __init__(self, *args, office, **kwargs):
        super().__init__(*args, office=office, **kwargs)
        self.fields["place"].choices = place_choices(office)
        self.fields["place"].error_messages["invalid_choice"] = _(
            "Lokasi tidak dikenal untuk kantor ini."
        )


class PrintForm(forms.Form):
    point = forms.UUIDField(error_messages={"invalid": _("Titik layanan tidak sah.")})
    nik = NikField(required=False)
    request = forms.UUIDField(
        required=False, error_messages={"invalid": _("Nomor permohonan tidak sah.")}
    )
    serial = forms.RegexField(
        regex=SERIAL_RE,
        required=False,
        error_messages={"invalid": _("Nomor seri harus berupa 6–20 angka.")},
    )

    def clean(self):
        data = super().clean()
        if bool(data.get("nik")) == bool(data.get("request")):
            raise forms.ValidationError(_("Pilih satu penduduk (NIK) atau satu permohonan."))
        return data


class HandOverForm(forms.Form):
    received_by_name = forms.CharField(label=_("Nama penerima"), max_length=100)
    relation = forms.ChoiceField(
        label=_("Hubungan"),
        choices=list(RECEIVER_RELATIONS.items()),
        error_messages={"invalid_choice": _("Hubungan penerima tidak dikenal.")},
    )


class MisprintForm(forms.Form):
    reason = forms.CharField(label=_("Alasan salah cetak"), max_length=250)


class ReprintRequestForm(forms.Form):
    nik = NikField()
    reason = forms.ChoiceField(
        label=_("Alasan"),
        choices=[c for c in PrintReason.choices if c[0] != PrintReason.NEW],
        error_messages={"invalid_choice": _("Alasan cetak ulang tidak dikenal.")},
    )
    old_card_usable = forms.BooleanField(label=_("Kartu lama masih dapat dipakai"), required=False)


class ReconcileForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Hasil cetak"),
        choices=list(RECONCILE_OUTCOMES.items()),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Pilih hasil cetak: tercetak, rusak, atau tidak tercetak."),
            "invalid_choice": _("Pilih hasil cetak: tercetak, rusak, atau tidak tercetak."),
        },
    )
    note = forms.CharField(
        label=_("Keterangan"),
        max_length=250,
        required=False,
        error_messages={"max_length": _("Keterangan paling banyak 250 karakter.")},
    )

"""Forms for jemput bola pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

DATE_ERRORS = {
    "invalid": _("Tanggal harus berformat TTTT-BB-HH."),
    "required": _("Tanggal wajib diisi."),
}
DATE = forms.DateInput(attrs={"type": "date"})


class VisitForm(forms.Form):
    village = forms.CharField(label=_("Kode desa/kelurahan"), max_length=13)
    date = forms.DateField(label=_("Tanggal"), widget=DATE, error_messages=DATE_ERRORS)
    service_point = forms.ChoiceField(label=_("Mobil keliling"))
    team = forms.CharField(label=_("Tim"), max_length=300)
    expected_people = forms.IntegerField(label=_("Perkiraan orang"), min_value=0, max_value=100000)
    blanks_to_carry = forms.IntegerField(label=_("Blangko dibawa"), min_value=0, max_value=100000)

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_point"].choices = [(str(u.pk), u.name) for u in units]


class ResultForm(forms.Form):
    recorded_people = forms.IntegerField(label=_("Orang direkam"), min_value=0, max_value=100000)
    cards_printed = forms.IntegerField(
        label=_("Kartu dicetak"), min_value=0, max_value=100000, required=False
    )
    note = forms.CharField(label=_("Catatan"), max_length=500, required=False)


class ClosureForm(forms.Form):
    region = forms.CharField(label=_("Kode wilayah"), max_length=13)
    starts_on = forms.DateField(label=_("Mulai"), widget=DATE, error_messages=DATE_ERRORS)
    ends_on = forms.DateField(
        label=_("Sampai"), widget=DATE, required=False, error_messages=DATE_ERRORS
    )
    reason = forms.CharField(label=_("Alasan"), max_length=200)


EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


def _check_year(form: forms.Form, name: str) -> None:
    value = form.cleaned_data.get(name)
    if value is not None and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        form.add_error(
            name,
            _("Tanggal harus antara tahun %(a)s dan %(b)s.")
            % {"a": EARLIEST_YEAR, "b": LATEST_YEAR},
        )


def _check_period(form: forms.Form, start: str, end: str, message: str) -> None:
    first, last = form.cleaned_data.get(start), form.cleaned_data.get(end)
    if first and last and last < first:
        form.add_error(end, message)


PERCENT_ERRORS = {
    "invalid": _("Isi angka persen, mis. 92 atau 92.5."),
    "required": _("Ambang wajib diisi."),
    # Django fills in %(limit_value)s; a literal percent sign is written %%.
    "min_value": _("Ambang tidak boleh kurang dari %(limit_value)s %%."),
    "max_value": _("Ambang tidak boleh lebih dari %(limit_value)s %%."),
    "max_decimal_places": _("Ambang paling banyak dua angka di belakang koma."),
    "max_digits": _("Ambang paling banyak 100,00 %%."),
}


class PolicyForm(forms.Form):
    """Zone thresholds for a period (checked again by coverage.services.create_policy)."""

    region = forms.CharField(
        label=_("Kode provinsi/kabupaten/kota"),
        max_length=13,
        required=False,
        help_text=_("Kosongkan untuk kebijakan nasional."),
    )
    green_min = forms.DecimalField(
        label=_("Hijau mulai (%)"),
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        error_messages=PERCENT_ERRORS,
    )
    yellow_min = forms.DecimalField(
        label=_("Kuning mulai (%)"),
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        error_messages=PERCENT_ERRORS,
        help_text=_("Di bawah ambang kuning berarti merah."),
    )
    valid_from = forms.DateField(label=_("Berlaku sejak"), widget=DATE, error_messages=DATE_ERRORS)
    valid_to = forms.DateField(
        label=_("Berlaku sampai"),
        widget=DATE,
        required=False,
        error_messages=DATE_ERRORS,
        help_text=_("Kosongkan bila berlaku sampai diganti."),
    )
    note = forms.CharField(label=_("Keterangan"), max_length=200, required=False)

    def clean(self):
        data = super().clean()
        green, yellow = data.get("green_min"), data.get("yellow_min")
        if green is not None and yellow is not None and green <= yellow:
            self.add_error(
                "yellow_min",
                _(
                    "Ambang kuning (%(y)s %%) harus lebih rendah dari ambang hijau (%(g)s %%): "
                    "ambang tidak boleh tumpang tindih."
                )
                % {"y": yellow, "g": green},
            )
        for name in ("valid_from", "valid_to"):
            _check_year(self, name)
        _check_period(
            self,
            "valid_from",
            "valid_to",
            _("Tanggal berakhir tidak boleh sebelum tanggal mulai berlaku."),
        )
        return data


class ZoneClosureForm(ClosureForm):
    """ClosureForm with the period checked before the service sees it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].error_messages["required"] = _("Kode wilayah wajib diisi.")
        self.fields["reason"].error_messages["required"] = _("Alasan penutupan wajib diisi.")

    def clean(self):
        data = super().clean()
        for name in ("starts_on", "ends_on"):
            _check_year(self, name)
        _check_period(
            self,
            "starts_on",
            "ends_on",
            _("Tanggal akhir penutupan tidak boleh sebelum tanggal mulai."),
        )
        return data


class EndForm(forms.Form):
    """End a policy or a closure on a date."""

    id = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    ends_on = forms.DateField(label=_("Berakhir"), widget=DATE, error_messages=DATE_ERRORS)

    def clean(self):
        data = super().clean()
        _check_year(self, "ends_on")
        return data

"""Forms of naskah dinas: the day of a rekap harian and the office's letterhead."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from ektp.naskah.models import DEFAULT_NUMBER_FORMAT


class DayForm(forms.Form):
    tanggal = forms.DateField(
        label="Tanggal",
        required=False,
        input_formats=["%Y-%m-%d", "%d-%m-%Y"],
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_tanggal(self):
        day = self.cleaned_data["tanggal"]
        if day is not None and day > timezone.localdate():
            raise forms.ValidationError("Rekap harian hanya untuk hari ini atau hari yang lalu.")
        return day


class LetterheadForm(forms.Form):
    """The kop surat and the head's signature block; the service checks the rules."""

    government = forms.CharField(label="Baris pemerintah", max_length=150)
    agency = forms.CharField(label="Nama dinas", max_length=150)
    address = forms.CharField(label="Alamat kantor", max_length=250)
    phone = forms.CharField(label="Telepon", max_length=40, required=False)
    email = forms.EmailField(label="Surel", max_length=100, required=False)
    city = forms.CharField(label="Tempat surat (mis. Gedong Tataan)", max_length=60)
    head_name = forms.CharField(label="Nama kepala dinas", max_length=100)
    head_title = forms.CharField(label="Jabatan", max_length=150)
    head_rank = forms.CharField(label="Pangkat/golongan", max_length=60)
    head_nip = forms.CharField(label="NIP (18 angka)", max_length=21)
    classification = forms.CharField(label="Kode klasifikasi surat", max_length=20)
    number_format = forms.CharField(
        label="Format nomor surat",
        max_length=100,
        initial=DEFAULT_NUMBER_FORMAT,
        help_text="Unsur: {kode}, {nomor} (4 angka), {bulan} (Romawi), {tahun}. "
        "Contoh hasil: 470/0001/Disdukcapil/XII/2026.",
    )

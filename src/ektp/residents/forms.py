from django import forms
from django.utils.translation import gettext_lazy as _

from ektp.residents.models import (
    Citizenship,
    FamilyRelation,
    LifeStatus,
    MaritalStatus,
    Religion,
    Sex,
)


class SearchForm(forms.Form):
    q = forms.CharField(label=_("NIK, No. KK atau nama"), max_length=100, required=False)
    desa = forms.CharField(label=_("Kode desa/kecamatan"), max_length=13, required=False)


class ResidentForm(forms.Form):
    """Shapes the input; the registry rules live in services.validate_resident."""

    nik = forms.CharField(label=_("NIK"), max_length=16, required=False)
    kk_number = forms.CharField(label=_("No. KK"), max_length=16, required=False)
    family_relation = forms.ChoiceField(
        label=_("Hubungan dalam keluarga"), choices=FamilyRelation.choices
    )
    name = forms.CharField(label=_("Nama lengkap"), max_length=100, required=False)
    birth_place = forms.CharField(label=_("Tempat lahir"), max_length=60, required=False)
    birth_date = forms.DateField(
        label=_("Tanggal lahir"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Tanggal lahir bukan tanggal yang sah.")},
    )
    sex = forms.ChoiceField(label=_("Jenis kelamin"), choices=Sex.choices)
    marital_status = forms.ChoiceField(label=_("Status perkawinan"), choices=MaritalStatus.choices)
    religion = forms.ChoiceField(label=_("Agama"), choices=Religion.choices)
    occupation = forms.CharField(label=_("Pekerjaan"), max_length=60, required=False)
    citizenship = forms.ChoiceField(label=_("Kewarganegaraan"), choices=Citizenship.choices)
    has_itap = forms.BooleanField(label=_("Memiliki ITAP (khusus WNA)"), required=False)
    mother_name = forms.CharField(label=_("Nama ibu kandung"), max_length=100, required=False)
    address_region = forms.CharField(
        label=_("Kode desa/kelurahan"),
        max_length=13,
        required=False,
        help_text=_("Contoh: 18.09.01.2001"),
    )
    rt = forms.CharField(label=_("RT"), max_length=3, required=False)
    rw = forms.CharField(label=_("RW"), max_length=3, required=False)
    street = forms.CharField(label=_("Alamat (jalan, dusun)"), max_length=200, required=False)
    phone = forms.CharField(label=_("Nomor HP"), max_length=20, required=False)
    email = forms.CharField(label=_("Email"), max_length=120, required=False)
    life_status = forms.ChoiceField(label=_("Status"), choices=LifeStatus.choices)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["nik"].disabled = True

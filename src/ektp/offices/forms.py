from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ektp.core.models import Role
from ektp.offices.models import WEEKDAYS, Device, ServicePoint
from ektp.offices.setup import ROLE_RANK
from ektp.regions.models import Region

REQUIRED = {"required": _("Wajib diisi.")}
CHOICE = {**REQUIRED, "invalid_choice": _("Pilih salah satu pilihan yang tersedia.")}


class DeviceStatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status baru"), choices=Device.Status.choices, error_messages=CHOICE
    )
    reason = forms.CharField(label=_("Alasan"), max_length=250, error_messages=REQUIRED)


class MonthForm(forms.Form):
    bulan = forms.RegexField(
        label=_("Bulan"),
        regex=r"\A[0-9]{4}-(0[1-9]|1[0-2])\Z",
        required=False,
        error_messages={"invalid": _("Bulan harus berformat TTTT-BB, misalnya 2025-03.")},
    )

    def clean_bulan(self):
        value = self.cleaned_data["bulan"]
        if value and not 2000 <= int(value[:4]) <= 2100:
            raise forms.ValidationError(_("Tahun harus antara 2000 dan 2100."))
        return value


class SpecialDayForm(forms.Form):
    day = forms.DateField(
        label=_("Tanggal"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={**REQUIRED, "invalid": _("Tanggal bukan tanggal yang sah (TTTT-BB-HH).")},
    )
    is_open = forms.TypedChoiceField(
        label=_("Jenis"),
        choices=[("1", _("Buka khusus")), ("0", _("Tutup"))],
        coerce=lambda v: v == "1",
        error_messages=CHOICE,
    )
    whole_office = forms.BooleanField(label=_("Berlaku untuk semua titik kantor"), required=False)
    opens_at = forms.TimeField(
        label=_("Buka pukul"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        error_messages={"invalid": _("Jam tidak sah (JJ:MM).")},
    )
    closes_at = forms.TimeField(
        label=_("Tutup pukul"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        error_messages={"invalid": _("Jam tidak sah (JJ:MM).")},
    )
    reason = forms.CharField(label=_("Alasan"), max_length=250, error_messages=REQUIRED)


TIME = {"invalid": _("Jam tidak sah (JJ:MM).")}


class CounterNameForm(forms.Form):
    name = forms.CharField(
        label=_("Nama loket"),
        max_length=40,
        error_messages={**REQUIRED, "max_length": _("Paling banyak 40 karakter.")},
    )


class ServicePointForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Jenis"), choices=ServicePoint.Kind.choices, error_messages=CHOICE
    )
    code = forms.CharField(label=_("Kode"), max_length=20, error_messages=REQUIRED)
    name = forms.CharField(label=_("Nama"), max_length=150, error_messages=REQUIRED)
    region = forms.ChoiceField(label=_("Kecamatan"), required=False, error_messages=CHOICE)
    address = forms.CharField(label=_("Alamat"), max_length=250, required=False)
    per_kit_daily_throughput = forms.IntegerField(
        label=_("Kapasitas per alat per hari"),
        min_value=1,
        max_value=1000,
        initial=60,
        error_messages={
            **REQUIRED,
            "invalid": _("Isi dengan angka."),
            "min_value": _("Paling sedikit 1."),
            "max_value": _("Paling banyak 1000."),
        },
    )
    is_active = forms.BooleanField(label=_("Aktif"), required=False, initial=True)

    def __init__(self, *args, office, **kwargs):
        super().__init__(*args, **kwargs)
        districts = Region.objects.filter(
            level=Region.Level.KECAMATAN, code__startswith=office.region_id + "."
        ).order_by("code")
        self.fields["region"].choices = [("", "—")] + [(r.code, r.name) for r in districts]

    def clean_region(self):
        code = self.cleaned_data["region"]
        return Region.objects.get(code=code) if code else None


class DeviceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Jenis"), choices=Device.Kind.choices, error_messages=CHOICE)
    serial_number = forms.CharField(label=_("Nomor seri"), max_length=60, error_messages=REQUIRED)


class WorkingHoursForm(forms.Form):
    """One row per weekday: open or not, from when to when."""

    def __init__(self, *args, week=None, **kwargs):
        super().__init__(*args, **kwargs)
        week = week or {}
        for number, name in WEEKDAYS:
            hours = week.get(number)
            self.fields[f"open_{number}"] = forms.BooleanField(
                label=name, required=False, initial=hours is not None
            )
            label = _("%(day)s buka") % {"day": name}
            self.fields[f"opens_{number}"] = forms.TimeField(
                label=label,
                required=False,
                initial=hours[0] if hours else None,
                widget=forms.TimeInput(attrs={"type": "time", "aria-label": label}, format="%H:%M"),
                error_messages=TIME,
            )
            label = _("%(day)s tutup") % {"day": name}
            self.fields[f"closes_{number}"] = forms.TimeField(
                label=label,
                required=False,
                initial=hours[1] if hours else None,
                widget=forms.TimeInput(attrs={"type": "time", "aria-label": label}, format="%H:%M"),
                error_messages=TIME,
            )

    def rows(self):
        return [
            (name, self[f"open_{n}"], self[f"opens_{n}"], self[f"closes_{n}"])
            for n, name in WEEKDAYS
        ]

    def week(self) -> dict:
        data = self.cleaned_data
        return {
            n: (data[f"opens_{n}"], data[f"closes_{n}"]) if data[f"open_{n}"] else None
            for n, _name in WEEKDAYS
        }


class StaffForm(forms.Form):
    username = forms.CharField(label=_("Nama pengguna"), max_length=150, error_messages=REQUIRED)
    full_name = forms.CharField(label=_("Nama lengkap"), max_length=200, required=False)
    role = forms.ChoiceField(label=_("Peran"), error_messages=CHOICE)
    region = forms.ChoiceField(label=_("Wilayah kerja"), error_messages=CHOICE)
    password = forms.CharField(
        label=_("Kata sandi awal"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages=REQUIRED,
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        rank = ROLE_RANK.get(actor.role, 0)
        self.fields["role"].choices = [
            (value, label)
            for value, label in Role.choices
            if value != Role.SYSTEM_ADMIN and ROLE_RANK[value] <= rank
        ]
        regions = Region.objects.filter(level__in=[Region.Level.PROVINSI, Region.Level.KABKOTA])
        code = actor.jurisdiction_code
        if code is not None:
            regions = regions.filter(Q(code=code) | Q(code__startswith=code + "."))
        self.fields["region"].choices = [
            (r.code, f"{r.code} {r.name}") for r in regions.order_by("code")
        ]

    def clean_region(self):
        return Region.objects.get(code=self.cleaned_data["region"])


class PasswordResetForm(forms.Form):
    password = forms.CharField(
        label=_("Kata sandi baru"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages=REQUIRED,
    )

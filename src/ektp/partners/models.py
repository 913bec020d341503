"""Partner data: staged imports (KUA marriages, KPU voter lists), elections, IKD activations
and targets."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ektp.residents.models import MaritalStatus


class ImportKind(models.TextChoices):
    MARRIAGES = "kua", _("Pernikahan (KUA)")
    VOTERS = "kpu", _("Daftar pemilih (KPU)")
    IKD = "ikd", _("Aktivasi IKD")


class Election(models.Model):
    """An election in a kab/kota with its polling day (a Pilkada, a Pemilu)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("nama pemilihan"), max_length=150)
    kabkota = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("kab/kota")
    )
    polling_day = models.DateField(_("hari pemungutan suara"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-polling_day", "name"]
        verbose_name = _("pemilihan")
        verbose_name_plural = _("pemilihan")
        constraints = [
            models.UniqueConstraint(
                fields=["kabkota", "name", "polling_day"], name="election_once_per_district"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.polling_day:%d-%m-%Y})"


class PartnerImport(models.Model):
    """One partner file read into staging: checked and previewed, then applied (or not)."""

    class Status(models.TextChoices):
        STAGED = "staged", _("Pratinjau")
        APPLIED = "applied", _("Diterapkan")
        DISCARDED = "discarded", _("Dibatalkan")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("jenis"), max_length=3, choices=ImportKind.choices)
    kabkota = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("kab/kota")
    )
    election = models.ForeignKey(
        Election, on_delete=models.PROTECT, null=True, blank=True, related_name="imports"
    )
    file_name = models.CharField(_("nama berkas"), max_length=200)
    sha256 = models.CharField(_("SHA-256 berkas"), max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.STAGED)
    total_lines = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("impor data mitra")
        verbose_name_plural = _("impor data mitra")
        constraints = [
            # The same file is applied once per district (and election): a second apply
            # loses the race here, whatever the workers.
            models.UniqueConstraint(
                fields=["kind", "kabkota", "sha256"],
                condition=Q(status="applied", election__isnull=True),
                name="partnerimport_file_applied_once",
            ),
            models.UniqueConstraint(
                fields=["kind", "kabkota", "sha256", "election"],
                condition=Q(status="applied", election__isnull=False),
                name="partnerimport_file_applied_once_per_election",
            ),
            models.CheckConstraint(
                condition=~Q(kind="kpu") | Q(election__isnull=False),
                name="partnerimport_voters_need_election",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name}"

    @property
    def result_lines(self) -> list[tuple[str, object]]:
        """What applying the import did, as (label, figure) pairs for the page."""
        return [(RESULT_LABELS[k], v) for k, v in self.result.items() if k in RESULT_LABELS]


# What applying a staged row changes, and what an applied import did, in words for the pages.
CHANGE_LABELS = {
    "status_perkawinan": _("status perkawinan"),
    "menjadi_wajib_ktp": _("menjadi wajib KTP sejak"),
    "diundang_rekam": _("diundang merekam KTP-el"),
    "sasaran_jemput_bola": _("sasaran jemput bola (belum rekam)"),
    "pemilih_pemula": _("pemilih pemula"),
    "aktivasi_ikd": _("aktivasi IKD pada"),
}
RESULT_LABELS = {
    "marriages": _("pernikahan dicatat"),
    "status_changed": _("status perkawinan diubah"),
    "became_wajib_ktp": _("menjadi wajib KTP"),
    "invited": _("diundang merekam"),
    "not_invited": _("belum dapat diundang"),
    "invitation_note": _("keterangan undangan"),
    "voters": _("pemilih dicatat"),
    "already_listed": _("pemilih sudah ada sebelumnya"),
    "activations": _("aktivasi IKD dicatat"),
}


def _said(value) -> str:
    if value is True:
        return ""
    if isinstance(value, list):  # a marital status from → to
        labels = dict(MaritalStatus.choices)
        return ": " + " → ".join(str(labels.get(v, v)) for v in value)
    return ": " + str(value)


class Match(models.TextChoices):
    NIK = "nik", _("Cocok NIK")
    DEDUP = "dedup", _("Cocok demografi (penunggalan)")
    NONE = "none", _("Tidak cocok")
    ELSEWHERE = "elsewhere", _("Terdaftar di daerah lain")
    INVALID = "invalid", _("Baris bermasalah")


class StagedRow(models.Model):
    """One person named on one line of a staged file, with the check's verdict."""

    id = models.BigAutoField(primary_key=True)
    partner_import = models.ForeignKey(PartnerImport, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField(_("baris"))
    role = models.CharField(_("peran"), max_length=10, blank=True)
    data = models.JSONField(default=dict)
    match = models.CharField(max_length=10, choices=Match.choices)
    resident = models.ForeignKey(
        "residents.Resident", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    score = models.FloatField(null=True, blank=True)
    problem = models.CharField(_("masalah"), max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["line", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner_import", "line", "role"], name="stagedrow_line_role_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner_import_id} baris {self.line} {self.role}".rstrip()

    @property
    def change_text(self) -> list[str]:
        """What applying this row changes, in words."""
        return [f"{CHANGE_LABELS.get(k, k)}{_said(v)}" for k, v in self.changes.items()]


class Marriage(models.Model):
    """A marriage registered at a KUA, kept as the evidence of a change of marital status."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    certificate = models.CharField(_("nomor akta nikah"), max_length=60)
    kua = models.CharField(_("KUA"), max_length=150)
    married_on = models.DateField(_("tanggal nikah"))
    husband = models.ForeignKey(
        "residents.Resident", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    wife = models.ForeignKey(
        "residents.Resident", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    partner_import = models.ForeignKey(PartnerImport, on_delete=models.PROTECT, related_name="+")
    line = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("pernikahan")
        verbose_name_plural = _("pernikahan")
        constraints = [
            models.UniqueConstraint(fields=["certificate", "kua"], name="marriage_certificate_once")
        ]

    def __str__(self) -> str:
        return f"{self.certificate} ({self.kua})"


class MaritalChange(models.Model):
    """A resident's marital status changed on the evidence of a marriage."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    resident = models.ForeignKey("residents.Resident", on_delete=models.PROTECT, related_name="+")
    marriage = models.ForeignKey(Marriage, on_delete=models.PROTECT, related_name="changes")
    from_status = models.CharField(max_length=12)
    to_status = models.CharField(max_length=12)
    became_wajib_ktp = models.BooleanField(default=False)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "marriage"], name="maritalchange_once_per_marriage"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resident_id}: {self.from_status} → {self.to_status}"


class Voter(models.Model):
    """One voter on a KPU list for an election, matched (or not) to a resident."""

    class Standing(models.TextChoices):
        RESIDENT = "resident", _("Penduduk daerah ini")
        UNKNOWN = "unknown", _("Tidak dikenal di database")
        ELSEWHERE = "elsewhere", _("Terdaftar di daerah lain")

    id = models.BigAutoField(primary_key=True)
    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="voters")
    nik = models.CharField(_("NIK"), max_length=16)
    name = models.CharField(_("nama"), max_length=100)
    birth_date = models.DateField(_("tanggal lahir"))
    village = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("desa")
    )
    tps = models.CharField(_("TPS"), max_length=10, blank=True)
    resident = models.ForeignKey(
        "residents.Resident", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    standing = models.CharField(max_length=10, choices=Standing.choices)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_note = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("pemilih")
        verbose_name_plural = _("pemilih")
        constraints = [
            models.UniqueConstraint(fields=["election", "nik"], name="voter_once_per_election")
        ]
        indexes = [models.Index(fields=["election", "standing"], name="voter_election_standing")]

    def __str__(self) -> str:
        return f"{self.nik} {self.name}"


class IkdActivation(models.Model):
    """A resident's Identitas Kependudukan Digital activated at a counter or by outreach."""

    class Channel(models.TextChoices):
        COUNTER = "loket", _("Loket")
        OUTREACH = "jemput_bola", _("Jemput bola")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    resident = models.OneToOneField(
        "residents.Resident", on_delete=models.PROTECT, related_name="ikd_activation"
    )
    channel = models.CharField(_("cara"), max_length=12, choices=Channel.choices)
    place = models.CharField(_("tempat"), max_length=150)
    activated_on = models.DateField(_("tanggal aktivasi"))
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("aktivasi IKD")
        verbose_name_plural = _("aktivasi IKD")

    def __str__(self) -> str:
        return f"{self.resident_id} {self.activated_on}"


class IkdDenominator(models.TextChoices):
    HOLDERS = "pemegang", _("Pemegang KTP-el (wajib KTP yang sudah rekam)")
    WAJIB_KTP = "wajib_ktp", _("Seluruh wajib KTP")


class IkdTarget(models.Model):
    """A share of a kecamatan's residents to activate the IKD by a date, set by the head."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kecamatan = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("kecamatan")
    )
    rate = models.DecimalField(_("target (%)"), max_digits=5, decimal_places=2)
    denominator = models.CharField(_("penyebut"), max_length=10, choices=IkdDenominator.choices)
    due_date = models.DateField(_("batas waktu"))
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kecamatan_id"]
        verbose_name = _("target aktivasi IKD")
        verbose_name_plural = _("target aktivasi IKD")
        constraints = [
            models.UniqueConstraint(fields=["kecamatan"], name="ikdtarget_one_per_kecamatan"),
            models.CheckConstraint(
                condition=Q(rate__gt=0, rate__lte=100), name="ikdtarget_rate_0_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kecamatan_id}: {self.rate} % ({self.denominator})"

"""Suket: policy rules with dates, issued certificates and their per-office numbering."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

models.CharField.register_lookup(Length)

DEFAULT_VALID_MONTHS = 6


class Authority(models.TextChoices):
    MINISTRY = "ministry", _("Kementerian (Ditjen Dukcapil)")
    PROVINCE = "province", _("Provinsi")
    OFFICE = "office", _("Kantor Disdukcapil")


class RuleMode(models.TextChoices):
    ALLOW = "allow", _("Boleh menurut aturan bawaan")
    PURPOSE_ONLY = "purpose_only", _("Hanya untuk keperluan tertentu")
    FORBID = "forbid", _("Dilarang")


class SuketReason(models.TextChoices):
    NOT_PRR = "belum_prr", _("Rekaman belum siap cetak (belum PRR)")
    NO_BLANK = "blangko_habis", _("Blangko habis")
    TECHNICAL_FAILURE = "gangguan_teknis", _("Gangguan teknis")
    RATIONED = "jatah_cetak", _("Cetak dijatah: belum ada blangko untuk penduduk ini hari ini")


class SuketRule(models.Model):
    """A dated policy on suket from the ministry, a province or one office."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    authority = models.CharField(_("penerbit kebijakan"), max_length=10, choices=Authority.choices)
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("wilayah berlaku"),
        help_text=_("Provinsi untuk kebijakan provinsi, kabupaten/kota untuk kebijakan kantor."),
    )
    title = models.CharField(_("judul"), max_length=150)
    reference = models.CharField(_("dasar (nomor surat edaran)"), max_length=150, blank=True)
    mode = models.CharField(_("ketentuan"), max_length=12, choices=RuleMode.choices)
    purpose = models.CharField(_("keperluan"), max_length=100, blank=True)
    effective_from = models.DateField(_("berlaku sejak"))
    effective_to = models.DateField(_("berlaku sampai"), null=True, blank=True)
    issue_until = models.DateField(_("penerbitan sampai"), null=True, blank=True)
    valid_until = models.DateField(_("suket berlaku sampai"), null=True, blank=True)
    valid_months = models.PositiveSmallIntegerField(
        _("masa berlaku (bulan)"), default=DEFAULT_VALID_MONTHS
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_from", "-created_at"]
        verbose_name = _("kebijakan suket")
        verbose_name_plural = _("kebijakan suket")
        constraints = [
            models.CheckConstraint(
                condition=Q(authority="ministry", region__isnull=True)
                | Q(Exact(Length("region"), 2), authority="province")
                | Q(Exact(Length("region"), 5), authority="office"),
                name="suketrule_region_fits_authority",
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="suketrule_effective_period_ordered",
            ),
            models.CheckConstraint(
                condition=Q(issue_until__isnull=True) | Q(issue_until__gte=F("effective_from")),
                name="suketrule_issue_until_after_start",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(issue_until__isnull=False, valid_until__gte=F("issue_until")),
                name="suketrule_valid_until_after_issue_until",
            ),
            models.CheckConstraint(
                condition=Q(valid_months__gte=1, valid_months__lte=24),
                name="suketrule_valid_months_1_24",
            ),
            models.CheckConstraint(
                condition=~Q(mode="purpose_only") | ~Q(purpose=""),
                name="suketrule_purpose_only_names_purpose",
            ),
            models.CheckConstraint(condition=~Q(title=""), name="suketrule_has_title"),
        ]

    def __str__(self) -> str:
        return f"{self.get_authority_display()} {self.region_id or ''}: {self.title}".strip()

    def valid_until_for(self, issued_on: dt.date) -> dt.date:
        """Return the last day a suket issued on this day stays valid under this rule."""
        if self.valid_until is not None:
            return self.valid_until
        return add_months(issued_on, self.valid_months)


def add_months(day: dt.date, months: int) -> dt.date:
    """Return the same day `months` later (the month's last day when it is shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)


class SuketCounter(models.Model):
    """The last number given by one office in one year; locked while a number is taken."""

    office = models.ForeignKey("offices.Office", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("penomoran suket")
        verbose_name_plural = _("penomoran suket")
        constraints = [
            models.UniqueConstraint(fields=["office", "year"], name="suketcounter_office_year"),
        ]

    def __str__(self) -> str:
        return f"{self.office_id} {self.year}: {self.last}"


class Suket(models.Model):
    """One surat keterangan issued to one resident, as it was printed and signed."""

    class Status(models.TextChoices):
        VALID = "valid", _("Berlaku")
        VOIDED = "voided", _("Tidak berlaku (KTP-el sudah dicetak)")
        REVOKED = "revoked", _("Dicabut")
        EXPIRED = "expired", _("Kedaluwarsa")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(_("nomor"), max_length=60, unique=True)
    resident = models.ForeignKey(
        "residents.Resident", on_delete=models.PROTECT, related_name="sukets"
    )
    nik = models.CharField(_("NIK"), max_length=16)
    name = models.CharField(_("nama"), max_length=100)
    birth_place = models.CharField(_("tempat lahir"), max_length=60)
    birth_date = models.DateField(_("tanggal lahir"))
    sex = models.CharField(_("jenis kelamin"), max_length=1)
    address = models.CharField(_("alamat"), max_length=400)
    recorded_on = models.DateField(_("tanggal perekaman"))
    reason = models.CharField(_("alasan"), max_length=16, choices=SuketReason.choices)
    reason_note = models.CharField(_("keterangan alasan"), max_length=250, blank=True)
    purpose = models.CharField(_("keperluan"), max_length=100, blank=True)
    rule = models.ForeignKey(
        SuketRule, on_delete=models.PROTECT, null=True, blank=True, related_name="sukets"
    )
    rule_source = models.CharField(_("dasar kebijakan"), max_length=300)
    issued_at = models.DateTimeField(_("diterbitkan"), db_index=True)
    issued_on = models.DateField(_("tanggal terbit"))
    valid_until = models.DateField(_("berlaku sampai"))
    office = models.ForeignKey("offices.Office", on_delete=models.PROTECT, related_name="sukets")
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    kabkota_code = models.CharField(max_length=5, db_index=True, editable=False)
    province_code = models.CharField(max_length=2, db_index=True, editable=False)
    node = models.CharField(max_length=40, default="office")
    qr_payload = models.TextField(_("muatan QR bertanda tangan"))
    delivery_recorded_at = models.DateTimeField(
        _("dicatat untuk pengiriman"),
        null=True,
        blank=True,
        help_text=_("Saluran WhatsApp/email belum tersedia; PDF diunduh dari kantor."),
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.VALID, db_index=True
    )
    status_reason = models.CharField(_("alasan status"), max_length=250, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = _("suket")
        verbose_name_plural = _("suket")
        constraints = [
            models.UniqueConstraint(
                fields=["resident"],
                condition=Q(status="valid"),
                name="suket_one_valid_per_resident",
            ),
            models.UniqueConstraint(fields=["office", "number"], name="suket_number_per_office"),
            models.CheckConstraint(condition=Q(nik__length=16), name="suket_nik_16_digits"),
            models.CheckConstraint(
                condition=Q(valid_until__gte=F("issued_on")), name="suket_valid_after_issue"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["valid", "expired"]) | ~Q(status_reason=""),
                name="suket_void_or_revoke_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(reason="gangguan_teknis", reason_note__length__gt=0)
                | ~Q(reason="gangguan_teknis"),
                name="suket_technical_failure_explained",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def current_status(self, today: dt.date) -> str:
        """Return the status as of a day: a valid suket past its last day is expired."""
        if self.status == self.Status.VALID and self.valid_until < today:
            return self.Status.EXPIRED
        return self.status

    def current_status_label(self, today: dt.date) -> str:
        return self.Status(self.current_status(today)).label

    @property
    def masked_nik(self) -> str:
        """The NIK as the public verification shows it: only the region of first registration.
        Digits 7–12 are the birth date and 13–16 a serial; showing the serial would leave
        only the birth date to guess (and the status inquiry would confirm a guess)."""
        return mask_nik_public(self.nik)

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)


def mask_nik(nik: str) -> str:
    """Show the first 6 and last 4 digits of a NIK."""
    return nik[:6] + "******" + nik[-4:]


def mask_nik_public(nik: str) -> str:
    """Show only the first 6 digits of a NIK (province, kab/kota, kecamatan)."""
    return nik[:6] + "*" * (len(nik) - 6)


def mask_name(name: str) -> str:
    """Keep the first two letters of each word and hide the rest."""
    words = []
    for word in name.split():
        keep = 2 if len(word) > 2 else 1
        words.append(word[:keep] + "*" * (len(word) - keep))
    return " ".join(words)

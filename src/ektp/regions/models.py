"""Kemendagri regions: provinsi, kabupaten/kota, kecamatan, desa/kelurahan."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ektp.regions import codes


class Region(models.Model):
    """One region with its Kemendagri code; old codes keep a validity end and a successor."""

    class Level(models.IntegerChoices):
        PROVINSI = 1, _("Provinsi")
        KABKOTA = 2, _("Kabupaten/Kota")
        KECAMATAN = 3, _("Kecamatan")
        DESA = 4, _("Desa/Kelurahan")

    code = models.CharField(_("kode wilayah"), max_length=13, primary_key=True)
    level = models.PositiveSmallIntegerField(_("tingkat"), choices=Level.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    name = models.CharField(_("nama"), max_length=100, db_index=True)
    population_male = models.PositiveIntegerField(_("penduduk laki-laki"), null=True, blank=True)
    population_female = models.PositiveIntegerField(_("penduduk perempuan"), null=True, blank=True)
    valid_from = models.DateField(_("berlaku sejak"), null=True, blank=True)
    valid_to = models.DateField(_("berlaku sampai"), null=True, blank=True)
    successor = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="predecessors"
    )
    # Bumped by every change a decree makes (and by `ektp regions load`), so that an edge
    # node's delta pull of reference data can ask for the regions changed since its last pull.
    updated_at = models.DateTimeField(_("diperbarui"), null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("wilayah")
        verbose_name_plural = _("wilayah")
        constraints = [
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=4), name="region_level_1_4"
            ),
            models.CheckConstraint(
                condition=Q(level=1, parent__isnull=True) | Q(level__gt=1, parent__isnull=False),
                name="region_parent_iff_not_province",
            ),
        ]
        indexes = [models.Index(fields=["level", "code"], name="region_level_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def kind(self) -> str:
        """provinsi, kabupaten, kota, kecamatan, kelurahan, desa or desa_adat."""
        return codes.kind_of(self.code)

    @property
    def is_current(self) -> bool:
        return self.valid_to is None

    @property
    def population(self) -> int | None:
        if self.population_male is None or self.population_female is None:
            return None
        return self.population_male + self.population_female


class RegionChangeSet(models.Model):
    """One applied change decree (Kepmendagri): its number, dates and the file it came from."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(_("nomor keputusan"), max_length=100, unique=True)
    decided_on = models.DateField(_("tanggal keputusan"))
    effective_on = models.DateField(_("tanggal berlaku"))
    file_sha256 = models.CharField(_("sidik berkas (SHA-256)"), max_length=64, unique=True)
    source = models.TextField(_("isi berkas"))
    summary = models.JSONField(_("ringkasan dampak"), default=dict)
    applied_at = models.DateTimeField(_("diterapkan"), auto_now_add=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-applied_at"]
        verbose_name = _("keputusan perubahan wilayah")
        verbose_name_plural = _("keputusan perubahan wilayah")
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_on__gte=models.F("decided_on")),
                name="regionchangeset_effective_after_decision",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class RegionChange(models.Model):
    """One region written by one operation of a decree: the lineage that figures follow across
    the change (a split child's past is its parent's, a moved region's is its old code's)."""

    class Op(models.TextChoices):
        NEW = "new", _("Wilayah baru")
        RENAME = "rename", _("Ganti nama")
        RETIRE = "retire", _("Dihapus")
        SPLIT = "split", _("Pemekaran")
        MERGE = "merge", _("Penggabungan")
        MOVE = "move", _("Pindah induk / kode baru")

    change_set = models.ForeignKey(
        RegionChangeSet, on_delete=models.PROTECT, related_name="changes"
    )
    line = models.PositiveIntegerField(_("baris"))
    op = models.CharField(max_length=8, choices=Op.choices)
    old_code = models.CharField(max_length=13, blank=True, db_index=True)
    new_code = models.CharField(max_length=13, blank=True, db_index=True)
    old_name = models.CharField(max_length=100, blank=True)
    new_name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["change_set", "line", "id"]
        verbose_name = _("perubahan wilayah")
        verbose_name_plural = _("perubahan wilayah")
        constraints = [
            models.CheckConstraint(
                condition=~Q(old_code="") | ~Q(new_code=""), name="regionchange_names_a_region"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.op} {self.old_code or '-'} -> {self.new_code or '-'}"


class AddressChange(models.Model):
    """One resident's address moved (or renamed) by a decree: the decree's effect, row by row."""

    change_set = models.ForeignKey(
        RegionChangeSet, on_delete=models.PROTECT, related_name="address_changes"
    )
    resident = models.ForeignKey(
        "residents.Resident", on_delete=models.PROTECT, related_name="+", db_constraint=True
    )
    from_code = models.CharField(max_length=13)
    to_code = models.CharField(max_length=13)

    class Meta:
        verbose_name = _("perubahan alamat karena keputusan")
        verbose_name_plural = _("perubahan alamat karena keputusan")
        constraints = [
            models.UniqueConstraint(
                fields=["change_set", "resident"], name="addresschange_once_per_decree"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resident_id}: {self.from_code} -> {self.to_code}"

"""Coverage policy (zones), targets and daily snapshots."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Zone(models.TextChoices):
    GREEN = "hijau", _("Hijau")
    YELLOW = "kuning", _("Kuning")
    RED = "merah", _("Merah")
    NO_DATA = "tanpa_data", _("Tanpa data")


class CoveragePolicy(models.Model):
    """Zone thresholds (percent) valid for a period, nation-wide or for a region and below."""

    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("wilayah"),
        help_text=_("Kosong berarti berlaku nasional."),
    )
    green_min = models.DecimalField(_("ambang hijau (%)"), max_digits=5, decimal_places=2)
    yellow_min = models.DecimalField(_("ambang kuning (%)"), max_digits=5, decimal_places=2)
    valid_from = models.DateField(_("berlaku sejak"))
    valid_to = models.DateField(_("berlaku sampai"), null=True, blank=True)
    note = models.CharField(_("keterangan"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-valid_from"]
        verbose_name = _("kebijakan zona cakupan")
        verbose_name_plural = _("kebijakan zona cakupan")
        constraints = [
            models.CheckConstraint(
                condition=Q(yellow_min__gte=0, green_min__lte=100, green_min__gt=F("yellow_min")),
                name="coveragepolicy_thresholds_ordered",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="coveragepolicy_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        where = self.region_id or "nasional"
        return f"{where}: hijau ≥ {self.green_min} %, kuning ≥ {self.yellow_min} % sejak {self.valid_from}"


class PopulationKind(models.TextChoices):
    WAJIB_KTP = "wajib_ktp", _("Seluruh wajib KTP")
    PEMILIH_PEMULA = "pemilih_pemula", _("Pemilih pemula")


class Target(models.Model):
    """A share of a population to be recorded in a region by a due date."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("nama"), max_length=150)
    population = models.CharField(_("populasi"), max_length=20, choices=PopulationKind.choices)
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("wilayah")
    )
    rate = models.DecimalField(_("target (%)"), max_digits=5, decimal_places=2)
    due_date = models.DateField(_("batas waktu"))
    polling_day = models.DateField(_("hari pemungutan suara"), null=True, blank=True)
    previous_polling_day = models.DateField(
        _("hari pemungutan suara sebelumnya"), null=True, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_date", "name"]
        verbose_name = _("target perekaman")
        verbose_name_plural = _("target perekaman")
        constraints = [
            models.CheckConstraint(
                condition=Q(rate__gt=0, rate__lte=100), name="target_rate_0_100"
            ),
            models.CheckConstraint(
                condition=~Q(population="pemilih_pemula") | Q(polling_day__isnull=False),
                name="target_first_voters_need_polling_day",
            ),
            models.CheckConstraint(
                condition=Q(previous_polling_day__isnull=True)
                | Q(previous_polling_day__lt=F("polling_day")),
                name="target_previous_polling_before",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CoverageSnapshot(models.Model):
    """The coverage figures of one region (or the nation, code "") at the end of one day."""

    region_code = models.CharField(_("kode wilayah"), max_length=13, db_index=True)
    level = models.PositiveSmallIntegerField(_("tingkat"))
    day = models.DateField(_("tanggal"))
    wajib_ktp = models.PositiveIntegerField()
    recorded = models.PositiveIntegerField()
    printed = models.PositiveIntegerField()
    prr = models.PositiveIntegerField()
    ikd = models.PositiveIntegerField()
    taken_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["region_code", "day"]
        verbose_name = _("cuplikan cakupan")
        verbose_name_plural = _("cuplikan cakupan")
        constraints = [
            models.UniqueConstraint(fields=["region_code", "day"], name="snapshot_one_per_day"),
            models.CheckConstraint(
                condition=Q(level__gte=0, level__lte=4), name="snapshot_level_0_4"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region_code or 'nasional'} {self.day}: {self.recorded}/{self.wajib_ktp}"


class VillageCount(models.Model):
    """Today's coverage counts of one village, read by every page that shows a figure of
    today (summed up to its kecamatan, district, province and the nation).

    A write to a resident of the village bumps `version` in the writer's transaction
    (`coverage.receivers`); a reader that finds `counted_version` behind `version`, or a row
    of another day, counts that village again (one GROUP BY over its residents) and stores
    the counts only if no write came between (`version` unchanged)."""

    village = models.CharField(_("kode desa"), max_length=13, primary_key=True)
    day = models.DateField(_("tanggal hitung"))
    version = models.PositiveBigIntegerField(default=0)
    counted_version = models.BigIntegerField(default=-1)
    wajib_ktp = models.PositiveIntegerField(default=0)
    recorded = models.PositiveIntegerField(default=0)
    printed = models.PositiveIntegerField(default=0)
    prr = models.PositiveIntegerField(default=0)
    ikd = models.PositiveIntegerField(default=0)
    prr_stale = models.PositiveIntegerField(default=0)  # PRR recorded before yesterday

    class Meta:
        verbose_name = _("hitungan cakupan desa")
        verbose_name_plural = _("hitungan cakupan desa")
        constraints = [
            models.CheckConstraint(
                condition=Q(recorded__lte=F("wajib_ktp")), name="villagecount_recorded_le_wajib"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.village} {self.day}: {self.recorded}/{self.wajib_ktp}"


class CountedScope(models.Model):
    """A region ("" for the nation) whose villages were all counted on a day: from then on
    its `VillageCount` rows name every village of it that has wajib KTP (a village's first
    resident creates its row), so a reader needs no count over the whole region."""

    scope = models.CharField(_("kode wilayah"), max_length=13)
    day = models.DateField(_("tanggal hitung"))

    class Meta:
        verbose_name = _("wilayah terhitung")
        verbose_name_plural = _("wilayah terhitung")
        constraints = [
            models.UniqueConstraint(fields=["scope", "day"], name="countedscope_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.scope or 'nasional'} {self.day}"

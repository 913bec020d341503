"""Jemput bola: special-needs flags, zone closures, and planned visits with their results."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class SpecialNeed(models.Model):
    """A resident who needs the office to come to the door (the resident register has no such field)."""

    class Kind(models.TextChoices):
        DISABILITY = "disabilitas", _("Penyandang disabilitas")
        ODGJ = "odgj", _("ODGJ")
        BEDRIDDEN = "sakit_menahun", _("Sakit menahun / terbaring")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    resident = models.ForeignKey(
        "residents.Resident", on_delete=models.CASCADE, related_name="special_needs"
    )
    kind = models.CharField(_("jenis"), max_length=20, choices=Kind.choices)
    note = models.CharField(_("keterangan"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("kebutuhan khusus")
        verbose_name_plural = _("kebutuhan khusus")
        constraints = [
            models.UniqueConstraint(fields=["resident", "kind"], name="specialneed_once_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.kind}"


class ZoneClosure(models.Model):
    """A region that may not be visited during a period (e.g. a red pandemic zone)."""

    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("wilayah")
    )
    starts_on = models.DateField(_("mulai"))
    ends_on = models.DateField(_("sampai"), null=True, blank=True)
    reason = models.CharField(_("alasan"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on"]
        verbose_name = _("penutupan wilayah")
        verbose_name_plural = _("penutupan wilayah")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="zoneclosure_period_ordered",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="zoneclosure_reason_given"),
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.starts_on}–{self.ends_on or '…'}: {self.reason}"


class OutreachVisit(models.Model):
    """A planned visit of a mobile unit to a village, and what it achieved."""

    class Status(models.TextChoices):
        PLANNED = "rencana", _("Direncanakan")
        DONE = "selesai", _("Selesai")
        CANCELLED = "batal", _("Dibatalkan")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    village = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("desa/kelurahan"),
    )
    kabkota_code = models.CharField(max_length=5, db_index=True, editable=False)
    province_code = models.CharField(max_length=2, db_index=True, editable=False)
    date = models.DateField(_("tanggal"))
    service_point = models.ForeignKey(
        "offices.ServicePoint",
        on_delete=models.PROTECT,
        related_name="outreach_visits",
        verbose_name=_("mobil keliling"),
    )
    team = models.CharField(_("tim"), max_length=300)
    expected_people = models.PositiveIntegerField(_("perkiraan orang"))
    blanks_to_carry = models.PositiveIntegerField(_("blangko dibawa"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    recorded_people = models.PositiveIntegerField(_("orang direkam"), null=True, blank=True)
    cards_printed = models.PositiveIntegerField(_("kartu dicetak"), null=True, blank=True)
    result_note = models.CharField(_("catatan hasil"), max_length=500, blank=True)
    result_recorded_at = models.DateTimeField(null=True, blank=True)
    origin_node = models.CharField(max_length=40, default="office", editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date", "village_id"]
        verbose_name = _("kunjungan jemput bola")
        verbose_name_plural = _("kunjungan jemput bola")
        constraints = [
            models.UniqueConstraint(
                fields=["service_point", "village", "date"], name="visit_once_per_unit_village_day"
            ),
            models.CheckConstraint(
                condition=Q(cards_printed__isnull=True)
                | Q(cards_printed__lte=F("blanks_to_carry")),
                name="visit_cards_within_blanks",
            ),
            models.CheckConstraint(
                condition=~Q(status="selesai") | Q(recorded_people__isnull=False),
                name="visit_done_has_result",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.village_id} {self.date}"

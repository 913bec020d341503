"""Offices (Disdukcapil of a kab/kota), their service points and devices."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Office(models.Model):
    """The Disdukcapil of one kabupaten/kota."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    region = models.OneToOneField(
        "regions.Region",
        on_delete=models.PROTECT,
        related_name="office",
        verbose_name=_("kabupaten/kota"),
    )
    name = models.CharField(_("nama"), max_length=150)
    address = models.CharField(_("alamat"), max_length=250, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("kantor Disdukcapil")
        verbose_name_plural = _("kantor Disdukcapil")

    def __str__(self) -> str:
        return self.name


class ServicePoint(models.Model):
    """A place where residents are served: the office itself, a UPT kecamatan, a mobile unit, an M2M."""

    class Kind(models.TextChoices):
        OFFICE = "kantor", _("Kantor dinas")
        UPT = "upt", _("UPT kecamatan")
        MOBILE = "mobile", _("Mobil keliling")
        M2M = "m2m", _("M2M (cetak di tempat)")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="service_points")
    kind = models.CharField(_("jenis"), max_length=10, choices=Kind.choices)
    code = models.CharField(_("kode"), max_length=20)
    name = models.CharField(_("nama"), max_length=150)
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("kecamatan"),
    )
    address = models.CharField(_("alamat"), max_length=250, blank=True)
    is_active = models.BooleanField(_("aktif"), default=True)
    per_kit_daily_throughput = models.PositiveSmallIntegerField(
        _("kapasitas per alat per hari"), default=60
    )

    class Meta:
        verbose_name = _("titik layanan")
        verbose_name_plural = _("titik layanan")
        constraints = [
            models.UniqueConstraint(fields=["office", "code"], name="servicepoint_code_per_office"),
            models.CheckConstraint(
                condition=Q(per_kit_daily_throughput__gte=1),
                name="servicepoint_throughput_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Device(models.Model):
    """A recording kit or a card printer at a service point."""

    class Kind(models.TextChoices):
        RECORDING_KIT = "recording_kit", _("Alat perekaman")
        CARD_PRINTER = "card_printer", _("Printer kartu")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Aktif")
        BROKEN = "broken", _("Rusak")
        IN_REPAIR = "in_repair", _("Dalam perbaikan")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service_point = models.ForeignKey(
        ServicePoint, on_delete=models.PROTECT, related_name="devices"
    )
    kind = models.CharField(_("jenis"), max_length=20, choices=Kind.choices)
    serial_number = models.CharField(_("nomor seri"), max_length=60, unique=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    status_reason = models.CharField(_("keterangan status"), max_length=250, blank=True)

    class Meta:
        verbose_name = _("perangkat")
        verbose_name_plural = _("perangkat")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.serial_number}"

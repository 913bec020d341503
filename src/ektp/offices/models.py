"""Offices (Disdukcapil of a kab/kota), their service points and devices."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

WEEKDAYS = [
    (0, _("Senin")),
    (1, _("Selasa")),
    (2, _("Rabu")),
    (3, _("Kamis")),
    (4, _("Jumat")),
    (5, _("Sabtu")),
    (6, _("Minggu")),
]


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
    status_changed_at = models.DateTimeField(_("status sejak"), null=True, blank=True)

    class Meta:
        verbose_name = _("perangkat")
        verbose_name_plural = _("perangkat")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="active") | ~Q(status_reason=""),
                name="device_out_of_service_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.serial_number}"

    @property
    def is_working(self) -> bool:
        return self.status == self.Status.ACTIVE


class DeviceStatusChange(models.Model):
    """One change of a device's status: who, when, from what, to what and why."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField(
        pgettext_lazy("status change", "dari"), max_length=12, choices=Device.Status.choices
    )
    to_status = models.CharField(_("menjadi"), max_length=12, choices=Device.Status.choices)
    reason = models.CharField(_("alasan"), max_length=250)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(_("waktu"), default=timezone.now, db_index=True)
    node_id = models.CharField(max_length=40, default="office")

    class Meta:
        ordering = ["-changed_at"]
        verbose_name = _("riwayat status perangkat")
        verbose_name_plural = _("riwayat status perangkat")
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_status=models.F("to_status")),
                name="devicestatuschange_changes_status",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="devicestatuschange_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.device} {self.from_status} → {self.to_status}"


class WorkingHours(models.Model):
    """The opening hours of a point on one weekday; a point with no rows keeps the default week."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service_point = models.ForeignKey(
        ServicePoint, on_delete=models.CASCADE, related_name="working_hours"
    )
    weekday = models.PositiveSmallIntegerField(_("hari"), choices=WEEKDAYS)
    opens_at = models.TimeField(_("buka"))
    closes_at = models.TimeField(_("tutup"))

    class Meta:
        ordering = ["weekday"]
        verbose_name = _("jam layanan")
        verbose_name_plural = _("jam layanan")
        constraints = [
            models.UniqueConstraint(
                fields=["service_point", "weekday"], name="workinghours_one_per_weekday"
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="workinghours_weekday_0_6"),
            models.CheckConstraint(
                condition=Q(opens_at__lt=models.F("closes_at")), name="workinghours_opens_first"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_point} {self.get_weekday_display()} {self.opens_at}–{self.closes_at}"


class SpecialDay(models.Model):
    """A special opening or closure of one point, or of every point of an office, on one day."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="special_days")
    service_point = models.ForeignKey(
        ServicePoint,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="special_days",
        help_text=_("Kosong berarti berlaku untuk semua titik layanan kantor ini."),
    )
    day = models.DateField(_("tanggal"), db_index=True)
    is_open = models.BooleanField(_("buka"))
    opens_at = models.TimeField(_("buka pukul"), null=True, blank=True)
    closes_at = models.TimeField(_("tutup pukul"), null=True, blank=True)
    reason = models.CharField(_("alasan"), max_length=250)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["day"]
        verbose_name = _("hari layanan khusus")
        verbose_name_plural = _("hari layanan khusus")
        constraints = [
            models.UniqueConstraint(
                fields=["service_point", "day"],
                condition=Q(service_point__isnull=False),
                name="specialday_one_per_point_day",
            ),
            models.UniqueConstraint(
                fields=["office", "day"],
                condition=Q(service_point__isnull=True),
                name="specialday_one_per_office_day",
            ),
            models.CheckConstraint(
                condition=(
                    Q(is_open=True, opens_at__isnull=False, closes_at__isnull=False)
                    & Q(opens_at__lt=models.F("closes_at"))
                )
                | Q(is_open=False, opens_at__isnull=True, closes_at__isnull=True),
                name="specialday_hours_when_open",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="specialday_has_reason"),
        ]

    def __str__(self) -> str:
        where = self.service_point or self.office
        return f"{where} {self.day} {'buka' if self.is_open else 'tutup'}: {self.reason}"

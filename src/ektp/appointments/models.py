"""Time windows, bookings, invitations, queue tickets, counters and reminders."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Service(models.TextChoices):
    RECORDING = "perekaman", _("Perekaman KTP-el")


class TimeWindow(models.Model):
    """A slice of one service point's opening hours on one day, with its own capacity."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service_point = models.ForeignKey(
        "offices.ServicePoint", on_delete=models.CASCADE, related_name="time_windows"
    )
    day = models.DateField(_("tanggal"))
    starts_at = models.TimeField(_("mulai"))
    ends_at = models.TimeField(_("selesai"))
    capacity = models.PositiveSmallIntegerField(_("kapasitas"))
    booked = models.PositiveSmallIntegerField(_("terisi"), default=0)
    issued = models.PositiveIntegerField(_("nomor terakhir"), default=0)

    class Meta:
        ordering = ["day", "starts_at"]
        verbose_name = _("jendela waktu")
        verbose_name_plural = _("jendela waktu")
        constraints = [
            models.UniqueConstraint(
                fields=["service_point", "day", "starts_at"], name="timewindow_one_per_start"
            ),
            models.CheckConstraint(
                condition=Q(starts_at__lt=models.F("ends_at")), name="timewindow_starts_first"
            ),
            models.CheckConstraint(
                condition=Q(booked__lte=models.F("capacity")), name="timewindow_within_capacity"
            ),
            models.CheckConstraint(
                condition=Q(booked__lte=models.F("issued")), name="timewindow_booked_le_issued"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_point} {self.day} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"

    @property
    def remaining(self) -> int:
        return self.capacity - self.booked

    def start_datetime(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.day, self.starts_at))

    def end_datetime(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.day, self.ends_at))


class BookingStatus(models.TextChoices):
    BOOKED = "booked", _("Terdaftar")
    CHECKED_IN = "checked_in", _("Sudah hadir")
    SERVED = "served", _("Sudah dilayani")
    NO_SHOW = "no_show", _("Tidak hadir")
    CANCELLED = "cancelled", _("Dibatalkan")


ACTIVE_BOOKING = [BookingStatus.BOOKED, BookingStatus.CHECKED_IN]


class Booking(models.Model):
    """A resident's place in one time window, made online, by invitation or by a relative."""

    class Source(models.TextChoices):
        ONLINE = "online", _("Daring")
        INVITATION = "invitation", _("Undangan")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(_("kode booking"), max_length=12, unique=True)
    resident = models.ForeignKey(
        "residents.Resident", on_delete=models.PROTECT, related_name="bookings"
    )
    booked_by = models.ForeignKey(
        "residents.Resident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("didaftarkan oleh"),
    )
    service = models.CharField(
        _("layanan"), max_length=20, choices=Service.choices, default=Service.RECORDING
    )
    window = models.ForeignKey(TimeWindow, on_delete=models.PROTECT, related_name="bookings")
    queue_number = models.PositiveIntegerField(_("nomor urut"))
    status = models.CharField(
        _("status"), max_length=12, choices=BookingStatus.choices, default=BookingStatus.BOOKED
    )
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.ONLINE)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    reminded_at = models.DateTimeField(_("diingatkan"), null=True, blank=True)
    node_id = models.CharField(max_length=40, default="office")

    class Meta:
        ordering = ["window__day", "window__starts_at", "queue_number"]
        verbose_name = _("booking")
        verbose_name_plural = _("booking")
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "service"],
                condition=Q(status__in=["booked", "checked_in"]),
                name="booking_one_active_per_service",
            ),
            models.UniqueConstraint(
                fields=["window", "queue_number"], name="booking_queue_number_per_window"
            ),
        ]
        indexes = [models.Index(fields=["window", "status"], name="booking_window_status")]

    def __str__(self) -> str:
        return f"{self.code} {self.window}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_BOOKING


class InvitationBatch(models.Model):
    """One mailing of invitations by an office to a list of residents."""

    class Kind(models.TextChoices):
        UNRECORDED_VILLAGE = "unrecorded_village", _("Wajib KTP belum rekam di desa/kelurahan")
        FIRST_VOTERS = "first_voters", _("Berusia 17 tahun sebelum hari pemungutan suara")
        MARRIED = "married", _("Menikah sebelum 17 tahun (data KUA)")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service_point = models.ForeignKey(
        "offices.ServicePoint", on_delete=models.PROTECT, related_name="invitation_batches"
    )
    kind = models.CharField(_("sasaran"), max_length=20, choices=Kind.choices)
    village = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("desa/kelurahan"),
    )
    reference_day = models.DateField(_("tanggal acuan"))
    first_day = models.DateField(_("mulai tanggal"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(default=timezone.now)
    skipped = models.PositiveIntegerField(_("terlewat"), default=0)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("kiriman undangan")
        verbose_name_plural = _("kiriman undangan")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d}"


class Invitation(models.Model):
    """One resident invited to a day and window; the booking's code is the invitation's code."""

    class Delivery(models.TextChoices):
        TO_PRINT = "to_print", _("Untuk dicetak")
        PRINTED = "printed", _("Sudah dicetak")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    batch = models.ForeignKey(InvitationBatch, on_delete=models.CASCADE, related_name="invitations")
    resident = models.ForeignKey("residents.Resident", on_delete=models.PROTECT, related_name="+")
    booking = models.OneToOneField(Booking, on_delete=models.PROTECT, related_name="invitation")
    delivery = models.CharField(
        _("pengiriman"), max_length=10, choices=Delivery.choices, blank=True
    )
    delivery_noted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("undangan")
        verbose_name_plural = _("undangan")
        constraints = [
            models.UniqueConstraint(fields=["batch", "resident"], name="invitation_once_per_batch")
        ]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.booking.code}"


class PriorityReason(models.TextChoices):
    NONE = "", _("Tidak ada")
    ELDERLY = "lansia", _("Lanjut usia (60 tahun ke atas)")
    DISABLED = "disabilitas", _("Penyandang disabilitas")
    PREGNANT = "hamil", _("Ibu hamil")


class QueueDay(models.Model):
    """The running ticket numbers of one service point on one day; locked to hand out numbers."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service_point = models.ForeignKey(
        "offices.ServicePoint", on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField()
    last_booked = models.PositiveIntegerField(default=0)
    last_walk_in = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service_point", "day"], name="queueday_one_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.service_point_id} {self.day}"


class Counter(models.Model):
    """A service desk (loket) at a point where an operator calls numbers."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service_point = models.ForeignKey(
        "offices.ServicePoint", on_delete=models.CASCADE, related_name="counters"
    )
    name = models.CharField(_("nama loket"), max_length=40)
    is_active = models.BooleanField(_("aktif"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("loket")
        verbose_name_plural = _("loket")
        constraints = [
            models.UniqueConstraint(
                fields=["service_point", "name"], name="counter_name_per_point"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="counter_has_name"),
        ]

    def __str__(self) -> str:
        return self.name


class QueueTicket(models.Model):
    """A queue number for today: a booked resident who checked in (A) or a walk-in (B)."""

    class Series(models.TextChoices):
        BOOKED = "A", _("Booking")
        WALK_IN = "B", _("Datang langsung")

    class Status(models.TextChoices):
        WAITING = "waiting", _("Menunggu")
        CALLED = "called", _("Dipanggil")
        SERVED = "served", _("Selesai dilayani")
        NO_SHOW = "no_show", _("Tidak hadir")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service_point = models.ForeignKey(
        "offices.ServicePoint", on_delete=models.PROTECT, related_name="queue_tickets"
    )
    day = models.DateField(_("tanggal"))
    series = models.CharField(max_length=1, choices=Series.choices)
    number = models.PositiveIntegerField(_("nomor"))
    window = models.ForeignKey(TimeWindow, on_delete=models.PROTECT, related_name="tickets")
    booking = models.OneToOneField(
        Booking, on_delete=models.PROTECT, null=True, blank=True, related_name="ticket"
    )
    resident = models.ForeignKey(
        "residents.Resident", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    on_time = models.BooleanField(_("tepat waktu"), default=False)
    priority = models.CharField(
        _("prioritas"), max_length=12, choices=PriorityReason.choices, blank=True
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.WAITING
    )
    counter = models.ForeignKey(
        Counter, on_delete=models.PROTECT, null=True, blank=True, related_name="tickets"
    )
    issued_at = models.DateTimeField(default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    called_at = models.DateTimeField(null=True, blank=True)
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recall_count = models.PositiveSmallIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    node_id = models.CharField(max_length=40, default="office")

    class Meta:
        ordering = ["day", "series", "number"]
        verbose_name = _("nomor antrean")
        verbose_name_plural = _("nomor antrean")
        constraints = [
            models.UniqueConstraint(
                fields=["service_point", "day", "series", "number"],
                name="queueticket_number_once_per_day",
            ),
            models.CheckConstraint(
                condition=Q(series="A", booking__isnull=False)
                | Q(series="B", booking__isnull=True),
                name="queueticket_series_matches_booking",
            ),
            models.CheckConstraint(
                condition=Q(status="waiting") | Q(counter__isnull=False),
                name="queueticket_called_at_counter",
            ),
        ]
        indexes = [
            models.Index(fields=["service_point", "day", "status"], name="queueticket_point_day")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.series}-{self.number:03d}"

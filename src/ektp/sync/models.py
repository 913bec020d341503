"""Edge sync: devices of service points and their packets (office side), the outbox and the
reference data (edge side). Both live in every install: an install is an edge when it holds an
EdgeNode row."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# -- office side ------------------------------------------------------------------------------


class EdgeDevice(models.Model):
    """A laptop of a service point (mobile unit, M2M) that records offline and syncs later."""

    class Standing(models.TextChoices):
        AWAITING_ENROLMENT = "menunggu_daftar", _("Menunggu pendaftaran")
        PENDING = "menunggu_setuju", _("Menunggu persetujuan")
        APPROVED = "disetujui", _("Disetujui")
        REVOKED = "dicabut", _("Dicabut")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("nama"), max_length=100)
    service_point = models.ForeignKey(
        "offices.ServicePoint", on_delete=models.PROTECT, related_name="edge_devices"
    )
    # The recording kit the office's records name for this laptop's recordings.
    kit = models.OneToOneField(
        "offices.Device", on_delete=models.PROTECT, related_name="edge_device"
    )
    # The staff account of the unit's operator: the office's records name it as the recorder.
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    villages = models.ManyToManyField("regions.Region", related_name="+", verbose_name=_("desa"))
    standing = models.CharField(
        _("status"), max_length=16, choices=Standing.choices, default=Standing.AWAITING_ENROLMENT
    )
    freeze_after_days = models.PositiveSmallIntegerField(
        _("berhenti merekam setelah tidak sinkron (hari)"), default=3
    )
    code_hash = models.CharField(max_length=64, blank=True, db_index=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    enrolled_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    revoke_reason = models.CharField(max_length=250, blank=True)
    last_sync_at = models.DateTimeField(_("sinkron terakhir"), null=True, blank=True)
    clock_skew_seconds = models.IntegerField(_("selisih jam perangkat (detik)"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("perangkat lapangan")
        verbose_name_plural = _("perangkat lapangan")
        constraints = [
            models.CheckConstraint(
                condition=~Q(standing="dicabut") | Q(revoked_at__isnull=False),
                name="edgedevice_revoked_has_time",
            ),
            models.CheckConstraint(
                condition=Q(freeze_after_days__gte=1), name="edgedevice_freeze_days_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def node_id(self) -> str:
        return f"edge-{str(self.pk)[:8]}"


class DeviceKey(models.Model):
    """One Ed25519 public key of a device; re-enrolling retires the previous one."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    device = models.ForeignKey(EdgeDevice, on_delete=models.CASCADE, related_name="keys")
    public_key = models.BinaryField(max_length=32)
    fingerprint = models.CharField(max_length=16, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["device"],
                condition=Q(retired_at__isnull=True),
                name="devicekey_one_current_per_device",
            )
        ]

    def __str__(self) -> str:
        return self.fingerprint


class InboundPacket(models.Model):
    """A packet announced by a device: its bytes as they arrive, then its fate."""

    class State(models.TextChoices):
        RECEIVING = "menerima", _("Sedang diterima")
        RECEIVED = "diterima", _("Diterima")
        PROCESSED = "diproses", _("Diproses")
        DUPLICATE = "ganda", _("Sudah ada")
        NEEDS_MATCH = "perlu_cocok", _("Perlu dicocokkan")
        QUARANTINED = "karantina", _("Karantina")
        REJECTED = "ditolak", _("Ditolak")
        RESEND = "kirim_ulang", _("Kirim ulang")

    id = models.CharField(primary_key=True, max_length=64)  # SHA-256 of the bytes, hex
    device = models.ForeignKey(EdgeDevice, on_delete=models.PROTECT, related_name="packets")
    uid = models.UUIDField()  # the recording's own id, made on the edge
    sequence = models.PositiveBigIntegerField()
    size = models.PositiveIntegerField()
    content = models.BinaryField(default=b"")
    received_bytes = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=12, choices=State.choices, default=State.RECEIVING)
    reason = models.CharField(max_length=250, blank=True)
    kind = models.CharField(max_length=20, blank=True)
    nik = models.CharField(max_length=16, blank=True)
    device_time = models.DateTimeField(null=True, blank=True)
    announced_at = models.DateTimeField(auto_now_add=True)
    received_at = models.DateTimeField(null=True, blank=True, db_index=True)
    clock_flagged = models.BooleanField(default=False)
    conflicts = models.PositiveIntegerField(default=0)
    last_conflict = models.CharField(max_length=250, blank=True)
    enrollment = models.ForeignKey(
        "enrollment.Enrollment", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["received_at", "announced_at"]
        constraints = [
            models.UniqueConstraint(fields=["device", "uid"], name="inboundpacket_uid_once"),
            models.UniqueConstraint(
                fields=["device", "sequence"], name="inboundpacket_sequence_once"
            ),
            models.CheckConstraint(
                condition=Q(received_bytes__lte=models.F("size")),
                name="inboundpacket_no_more_than_size",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id[:12]} {self.state}"


# -- edge side --------------------------------------------------------------------------------


class EdgeNode(models.Model):
    """This install as an edge: who it is to the office and where its sync stands (one row)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    server_url = models.URLField(max_length=300)
    device_id = models.UUIDField()
    key_fingerprint = models.CharField(max_length=16)
    office_seal_key = models.BinaryField(max_length=32)
    service_point = models.CharField(max_length=150, blank=True)
    villages = models.JSONField(default=list)
    freeze_after_days = models.PositiveSmallIntegerField(default=3)
    standing = models.CharField(max_length=16, blank=True)
    next_sequence = models.PositiveBigIntegerField(default=1)
    enrolled_at = models.DateTimeField()
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    reference_cursor = models.CharField(max_length=80, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="edgenode_single_row")]

    def __str__(self) -> str:
        return f"edge {self.device_id}"


class OutboxPacket(models.Model):
    """A packet made on this edge, waiting to be pushed, then its fate as the office tells it."""

    id = models.CharField(primary_key=True, max_length=64)
    uid = models.UUIDField(unique=True)
    sequence = models.PositiveBigIntegerField(unique=True)
    kind = models.CharField(max_length=20)
    nik = models.CharField(max_length=16, blank=True)
    content = models.BinaryField()
    size = models.PositiveIntegerField()
    made_at = models.DateTimeField()
    pushed_at = models.DateTimeField(null=True, blank=True)
    fate = models.CharField(max_length=20, default="menunggu")
    reason = models.CharField(max_length=250, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sequence"]

    def __str__(self) -> str:
        return f"{self.sequence} {self.id[:12]} {self.fate}"


class ReferenceResident(models.Model):
    """What recording needs of a resident of an assigned village, pulled from the office."""

    nik = models.CharField(max_length=16, primary_key=True)
    name = models.CharField(max_length=100)
    sex = models.CharField(max_length=1)
    birth_date = models.DateField()
    village = models.CharField(max_length=13, db_index=True)
    ktp_status = models.CharField(max_length=20)
    life_status = models.CharField(max_length=12)
    recorded_here = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.nik


class ReferenceRegion(models.Model):
    """A region the edge shows (its villages and what is above them)."""

    code = models.CharField(max_length=13, primary_key=True)
    name = models.CharField(max_length=100)
    level = models.PositiveSmallIntegerField()

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

"""Biometric enrollments (perekaman), their samples and exceptions, and the KTP-el history."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ektp.enrollment.biometrics import ExceptionReason, Modality
from ektp.residents.models import KtpStatus


class Penunggalan(models.TextChoices):
    NOT_SENT = "belum", _("Belum dikirim")
    QUEUED = "antre", _("Dalam antrean")
    AWAITING_ENGINE = "menunggu_abis", _("Menunggu mesin penunggalan")
    DONE = "selesai", _("Selesai")


class Enrollment(models.Model):
    """The one biometric enrollment of a resident, for life."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    resident = models.OneToOneField(
        "residents.Resident", on_delete=models.PROTECT, related_name="enrollment"
    )
    service_point = models.ForeignKey(
        "offices.ServicePoint", on_delete=models.PROTECT, related_name="enrollments"
    )
    device = models.ForeignKey("offices.Device", on_delete=models.PROTECT, related_name="+")
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    node_id = models.CharField(max_length=40, default="office")
    capture_driver = models.CharField(max_length=40, default="simulator")
    captured_at = models.DateTimeField(_("waktu perekaman"), db_index=True)
    recordings = models.PositiveSmallIntegerField(_("jumlah perekaman"), default=1)
    penunggalan = models.CharField(
        _("penunggalan"), max_length=15, choices=Penunggalan.choices, default=Penunggalan.NOT_SENT
    )
    penunggalan_note = models.CharField(max_length=250, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("perekaman")
        verbose_name_plural = _("perekaman")
        indexes = [
            models.Index(fields=["service_point", "captured_at"], name="enrollment_point_day")
        ]
        constraints = [
            models.CheckConstraint(condition=Q(recordings__gte=1), name="enrollment_recorded_once"),
        ]

    def __str__(self) -> str:
        return f"Perekaman {self.resident_id} {self.captured_at:%Y-%m-%d}"


class BiometricSample(models.Model):
    """One modality of an enrollment; template and image are stored encrypted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="samples")
    modality = models.CharField(_("modalitas"), max_length=12, choices=Modality.choices)
    quality = models.PositiveSmallIntegerField(_("skor kualitas"))
    attempts = models.PositiveSmallIntegerField(_("percobaan"), default=1)
    template_size = models.PositiveIntegerField()
    template_ciphertext = models.BinaryField(editable=False)
    image_ciphertext = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["modality"]
        verbose_name = _("sampel biometrik")
        verbose_name_plural = _("sampel biometrik")
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "modality"], name="sample_one_per_modality"
            ),
            models.CheckConstraint(condition=Q(quality__lte=100), name="sample_quality_0_100"),
            models.CheckConstraint(condition=Q(attempts__gte=1), name="sample_attempted"),
        ]

    def __repr__(self) -> str:
        return f"<BiometricSample {self.modality} quality={self.quality}>"

    def __str__(self) -> str:
        return f"{self.get_modality_display()} ({self.quality})"


class BiometricException(models.Model):
    """A finger, eye or signature that cannot be captured, with the reason."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="exceptions")
    modality = models.CharField(_("modalitas"), max_length=12, choices=Modality.choices)
    reason = models.CharField(_("alasan"), max_length=12, choices=ExceptionReason.choices)
    note = models.CharField(_("keterangan"), max_length=200, blank=True)

    class Meta:
        ordering = ["modality"]
        verbose_name = _("pengecualian biometrik")
        verbose_name_plural = _("pengecualian biometrik")
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "modality"], name="exception_one_per_modality"
            ),
            models.CheckConstraint(
                condition=~Q(modality="face"), name="exception_face_is_mandatory"
            ),
            models.CheckConstraint(
                condition=Q(reason__in=ExceptionReason.values), name="exception_reason_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_modality_display()}: {self.get_reason_display()}"


class StatusChange(models.Model):
    """One step of a resident's KTP-el lifecycle: who, where, when, why, on which node."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    resident = models.ForeignKey(
        "residents.Resident", on_delete=models.PROTECT, related_name="ktp_history"
    )
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, null=True, blank=True, related_name="history"
    )
    from_status = models.CharField(
        pgettext_lazy("status change", "dari"), max_length=20, choices=KtpStatus.choices
    )
    to_status = models.CharField(_("menjadi"), max_length=20, choices=KtpStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    service_point = models.ForeignKey(
        "offices.ServicePoint", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("waktu"), default=timezone.now)
    reason = models.CharField(_("alasan"), max_length=250)
    node_id = models.CharField(max_length=40, default="office")

    class Meta:
        ordering = ["at"]
        verbose_name = _("riwayat status KTP-el")
        verbose_name_plural = _("riwayat status KTP-el")
        indexes = [
            models.Index(fields=["resident", "at"], name="statuschange_resident_at"),
            # The daily report's changes of a day; the changes after a past day (coverage).
            models.Index(fields=["at"], name="statuschange_at"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="statuschange_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.from_status} → {self.to_status}"

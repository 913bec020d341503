"""Models for penunggalan: duplicate cases awaiting adjudication, failed checks to run again."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Menunggu keputusan")
    CONFIRMED_DUPLICATE = "confirmed_duplicate", _("Ganda (orang yang sama)")
    NOT_DUPLICATE = "not_duplicate", _("Bukan ganda (orang berbeda)")


class CaseSource(models.TextChoices):
    PENUNGGALAN = "penunggalan", _("Penunggalan perekaman")
    SCAN = "scan", _("Pemindaian registri")


class DuplicateCase(models.Model):
    """A resident (A) who may be the same person as an existing resident (B), to adjudicate."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    resident = models.ForeignKey(
        "residents.Resident", on_delete=models.PROTECT, related_name="duplicate_cases"
    )
    enrollment = models.ForeignKey(
        "enrollment.Enrollment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicate_cases",
    )
    candidate = models.ForeignKey(
        "residents.Resident", on_delete=models.PROTECT, related_name="duplicate_of_cases"
    )
    source = models.CharField(_("sumber"), max_length=12, choices=CaseSource.choices)
    biometric_score = models.FloatField(_("jarak iris"), null=True, blank=True)
    biometric_threshold = models.FloatField(null=True, blank=True)
    demographic_probability = models.FloatField(_("kemiripan demografi"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("waktu keputusan"), null=True, blank=True)
    reason = models.CharField(_("alasan"), max_length=250, blank=True)
    kabkota_code = models.CharField(max_length=5, db_index=True, editable=False)
    province_code = models.CharField(max_length=2, db_index=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("kasus data ganda")
        verbose_name_plural = _("kasus data ganda")
        constraints = [
            models.UniqueConstraint(fields=["resident", "candidate"], name="duplicatecase_pair"),
            models.CheckConstraint(
                condition=~Q(resident=F("candidate")), name="duplicatecase_two_residents"
            ),
            models.CheckConstraint(
                condition=Q(biometric_score__isnull=False)
                | Q(demographic_probability__isnull=False),
                name="duplicatecase_has_score",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="open", decided_at__isnull=True, decided_by__isnull=True)
                    | (
                        Q(status__in=["confirmed_duplicate", "not_duplicate"])
                        & Q(decided_at__isnull=False)
                        & ~Q(reason="")
                    )
                ),
                name="duplicatecase_decision_complete",
            ),
        ]
        indexes = [models.Index(fields=["status", "kabkota_code"], name="duplicatecase_queue")]

    def __str__(self) -> str:
        return f"{self.resident_id} ~ {self.candidate_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN


class FailureKind(models.TextChoices):
    ENGINE = "engine", _("Mesin ABIS tidak dapat dihubungi")
    TEMPLATE = "template", _("Kualitas atau templat biometrik ditolak")


class PenunggalanFailure(models.Model):
    """Why a recording's penunggalan ended in ENROLL_FAILURE, and whether it was run again.

    An engine failure may be run again by a supervisor with the stored templates; a template or
    quality failure needs a new recording.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    enrollment = models.ForeignKey(
        "enrollment.Enrollment", on_delete=models.PROTECT, related_name="penunggalan_failures"
    )
    kind = models.CharField(_("jenis"), max_length=10, choices=FailureKind.choices)
    attempts = models.PositiveSmallIntegerField(_("jumlah percobaan"), default=1)
    reason = models.CharField(_("alasan"), max_length=250)
    rerun_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    rerun_at = models.DateTimeField(_("waktu diulang"), null=True, blank=True)
    kabkota_code = models.CharField(max_length=5, db_index=True, editable=False)
    province_code = models.CharField(max_length=2, db_index=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("kegagalan penunggalan")
        verbose_name_plural = _("kegagalan penunggalan")
        constraints = [
            models.CheckConstraint(
                condition=Q(rerun_at__isnull=True, rerun_by__isnull=True)
                | Q(kind="engine", rerun_at__isnull=False),
                name="penunggalanfailure_rerun_engine_only",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment_id} {self.kind}"

    @property
    def may_rerun(self) -> bool:
        return self.kind == FailureKind.ENGINE and self.rerun_at is None


class DemographicModel(models.Model):
    """A demographic model trained on one scope's registry (a province or a district).

    ``settings`` is Splink's settings JSON (comparisons with their trained m and u, the prior,
    the blocking rules); ``term_frequencies`` the scope's most common names, places and
    villages; ``threshold`` the match probability at which a pair is one person, chosen from
    adjudicated cases when there were enough of them. The newest model of a scope is the one used.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    scope = models.CharField(_("wilayah"), max_length=5, db_index=True)
    trained_at = models.DateTimeField(_("waktu pelatihan"), db_index=True)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    records = models.PositiveIntegerField(_("jumlah data latih"))
    seconds = models.FloatField(_("lama pelatihan (detik)"))
    settings = models.JSONField(_("model Splink"))
    term_frequencies = models.JSONField(default=dict)
    steps = models.JSONField(default=dict)
    threshold = models.FloatField(_("ambang probabilitas"))
    target_precision = models.FloatField(_("target presisi"))
    labels = models.PositiveIntegerField(_("jumlah label adjudikasi"), default=0)
    positives = models.PositiveIntegerField(default=0)
    measured_precision = models.FloatField(_("presisi terukur"), null=True, blank=True)
    measured_recall = models.FloatField(_("recall terukur"), null=True, blank=True)

    class Meta:
        ordering = ["-trained_at"]
        verbose_name = _("model demografis")
        verbose_name_plural = _("model demografis")
        constraints = [
            models.CheckConstraint(
                condition=Q(threshold__gt=0) & Q(threshold__lt=1), name="demographicmodel_threshold"
            ),
            models.CheckConstraint(
                condition=Q(target_precision__gt=0) & Q(target_precision__lte=1),
                name="demographicmodel_target_precision",
            ),
            models.CheckConstraint(
                condition=Q(measured_precision__isnull=True)
                | (Q(measured_precision__gte=0) & Q(measured_precision__lte=1)),
                name="demographicmodel_precision_range",
            ),
            models.CheckConstraint(
                condition=Q(measured_recall__isnull=True)
                | (Q(measured_recall__gte=0) & Q(measured_recall__lte=1)),
                name="demographicmodel_recall_range",
            ),
            models.CheckConstraint(
                condition=Q(records__gte=2) & Q(positives__lte=F("labels")),
                name="demographicmodel_counts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.trained_at:%Y-%m-%d %H:%M}"

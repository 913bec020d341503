"""Portal: one-time access codes that let a resident manage a booking or download a suket.

The status inquiry itself has no tables: it reads other apps. A NIK and a birth date are
public, so what a resident may *do* with a document (see its details, cancel it, download it)
needs a code sent to the phone on record; only a hash of the code is kept.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class DocumentKind(models.TextChoices):
    BOOKING = "booking", _("Janji temu")
    SUKET = "suket", _("Suket")


class AccessCode(models.Model):
    """One code sent to a resident for one document; single use, short-lived, few tries."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    resident = models.ForeignKey(
        "residents.Resident", on_delete=models.CASCADE, related_name="access_codes"
    )
    kind = models.CharField(_("dokumen"), max_length=10, choices=DocumentKind.choices)
    document_id = models.UUIDField(_("id dokumen"), db_index=True)
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(_("dibuat"), db_index=True)
    expires_at = models.DateTimeField(_("kedaluwarsa"))
    failures = models.PositiveSmallIntegerField(_("percobaan gagal"), default=0)
    used_at = models.DateTimeField(_("dipakai"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("kode akses")
        verbose_name_plural = _("kode akses")
        indexes = [models.Index(fields=["kind", "document_id", "created_at"], name="access_recent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=DocumentKind.values), name="access_code_kind_known"
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="access_code_expires_after"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.document_id} ({self.created_at:%Y-%m-%d %H:%M})"

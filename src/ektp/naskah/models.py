"""Naskah dinas: the office's letterhead, its numbering of outgoing letters and their register."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

DEFAULT_NUMBER_FORMAT = "{kode}/{nomor}/Disdukcapil/{bulan}/{tahun}"


class Letterhead(models.Model):
    """What the kop surat and the signature block of an office's documents say."""

    office = models.OneToOneField(
        "offices.Office", on_delete=models.CASCADE, primary_key=True, related_name="letterhead"
    )
    government = models.CharField(
        _("pemerintah"),
        max_length=150,
        help_text=_("Baris pertama kop, mis. PEMERINTAH KABUPATEN PESAWARAN."),
    )
    agency = models.CharField(
        _("nama dinas"), max_length=150, default="Dinas Kependudukan dan Pencatatan Sipil"
    )
    phone = models.CharField(_("telepon"), max_length=40, blank=True)
    email = models.EmailField(_("surel"), max_length=100, blank=True)
    city = models.CharField(
        _("tempat surat"),
        max_length=60,
        help_text=_("Tempat sebelum tanggal surat, mis. Gedong Tataan."),
    )
    head_name = models.CharField(_("nama kepala dinas"), max_length=100)
    head_title = models.CharField(
        _("jabatan"),
        max_length=150,
        default="Kepala Dinas Kependudukan dan Pencatatan Sipil",
    )
    head_rank = models.CharField(
        _("pangkat/golongan"), max_length=60, help_text=_("Mis. Pembina Utama Muda (IV/c).")
    )
    head_nip = models.CharField(_("NIP"), max_length=18)
    classification = models.CharField(
        _("kode klasifikasi"),
        max_length=20,
        default="470",
        help_text=_("Kode klasifikasi arsip surat keluar."),
    )
    number_format = models.CharField(
        _("format nomor surat"),
        max_length=100,
        default=DEFAULT_NUMBER_FORMAT,
        help_text=_("Unsur: {kode}, {nomor} (4 angka), {bulan} (angka Romawi), {tahun}."),
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("kop surat")
        verbose_name_plural = _("kop surat")
        constraints = [
            models.CheckConstraint(
                condition=Q(head_nip__regex=r"\A[0-9]{18}\Z"), name="letterhead_nip_18_digits"
            ),
            models.CheckConstraint(
                condition=Q(number_format__contains="{nomor}"), name="letterhead_format_has_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency} {self.office_id}"


class LetterSequence(models.Model):
    """The last number an office gave an outgoing letter in one year; locked while one is taken."""

    office = models.ForeignKey("offices.Office", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("penomoran surat")
        verbose_name_plural = _("penomoran surat")
        constraints = [
            models.UniqueConstraint(fields=["office", "year"], name="lettersequence_office_year"),
        ]

    def __str__(self) -> str:
        return f"{self.office_id} {self.year}: {self.last}"


class Letter(models.Model):
    """One numbered outgoing letter in the office's register (agenda surat keluar)."""

    class Kind(models.TextChoices):
        BLANK_REQUEST = "blank_request", _("Permohonan blangko KTP-el")
        HANDOVER_RECEIPT = "handover_receipt", _("Tanda terima KTP-el")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    office = models.ForeignKey("offices.Office", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField(_("nomor urut"))
    number = models.CharField(_("nomor surat"), max_length=120)
    kind = models.CharField(_("jenis"), max_length=20, choices=Kind.choices)
    subject_id = models.CharField(_("dokumen"), max_length=40)
    perihal = models.CharField(_("perihal"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-year", "-sequence"]
        verbose_name = _("surat keluar")
        verbose_name_plural = _("surat keluar")
        constraints = [
            models.UniqueConstraint(
                fields=["office", "year", "sequence"], name="letter_sequence_once"
            ),
            models.UniqueConstraint(fields=["office", "number"], name="letter_number_once"),
            models.UniqueConstraint(fields=["kind", "subject_id"], name="letter_one_per_subject"),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="letter_sequence_positive"),
        ]

    def __str__(self) -> str:
        return self.number

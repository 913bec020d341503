"""Blank cards (blangko) as a serial-exact ledger, card prints, reprint requests, requests."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.utils.translation import gettext_lazy as _

models.CharField.register_lookup(Length)


class PrintReason(models.TextChoices):
    NEW = "baru", _("Baru")
    DAMAGED = "rusak", _("Rusak")
    LOST = "hilang", _("Hilang")
    DATA_CHANGE = "perubahan_data", _("Perubahan data")
    MOVED = "pindah", _("Pindah")
    SUKET_EXCHANGE = "tukar_suket", _("Tukar suket")


class CardPolicy(models.Model):
    """Per-office settings for delivery lead time, target cover and print priority."""

    office = models.OneToOneField(
        "offices.Office", on_delete=models.CASCADE, primary_key=True, related_name="card_policy"
    )
    lead_time_days = models.PositiveSmallIntegerField(
        _("waktu tunggu pengiriman (hari)"), default=30
    )
    target_cover_days = models.PositiveSmallIntegerField(
        _("target ketahanan stok (hari)"), default=90
    )
    election_date = models.DateField(_("tanggal pemungutan suara"), null=True, blank=True)
    priority_order = models.JSONField(
        _("urutan prioritas cetak"),
        default=list,
        blank=True,
        help_text=_("Daftar kategori; kosong berarti urutan bawaan."),
    )
    defer_damaged_usable = models.BooleanField(
        _("tunda kartu rusak yang masih terbaca saat stok kurang"), default=True
    )
    planned_daily_prints = models.PositiveSmallIntegerField(
        _("rencana cetak per hari"),
        default=100,
        help_text=_("Pemakaian blangko per hari yang dipakai selama belum ada riwayat cetak."),
    )

    class Meta:
        verbose_name = _("kebijakan cetak")
        verbose_name_plural = _("kebijakan cetak")
        constraints = [
            models.CheckConstraint(
                condition=Q(lead_time_days__gte=1) & Q(target_cover_days__gte=1),
                name="cardpolicy_days_positive",
            ),
            models.CheckConstraint(
                condition=Q(planned_daily_prints__gte=1),
                name="cardpolicy_planned_prints_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.office} ({self.lead_time_days} hari)"

    @classmethod
    def of(cls, office) -> CardPolicy:
        """The office's saved policy, or the unsaved default: a read that never writes."""
        return cls.objects.filter(office=office).first() or cls(office=office)


class BlankRequest(models.Model):
    """A request letter to the ministry or province for blanks, with the figures behind it."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draf")
        SUBMITTED = "submitted", _("Diajukan")
        PARTIALLY_DELIVERED = "partially_delivered", _("Diterima sebagian")
        DELIVERED = "delivered", _("Diterima lengkap")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    office = models.ForeignKey("offices.Office", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("jumlah"))
    delivered_quantity = models.PositiveIntegerField(_("jumlah diterima"), default=0)
    target_cover_days = models.PositiveSmallIntegerField(_("target ketahanan (hari)"))
    figures = models.JSONField(_("dasar perhitungan"), default=dict)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("permohonan blangko")
        verbose_name_plural = _("permohonan blangko")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="blankrequest_quantity_pos"),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "submitted", "partially_delivered", "delivered"]),
                name="blankrequest_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(submitted_at__isnull=False),
                name="blankrequest_submitted_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.office} {self.quantity} ({self.get_status_display()})"


class Blank(models.Model):
    """One blank card, identified by its serial; where it is and what became of it."""

    class State(models.TextChoices):
        IN_STOCK = "in_stock", _("Tersedia")
        PRINTING = "printing", _("Sedang dicetak (dicadangkan)")
        USED = "used", _("Terpakai (dicetak)")
        SPOILED = "spoiled", _("Rusak / salah cetak")
        VOIDED_RETURN = "voided_return", _("Kartu lama dikembalikan (dibatalkan)")
        LENT_OUT = "lent_out", _("Dipinjamkan (dalam perjalanan)")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    serial = models.CharField(_("nomor seri"), max_length=20, unique=True)
    office = models.ForeignKey(
        "offices.Office", on_delete=models.PROTECT, related_name="blanks", verbose_name=_("kantor")
    )
    service_point = models.ForeignKey(
        "offices.ServicePoint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="blanks",
        verbose_name=_("titik layanan"),
        help_text=_("Kosong berarti di gudang kantor."),
    )
    state = models.CharField(
        _("keadaan"), max_length=14, choices=State.choices, default=State.IN_STOCK
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["serial"]
        verbose_name = _("blangko")
        verbose_name_plural = _("blangko")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    state__in=[
                        "in_stock",
                        "printing",
                        "used",
                        "spoiled",
                        "voided_return",
                        "lent_out",
                    ]
                ),
                name="blank_state_valid",
            ),
            models.CheckConstraint(
                condition=~Q(state="lent_out") | Q(service_point__isnull=True),
                name="blank_lent_out_not_at_point",
            ),
            models.CheckConstraint(condition=Q(serial__length__gte=6), name="blank_serial_min_6"),
        ]
        indexes = [
            models.Index(
                fields=["office", "service_point", "state", "serial"], name="blank_location"
            )
        ]

    def __str__(self) -> str:
        return self.serial


class LedgerEntry(models.Model):
    """One movement of blanks: who, when, where, which serials and why."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Penerimaan")
        TRANSFER = "transfer", _("Pemindahan")
        CONSUMPTION = "consumption", _("Pemakaian cetak")
        SPOILAGE = "spoilage", _("Blangko rusak / salah cetak")
        RETURN_VOID = "return_void", _("Kartu lama dikembalikan")
        LOAN_OUT = "loan_out", _("Dipinjamkan ke kab/kota lain")
        LOAN_IN = "loan_in", _("Pinjaman diterima")
        COUNT = "count", _("Stok opname")

    class Source(models.TextChoices):
        MINISTRY = "ministry", _("Ditjen Dukcapil Kemendagri")
        PROVINCE = "province", _("Provinsi")

    class SpoilCause(models.TextChoices):
        MISPRINT = "misprint", _("Salah cetak")
        DAMAGED = "damaged", _("Rusak fisik")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("jenis"), max_length=12, choices=Kind.choices)
    office = models.ForeignKey(
        "offices.Office", on_delete=models.PROTECT, related_name="+", verbose_name=_("kantor")
    )
    from_point = models.ForeignKey(
        "offices.ServicePoint", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_point = models.ForeignKey(
        "offices.ServicePoint", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    counterpart_office = models.ForeignKey(
        "offices.Office", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    quantity = models.PositiveIntegerField(_("jumlah"))
    serial_first = models.CharField(max_length=20, blank=True)
    serial_last = models.CharField(max_length=20, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, blank=True)
    reference = models.CharField(_("nomor referensi"), max_length=100, blank=True)
    spoil_cause = models.CharField(max_length=10, choices=SpoilCause.choices, blank=True)
    reason = models.CharField(_("alasan"), max_length=250, blank=True)
    request = models.ForeignKey(
        BlankRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="receipts"
    )
    loan_out = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="loan_in_entry"
    )
    counted = models.PositiveIntegerField(null=True, blank=True)
    expected = models.PositiveIntegerField(null=True, blank=True)
    blanks = models.ManyToManyField(Blank, through="LedgerLine", related_name="entries")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("waktu"), db_index=True)
    node = models.CharField(max_length=40, default="office")
    device = models.ForeignKey(
        "offices.Device", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-at"]
        verbose_name = _("mutasi blangko")
        verbose_name_plural = _("mutasi blangko")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "receipt",
                        "transfer",
                        "consumption",
                        "spoilage",
                        "return_void",
                        "loan_out",
                        "loan_in",
                        "count",
                    ]
                ),
                name="ledger_kind_valid",
            ),
            models.CheckConstraint(
                condition=~Q(kind="receipt") | (~Q(source="") & ~Q(reference="")),
                name="ledger_receipt_has_source_and_reference",
            ),
            models.CheckConstraint(
                condition=~Q(kind="spoilage") | (~Q(spoil_cause="") & ~Q(reason="")),
                name="ledger_spoilage_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(kind="count") | (Q(counted__isnull=False) & Q(expected__isnull=False)),
                name="ledger_count_has_figures",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["loan_out", "loan_in"])
                | Q(counterpart_office__isnull=False),
                name="ledger_loan_has_counterpart",
            ),
            models.CheckConstraint(
                condition=~Q(kind="transfer")
                | Q(from_point__isnull=True, to_point__isnull=False)
                | Q(from_point__isnull=False, to_point__isnull=True)
                | (
                    Q(from_point__isnull=False, to_point__isnull=False)
                    & ~Q(from_point=F("to_point"))
                ),
                name="ledger_transfer_moves",
            ),
        ]
        indexes = [models.Index(fields=["office", "kind", "at"], name="ledger_office_kind_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity} {self.at:%Y-%m-%d}"

    @property
    def discrepancy(self) -> int | None:
        if self.counted is None or self.expected is None:
            return None
        return self.counted - self.expected


class LedgerLine(models.Model):
    """One serial moved by one ledger entry."""

    entry = models.ForeignKey(LedgerEntry, on_delete=models.CASCADE, related_name="lines")
    blank = models.ForeignKey(Blank, on_delete=models.PROTECT, related_name="lines")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entry", "blank"], name="ledgerline_once_per_entry"),
        ]

    def __str__(self) -> str:
        return f"{self.entry_id}:{self.blank_id}"


class ReprintRequest(models.Model):
    """A resident's request for a new card (damaged, lost, data change, moved, suket exchange)."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Menunggu cetak")
        DEFERRED = "deferred", _("Ditunda")
        PRINTED = "printed", _("Sudah dicetak")
        CANCELLED = "cancelled", _("Dibatalkan")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    resident = models.ForeignKey(
        "residents.Resident", on_delete=models.PROTECT, related_name="reprint_requests"
    )
    office = models.ForeignKey("offices.Office", on_delete=models.PROTECT, related_name="+")
    service_point = models.ForeignKey(
        "offices.ServicePoint", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("alasan cetak"), max_length=16, choices=PrintReason.choices)
    old_card_usable = models.BooleanField(_("kartu lama masih dapat dipakai"), default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    deferral_reason = models.CharField(_("alasan penundaan"), max_length=250, blank=True)
    # A data change that a region change decree caused: its own priority category
    # ("region_change") in the print queue, the ration and the blank forecast.
    change_set = models.ForeignKey(
        "regions.RegionChangeSet",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reprint_requests",
        verbose_name=_("keputusan perubahan wilayah"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("permohonan cetak ulang")
        verbose_name_plural = _("permohonan cetak ulang")
        constraints = [
            models.UniqueConstraint(
                fields=["resident"],
                condition=Q(status__in=["waiting", "deferred"]),
                name="reprint_one_open_per_resident",
            ),
            models.CheckConstraint(condition=~Q(reason="baru"), name="reprint_not_for_new_cards"),
            models.CheckConstraint(
                condition=Q(change_set__isnull=True) | Q(reason="perubahan_data"),
                name="reprint_decree_is_data_change",
            ),
            models.CheckConstraint(
                condition=~Q(status="deferred") | ~Q(deferral_reason=""),
                name="reprint_deferred_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.reason} ({self.status})"


class CardPrint(models.Model):
    """One card printed on one blank for one resident, and its hand-over."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    blank = models.OneToOneField(Blank, on_delete=models.PROTECT, related_name="card_print")
    resident = models.ForeignKey(
        "residents.Resident", on_delete=models.PROTECT, related_name="card_prints"
    )
    request = models.ForeignKey(
        ReprintRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="prints"
    )
    reason = models.CharField(_("alasan cetak"), max_length=16, choices=PrintReason.choices)
    service_point = models.ForeignKey(
        "offices.ServicePoint", on_delete=models.PROTECT, related_name="+"
    )
    printer = models.ForeignKey(
        "offices.Device", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    printed_at = models.DateTimeField(_("waktu cetak"), db_index=True)
    node = models.CharField(max_length=40, default="office")
    proof = models.CharField(_("bukti cetak"), max_length=250, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=250, blank=True)
    handed_over_at = models.DateTimeField(_("waktu penyerahan"), null=True, blank=True)
    received_by_name = models.CharField(_("diterima oleh"), max_length=100, blank=True)
    received_relation = models.CharField(_("hubungan penerima"), max_length=40, blank=True)
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-printed_at"]
        verbose_name = _("cetak kartu")
        verbose_name_plural = _("cetak kartu")
        constraints = [
            models.CheckConstraint(
                condition=Q(handed_over_at__isnull=True, received_by_name="")
                | (Q(handed_over_at__isnull=False) & ~Q(received_by_name="")),
                name="cardprint_handover_names_receiver",
            ),
            models.CheckConstraint(
                condition=Q(voided_at__isnull=True) | Q(handed_over_at__isnull=True),
                name="cardprint_void_not_handed_over",
            ),
            models.CheckConstraint(
                condition=Q(voided_at__isnull=True) | ~Q(void_reason=""),
                name="cardprint_void_has_reason",
            ),
        ]
        # The daily report counts the cards handed over in a day.
        indexes = [models.Index(fields=["handed_over_at"], name="cardprint_handed_over_at")]

    def __str__(self) -> str:
        return f"{self.blank_id} → {self.resident_id}"


class PrintReservation(models.Model):
    """One blank set aside for one card while the printer works, and how that ended.

    The reservation commits before the printer is called, so a crash while printing leaves
    it open (the blank in PRINTING, out of stock) until the job confirms it or an operator
    says on the reconciliation page whether the card came out: nothing goes back to stock
    without a person or the printer saying so."""

    class Status(models.TextChoices):
        PRINTING = "printing", _("Sedang dicetak")
        PRINTED = "printed", _("Tercetak")
        SPOILED = "spoiled", _("Rusak / gagal cetak")
        NOT_PRINTED = "not_printed", _("Tidak tercetak (blangko kembali ke stok)")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    blank = models.ForeignKey(Blank, on_delete=models.PROTECT, related_name="reservations")
    resident = models.ForeignKey(
        "residents.Resident", on_delete=models.PROTECT, related_name="print_reservations"
    )
    request = models.ForeignKey(
        ReprintRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reservations",
    )
    replaces = models.ForeignKey(
        CardPrint,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replacements",
        help_text=_("Cetakan salah yang diganti kartu ini (dibatalkan saat kartu ini tercetak)."),
    )
    misprint_reason = models.CharField(_("alasan salah cetak"), max_length=250, blank=True)
    reason = models.CharField(_("alasan cetak"), max_length=16, choices=PrintReason.choices)
    service_point = models.ForeignKey(
        "offices.ServicePoint", on_delete=models.PROTECT, related_name="+"
    )
    printer = models.ForeignKey(
        "offices.Device", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reserved_at = models.DateTimeField(_("waktu mulai cetak"), db_index=True)
    node = models.CharField(max_length=40, default="office")
    host = models.CharField(
        _("server pencetak"),
        max_length=100,
        blank=True,
        help_text=_("Server yang menjalankan pekerjaan cetak (untuk tahu apakah masih berjalan)."),
    )
    status = models.CharField(
        _("keadaan"), max_length=12, choices=Status.choices, default=Status.PRINTING
    )
    card_print = models.OneToOneField(
        CardPrint, on_delete=models.PROTECT, null=True, blank=True, related_name="reservation"
    )
    resolved_at = models.DateTimeField(_("waktu selesai"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reconciled = models.BooleanField(
        _("diselesaikan lewat rekonsiliasi"),
        default=False,
        help_text=_("Pekerjaan cetak terhenti; petugas menyatakan hasilnya."),
    )
    note = models.CharField(_("keterangan"), max_length=250, blank=True)

    class Meta:
        ordering = ["reserved_at"]
        verbose_name = _("pencadangan blangko cetak")
        verbose_name_plural = _("pencadangan blangko cetak")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["printing", "printed", "spoiled", "not_printed"]),
                name="printreservation_status_valid",
            ),
            # A blank is reserved once, unless the reservation ended with the card not printed.
            models.UniqueConstraint(
                fields=["blank"],
                condition=~Q(status="not_printed"),
                name="printreservation_blank_once",
            ),
            # One card at a time per resident (and so per reprint request).
            models.UniqueConstraint(
                fields=["resident"],
                condition=Q(status="printing"),
                name="printreservation_one_open_per_resident",
            ),
            models.CheckConstraint(
                condition=Q(status="printing", resolved_at__isnull=True, resolved_by__isnull=True)
                | (~Q(status="printing") & Q(resolved_at__isnull=False, resolved_by__isnull=False)),
                name="printreservation_open_or_resolved",
            ),
            models.CheckConstraint(
                condition=Q(status="printed", card_print__isnull=False)
                | (~Q(status="printed") & Q(card_print__isnull=True)),
                name="printreservation_printed_has_card",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["printing", "printed"]) | ~Q(note=""),
                name="printreservation_failure_has_note",
            ),
            models.CheckConstraint(
                condition=Q(replaces__isnull=True) | ~Q(misprint_reason=""),
                name="printreservation_replacement_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "reserved_at"], name="printreservation_open"),
        ]

    def __str__(self) -> str:
        return f"{self.blank_id} → {self.resident_id} ({self.status})"

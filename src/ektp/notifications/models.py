"""Notifications: the outbox of messages to residents, channel opt-outs, incoming chats."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    WHATSAPP = "whatsapp", _("WhatsApp")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")


class Event(models.TextChoices):
    """What happened to the resident that the resident is told about."""

    BOOKING_CONFIRMED = "booking_confirmed", _("Janji temu dikonfirmasi")
    BOOKING_REMINDER = "booking_reminder", _("Pengingat janji temu")
    RECORDED = "recorded", _("Sudah rekam")
    PRINT_READY = "print_ready", _("Siap cetak (PRR)")
    CARD_PRINTED = "card_printed", _("KTP-el sudah dicetak")
    CARD_ISSUED = "card_issued", _("KTP-el sudah diserahkan")
    IKD_HOWTO = "ikd_howto", _("Cara aktivasi IKD")
    SUKET_ISSUED = "suket_issued", _("Suket diterbitkan")
    DUPLICATE_FOUND = "duplicate_found", _("Data ganda ditemukan")
    PRINTING_DEFERRED = "printing_deferred", _("Pencetakan ditunda")
    BOT_REPLY = "bot_reply", _("Balasan WhatsApp")
    ACCESS_CODE = "access_code", _("Kode sekali pakai")
    ADDRESS_CHANGED = "address_changed", _("Alamat berubah karena keputusan wilayah")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Antre")
    SENDING = "sending", _("Sedang dikirim")
    SENT = "sent", _("Terkirim")
    FAILED = "failed", _("Gagal")
    SKIPPED_OPTED_OUT = "skipped_opted_out", _("Dilewati: penduduk berhenti berlangganan")
    SKIPPED_NO_ADDRESS = "skipped_no_address", _("Dilewati: tidak ada nomor/alamat")
    # The worker died while sending on a channel that cannot say whether the message left: it
    # is not sent again (never twice); staff check it, or the channel's receipt confirms it.
    UNCONFIRMED = "unconfirmed", _("Belum pasti terkirim")


FINAL_STATUSES = [
    MessageStatus.SENT,
    MessageStatus.FAILED,
    MessageStatus.SKIPPED_OPTED_OUT,
    MessageStatus.SKIPPED_NO_ADDRESS,
]


class Message(models.Model):
    """One message to one resident on one channel; sent at most once per event."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    resident = models.ForeignKey(
        "residents.Resident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
    )
    event = models.CharField(_("peristiwa"), max_length=20, choices=Event.choices)
    channel = models.CharField(_("saluran"), max_length=10, choices=Channel.choices)
    dedup_key = models.CharField(max_length=200)
    recipient = models.CharField(_("penerima"), max_length=120, blank=True)
    language = models.CharField(max_length=5, default="id")
    subject = models.CharField(_("judul"), max_length=200, blank=True)
    body = models.TextField(_("isi"))
    template_params = models.JSONField(default=list, blank=True)
    attachment_path = models.CharField(max_length=300, blank=True)
    attachment_url = models.URLField(max_length=500, blank=True)
    attachment_name = models.CharField(max_length=120, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=MessageStatus.choices, default=MessageStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("percobaan"), default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The task run that claimed the message: when that same run is taken up again after its
    # worker died, the send it may have made is settled before anything is sent again.
    claimed_by = models.CharField(max_length=64, blank=True)
    last_error = models.CharField(_("galat terakhir"), max_length=500, blank=True)
    provider_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("pesan")
        verbose_name_plural = _("pesan")
        constraints = [
            models.UniqueConstraint(
                fields=["dedup_key", "channel"], name="message_once_per_event_channel"
            ),
            models.CheckConstraint(
                condition=Q(status__in=MessageStatus.values), name="message_status_known"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="message_channel_known"
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="message_sent_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="sending") | Q(claimed_at__isnull=False),
                name="message_sending_is_claimed",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="message_due")]

    def __str__(self) -> str:
        return f"{self.event} → {self.channel} ({self.status})"

    @property
    def idempotency_key(self) -> str:
        """The key a channel receives with the message, the same on every try: one delivery."""
        return f"ektp-{self.id}"


class ChannelOptOut(models.Model):
    """A resident who asked not to be told anything on a channel."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    resident = models.ForeignKey(
        "residents.Resident", on_delete=models.CASCADE, related_name="channel_opt_outs"
    )
    channel = models.CharField(_("saluran"), max_length=10, choices=Channel.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("berhenti berlangganan")
        verbose_name_plural = _("berhenti berlangganan")
        constraints = [
            models.UniqueConstraint(fields=["resident", "channel"], name="optout_once_per_channel"),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="optout_channel_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resident_id} ✕ {self.channel}"


class Language(models.TextChoices):
    """The languages that message texts are written in."""

    ID = "id", _("Bahasa Indonesia")
    EN = "en", _("English")


class Preference(models.Model):
    """A resident's choices for notices beyond the channel opt-outs: the language."""

    resident = models.OneToOneField(
        "residents.Resident",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_preference",
    )
    language = models.CharField(
        _("bahasa"), max_length=5, choices=Language.choices, default=Language.ID
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("preferensi pemberitahuan")
        verbose_name_plural = _("preferensi pemberitahuan")
        constraints = [
            models.CheckConstraint(
                condition=Q(language__in=Language.values), name="preference_language_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resident_id}: {self.language}"


class InboundMessage(models.Model):
    """A WhatsApp message received by the bot; its provider id makes handling idempotent."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider_id = models.CharField(max_length=200, unique=True)
    sender = models.CharField(_("pengirim"), max_length=30)
    kind = models.CharField(max_length=20)
    text = models.TextField(blank=True)
    reply = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("pesan masuk")
        verbose_name_plural = _("pesan masuk")

    def __str__(self) -> str:
        return f"{self.sender}: {self.text[:30]}"

"""Staff users with a role and a jurisdiction, API tokens, and the audit log."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    GATE_OFFICER = "gate_officer", _("Petugas gerbang")
    OPERATOR = "operator", _("Operator")
    SUPERVISOR = "supervisor", _("Kepala dinas / supervisor")
    PROVINCE_ADMIN = "province_admin", _("Admin provinsi")
    SYSTEM_ADMIN = "system_admin", _("Admin sistem")


OFFICE_ROLES = {Role.GATE_OFFICER, Role.OPERATOR, Role.SUPERVISOR}


class User(AbstractUser):
    """A staff member bound to an office (kab/kota) or a province."""

    role = models.CharField(_("peran"), max_length=20, choices=Role.choices, default=Role.OPERATOR)
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("wilayah kerja"),
        help_text=_("Kabupaten/kota untuk petugas kantor, provinsi untuk admin provinsi."),
    )

    class Meta:
        verbose_name = _("pengguna")
        verbose_name_plural = _("pengguna")
        constraints = [
            # Office staff work for a kab/kota (code NN.NN), a province admin for a province.
            models.CheckConstraint(
                condition=Q(role="system_admin") | Q(region__isnull=False),
                name="user_staff_has_region",
            ),
        ]

    @property
    def jurisdiction_code(self) -> str | None:
        """The region code whose residents this user may see; None means the whole nation."""
        if self.role == Role.SYSTEM_ADMIN and self.region_id is None:
            return None
        return self.region_id


class ApiToken(models.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored.

    A token works until it expires (EKTP_API_TOKEN_DAYS after it was issued), is revoked by its
    owner, or its owner's password changes (password_fingerprint no longer matches)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("nama"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("berlaku sampai"))
    # SHA-256 of the owner's password hash when the token was issued.
    password_fingerprint = models.CharField(max_length=64)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("token API")
        verbose_name_plural = _("token API")

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def fingerprint(user: User) -> str:
        """What ties a token to its owner's current password."""
        return hashlib.sha256(user.password.encode()).hexdigest()


GENESIS_HASH = "0" * 64


class AuditEvent(models.Model):
    """Who saw or changed what, when and from where.

    The log is a hash chain: each event stores the hash of the one before (prev_hash) and
    its own (hash, over prev_hash and its canonical fields), numbered by seq without gaps.
    Editing, deleting or inserting a row breaks the chain where it happened; `ektp audit
    verify` names the first broken link."""

    class Action(models.TextChoices):
        VIEW = "view", _("lihat")
        SEARCH = "search", _("cari")
        CREATE = "create", _("buat")
        UPDATE = "update", _("ubah")
        DELETE = "delete", _("hapus")
        LOGIN = "login", _("masuk")
        LOGOUT = "logout", _("keluar")
        LOGIN_FAILED = "login_failed", _("gagal masuk")
        READ_BIOMETRIC = "read_biometric", _("baca biometrik")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    seq = models.BigIntegerField(unique=True, editable=False)
    at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    user = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    channel = models.CharField(max_length=10, default="web")
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("catatan audit")
        verbose_name_plural = _("catatan audit")
        indexes = [models.Index(fields=["object_type", "object_id", "at"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.action} {self.object_type}:{self.object_id}"

    def chain_hash(self) -> str:
        """The hash this event must carry: SHA-256 over prev_hash and its canonical fields."""
        return chain_hash(
            prev_hash=self.prev_hash,
            seq=self.seq,
            at=self.at,
            user_id=self.user_id,
            action=self.action,
            object_type=self.object_type,
            object_id=self.object_id,
            ip_address=self.ip_address,
            user_agent=self.user_agent,
            channel=self.channel,
            detail=self.detail,
        )


def chain_hash(*, prev_hash: str, seq: int, at, detail, **fields) -> str:
    """Hash one audit event's canonical form (sorted JSON, the time in UTC microseconds)."""
    canonical = json.dumps(
        {
            **{name: (None if value is None else str(value)) for name, value in fields.items()},
            "seq": seq,
            "at": at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "detail": detail,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


class AuditChainHead(models.Model):
    """The last link of the audit chain, one row: every writer locks it (select_for_update),
    so two writers can never both append after the same event."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("ujung rantai audit")
        verbose_name_plural = _("ujung rantai audit")

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"


class WorkerHeartbeat(models.Model):
    """A task worker's sign of life, written every few seconds while `ektp db_worker` runs.

    A worker that has not beaten for EKTP_WORKER_GONE_AFTER_SECONDS is gone: the tasks it left
    RUNNING are put back (``ektp.core.worker``) and /healthz answers 503.
    """

    worker_id = models.CharField(primary_key=True, max_length=64)
    hostname = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    # The in-process ABIS gallery lives in the worker that runs penunggalan: whether it is
    # loaded there (None: the ABIS is remote, /healthz pings it itself), and what it said.
    abis_loaded = models.BooleanField(null=True, blank=True)
    abis_note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("detak pekerja tugas")
        verbose_name_plural = _("detak pekerja tugas")

    def __str__(self) -> str:
        return f"{self.worker_id} {self.beat_at:%Y-%m-%d %H:%M:%S}"


class JobState(models.TextChoices):
    QUEUED = "queued", _("Dalam antrean")
    RUNNING = "running", _("Sedang berjalan")
    DONE = "done", _("Selesai")
    FAILED = "failed", _("Gagal")


class Job(models.Model):
    """A piece of background work that a user started, and how far the worker has got with it.

    The view that schedules the task creates the row (QUEUED) and passes its id to the task; the
    worker writes its progress (done of total, a sentence saying what it is doing) and the end
    (DONE with a link to the result, or FAILED with the reason in Indonesian). The page polls
    the row's JSON (``core:job``) and shows a progress bar until it ends.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("jenis"), max_length=40)
    title = models.CharField(_("judul"), max_length=200)
    state = models.CharField(
        _("keadaan"), max_length=10, choices=JobState.choices, default=JobState.QUEUED
    )
    done = models.PositiveIntegerField(_("selesai"), default=0)
    total = models.PositiveIntegerField(_("jumlah"), null=True, blank=True)
    message = models.CharField(_("keterangan"), max_length=250, blank=True)
    result_url = models.CharField(_("tautan hasil"), max_length=250, blank=True)
    started_by = models.ForeignKey(
        "core.User", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("tugas latar")
        verbose_name_plural = _("tugas latar")
        constraints = [
            models.CheckConstraint(
                condition=Q(total__isnull=True) | Q(done__lte=models.F("total")),
                name="job_done_within_total",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["done", "failed"], finished_at__isnull=False)
                | Q(state__in=["queued", "running"], finished_at__isnull=True),
                name="job_finished_when_ended",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.state} {self.done}/{self.total}"

    @property
    def finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)

    @property
    def percent(self) -> int | None:
        if self.state == JobState.DONE:
            return 100
        if not self.total:
            return None
        return min(100, self.done * 100 // self.total)

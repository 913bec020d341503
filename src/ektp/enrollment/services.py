"""Writes for recording: capture, the KTP-el status machine with its history, penunggalan."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from ektp.core.access import within_jurisdiction
from ektp.core.errors import DomainError
from ektp.core.models import AuditEvent, Role, User
from ektp.core.services import record_audit
from ektp.enrollment import crypto
from ektp.enrollment.biometrics import (
    EXCEPTABLE,
    MAX_IMAGE_BYTES,
    TEMPLATE_BYTES,
    Capture,
    ExceptionReason,
    Modality,
    capture_all,
    capture_device_for,
    quality_threshold,
    retry_limit,
)
from ektp.enrollment.models import (
    BiometricException,
    BiometricSample,
    Enrollment,
    Penunggalan,
    StatusChange,
)
from ektp.enrollment.signals import status_changed
from ektp.offices.calendar import opening
from ektp.offices.models import Device, ServicePoint
from ektp.offices.services import recording_blocked
from ektp.residents.models import Citizenship, KtpStatus, LifeStatus, MaritalStatus, Resident

S = KtpStatus
RECORDERS = {Role.OPERATOR, Role.SUPERVISOR, Role.SYSTEM_ADMIN}
# A status in the words of a sentence ("status masih menunggu penunggalan"): people read words,
# not SIAK codes.
SHORT = {
    S.BELUM_REKAM: "belum rekam",
    S.BIO_CAPTURED: "sudah rekam",
    S.SENT_FOR_ENROLLMENT: "menunggu penunggalan",
    S.PRINT_READY_RECORD: "siap cetak",
    S.DUPLICATE_RECORD: "data ganda",
    S.ENROLL_FAILURE: "gagal rekam",
    S.CARD_PRINTED: "sudah dicetak",
    S.CARD_ISSUED: "sudah diserahkan",
}
TRANSITIONS: dict[str, set[str]] = {
    S.BELUM_REKAM: {S.BIO_CAPTURED},
    S.BIO_CAPTURED: {S.SENT_FOR_ENROLLMENT},
    S.SENT_FOR_ENROLLMENT: {S.PRINT_READY_RECORD, S.DUPLICATE_RECORD, S.ENROLL_FAILURE},
    S.DUPLICATE_RECORD: {S.PRINT_READY_RECORD},
    S.ENROLL_FAILURE: {S.BIO_CAPTURED},
    S.PRINT_READY_RECORD: {S.CARD_PRINTED},
    S.CARD_PRINTED: {S.CARD_ISSUED, S.CARD_PRINTED},
    S.CARD_ISSUED: {S.CARD_PRINTED},
}
VERBS = {
    S.BIO_CAPTURED: "merekam",
    S.SENT_FOR_ENROLLMENT: "mengirim ke penunggalan",
    S.PRINT_READY_RECORD: "menetapkan siap cetak",
    S.DUPLICATE_RECORD: "menetapkan data ganda",
    S.ENROLL_FAILURE: "menetapkan gagal rekam",
    S.CARD_PRINTED: "mencetak",
    S.CARD_ISSUED: "menyerahkan kartu",
}
PENUNGGALAN_OUTCOMES = {S.PRINT_READY_RECORD, S.DUPLICATE_RECORD, S.ENROLL_FAILURE}
MAX_REASON = 250


log = logging.getLogger(__name__)


class EnrollmentError(DomainError, ValueError):
    """A recording request breaks a rule; the message says which."""

    rule = "enrollment"


class InvalidTransition(EnrollmentError):
    """The status machine refuses a transition; the message says why."""


@dataclass(frozen=True)
class ExceptionIn:
    """A modality that cannot be captured, and why."""

    reason: str
    note: str = ""


MISSING_BIOMETRICS = (
    "Tidak dapat mengirim ke penunggalan: penduduk ini tercatat sudah rekam, tetapi data "
    "biometriknya tidak tersimpan di sistem. Rekam ulang biometriknya, lalu kirim lagi."
)


def biometrics_missing(resident: Resident) -> bool:
    """Tell whether a resident is marked BIO_CAPTURED with no biometrics stored (a record
    brought over from another system, or a seeded one): it cannot be sent to penunggalan,
    and an operator may record it again."""
    return (
        resident.ktp_status == S.BIO_CAPTURED
        and not Enrollment.objects.filter(resident=resident).exists()
    )


def seventeenth_birthday(birth_date: dt.date) -> dt.date:
    """Return the day a resident turns 17 (someone born on 29 February: 1 March)."""
    try:
        return birth_date.replace(year=birth_date.year + 17)
    except ValueError:
        return dt.date(birth_date.year + 17, 3, 1)


def card_may_be_printed(resident: Resident, on: dt.date | None = None) -> tuple[bool, str]:
    """Tell whether a resident's card may be printed on a day, with the reason if not."""
    on = on or timezone.localdate()
    status = resident.ktp_status
    if status not in (S.PRINT_READY_RECORD, S.CARD_PRINTED, S.CARD_ISSUED):
        return False, f"Tidak dapat mencetak: status masih {SHORT.get(status, status)}."
    if resident.life_status != LifeStatus.ALIVE:
        return (
            False,
            f"Tidak dapat mencetak: penduduk berstatus {resident.get_life_status_display()}.",
        )
    if resident.citizenship != Citizenship.WNI and not resident.has_itap:
        return False, "Tidak dapat mencetak: WNA tanpa ITAP tidak wajib KTP-el."
    if resident.age(on) < 17 and resident.marital_status == MaritalStatus.SINGLE:
        birthday = seventeenth_birthday(resident.birth_date)
        return False, f"Kartu ditahan sampai ulang tahun ke-17 pada {birthday:%d-%m-%Y}."
    return True, ""


def _clean_reason(reason: str | None) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise EnrollmentError("Alasan perubahan status wajib diisi.")
    return text[:MAX_REASON]


def _apply(
    *,
    resident: Resident,
    to: str,
    actor: User | None,
    reason: str,
    service_point: ServicePoint | None,
    node_id: str,
    at: dt.datetime | None = None,
    stored_again: bool = False,
) -> StatusChange:
    """Move a locked resident to a status and append the history row; the caller holds the
    transaction. stored_again: the biometrics of a BIO_CAPTURED resident that had none
    stored were just recorded (BIO_CAPTURED → BIO_CAPTURED, see biometrics_missing)."""
    current = resident.ktp_status
    if to not in S.values:
        raise InvalidTransition(f"Status '{str(to)[:30]}' tidak dikenal.")
    again = stored_again and current == to == S.BIO_CAPTURED
    if to not in TRANSITIONS.get(current, set()) and not again:
        verb = VERBS.get(to, "mengubah status")
        raise InvalidTransition(f"Tidak dapat {verb}: status masih {SHORT.get(current, current)}.")
    enrollment = Enrollment.objects.filter(resident=resident).first()
    if to == S.BIO_CAPTURED and enrollment is None:
        raise InvalidTransition("Tidak dapat merekam: belum ada data biometrik yang tersimpan.")
    if to == S.SENT_FOR_ENROLLMENT and enrollment is None:
        raise InvalidTransition(MISSING_BIOMETRICS)
    if to == S.CARD_PRINTED:
        allowed, why = card_may_be_printed(resident, on=timezone.localdate())
        if not allowed:
            raise InvalidTransition(why)
    resident.ktp_status = to
    fields = ["ktp_status", "updated_at"]
    if to == S.BIO_CAPTURED:
        resident.recorded_on = timezone.localdate(enrollment.captured_at)
        fields.append("recorded_on")
    resident.save(update_fields=fields)
    change = StatusChange.objects.create(
        resident=resident,
        enrollment=enrollment,
        from_status=current,
        to_status=to,
        actor=actor,
        service_point=service_point,
        at=at or timezone.now(),
        reason=_clean_reason(reason),
        node_id=(node_id or "office")[:40],
    )
    if to == S.SENT_FOR_ENROLLMENT:
        _queue_penunggalan(enrollment)
    # In the same transaction as the change: a worker killed right after the commit must not
    # leave a decided resident without its notice (the send itself runs after commit, and
    # `ektp daily` enqueues a queued message whose task was lost). A printed card's CardPrint
    # row is written before the resident is marked, so the notice can name it.
    _announce(resident, change)
    return change


def _announce(resident: Resident, change: StatusChange) -> None:
    """Send status_changed to its receivers; a failure there never undoes the change."""
    try:
        with transaction.atomic():  # a savepoint: only the receivers' writes are undone
            status_changed.send(sender=StatusChange, resident=resident, change=change)
    except Exception:
        log.exception("receivers of %s -> %s failed", change.id, change.to_status)


def _queue_penunggalan(enrollment: Enrollment) -> None:
    from ektp.enrollment.tasks import run_penunggalan

    Enrollment.objects.filter(pk=enrollment.pk).update(
        penunggalan=Penunggalan.QUEUED, penunggalan_note=""
    )
    enrollment_id = str(enrollment.pk)
    transaction.on_commit(lambda: run_penunggalan.enqueue(enrollment_id=enrollment_id))


def transition(
    *,
    resident: Resident,
    to: str,
    actor: User | None,
    reason: str,
    service_point: ServicePoint | None = None,
    node_id: str = "office",
) -> StatusChange:
    """Move a resident's KTP-el to another status, or raise InvalidTransition saying why not."""
    with transaction.atomic():
        locked = Resident.objects.select_for_update().get(pk=resident.pk)
        change = _apply(
            resident=locked,
            to=to,
            actor=actor,
            reason=reason,
            service_point=service_point,
            node_id=node_id,
        )
    resident.ktp_status, resident.recorded_on = locked.ktp_status, locked.recorded_on
    return change


def check_samples(
    captures: Mapping[str, Capture], exceptions: Mapping[str, ExceptionIn]
) -> list[str]:
    problems = []
    for modality in list(captures) + list(exceptions):
        if modality not in Modality.values:
            problems.append(f"Modalitas '{str(modality)[:20]}' tidak dikenal.")
    limit = retry_limit()
    for modality in Modality.values:
        label = Modality(modality).label
        got, excepted = captures.get(modality), exceptions.get(modality)
        if got is not None and excepted is not None:
            problems.append(f"{label}: terekam sekaligus dikecualikan; pilih salah satu.")
        elif excepted is not None:
            if modality not in EXCEPTABLE:
                problems.append(f"{label} wajib direkam dan tidak dapat dikecualikan.")
            elif excepted.reason not in ExceptionReason.values:
                problems.append(
                    f"{label}: alasan pengecualian harus amputasi, cedera atau disabilitas."
                )
            elif len(excepted.note) > 200:
                problems.append(f"{label}: keterangan paling banyak 200 karakter.")
        elif got is None:
            problems.append(
                f"{label} belum direkam; rekam atau catat pengecualian beserta alasannya."
            )
        else:
            size = TEMPLATE_BYTES[modality]
            if not isinstance(got.template, bytes) or len(got.template) != size:
                problems.append(
                    f"{label}: ukuran templat harus {size} byte, "
                    f"diterima {len(got.template) if isinstance(got.template, bytes) else 0}."
                )
            if len(got.image or b"") > MAX_IMAGE_BYTES:
                problems.append(f"{label}: gambar melebihi {MAX_IMAGE_BYTES // 1024} KB.")
            if not 0 <= got.quality <= 100:
                problems.append(f"{label}: skor kualitas harus 0–100.")
            elif got.quality < quality_threshold(modality):
                problems.append(
                    f"{label}: kualitas {got.quality} di bawah ambang {quality_threshold(modality)}; "
                    "rekam ulang atau catat pengecualian."
                )
            if not 1 <= got.attempts <= limit:
                problems.append(f"{label}: jumlah percobaan harus 1–{limit}.")
    return problems


def check_may_record(
    *, resident: Resident, point: ServicePoint, device: Device | None, actor: User, day: dt.date
) -> None:
    """Raise EnrollmentError if this operator may not record this resident here today."""
    if actor.role not in RECORDERS:
        raise EnrollmentError("Peran Anda tidak boleh melakukan perekaman.")
    if not within_jurisdiction(actor, point.office.region_id):
        raise EnrollmentError("Titik layanan ini berada di luar wilayah kerja Anda.")
    if not within_jurisdiction(actor, resident.address_region_id):
        raise EnrollmentError("Penduduk ini berada di luar wilayah kerja Anda.")
    if resident.life_status != LifeStatus.ALIVE:
        raise EnrollmentError(
            f"Penduduk berstatus {resident.get_life_status_display()}; tidak dapat direkam."
        )
    if resident.citizenship != Citizenship.WNI and not resident.has_itap:
        raise EnrollmentError("WNA tanpa ITAP tidak direkam untuk KTP-el.")
    if resident.ktp_status not in (S.BELUM_REKAM, S.ENROLL_FAILURE) and not biometrics_missing(
        resident
    ):
        raise EnrollmentError(
            f"Penduduk sudah direkam (status {SHORT.get(resident.ktp_status)}); "
            "perekaman biometrik hanya sekali seumur hidup."
        )
    today = opening(point=point, day=day)
    if not today.is_open:
        raise EnrollmentError(f"{point.name} tutup pada {day:%d-%m-%Y}. {today.reason}")
    blocked = recording_blocked(point=point, device=device)
    if blocked:
        raise EnrollmentError(f"Perekaman dihentikan: {blocked}")


def record_enrollment(
    *,
    resident: Resident,
    service_point: ServicePoint,
    device: Device,
    operator: User,
    captures: Mapping[str, Capture],
    exceptions: Mapping[str, ExceptionIn] | None = None,
    capture_driver: str = "simulator",
    node_id: str = "office",
    captured_at: dt.datetime | None = None,
    request=None,
) -> Enrollment:
    """Store a resident's biometrics (encrypted) and move the record to BIO_CAPTURED."""
    exceptions = dict(exceptions or {})
    captured_at = captured_at or timezone.now()
    problems = check_samples(captures, exceptions)
    if problems:
        raise EnrollmentError(" ".join(problems))
    try:
        with transaction.atomic():
            locked = Resident.objects.select_for_update().get(pk=resident.pk)
            point = ServicePoint.objects.select_related("office").get(pk=service_point.pk)
            kit = Device.objects.select_for_update().get(pk=device.pk)
            check_may_record(
                resident=locked,
                point=point,
                device=kit,
                actor=operator,
                day=timezone.localdate(captured_at),
            )
            enrollment = Enrollment.objects.filter(resident=locked).first()
            rerecord = enrollment is not None
            stored_again = enrollment is None and locked.ktp_status == S.BIO_CAPTURED
            if rerecord:
                enrollment.samples.all().delete()
                enrollment.exceptions.all().delete()
                enrollment.recordings += 1
            else:
                enrollment = Enrollment(resident=locked)
            enrollment.service_point = point
            enrollment.device = kit
            enrollment.operator = operator
            enrollment.node_id = node_id[:40]
            enrollment.capture_driver = capture_driver[:40]
            enrollment.captured_at = captured_at
            enrollment.penunggalan = Penunggalan.NOT_SENT
            enrollment.penunggalan_note = ""
            enrollment.save()
            BiometricSample.objects.bulk_create(
                BiometricSample(
                    enrollment=enrollment,
                    modality=modality,
                    quality=got.quality,
                    attempts=got.attempts,
                    template_size=len(got.template),
                    template_ciphertext=crypto.encrypt(got.template),
                    image_ciphertext=crypto.encrypt(got.image) if got.image else None,
                )
                for modality, got in captures.items()
            )
            BiometricException.objects.bulk_create(
                BiometricException(
                    enrollment=enrollment, modality=modality, reason=exc.reason, note=exc.note
                )
                for modality, exc in exceptions.items()
            )
            _apply(
                resident=locked,
                to=S.BIO_CAPTURED,
                actor=operator,
                reason=(
                    "Rekam ulang setelah gagal rekam"
                    if rerecord
                    else "Rekam ulang: data biometrik belum tersimpan"
                    if stored_again
                    else "Perekaman biometrik"
                ),
                service_point=point,
                node_id=node_id,
                at=captured_at,
                stored_again=stored_again,
            )
            record_audit(
                user=operator,
                action=AuditEvent.Action.CREATE,
                object_type="enrollment",
                object_id=str(enrollment.pk),
                request=request,
                detail={
                    "nik": locked.nik,
                    "point": point.code,
                    "exceptions": sorted(exceptions),
                    "rerecord": rerecord,
                },
            )
    except IntegrityError:
        raise EnrollmentError("Penduduk ini baru saja direkam oleh petugas lain.") from None
    resident.ktp_status, resident.recorded_on = locked.ktp_status, locked.recorded_on
    return enrollment


class CaptureBelowThreshold(EnrollmentError):
    """Some modalities stayed below the quality threshold after every retry."""

    rule = "capture_quality"

    def __init__(self, *, accepted: Mapping[str, Capture], failed: Mapping[str, Capture]):
        super().__init__(
            f"Kualitas di bawah ambang setelah {retry_limit()} percobaan: "
            + ", ".join(sorted(failed))
        )
        self.accepted = dict(accepted)
        self.failed = dict(failed)


def capture_and_record(
    *,
    resident: Resident,
    device: Device,
    operator: User,
    exceptions: Mapping[str, ExceptionIn] | None = None,
    node_id: str = "office",
    request=None,
) -> Enrollment:
    """Capture every modality with the kit's driver and record the result (the perekaman flow).

    The capture talks to the device outside any transaction, so that a slow scanner holds no
    database lock; record_enrollment then writes everything in one transaction, checking again
    under lock. An EnrollmentError raised after the capture carries `accepted` and `failed` so
    that a page can show the quality of each modality next to the refusal.
    """
    exceptions = dict(exceptions or {})
    check_may_record(
        resident=resident,
        point=device.service_point,
        device=device,
        actor=operator,
        day=timezone.localdate(),
    )
    existing = Enrollment.objects.filter(resident=resident).only("recordings").first()
    driver = capture_device_for(
        resident_id=resident.pk,
        device_id=device.pk,
        recording=(existing.recordings + 1) if existing else 1,
    )
    accepted, failed = capture_all(device=driver, skip=set(exceptions))
    if failed:
        raise CaptureBelowThreshold(accepted=accepted, failed=failed)
    try:
        return record_enrollment(
            resident=resident,
            service_point=device.service_point,
            device=device,
            operator=operator,
            captures=accepted,
            exceptions=exceptions,
            capture_driver=getattr(driver, "name", "driver"),
            node_id=node_id,
            request=request,
        )
    except EnrollmentError as exc:
        exc.accepted, exc.failed = accepted, {}
        raise


def send_for_penunggalan(
    *, resident: Resident, actor: User, service_point: ServicePoint | None = None
) -> StatusChange:
    """Send a captured record to penunggalan (BIO_CAPTURED → SFE); the check runs after commit."""
    if actor.role not in RECORDERS:
        raise EnrollmentError("Peran Anda tidak boleh mengirim rekaman.")
    if not within_jurisdiction(actor, resident.address_region_id):
        raise EnrollmentError("Penduduk ini berada di luar wilayah kerja Anda.")
    return transition(
        resident=resident,
        to=S.SENT_FOR_ENROLLMENT,
        actor=actor,
        reason="Dikirim untuk penunggalan",
        service_point=service_point,
    )


def mark_awaiting_engine(*, enrollment_id) -> bool:
    """Record that penunggalan is pending because no engine is wired; return whether it changed."""
    with transaction.atomic():
        enrollment = (
            Enrollment.objects.select_for_update()
            .select_related("resident")
            .filter(pk=enrollment_id)
            .first()
        )
        if enrollment is None or enrollment.resident.ktp_status != S.SENT_FOR_ENROLLMENT:
            return False
        if enrollment.penunggalan == Penunggalan.AWAITING_ENGINE:
            return False
        enrollment.penunggalan = Penunggalan.AWAITING_ENGINE
        enrollment.penunggalan_note = (
            "Mesin penunggalan (ABIS) belum terpasang; rekaman tetap menunggu sampai diperiksa."
        )
        enrollment.save(update_fields=["penunggalan", "penunggalan_note"])
    return True


def complete_penunggalan(
    *, enrollment: Enrollment, outcome: str, actor: User | None, reason: str
) -> StatusChange:
    """Apply a penunggalan outcome to an SFE record: PRR, DUPLICATE_RECORD or ENROLL_FAILURE."""
    if outcome not in PENUNGGALAN_OUTCOMES:
        raise InvalidTransition(
            f"Hasil penunggalan '{str(outcome)[:30]}' tidak dikenal; "
            "gunakan PRINT_READY_RECORD, DUPLICATE_RECORD atau ENROLL_FAILURE."
        )
    with transaction.atomic():
        locked = Resident.objects.select_for_update().get(pk=enrollment.resident_id)
        if locked.ktp_status != S.SENT_FOR_ENROLLMENT:
            raise InvalidTransition(
                f"Penunggalan hanya untuk rekaman yang menunggu penunggalan; status masih {SHORT[locked.ktp_status]}."
            )
        change = _apply(
            resident=locked,
            to=outcome,
            actor=actor,
            reason=reason,
            service_point=None,
            node_id="office",
        )
        Enrollment.objects.filter(pk=enrollment.pk).update(
            penunggalan=Penunggalan.DONE, penunggalan_note=_clean_reason(reason)
        )
    return change


def read_sample(
    *, sample: BiometricSample, actor: User, purpose: str, request=None, channel: str = "web"
) -> tuple[bytes, bytes]:
    """Decrypt one sample's template and image, recording the read in the audit log."""
    if actor.role not in RECORDERS:
        raise EnrollmentError("Peran Anda tidak boleh membuka data biometrik.")
    resident = sample.enrollment.resident
    if not within_jurisdiction(actor, resident.address_region_id):
        raise EnrollmentError("Penduduk ini berada di luar wilayah kerja Anda.")
    record_audit(
        user=actor,
        action=AuditEvent.Action.READ_BIOMETRIC,
        object_type="biometric_sample",
        object_id=str(sample.pk),
        request=request,
        channel=channel,
        detail={"nik": resident.nik, "modality": sample.modality, "purpose": purpose[:100]},
    )
    template = crypto.decrypt(sample.template_ciphertext)
    image = crypto.decrypt(sample.image_ciphertext) if sample.image_ciphertext else b""
    return template, image

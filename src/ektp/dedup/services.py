"""Writes for penunggalan: the uniqueness check of a recording, the registry scan, adjudication."""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.db.models import Q
from django.utils import timezone

from ektp.abis.errors import AbisError, InvalidRequest
from ektp.abis.interfaces import Identification
from ektp.core.access import within_jurisdiction
from ektp.core.formats import angka
from ektp.core.jobs import Progress
from ektp.core.models import AuditEvent, Role, User
from ektp.core.services import record_audit
from ektp.dedup import demographic, gallery, selectors
from ektp.dedup.errors import CaseAlreadyDecided, DedupError, NotAllowed
from ektp.dedup.models import (
    CaseSource,
    CaseStatus,
    DemographicModel,
    DuplicateCase,
    FailureKind,
    PenunggalanFailure,
)
from ektp.enrollment import services as enrollment_services
from ektp.enrollment.biometrics import IRIS_EYE_BYTES, IRISES, quality_threshold
from ektp.enrollment.models import Enrollment, Penunggalan
from ektp.regions import codes
from ektp.regions.models import Region
from ektp.residents.models import KtpStatus, Resident

S = KtpStatus
SYSTEM_USERNAME = "sistem.penunggalan"
ADJUDICATORS = {Role.SUPERVISOR, Role.SYSTEM_ADMIN}
MAX_REASON = 250
MAX_DEMOGRAPHIC_CANDIDATES = 500
IRIS_TOP_K = 5
SCAN_BATCH = 20_000

log = logging.getLogger(__name__)


class Outcome:
    PRR = "PRR"
    DUPLICATE = "DUPLICATE_RECORD"
    FAILURE = "ENROLL_FAILURE"
    RETRY = "retry"
    SKIPPED = "skipped"


class PenunggalanFailed(DedupError):
    """The record cannot be checked (bad template or quality); it needs a new recording."""


class EngineUnavailable(DedupError):
    """The ABIS could not be reached or failed; the same record may be checked again later."""


@dataclass
class Finding:
    """What the checks found about one existing resident."""

    biometric_score: float | None = None
    biometric_threshold: float | None = None
    demographic_probability: float | None = None


@dataclass
class ScanResult:
    """The outcome of a registry scan."""

    records: int
    pairs: list[demographic.Pair] = field(default_factory=list)
    clusters: list[list[str]] = field(default_factory=list)
    created: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def system_actor() -> User:
    """Return the service account that penunggalan acts as (it cannot log in)."""
    user = User.objects.filter(username=SYSTEM_USERNAME).first()
    if user is not None:
        return user
    user = User(
        username=SYSTEM_USERNAME,
        role=Role.SYSTEM_ADMIN,
        region=None,
        is_active=False,
        first_name="Sistem penunggalan",
    )
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        return User.objects.get(username=SYSTEM_USERNAME)
    return user


def iris_template(*, enrollment: Enrollment, actor: User) -> bytes | None:
    """Return the enrollment's two-eye iris template (audited read), or None when both are excepted."""
    samples = {s.modality: s for s in enrollment.samples.filter(modality__in=IRISES)}
    if not samples:
        return None
    eyes = []
    for modality in ("iris_left", "iris_right"):
        sample = samples.get(modality)
        if sample is None:
            eyes.append(bytes(IRIS_EYE_BYTES))
            continue
        if sample.quality < quality_threshold(modality):
            raise PenunggalanFailed(
                f"{sample.get_modality_display()}: kualitas {sample.quality} di bawah ambang "
                f"{quality_threshold(modality)}; rekam ulang."
            )
        template, _ = enrollment_services.read_sample(
            sample=sample, actor=actor, purpose="penunggalan", channel="task"
        )
        if len(template) != IRIS_EYE_BYTES:
            raise PenunggalanFailed(
                f"{sample.get_modality_display()}: templat {len(template)} byte, "
                f"seharusnya {IRIS_EYE_BYTES}; rekam ulang."
            )
        eyes.append(template)
    return b"".join(eyes)


def _person(resident: Resident) -> demographic.Person:
    return selectors.person(resident)


def demographic_matches(*, resident: Resident) -> list[demographic.Pair]:
    """Check one resident against the registry with the demographic model; best first.

    The model is the one trained for the resident's district or province (``selectors.model_for``),
    else the untrained fallback. The candidates are the residents born the same day and those
    with the same name (as written or normalised), each read through an index; the model's
    blocking rules then form the pairs it scores.
    """
    names = {resident.name, demographic.normalise_name(resident.name)} - {""}
    candidates = (
        Resident.objects.filter(Q(birth_date=resident.birth_date) | Q(name__in=names))
        .exclude(pk=resident.pk)
        .only(*selectors.PERSON_FIELDS)[:MAX_DEMOGRAPHIC_CANDIDATES]
    )
    model = selectors.model_for(resident.kabkota_code)
    return demographic.match_one(_person(resident), [_person(c) for c in candidates], model=model)


def _resident_ids(subject_ids: list[str]) -> set[str]:
    valid = []
    for subject_id in subject_ids:
        try:
            valid.append(uuid.UUID(subject_id))
        except ValueError:
            continue
    return {str(pk) for pk in Resident.objects.filter(pk__in=valid).values_list("pk", flat=True)}


def _findings(
    resident: Resident, identification: Identification | None, demographic_pairs
) -> dict[str, Finding]:
    findings: dict[str, Finding] = {}
    if identification is not None:
        others = [m for m in identification.matches if m.subject_id != str(resident.pk)]
        known = _resident_ids([m.subject_id for m in others])
        for match in others:
            if match.subject_id in known:
                finding = findings.setdefault(match.subject_id, Finding())
                finding.biometric_score = match.score
                finding.biometric_threshold = identification.threshold
    for pair in demographic_pairs:
        findings.setdefault(pair.right, Finding()).demographic_probability = pair.probability
    return findings


def retry_delays() -> tuple[float, ...]:
    """Return the seconds to wait before each new attempt after an engine error."""
    return tuple(settings.EKTP_PENUNGGALAN_RETRY_DELAYS)


def _fail(
    enrollment: Enrollment,
    actor: User,
    reason: str,
    *,
    kind: str = FailureKind.TEMPLATE,
    attempts: int = 1,
) -> str:
    with transaction.atomic():
        locked = Resident.objects.select_for_update().get(pk=enrollment.resident_id)
        if locked.ktp_status != S.SENT_FOR_ENROLLMENT:
            return Outcome.SKIPPED
        text = f"Gagal penunggalan: {reason}"
        enrollment_services.complete_penunggalan(
            enrollment=enrollment, outcome=S.ENROLL_FAILURE, actor=actor, reason=text
        )
        PenunggalanFailure.objects.create(
            enrollment=enrollment,
            kind=kind,
            attempts=attempts,
            reason=text[:MAX_REASON],
            kabkota_code=locked.kabkota_code,
            province_code=locked.province_code,
        )
    return Outcome.FAILURE


def _retry_later(enrollment: Enrollment, actor: User, error: str, attempt: int) -> str:
    """Schedule the next attempt after an engine error, or fail the record after the last one."""
    delays = retry_delays()
    total = len(delays) + 1
    if attempt >= total:
        return _fail(
            enrollment,
            actor,
            f"mesin ABIS tidak dapat dihubungi setelah {total} percobaan ({error}). "
            "Rekaman tidak perlu diulang; supervisor dapat mengulang penunggalan.",
            kind=FailureKind.ENGINE,
            attempts=total,
        )
    delay = delays[attempt - 1]
    run_after = timezone.now() + dt.timedelta(seconds=delay)
    note = (
        f"Mesin ABIS tidak dapat dihubungi ({error}); percobaan {attempt} dari {total} gagal, "
        f"dicoba lagi pukul {timezone.localtime(run_after):%H:%M:%S}."
    )
    with transaction.atomic():
        locked = Resident.objects.select_for_update().get(pk=enrollment.resident_id)
        if locked.ktp_status != S.SENT_FOR_ENROLLMENT:
            return Outcome.SKIPPED
        Enrollment.objects.filter(pk=enrollment.pk).update(
            penunggalan=Penunggalan.QUEUED, penunggalan_note=note[:MAX_REASON]
        )
        enrollment_id, next_attempt = str(enrollment.pk), attempt + 1
        transaction.on_commit(lambda: _enqueue_attempt(enrollment_id, next_attempt, run_after))
    log.warning("penunggalan %s: %s", enrollment.pk, note)
    return Outcome.RETRY


def _enqueue_attempt(enrollment_id: str, attempt: int, run_after: dt.datetime) -> None:
    from ektp.dedup.tasks import run_penunggalan as task

    if task.get_backend().supports_defer:
        task = task.using(run_after=run_after)
    task.enqueue(enrollment_id=enrollment_id, attempt=attempt)


def _check_iris(*, subject_id: str, template: bytes, enroll: bool, actor: User) -> Identification:
    """Search the gallery (audited); with ``enroll``, add the template in the same step if
    nothing matches."""
    try:
        return gallery.search(
            subject_id=subject_id, template=template, actor=actor, enroll=enroll, top_k=IRIS_TOP_K
        )
    except InvalidRequest as error:
        raise PenunggalanFailed(
            f"templat iris ditolak mesin ABIS ({str(error)[:120]}); rekam ulang."
        ) from None
    except (AbisError, OSError) as error:
        raise EngineUnavailable(str(error)[:120] or type(error).__name__) from None


def run_penunggalan(*, enrollment_id, attempt: int = 1) -> str:
    """Check one SFE recording for uniqueness and move it to PRR, DUPLICATE_RECORD or ENROLL_FAILURE.

    Demographics first: a recording that matches someone by name and birth is only searched in
    the gallery (it waits for adjudication); otherwise its iris is enrolled, i.e. searched and
    added in one step under the gallery's lock, so two recordings of one person checked at the
    same instant cannot both pass. An engine error is retried later (``retry_delays``); after
    the last attempt the record fails as an engine failure that a supervisor can run again.
    """
    enrollment = Enrollment.objects.select_related("resident").filter(pk=enrollment_id).first()
    if enrollment is None or enrollment.resident.ktp_status != S.SENT_FOR_ENROLLMENT:
        return Outcome.SKIPPED
    resident = enrollment.resident
    actor = system_actor()
    subject_id = str(resident.pk)
    try:
        template = iris_template(enrollment=enrollment, actor=actor)
        demographic_pairs = demographic_matches(resident=resident)
        identification = None
        if template is not None:
            identification = _check_iris(
                subject_id=subject_id, template=template, enroll=not demographic_pairs, actor=actor
            )
    except PenunggalanFailed as error:
        return _fail(enrollment, actor, str(error), attempts=attempt)
    except EngineUnavailable as error:
        return _retry_later(enrollment, actor, str(error), attempt)
    findings = _findings(resident, identification, demographic_pairs)
    with transaction.atomic():
        locked = Resident.objects.select_for_update().get(pk=resident.pk)
        if locked.ktp_status != S.SENT_FOR_ENROLLMENT:
            return Outcome.SKIPPED
        if findings:
            _open_cases(resident=locked, enrollment=enrollment, findings=findings)
            niks = ", ".join(
                Resident.objects.filter(pk__in=list(findings)).values_list("nik", flat=True)
            )
            enrollment_services.complete_penunggalan(
                enrollment=enrollment,
                outcome=S.DUPLICATE_RECORD,
                actor=actor,
                reason=f"Kemungkinan data ganda dengan NIK {niks}; menunggu adjudikasi.",
            )
            return Outcome.DUPLICATE
        note = "tanpa iris, hanya demografi" if template is None else "tidak ada kecocokan"
        enrollment_services.complete_penunggalan(
            enrollment=enrollment,
            outcome=S.PRINT_READY_RECORD,
            actor=actor,
            reason=f"Penunggalan selesai: {note}.",
        )
    return Outcome.PRR


def _open_cases(
    *, resident: Resident, enrollment: Enrollment, findings: dict[str, Finding]
) -> None:
    for candidate_id, finding in findings.items():
        case, created = DuplicateCase.objects.get_or_create(
            resident=resident,
            candidate_id=candidate_id,
            defaults={
                "enrollment": enrollment,
                "source": CaseSource.PENUNGGALAN,
                "biometric_score": finding.biometric_score,
                "biometric_threshold": finding.biometric_threshold,
                "demographic_probability": finding.demographic_probability,
                "kabkota_code": resident.kabkota_code,
                "province_code": resident.province_code,
            },
        )
        if not created and case.is_open:
            case.enrollment = enrollment
            case.biometric_score = finding.biometric_score
            case.biometric_threshold = finding.biometric_threshold
            case.demographic_probability = finding.demographic_probability
            case.save(
                update_fields=[
                    "enrollment",
                    "biometric_score",
                    "biometric_threshold",
                    "demographic_probability",
                ]
            )


def enroll_in_gallery(*, enrollment_id) -> bool:
    """Insert a PRR record's iris into the gallery (after adjudication); return whether it was added."""
    enrollment = Enrollment.objects.select_related("resident").filter(pk=enrollment_id).first()
    if enrollment is None or enrollment.resident.ktp_status not in (
        S.PRINT_READY_RECORD,
        S.CARD_PRINTED,
        S.CARD_ISSUED,
    ):
        return False
    actor = system_actor()
    template = iris_template(enrollment=enrollment, actor=actor)
    if template is None:
        return False
    return gallery.insert(subject_id=str(enrollment.resident_id), template=template, actor=actor)


def check_region_code(region: str | None) -> str | None:
    """Return a known region code (or None for the whole registry), or raise DedupError."""
    if region in (None, ""):
        return None
    code = str(region).strip()
    if not codes.is_valid_code(code):
        raise DedupError(f"Kode wilayah '{code[:20]}' tidak sah; contoh: 18 atau 18.09.")
    if not Region.objects.filter(code=code).exists():
        raise DedupError(f"Kode wilayah {code} tidak dikenal.")
    return code


def region_q(code: str | None) -> Q:
    """Return the filter for residents inside a region code (None: the whole registry)."""
    if code is None:
        return Q()
    if "." not in code:
        return Q(province_code=code)
    if code.count(".") == 1:
        return Q(kabkota_code=code)
    return Q(address_region_id=code) | Q(address_region_id__startswith=code + ".")


def _registry_rows(code: str | None) -> list[tuple]:
    """Read the compared fields of a region's residents with one raw cursor (no model objects)."""
    queryset = Resident.objects.filter(region_q(code)).values_list(*selectors.ROW_COLUMNS)
    sql, params = queryset.query.sql_with_params()
    rows: list[tuple] = []
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(SCAN_BATCH):
            rows.extend(batch)
    return rows


SCAN_STEPS = 4


def scan_registry(
    *, region: str | None = None, actor: User | None = None, progress: Progress | None = None
) -> ScanResult:
    """Find duplicate clusters (double NIKs) in the registry and open a case for each new pair.

    ``progress`` hears of each of the four steps (read, compare, group, open cases)."""
    progress = progress or Progress(None)
    code = check_region_code(region)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    progress.step(0, SCAN_STEPS, "Membaca data penduduk dari registri.")
    rows = _registry_rows(code)
    timings["read"] = time.perf_counter() - started
    progress.step(1, SCAN_STEPS, f"Membandingkan data {angka(len(rows))} penduduk.")
    model = selectors.model_for(code)
    pairs = demographic.find_pairs(rows, model=model, timings=timings)
    progress.step(2, SCAN_STEPS, f"Mengelompokkan {angka(len(pairs))} pasangan mirip.")
    started = time.perf_counter()
    result = ScanResult(
        records=len(rows), pairs=pairs, clusters=demographic.clusters(pairs), timings=timings
    )
    timings["cluster"] = time.perf_counter() - started
    started = time.perf_counter()
    progress.step(3, SCAN_STEPS, "Membuka kasus data ganda yang baru.")
    if pairs:
        result.created = _open_scan_cases(pairs)
    record_audit(
        user=actor,
        action=AuditEvent.Action.CREATE,
        object_type="dedup_scan",
        object_id=code or "nasional",
        channel="web" if actor is not None else "task",
        detail={"records": result.records, "pairs": len(pairs), "created": result.created},
    )
    timings["cases"] = time.perf_counter() - started
    return result


def _chunks(items: list, size: int = 5000):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _open_scan_cases(pairs: list[demographic.Pair]) -> int:
    ids = sorted({p.left for p in pairs} | {p.right for p in pairs})
    residents: dict[str, Resident] = {}
    existing: set[frozenset] = set()
    for chunk in _chunks(ids):
        for r in Resident.objects.filter(pk__in=chunk).only(
            "id", "nik", "created_at", "kabkota_code", "province_code"
        ):
            residents[str(r.pk)] = r
        existing.update(
            frozenset((str(a), str(b)))
            for a, b in DuplicateCase.objects.filter(resident_id__in=chunk).values_list(
                "resident_id", "candidate_id"
            )
        )
    new_cases = []
    for pair in pairs:
        if frozenset((pair.left, pair.right)) in existing:
            continue
        older, newer = sorted(
            (residents[pair.left], residents[pair.right]), key=lambda r: (r.created_at, r.nik)
        )
        existing.add(frozenset((pair.left, pair.right)))
        new_cases.append(
            DuplicateCase(
                resident=newer,
                candidate=older,
                source=CaseSource.SCAN,
                demographic_probability=pair.probability,
                kabkota_code=newer.kabkota_code,
                province_code=newer.province_code,
            )
        )
    with transaction.atomic():
        created = DuplicateCase.objects.bulk_create(new_cases, ignore_conflicts=True)
    return len(created)


def _clean_reason(reason: str | None) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise DedupError("Alasan keputusan wajib diisi.")
    if len(text) > MAX_REASON:
        raise DedupError(f"Alasan keputusan paling banyak {MAX_REASON} karakter.")
    return text


def decide_case(
    *, case: DuplicateCase, decision: str, actor: User, reason: str, request=None
) -> DuplicateCase:
    """Decide a duplicate case: the same person (kept, marked as ganda) or different people (→ PRR)."""
    if actor.role not in ADJUDICATORS:
        raise NotAllowed("Hanya supervisor yang boleh memutuskan kasus data ganda.")
    if decision not in (CaseStatus.CONFIRMED_DUPLICATE, CaseStatus.NOT_DUPLICATE):
        raise DedupError("Keputusan harus 'ganda' atau 'bukan ganda'.")
    reason = _clean_reason(reason)
    release = None
    with transaction.atomic():
        locked = (
            DuplicateCase.objects.select_for_update()
            .select_related("resident", "candidate")
            .get(pk=case.pk)
        )
        if not within_jurisdiction(actor, locked.resident.address_region_id):
            raise NotAllowed("Kasus ini berada di luar wilayah kerja Anda.")
        if not locked.is_open:
            raise CaseAlreadyDecided(
                f"Kasus ini sudah diputuskan: {locked.get_status_display().lower()}."
            )
        locked.status = decision
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.reason = reason
        locked.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        resident = Resident.objects.select_for_update().get(pk=locked.resident_id)
        still_open = DuplicateCase.objects.filter(
            resident=resident, status=CaseStatus.OPEN
        ).exists()
        confirmed = DuplicateCase.objects.filter(
            resident=resident, status=CaseStatus.CONFIRMED_DUPLICATE
        ).exists()
        if (
            decision == CaseStatus.NOT_DUPLICATE
            and resident.ktp_status == S.DUPLICATE_RECORD
            and not still_open
            and not confirmed
        ):
            enrollment_services.transition(
                resident=resident,
                to=S.PRINT_READY_RECORD,
                actor=actor,
                reason=f"Adjudikasi: bukan data ganda. {reason}"[:MAX_REASON],
            )
            release = (
                Enrollment.objects.filter(resident=resident).values_list("pk", flat=True).first()
            )
        record_audit(
            user=actor,
            action=AuditEvent.Action.UPDATE,
            object_type="duplicate_case",
            object_id=str(locked.pk),
            request=request,
            detail={
                "decision": decision,
                "nik": locked.resident.nik,
                "candidate_nik": locked.candidate.nik,
                "reason": reason,
            },
        )
        if release is not None:
            from ektp.dedup.tasks import add_to_gallery

            enrollment_id = str(release)
            transaction.on_commit(lambda: add_to_gallery.enqueue(enrollment_id=enrollment_id))
    case.refresh_from_db()
    return case


def rerun_penunggalan(
    *, failure: PenunggalanFailure, actor: User, request=None, channel: str = "web"
) -> PenunggalanFailure:
    """Send a record that failed on the engine back to penunggalan, with its stored templates.

    Only an engine failure qualifies (a quality or template failure needs a new recording). The
    record goes ENROLL_FAILURE → BIO_CAPTURED → SENT_FOR_ENROLLMENT, which queues the check.
    """
    if actor.role not in ADJUDICATORS:
        raise NotAllowed("Hanya supervisor yang boleh mengulang penunggalan.")
    with transaction.atomic():
        locked = (
            PenunggalanFailure.objects.select_for_update()
            .select_related("enrollment")
            .get(pk=failure.pk)
        )
        resident = Resident.objects.select_for_update().get(pk=locked.enrollment.resident_id)
        if not within_jurisdiction(actor, resident.address_region_id):
            raise NotAllowed("Penduduk ini berada di luar wilayah kerja Anda.")
        if locked.kind != FailureKind.ENGINE:
            raise DedupError(
                "Kegagalan ini karena kualitas atau templat biometrik; penduduk harus direkam ulang.",
                status=409,
            )
        if locked.rerun_at is not None:
            raise DedupError("Penunggalan untuk kegagalan ini sudah diulang.", status=409)
        if resident.ktp_status != S.ENROLL_FAILURE:
            raise DedupError(
                f"Status penduduk bukan lagi gagal rekam ({resident.get_ktp_status_display()}).",
                status=409,
            )
        locked.rerun_by = actor
        locked.rerun_at = timezone.now()
        locked.save(update_fields=["rerun_by", "rerun_at"])
        enrollment_services.transition(
            resident=resident,
            to=S.BIO_CAPTURED,
            actor=actor,
            reason="Penunggalan diulang: mesin ABIS sempat gagal; biometrik yang tersimpan dipakai.",
        )
        enrollment_services.transition(
            resident=resident,
            to=S.SENT_FOR_ENROLLMENT,
            actor=actor,
            reason="Dikirim ulang untuk penunggalan oleh supervisor.",
        )
        record_audit(
            user=actor,
            action=AuditEvent.Action.UPDATE,
            object_type="penunggalan_failure",
            object_id=str(locked.pk),
            request=request,
            channel=channel,
            detail={"nik": resident.nik, "action": "rerun"},
        )
    failure.refresh_from_db()
    return failure


def requeue_stuck(
    *, enrollment_id, actor: User | None = None, request=None, channel: str = "task"
) -> Enrollment:
    """Queue penunggalan again, by id, for a recording left in SFE with no task to move it.

    Safe to repeat: a record that left SFE, or whose check is already queued or running, is
    refused with the reason; a check run twice decides the record once (``run_penunggalan``).
    """
    from ektp.dedup import selectors
    from ektp.dedup.tasks import run_penunggalan as task

    if actor is not None and actor.role not in ADJUDICATORS:
        raise NotAllowed("Hanya supervisor yang boleh mengirim ulang ke penunggalan.")
    with transaction.atomic():
        enrollment = Enrollment.objects.filter(pk=enrollment_id).first()
        if enrollment is None:
            raise DedupError("Rekaman tidak ditemukan.")
        resident = Resident.objects.select_for_update().get(pk=enrollment.resident_id)
        if actor is not None and not within_jurisdiction(actor, resident.address_region_id):
            raise NotAllowed("Penduduk ini berada di luar wilayah kerja Anda.")
        if resident.ktp_status != S.SENT_FOR_ENROLLMENT:
            raise DedupError(
                f"Status penduduk bukan lagi menunggu penunggalan ({resident.get_ktp_status_display()}); "
                "tidak perlu dikirim ulang."
            )
        if str(enrollment.pk) in selectors.live_penunggalan_ids():
            raise DedupError("Penunggalan rekaman ini sudah dalam antrean atau sedang berjalan.")
        Enrollment.objects.filter(pk=enrollment.pk).update(
            penunggalan=Penunggalan.QUEUED,
            penunggalan_note="Dikirim ulang: rekaman tertahan tanpa tugas penunggalan.",
        )
        record_audit(
            user=actor,
            action=AuditEvent.Action.UPDATE,
            object_type="enrollment",
            object_id=str(enrollment.pk),
            request=request,
            channel=channel,
            detail={"nik": resident.nik, "action": "requeue_stuck_penunggalan"},
        )
        enrollment_id = str(enrollment.pk)
        transaction.on_commit(lambda: task.enqueue(enrollment_id=enrollment_id))
    enrollment.refresh_from_db()
    return enrollment


def requeue_all_stuck(*, now: dt.datetime | None = None) -> int:
    """Queue penunggalan again for every recording stuck in SFE; return how many (`ektp daily`)."""
    from ektp.dedup import selectors

    queued = 0
    for enrollment in selectors.stuck_enrollments(now=now):
        try:
            requeue_stuck(enrollment_id=enrollment.pk)
        except DedupError:
            continue  # moved on, or queued by someone else, since it was listed
        queued += 1
    return queued


TARGET_PRECISION = 0.95


def check_model_scope(scope: str | None) -> str:
    """Return a province or district code a model may be trained for, or raise DedupError."""
    code = check_region_code(scope)
    if code is None or code.count(".") > 1:
        raise DedupError(
            "Model demografis dilatih per provinsi atau kabupaten/kota (mis. 18 atau 18.09)."
        )
    return code


def train_model(
    *,
    scope: str,
    actor: User | None = None,
    target_precision: float = TARGET_PRECISION,
    seed: int = 1,
) -> DemographicModel:
    """Train the demographic model on a scope's registry and store it as the scope's model.

    u by random sampling, m by EM, the prior by deterministic rules (``demographic.train``);
    then the adjudicated cases of the scope (same person / different people) are scored and the
    threshold is the lowest that keeps their precision at ``target_precision``
    (``demographic.choose_threshold``), with the precision and recall measured there.
    """
    code = check_model_scope(scope)
    if not 0 < target_precision <= 1:
        raise DedupError("Target presisi harus di antara 0 dan 1.")
    rows = _registry_rows(code)
    if len(rows) < 2:
        raise DedupError(f"Wilayah {code} punya kurang dari 2 penduduk; model tidak dilatih.")
    training = demographic.train(rows, seed=seed)
    labelled = selectors.labelled_pairs(scope=code)
    scores = demographic.score_pairs(training.model, [(a, b) for a, b, _ in labelled])
    calibration = demographic.choose_threshold(
        zip(scores, (same for _, _, same in labelled), strict=True),
        target_precision=target_precision,
    )
    with transaction.atomic():
        stored = DemographicModel.objects.create(
            scope=code,
            trained_at=timezone.now(),
            trained_by=actor,
            records=training.records,
            seconds=training.seconds,
            settings=training.model.settings,
            term_frequencies=training.model.term_frequencies,
            steps=training.steps,
            threshold=calibration.threshold,
            target_precision=target_precision,
            labels=calibration.labels,
            positives=calibration.positives,
            measured_precision=calibration.precision,
            measured_recall=calibration.recall,
        )
        record_audit(
            user=actor,
            action=AuditEvent.Action.CREATE,
            object_type="demographic_model",
            object_id=str(stored.pk),
            channel="web" if actor is not None else "task",
            detail={
                "scope": code,
                "records": training.records,
                "threshold": calibration.threshold,
                "labels": calibration.labels,
            },
        )
    return stored

"""Writes for penunggalan: the uniqueness check of a recording, the registry scan, adjudication."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from ektp.abis.errors import AbisError, DuplicateSubject, InvalidRequest
from ektp.abis.interfaces import Identification
from ektp.core.access import within_jurisdiction
from ektp.core.models import AuditEvent, Role, User
from ektp.core.services import record_audit
from ektp.dedup import demographic
from ektp.dedup.engine import get_engine
from ektp.dedup.errors import CaseAlreadyDecided, DedupError, NotAllowed
from ektp.dedup.models import CaseSource, CaseStatus, DuplicateCase
from ektp.enrollment import services as enrollment_services
from ektp.enrollment.biometrics import IRIS_EYE_BYTES, IRISES, quality_threshold
from ektp.enrollment.models import Enrollment
from ektp.regions.models import Region
from ektp.residents.models import KtpStatus, Resident

S = KtpStatus
SYSTEM_USERNAME = "sistem.penunggalan"
ADJUDICATORS = {Role.SUPERVISOR, Role.SYSTEM_ADMIN}
MAX_REASON = 250
MAX_DEMOGRAPHIC_CANDIDATES = 500
IRIS_TOP_K = 5
REGION_CODE = re.compile(r"^\d{2}(\.\d{2}){0,3}$")


class Outcome:
    PRR = "PRR"
    DUPLICATE = "DUPLICATE_RECORD"
    FAILURE = "ENROLL_FAILURE"
    SKIPPED = "skipped"


class PenunggalanFailed(DedupError):
    """The record cannot be checked (bad template or quality, engine error); it fails recording."""


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
    return demographic.Person(
        id=str(resident.pk),
        name=resident.name,
        mother_name=resident.mother_name,
        birth_place=resident.birth_place,
        birth_date=resident.birth_date,
        sex=resident.sex,
    )


def demographic_matches(*, resident: Resident) -> list[demographic.Pair]:
    """Check one resident against the registry with the demographic model; best first."""
    first = demographic.normalise_name(resident.name).split(" ")[0]
    year = resident.birth_date.year
    blocks = Q(birth_date=resident.birth_date) | Q(
        mother_name__iexact=resident.mother_name.strip(), birth_date__year=year
    )
    if first:
        blocks |= Q(sex=resident.sex, birth_date__year=year, name__istartswith=first)
    candidates = (
        Resident.objects.filter(blocks)
        .exclude(pk=resident.pk)
        .only("id", "name", "mother_name", "birth_place", "birth_date", "sex")[
            :MAX_DEMOGRAPHIC_CANDIDATES
        ]
    )
    return demographic.match_one(_person(resident), [_person(c) for c in candidates])


def _resident_ids(subject_ids: list[str]) -> set[str]:
    valid = []
    for subject_id in subject_ids:
        try:
            valid.append(uuid.UUID(subject_id))
        except ValueError:
            continue
    return {str(pk) for pk in Resident.objects.filter(pk__in=valid).values_list("pk", flat=True)}


def _findings(resident: Resident, identification: Identification | None) -> dict[str, Finding]:
    findings: dict[str, Finding] = {}
    if identification is not None:
        others = [m for m in identification.matches if m.subject_id != str(resident.pk)]
        known = _resident_ids([m.subject_id for m in others])
        for match in others:
            if match.subject_id in known:
                finding = findings.setdefault(match.subject_id, Finding())
                finding.biometric_score = match.score
                finding.biometric_threshold = identification.threshold
    for pair in demographic_matches(resident=resident):
        findings.setdefault(pair.right, Finding()).demographic_probability = pair.probability
    return findings


def _fail(enrollment: Enrollment, actor: User, reason: str) -> str:
    with transaction.atomic():
        locked = Resident.objects.select_for_update().get(pk=enrollment.resident_id)
        if locked.ktp_status != S.SENT_FOR_ENROLLMENT:
            return Outcome.SKIPPED
        enrollment_services.complete_penunggalan(
            enrollment=enrollment,
            outcome=S.ENROLL_FAILURE,
            actor=actor,
            reason=f"Gagal penunggalan: {reason}",
        )
    return Outcome.FAILURE


def run_penunggalan(*, enrollment_id) -> str:
    """Check one SFE recording for uniqueness and move it to PRR, DUPLICATE_RECORD or ENROLL_FAILURE."""
    enrollment = Enrollment.objects.select_related("resident").filter(pk=enrollment_id).first()
    if enrollment is None or enrollment.resident.ktp_status != S.SENT_FOR_ENROLLMENT:
        return Outcome.SKIPPED
    resident = enrollment.resident
    actor = system_actor()
    subject_id = str(resident.pk)
    try:
        template = iris_template(enrollment=enrollment, actor=actor)
        engine = get_engine() if template is not None else None
        identification = engine.identify(template, top_k=IRIS_TOP_K) if engine else None
    except PenunggalanFailed as error:
        return _fail(enrollment, actor, str(error))
    except InvalidRequest as error:
        return _fail(enrollment, actor, f"templat iris ditolak mesin ABIS ({str(error)[:120]}).")
    except AbisError as error:
        return _fail(
            enrollment, actor, f"mesin ABIS tidak dapat dihubungi ({str(error)[:120]}); coba lagi."
        )
    findings = _findings(resident, identification)
    if not findings and template is not None:
        try:
            engine.insert(subject_id, template)
        except DuplicateSubject:
            pass
        except AbisError as error:
            return _fail(
                enrollment, actor, f"templat tidak dapat disimpan di ABIS ({str(error)[:120]})."
            )
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
    template = iris_template(enrollment=enrollment, actor=system_actor())
    if template is None:
        return False
    try:
        get_engine().insert(str(enrollment.resident_id), template)
    except DuplicateSubject:
        return False
    return True


def check_region_code(region: str | None) -> str | None:
    """Return a known region code (or None for the whole registry), or raise DedupError."""
    if region in (None, ""):
        return None
    code = str(region).strip()
    if not REGION_CODE.match(code):
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


def scan_registry(*, region: str | None = None, actor: User | None = None) -> ScanResult:
    """Find duplicate clusters (double NIKs) in the registry and open a case for each new pair."""
    code = check_region_code(region)
    rows = Resident.objects.filter(region_q(code)).values_list(
        "id", "name", "mother_name", "birth_place", "birth_date", "sex"
    )
    people = [
        demographic.Person(str(pk), name, mother, place, born, sex)
        for pk, name, mother, place, born, sex in rows.iterator(chunk_size=5000)
    ]
    pairs = demographic.find_pairs(people)
    result = ScanResult(records=len(people), pairs=pairs, clusters=demographic.clusters(pairs))
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
    return result


def _open_scan_cases(pairs: list[demographic.Pair]) -> int:
    ids = {p.left for p in pairs} | {p.right for p in pairs}
    residents = {
        str(r.pk): r
        for r in Resident.objects.filter(pk__in=ids).only(
            "id", "nik", "created_at", "kabkota_code", "province_code"
        )
    }
    existing = {
        frozenset((str(a), str(b)))
        for a, b in DuplicateCase.objects.filter(
            resident_id__in=ids, candidate_id__in=ids
        ).values_list("resident_id", "candidate_id")
    }
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

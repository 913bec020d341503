"""Reads for penunggalan: the adjudication queue, one case, engine failures; within jurisdiction."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from ektp.core.access import jurisdiction_q, limit_to_jurisdiction
from ektp.core.models import User
from ektp.dedup import demographic
from ektp.dedup.models import (
    CaseStatus,
    DemographicModel,
    DuplicateCase,
    FailureKind,
    PenunggalanFailure,
)
from ektp.enrollment.models import Enrollment, Penunggalan, StatusChange
from ektp.residents.models import KtpStatus

FIELDS = ("name", "mother_name", "birth_place", "birth_date", "sex")
# The resident's columns in the order of ``demographic.ROW_FIELDS``.
ROW_COLUMNS = (
    "id",
    "name",
    "mother_name",
    "birth_place",
    "birth_date",
    "sex",
    "address_region_id",
    "rt",
    "rw",
    "street",
    "phone",
)
PERSON_FIELDS = ("address_region" if c == "address_region_id" else c for c in ROW_COLUMNS)
PERSON_FIELDS = tuple(PERSON_FIELDS)
_models: dict[str, demographic.Model] = {}


def person(resident) -> demographic.Person:
    """Return a resident's demographic fields as the model reads them."""
    return demographic.Person(*(getattr(resident, c) for c in ROW_COLUMNS))


def stored_model(scope: str | None) -> DemographicModel | None:
    """Return the newest model trained for a region's district, else its province, else None."""
    if not scope:
        return None
    scopes = [scope[:5]] if len(scope) >= 5 else []
    scopes.append(scope[:2])
    found = DemographicModel.objects.filter(scope__in=scopes).values_list("pk", "scope")
    newest = {}
    for pk, model_scope in found.order_by("-trained_at"):
        newest.setdefault(model_scope, pk)
    for candidate in scopes:
        if candidate in newest:
            return DemographicModel.objects.defer("settings", "term_frequencies").get(
                pk=newest[candidate]
            )
    return None


def model_for(scope: str | None) -> demographic.Model:
    """Return the demographic model a scan or check of a region uses: the district's newest,
    else the province's newest, else the untrained fallback. Stored models never change, so
    each is read from the database once per process."""
    stored = stored_model(scope)
    if stored is None:
        return demographic.default_model()
    key = str(stored.pk)
    if key not in _models:
        full = DemographicModel.objects.only("settings", "term_frequencies", "threshold").get(
            pk=stored.pk
        )
        _models[key] = demographic.Model(
            settings=full.settings,
            threshold=full.threshold,
            term_frequencies=full.term_frequencies,
            key=key,
        )
    return _models[key]


def models_for(*, user: User) -> QuerySet[DemographicModel]:
    """Return the stored models of scopes in the user's jurisdiction, newest first."""
    qs = DemographicModel.objects.defer("term_frequencies").select_related("trained_by")
    if user.region_id:
        code = str(user.region_id)
        qs = (
            qs.filter(scope__in={code[:2], code[:5]})
            if len(code) > 2
            else qs.filter(scope__startswith=code)
        )
    return qs


def labelled_pairs(*, scope: str) -> list[tuple[demographic.Person, demographic.Person, bool]]:
    """Return the adjudicated cases of a scope as labels: (resident, candidate, same person)."""
    qs = DuplicateCase.objects.exclude(status=CaseStatus.OPEN).select_related(
        "resident", "candidate"
    )
    qs = qs.filter(kabkota_code=scope) if "." in scope else qs.filter(province_code=scope)
    return [
        (person(c.resident), person(c.candidate), c.status == CaseStatus.CONFIRMED_DUPLICATE)
        for c in qs.order_by("created_at")
    ]


def cases_for(*, user: User, status: str | None = CaseStatus.OPEN) -> QuerySet[DuplicateCase]:
    """Return the duplicate cases in the user's jurisdiction, newest first."""
    qs = DuplicateCase.objects.select_related("resident", "candidate", "decided_by")
    if status:
        qs = qs.filter(status=status)
    return limit_to_jurisdiction(qs, user)


def get_case(*, user: User, case_id) -> DuplicateCase | None:
    """Return one case in the user's jurisdiction, or None (also for a malformed id)."""
    try:
        pk = uuid.UUID(str(case_id))
    except ValueError:
        return None
    return cases_for(user=user, status=None).filter(pk=pk).first()


def engine_failures_for(*, user: User) -> QuerySet[PenunggalanFailure]:
    """Return the engine failures in the user's jurisdiction that may be run again, newest first."""
    qs = PenunggalanFailure.objects.select_related("enrollment__resident").filter(
        kind=FailureKind.ENGINE,
        rerun_at__isnull=True,
        enrollment__resident__ktp_status=KtpStatus.ENROLL_FAILURE,
    )
    return limit_to_jurisdiction(qs, user)


def stuck_after() -> dt.timedelta:
    return dt.timedelta(seconds=float(settings.EKTP_STUCK_AFTER_SECONDS))


def live_penunggalan_ids() -> set[str]:
    """Return the enrollment ids whose penunggalan task is queued or running."""
    from ektp.core.worker import queued_or_running
    from ektp.dedup.tasks import run_penunggalan as retry_task
    from ektp.enrollment.tasks import run_penunggalan as first_task

    return {
        str(kwargs.get("enrollment_id"))
        for task in (first_task, retry_task)
        for kwargs in queued_or_running(task)
    }


def stuck_enrollments(
    *, user: User | None = None, now: dt.datetime | None = None, limit: int = 500
) -> list[Enrollment]:
    """Return the recordings left in SENT_FOR_ENROLLMENT with no penunggalan task to move them.

    Sent longer ago than EKTP_STUCK_AFTER_SECONDS, no task queued or running for them (e.g.
    the worker died, or the task was lost between commit and queue), oldest first; a record
    waiting for an engine that is not wired (``Penunggalan.AWAITING_ENGINE``) is not stuck.
    ``user`` limits them to the user's jurisdiction.
    """
    cutoff = (now or timezone.now()) - stuck_after()
    qs = Enrollment.objects.select_related("resident").filter(
        resident__ktp_status=KtpStatus.SENT_FOR_ENROLLMENT
    )
    if user is not None:
        qs = qs.filter(
            jurisdiction_q(
                user,
                kabkota_field="resident__kabkota_code",
                province_field="resident__province_code",
            )
        )
    # The latest sending of each record, read per record (a GROUP BY over the join made
    # SQLite walk every resident of the register).
    sent = (
        StatusChange.objects.filter(
            enrollment=OuterRef("pk"), to_status=KtpStatus.SENT_FOR_ENROLLMENT
        )
        .order_by("-at")
        .values("at")[:1]
    )
    candidates = list(
        qs.exclude(penunggalan=Penunggalan.AWAITING_ENGINE)
        .annotate(sent_at=Subquery(sent))
        .filter(sent_at__lt=cutoff)
        .order_by("sent_at")[:limit]
    )
    if not candidates:
        return []
    live = live_penunggalan_ids()
    return [e for e in candidates if str(e.pk) not in live]


def get_failure(*, user: User, failure_id) -> PenunggalanFailure | None:
    """Return one penunggalan failure in the user's jurisdiction, or None."""
    try:
        pk = uuid.UUID(str(failure_id))
    except ValueError:
        return None
    qs = PenunggalanFailure.objects.select_related("enrollment__resident")
    return limit_to_jurisdiction(qs, user).filter(pk=pk).first()


def side_by_side(case: DuplicateCase) -> list[tuple[str, str, str, bool]]:
    """Return (field label, value A, value B, same) rows for the adjudication page."""
    from ektp.residents.models import Resident

    rows = [("NIK", case.resident.nik, case.candidate.nik, False)]
    for name in FIELDS:
        label = str(Resident._meta.get_field(name).verbose_name).capitalize()
        a, b = getattr(case.resident, name), getattr(case.candidate, name)
        if name == "sex":
            a, b = case.resident.get_sex_display(), case.candidate.get_sex_display()
        elif name == "birth_date":
            a, b = f"{a:%d-%m-%Y}", f"{b:%d-%m-%Y}"
        rows.append((label, str(a), str(b), str(a).strip().upper() == str(b).strip().upper()))
    rows.append(
        (
            "Status KTP-el",
            case.resident.get_ktp_status_display(),
            case.candidate.get_ktp_status_display(),
            False,
        )
    )
    return rows


def resident_notice(case: DuplicateCase) -> str:
    """Return the notice told to the resident once a case is confirmed as the same person."""
    if case.status != CaseStatus.CONFIRMED_DUPLICATE:
        return ""
    return (
        f"Yth. {case.resident.name}: perekaman KTP-el dengan NIK {case.resident.nik} ditetapkan "
        f"sebagai data ganda dari NIK {case.candidate.nik}. Data Anda digabungkan ke NIK "
        f"{case.candidate.nik}; kartu hanya diterbitkan untuk NIK tersebut. Silakan hubungi "
        "Disdukcapil bila ada keberatan."
    )

"""The iris gallery seen from the office: every search, insert and delete is audited, and the
gallery can be rebuilt from the encrypted templates in the database."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from ektp.abis.errors import AbisError, DuplicateSubject, StorageCorrupt, UnknownSubject
from ektp.abis.interfaces import Identification
from ektp.core.models import AuditEvent, User
from ektp.core.services import record_audit
from ektp.dedup.engine import abis_settings, close_engine, get_engine
from ektp.dedup.errors import DedupError
from ektp.enrollment import crypto
from ektp.enrollment.biometrics import IRIS_EYE_BYTES, quality_threshold
from ektp.enrollment.models import BiometricSample
from ektp.residents.models import KtpStatus

OBJECT_TYPE = "abis_iris"
# The records whose iris is in the gallery: penunggalan (or adjudication) let them through.
IN_GALLERY = (KtpStatus.PRINT_READY_RECORD, KtpStatus.CARD_PRINTED, KtpStatus.CARD_ISSUED)
EYES = ("iris_left", "iris_right")  # the order of the two-eye template
READ_BATCH = 2000


def _audit(
    *,
    actor: User | None,
    action: str,
    subject_id: str,
    channel: str,
    request=None,
    detail: dict,
) -> None:
    record_audit(
        user=actor,
        action=action,
        object_type=OBJECT_TYPE,
        object_id=subject_id,
        request=request,
        channel=channel,
        detail=detail,
    )


def search(
    *,
    subject_id: str,
    template: bytes,
    actor: User | None,
    enroll: bool,
    top_k: int,
    channel: str = "task",
    request=None,
) -> Identification:
    """Search the gallery for a resident's iris (with ``enroll``, add it when nothing matches);
    the search is audited with the subject searched for and the subjects it matched."""
    operation = "enroll" if enroll else "identify"
    try:
        engine = get_engine()
        if enroll:
            outcome = engine.enroll(subject_id, template, top_k=top_k)
            found, inserted = outcome.identification, outcome.inserted
        else:
            found, inserted = engine.identify(template, top_k=top_k), False
    except (AbisError, OSError) as error:
        _audit(
            actor=actor,
            action=AuditEvent.Action.SEARCH,
            subject_id=subject_id,
            channel=channel,
            request=request,
            detail={"operation": operation, "error": type(error).__name__},
        )
        raise
    _audit(
        actor=actor,
        action=AuditEvent.Action.SEARCH,
        subject_id=subject_id,
        channel=channel,
        request=request,
        detail={
            "operation": operation,
            "matches": [m.subject_id for m in found.matches],
            "gallery_size": found.gallery_size,
            "inserted": inserted,
        },
    )
    return found


def insert(*, subject_id: str, template: bytes, actor: User | None, channel: str = "task") -> bool:
    """Add a resident's iris to the gallery (audited); return False when it is already there."""
    try:
        get_engine().insert(subject_id, template)
    except DuplicateSubject:
        return False
    _audit(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        subject_id=subject_id,
        channel=channel,
        detail={"operation": "insert"},
    )
    return True


def delete(
    *, subject_id: str, actor: User | None, reason: str, channel: str = "web", request=None
) -> bool:
    """Remove a resident's iris from the gallery (audited); return False when it was not there."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise DedupError("Alasan penghapusan dari galeri wajib diisi.")
    try:
        get_engine().delete(subject_id)
    except UnknownSubject:
        return False
    _audit(
        actor=actor,
        action=AuditEvent.Action.DELETE,
        subject_id=subject_id,
        channel=channel,
        request=request,
        detail={"operation": "delete", "reason": reason[:250]},
    )
    return True


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild put in the gallery."""

    residents: int
    skipped: int
    discarded_damaged: bool


def gallery_templates() -> tuple[list[str], list[bytes], int]:
    """Return the two-eye iris templates of every resident that belongs in the gallery.

    An eye recorded as an exception is zeros, as penunggalan sends it; a resident whose iris
    is below the quality threshold (never admitted) or has no iris at all is skipped.
    """
    samples = (
        BiometricSample.objects.filter(
            modality__in=EYES, enrollment__resident__ktp_status__in=IN_GALLERY
        )
        .order_by("enrollment__resident_id", "modality")
        .values_list("enrollment__resident_id", "modality", "quality", "template_ciphertext")
    )
    ids: list[str] = []
    templates: list[bytes] = []
    skipped = 0
    current = None
    eyes: dict[str, bytes] = {}
    usable = True

    def flush() -> None:
        nonlocal skipped
        if current is None:
            return
        if not usable or not eyes:
            skipped += 1
            return
        ids.append(str(current))
        templates.append(b"".join(eyes.get(eye, bytes(IRIS_EYE_BYTES)) for eye in EYES))

    for resident_id, modality, quality, ciphertext in samples.iterator(chunk_size=READ_BATCH):
        if resident_id != current:
            flush()
            current, eyes, usable = resident_id, {}, True
        template = crypto.decrypt(ciphertext)
        if quality < quality_threshold(modality) or len(template) != IRIS_EYE_BYTES:
            usable = False
        eyes[modality] = template
    flush()
    return ids, templates, skipped


def rebuild(*, actor: User | None = None, channel: str = "cli") -> Rebuilt:
    """Make the gallery hold exactly the irises of the residents that belong in it.

    In-process: the gallery is replaced in one step (its new snapshot). A gallery that cannot
    be opened any more (damaged, or unsealed from an older version) is removed first: it holds
    nothing the database does not. A remote ABIS receives the missing residents one by one.
    One audit event records the rebuild, who ran it and how many residents it holds.
    """
    from ektp.abis.service import LocalAbis

    url, data_dir = abis_settings()
    discarded = False
    try:
        engine = get_engine()
    except StorageCorrupt:
        if url or data_dir is None:
            raise
        close_engine()
        shutil.rmtree(Path(data_dir))
        discarded = True
        engine = get_engine()
    ids, templates, skipped = gallery_templates()
    if isinstance(engine, LocalAbis):
        engine.gallery("iris").replace_all(ids, templates)
    else:
        for subject_id, template in zip(ids, templates, strict=True):
            try:
                engine.insert(subject_id, template)
            except DuplicateSubject:
                continue
    record_audit(
        user=actor,
        action=AuditEvent.Action.CREATE,
        object_type="abis_gallery",
        object_id="iris",
        channel=channel,
        detail={
            "operation": "rebuild",
            "residents": len(ids),
            "skipped": skipped,
            "discarded_damaged": discarded,
        },
    )
    return Rebuilt(len(ids), skipped, discarded)

"""Writes for regions: loading the shipped Kemendagri data."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources

from django.db import IntegrityError, transaction
from django.utils import timezone

from ektp.core.models import AuditEvent, User
from ektp.core.services import record_audit
from ektp.regions import codes
from ektp.regions.changes import HOLDER_STATUSES, Impact, Resolved, impact, in_subtree, resolve
from ektp.regions.changeset import ChangeSetInvalid, Problem, parse_change_set
from ektp.regions.models import AddressChange, Region, RegionChange, RegionChangeSet
from ektp.regions.signals import region_change_applied

DATA_FILE = "wilayah.tsv.gz"


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    unchanged: int


def read_shipped_regions() -> Iterator[Region]:
    """Yield unsaved Region objects from the package's data file, parents first."""
    data = resources.files("ektp.regions") / "data" / DATA_FILE
    with data.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as fh:
        for line in fh:
            code, name, male, female, valid_to = line.rstrip("\n").split("\t")
            yield Region(
                code=code,
                level=codes.level_of(code),
                parent_id=codes.parent_code(code),
                name=name,
                population_male=int(male) if male else None,
                population_female=int(female) if female else None,
                valid_to=dt.date.fromisoformat(valid_to) if valid_to else None,
            )


FIELDS = ["level", "parent_id", "name", "population_male", "population_female", "valid_to"]


def load_regions(*, batch_size: int = 5000) -> LoadResult:
    """Insert or update every shipped region; running it twice changes nothing."""
    existing = {
        row[0]: row[1:]
        for row in Region.objects.values_list("code", *FIELDS).iterator(chunk_size=20000)
    }
    # A region a decree has renamed or ended keeps what the decree made of it.
    decreed = set(RegionChange.objects.values_list("old_code", flat=True))
    to_create: list[Region] = []
    to_update: list[Region] = []
    unchanged = 0
    for region in read_shipped_regions():
        current = existing.get(region.code)
        if region.code in decreed:
            unchanged += 1
            continue
        wanted = tuple(getattr(region, f) for f in FIELDS)
        if current is None:
            to_create.append(region)
        elif tuple(current) != wanted:
            to_update.append(region)
        else:
            unchanged += 1
    now = timezone.now()
    for region in [*to_create, *to_update]:
        region.updated_at = now
    with transaction.atomic():
        Region.objects.bulk_create(to_create, batch_size=batch_size)
        Region.objects.bulk_update(
            to_update,
            [f.removesuffix("_id") if f == "parent_id" else f for f in FIELDS] + ["updated_at"],
            batch_size=batch_size,
        )
    return LoadResult(created=len(to_create), updated=len(to_update), unchanged=unchanged)


# -- Region change decrees ---------------------------------------------------------------------


@dataclass(frozen=True)
class ApplyResult:
    change_set: RegionChangeSet
    applied: bool  # False: the same file was applied before; nothing changed
    impact: Impact | None


def plan_change_set(*, text: str) -> Impact:
    """Preview a change set: what applying it would touch. Raises ChangeSetInvalid."""
    cs = parse_change_set(text)
    if RegionChangeSet.objects.filter(file_sha256=cs.sha256).exists():
        return Impact(number=cs.number, effective_on=cs.effective_on, already_applied=True)
    return impact(resolve(cs))


RESIDENT_CHUNK = 5000


def _chunks(items: list, size: int = RESIDENT_CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _digest(ids) -> str:
    return hashlib.sha256("\n".join(sorted(str(i) for i in ids)).encode()).hexdigest()


def _address_codes(code: str) -> dict:
    return {"kecamatan_code": code[:8], "kabkota_code": code[:5], "province_code": code[:2]}


def _write_regions(res: Resolved, cs: RegionChangeSet, now) -> None:
    for region in res.created:
        region.updated_at = now
    Region.objects.bulk_create(res.created)
    for code, (_, name) in res.renamed.items():
        Region.objects.filter(code=code).update(name=name, updated_at=now)
    retire_day = res.change_set.retire_day
    for code, successor in res.retired.items():
        Region.objects.filter(code=code).update(
            valid_to=retire_day, successor_id=successor, updated_at=now
        )
    for change in res.lineage:
        change.change_set = cs
    RegionChange.objects.bulk_create(res.lineage)


def _move_residents(res: Resolved, cs: RegionChangeSet, actor, now) -> tuple[list, list, dict]:
    """Move residents and families by the set's rules; return (resident ids, family ids,
    per line figures) of every address the set changed (renamed regions included)."""
    from ektp.residents.models import Family, Resident

    resident_ids: list = []
    family_ids: list = []
    figures: dict[int, dict] = {}
    rows: list[AddressChange] = []
    for rule in res.rules:
        people = list(rule.filter(Resident.objects.all()).values_list("pk", flat=True))
        families = list(rule.filter(Family.objects.all()).values_list("pk", flat=True))
        rule.filter(Resident.objects.all()).update(
            address_region_id=rule.target, updated_at=now, **_address_codes(rule.target)
        )
        rule.filter(Family.objects.all()).update(
            address_region_id=rule.target, **_address_codes(rule.target)
        )
        rows += [
            AddressChange(change_set=cs, resident_id=pk, from_code=rule.source, to_code=rule.target)
            for pk in people
        ]
        resident_ids += people
        family_ids += families
        line = figures.setdefault(rule.line, {"residents": 0, "families": 0, "ids": []})
        line["residents"] += len(people)
        line["families"] += len(families)
        line["ids"] += people
    for code in res.renamed:  # same village, new name on the KK and the KTP-el
        people = list(
            Resident.objects.filter(in_subtree(code)).values_list("pk", "address_region_id")
        )
        families = list(Family.objects.filter(in_subtree(code)).values_list("pk", flat=True))
        Resident.objects.filter(in_subtree(code)).update(updated_at=now)
        seen = set(resident_ids)
        fresh = [(pk, village) for pk, village in people if pk not in seen]
        rows += [
            AddressChange(change_set=cs, resident_id=pk, from_code=village, to_code=village)
            for pk, village in fresh
        ]
        resident_ids += [pk for pk, _ in fresh]
        family_ids += [pk for pk in families if pk not in set(family_ids)]
        line = figures.setdefault(
            res.renamed_lines[code], {"residents": 0, "families": 0, "ids": []}
        )
        line["residents"] += len(fresh)
        line["families"] += len(families)
        line["ids"] += [pk for pk, _ in fresh]
    AddressChange.objects.bulk_create(rows, batch_size=RESIDENT_CHUNK)
    return resident_ids, family_ids, figures


def _reissue_kk(family_ids: list, cs: RegionChangeSet, actor, today) -> int:
    from ektp.residents.models import Family, FamilyCardPrint

    prints = []
    for chunk in _chunks(family_ids):
        for fam in Family.objects.filter(pk__in=chunk).values(
            "pk", "kk_number", "address_region_id", "rt", "rw"
        ):
            prints.append(
                FamilyCardPrint(
                    family_id=fam["pk"],
                    kk_number=fam["kk_number"],
                    address_region_id=fam["address_region_id"],
                    rt=fam["rt"],
                    rw=fam["rw"],
                    reason=FamilyCardPrint.Reason.REGION_CHANGE,
                    change_set=cs,
                    issued_on=today,
                    created_by=actor,
                )
            )
    FamilyCardPrint.objects.bulk_create(prints, batch_size=RESIDENT_CHUNK)
    return len(prints)


def _queue_reprints(resident_ids: list, cs: RegionChangeSet, actor) -> tuple[int, int, int]:
    """Queue a data-change reprint for every holder of a KTP-el among the residents; return
    (queued, already open, without an office)."""
    from ektp.cards.models import PrintReason, ReprintRequest
    from ektp.cards.selectors import OPEN_REQUEST
    from ektp.offices.models import Office
    from ektp.residents.models import Resident

    offices = dict(Office.objects.values_list("region_id", "pk"))
    queued: list[ReprintRequest] = []
    already = no_office = 0
    for chunk in _chunks(resident_ids):
        holders = Resident.objects.filter(
            pk__in=chunk, ktp_status__in=HOLDER_STATUSES, life_status="hidup"
        ).values_list("pk", "kabkota_code")
        open_ids = set(
            ReprintRequest.objects.filter(
                resident_id__in=chunk, status__in=OPEN_REQUEST
            ).values_list("resident_id", flat=True)
        )
        for pk, kab in holders:
            if pk in open_ids:
                already += 1
            elif kab not in offices:
                no_office += 1
            else:
                queued.append(
                    ReprintRequest(
                        resident_id=pk,
                        office_id=offices[kab],
                        reason=PrintReason.DATA_CHANGE,
                        change_set=cs,
                        created_by=actor,
                    )
                )
    ReprintRequest.objects.bulk_create(queued, batch_size=RESIDENT_CHUNK)
    return len(queued), already, no_office


def apply_change_set(*, text: str, actor: User) -> ApplyResult:
    """Apply a change set in one transaction: regions, lineage, residents' addresses, KK
    reissued, reprints queued, one audit event per operation, notices after commit.

    Applying the same file again changes nothing; another file with the same decree number is
    refused as a conflict. Raises ChangeSetInvalid."""
    cs = parse_change_set(text)
    done = RegionChangeSet.objects.filter(file_sha256=cs.sha256).first()
    if done is not None:
        return ApplyResult(change_set=done, applied=False, impact=None)
    now = timezone.now()
    today = timezone.localdate()
    try:
        with transaction.atomic():
            res = resolve(cs)
            preview = impact(res)
            # A second apply of the same decree at the same time waits on this row's unique
            # number and hash until the first commits, then finds it done (below).
            record = RegionChangeSet.objects.create(
                number=cs.number,
                decided_on=cs.decided_on,
                effective_on=cs.effective_on,
                file_sha256=cs.sha256,
                source=cs.source,
                applied_by=actor,
            )
            _write_regions(res, record, now)
            resident_ids, family_ids, figures = _move_residents(res, record, actor, now)
            kk = _reissue_kk(family_ids, record, actor, today)
            queued, already, no_office = _queue_reprints(resident_ids, record, actor)
            record.summary = {
                **preview.as_dict(),
                "kk_reissued": kk,
                "reprints_queued": queued,
                "reprints_already_open": already,
                "reprints_without_office": no_office,
            }
            record.save(update_fields=["summary"])
            _audit(record, res, figures, actor)
            region_change_applied.send(
                sender=RegionChangeSet,
                change_set=record,
                successors=res.successors,
                resident_ids=resident_ids,
            )
    except IntegrityError:
        done = RegionChangeSet.objects.filter(file_sha256=cs.sha256).first()
        if done is not None:
            return ApplyResult(change_set=done, applied=False, impact=None)
        if RegionChangeSet.objects.filter(number=cs.number).exists():
            raise ChangeSetInvalid(
                [Problem(1, f"Bertentangan dengan keputusan {cs.number} yang sudah diterapkan.")]
            ) from None
        raise
    return ApplyResult(change_set=record, applied=True, impact=preview)


def _audit(record: RegionChangeSet, res: Resolved, figures: dict, actor) -> None:
    """One audit event for the decree and one per operation, each naming the decree; the
    residents an operation moved are anchored by the digest of their ids (their rows are in
    AddressChange)."""
    record_audit(
        user=actor,
        action=AuditEvent.Action.CREATE,
        object_type="region_change_set",
        object_id=str(record.pk),
        channel="cli",
        detail={
            "decree": record.number,
            "effective_on": record.effective_on.isoformat(),
            "file_sha256": record.file_sha256,
        },
    )
    for op in res.change_set.operations:
        lines = [op.line, *(p.line for p in op.parts)]
        moved = [figures[n] for n in lines if n in figures]
        ids = [pk for f in moved for pk in f["ids"]]
        record_audit(
            user=actor,
            action=AuditEvent.Action.UPDATE,
            object_type="region_change",
            object_id=str(record.pk),
            channel="cli",
            detail={
                "decree": record.number,
                "line": op.line,
                "op": op.op,
                "code": op.code,
                "new_code": op.new_code or [p.code for p in op.parts] or "",
                "residents": sum(f["residents"] for f in moved),
                "families": sum(f["families"] for f in moved),
                "residents_sha256": _digest(ids),
            },
        )

"""Writes for coverage: zone policies, targets and daily snapshots."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ektp.core.access import within_jurisdiction
from ektp.core.errors import DomainError
from ektp.core.models import AuditEvent, Role, User
from ektp.core.services import record_audit
from ektp.coverage.models import CoveragePolicy, CoverageSnapshot, PopulationKind, Target
from ektp.coverage.stats import coverage_tree
from ektp.regions import codes
from ektp.regions.models import Region


class CoverageError(DomainError, ValueError):
    """A coverage request or write breaks a rule; the message says which, in Indonesian."""

    rule = "coverage"


POLICY_ROLES = {Role.PROVINCE_ADMIN, Role.SYSTEM_ADMIN}
TARGET_ROLES = {Role.SUPERVISOR, Role.PROVINCE_ADMIN, Role.SYSTEM_ADMIN}


def parse_percent(value, *, label: str) -> Decimal:
    """Read a percentage between 0 and 100 with at most two decimals."""
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise CoverageError(f"{label} harus berupa angka persen, mis. 92 atau 92,5.") from None
    if not number.is_finite() or number < 0 or number > 100:
        raise CoverageError(f"{label} harus antara 0 dan 100 %.")
    if number != number.quantize(Decimal("0.01")):
        raise CoverageError(f"{label} paling banyak dua angka di belakang koma.")
    return number


def region_in_jurisdiction(*, user: User, code: str) -> Region:
    """Return the region of a code if it exists and lies inside the user's jurisdiction."""
    code = (code or "").strip()
    if not codes.is_valid_code(code):
        raise CoverageError(f"Kode wilayah '{code[:20]}' tidak berbentuk kode Kemendagri.")
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise CoverageError(f"Wilayah {code} tidak dikenal.")
    if not within_jurisdiction(user, code):
        raise CoverageError(f"Wilayah {code} berada di luar wilayah kerja Anda.")
    return region


@transaction.atomic
def create_policy(
    *,
    actor: User,
    region_code: str | None,
    green_min,
    yellow_min,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    note: str = "",
) -> CoveragePolicy:
    """Set zone thresholds for a period; periods of one region may not overlap."""
    if actor.role not in POLICY_ROLES:
        raise CoverageError("Hanya admin provinsi atau admin sistem yang boleh mengatur zona.")
    green = parse_percent(green_min, label="Ambang hijau")
    yellow = parse_percent(yellow_min, label="Ambang kuning")
    if green <= yellow:
        raise CoverageError(
            "Ambang hijau harus lebih tinggi dari ambang kuning (ambang tumpang tindih)."
        )
    if valid_to is not None and valid_to < valid_from:
        raise CoverageError("Tanggal berakhir tidak boleh sebelum tanggal mulai berlaku.")
    region = None
    if region_code:
        region = region_in_jurisdiction(user=actor, code=region_code)
        if region.level not in (Region.Level.PROVINSI, Region.Level.KABKOTA):
            raise CoverageError("Kebijakan zona ditetapkan untuk provinsi atau kabupaten/kota.")
        Region.objects.select_for_update().filter(pk=region.pk).first()
    elif actor.jurisdiction_code is not None:
        raise CoverageError("Kebijakan nasional hanya boleh ditetapkan oleh admin sistem nasional.")
    overlapping = CoveragePolicy.objects.select_for_update().filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from), region=region
    )
    if valid_to is not None:
        overlapping = overlapping.filter(valid_from__lte=valid_to)
    clash = overlapping.first()
    if clash is not None:
        raise CoverageError(
            f"Masa berlaku bertumpang tindih dengan kebijakan yang berlaku sejak {clash.valid_from:%d-%m-%Y}."
        )
    policy = CoveragePolicy.objects.create(
        region=region,
        green_min=green,
        yellow_min=yellow,
        valid_from=valid_from,
        valid_to=valid_to,
        note=(note or "")[:200],
        created_by=actor,
    )
    record_audit(
        user=actor,
        action=AuditEvent.Action.CREATE,
        object_type="coverage_policy",
        object_id=str(policy.pk),
        detail={"region": region_code or "", "green": str(green), "yellow": str(yellow)},
    )
    return policy


@transaction.atomic
def end_policy(*, actor: User, policy_id: int, valid_to: dt.date) -> CoveragePolicy:
    """Close the period of a zone policy on a date (so that a new one can follow it)."""
    if actor.role not in POLICY_ROLES:
        raise CoverageError("Hanya admin provinsi atau admin sistem yang boleh mengatur zona.")
    policy = CoveragePolicy.objects.select_for_update().filter(pk=policy_id).first()
    allowed = policy is not None and (
        within_jurisdiction(actor, policy.region_id)
        if policy.region_id
        else actor.jurisdiction_code is None
    )
    if not allowed:
        raise CoverageError("Kebijakan zona tidak ditemukan di wilayah kerja Anda.")
    if valid_to < policy.valid_from:
        raise CoverageError("Tanggal berakhir tidak boleh sebelum tanggal mulai berlaku.")
    if policy.valid_to is not None and valid_to > policy.valid_to:
        raise CoverageError(
            f"Kebijakan ini sudah berakhir {policy.valid_to:%d-%m-%Y}; tanggal berakhir hanya "
            "boleh dimajukan."
        )
    policy.valid_to = valid_to
    policy.save(update_fields=["valid_to"])
    record_audit(
        user=actor,
        action=AuditEvent.Action.UPDATE,
        object_type="coverage_policy",
        object_id=str(policy.pk),
        detail={"valid_to": valid_to.isoformat()},
    )
    return policy


@transaction.atomic
def create_target(
    *,
    actor: User,
    name: str,
    population: str,
    region_code: str,
    rate,
    due_date: dt.date,
    polling_day: dt.date | None = None,
    previous_polling_day: dt.date | None = None,
    today: dt.date | None = None,
) -> Target:
    """Set a recording target for a population of a region."""
    today = today or timezone.localdate()
    if actor.role not in TARGET_ROLES:
        raise CoverageError("Peran Anda tidak boleh menetapkan target.")
    name = " ".join((name or "").split())
    if not name or len(name) > 150:
        raise CoverageError("Nama target wajib diisi (paling banyak 150 karakter).")
    if population not in PopulationKind.values:
        raise CoverageError("Populasi harus 'wajib_ktp' atau 'pemilih_pemula'.")
    region = region_in_jurisdiction(user=actor, code=region_code)
    rate = parse_percent(rate, label="Target")
    if rate <= 0:
        raise CoverageError("Target harus lebih dari 0 %.")
    if due_date < today:
        raise CoverageError("Batas waktu target tidak boleh di masa lalu.")
    if population == PopulationKind.PEMILIH_PEMULA:
        if polling_day is None:
            raise CoverageError("Target pemilih pemula memerlukan hari pemungutan suara.")
        if previous_polling_day is None:
            previous_polling_day = polling_day.replace(year=polling_day.year - 5)
        if previous_polling_day >= polling_day:
            raise CoverageError("Pemungutan suara sebelumnya harus sebelum hari pemungutan suara.")
    else:
        polling_day = previous_polling_day = None
    target = Target.objects.create(
        name=name,
        population=population,
        region=region,
        rate=rate,
        due_date=due_date,
        polling_day=polling_day,
        previous_polling_day=previous_polling_day,
        created_by=actor,
    )
    record_audit(
        user=actor,
        action=AuditEvent.Action.CREATE,
        object_type="coverage_target",
        object_id=str(target.pk),
        detail={"region": region.code, "population": population, "rate": str(rate)},
    )
    return target


def take_snapshots(*, day: dt.date, within: str | None = None) -> int:
    """Store the coverage of every region (and the nation) at the end of a day; idempotent."""
    rows = []
    tree = coverage_tree(code=within or "", as_of=day)
    for level_rows in tree.values():
        rows.extend(r for r in level_rows if r.wajib_ktp or r.recorded)
    snapshots = [
        CoverageSnapshot(
            region_code=r.code,
            level=r.level,
            day=day,
            wajib_ktp=r.wajib_ktp,
            recorded=r.recorded,
            printed=r.printed,
            prr=r.prr,
            ikd=r.ikd,
        )
        for r in rows
    ]
    with transaction.atomic():
        CoverageSnapshot.objects.bulk_create(
            snapshots,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["region_code", "day"],
            update_fields=["level", "wajib_ktp", "recorded", "printed", "prr", "ikd", "taken_at"],
        )
    return len(snapshots)


def backfill_snapshots(*, within: str, days: int, today: dt.date | None = None) -> list[dt.date]:
    """Store the daily coverage of a region and the regions inside it for the last `days` days
    up to today, skipping the days already stored for the region; return the days written.

    Coverage on a past day is derived from the residents' recording dates (the same figures
    the dashboard shows "per tanggal"), so a new install sees a trend from its first day."""
    today = today or timezone.localdate()
    wanted = [today - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]
    stored = set(
        CoverageSnapshot.objects.filter(region_code=within, day__in=wanted).values_list(
            "day", flat=True
        )
    )
    written = [day for day in wanted if day not in stored]
    for day in written:
        take_snapshots(day=day, within=within)
    return written

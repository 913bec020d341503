"""Time a region change decree that splits a village and moves 20,000 residents.

    python bench/regions.py [--moving 20000] [--staying 20000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/regions.py

Builds a throwaway database (PostgreSQL `ektp_bench_regions` when DATABASE_URL names a
server, otherwise a temporary SQLite file), puts `--moving + --staying` residents (four to a
family, a third of them holding a KTP-el) in one village of Pesawaran, half of its dusun
going to a new village, and applies the split with `apply_change_set`: the regions and
lineage, the residents' and families' addresses, one AddressChange row per resident, the KK
reissued, a reprint request per card holder, the audit events.

Reference, measured in the same run on the same rows: one bare `UPDATE` of the residents'
address columns with the same WHERE, in a transaction rolled back (so the decree then finds
the rows as they were). Printed: both times, the ratio, and the load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

from benchdb import drop_database, migrated_django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
BENCH_DB = "ektp_bench_regions"
VILLAGE, CHILD = "18.09.01.2001", "18.09.01.2901"


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def seed(moving: int, staying: int) -> None:
    from ektp.residents.models import Family, Resident
    from ektp.residents.nik import make_kk, make_nik

    total = moving + staying
    families, residents = [], []
    born = dt.date(1990, 1, 1)
    for i in range(total):
        dusun = ("III", "IV")[i % 2] if i < moving else ("I", "II")[i % 2]
        if i % 4 == 0:
            family = Family(
                kk_number=make_kk(
                    kecamatan_code=VILLAGE[:8],
                    issued_on=born + dt.timedelta(days=i // 4 // 9000),
                    serial=i // 4 % 9000 + 1,
                ),
                issued_on=born,
                address_region_id=VILLAGE,
                rt="001",
                rw="001",
                street=f"DUSUN {dusun}",
            )
            family.set_region_codes()
            families.append(family)
        holder = i % 3 == 0
        birth = born + dt.timedelta(days=i // 9000)  # (birth date, serial) unique: one NIK each
        resident = Resident(
            nik=make_nik(
                kecamatan_code=VILLAGE[:8],
                birth_date=birth,
                sex="L",
                serial=i % 9000 + 1,
            ),
            family=family,
            name=f"PENDUDUK BENCH {i}",
            birth_place="PESAWARAN",
            birth_date=birth,
            sex="L",
            religion="islam",
            mother_name="IBU BENCH",
            address_region_id=VILLAGE,
            rt="001",
            rw="001",
            street=f"DUSUN {dusun}",
            ktp_status="CARD_ISSUED" if holder else "BELUM_REKAM",
            recorded_on=dt.date(2020, 1, 2) if holder else None,
        )
        resident.set_region_codes()
        residents.append(resident)
    Family.objects.bulk_create(families, batch_size=5000)
    Resident.objects.bulk_create(residents, batch_size=5000)


def bare_update() -> tuple[float, int]:
    """The reference: one UPDATE of the same rows, rolled back."""
    from django.db import connection, transaction

    with transaction.atomic():
        started = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(
                "UPDATE residents_resident SET address_region_id = %s, kecamatan_code = %s, "
                "kabkota_code = %s, province_code = %s, updated_at = %s "
                "WHERE address_region_id = %s AND UPPER(street) IN ('DUSUN III', 'DUSUN IV')",
                [CHILD, CHILD[:8], CHILD[:5], CHILD[:2], dt.datetime.now(dt.UTC), VILLAGE],
            )
            rows = cur.rowcount
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed, rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--moving", type=int, default=20_000)
    parser.add_argument("--staying", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ektp-bench-regions-") as tmp:
        os.environ.update(EKTP_VAR_DIR=tmp, DJANGO_SETTINGS_MODULE="ektp.settings")
        migrated_django(BENCH_DB)
        from django.db import connection

        from ektp.core.models import Role
        from ektp.core.services import create_staff_user
        from ektp.offices.models import Office
        from ektp.regions.models import Region
        from ektp.regions.services import apply_change_set

        vendor = connection.vendor
        try:
            Office.objects.create(region_id="18.09", name="Disdukcapil Kabupaten Pesawaran")
            kadis = create_staff_user(
                username="kadis-bench",
                password="kata-sandi-bench-2026",
                role=Role.SUPERVISOR,
                region=Region.objects.get(code="18.09"),
            )
            seed(args.moving, args.staying)
            text = (
                "decree:\n  number: BENCH-1\n  date: 2026-01-02\n  effective: 2026-02-01\n"
                f"operations:\n  - op: split\n    from: {VILLAGE}\n    into:\n"
                f"      - code: {CHILD}\n        name: Desa Bench\n        dusun: [III, IV]\n"
            )
            print(
                f"database: {vendor}; residents {args.moving + args.staying}, moving {args.moving}"
            )
            print(f"loadavg before: {loadavg()}")
            ref = [bare_update() for _ in range(2)]
            ref_time = min(t for t, _ in ref)
            assert ref[0][1] == args.moving, ref
            started = time.perf_counter()
            result = apply_change_set(text=text, actor=kadis)
            decree_time = time.perf_counter() - started
            s = result.change_set.summary
            print(
                f"bare UPDATE of the {ref[0][1]} rows: {ref_time * 1000:.0f} ms "
                f"(best of 2, rolled back)"
            )
            print(
                f"apply_change_set: {decree_time * 1000:.0f} ms — moved {s['residents_moving']} "
                f"residents, {s['families_moving']} families, KK {s['kk_reissued']}, "
                f"reprints {s['reprints_queued']}"
            )
            print(f"ratio decree / bare UPDATE: {decree_time / ref_time:.1f}x")
            print(f"loadavg after: {loadavg()}")
        finally:
            connection.close()
            if vendor == "postgresql":
                drop_database(BENCH_DB)
    return 0


if __name__ == "__main__":
    sys.exit(main())

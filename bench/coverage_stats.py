"""Time the coverage of every village, kecamatan and the district of a seeded district.

    python bench/coverage_stats.py [--region 18.09] [--residents N] [--repeat 3]

Seeds a temporary SQLite database with `ektp seed` (call_command), then times
`coverage_tree` (one GROUP BY by village through the ORM, summed up to kecamatan
and district, plus region names and zones) against a reference measured in the
same run: the village GROUP BY written by hand in plain sqlite3 over the same
file (a DuckDB-over-Parquet reference needs duckdb and pyarrow in the lock).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

REFERENCE_SQL = """
SELECT {key}, COUNT(*),
       SUM(recorded_on IS NOT NULL AND recorded_on <= :d),
       SUM(recorded_on IS NOT NULL AND recorded_on <= :d AND ktp_status IN ('CARD_PRINTED','CARD_ISSUED')),
       SUM(recorded_on IS NOT NULL AND recorded_on <= :d AND ktp_status = 'PRINT_READY_RECORD'),
       SUM(ikd_activated_at IS NOT NULL AND ikd_activated_at < :next)
FROM residents_resident
WHERE kabkota_code = :k AND life_status = 'hidup' AND birth_date <= :d
  AND (citizenship = 'WNI' OR has_itap)
  AND (birth_date <= :adult OR marital_status <> 'belum_kawin')
GROUP BY {key}
"""
KEYS = ["kabkota_code", "kecamatan_code", "address_region_id"]


def best_of(repeat: int, fn) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--region", default="18.09")
    parser.add_argument("--residents", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--keep", default=None, help="Folder to keep the seeded database in and reuse next time"
    )
    args = parser.parse_args()
    if args.keep:
        Path(args.keep).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ektp-bench-coverage-") as scratch:
        tmp = args.keep or scratch
        os.environ.update(EKTP_VAR_DIR=tmp, DJANGO_SETTINGS_MODULE="ektp.settings")
        os.environ.pop("DATABASE_URL", None)
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from ektp.coverage.stats import coverage_tree
        from ektp.coverage.zones import apply_zones
        from ektp.residents.models import Resident, years_ago

        seed_seconds = 0.0
        reuse = "residents_resident" in connection.introspection.table_names() and (
            Resident.objects.filter(kabkota_code=args.region).exists()
        )
        if not reuse:
            call_command("migrate", verbosity=0)
            call_command("regions", "load", stdout=open(os.devnull, "w"))  # noqa: SIM115
            seed_args = ["--region", args.region, "--seed", "42", "--no-progress"]
            if args.residents is not None:
                seed_args += ["--residents", str(args.residents)]
            started = time.perf_counter()
            call_command("seed", *seed_args, stdout=open(os.devnull, "w"))  # noqa: SIM115
            seed_seconds = time.perf_counter() - started
        with connection.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM residents_resident")
            n = cur.fetchone()[0]
        as_of = dt.date.today()

        def ours():
            tree = coverage_tree(code=args.region, as_of=as_of)
            return {level: apply_zones(rows, as_of) for level, rows in tree.items()}

        ours_s, tree = best_of(args.repeat, ours)
        connection.close()

        params = {
            "d": as_of.isoformat(),
            "next": (as_of + dt.timedelta(days=1)).isoformat(),
            "k": args.region,
            "adult": years_ago(as_of, 17).isoformat(),
        }
        reference_name = "plain sqlite3, the village GROUP BY written by hand"
        db = sqlite3.connect(Path(tmp) / "ektp.sqlite3")

        def reference():
            return db.execute(REFERENCE_SQL.format(key="address_region_id"), params).fetchall()

        def reference_per_level():
            return {
                key: db.execute(REFERENCE_SQL.format(key=key), params).fetchall() for key in KEYS
            }

        ref_s, ref = best_of(args.repeat, reference)
        per_level_s, _ = best_of(args.repeat, reference_per_level)
        db.close()
    ours_total = sum(r.wajib_ktp for r in tree[2])
    ref_total = sum(row[1] for row in ref)
    district = tree[2][0]
    seeded = f"seeded in {seed_seconds:.1f} s" if seed_seconds else "reused from --keep"
    print(f"residents: {n:,} {seeded}; as of {as_of}")
    print(
        f"district {district.code}: {district.recorded:,} of {district.wajib_ktp:,} wajib KTP = "
        f"{district.rate} % ({district.zone}); {len(tree[3])} kecamatan, {len(tree[4])} desa"
    )
    print(
        f"ektp coverage_tree (ORM, 3 levels, zones): {ours_s * 1000:,.0f} ms (best of {args.repeat})"
    )
    print(f"reference {reference_name}: {ref_s * 1000:,.0f} ms")
    print(f"(plain sqlite3, one GROUP BY per level, 3 levels: {per_level_s * 1000:,.0f} ms)")
    print(f"ratio: {ours_s / ref_s:.2f}x the reference; same totals: {ours_total == ref_total}")
    return 0 if ours_total == ref_total else 1


if __name__ == "__main__":
    sys.exit(main())

"""Time the coverage figures of a district (SQLite) and of a whole province (PostgreSQL).

    python bench/coverage.py [--district 18.09] [--province 18] [--repeat 3] [--keep DIR]
                             [--district-residents N] [--province-residents N] [--jobs 2]
                             [--database NAME] [--skip-district] [--skip-province] [--explain]

1. District on SQLite: seeds the district (Pesawaran, about 500,000 residents) and times
   `coverage_tree` + zones — every village, kecamatan and the district, the figures the
   dashboard shows.
2. Province on PostgreSQL (DATABASE_URL must name a PostgreSQL server): seeds every
   district of the province at its real population (Lampung, about 9.1 M residents) in a
   throwaway database and times the same for every village, kecamatan, district and the
   province.

Next to each, measured in the same run, the reference: the residents' rows exported to
Parquet (export time printed apart) and one plain DuckDB GROUP BY (GROUPING SETS by
village, kecamatan, district, province) computing the same counts over the Parquet file.
With --keep DIR the seeded SQLite file, the PostgreSQL database and the Parquet files are
kept and reused by the next run (no reseeding); without it everything is thrown away.
Each part runs in a process of its own, so that each has its own database settings.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Running a script puts bench/ first on sys.path, where this file would shadow the
# `coverage` package (pytest-cov, coverage.py) for anything imported later.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]
ROOT = _HERE.parent
sys.path.insert(0, str(ROOT / "src"))

PRINTED = ("CARD_PRINTED", "CARD_ISSUED")
PRR = "PRINT_READY_RECORD"
COLUMNS = [
    "address_region_id",
    "kecamatan_code",
    "kabkota_code",
    "province_code",
    "birth_date",
    "marital_status",
    "citizenship",
    "has_itap",
    "life_status",
    "ktp_status",
    "recorded_on",
    "ikd_activated_at",
]
DUCKDB_SQL = """
SELECT COALESCE(address_region_id, kecamatan_code, kabkota_code, province_code) AS code,
       COUNT(*) AS wajib,
       COUNT(*) FILTER (WHERE recorded_on <= $d) AS rec,
       COUNT(*) FILTER (WHERE recorded_on <= $d AND ktp_status IN ('CARD_PRINTED', 'CARD_ISSUED'))
           AS printed,
       COUNT(*) FILTER (WHERE recorded_on <= $d AND ktp_status = 'PRINT_READY_RECORD') AS prr,
       COUNT(*) FILTER (WHERE ikd_activated_at < $next) AS ikd
FROM read_parquet($file)
WHERE {scope} = $within AND life_status = 'hidup' AND birth_date <= $d
  AND (citizenship = 'WNI' OR has_itap)
  AND (birth_date <= $adult OR marital_status <> 'belum_kawin')
GROUP BY GROUPING SETS ((address_region_id), (kecamatan_code), (kabkota_code), (province_code))
"""


def best_of(repeat: int, fn) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


# The parts -------------------------------------------------------------------------------
def _setup_django(var_dir: str) -> None:
    os.environ.update(EKTP_VAR_DIR=var_dir, DJANGO_SETTINGS_MODULE="ektp.settings")
    import django

    django.setup()


def _seed(region: str, residents: int | None, jobs: int) -> float:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("regions", "load", stdout=open(os.devnull, "w"))  # noqa: SIM115
    seed_args = ["--region", region, "--seed", "42", "--no-progress", "--jobs", str(jobs)]
    if residents is not None:
        seed_args += ["--residents", str(residents)]
    started = time.perf_counter()
    call_command("seed", *seed_args, stdout=open(os.devnull, "w"))  # noqa: SIM115
    return time.perf_counter() - started


def _export_rows(region: str, target: Path) -> tuple[float, int]:
    """Write the residents of a region (the columns the figures need) to Parquet through a
    CSV file: COPY on PostgreSQL, a cursor on SQLite; DuckDB converts. Return (s, rows)."""
    import duckdb
    from django.db import connection

    from ektp.coverage.stats import GROUP_FIELD
    from ektp.regions import codes

    started = time.perf_counter()
    scope = GROUP_FIELD[codes.level_of(region)]
    csv_path = target.with_suffix(".csv")
    select = f"SELECT {', '.join(COLUMNS)} FROM residents_resident WHERE {scope} = %s"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            copy_sql = f"COPY ({select}) TO STDOUT (FORMAT csv, HEADER)"
            with open(csv_path, "wb") as out, cursor.cursor.copy(copy_sql, [region]) as copy:
                for block in copy:
                    out.write(block)
        else:
            cursor.execute(select, [region])
            with open(csv_path, "w", newline="") as out:
                writer = csv.writer(out)
                writer.writerow(COLUMNS)
                while batch := cursor.fetchmany(50_000):
                    writer.writerows(batch)
    types = {
        "address_region_id": "VARCHAR",
        "kecamatan_code": "VARCHAR",
        "kabkota_code": "VARCHAR",
        "province_code": "VARCHAR",
        "birth_date": "DATE",
        "marital_status": "VARCHAR",
        "citizenship": "VARCHAR",
        "has_itap": "BOOLEAN",
        "life_status": "VARCHAR",
        "ktp_status": "VARCHAR",
        "recorded_on": "DATE",
        "ikd_activated_at": "TIMESTAMPTZ",
    }
    db = duckdb.connect()
    db.execute(
        f"COPY (SELECT * FROM read_csv('{csv_path}', header = true, delim = ',', quote = '\"',"
        f" dateformat = '%Y-%m-%d', columns = {types!r}))"
        f" TO '{target}' (FORMAT parquet)"
    )
    rows = db.execute(f"SELECT COUNT(*) FROM read_parquet('{target}')").fetchone()[0]
    db.close()
    csv_path.unlink()
    return time.perf_counter() - started, rows


def _duckdb_reference(parquet: Path, region: str, as_of: dt.date, repeat: int):
    import duckdb

    from ektp.coverage.stats import GROUP_FIELD
    from ektp.regions import codes
    from ektp.residents.models import years_ago

    db = duckdb.connect()
    params = {
        "file": str(parquet),
        "d": as_of,
        "next": dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.min),
        "within": region,
        "adult": years_ago(as_of, 17),
    }
    sql = DUCKDB_SQL.format(scope=GROUP_FIELD[codes.level_of(region)])
    seconds, rows = best_of(repeat, lambda: db.execute(sql, params).fetchall())
    db.close()
    return seconds, {row[0]: list(row[1:]) for row in rows}


def run_part(args: argparse.Namespace) -> dict:
    """Seed (unless kept), time ours and the DuckDB reference; return the figures."""
    district = args.part == "district"
    region = args.district if district else args.province
    residents = args.district_residents if district else args.province_residents
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    if district:
        os.environ.pop("DATABASE_URL", None)
    _setup_django(str(work))
    from django.db import connection

    from ektp.coverage.stats import coverage_tree
    from ektp.coverage.zones import apply_zones
    from ektp.regions import codes
    from ektp.residents.models import Resident

    field = "kabkota_code" if district else "province_code"
    seed_seconds = None
    tables = connection.introspection.table_names()
    if "residents_resident" not in tables or not (
        Resident.objects.filter(**{field: region}).exists()
    ):
        seed_seconds = _seed(region, residents, args.jobs)
    n = Resident.objects.filter(**{field: region}).count()
    as_of = dt.date.today()

    explain = ""
    if args.explain and connection.vendor == "postgresql":
        from django.test.utils import CaptureQueriesContext

        from ektp.coverage.stats import _grouped

        with CaptureQueriesContext(connection) as captured:
            _grouped(level=codes.DESA, as_of=as_of, within=region)
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + captured.captured_queries[-1]["sql"])
            explain = "\n".join(row[0] for row in cursor.fetchall())

    def ours():
        tree = coverage_tree(code=region, as_of=as_of)
        return {level: apply_zones(rows, as_of) for level, rows in tree.items()}

    ours_s, tree = best_of(args.repeat, ours)

    parquet = work / f"residents-{region}.parquet"
    export_s, exported = None, None
    if not parquet.exists() or not args.keep:
        export_s, exported = _export_rows(region, parquet)
    connection.close()
    ref_s, ref = _duckdb_reference(parquet, region, as_of, args.repeat)
    # The grouping sets also give the level above the region (its province): not compared.
    ref = {code: counts for code, counts in ref.items() if code.startswith(region)}

    ours_counts = {
        row.code: [row.wajib_ktp, row.recorded, row.printed, row.prr, row.ikd]
        for rows in tree.values()
        for row in rows
        if row.wajib_ktp
    }
    top = tree[codes.level_of(region)][0]
    return {
        "part": args.part,
        "vendor": connection.vendor,
        "region": region,
        "residents": n,
        "seed_seconds": seed_seconds,
        "as_of": as_of.isoformat(),
        "top": {
            "code": top.code,
            "name": top.name,
            "recorded": top.recorded,
            "wajib_ktp": top.wajib_ktp,
            "rate": str(top.rate),
            "zone": top.zone,
        },
        "regions": {str(level): len(rows) for level, rows in tree.items()},
        "ours_seconds": ours_s,
        "reference_seconds": ref_s,
        "export_seconds": export_s,
        "exported_rows": exported,
        "same_figures": ours_counts == ref,
        "explain": explain,
    }


# The driver ------------------------------------------------------------------------------
def _run_child(args: argparse.Namespace, part: str, workdir: str, env: dict) -> dict | None:
    command = [
        sys.executable,
        __file__,
        "--part",
        part,
        "--workdir",
        workdir,
        "--district",
        args.district,
        "--province",
        args.province,
        "--repeat",
        str(args.repeat),
        "--jobs",
        str(args.jobs),
    ]
    for flag, value in (
        ("--district-residents", args.district_residents),
        ("--province-residents", args.province_residents),
    ):
        if value is not None:
            command += [flag, str(value)]
    if args.keep:
        command.append("--keep")
    if args.explain:
        command.append("--explain")
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    print(done.stdout, file=sys.stderr)
    print(f"{part}: failed (exit {done.returncode})", file=sys.stderr)
    return None


def _report(result: dict, target_s: float) -> None:
    top = result["top"]
    seeded = (
        f"seeded in {result['seed_seconds']:.0f} s"
        if result["seed_seconds"] is not None
        else "reused (--keep)"
    )
    levels = ", ".join(f"{count} at level {level}" for level, count in result["regions"].items())
    print(f"== {result['part']} {result['region']} on {result['vendor']} ==")
    print(f"residents: {result['residents']:,} {seeded}; as of {result['as_of']}")
    print(
        f"{top['name']}: {top['recorded']:,} of {top['wajib_ktp']:,} wajib KTP = "
        f"{top['rate']} % ({top['zone']}); regions: {levels}"
    )
    if result["export_seconds"] is not None:
        print(
            f"export to Parquet (not timed below): {result['exported_rows']:,} rows "
            f"in {result['export_seconds']:.1f} s"
        )
    ours, ref = result["ours_seconds"], result["reference_seconds"]
    print(f"ektp coverage_tree + zones (ORM): {ours * 1000:,.0f} ms (target < {target_s:.0f} s)")
    print(f"reference DuckDB GROUP BY over Parquet: {ref * 1000:,.0f} ms")
    print(f"ratio: {ours / ref:.1f}x the reference; same figures: {result['same_figures']}")
    if result["explain"]:
        print(result["explain"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--district", default="18.09")
    parser.add_argument("--province", default="18")
    parser.add_argument("--district-residents", type=int, default=None)
    parser.add_argument("--province-residents", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2, help="seeding processes (PostgreSQL)")
    parser.add_argument(
        "--keep",
        default=None,
        nargs="?",
        const=str(ROOT / "var" / "bench-coverage"),
        help="folder (and database) to keep the seeded data in and reuse next time",
    )
    parser.add_argument(
        "--database", default="ektp_bench_coverage", help="PostgreSQL database for the province"
    )
    parser.add_argument("--skip-district", action="store_true")
    parser.add_argument("--skip-province", action="store_true")
    parser.add_argument("--explain", action="store_true", help="print the PostgreSQL plan")
    parser.add_argument("--part", choices=["district", "province"], help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        print("RESULT " + json.dumps(run_part(args)))
        return 0

    # bench/ stays off sys.path (see the top): load the shared helper from its file.
    spec = importlib.util.spec_from_file_location("benchdb", _HERE / "benchdb.py")
    benchdb = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchdb)

    ok = True
    with tempfile.TemporaryDirectory(prefix="ektp-bench-coverage-") as scratch:
        base = Path(args.keep or scratch)
        if not args.skip_district:
            env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
            result = _run_child(args, "district", str(base / "district"), env)
            ok &= bool(result and result["same_figures"])
            if result:
                _report(result, 1)
        if not args.skip_province:
            if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
                print("province: skipped (DATABASE_URL does not name a PostgreSQL server)")
            else:
                name = args.database
                saved = os.environ["DATABASE_URL"]
                benchdb.use_database(name, fresh=not args.keep)
                try:
                    result = _run_child(args, "province", str(base / "province"), dict(os.environ))
                finally:
                    if not args.keep:
                        benchdb.drop_database(name)
                    os.environ["DATABASE_URL"] = saved
                ok &= bool(result and result["same_figures"])
                if result:
                    _report(result, 10)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

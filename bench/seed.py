"""Seed a district on SQLite and report residents per second and peak memory.

    python bench/seed.py [--region 18.09] [--residents N]

The reference, measured in the same run, is a bare `sqlite3.executemany` of the same
number of rows of the same width into an equivalent table with the same indexes: the
ratio tells how close the seeder (generation + ORM + constraints) comes to the cost of
writing the rows alone.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def reference_insert(n: int, directory: Path) -> float:
    """Insert n resident-sized rows with plain sqlite3; return seconds."""
    db = sqlite3.connect(directory / "reference.sqlite3")
    db.executescript(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        "CREATE TABLE r (id TEXT PRIMARY KEY, nik TEXT UNIQUE, name TEXT, birth_place TEXT,"
        " birth_date TEXT, sex TEXT, marital TEXT, religion TEXT, occupation TEXT, mother TEXT,"
        " region TEXT, rt TEXT, rw TEXT, street TEXT, kec TEXT, kab TEXT, prov TEXT, phone TEXT,"
        " status TEXT, recorded TEXT, family TEXT);"
        "CREATE INDEX r_name ON r(name); CREATE INDEX r_kab ON r(kab, name);"
        "CREATE INDEX r_status ON r(region, status); CREATE INDEX r_rec ON r(recorded);"
        "CREATE INDEX r_kec ON r(kec); CREATE INDEX r_kab2 ON r(kab); CREATE INDEX r_prov ON r(prov);"
        "CREATE INDEX r_st ON r(status); CREATE INDEX r_fam ON r(family);"
    )
    started = time.perf_counter()
    batch = []
    for i in range(n):
        batch.append(
            (
                f"{i:032x}",
                f"{1809010000000000 + i}",
                f"NAMA PENDUDUK {i}",
                "GEDONG TATAAN",
                "1990-01-01",
                "L",
                "kawin",
                "islam",
                "PETANI/PEKEBUN",
                "NAMA IBU",
                "18.09.01.2001",
                "001",
                "002",
                "DUSUN I",
                "18.09.01",
                "18.09",
                "18",
                "081234567890",
                "CARD_ISSUED",
                "2015-01-01",
                f"{i // 4:032x}",
            )
        )
        if len(batch) == 5000:
            with db:
                db.executemany("INSERT INTO r VALUES (" + ",".join("?" * 21) + ")", batch)
            batch.clear()
    if batch:
        with db:
            db.executemany("INSERT INTO r VALUES (" + ",".join("?" * 21) + ")", batch)
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--region", default="18.09")
    parser.add_argument("--residents", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ektp-bench-") as tmp:
        env = {**os.environ, "EKTP_VAR_DIR": tmp, "DJANGO_SETTINGS_MODULE": "ektp.settings"}
        env.pop("DATABASE_URL", None)
        ektp = [sys.executable, "-m", "ektp"]
        subprocess.run([*ektp, "migrate", "-v", "0"], env=env, check=True)
        subprocess.run([*ektp, "regions", "load"], env=env, check=True, stdout=subprocess.DEVNULL)
        cmd = [*ektp, "seed", "--region", args.region, "--seed", "42", "--no-progress"]
        if args.residents is not None:
            cmd += ["--residents", str(args.residents)]
        started = time.perf_counter()
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
        seed_seconds = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        n = int(out.split()[0])
        ref_seconds = reference_insert(n, Path(tmp))
    print(out.strip())
    print(
        f"seed:      {n:,} residents in {seed_seconds:.1f} s = {n / seed_seconds:,.0f} residents/s "
        f"(whole command, Django start included); peak RSS {peak_mb:,.0f} MB"
    )
    print(
        f"reference: bare sqlite3 executemany of {n:,} rows in {ref_seconds:.1f} s "
        f"= {n / ref_seconds:,.0f} rows/s"
    )
    print(
        f"ratio:     seeder takes {seed_seconds / ref_seconds:.1f}x the bare insert time; "
        f"cores: {os.cpu_count()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

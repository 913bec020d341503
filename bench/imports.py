"""Import a KPU voter list against a seeded district; report rows per second beside a bare
bulk insert of the same rows, measured in the same run.

    python bench/imports.py [--residents N] [--rows 100000] [--typos 0.005]

The district (Kabupaten Pesawaran, 18.09) is seeded first, at --residents people (its real
501,047 when 0). The voter list holds --rows lines: the district's residents aged 17 or more
by polling day, each by NIK, and a share (--typos) whose NIK has a typo and so is matched by
the penunggalan's demographic model instead; if the district has fewer adults than --rows,
the rest are voters the registry does not know. The import is the whole path a head of office
takes: read and check every line, match, stage the rows (`stage_import`), then apply them in
one transaction (`apply_import`).

The reference is the same rows, already matched, written into the same voters table with the
DB-API's executemany in one transaction: the cost of storing the rows alone. On SQLite by
default; with DATABASE_URL pointing at a PostgreSQL server, in a fresh database there.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchdb

DB_NAME = "ektp_bench_imports"
POLLING_DAY = dt.date(2027, 11, 24)


def _voter_file(residents, rows: int, typos: float, rng: random.Random) -> bytes:
    import csv
    import io

    from ektp.residents.models import years_ago

    adults = [r for r in residents if r[3] <= years_ago(POLLING_DAY, 17)]
    rng.shuffle(adults)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(
        ["nik", "nama", "tempat_lahir", "tanggal_lahir", "jenis_kelamin", "kode_desa", "tps"]
    )
    for i in range(rows):
        if i < len(adults):
            nik, name, place, born, sex, village = adults[i]
            if rng.random() < typos:  # a typo in the NIK: one digit of the serial changed
                nik = nik[:12] + f"{(int(nik[12:]) + 5000) % 10000:04d}".replace("0000", "0001")
        else:
            nik = f"180901{rng.randint(1, 28):02d}{rng.randint(1, 12):02d}{rng.randint(0, 99):02d}{rng.randint(1, 9999):04d}"
            name, place, born, sex, village = (
                "PEMILIH LUAR",
                "",
                dt.date(1980, 1, 1),
                "L",
                "18.09.01.2001",
            )
        writer.writerow([nik, name, place, born.isoformat(), sex, village, f"{i % 400 + 1:03d}"])
    return buffer.getvalue().encode("utf-8")


def _reference_insert(election_id, staged_rows) -> float:
    """Write the same rows, already matched, with executemany in one transaction."""
    from django.db import connection, transaction

    from ektp.partners.models import Voter

    table = Voter._meta.db_table
    sql = (
        f"INSERT INTO {table} (election_id, nik, name, birth_date, village_id, tps, resident_id,"
        " standing, resolved_note) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, '')"
    )
    election = election_id.hex if connection.vendor == "sqlite" else election_id
    params = [
        (
            election,
            d["nik"],
            d["nama"],
            d["tanggal_lahir"],
            d["kode_desa"],
            d["tps"],
            (rid.hex if connection.vendor == "sqlite" else rid) if rid else None,
            "resident" if rid else "unknown",
        )
        for d, rid in staged_rows
    ]
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(params), 5000):
            cursor.executemany(sql, params[start : start + 5000])
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=150_000, help="0: the real 501,047")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--typos", type=float, default=0.005)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ektp-bench-") as tmp:
        os.environ["EKTP_VAR_DIR"] = tmp
        benchdb.migrated_django(DB_NAME)
        from django.core.management import call_command
        from django.db import connection

        from ektp.core.models import Role
        from ektp.core.services import create_staff_user
        from ektp.partners import selectors, services
        from ektp.regions.models import Region
        from ektp.residents.models import Resident

        seed = ["seed", "--region", "18.09", "--seed", "42", "--no-progress"]
        if args.residents:
            seed += ["--residents", str(args.residents)]
        started = time.perf_counter()
        with open(os.devnull, "w") as quiet:
            call_command(*seed, stdout=quiet)
        seeded = Resident.objects.count()
        print(
            f"seeded {seeded:,} residents of 18.09 in {time.perf_counter() - started:.0f} s ({connection.vendor})"
        )

        head = create_staff_user(
            username="kadis-bench",
            password="kata-sandi-bench-2026",
            role=Role.SUPERVISOR,
            region=Region.objects.get(code="18.09"),
        )
        people = list(
            Resident.objects.values_list(
                "nik", "name", "birth_place", "birth_date", "sex", "address_region_id"
            )
        )
        content = _voter_file(people, args.rows, args.typos, random.Random(42))
        election = services.create_election(
            actor=head, kabkota_code="18.09", name="Pilkada bench", polling_day=POLLING_DAY
        )

        started = time.perf_counter()
        staged = services.stage_import(
            actor=head,
            kind="kpu",
            kabkota_code="18.09",
            file_name="dpt.csv",
            content=content,
            election=election,
        )
        stage_seconds = time.perf_counter() - started
        started = time.perf_counter()
        services.apply_import(actor=head, partner_import=staged)
        apply_seconds = time.perf_counter() - started
        counts = selectors.preview(staged).counts
        rows = list(staged.rows.exclude(match="invalid").values_list("data", "resident_id"))

        other = services.create_election(
            actor=head, kabkota_code="18.09", name="Referensi", polling_day=POLLING_DAY
        )
        ref_seconds = _reference_insert(other.pk, rows)
        benchdb_name = DB_NAME if connection.vendor == "postgresql" else None
        connection.close()
    if benchdb_name:
        benchdb.drop_database(benchdb_name)

    n, total = args.rows, stage_seconds + apply_seconds
    print(
        f"voter rows: {n:,}; matched by NIK {counts['nik']:,}, by dedup {counts['dedup']:,}, "
        f"unknown {counts['none']:,}, elsewhere {counts['elsewhere']:,}, bad {counts['invalid']:,}"
    )
    print(
        f"import:    {total:.1f} s = {n / total:,.0f} rows/s "
        f"(check + match + stage {stage_seconds:.1f} s = {n / stage_seconds:,.0f} rows/s; "
        f"apply {apply_seconds:.1f} s = {n / apply_seconds:,.0f} rows/s)"
    )
    print(
        f"reference: bare executemany of the same {len(rows):,} rows in {ref_seconds:.2f} s "
        f"= {len(rows) / ref_seconds:,.0f} rows/s"
    )
    print(
        f"ratio:     the import takes {total / ref_seconds:.1f}x the bare insert; cores: {os.cpu_count()}"
    )
    with open("/proc/loadavg") as load:
        print(f"load:      {load.read().strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

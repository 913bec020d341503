"""Time concurrent card printing against the blank ledger.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/cards.py \
        [--operators 4] [--residents 10000] [--blanks 9000]

Builds a throwaway database (PostgreSQL `ektp_bench_ledger` when DATABASE_URL
points at a server, otherwise a temporary SQLite file), seeds one office with
one service point holding `--blanks` blanks and `--residents` PRR residents, and
lets `--operators` threads call `print_card` until the queue is empty. Every
print reserves its blank in one short transaction (locks the resident, takes the
lowest free serial with SELECT … FOR UPDATE SKIP LOCKED, checks rationing, writes
the reservation), calls the printer with no transaction open, then confirms in a
second transaction: the card, the blank, the consumption entry and its serial
line, the status history and the audit row.

Reference, measured in the same run with the same threads: a bare
`UPDATE counter SET n = n - 1 WHERE n > 0 RETURNING n`, one row, one
transaction per blank — the cheapest possible "take one from stock", which
keeps no serials and no history. Afterwards the ledger is checked: no serial
used twice and receipts − consumption = blanks still in stock.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import queue
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchdb import drop_database, migrated_django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
BENCH_DB = "ektp_bench_ledger"


class NullPrinter:
    """Print nothing: the benchmark measures the ledger, not PDF drawing."""

    def print_card(self, face) -> str:
        return ""


def run_threads(n: int, work) -> float:
    barrier = threading.Barrier(n + 1)
    threads = [threading.Thread(target=work, args=(barrier,)) for _ in range(n)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--operators", type=int, default=4)
    parser.add_argument("--residents", type=int, default=10_000)
    parser.add_argument("--blanks", type=int, default=9_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ektp-bench-ledger-") as tmp:
        os.environ.update(EKTP_VAR_DIR=tmp, DJANGO_SETTINGS_MODULE="ektp.settings")
        migrated_django(BENCH_DB)
        from django.db import connection, transaction

        from ektp.cards import services
        from ektp.cards.models import Blank, CardPolicy, CardPrint, LedgerEntry, LedgerLine
        from ektp.core.models import Role
        from ektp.core.services import create_staff_user
        from ektp.offices.models import Device, Office, ServicePoint
        from ektp.regions.models import Region
        from ektp.residents.models import KtpStatus, Resident
        from ektp.residents.nik import make_nik

        vendor = connection.vendor
        office = Office.objects.create(region_id="18.09", name="Disdukcapil Kabupaten Pesawaran")
        point = ServicePoint.objects.create(
            office=office, kind="upt", code="UPT01", name="UPT Gedong Tataan", region_id="18.09.01"
        )
        Device.objects.create(service_point=point, kind="card_printer", serial_number="PRN-1")
        # Lead time of one day: the shortage check runs on every print but allows the whole stock.
        CardPolicy.objects.create(office=office, lead_time_days=1)
        operator = create_staff_user(
            username="operator-bench",
            password="kata-sandi-bench-2026",
            role=Role.OPERATOR,
            region=Region.objects.get(code="18.09"),
        )
        first = 180926_000000 + 1
        services.receive_blanks(
            office=office,
            serial_first=str(first),
            serial_last=str(first + args.blanks - 1),
            source="ministry",
            reference="BENCH-1",
            actor=operator,
        )
        services.transfer_blanks(
            office=office, from_point=None, to_point=point, quantity=args.blanks, actor=operator
        )
        residents = []
        for i in range(args.residents):
            birth = dt.date(1980, 1, 1) + dt.timedelta(days=i % 3000)
            residents.append(
                Resident(
                    nik=make_nik(
                        kecamatan_code="18.09.01", birth_date=birth, sex="L", serial=i // 3000 + 1
                    ),
                    name=f"PENDUDUK BENCH {i}",
                    birth_place="PESAWARAN",
                    birth_date=birth,
                    sex="L",
                    religion="islam",
                    mother_name="IBU BENCH",
                    address_region_id="18.09.01.2001",
                    kecamatan_code="18.09.01",
                    kabkota_code="18.09",
                    province_code="18",
                    rt="001",
                    rw="001",
                    ktp_status=KtpStatus.PRINT_READY_RECORD,
                    recorded_on=dt.date(2025, 1, 6),
                )
            )
        Resident.objects.bulk_create(residents, batch_size=2000)
        todo: queue.Queue = queue.Queue()
        for r in Resident.objects.order_by("nik").only("pk"):
            todo.put(r)
        connection.close()

        printed, refused, errors = [], [], []

        def operator_work(barrier):
            try:
                barrier.wait()
                printer = NullPrinter()
                while True:
                    try:
                        resident = todo.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        services.print_card(
                            request_or_resident=resident,
                            service_point=point,
                            printer=printer,
                            operator=operator,
                        )
                        printed.append(1)
                    except services.NoBlankInStock:
                        refused.append(1)
                    except Exception as exc:
                        errors.append(repr(exc))
            finally:
                connection.close()

        ours_s = run_threads(args.operators, operator_work)

        with connection.cursor() as cur:
            cur.execute("CREATE TABLE bench_counter (id integer PRIMARY KEY, n integer NOT NULL)")
            cur.execute("INSERT INTO bench_counter VALUES (1, %s)", [args.blanks])
        connection.close()
        taken = []
        attempts: queue.Queue = queue.Queue()
        for _ in range(args.residents):
            attempts.put(1)

        def reference_work(barrier):
            try:
                barrier.wait()
                while True:
                    try:
                        attempts.get_nowait()
                    except queue.Empty:
                        return
                    with transaction.atomic(), connection.cursor() as cur:
                        cur.execute(
                            "UPDATE bench_counter SET n = n - 1 WHERE id = 1 AND n > 0 RETURNING n"
                        )
                        if cur.fetchone() is not None:
                            taken.append(1)
            finally:
                connection.close()

        ref_s = run_threads(args.operators, reference_work)

        cards = CardPrint.objects.count()
        distinct = CardPrint.objects.values("blank").distinct().count()
        consumption_lines = LedgerLine.objects.filter(entry__kind="consumption").count()
        distinct_lines = (
            LedgerLine.objects.filter(entry__kind="consumption").values("blank").distinct().count()
        )
        received = LedgerLine.objects.filter(entry__kind="receipt").count()
        in_stock = Blank.objects.filter(state=Blank.State.IN_STOCK).count()
        consumed = sum(
            LedgerEntry.objects.filter(kind="consumption").values_list("quantity", flat=True)
        )
        balanced = received - consumed == in_stock
        connection.close()
        if vendor == "postgresql":
            drop_database(BENCH_DB)

    ok = (
        not errors
        and cards == min(args.blanks, args.residents)
        and distinct == cards
        and distinct_lines == consumption_lines
        and balanced
    )
    print(
        f"database: {vendor}; {args.operators} operators; {args.residents:,} PRR residents; "
        f"{args.blanks:,} blanks at one point"
    )
    print(
        f"ektp print_card (ledger, serial, status history, audit): {len(printed):,} cards in "
        f"{ours_s:.2f} s = {len(printed) / ours_s:,.0f} cards/s; "
        f"{len(refused):,} refused NoBlankInStock; {len(errors)} other errors"
    )
    print(
        f"reference bare UPDATE … RETURNING of one counter row: {len(taken):,} in {ref_s:.2f} s "
        f"= {len(taken) / ref_s:,.0f} ops/s"
    )
    print(f"ratio: ektp is {ref_s / len(taken) * len(printed) / ours_s:.3f}x the reference speed")
    print(
        f"double-used serials: {cards - distinct}; consumption lines {consumption_lines:,} "
        f"(distinct {distinct_lines:,}); ledger balance received {received:,} − consumed "
        f"{consumed:,} = in stock {in_stock:,}: {'exact' if balanced else 'WRONG'}"
    )
    for e in errors[:5]:
        print("error:", e)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

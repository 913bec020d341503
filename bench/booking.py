"""Time a burst of online bookings across one day's windows, as when an invitation goes out.

    [DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres] python bench/booking.py \
        [--residents 5000] [--threads 8]

Builds a throwaway database (PostgreSQL `ektp_bench_booking` when DATABASE_URL points
at a server, otherwise a temporary SQLite file), seeds one service point open 08:00–16:00
two days ahead with room for exactly `--residents` people in 8 hourly windows, and lets
`--threads` threads book one resident each until all have booked, spreading them over the
windows. Each booking runs the whole service: the calendar check, the one-active-booking
rule, the conditional UPDATE on the window row, the booking row with its code.

Reference, measured in the same run with the same threads and residents: the bare
conditional `UPDATE window SET booked = booked + 1 WHERE id = %s AND booked < capacity`
in its own transaction — the cheapest way to take a place, with no rules and no record.
Afterwards the windows are checked: booked = bookings = capacity and no queue number twice.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import queue
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchdb import drop_database, migrated_django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
BENCH_DB = "ektp_bench_booking"


def burst(threads: int, jobs: list, work) -> tuple[float, list[float], list[str]]:
    """Run work(job) for every job on `threads` threads; return wall time, latencies, errors."""
    from django.db import connection

    todo: queue.Queue = queue.Queue()
    for job in jobs:
        todo.put(job)
    latencies: list[float] = []
    errors: list[str] = []
    barrier = threading.Barrier(threads + 1)

    def run():
        try:
            barrier.wait()
            while True:
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    return
                started = time.perf_counter()
                try:
                    work(job)
                except Exception as exc:
                    errors.append(repr(exc))
                latencies.append(time.perf_counter() - started)
        finally:
            connection.close()

    pool = [threading.Thread(target=run) for _ in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in pool:
        t.join()
    return time.perf_counter() - started, latencies, errors


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    postgres = url.startswith("postgres")
    threads = args.threads or (8 if postgres else 1)
    with tempfile.TemporaryDirectory(prefix="ektp-bench-booking-") as tmp:
        os.environ.update(EKTP_VAR_DIR=tmp, DJANGO_SETTINGS_MODULE="ektp.settings")
        migrated_django(BENCH_DB)
        from django.db import connection, transaction
        from django.utils import timezone

        from ektp.appointments import services
        from ektp.appointments.models import Booking, TimeWindow
        from ektp.offices.models import Device, Office, ServicePoint, SpecialDay
        from ektp.residents.models import Resident
        from ektp.residents.nik import make_nik

        vendor = connection.vendor
        office = Office.objects.create(region_id="18.09", name="Disdukcapil Kabupaten Pesawaran")
        day = timezone.localdate() + dt.timedelta(days=2)

        def make_point(code: str) -> ServicePoint:
            point = ServicePoint.objects.create(
                office=office,
                kind="upt",
                code=code,
                name=f"UPT {code}",
                per_kit_daily_throughput=args.residents,
            )
            Device.objects.create(
                service_point=point, kind="recording_kit", serial_number=f"KIT-{code}"
            )
            SpecialDay.objects.create(
                office=office,
                service_point=point,
                day=day,
                is_open=True,
                opens_at=dt.time(8),
                closes_at=dt.time(16),
                reason="Bench",
            )
            return point

        ours_point, ref_point = make_point("BENCH"), make_point("REF")
        ours_windows = services.windows_for(point=ours_point, day=day)
        ref_windows = services.windows_for(point=ref_point, day=day)
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
                )
            )
        Resident.objects.bulk_create(residents, batch_size=2000)
        people = list(Resident.objects.order_by("nik"))
        connection.close()

        def book(i: int) -> None:
            window = ours_windows[i % len(ours_windows)]
            try:
                services.book(resident=people[i], window=window)
            except services.WindowFull:
                for other in ours_windows:
                    try:
                        services.book(resident=people[i], window=other)
                        return
                    except services.WindowFull:
                        continue
                raise

        table = TimeWindow._meta.db_table

        def take(i: int) -> None:
            ids = [ref_windows[(i + k) % len(ref_windows)].pk for k in range(len(ref_windows))]
            for pk in ids:
                with transaction.atomic(), connection.cursor() as cur:
                    cur.execute(
                        f"UPDATE {table} SET booked = booked + 1, issued = issued + 1 "
                        "WHERE id = %s AND booked < capacity",
                        [pk.hex if vendor == "sqlite" else pk],
                    )
                    if cur.rowcount:
                        return
            raise RuntimeError("no place left")

        jobs = list(range(args.residents))
        ours_s, ours_lat, ours_err = burst(threads, jobs, book)
        ref_s, ref_lat, ref_err = burst(threads, jobs, take)

        windows = list(TimeWindow.objects.filter(service_point=ours_point))
        bookings = Booking.objects.filter(window__service_point=ours_point)
        numbers = bookings.values("window", "queue_number").distinct().count()
        ok = (
            not ours_err
            and not ref_err
            and sum(w.booked for w in windows) == bookings.count() == args.residents
            and all(w.booked <= w.capacity for w in windows)
            and numbers == bookings.count()
        )
        connection.close()
        if postgres:
            drop_database(BENCH_DB)

    print(
        f"database: {vendor}; {threads} threads; {args.residents:,} residents; "
        f"{len(ours_windows)} windows on {day}"
    )
    print(
        f"ektp book (rules, conditional UPDATE, booking row): {len(ours_lat):,} in {ours_s:.2f} s "
        f"= {len(ours_lat) / ours_s:,.0f} bookings/s; p50 {pct(ours_lat, 0.5):.2f} ms, "
        f"p99 {pct(ours_lat, 0.99):.2f} ms; {len(ours_err)} errors"
    )
    print(
        f"reference bare conditional UPDATE: {len(ref_lat):,} in {ref_s:.2f} s "
        f"= {len(ref_lat) / ref_s:,.0f} ops/s; p50 {pct(ref_lat, 0.5):.2f} ms, "
        f"p99 {pct(ref_lat, 0.99):.2f} ms"
    )
    print(
        f"ratio: ektp takes {ref_s and ours_s / ref_s:.1f}× the reference's time "
        f"(median latency {statistics.median(ours_lat) / statistics.median(ref_lat):.1f}×)"
    )
    print("check:", "capacity kept, no queue number twice" if ok else "FAILED")
    if ours_err or ref_err:
        print("first errors:", (ours_err + ref_err)[:3])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

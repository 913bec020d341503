"""Time penunggalan: iris identify through the service layers, and the demographic dedup.

Usage: python bench/penunggalan.py [--n 100000] [--probes 21] [--residents 400000] [--seed 1]
       [--only identify|demographic]

Identify: the bare gallery, the in-process ``LocalAbis`` and ``RemoteAbis`` over HTTP to
``make_server`` on the same machine, all on one synthetic gallery. Demographic: a synthetic
district with 1 % planted second records (``dedup.planting`` at its documented rates: typos,
dropped or reordered name parts, titles, day/month swaps, a missing mother, a move) and 1 %
siblings (same mother, birth place and address, other first name and birth date); trains the
model on it as ``ektp dedup train`` does, then prints, for the untrained fallback and the trained
model, the scan time, pairwise precision and recall on the planted pairs, and the time of one
new record checked against its candidates. The scan prints its phases (normalise and build the table,
load into DuckDB, Splink's blocking and scoring, clustering) and a reference measured in the same
run: a plain DuckDB self-join on the same blocking rules, which forms the pairs without scoring
them. A benchmark, not a timed test.
"""

import argparse
import dataclasses
import datetime as dt
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

from ektp.abis import synthetic  # noqa: E402
from ektp.abis.client import RemoteAbis  # noqa: E402
from ektp.abis.service import LocalAbis, make_server  # noqa: E402
from ektp.dedup import demographic, planting  # noqa: E402

FIRST = [
    "ADI",
    "AGUS",
    "AHMAD",
    "AINUN",
    "ANDI",
    "ANISA",
    "AYU",
    "BAMBANG",
    "BAYU",
    "BUDI",
    "CAHYO",
    "CITRA",
    "DANI",
    "DEDI",
    "DEWI",
    "DIAN",
    "DINA",
    "EKA",
    "EKO",
    "ELI",
    "ERNA",
    "FAJAR",
    "FARID",
    "FITRI",
    "GILANG",
    "HADI",
    "HANI",
    "HENDRA",
    "IKA",
    "INDAH",
    "IRFAN",
    "JOKO",
    "KARTINI",
    "KURNIA",
    "LINA",
    "LUKMAN",
    "MAYA",
    "MEGA",
    "MUHAMMAD",
    "NANDA",
    "NINA",
    "NOVI",
    "NURUL",
    "OKTA",
    "PUTRI",
    "RATNA",
    "RINA",
    "RIZKY",
    "RUDI",
    "SARI",
    "SETIA",
    "SITI",
    "SRI",
    "SUSI",
    "TEGUH",
    "TRI",
    "UMAR",
    "VINA",
    "WAHYU",
    "WATI",
    "WULAN",
    "YOGA",
    "YUDI",
    "ZAHRA",
]
LAST = [
    "PRATAMA",
    "LESTARI",
    "HIDAYAT",
    "WIJAYA",
    "SANTOSO",
    "RAHAYU",
    "KURNIAWAN",
    "SETIAWAN",
    "PURNAMA",
    "HASIBUAN",
    "SIREGAR",
    "NASUTION",
    "SAPUTRA",
    "MAHARANI",
    "SUSANTO",
    "WIBOWO",
    "GUNAWAN",
    "HARAHAP",
    "LUBIS",
    "FITRIANI",
    "SARAGIH",
    "SIMANJUNTAK",
    "PANGESTU",
    "HANDAYANI",
    "RAMADHAN",
    "FIRMANSYAH",
    "ANGGRAINI",
    "SUGIARTO",
]
PLACES = "GEDONG TATAAN|PESAWARAN|BANDAR LAMPUNG|METRO|PRINGSEWU|KALIANDA|TEGINENENG|PADANG CERMIN"


def median(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def identify(args) -> None:
    population = synthetic.make_population(args.n, seed=args.seed)
    abis = LocalAbis(None)
    gallery = abis.gallery()
    for index, record in enumerate(population):
        gallery.insert(f"S{index:08d}", record.tobytes())
    probes = [population[i].tobytes() for i in range(0, args.n, max(1, args.n // args.probes))]
    server = make_server(abis)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    remote = RemoteAbis(server.url)
    layers = {
        "bare gallery": gallery.identify,
        "LocalAbis": abis.identify,
        "RemoteAbis over HTTP": remote.identify,
    }
    timings: dict[str, list[float]] = {name: [] for name in layers}
    for search in layers.values():
        search(probes[0])
    for probe in probes:
        for name, search in layers.items():
            timings[name].append(median(lambda p=probe, s=search: s(p), 3))
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"identify on {args.n:,} templates, {len(probes)} probes, layers interleaved "
        f"(median per search; load {load} on {os.cpu_count()} cores):"
    )
    bare = statistics.median(timings["bare gallery"])
    for name, times in timings.items():
        seconds = statistics.median(times)
        print(
            f"  {name:22} {seconds * 1000:8.2f} ms  {1 / seconds:8.1f} /s  "
            f"x{seconds / bare:.2f} of bare"
        )
    server.shutdown()
    server.server_close()
    abis.close()


VILLAGES = [f"18.09.{k:02d}.{2000 + d}" for k in range(1, 12) for d in range(1, 15)]
STREETS = ["DUSUN I", "DUSUN II", "DUSUN III", "DUSUN IV", "JL RAYA", "JL PEMUDA", "GG MAWAR"]


def district(count: int, rng: random.Random):
    """Return a synthetic district: residents, 1 % planted second records, 1 % siblings.

    Second records come from ``dedup.planting.plant`` at its documented rates (typos, dropped or
    reordered name parts, titles, day/month swaps, a missing mother, a move). A sibling shares
    the mother, birth place and household address, with another first name, birth date and phone.
    """
    people, planted, siblings = [], set(), set()
    changes: dict[str, int] = {}
    start = dt.date(1945, 1, 1)
    for index in range(count):
        people.append(
            demographic.Person(
                id=f"R{index}",
                name=f"{rng.choice(FIRST)} {rng.choice(FIRST)} {rng.choice(LAST)}",
                mother_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                birth_place=rng.choice(PLACES.split("|")),
                birth_date=start + dt.timedelta(days=rng.randrange(29000)),
                sex=rng.choice("LP"),
                desa=rng.choice(VILLAGES),
                rt=f"{rng.randint(1, 20):03d}",
                rw=f"{rng.randint(1, 8):03d}",
                street=f"{rng.choice(STREETS)} NO {rng.randint(1, 300)}",
                phone=f"08{rng.randrange(10**9, 10**10)}" if rng.random() < 0.6 else "",
            )
        )
    for index in rng.sample(range(count), count // 50):
        original = people[index]
        if len(planted) < count // 100:
            copy, applied = planting.plant(original, new_id=f"D{index}", rng=rng, villages=VILLAGES)
            for change in applied:
                changes[change] = changes.get(change, 0) + 1
            planted.add(frozenset((original.id, copy.id)))
        else:
            copy = dataclasses.replace(
                original,
                id=f"B{index}",
                name=f"{rng.choice(FIRST)} {original.name.split(' ')[-1]}",
                birth_date=original.birth_date + dt.timedelta(days=400 + rng.randrange(3000)),
                sex=rng.choice("LP"),
                phone=f"08{rng.randrange(10**9, 10**10)}" if rng.random() < 0.6 else "",
            )
            siblings.add(frozenset((original.id, copy.id)))
        people.append(copy)
    return people, planted, siblings, changes


def reference_join(table, rules) -> tuple[float, int]:
    """Time a plain DuckDB self-join on the scan's blocking rules (no scoring); return (s, pairs)."""
    import duckdb

    con = duckdb.connect()
    try:
        con.register("people_arrow", table)
        con.execute("create table people as select * from people_arrow")
        joins = " union ".join(
            f"select l.unique_id, r.unique_id from people l join people r "
            f"on ({rule}) and l.unique_id < r.unique_id"
            for rule in rules
        )
        started = time.perf_counter()
        pairs = con.execute(f"select count(*) from ({joins})").fetchone()[0]
        return time.perf_counter() - started, pairs
    finally:
        con.close()


def _scan(rows, model, planted, siblings, label: str, load: str) -> dict[str, float]:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    pairs = demographic.find_pairs(rows, model=model, timings=timings)
    clustered = time.perf_counter()
    groups = demographic.clusters(pairs)
    timings["cluster"] = time.perf_counter() - clustered
    seconds = time.perf_counter() - started
    found = {frozenset((p.left, p.right)) for p in pairs}
    true = found & planted
    precision = len(true) / len(found) if found else 1.0
    recall = len(true) / len(planted) if planted else 1.0
    print(
        f"  {label}: scan of {len(rows):,} records {seconds:.1f} s, {len(found):,} pairs in "
        f"{len(groups):,} clusters; precision {precision:.4f}, recall {recall:.4f}; siblings "
        f"linked: {len(found & siblings)} of {len(siblings)} (load {load})"
    )
    print("    " + ", ".join(f"{name} {value:.2f} s" for name, value in timings.items()))
    timings["total"] = seconds
    return timings


def _load() -> str:
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


def demographic_dedup(args) -> None:
    rng = random.Random(args.seed)
    people, planted, siblings, changes = district(args.residents, rng)
    rows = [p.row() for p in people]
    print(
        f"demographic dedup of a district of {len(people):,} records with {len(planted):,} planted "
        f"second records and {len(siblings):,} siblings ({os.cpu_count()} cores); changes on the "
        "planted records: "
        + ", ".join(f"{name} {count / len(planted):.2f}" for name, count in sorted(changes.items()))
    )
    started = time.perf_counter()
    training = demographic.train(rows, seed=args.seed)
    print(
        f"  training (as `ektp dedup train`): {time.perf_counter() - started:.1f} s, prior "
        f"{training.model.prior:.2e} (load {_load()})"
    )
    models = {"untrained fallback": demographic.default_model(), "trained": training.model}
    timings = {
        label: _scan(rows, m, planted, siblings, label, _load()) for label, m in models.items()
    }
    _, table = demographic._table(rows)
    reference, blocked = reference_join(table, training.model.blocking)
    scored = timings["trained"]
    print(
        f"  reference: plain DuckDB self-join on the trained model's blocking rules, {blocked:,} "
        f"pairs in {reference:.2f} s; Splink block+score x{scored['predict'] / reference:.1f} of "
        f"it, whole scan x{scored['total'] / reference:.1f}"
    )
    by_date: dict[dt.date, list] = {}
    by_name: dict[str, list] = {}
    for person in people:
        by_date.setdefault(person.birth_date, []).append(person)
        by_name.setdefault(person.name, []).append(person)

    def candidates(probe):
        """What the service reads through its indexes: born the same day, or the same name."""
        found = {p.id: p for p in by_date[probe.birth_date] + by_name[probe.name]}
        found.pop(probe.id, None)
        return list(found.values())

    probes = rng.sample(people, 21)
    for label, model in models.items():
        demographic.match_one(probes[0], candidates(probes[0]), model=model)
        times = []
        for probe in probes:
            started = time.perf_counter()
            demographic.match_one(probe, candidates(probe), model=model)
            times.append(time.perf_counter() - started)
        print(
            f"  one new record checked, {label}: {statistics.median(times) * 1000:.0f} ms "
            f"(median of 21; load {_load()})"
        )


def main(argv: list[str] | None = None) -> None:
    """Run both benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="iris gallery size")
    parser.add_argument("--probes", type=int, default=21)
    parser.add_argument("--residents", type=int, default=400_000, help="district size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=("identify", "demographic"), default=None)
    args = parser.parse_args(argv)
    if args.only != "demographic":
        identify(args)
    if args.only != "identify":
        demographic_dedup(args)


if __name__ == "__main__":
    main()

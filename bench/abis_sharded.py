"""Time the sharded ABIS (Ray actors) against one gallery of the same subjects, in one run.

Usage: python bench/abis_sharded.py [--subjects 1000000] [--shards 4] [--searches 40]
                                    [--seed 1]
Smoke run: python bench/abis_sharded.py --subjects 50000 --searches 20

The run builds ``--subjects`` synthetic subjects (two eyes, 2048-bit code + mask each) and puts
the same subjects in one in-process gallery (``LocalAbis``, the scan on every core) and in a
``ShardedAbis`` of ``--shards`` Ray actors on this machine (each scanning its part on
cores / shards threads). Each probe (a recapture of a random subject, 7 rotations) is searched
one at a time, as an office's penunggalan asks. It prints, with the load average before and
after:

- searches per second and median ms per search of one gallery and of the shards;
- the ratio shards / one gallery (the price of the engine: fan-out, merge, actor calls;
  goal > 0.8);
- that every answer of the shards equals one gallery's (same top-5, same scores);
- the resident memory per template and the time to load the shards.

This is a benchmark, not a timed test; the machine may be shared.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

# Running a script puts bench/ first on sys.path, where sibling scripts would shadow packages.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

import numpy as np  # noqa: E402
import ray  # noqa: E402

from ektp.abis import iris, synthetic  # noqa: E402
from ektp.abis.service import LocalAbis  # noqa: E402
from ektp.abis.sharded import ShardedAbis  # noqa: E402


def load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def timed_searches(abis, probes: list[bytes]) -> tuple[list[float], list[dict]]:
    abis.identify(probes[0])  # warm the kernel and the actors
    times, answers = [], []
    for probe in probes:
        start = time.perf_counter()
        answer = abis.identify(probe)
        times.append(time.perf_counter() - start)
        answers.append(answer.to_dict())
    return times, answers


def report(name: str, times: list[float]) -> float:
    rate = len(times) / sum(times)
    print(
        f"{name}: {rate:.2f} searches/s, median {statistics.median(times) * 1e3:.1f} ms "
        f"per search ({len(times)} searches, 7 rotations)   load {load()}"
    )
    return rate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--searches", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    print(f"host: {cores} cores, load {load()}")
    print(f"subjects: {args.subjects:,} x {iris.TEMPLATE_BYTES} bytes, shards: {args.shards}")

    start = time.perf_counter()
    population = synthetic.make_population(args.subjects, seed=args.seed)
    ids = [f"S{index:09d}" for index in range(args.subjects)]
    rng = np.random.default_rng(args.seed + 1)
    chosen = rng.choice(args.subjects, size=args.searches, replace=False)
    probes = [
        synthetic.recapture(
            iris.IrisTemplate.from_bytes(population[index].tobytes()), rng
        ).to_bytes()
        for index in chosen
    ]
    print(f"population made in {time.perf_counter() - start:.1f} s")

    one = LocalAbis()
    one.gallery().insert_many(ids, population)
    one_times, one_answers = timed_searches(one, probes)
    one_rate = report("one gallery", one_times)
    one.close()
    del one

    ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False)
    try:
        start = time.perf_counter()
        sharded = ShardedAbis(args.shards, threads_per_shard=max(1, cores // args.shards))
        step = 200_000
        for first in range(0, args.subjects, step):
            sharded.insert_many(ids[first : first + step], population[first : first + step])
        print(
            f"{args.shards} shards started and loaded in {time.perf_counter() - start:.1f} s; "
            f"per shard: {[c['iris'] for c in sharded.shard_counts()]}"
        )
        del population
        shard_times, shard_answers = timed_searches(sharded, probes)
        shard_rate = report(f"{args.shards} shards", shard_times)
        sharded.close()
    finally:
        ray.shutdown()

    same = shard_answers == one_answers
    found = sum(
        a["match"] and a["candidates"][0]["subject_id"] == ids[i]
        for a, i in zip(one_answers, chosen, strict=True)
    )
    print(f"answers of the shards equal one gallery's: {same} ({len(probes)} probes)")
    print(f"planted mates found at top-1 with match: {found}/{len(probes)}")
    print(f"ratio shards / one gallery: {shard_rate / one_rate:.3f} (goal > 0.8)   load {load()}")
    gigabyte = 1 << 30
    print(
        f"templates per GB of gallery rows: {gigabyte // iris.TEMPLATE_BYTES:,} "
        f"(derived: {iris.TEMPLATE_BYTES} bytes per subject, both eyes, code + mask)"
    )


if __name__ == "__main__":
    main()

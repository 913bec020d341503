"""Time the ABIS iris search against a reference scan measured in the same run.

Usage: python bench/abis.py [--n 100000] [--probes 21] [--shifts 3] [--seed 1]

The reference is faiss ``IndexBinaryFlat`` (unmasked Hamming distance on the codes of both
eyes, one query per rotation) when faiss is importable, otherwise the same masked, normalised
computation vectorised in numpy (``np.bitwise_count`` over the whole gallery). Both absolute
figures and their ratio are printed; this is a benchmark, not a timed test.
"""

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

# Running a script puts bench/ first on sys.path, where sibling scripts (coverage.py) would
# shadow packages that numba imports.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

import numba  # noqa: E402
import numpy as np  # noqa: E402

from ektp.abis import iris, kernels, synthetic  # noqa: E402
from ektp.abis.gallery import Gallery  # noqa: E402
from ektp.abis.matchers import IrisMatcher  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    """Build a synthetic gallery, time searches and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="gallery size (subjects)")
    parser.add_argument("--probes", type=int, default=21, help="searches to time")
    parser.add_argument(
        "--shifts", type=int, default=iris.DEFAULT_SHIFTS, help="rotations each way"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    matcher = IrisMatcher(shifts=args.shifts)
    rotations = 2 * args.shifts + 1
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"cores: {os.cpu_count()} (numba threads: {numba.get_num_threads()}); load: {load}")

    started = time.perf_counter()
    population = synthetic.make_population(args.n, seed=args.seed)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    gallery = Gallery(matcher)
    for index, record in enumerate(population):
        gallery.insert(f"S{index:08d}", record.tobytes())
    inserted = time.perf_counter() - started
    print(
        f"gallery: {args.n:,} subjects x 2 eyes, {population.nbytes / 2**20:,.0f} MiB; "
        f"generated in {generated:.1f} s, inserted at {args.n / inserted:,.0f} /s"
    )

    rng = np.random.default_rng(args.seed + 1)
    mates = rng.choice(args.n, size=(args.probes + 1) // 2, replace=False)
    genuine = [
        synthetic.recapture(iris.IrisTemplate.from_bytes(population[i].tobytes()), rng).to_bytes()
        for i in mates
    ]
    strangers = synthetic.make_population(args.probes // 2, seed=args.seed + 2)
    probes = genuine + [s.tobytes() for s in strangers]

    gallery.identify(probes[0])
    wall, cpu, found, false_matches = [], [], 0, 0
    for position, probe in enumerate(probes):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = gallery.identify(probe)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        if position < len(mates):
            found += result.match and result.candidates[0].subject_id == f"S{mates[position]:08d}"
        else:
            false_matches += result.match
    print(
        f"decision: threshold {gallery.threshold():.4f}; genuine found {found}/{len(mates)}, "
        f"false matches {false_matches}/{len(strangers)}"
    )
    search = Timing(statistics.median(wall), statistics.median(cpu))
    report(f"ektp identify ({numba.get_num_threads()} threads)", search, args.n, rotations)

    records = population.view(np.uint64)
    alive = np.ones(args.n, dtype=np.bool_)
    rotated = iris.rotated_probes(probes[0], args.shifts)
    out = np.empty(args.n)
    serial = median_time(
        lambda: kernels.masked_hamming_scan_serial(
            records, alive, rotated, float(iris.REFERENCE_BITS), out
        ),
        repeats=5,
    )
    report("ektp kernel on one core", serial, args.n, rotations)
    print(f"  parallel speed-up (wall): {serial.wall / search.wall:.2f}x")

    references = [
        (
            "numpy bitwise_count (same masked computation)",
            numpy_reference(population, probes, matcher, args.shifts),
        )
    ]
    try:
        import faiss
    except ImportError:
        print("faiss: not importable, numpy is the reference")
    else:
        references.insert(
            0,
            (
                "faiss IndexBinaryFlat (both eyes' codes, no masks)",
                faiss_reference(faiss, population, probes, args.shifts),
            ),
        )
    for name, reference in references:
        report(name, reference, args.n, rotations)
    for name, reference in references:
        print(
            f"speed ratio ektp / {name.split(' (')[0]}: {reference.wall / search.wall:.2f} "
            f"(wall time), {reference.cpu / search.cpu:.2f} (CPU time)"
        )


class Timing(NamedTuple):
    """Hold a median wall time and a median CPU time (all threads), in seconds."""

    wall: float
    cpu: float


def report(name: str, timing: Timing, size: int, rotations: int) -> None:
    """Print one method's median search time and comparison rates."""
    print(
        f"{name}: median {timing.wall * 1e3:,.2f} ms per search "
        f"(CPU {timing.cpu * 1e3:,.2f} ms); {size / timing.wall:,.0f} templates/s = "
        f"{size * 2 * rotations / timing.wall:,.0f} eye comparisons/s "
        f"(x2 eyes x{rotations} rotations)"
    )


def median_time(run: Callable[[], object], *, repeats: int) -> Timing:
    """Return the median wall and CPU time of ``run`` after one warm-up call."""
    run()
    wall, cpu = [], []
    for _ in range(repeats):
        started, cpu_started = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return Timing(statistics.median(wall), statistics.median(cpu))


def numpy_reference(
    population: np.ndarray, probes: list[bytes], matcher: IrisMatcher, shifts: int
) -> Timing:
    """Time the masked, normalised scan in vectorised numpy and check it agrees with the kernel."""
    words = population.view(np.uint64).reshape(len(population), iris.EYES, 2, kernels.CODE_WORDS)
    codes, masks = words[:, :, 0], words[:, :, 1]

    def scan(probe: bytes) -> np.ndarray:
        rotated = iris.rotated_probes(probe, shifts).reshape(-1, iris.EYES, 2, kernels.CODE_WORDS)
        best = None
        for turn in rotated:
            both = masks & turn[:, 1]
            compared = np.bitwise_count(both).sum(axis=-1, dtype=np.int64)
            differing = np.bitwise_count((codes ^ turn[:, 0]) & both).sum(axis=-1, dtype=np.int64)
            distance = iris.normalised_distance(differing, compared, matcher.reference_bits)
            best = distance if best is None else np.minimum(best, distance)
        return best.mean(axis=-1)

    alive = np.ones(len(population), dtype=np.bool_)
    disagreement = np.abs(scan(probes[0]) - matcher.scan(probes[0], population, alive)).max()
    print(f"  numpy reference and kernel differ by at most {disagreement:.1e}")
    return median_time(lambda: scan(probes[1]), repeats=3)


def faiss_reference(faiss, population: np.ndarray, probes: list[bytes], shifts: int) -> Timing:
    """Time faiss's exhaustive binary search over both eyes' codes, one query per rotation."""
    parts = population.reshape(len(population), iris.EYES, 2, iris.CODE_BYTES)
    index = faiss.IndexBinaryFlat(iris.EYES * iris.CODE_BITS)
    index.add(np.ascontiguousarray(parts[:, :, 0]).reshape(len(population), -1))
    rotated = iris.rotated_probes(probes[1], shifts).view(np.uint8)
    queries = np.ascontiguousarray(
        rotated.reshape(-1, iris.EYES, 2, iris.CODE_BYTES)[:, :, 0]
    ).reshape(len(rotated), -1)
    return median_time(lambda: index.search(queries, 5), repeats=5)


if __name__ == "__main__":
    main()

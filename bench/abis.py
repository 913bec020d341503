"""Time the ABIS iris search against faiss, numpy and the memory floor, in one run.

Usage: python bench/abis.py [--n 1000000] [--impostors 10000] [--mates 100] [--shifts 3]
                            [--rounds 21] [--exhaustive-sample 640] [--seed 1]
Smoke run: python bench/abis.py --n 20000 --impostors 200

On a gallery of ``--n`` synthetic subjects (two eyes, 2048-bit code + mask each) with
``--mates`` planted genuine mates, the run prints:

- the headline, interleaved in one process: for ``--rounds`` rounds, one search each by our
  identify (2S+1 rotations, pruned), faiss ``IndexBinaryFlat`` over both eyes' codes (one
  query per rotation, no masks: it does less work than we do) and our exhaustive scan (every
  row scored, the reference path), each round on the next planted mate's probe. Printed: the
  median of the per-round ratios ours / faiss with its interquartile range and min-max (goal:
  median <= 0.5), the same for the exhaustive scan, and the median absolute times. Rounds
  alternate, so a change of load on a shared machine reaches both sides alike; the
  ratio is the figure to steer by, the absolute times are for the record;
- our search at one rotation; the floor (the best time to read the gallery once) and the
  bandwidth-bound search rate; the same masked computation in numpy on 100,000 templates;
- correctness: with all-ones masks and one rotation our top-1 against faiss's for 100 probes;
  every planted mate searched pruned and exhaustively (``identify_many``, top 5): the same
  answers, and each mate top-1 with match=True; the impostors (``--impostors`` people not in
  the gallery): the false-match count at the gallery's threshold and the lowest impostor
  score, from a pruned search of every impostor, and the first ``--exhaustive-sample`` of
  them searched exhaustively too, which must give the same answers.

The impostor figure. ``Gallery.identify_many`` answers many probes at once, reading the
gallery once per batch of 64 (``IDENTIFY_BATCH``); the time per search printed for it is the
batch throughput divided by the probes, the rate of a re-run of penunggalan over many records,
not the latency of one identify. It is there to count false matches on enough impostors
(10,000 at 1e-6 per search expects none); pruning makes it faster, and the exhaustive check
runs on a sample only, because the pruned and exhaustive answers are equal by construction
and tested to be (tests/abis/test_pruning.py).

Times are wall-clock; the host's load is printed first and last, as the machine may be
shared. This is a benchmark, not a timed test.
"""

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Running a script puts bench/ first on sys.path, where sibling scripts (coverage.py) would
# shadow packages that numba imports.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

import numba  # noqa: E402
import numpy as np  # noqa: E402
from numba import njit, prange  # noqa: E402

from ektp.abis import iris, kernels, synthetic  # noqa: E402
from ektp.abis.gallery import Gallery  # noqa: E402
from ektp.abis.matchers import IrisMatcher  # noqa: E402

NUMPY_TEMPLATES = 100_000
FAISS_CHECK_PROBES = 100


def main(argv: list[str] | None = None) -> None:
    """Build a synthetic gallery, time searches, check the answers and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="gallery size (subjects)")
    parser.add_argument("--impostors", type=int, default=10_000, help="impostor searches")
    parser.add_argument("--mates", type=int, default=100, help="planted genuine mates")
    parser.add_argument("--shifts", type=int, default=iris.DEFAULT_SHIFTS, help="each way")
    parser.add_argument("--rounds", type=int, default=21, help="interleaved timing rounds")
    parser.add_argument(
        "--exhaustive-sample", type=int, default=640, help="impostors also searched exhaustively"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    import faiss

    matcher = IrisMatcher(shifts=args.shifts)
    exhaustive = IrisMatcher(shifts=args.shifts, exhaustive=True)
    rotations = 2 * args.shifts + 1
    print(
        f"cores: {os.cpu_count()} (numba threads: {numba.get_num_threads()}, faiss threads: "
        f"{faiss.omp_get_max_threads()}); load average: {load_average()}"
    )

    started = time.perf_counter()
    population = synthetic.make_population(args.n, seed=args.seed)
    generated = time.perf_counter() - started
    ids = [f"S{index:08d}" for index in range(args.n)]
    gallery = Gallery(matcher)
    started = time.perf_counter()
    gallery.insert_many(ids, population)
    inserted = time.perf_counter() - started
    print(
        f"gallery: {args.n:,} subjects x 2 eyes, {population.nbytes / 2**20:,.0f} MiB; "
        f"generated in {generated:.1f} s, bulk-inserted in {inserted:.1f} s"
    )

    rng = np.random.default_rng(args.seed + 1)
    mates = rng.choice(args.n, size=min(args.mates, args.n), replace=False)
    genuine = [
        synthetic.recapture(iris.IrisTemplate.from_bytes(population[i].tobytes()), rng).to_bytes()
        for i in mates
    ]
    codes = np.ascontiguousarray(
        population.reshape(args.n, iris.EYES, 2, iris.CODE_BYTES)[:, :, 0]
    ).reshape(args.n, -1)
    index = faiss.IndexBinaryFlat(iris.EYES * iris.CODE_BITS)
    index.add(codes)

    # The headline: ours, faiss and our exhaustive scan, interleaved round by round.
    def ours(probe):
        return gallery.identify(probe)

    def reference(probe):
        return with_matcher(gallery, exhaustive, lambda: gallery.identify(probe))

    def faiss_search(probe):
        return index.search(code_queries(probe, args.shifts), 5)

    contenders = {"ours": ours, "faiss": faiss_search, "exhaustive": reference}
    for run in contenders.values():
        run(genuine[0])
    times = {name: [] for name in contenders}
    for round_ in range(args.rounds):
        probe = genuine[round_ % len(genuine)]
        for name, run in contenders.items():
            started = time.perf_counter()
            run(probe)
            times[name].append(time.perf_counter() - started)
    ours_time = statistics.median(times["ours"])
    faiss_time = statistics.median(times["faiss"])
    exhaustive_time = statistics.median(times["exhaustive"])
    ratio = np.array(times["ours"]) / np.array(times["faiss"])
    exhaustive_ratio = np.array(times["exhaustive"]) / np.array(times["faiss"])
    print(
        f"interleaved, {args.rounds} rounds of ours / faiss / exhaustive, {rotations} rotations "
        f"(load average now {load_average()}):"
    )
    print(
        f"  ektp identify (pruned): median {ours_time * 1e3:.1f} ms per search "
        f"(IQR {spread(times['ours'], 1e3)} ms) = {1 / ours_time:,.2f} searches/s"
    )
    print(
        f"  faiss IndexBinaryFlat, {rotations} queries (codes only, no masks): median "
        f"{faiss_time * 1e3:.1f} ms (IQR {spread(times['faiss'], 1e3)} ms)"
    )
    print(
        f"  ektp exhaustive scan (reference path): median {exhaustive_time * 1e3:.1f} ms "
        f"(IQR {spread(times['exhaustive'], 1e3)} ms)"
    )

    one_turn = IrisMatcher(shifts=0)
    alive = np.ones(args.n, dtype=np.bool_)
    ours_one = median_time(lambda: one_turn.search(genuine[:1], population, alive, 5), 7)
    print(
        f"ektp identify, 1 rotation: median {ours_one * 1e3:.1f} ms per search = "
        f"{1 / ours_one:,.2f} searches/s"
    )

    # Floor: read the gallery once.
    words = population.view(np.uint64)
    numpy_read = median_time(lambda: np.bitwise_or.reduce(words, axis=0), 5, best=True)
    numba_read = median_time(lambda: read_once(words), 5, best=True)
    floor = min(numpy_read, numba_read)
    bandwidth = population.nbytes / floor
    print(
        f"floor: read the gallery once in {floor * 1e3:.1f} ms (best of 5; numpy bitwise_or "
        f"on one core {numpy_read * 1e3:.1f} ms, numba on all cores {numba_read * 1e3:.1f} ms) "
        f"= {bandwidth / 1e9:.1f} GB/s; bandwidth-bound rate {1 / floor:,.2f} searches/s"
    )

    # The same masked computation vectorised in numpy, on part of the gallery.
    part = min(NUMPY_TEMPLATES, args.n)
    numpy_scores = numpy_scan(population[:part], genuine[0], matcher)
    agreement = np.abs(numpy_scores - matcher.scan(genuine[0], population[:part], alive[:part]))
    numpy_time = median_time(lambda: numpy_scan(population[:part], genuine[0], matcher), 3)
    numpy_rate = part / numpy_time
    print(
        f"numpy bitwise_count, {rotations} rotations, on {part:,} templates: median "
        f"{numpy_time * 1e3:.1f} ms = {numpy_rate:,.0f} templates/s (ours "
        f"{args.n / ours_time:,.0f} templates/s); agrees with the kernel to {agreement.max():.1e}"
    )

    print("ratios:")
    met = "met" if np.median(ratio) <= 0.5 else "NOT met"
    print(
        f"  ektp / faiss time ({rotations} rotations), median of {args.rounds} interleaved "
        f"rounds: {np.median(ratio):.3f} (IQR {spread(ratio)}, min-max {ratio.min():.3f}-"
        f"{ratio.max():.3f}); goal <= 0.5: {met}"
    )
    print(
        f"  ektp exhaustive / faiss time: {np.median(exhaustive_ratio):.3f} (IQR "
        f"{spread(exhaustive_ratio)}); pruned / exhaustive: "
        f"{np.median(np.array(times['ours']) / np.array(times['exhaustive'])):.3f}"
    )
    print(
        f"  ektp one rotation / bandwidth-bound rate: {floor / ours_one:.1%}; "
        f"{rotations} rotations (pruned): {floor / ours_time:.1%}"
    )
    print(
        f"  ektp / numpy bitwise_count templates per second: {args.n / ours_time / numpy_rate:.1f}"
    )

    # Correctness 1: all-ones masks, one rotation: our top-1 against faiss's.
    probes = min(FAISS_CHECK_PROBES, args.n)
    strangers = synthetic.make_population(probes, seed=args.seed + 3)
    unmasked = population.reshape(args.n, iris.EYES, 2, iris.CODE_BYTES).copy()
    unmasked[:, :, 1] = 0xFF
    unmasked = unmasked.reshape(args.n, -1)
    open_probes = strangers.reshape(probes, iris.EYES, 2, iris.CODE_BYTES).copy()
    open_probes[:, :, 1] = 0xFF
    open_probes = [probe.tobytes() for probe in open_probes.reshape(probes, -1)]
    our_rows, _ = one_turn.search(open_probes, unmasked, alive, 1)
    del unmasked
    faiss_distances, faiss_rows = index.search(
        np.stack([code_queries(probe, 0)[0] for probe in open_probes]), 1
    )
    same = int(np.sum(our_rows[:, 0] == faiss_rows[:, 0]))
    our_distances = hamming(
        codes[our_rows[:, 0]], np.stack([code_queries(p, 0)[0] for p in open_probes])
    )
    tied = int(
        np.sum((our_rows[:, 0] != faiss_rows[:, 0]) & (our_distances == faiss_distances[:, 0]))
    )
    print(
        f"check, all-ones masks, 1 rotation: top-1 equal to faiss's for {same}/{probes} probes"
        f"{f' ({tied} more at a tied Hamming distance)' if tied else ''}"
    )
    index.reset()  # frees faiss's copy of the codes
    del codes

    # Correctness 2: every planted mate, pruned and exhaustive.
    pruned_mates = gallery.identify_many(genuine)
    exhaustive_mates = with_matcher(gallery, exhaustive, lambda: gallery.identify_many(genuine))
    found = sum(
        result.match and result.candidates[0].subject_id == ids[mate]
        for mate, result in zip(mates, pruned_mates, strict=True)
    )
    same_top1 = sum(
        a.candidates[0] == b.candidates[0]
        for a, b in zip(pruned_mates, exhaustive_mates, strict=True)
    )
    same_answers = sum(a == b for a, b in zip(pruned_mates, exhaustive_mates, strict=True))
    worst_genuine = max(result.candidates[0].score for result in pruned_mates)
    print(
        f"check, planted mates: {found}/{len(mates)} found as top-1 with match=True; top-1 "
        f"equal to the exhaustive scan's for {same_top1}/{len(mates)} (whole top-5 answer "
        f"for {same_answers}/{len(mates)}); highest genuine score {worst_genuine:.4f}"
    )

    # Correctness 3: impostor searches, batched; every impostor pruned, a sample exhaustive.
    impostors = [
        probe.tobytes() for probe in synthetic.make_population(args.impostors, seed=args.seed + 2)
    ]
    started = time.perf_counter()
    results = gallery.identify_many(impostors, top_k=1)
    batched = time.perf_counter() - started
    false_matches = sum(result.match for result in results)
    lowest = min(result.candidates[0].score for result in results)
    sample = min(args.exhaustive_sample, args.impostors)
    started = time.perf_counter()
    checked = with_matcher(
        gallery, exhaustive, lambda: gallery.identify_many(impostors[:sample], top_k=1)
    )
    batched_exhaustive = time.perf_counter() - started
    agree = sum(a == b for a, b in zip(results[:sample], checked, strict=True))
    print(
        f"check, impostors: {false_matches} false matches in {args.impostors:,} searches at "
        f"threshold {gallery.threshold():.4f} (false-match rate {gallery.false_match_rate:g} per "
        f"search); lowest impostor score {lowest:.4f}; the first {sample:,} searched "
        f"exhaustively too: {agree}/{sample} identical answers "
        f"({sum(result.match for result in checked)} false matches)"
    )
    print(
        f"  batched identify_many (64 probes per pass over the gallery; throughput, not "
        f"latency): pruned {batched:.1f} s = {batched / args.impostors * 1e3:.1f} ms per "
        f"search; exhaustive {batched_exhaustive / max(sample, 1) * 1e3:.1f} ms per search "
        f"(single identify, pruned: {ours_time * 1e3:.1f} ms)"
    )
    print(f"load average at the end: {load_average()}")


def load_average() -> str:
    """Return the 1, 5 and 15 minute load averages."""
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


def spread(values, scale: float = 1.0) -> str:
    """Return the interquartile range of ``values`` as ``q1-q3``."""
    low, high = np.percentile(np.asarray(values) * scale, [25, 75])
    digits = 1 if scale != 1.0 else 3
    return f"{low:.{digits}f}-{high:.{digits}f}"


def with_matcher(gallery: Gallery, matcher: IrisMatcher, run: Callable[[], object]):
    """Return ``run()`` with ``gallery`` searching through ``matcher`` for the call."""
    kept, gallery.matcher = gallery.matcher, matcher
    try:
        return run()
    finally:
        gallery.matcher = kept


def median_time(run: Callable[[], object], repeats: int, *, best: bool = False) -> float:
    """Return the median (or best) wall time of ``run`` after one warm-up call."""
    run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times) if best else statistics.median(times)


@njit(parallel=True, nogil=True, cache=True)
def read_once(words):
    """Read every word of ``words`` once on all cores (XOR per chunk)."""
    chunks = 64
    out = np.zeros(chunks, dtype=np.uint64)
    size = (words.shape[0] + chunks - 1) // chunks
    for chunk in prange(chunks):
        acc = np.zeros(words.shape[1], dtype=np.uint64)
        for row in range(chunk * size, min(words.shape[0], (chunk + 1) * size)):
            for word in range(words.shape[1]):
                acc[word] ^= words[row, word]
        out[chunk] = acc.sum()
    return out


def code_queries(probe: bytes, shifts: int) -> np.ndarray:
    """Return both eyes' codes of a probe's rotations, one faiss query per rotation."""
    rotated = iris.rotated_probes(probe, shifts).view(np.uint8)
    return np.ascontiguousarray(
        rotated.reshape(-1, iris.EYES, 2, iris.CODE_BYTES)[:, :, 0]
    ).reshape(len(rotated), -1)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the Hamming distances of paired byte rows."""
    return np.bitwise_count(a ^ b).sum(axis=-1, dtype=np.int64)


def numpy_scan(population: np.ndarray, probe: bytes, matcher: IrisMatcher) -> np.ndarray:
    """Score a probe against every template with the masked, normalised formula in numpy."""
    words = population.view(np.uint64).reshape(len(population), iris.EYES, 2, kernels.CODE_WORDS)
    codes, masks = words[:, :, 0], words[:, :, 1]
    rotated = iris.rotated_probes(probe, matcher.shifts)
    best = None
    for turn in rotated.reshape(-1, iris.EYES, 2, kernels.CODE_WORDS):
        both = masks & turn[:, 1]
        compared = np.bitwise_count(both).sum(axis=-1, dtype=np.int64)
        differing = np.bitwise_count((codes ^ turn[:, 0]) & both).sum(axis=-1, dtype=np.int64)
        distance = iris.normalised_distance(differing, compared, matcher.reference_bits)
        best = distance if best is None else np.minimum(best, distance)
    return best.mean(axis=-1)


if __name__ == "__main__":
    main()

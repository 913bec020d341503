"""Compiled scan kernels shared by the matchers.

A gallery scan runs on all cores (numba ``prange``) and releases the GIL, so an HTTP thread can
answer ``/ping`` while a search runs. Parallel scans are serialised by ``SCAN_LOCK``: one
already uses every core, and numba's fallback threading layer (workqueue) must not be entered
from two threads at once. Below ``PARALLEL_MIN_ROWS`` rows, or with one numba thread, a serial
kernel does the work: waking the thread pool would cost more than the scan, and far more when
other processes hold the cores (on a shared host, ``NUMBA_NUM_THREADS=1`` selects it).

Rows are blocks of a 2048-bit code and its mask (``CODE_WORDS`` 64-bit words each); the word
count is a compile-time constant so that LLVM unrolls and vectorises the popcount loop.
"""

import threading

import numpy as np
from numba import get_num_threads, njit, prange, types
from numba.extending import intrinsic

SCAN_LOCK = threading.Lock()
PARALLEL_MIN_ROWS = 2048
CODE_WORDS = 32
CHUNKS_PER_THREAD = 8


@intrinsic
def popcount64(typingctx, x):
    """Count the set bits of a 64-bit unsigned integer with the CPU's popcount instruction."""
    if not isinstance(x, types.Integer) or x.bitwidth != 64 or x.signed:
        return None

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return types.uint64(x), codegen


@njit(cache=True, nogil=True, inline="always")
def score_row(row, probes, reference_bits):
    """Return the score of one gallery row against the pre-rotated probes.

    ``row`` is ``uint64[blocks * 2 * CODE_WORDS]``: per block (an eye) the code words followed
    by the mask words. ``probes`` has one such row per rotation. For each block, take over the
    probe rows the minimum of the fractional Hamming distance normalised to ``reference_bits``
    compared bits, clipped to [0, 1] (0.5 when no bit is valid in both masks); return the mean
    over blocks.
    """
    blocks = row.shape[0] // (2 * CODE_WORDS)
    total = 0.0
    for b in range(blocks):
        code_start = b * 2 * CODE_WORDS
        mask_start = code_start + CODE_WORDS
        best = 1.0
        for s in range(probes.shape[0]):
            probe = probes[s]
            differing = np.uint64(0)
            compared = np.uint64(0)
            for w in range(CODE_WORDS):
                both = probe[mask_start + w] & row[mask_start + w]
                differing += popcount64((probe[code_start + w] ^ row[code_start + w]) & both)
                compared += popcount64(both)
            if compared == 0:
                distance = 0.5
            else:
                raw = differing / compared
                distance = 0.5 - (0.5 - raw) * np.sqrt(compared / reference_bits)
                distance = min(max(distance, 0.0), 1.0)
            best = min(best, distance)
        total += best
    return total / blocks


@njit(cache=True, nogil=True)
def masked_hamming_scan_serial(records, alive, probes, reference_bits, out):
    """Write every row's ``score_row`` to ``out`` on one core, +inf for dead rows."""
    for i in range(records.shape[0]):
        out[i] = score_row(records[i], probes, reference_bits) if alive[i] else np.inf
    return out


@njit(parallel=True, cache=True, nogil=True)
def masked_hamming_scan(records, alive, probes, reference_bits, out, chunks):
    """Write every row's ``score_row`` to ``out`` on all cores, +inf for dead rows.

    The threads run the serial kernel over ``chunks`` contiguous runs of rows: that keeps the
    vectorised code of the serial loop (a ``prange`` over single rows compiles to a slower body)
    and, with a few chunks per thread, balances the load.
    """
    rows = records.shape[0]
    chunks = max(1, min(rows, chunks))
    size = (rows + chunks - 1) // chunks
    for chunk in prange(chunks):
        start = chunk * size
        stop = min(rows, start + size)
        if start < stop:
            masked_hamming_scan_serial(
                records[start:stop], alive[start:stop], probes, reference_bits, out[start:stop]
            )
    return out


def scan(records, alive, probes, reference_bits):
    """Score every row with the parallel kernel, or the serial one for a small gallery."""
    if records.ndim != 2 or records.shape[1] % (2 * CODE_WORDS) or records.shape[1] == 0:
        raise ValueError(f"rows must be whole 2048-bit code + mask blocks, got {records.shape}")
    if probes.ndim != 2 or probes.shape[1] != records.shape[1] or len(probes) == 0:
        raise ValueError(f"probes {probes.shape} do not match rows {records.shape}")
    out = np.empty(records.shape[0], dtype=np.float64)
    if records.shape[0] == 0:
        return out
    threads = get_num_threads()
    if records.shape[0] < PARALLEL_MIN_ROWS or threads == 1:
        masked_hamming_scan_serial(records, alive, probes, float(reference_bits), out)
        return out
    with SCAN_LOCK:
        chunks = CHUNKS_PER_THREAD * threads
        masked_hamming_scan(records, alive, probes, float(reference_bits), out, chunks)
    return out

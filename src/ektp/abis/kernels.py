"""Compiled scan kernels shared by the matchers.

Rows are blocks (eyes) of a 2048-bit code followed by its mask, ``CODE_WORDS`` 64-bit words
each. A probe arrives as its rotations, ``uint64[rotations, row words]``; a search may carry
several probes, ``uint64[probes, rotations, row words]``.

Lanes. ``pack_probes`` lays the probes' rotations out across the 8 lanes of a 512-bit vector:
word ``w`` of lane ``l`` sits next to word ``w`` of lane ``l + 1``. The kernel broadcasts one
row word to all lanes and compares it with 8 rotations at once (``vpandq``, ``vpternlogq``,
``vpopcntq`` with AVX-512), so a lane group costs 32 vector steps per eye and no horizontal
reduction. Each probe takes a power-of-two segment of lanes (1, 2, 4 or 8; 16, 24 or 32 over
several groups beyond 8 rotations); spare lanes repeat the probe's first rotation, so the
minimum is unchanged. The normalised distance (``iris`` module docstring) and the minimum over
a segment are computed on the vector too, with the same operations as the scalar formula, so
scores are bit-identical to it.

Passes. A search streams the gallery once for a whole batch of probes: rows are taken in tiles
of ``TILE_ROWS``; for each lane group the tile's rows are compared while the group's lanes stay
in the L1 cache. ``search`` keeps the best ``k`` rows of each probe inside the kernel (no
score array, no partial sort over N); ``scan`` writes every row's score.

Pruning. With up to 7 rotations, ``search`` bounds a row before scoring it. Lanes 0-6 hold
the rotations, lane 7 the middle rotation with its code inverted; per word one ``vpandq``, one
``vpternlogq`` and one ``vpopcntq`` give every rotation's differing bits ``d_r`` exactly and, in
lane 7 plus the middle lane, the middle rotation's compared bits ``n_ref``. What is skipped is
the second popcount, the compared bits ``n_r`` of every rotation. For any row mask,
``n_r <= n_ref + popcount(p_r & ~p_ref)`` (the probe's own rotations, computed once per
search) and ``n_r <= popcount(p_r)``; the distance rises with ``d`` and falls with ``n``, so
the distance at the fewest ``d`` and that most ``n`` is a lower bound of the eye's distance,
and the mean over eyes a lower bound of the score. Only a row whose bound is below the
probe's current k-th score is scored exactly, with the exhaustive single-probe code, so the
answer (rows, scores, ties by row) is the one the exhaustive scan gives. On synthetic
captures the bound sits about 0.013 below the score, and 0.4-2 % of the rows are scored
exactly, most of them at the start of a chunk while its top k is still filling.

What no lossless bound can do is read less. For any word left unread, a row whose unread
compared bits all agree with the probe is possible, and a quarter of the bits unread moves the
bound by about 0.16, far more than the 0.05-0.07 between an impostor's score and the k-th
best of a large gallery. So every row is read once in full, and the time to read the gallery
is the floor of a lossless search; pruning removes compute, not memory traffic.

Threads. A scan runs on all cores (numba ``prange`` over contiguous runs of rows) and releases
the GIL, so an HTTP thread can answer ``/ping`` while a search runs. Parallel scans are
serialised by ``SCAN_LOCK``: one already uses every core, and numba's fallback threading layer
(workqueue) must not be entered from two threads at once. Below ``PARALLEL_MIN_ROWS`` rows, or
with one numba thread, the serial kernel does the work: waking the thread pool would cost more
than the scan, and far more when other processes hold the cores (on a shared host,
``NUMBA_NUM_THREADS=1`` selects it).
"""

import threading
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from llvmlite import ir
from numba import get_num_threads, njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

SCAN_LOCK = threading.Lock()
PARALLEL_MIN_ROWS = 2048
CODE_WORDS = 32
BLOCK_WORDS = 2 * CODE_WORDS
LANES = 8
TILE_ROWS = 8
PREFETCH_ROWS = 16
CHUNKS_PER_THREAD = 8
WORDWISE = 0
PRUNE_MARGIN = 1e-9

_I32 = ir.IntType(32)
_I64 = ir.IntType(64)
_F64 = ir.DoubleType()
_VI64 = ir.VectorType(_I64, LANES)
_VF64 = ir.VectorType(_F64, LANES)
_VPTR = ir.VectorType(ir.PointerType(), LANES)
_VBOOL = ir.VectorType(ir.IntType(1), LANES)


@intrinsic
def popcount64(typingctx, x):
    """Count the set bits of a 64-bit unsigned integer with the CPU's popcount instruction."""
    if not isinstance(x, types.Integer) or x.bitwidth != 64 or x.signed:
        return None

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return types.uint64(x), codegen


@intrinsic
def _prefetch(typingctx, array, index):
    """Ask the CPU to bring the cache line of ``array[index]`` into its caches."""
    if not isinstance(array, types.Array) or array.ndim != 1:
        return None

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        prefetch = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [ir.PointerType(), _I32, _I32, _I32]),
            "llvm.prefetch.p0",
        )
        builder.call(prefetch, [builder.gep(data, [args[1]]), _I32(0), _I32(2), _I32(1)])
        return context.get_dummy_value()

    return types.void(array, index), codegen


def _splat(builder, value, vector_type):
    single = builder.insert_element(ir.Constant(vector_type, ir.Undefined), value, _I32(0))
    zeros = ir.Constant(ir.VectorType(_I32, LANES), [0] * LANES)
    return builder.shuffle_vector(single, ir.Constant(vector_type, ir.Undefined), zeros)


def _vector_at(builder, base, offset):
    pointer = builder.gep(base, [_I64(offset)])
    return builder.load(builder.bitcast(pointer, _VI64.as_pointer()), align=8)


def _lane_distances(builder, row_bases, lane_base, scale_table, segment):
    """Emit the normalised distances of row blocks against 8 lanes, min over each segment.

    Per word and lane: ``vpandq`` (both masks), ``vpternlogq`` (codes differ, both valid), two
    ``vpopcntq`` and two ``vpaddq``, the ALU bound on Zen 4. Rows share the lane loads: two rows per call cut the time per row by about a quarter.
    """
    module = builder.module
    ctpop = cgutils.get_or_insert_function(
        module, ir.FunctionType(_VI64, [_VI64]), "llvm.ctpop.v8i64"
    )
    zeros = ir.Constant(_VI64, [0] * LANES)
    differing = [zeros] * len(row_bases)
    compared = [zeros] * len(row_bases)
    for word in range(CODE_WORDS):
        lane_code = _vector_at(builder, lane_base, word * LANES)
        lane_mask = _vector_at(builder, lane_base, (CODE_WORDS + word) * LANES)
        for index, row_base in enumerate(row_bases):
            code = builder.load(builder.gep(row_base, [_I64(word)]), align=8)
            mask = builder.load(builder.gep(row_base, [_I64(CODE_WORDS + word)]), align=8)
            both = builder.and_(lane_mask, _splat(builder, mask, _VI64))
            diff = builder.and_(builder.xor(lane_code, _splat(builder, code, _VI64)), both)
            compared[index] = builder.add(compared[index], builder.call(ctpop, [both]))
            differing[index] = builder.add(differing[index], builder.call(ctpop, [diff]))
    return [
        _normalised(builder, d, c, scale_table, segment)
        for d, c in zip(differing, compared, strict=True)
    ]


def _normalised(builder, differing, compared, scale_table, segment):
    """Emit 0.5 - (0.5 - differing / compared) * sqrt(compared / reference), min per segment.

    As the scalar formula in ``iris``: clipped to [0, 1], 0.5 where no bit was compared. The
    square root comes from a table over 0..2048 compared bits filled with the same float64
    formula, so the result is bit-identical.
    """
    gather = cgutils.get_or_insert_function(
        builder.module,
        ir.FunctionType(_VF64, [_VPTR, _I32, _VBOOL, _VF64]),
        "llvm.masked.gather.v8f64.v8p0",
    )
    half = ir.Constant(_VF64, [0.5] * LANES)
    zero = ir.Constant(_VF64, [0.0] * LANES)
    one = ir.Constant(_VF64, [1.0] * LANES)
    base = _splat(builder, builder.ptrtoint(scale_table, _I64), _VI64)
    offsets = builder.shl(compared, ir.Constant(_VI64, [3] * LANES))
    scale = builder.call(
        gather,
        [
            builder.inttoptr(builder.add(base, offsets), _VPTR),
            _I32(8),
            ir.Constant(_VBOOL, [1] * LANES),
            ir.Constant(_VF64, ir.Undefined),
        ],
    )
    raw = builder.fdiv(builder.uitofp(differing, _VF64), builder.uitofp(compared, _VF64))
    distance = builder.fsub(half, builder.fmul(builder.fsub(half, raw), scale))
    distance = builder.select(builder.fcmp_ordered(">=", distance, zero), distance, zero)
    distance = builder.select(builder.fcmp_ordered("<=", distance, one), distance, one)
    none = builder.icmp_unsigned("==", compared, ir.Constant(_VI64, [0] * LANES))
    distance = builder.select(none, half, distance)
    step = 1
    while step < segment:
        partner = builder.shuffle_vector(
            distance,
            ir.Constant(_VF64, ir.Undefined),
            ir.Constant(ir.VectorType(_I32, LANES), [lane ^ step for lane in range(LANES)]),
        )
        distance = builder.select(builder.fcmp_ordered("<=", distance, partner), distance, partner)
        step *= 2
    return distance


def _make_block_distances(segment):
    @intrinsic
    def block_distances(typingctx, first, second, row_start, lanes, lane_start, table, out):
        """Write to ``out[0:8]`` and ``out[8:16]`` the distances of blocks ``first[row_start:]``
        and ``second[row_start:]`` to the 8 lanes at ``lanes[lane_start:]``."""
        arrays = (first, second, lanes, table, out)
        if not all(isinstance(array, types.Array) and array.ndim == 1 for array in arrays):
            return None
        signature = types.void(first, second, row_start, lanes, lane_start, table, out)

        def codegen(context, builder, signature, args):
            def data(position):
                array_type = signature.args[position]
                return context.make_array(array_type)(context, builder, args[position]).data

            distances = _lane_distances(
                builder,
                [builder.gep(data(0), [args[2]]), builder.gep(data(1), [args[2]])],
                builder.gep(data(3), [args[4]]),
                data(5),
                segment,
            )
            out = data(6)
            for index, distance in enumerate(distances):
                target = builder.gep(out, [_I64(index * LANES)])
                builder.store(distance, builder.bitcast(target, _VF64.as_pointer()), align=8)
            return context.get_dummy_value()

        return signature, codegen

    return block_distances


_block_distances_1 = _make_block_distances(1)
_block_distances_2 = _make_block_distances(2)
_block_distances_4 = _make_block_distances(4)
_block_distances_8 = _make_block_distances(8)


def _bound_counts(builder, row_bases, lane_base, reference):
    """Emit, for row blocks, the fewest differing bits over rotation lanes 0-6 and ``n_ref``.

    Per word and lane: ``vpandq`` (both masks), ``vpternlogq`` (codes differ, both valid) and
    one ``vpopcntq``: the differing bits of each rotation, exactly. Lane 7 holds the reference
    rotation with its code inverted, so it counts the bits that agree; with the reference
    rotation's own lane that gives the reference rotation's compared bits ``n_ref``. The rows
    share the lane loads.
    """
    ctpop = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(_VI64, [_VI64]), "llvm.ctpop.v8i64"
    )
    counts = [ir.Constant(_VI64, [0] * LANES)] * len(row_bases)
    for word in range(CODE_WORDS):
        lane_code = _vector_at(builder, lane_base, word * LANES)
        lane_mask = _vector_at(builder, lane_base, (CODE_WORDS + word) * LANES)
        for index, row_base in enumerate(row_bases):
            code = builder.load(builder.gep(row_base, [_I64(word)]), align=8)
            mask = builder.load(builder.gep(row_base, [_I64(CODE_WORDS + word)]), align=8)
            both = builder.and_(lane_mask, _splat(builder, mask, _VI64))
            diff = builder.and_(builder.xor(lane_code, _splat(builder, code, _VI64)), both)
            counts[index] = builder.add(counts[index], builder.call(ctpop, [diff]))
    out = []
    last = ir.Constant(_VBOOL, [0] * (LANES - 1) + [1])
    for count in counts:
        compared = builder.add(
            builder.extract_element(count, _I32(LANES - 1)),
            builder.extract_element(count, builder.trunc(reference, _I32)),
        )
        fewest = builder.select(last, ir.Constant(_VI64, [2**63] * LANES), count)
        step = 1
        while step < LANES:
            partner = builder.shuffle_vector(
                fewest,
                ir.Constant(_VI64, ir.Undefined),
                ir.Constant(ir.VectorType(_I32, LANES), [lane ^ step for lane in range(LANES)]),
            )
            fewest = builder.select(builder.icmp_unsigned("<=", fewest, partner), fewest, partner)
            step *= 2
        out += [builder.extract_element(fewest, _I32(0)), compared]
    return out


@intrinsic
def _block_bound_counts(typingctx, records, first, second, lanes, lane_at, reference):
    """Return ``(fewest, n_ref)`` of the blocks at ``records[first:]`` and ``records[second:]``.

    ``fewest`` is the fewest differing bits over the rotations, ``n_ref`` the reference
    rotation's compared bits (``_bound_counts``). Arrays are flat: ``lanes[lane_at:]`` is the
    probe's packed block (``pack_bound_probes``), ``reference`` the reference rotation's lane.
    Offsets rather than views keep array reference counts out of the row loop.
    """
    arrays = (records, lanes)
    if not all(isinstance(array, types.Array) and array.ndim == 1 for array in arrays):
        return None
    signature = types.UniTuple(types.int64, 4)(records, first, second, lanes, lane_at, reference)

    def codegen(context, builder, signature, args):
        def data(position):
            array_type = signature.args[position]
            return context.make_array(array_type)(context, builder, args[position]).data

        values = _bound_counts(
            builder,
            [builder.gep(data(0), [args[1]]), builder.gep(data(0), [args[2]])],
            builder.gep(data(3), [args[4]]),
            args[5],
        )
        return context.make_tuple(builder, signature.return_type, values)

    return signature, codegen


@lru_cache(maxsize=16)
def scale_table(reference_bits: float) -> np.ndarray:
    """Return ``sqrt(n / reference_bits)`` for n = 0..2048 compared bits (read-only)."""
    table = np.sqrt(np.arange(CODE_WORDS * 64 + 1, dtype=np.float64) / reference_bits)
    table.flags.writeable = False
    return table


def _aligned(array: np.ndarray) -> np.ndarray:
    """Return a C-contiguous copy of ``array`` starting on a 64-byte boundary.

    The kernels load probe lanes as whole 512-bit vectors; one that straddles two cache lines
    costs two loads.
    """
    raw = np.empty(array.nbytes + 64, dtype=np.uint8)
    start = -raw.ctypes.data % 64
    out = raw[start : start + array.nbytes].view(array.dtype).reshape(array.shape)
    out[...] = array
    return out


class PackedProbes(NamedTuple):
    """Hold probes laid out for the kernel (see the module docstring)."""

    lanes: np.ndarray  # uint64[groups, blocks * 2 * CODE_WORDS * LANES]
    owners: np.ndarray  # int64[groups, LANES // segment]: probe of each segment, -1 if none
    segment: int  # lanes per probe in a group (8 if a probe spans groups), or WORDWISE
    count: int  # number of probes


def pack_probes(probes: np.ndarray) -> PackedProbes:
    """Lay ``uint64[probes, rotations, row words]`` out in lane groups.

    A single probe stays as it is and is scanned word-wise (segment ``WORDWISE``): read from
    memory rather than the caches, that is faster for one probe.
    """
    count, rotations, words = probes.shape
    if count == 0 or rotations == 0 or words == 0 or words % BLOCK_WORDS:
        raise ValueError(f"probes must be whole 2048-bit code + mask blocks, got {probes.shape}")
    if count == 1:
        return PackedProbes(probes[0], np.full((1, 1), 0, dtype=np.int64), WORDWISE, 1)
    if rotations <= LANES:
        segment = 1 << (rotations - 1).bit_length()
        width = segment
    else:
        segment = LANES
        width = -(-rotations // LANES) * LANES
    # Spare lanes of a probe repeat its first rotation: the minimum does not change.
    take = np.where(np.arange(width) < rotations, np.arange(width), 0)
    slots = probes[:, take].reshape(-1, words)  # [count * width, words]
    owners = np.repeat(np.arange(count, dtype=np.int64), width // segment)
    per_group = LANES // segment
    groups = -(-len(owners) // per_group)
    spare = groups * per_group - len(owners)
    if spare:
        slots = np.concatenate([slots, np.repeat(slots[:segment], spare, axis=0)])
        owners = np.concatenate([owners, np.full(spare, -1, dtype=np.int64)])
    lanes = slots.reshape(groups, LANES, words).transpose(0, 2, 1)
    return PackedProbes(
        _aligned(lanes).reshape(groups, -1),
        owners.reshape(groups, per_group),
        segment,
        count,
    )


class BoundProbes(NamedTuple):
    """Hold probes laid out for the pruned search (see ``pack_bound_probes``)."""

    lanes: np.ndarray  # uint64[probes, blocks * 2 * CODE_WORDS * LANES]
    slack: np.ndarray  # int64[probes, blocks]: most compared bits a rotation adds to n_ref
    caps: np.ndarray  # int64[probes, blocks]: most bits any rotation can compare
    rotations: np.ndarray  # uint64[probes, rotations, row words], for the exact score


def pack_bound_probes(probes: np.ndarray) -> BoundProbes:
    """Lay ``uint64[probes, rotations <= 7, row words]`` out for the bound pass.

    Lanes 0..6 hold the rotations (spare lanes repeat the first, so the minimum is
    unchanged); lane 7 holds the middle (reference) rotation with its code inverted, so the
    kernel counts the compared bits of the reference rotation. For rotation ``r`` and any row mask ``M``,
    ``popcount(M & p_r) <= popcount(M & p_ref) + popcount(p_r & ~p_ref)``: the slack is the
    second term, probe-only: the slack is its largest value over rotations, and the cap the
    largest ``popcount(p_r)``.
    """
    count, rotations, words = probes.shape
    if count == 0 or words == 0 or words % BLOCK_WORDS or not 1 <= rotations < LANES:
        raise ValueError(
            f"probes must be 1..{LANES - 1} rotations of whole blocks, got {probes.shape}"
        )
    reference = rotations // 2
    take = np.array([*range(rotations), *[0] * (LANES - 1 - rotations), reference])
    slots = probes[:, take].reshape(count, LANES, -1, 2, CODE_WORDS)  # [c, lane, block, 2, w]
    masks = slots[:, :, :, 1]
    inverted = slots.copy()
    inverted[:, LANES - 1, :, 0] = ~inverted[:, LANES - 1, :, 0]
    lanes = _aligned(inverted.reshape(count, LANES, -1).transpose(0, 2, 1))
    outside = masks & ~masks[:, LANES - 1 : LANES]
    slack = np.bitwise_count(outside).sum(axis=-1, dtype=np.int64).max(axis=1)
    caps = np.bitwise_count(masks).sum(axis=-1, dtype=np.int64).max(axis=1)
    return BoundProbes(
        lanes.reshape(count, -1),
        np.ascontiguousarray(slack),
        np.ascontiguousarray(caps),
        np.ascontiguousarray(probes),
    )


@njit(cache=True, nogil=True, inline="always")
def _distance(differing, compared, scales):
    """Return the normalised distance of raw counts, as ``_normalised`` computes it."""
    if compared == 0:
        return 0.5
    distance = 0.5 - (0.5 - differing / compared) * scales[compared]
    return min(max(distance, 0.0), 1.0)


@njit(cache=True, nogil=True, inline="always")
def _row_score_wordwise(row, rotations, scales):
    """Return one row's score against a single probe's rotations, vectorised over words.

    For one probe with few rotations most lanes of a group would stay idle; here LLVM
    vectorises the 32-word loop instead (``vpopcntq`` on 8 words) and reduces per rotation.
    """
    blocks = row.shape[0] // BLOCK_WORDS
    total = 0.0
    for block in range(blocks):
        code_start = block * BLOCK_WORDS
        mask_start = code_start + CODE_WORDS
        best = 1.0
        for turn in range(rotations.shape[0]):
            probe = rotations[turn]
            # Both counts in one accumulator (compared in the high half): one reduction.
            counts = np.uint64(0)
            for w in range(CODE_WORDS):
                both = probe[mask_start + w] & row[mask_start + w]
                differing = popcount64((probe[code_start + w] ^ row[code_start + w]) & both)
                counts += differing + (popcount64(both) << np.uint64(32))
            compared = counts >> np.uint64(32)
            differing = counts & np.uint64(0xFFFFFFFF)
            if compared == 0:
                distance = 0.5
            else:
                distance = 0.5 - (0.5 - differing / compared) * scales[compared]
                distance = min(max(distance, 0.0), 1.0)
            best = min(best, distance)
        total += best
    return total / blocks


@njit(cache=True, nogil=True, inline="always")
def _prefetch_after(records, stop):
    """Fetch the rows after ``stop`` into L2 while the tile before them is compared; the
    hardware prefetcher alone lets the scan stall on memory."""
    ahead = min(records.shape[0], stop + PREFETCH_ROWS)
    for row in range(stop + PREFETCH_ROWS - TILE_ROWS, ahead):
        for word in range(0, records.shape[1], 8):
            _prefetch(records[row], word)


@njit(cache=True, nogil=True, inline="always")
def _block_distances(segment, one, two, at, lane, scales, distances):
    """Compare one block of two rows with a group of probe lanes, at the segment's width."""
    if segment == 8:
        _block_distances_8(one, two, at, lane, at * LANES, scales, distances)
    elif segment == 4:
        _block_distances_4(one, two, at, lane, at * LANES, scales, distances)
    elif segment == 2:
        _block_distances_2(one, two, at, lane, at * LANES, scales, distances)
    else:
        _block_distances_1(one, two, at, lane, at * LANES, scales, distances)


@njit(cache=True, nogil=True, inline="always")
def _tile_totals(alive, start, stop, blocks, best, out):
    """Write each row's mean best block distance per probe to ``out`` (inf for a dead row)."""
    for row in range(start, stop):
        for probe in range(out.shape[1]):
            if alive[row]:
                total = 0.0
                for block in range(blocks):
                    total += best[row - start, probe, block]
                out[row - start, probe] = total / blocks
            else:
                out[row - start, probe] = np.inf


@njit(cache=True, nogil=True, inline="always")
def _keep(top_rows, top_scores, probe, score, row):
    """Insert a row that beats a probe's k-th score into its best-first list; on a tie the row
    kept earlier stays ahead."""
    place = top_rows.shape[1] - 1
    while place > 0 and top_scores[probe, place - 1] > score:
        top_scores[probe, place] = top_scores[probe, place - 1]
        top_rows[probe, place] = top_rows[probe, place - 1]
        place -= 1
    top_scores[probe, place] = score
    top_rows[probe, place] = row


@njit(cache=True, nogil=True, inline="always")
def _tile_scores(records, alive, start, stop, lanes, owners, segment, scales, best, out):
    """Write to ``out[:stop - start, probe]`` the scores of rows ``start:stop`` (inf if dead).

    ``best`` is scratch of shape ``[TILE_ROWS, probes, blocks]``. With ``segment`` WORDWISE,
    ``lanes`` holds one probe's rotations as rows (``pack_probes``). The helpers it calls
    are inlined, so splitting it costs the hot loop nothing.
    """
    blocks = records.shape[1] // BLOCK_WORDS
    if segment == WORDWISE:
        for row in range(start, stop):
            out[row - start, 0] = (
                _row_score_wordwise(records[row], lanes, scales) if alive[row] else np.inf
            )
        return
    distances = np.empty(2 * LANES, np.float64)
    best[: stop - start] = 1.0
    _prefetch_after(records, stop)
    for group in range(lanes.shape[0]):
        lane = lanes[group]
        for first in range(start, stop, 2):
            # Rows go in pairs; an odd last row pairs with itself. Dead rows are scored too
            # and dropped below: no branch in the hot loop.
            second = min(first + 1, stop - 1)
            for block in range(blocks):
                at = block * BLOCK_WORDS
                _block_distances(
                    segment, records[first], records[second], at, lane, scales, distances
                )
                for pair in range(second - first + 1):
                    tile_row = first + pair - start
                    for slot in range(owners.shape[1]):
                        probe = owners[group, slot]
                        if probe >= 0:
                            distance = distances[pair * LANES + slot * segment]
                            if distance < best[tile_row, probe, block]:
                                best[tile_row, probe, block] = distance
    _tile_totals(alive, start, stop, blocks, best, out)


@njit(cache=True, nogil=True)
def scan_serial(records, alive, lanes, owners, segment, scales, out):
    """Write every row's score against every probe to ``out[probe, row]`` on one core."""
    probes = out.shape[0]
    blocks = records.shape[1] // BLOCK_WORDS
    best = np.empty((TILE_ROWS, probes, blocks), np.float64)
    tile = np.empty((TILE_ROWS, probes), np.float64)
    for start in range(0, records.shape[0], TILE_ROWS):
        stop = min(records.shape[0], start + TILE_ROWS)
        _tile_scores(records, alive, start, stop, lanes, owners, segment, scales, best, tile)
        for row in range(start, stop):
            for probe in range(probes):
                out[probe, row] = tile[row - start, probe]
    return out


@njit(cache=True, nogil=True)
def search_serial(records, alive, lanes, owners, segment, scales, top_rows, top_scores, offset):
    """Keep in ``top_rows/top_scores[probe, :k]`` each probe's best rows, best first, one core.

    Rows are numbered from ``offset``. Entries must start as (-1, +inf); a row enters only
    when it scores strictly lower than the current k-th, so among equal scores the lowest
    row stays, as in a sort by (score, row).
    """
    probes, k = top_rows.shape
    blocks = records.shape[1] // BLOCK_WORDS
    best = np.empty((TILE_ROWS, probes, blocks), np.float64)
    tile = np.empty((TILE_ROWS, probes), np.float64)
    for start in range(0, records.shape[0], TILE_ROWS):
        stop = min(records.shape[0], start + TILE_ROWS)
        _tile_scores(records, alive, start, stop, lanes, owners, segment, scales, best, tile)
        for row in range(start, stop):
            if not alive[row]:
                continue
            for probe in range(probes):
                score = tile[row - start, probe]
                if score < top_scores[probe, k - 1]:
                    _keep(top_rows, top_scores, probe, score, offset + row)
    return top_rows


@njit(cache=True, nogil=True)
def search_pruned_serial(
    records, alive, lanes, slack, caps, rotations, scales, top_rows, top_scores, offset
):
    """Keep each probe's best rows as ``search_serial`` does, scoring fewer rows exactly.

    A row is first bounded (``_block_bound_counts``, one popcount per word and rotation); only a row
    whose bound is below the probe's current k-th score is scored exactly, with the same
    function as the exhaustive single-probe scan. A row whose bound is not below can score no
    lower than the k-th, and ``search_serial`` would not have let it in either: the lists are
    the same. ``PRUNE_MARGIN`` keeps a row whose bound ties the k-th to the last bit.
    """
    probes, k = top_rows.shape
    words = records.shape[1]
    blocks = words // BLOCK_WORDS
    reference = rotations.shape[1] // 2
    flat = records.reshape(-1)
    flat_lanes = lanes.reshape(-1)
    bounds = np.empty(2, np.float64)
    for start in range(0, records.shape[0], TILE_ROWS):
        stop = min(records.shape[0], start + TILE_ROWS)
        _prefetch_after(records, stop)
        for probe in range(probes):
            for first in range(start, stop, 2):
                # Rows go in pairs sharing the lane loads; an odd last row pairs with itself.
                second = min(first + 1, stop - 1)
                bounds[:] = 0.0
                for block in range(blocks):
                    fewest, compared, fewest_2, compared_2 = _block_bound_counts(
                        flat,
                        first * words + block * BLOCK_WORDS,
                        second * words + block * BLOCK_WORDS,
                        flat_lanes,
                        (probe * words + block * BLOCK_WORDS) * LANES,
                        reference,
                    )
                    extra, cap = slack[probe, block], caps[probe, block]
                    bounds[0] += _distance(fewest, min(compared + extra, cap), scales)
                    bounds[1] += _distance(fewest_2, min(compared_2 + extra, cap), scales)
                for pair in range(second - first + 1):
                    row = first + pair
                    limit = top_scores[probe, k - 1]
                    if not alive[row] or bounds[pair] / blocks - PRUNE_MARGIN >= limit:
                        continue
                    score = _row_score_wordwise(records[row], rotations[probe], scales)
                    if score < limit:
                        _keep(top_rows, top_scores, probe, score, offset + row)
    return top_rows


@njit(cache=True, nogil=True)
def bound_scan_serial(records, lanes, slack, caps, rotations, scales, out):
    """Write every row's lower bound against one probe to ``out`` (what the pruning tests)."""
    words = records.shape[1]
    blocks = words // BLOCK_WORDS
    reference = rotations.shape[1] // 2
    flat = records.reshape(-1)
    flat_lanes = lanes.reshape(-1)
    for row in range(records.shape[0]):
        total = 0.0
        for block in range(blocks):
            fewest, compared, _, _ = _block_bound_counts(
                flat,
                row * words + block * BLOCK_WORDS,
                row * words + block * BLOCK_WORDS,
                flat_lanes,
                block * BLOCK_WORDS * LANES,
                reference,
            )
            most = min(compared + slack[0, block], caps[0, block])
            total += _distance(fewest, most, scales)
        out[row] = total / blocks
    return out


@njit(parallel=True, cache=True, nogil=True)
def search_pruned_parallel(
    records, alive, lanes, slack, caps, rotations, scales, top_rows, top_scores
):
    """Run ``search_pruned_serial`` on all cores, one top-k list per chunk (``top_*[chunk]``)."""
    rows = records.shape[0]
    chunks = top_rows.shape[0]
    size = (rows + chunks - 1) // chunks
    for chunk in prange(chunks):
        start = chunk * size
        stop = min(rows, start + size)
        if start < stop:
            search_pruned_serial(
                records[start:stop],
                alive[start:stop],
                lanes,
                slack,
                caps,
                rotations,
                scales,
                top_rows[chunk],
                top_scores[chunk],
                start,
            )
    return top_rows


@njit(parallel=True, cache=True, nogil=True)
def scan_parallel(records, alive, lanes, owners, segment, scales, out, chunks):
    """Run ``scan_serial`` over ``chunks`` contiguous runs of rows on all cores."""
    rows = records.shape[0]
    chunks = max(1, min(rows, chunks))
    size = (rows + chunks - 1) // chunks
    for chunk in prange(chunks):
        start = chunk * size
        stop = min(rows, start + size)
        if start < stop:
            scan_serial(
                records[start:stop],
                alive[start:stop],
                lanes,
                owners,
                segment,
                scales,
                out[:, start:stop],
            )
    return out


@njit(parallel=True, cache=True, nogil=True)
def search_parallel(records, alive, lanes, owners, segment, scales, top_rows, top_scores):
    """Run ``search_serial`` on all cores, one top-k list per chunk (``top_*[chunk]``)."""
    rows = records.shape[0]
    chunks = top_rows.shape[0]
    size = (rows + chunks - 1) // chunks
    for chunk in prange(chunks):
        start = chunk * size
        stop = min(rows, start + size)
        if start < stop:
            search_serial(
                records[start:stop],
                alive[start:stop],
                lanes,
                owners,
                segment,
                scales,
                top_rows[chunk],
                top_scores[chunk],
                start,
            )
    return top_rows


def _check(records: np.ndarray, alive: np.ndarray, probes: np.ndarray, stacked: int) -> None:
    if records.ndim != 2 or records.shape[1] % BLOCK_WORDS or records.shape[1] == 0:
        raise ValueError(f"rows must be whole 2048-bit code + mask blocks, got {records.shape}")
    if records.dtype != np.uint64 or not records.flags.c_contiguous:
        raise ValueError("rows must be a C-contiguous uint64 array")
    if alive.shape != (records.shape[0],):
        raise ValueError(f"alive {alive.shape} does not match rows {records.shape}")
    if probes.ndim != stacked or probes.shape[-1] != records.shape[1] or 0 in probes.shape:
        raise ValueError(f"probes {probes.shape} do not match rows {records.shape}")


def _parallel(rows: int) -> bool:
    return rows >= PARALLEL_MIN_ROWS and get_num_threads() > 1


def scan(records, alive, probes, reference_bits):
    """Score every row against one probe's rotations ``uint64[rotations, row words]``.

    Return ``float64[rows]``, +inf for dead rows. Uses all cores unless the gallery is small.
    """
    _check(records, alive, probes, 2)
    packed = pack_probes(np.ascontiguousarray(probes, dtype=np.uint64)[None])
    out = np.empty((1, records.shape[0]), dtype=np.float64)
    if records.shape[0] == 0:
        return out[0]
    arguments = (records, alive.astype(np.bool_, copy=False), packed.lanes, packed.owners)
    if not _parallel(records.shape[0]):
        scan_serial(*arguments, packed.segment, scale_table(float(reference_bits)), out)
        return out[0]
    with SCAN_LOCK:
        chunks = CHUNKS_PER_THREAD * get_num_threads()
        scan_parallel(*arguments, packed.segment, scale_table(float(reference_bits)), out, chunks)
    return out[0]


def bound_scan(records, probes, reference_bits):
    """Return every row's lower bound of its score against one probe's rotations (<= 7).

    The pruned search scores a row exactly only when this bound is below the k-th score so
    far; a bound is never above the row's score (``search_pruned_serial``).
    """
    _check(records, np.ones(records.shape[0], np.bool_), probes, 2)
    bound = pack_bound_probes(np.ascontiguousarray(probes, dtype=np.uint64)[None])
    out = np.empty(records.shape[0], dtype=np.float64)
    return bound_scan_serial(records, *bound, scale_table(float(reference_bits)), out)


def search(records, alive, probes, reference_bits, k, *, exhaustive=False):
    """Return each probe's ``k`` best rows and their scores, best first, ties by row.

    ``probes`` is ``uint64[probes, rotations, row words]``; the gallery is read once for all
    of them. Return ``(int64[probes, k] rows, float64[probes, k] scores)``; when fewer than
    ``k`` rows are alive, the tail holds row -1 and score +inf. With up to 7 rotations a row
    is scored exactly only when its lower bound can still enter the list
    (``search_pruned_serial``); ``exhaustive`` scores every row, the reference path.
    """
    _check(records, alive, probes, 3)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    probes = np.ascontiguousarray(probes, dtype=np.uint64)
    pruned = not exhaustive and probes.shape[1] < LANES
    count = probes.shape[0]
    rows = records.shape[0]
    parallel = _parallel(rows)
    chunks = max(1, min(rows, CHUNKS_PER_THREAD * get_num_threads())) if parallel else 1
    top_rows = np.full((chunks, count, k), -1, dtype=np.int64)
    top_scores = np.full((chunks, count, k), np.inf, dtype=np.float64)
    if rows:
        scales = scale_table(float(reference_bits))
        alive = alive.astype(np.bool_, copy=False)
        if pruned:
            bound = pack_bound_probes(probes)
            arguments = (records, alive, *bound, scales)
            run_parallel, run_serial = search_pruned_parallel, search_pruned_serial
        else:
            packed = pack_probes(probes)
            arguments = (records, alive, packed.lanes, packed.owners, packed.segment, scales)
            run_parallel, run_serial = search_parallel, search_serial
        if parallel:
            with SCAN_LOCK:
                run_parallel(*arguments, top_rows, top_scores)
        else:
            run_serial(*arguments, top_rows[0], top_scores[0], 0)
    if chunks == 1:
        return top_rows[0], top_scores[0]
    # Merge the chunks' lists: by score, then row (dead slots sort last with +inf).
    merged_rows = top_rows.transpose(1, 0, 2).reshape(count, -1)
    merged_scores = top_scores.transpose(1, 0, 2).reshape(count, -1)
    tie_break = np.where(merged_rows < 0, np.iinfo(np.int64).max, merged_rows)
    order = np.lexsort((tie_break, merged_scores), axis=-1)[:, :k]
    return (
        np.take_along_axis(merged_rows, order, axis=-1),
        np.take_along_axis(merged_scores, order, axis=-1),
    )

"""Stream compaction on the device, in three passes: nonzero and count_nonzero (boolean masks, ``x[x > 0]``),
and unique_sorted (the runs of a sorted array: unique values, inverse map, counts).

1. ``_chunk_counts``: a block per chunk of CHUNK elements counts the marked elements (a shared-memory tree):
   nonzeros, or the starts of runs of equal values.
2. ``_chunk_offsets``: one block turns the counts into each chunk's first output row (an exclusive scan).
3. A block walks its chunk a block-width at a time; a shared-memory scan of the marks gives each element its row,
   so output comes in the input's order, as on the CPU (``_write_coordinates``, ``_write_runs``).

How many rows there are must reach the host to size the output (PyTorch's nonzero and unique synchronise for the
same reason): the per-chunk counts (8 bytes per CHUNK elements) come back and are summed there. nonzero counts
again rather than keep state between the contract's two calls: one more read of x, no transfer.
"""

from __future__ import annotations

import numpy as np
from numba import cuda, int64

from .buffer import alloc, from_host
from .launch import MAX_BLOCKS, SIMULATOR, THREADS, grid_for, jit

CHUNK = THREADS * (2 if SIMULATOR else 8)  # elements per block (the simulator's are small, to stay quick)
_MAX_GRID = MAX_BLOCKS if SIMULATOR else 65535  # the kernels stride over chunks past this


@cuda.jit(device=True, inline=True)
def _block_sum(part, t):
    """part[0] = the sum of part[0:THREADS]; every thread of the block calls it."""
    step = THREADS // 2
    while step > 0:
        cuda.syncthreads()
        if t < step:
            part[t] += part[t + step]
        step //= 2
    cuda.syncthreads()


@cuda.jit(device=True, inline=True)
def _marked(x, i, runs):
    """Whether element i counts: nonzero, or (runs) the first of a run of equal values (NaNs never equal)."""
    if runs:
        return i == 0 or x[i] != x[i - 1]
    return x[i] != 0


@cuda.jit(device=True, inline=True)
def _inclusive_scan(part, t):
    """part[t] = part[0] + ... + part[t] for every thread t of the block (Hillis-Steele); all threads call it."""
    step = 1
    while step < THREADS:
        cuda.syncthreads()
        add = part[t - step] if t >= step else 0
        cuda.syncthreads()
        part[t] += add
        step *= 2
    cuda.syncthreads()


@jit
def _chunk_counts(counts, x, runs):
    part = cuda.shared.array(THREADS, int64)
    t = cuda.threadIdx.x
    n = x.shape[0]
    for chunk in range(cuda.blockIdx.x, counts.shape[0], cuda.gridDim.x):
        found = 0
        for i in range(chunk * CHUNK + t, min(n, (chunk + 1) * CHUNK), THREADS):
            if _marked(x, i, runs):
                found += 1
        part[t] = found
        _block_sum(part, t)
        if t == 0:
            counts[chunk] = part[0]
        cuda.syncthreads()


@jit
def _chunk_offsets(offsets, counts):
    """offsets[c] = counts[0] + ... + counts[c - 1] (one block; a thread sums a run of chunks, thread 0 the runs)."""
    part = cuda.shared.array(THREADS, int64)
    t = cuda.threadIdx.x
    chunks = counts.shape[0]
    run = (chunks + THREADS - 1) // THREADS
    mine = 0
    for c in range(t * run, min(chunks, (t + 1) * run)):
        mine += counts[c]
    part[t] = mine
    cuda.syncthreads()
    if t == 0:
        before = 0
        for u in range(THREADS):
            here = part[u]
            part[u] = before
            before += here
    cuda.syncthreads()
    before = part[t]
    for c in range(t * run, min(chunks, (t + 1) * run)):
        offsets[c] = before
        before += counts[c]


@jit
def _write_coordinates(out, x, offsets, shape):
    part = cuda.shared.array(THREADS, int64)
    t = cuda.threadIdx.x
    n, nd = x.shape[0], shape.shape[0]
    for chunk in range(cuda.blockIdx.x, offsets.shape[0], cuda.gridDim.x):
        row0 = offsets[chunk]
        for start in range(chunk * CHUNK, min(n, (chunk + 1) * CHUNK), THREADS):
            i = start + t
            flag = 1 if i < n and x[i] != 0 else 0
            part[t] = flag
            _inclusive_scan(part, t)
            if flag:
                row = row0 + part[t] - 1
                rem = i
                for d in range(nd - 1, -1, -1):
                    out[row * nd + d] = rem % shape[d]
                    rem //= shape[d]
            row0 += part[THREADS - 1]
            cuda.syncthreads()


@jit
def _write_runs(values, starts, inverse, sorted_x, order, offsets):
    """Each run of equal values in sorted_x becomes a row: its value and where it starts; inverse[order[i]] is the
    row of element i."""
    part = cuda.shared.array(THREADS, int64)
    t = cuda.threadIdx.x
    n = sorted_x.shape[0]
    for chunk in range(cuda.blockIdx.x, offsets.shape[0], cuda.gridDim.x):
        row0 = offsets[chunk]
        for start in range(chunk * CHUNK, min(n, (chunk + 1) * CHUNK), THREADS):
            i = start + t
            flag = 1 if i < n and _marked(sorted_x, i, True) else 0
            part[t] = flag
            _inclusive_scan(part, t)
            if i < n:
                row = row0 + part[t] - 1
                inverse[order[i]] = row
                if flag:
                    values[row] = sorted_x[i]
                    starts[row] = i
            row0 += part[THREADS - 1]
            cuda.syncthreads()


@jit
def _run_lengths(counts, starts, rows, n):
    r = cuda.grid(1)
    while r < rows:
        counts[r] = (starts[r + 1] if r + 1 < rows else n) - starts[r]
        r += cuda.gridsize(1)


# ---- the contract ---------------------------------------------------------------------------------------------

def _counts(x, runs=False):
    chunks = (x.shape[0] + CHUNK - 1) // CHUNK
    counts = alloc(chunks, np.int64)
    _chunk_counts[min(chunks, _MAX_GRID), THREADS](counts.array, x.array, runs)
    return counts


def _offsets(counts):
    offsets = alloc(counts.shape[0], np.int64)
    _chunk_offsets[1, THREADS](offsets.array, counts.array)
    return offsets


def count_nonzero(x) -> int:
    if x.shape[0] == 0:
        return 0
    return int(_counts(x).array.copy_to_host().sum())


def nonzero(out, x, shape):
    """out (rows, ndim) = coordinates of the nonzero elements of dense x, in row-major order; shape on the host."""
    if x.shape[0] == 0 or out.shape[0] == 0:
        return
    offsets = _offsets(_counts(x))
    dims = from_host(np.asarray(shape, np.int64))
    _write_coordinates[min(offsets.shape[0], _MAX_GRID), THREADS](
        out.array, x.array, offsets.array, dims.array)


def unique_sorted(values, inverse, counts, sorted_x, order) -> int:
    """The runs of sorted_x (sorted ascending, order its permutation of the input): unique values, the inverse map
    of the input's elements and each value's count; returns how many (the CPU contract's unique_sorted)."""
    n = sorted_x.shape[0]
    if n == 0:
        return 0
    chunk_counts = _counts(sorted_x, runs=True)
    rows = int(chunk_counts.array.copy_to_host().sum())
    offsets = _offsets(chunk_counts)
    starts = alloc(rows, np.int64)
    _write_runs[min(offsets.shape[0], _MAX_GRID), THREADS](values.array, starts.array, inverse.array, sorted_x.array,
                                                             order.array, offsets.array)
    blocks, threads = grid_for(rows)
    _run_lengths[blocks, threads](counts.array, starts.array, rows, n)
    return rows

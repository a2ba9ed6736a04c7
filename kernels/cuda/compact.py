"""Stream compaction on the device: count_nonzero and nonzero (boolean masks, ``x[x > 0]``), in three passes.

1. ``_chunk_counts``: a block per chunk of CHUNK elements counts its nonzeros (a shared-memory tree).
2. ``_chunk_offsets``: one block turns the counts into each chunk's first output row (an exclusive scan).
3. ``_write_coordinates``: each block walks its chunk a block-width at a time; a shared-memory scan of the
   nonzero flags gives each element its row, so the coordinates come out in row-major order, as on the CPU.

The number of rows must reach the host to size the output (PyTorch's nonzero synchronises for the same reason):
count_nonzero reads back the per-chunk counts (8 bytes per CHUNK elements) and sums them there. nonzero counts
again rather than keep state between the contract's two calls: one more read of x, no transfer.
"""

from __future__ import annotations

import numpy as np
from numba import cuda, int64

from .buffer import alloc, from_host
from .launch import MAX_BLOCKS, SIMULATOR, THREADS, jit

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


@jit
def _chunk_counts(counts, x):
    part = cuda.shared.array(THREADS, int64)
    t = cuda.threadIdx.x
    n = x.shape[0]
    for chunk in range(cuda.blockIdx.x, counts.shape[0], cuda.gridDim.x):
        found = 0
        for i in range(chunk * CHUNK + t, min(n, (chunk + 1) * CHUNK), THREADS):
            if x[i] != 0:
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
            step = 1  # inclusive scan of the flags (Hillis-Steele)
            while step < THREADS:
                cuda.syncthreads()
                add = part[t - step] if t >= step else 0
                cuda.syncthreads()
                part[t] += add
                step *= 2
            cuda.syncthreads()
            if flag:
                row = row0 + part[t] - 1
                rem = i
                for d in range(nd - 1, -1, -1):
                    out[row * nd + d] = rem % shape[d]
                    rem //= shape[d]
            row0 += part[THREADS - 1]
            cuda.syncthreads()


# ---- the contract ---------------------------------------------------------------------------------------------

def _counts(x):
    chunks = (x.shape[0] + CHUNK - 1) // CHUNK
    counts = alloc(chunks, np.int64)
    _chunk_counts[min(chunks, _MAX_GRID), THREADS](counts.array, x.array)
    return counts


def count_nonzero(x) -> int:
    if x.shape[0] == 0:
        return 0
    return int(_counts(x).array.copy_to_host().sum())


def nonzero(out, x, shape):
    """out (rows, ndim) = coordinates of the nonzero elements of dense x, in row-major order; shape on the host."""
    if x.shape[0] == 0 or out.shape[0] == 0:
        return
    counts = _counts(x)
    offsets = alloc(counts.shape[0], np.int64)
    _chunk_offsets[1, THREADS](offsets.array, counts.array)
    dims = from_host(np.asarray(shape, np.int64))
    _write_coordinates[min(counts.shape[0], _MAX_GRID), THREADS](
        out.array, x.array, offsets.array, dims.array)

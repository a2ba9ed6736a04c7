"""Sorting rows on the device, the CPU contract's sort_rows.

Every element is keyed by (value, index in its row), so no two keys tie and the order is the CPU's stable one:
ascending with NaN last, or descending with NaN first, equal values in their original order.

Runs of up to RUN elements sort in shared memory, a bitonic network per block. A longer row then merges its
runs pairwise, doubling their width each pass: an element's place in the merged run is its rank in its own run
plus the number of the partner run's elements that go before it (a binary search). Keys are distinct, so these
places never collide.
"""

from __future__ import annotations

import numpy as np
from numba import cuda, int64

from .buffer import alloc
from .launch import for_dtype, grid_for

SHARED = 1024  # the network's shared arrays: 1024 values and 1024 int64 indices, 16 KB at most
RUN = SHARED  # the longest run the network sorts; tests lower it to make short rows merge
DTYPE = None


def _sorts_before(av, ai, bv, bi, end, descending):
    """Whether element (av, ai) goes before (bv, bi); indices >= end are padding, which goes last."""
    if ai >= end or bi >= end:
        return ai < bi
    a_nan, b_nan = av != av, bv != bv
    if a_nan or b_nan:
        if a_nan and b_nan:
            return ai < bi
        return a_nan == descending  # NaN is the largest value
    if av == bv:
        return ai < bi
    return (av > bv) if descending else (av < bv)


def _bitonic(values, indices, x, n, run, descending):
    """Block b sorts run b % runs of row b // runs; blockDim is a power of two >= run."""
    sv = cuda.shared.array(SHARED, DTYPE)
    si = cuda.shared.array(SHARED, int64)
    t = cuda.threadIdx.x
    size = cuda.blockDim.x
    runs = (n + run - 1) // run
    base = cuda.blockIdx.x // runs * n
    first = cuda.blockIdx.x % runs * run
    end = min(first + run, n)
    i = first + t
    if i < end:
        sv[t] = x[base + i]
    si[t] = i
    cuda.syncthreads()
    k = 2
    while k <= size:
        j = k // 2
        while j > 0:
            partner = t ^ j
            if partner > t:
                forward = (t & k) == 0
                wrong = (_sorts_before(sv[partner], si[partner], sv[t], si[t], end, descending) if forward
                         else _sorts_before(sv[t], si[t], sv[partner], si[partner], end, descending))
                if wrong:
                    sv[t], sv[partner] = sv[partner], sv[t]
                    si[t], si[partner] = si[partner], si[t]
            cuda.syncthreads()
            j //= 2
        k *= 2
    if i < end:
        values[base + i] = sv[t]
        indices[base + i] = si[t]


def _merge(values, indices, src_values, src_indices, n, width, descending):
    """One pass: the sorted runs [r * width, (r + 1) * width) of every row merge in pairs."""
    j = cuda.grid(1)
    while j < src_values.shape[0]:
        base = j // n * n
        p = j - base
        own = p // width * width
        pair = p // (2 * width) * (2 * width)
        other = pair + width if own == pair else pair
        v, i = src_values[j], src_indices[j]
        lo, hi = other, max(other, min(other + width, n))
        while lo < hi:  # how many of the partner run's elements go before (v, i)
            mid = (lo + hi) // 2
            if _sorts_before(src_values[base + mid], src_indices[base + mid], v, i, n, descending):
                lo = mid + 1
            else:
                hi = mid
        place = base + pair + (p - own) + (lo - other)
        values[place] = v
        indices[place] = i
        j += cuda.gridsize(1)


def _kernel(template, dtype):
    return for_dtype(template, dtype, _sorts_before)


def sort_rows(values, indices, x, rows, n, descending):
    """Stable sort of each contiguous row of x: values, and indices within the row."""
    if rows == 0 or n == 0:
        return
    run = min(RUN, SHARED, n)
    passes = max(0, (-(-n // run) - 1).bit_length())  # merges until one run spans the row
    spare = (alloc(rows * n, x.dtype), alloc(rows * n, np.int64)) if passes else None
    out = (values, indices)
    target = out if passes % 2 == 0 else spare  # so that the last pass lands in out
    size = 1 << (run - 1).bit_length()
    _kernel(_bitonic, x.dtype)[rows * -(-n // run), size](target[0].array, target[1].array, x.array, n, run,
                                                           bool(descending))
    width = run
    for _ in range(passes):
        source, target = target, (spare if target is out else out)
        blocks, threads = grid_for(rows * n)
        _kernel(_merge, x.dtype)[blocks, threads](target[0].array, target[1].array, source[0].array,
                                                  source[1].array, n, width, bool(descending))
        width *= 2

"""Gathers and scatters by precomputed offsets, the CPU contract's (kernels/cpu/index.py): the op computes and
bounds-checks the offsets on the host, so a kernel never reads or writes outside its buffer.

Accumulating scatters use atomic adds (repeated indices add up in any order, as on PyTorch's GPU); dtypes without
a CUDA atomic add run on the host (fallback.py).
"""

from __future__ import annotations

import numpy as np
from numba import cuda

from .fallback import on_host
from .launch import grid_for

_ATOMIC = {np.dtype(t) for t in (np.float32, np.float64, np.int32, np.int64, np.uint32, np.uint64)}


@cuda.jit
def _gather_rows(out, src, offsets, rows, rshape, rstrides):
    j = cuda.grid(1)
    while j < out.shape[0]:
        off = offsets[j // rows]
        rest = j % rows
        for d in range(len(rshape) - 1, -1, -1):
            off += (rest % rshape[d]) * rstrides[d]
            rest //= rshape[d]
        out[j] = src[off]
        j += cuda.gridsize(1)


@cuda.jit
def _scatter_rows(dst, offsets, rows, rshape, rstrides, src, accumulate):
    j = cuda.grid(1)
    while j < src.shape[0]:
        off = offsets[j // rows]
        rest = j % rows
        for d in range(len(rshape) - 1, -1, -1):
            off += (rest % rshape[d]) * rstrides[d]
            rest //= rshape[d]
        if accumulate:
            cuda.atomic.add(dst, off, src[j])
        else:
            dst[off] = src[j]
        j += cuda.gridsize(1)


def _small(values) -> tuple:
    return tuple(int(v) for v in values)


def gather_rows(out, src, offsets, rshape, rstrides):
    count = offsets.shape[0]
    if count == 0 or out.shape[0] == 0:
        return
    blocks, threads = grid_for(out.shape[0])
    _gather_rows[blocks, threads](out.array, src.array, cuda.to_device(offsets), out.shape[0] // count,
                                  _small(rshape), _small(rstrides))


def scatter_rows(dst, offsets, rshape, rstrides, src, accumulate):
    count = offsets.shape[0]
    if count == 0 or src.shape[0] == 0:
        return
    if accumulate and dst.dtype not in _ATOMIC:
        from .. import cpu
        on_host("scatter_rows", cpu.scatter_rows)(dst, offsets, rshape, rstrides, src, accumulate)
        return
    blocks, threads = grid_for(src.shape[0])
    _scatter_rows[blocks, threads](dst.array, cuda.to_device(offsets), src.shape[0] // count, _small(rshape),
                                   _small(rstrides), src.array, bool(accumulate))

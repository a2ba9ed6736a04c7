"""Gathers and scatters by precomputed offsets, the CPU contract's (kernels/cpu/index.py): the op computes and
bounds-checks the offsets on the host, so a kernel never reads or writes outside its buffer.

Accumulating scatters use atomic adds (repeated indices add up in any order, as on PyTorch's GPU); dtypes without
a CUDA atomic add run on the host (fallback.py).
"""

from __future__ import annotations

import numpy as np
from numba import cuda

from .buffer import from_host, to_host
from .fallback import on_host
from .launch import grid_for, jit

_ATOMIC = {np.dtype(t) for t in (np.float32, np.float64, np.int32, np.int64, np.uint32, np.uint64)}


@cuda.jit(device=True)
def _row_offset(r, rshape, rstrides):
    """Offset of element r (row-major) of a row laid out with rshape/rstrides."""
    off = 0
    for d in range(len(rshape) - 1, -1, -1):
        off += (r % rshape[d]) * rstrides[d]
        r //= rshape[d]
    return off


@jit
def _gather_rows(out, src, offsets, rows, rshape, rstrides):
    j = cuda.grid(1)
    while j < out.shape[0]:
        out[j] = src[offsets[j // rows] + _row_offset(j % rows, rshape, rstrides)]
        j += cuda.gridsize(1)


@jit
def _scatter_rows(dst, offsets, rows, rshape, rstrides, src, accumulate):
    j = cuda.grid(1)
    while j < src.shape[0]:
        base = offsets[j // rows]
        if base >= 0:  # -1: a repeated index whose row a later one overwrites
            off = base + _row_offset(j % rows, rshape, rstrides)
            if accumulate:
                cuda.atomic.add(dst, off, src[j])
            else:
                dst[off] = src[j]
        j += cuda.gridsize(1)


@jit
def _gather_dim(out, src, s_off, s_strides, idx, shape, dim):
    p = cuda.grid(1)
    while p < out.shape[0]:
        rest, off = p, s_off
        for d in range(len(shape) - 1, -1, -1):
            coord = rest % shape[d]
            rest //= shape[d]
            off += (idx[p] if d == dim else coord) * s_strides[d]
        out[p] = src[off]
        p += cuda.gridsize(1)


@jit
def _scatter_dim(dst, d_off, d_strides, idx, src, s_off, s_strides, shape, dim, accumulate):
    p = cuda.grid(1)
    while p < idx.shape[0]:
        rest, off, soff = p, d_off, s_off
        for d in range(len(shape) - 1, -1, -1):
            coord = rest % shape[d]
            rest //= shape[d]
            soff += coord * s_strides[d]
            off += (idx[p] if d == dim else coord) * d_strides[d]
        if accumulate:
            cuda.atomic.add(dst, off, src[soff])
        else:
            dst[off] = src[soff]
        p += cuda.gridsize(1)


def _small(values) -> tuple:
    return tuple(int(v) for v in values)


def gather_rows(out, src, offsets, rshape, rstrides):
    count = offsets.shape[0]
    if count == 0 or out.shape[0] == 0:
        return
    blocks, threads = grid_for(out.shape[0])
    rows = from_host(offsets)  # a local: its block must not go back to the cache before the launch
    _gather_rows[blocks, threads](out.array, src.array, rows.array, out.shape[0] // count,
                                  _small(rshape), _small(rstrides))


def scatter_rows(dst, offsets, rshape, rstrides, src, accumulate):
    count = offsets.shape[0]
    if count == 0 or src.shape[0] == 0:
        return
    if accumulate and dst.dtype not in _ATOMIC:
        from .. import cpu
        on_host("scatter_rows", cpu.scatter_rows)(dst, offsets, rshape, rstrides, src, accumulate)
        return
    if not accumulate:
        offsets = _last_writes(offsets)
    blocks, threads = grid_for(src.shape[0])
    rows = from_host(offsets)  # a local: its block must not go back to the cache before the launch
    _scatter_rows[blocks, threads](dst.array, rows.array, src.shape[0] // count, _small(rshape),
                                   _small(rstrides), src.array, bool(accumulate))


def _last_writes(offsets: np.ndarray) -> np.ndarray:
    """offsets with each repeated one but the last set to -1 (skipped): threads race, so without this a GPU
    keeps any of the values written to one place; the CPU, like PyTorch's, keeps the last."""
    last = offsets.shape[0] - 1 - np.unique(offsets[::-1], return_index=True)[1]
    if last.shape[0] == offsets.shape[0]:
        return offsets
    kept = np.full(offsets.shape[0], -1, offsets.dtype)
    kept[last] = offsets[last]
    return kept


def gather_dim(out, src, s_off, s_strides, idx, shape, dim):
    if out.shape[0]:
        blocks, threads = grid_for(out.shape[0])
        _gather_dim[blocks, threads](out.array, src.array, s_off, _small(s_strides), idx.array, _small(shape), dim)


def scatter_dim(dst, d_off, d_strides, idx, src, s_off, s_strides, shape, dim, accumulate):
    if idx.shape[0] == 0:
        return
    if accumulate and dst.dtype not in _ATOMIC:
        from .. import cpu
        on_host("scatter_dim", cpu.scatter_dim)(dst, d_off, d_strides, idx, src, s_off, s_strides, shape, dim,
                                                accumulate)
        return
    blocks, threads = grid_for(idx.shape[0])
    _scatter_dim[blocks, threads](dst.array, d_off, _small(d_strides), idx.array, src.array, s_off, _small(s_strides),
                                  _small(shape), dim, bool(accumulate))


def check_range(idx, low, high):
    """Index of the first element outside [low, high), or -1: checked on the host, as every index is before a
    kernel uses it (a device-side assert would leave the error to a later synchronize)."""
    from .. import cpu
    return cpu.check_range(to_host(idx), low, high)


@jit
def _one_hot(out, idx, num_classes):
    i = cuda.grid(1)
    while i < idx.shape[0]:
        out[i * num_classes + idx[i]] = 1
        i += cuda.gridsize(1)


def one_hot(out, idx, num_classes):
    """out (zeros, idx.shape[0] rows of num_classes) gets a 1 at each row's class; the op checked the classes."""
    if idx.shape[0]:
        blocks, threads = grid_for(idx.shape[0])
        _one_hot[blocks, threads](out.array, idx.array, num_classes)

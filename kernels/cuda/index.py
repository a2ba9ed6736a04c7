"""Gathers and scatters by precomputed offsets, the CPU contract's (kernels/cpu/index.py): the op computes and
bounds-checks the offsets first (index_offsets, check_range), so a kernel never reads or writes outside its buffer.
The checks run on the device and send back only the position of the first bad index (8 bytes), as a number the op
raises PyTorch's IndexError with: a device-side assert would leave the error to a later synchronize.

Accumulating scatters use atomic adds (repeated indices add up in any order, as on PyTorch's GPU); 8- and 16-bit
integers and bools, which CUDA has no atomic add for, compare-and-swap the 32-bit word that holds the element.
"""

from __future__ import annotations

import numpy as np
from numba import cuda

from .buffer import from_host, to_host, words
from .fallback import on_host
from .launch import grid_for, jit

_NONE_BAD = np.iinfo(np.int64).max  # a first-bad slot no index has written

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


@cuda.jit(device=True, inline=True)
def _dim_offsets(p, d_off, d_strides, idx, s_off, s_strides, shape, dim):
    """(indexed, plain) offsets of element p of a gather or scatter along dim: in the tensor idx indexes along dim
    (d_off, d_strides), and in the one laid out as idx is (s_off, s_strides)."""
    rest, off, soff = p, d_off, s_off
    for d in range(len(shape) - 1, -1, -1):
        coord = rest % shape[d]
        rest //= shape[d]
        soff += coord * s_strides[d]
        off += (idx[p] if d == dim else coord) * d_strides[d]
    return off, soff


@jit
def _gather_dim(out, src, s_off, s_strides, idx, shape, dim):
    p = cuda.grid(1)
    while p < out.shape[0]:
        off, _ = _dim_offsets(p, s_off, s_strides, idx, 0, s_strides, shape, dim)  # the unused offset compiles away
        out[p] = src[off]
        p += cuda.gridsize(1)


@jit
def _scatter_dim(dst, d_off, d_strides, idx, src, s_off, s_strides, shape, dim, accumulate):
    p = cuda.grid(1)
    while p < idx.shape[0]:
        off, soff = _dim_offsets(p, d_off, d_strides, idx, s_off, s_strides, shape, dim)
        if accumulate:
            cuda.atomic.add(dst, off, src[soff])
        else:
            dst[off] = src[soff]
        p += cuda.gridsize(1)


@cuda.jit(device=True, inline=True)
def _add_narrow(words, e, value, itemsize, logical):
    """Adds value to element e (itemsize bytes: an 8- or 16-bit integer, wrapping as PyTorch's do) of the array
    over words, or ORs it for bools: CUDA has no atomic add that narrow, so the 32-bit word holding the element is
    swapped in whole, again if another thread changed it in between."""
    byte = e * itemsize
    w = byte // 4
    shift = (byte % 4) * 8
    mask = (1 << (8 * itemsize)) - 1
    old = words[w]
    while True:
        current = (np.int64(old) >> shift) & mask
        new = (current | (1 if value else 0)) if logical else (current + value) & mask
        word = np.uint32((np.int64(old) & ~(mask << shift)) | (new << shift))
        seen = cuda.atomic.cas(words, w, old, word)
        if seen == old:
            break
        old = seen


@jit
def _scatter_rows_narrow(words, offsets, rows, rshape, rstrides, src, itemsize, logical):
    j = cuda.grid(1)
    while j < src.shape[0]:
        _add_narrow(words, offsets[j // rows] + _row_offset(j % rows, rshape, rstrides), src[j], itemsize, logical)
        j += cuda.gridsize(1)


@jit
def _scatter_dim_narrow(words, d_off, d_strides, idx, src, s_off, s_strides, shape, dim, itemsize, logical):
    p = cuda.grid(1)
    while p < idx.shape[0]:
        off, soff = _dim_offsets(p, d_off, d_strides, idx, s_off, s_strides, shape, dim)
        _add_narrow(words, off, src[soff], itemsize, logical)
        p += cuda.gridsize(1)


def _small(values) -> tuple:
    return tuple(int(v) for v in values)


@jit
def _index_offsets(offsets, indices, sizes, strides, base, bad):
    b = cuda.grid(1)
    count = offsets.shape[0]
    while b < count:
        off = base
        for k in range(len(sizes)):
            i = indices[k * count + b]
            n = sizes[k]
            if i < -n or i >= n:
                cuda.atomic.min(bad, 0, b * len(sizes) + k)
            elif i < 0:
                off += (i + n) * strides[k]
            else:
                off += i * strides[k]
        offsets[b] = off
        b += cuda.gridsize(1)


@jit
def _first_outside(bad, idx, low, high):
    i = cuda.grid(1)
    while i < idx.shape[0]:
        if idx[i] < low or idx[i] >= high:
            cuda.atomic.min(bad, 0, i)
        i += cuda.gridsize(1)


@jit
def _first_not_increasing(bad, offsets):
    j = cuda.grid(1) + 1
    while j < offsets.shape[0]:
        if offsets[j] <= offsets[j - 1]:
            cuda.atomic.min(bad, 0, j)
        j += cuda.gridsize(1)


def _first_bad(launch) -> int:
    """Runs launch(slot) on a one-element slot and returns the smallest position it wrote, or -1."""
    slot = from_host(np.array([_NONE_BAD], np.int64))
    launch(slot.array)
    first = int(slot.array.copy_to_host()[0])
    return -1 if first == _NONE_BAD else first


def index_offsets(offsets, indices, sizes, strides, base) -> int:
    """The CPU contract's: offsets[b] from the stacked index rows; the position b * K + k of the first index out of
    range (the smallest, as the CPU's serial loop finds it), or -1."""
    count = offsets.shape[0]
    if count == 0:
        return -1
    blocks, threads = grid_for(count)
    return _first_bad(lambda slot: _index_offsets[blocks, threads](
        offsets.array, indices.array, _small(sizes), _small(strides), int(base), slot))


def gather_rows(out, src, offsets, rshape, rstrides):
    count = offsets.shape[0]
    if count == 0 or out.shape[0] == 0:
        return
    blocks, threads = grid_for(out.shape[0])
    _gather_rows[blocks, threads](out.array, src.array, offsets.array, out.shape[0] // count,
                                  _small(rshape), _small(rstrides))


def scatter_rows(dst, offsets, rshape, rstrides, src, accumulate):
    count = offsets.shape[0]
    if count == 0 or src.shape[0] == 0:
        return
    if accumulate and dst.dtype not in _ATOMIC:
        dst_words = _narrow(dst)
        if dst_words is None:
            from .. import cpu
            on_host("scatter_rows", cpu.scatter_rows)(dst, offsets, rshape, rstrides, src, accumulate)
            return
        blocks, threads = grid_for(src.shape[0])
        _scatter_rows_narrow[blocks, threads](dst_words.array, offsets.array, src.shape[0] // count, _small(rshape),
                                              _small(rstrides), src.array, dst.itemsize, dst.dtype == np.bool_)
        return
    if not accumulate and _may_repeat(offsets):
        offsets = from_host(_last_writes(to_host(offsets)))  # a local: kept until the launch is queued
    blocks, threads = grid_for(src.shape[0])
    _scatter_rows[blocks, threads](dst.array, offsets.array, src.shape[0] // count, _small(rshape),
                                   _small(rstrides), src.array, bool(accumulate))


def _narrow(dst):
    """The 32-bit words over dst (8- or 16-bit elements) for _add_narrow, or None: then the host adds (another
    library's memory, whose last word may not be whole, or an element size _add_narrow does not handle)."""
    return words(dst) if dst.itemsize in (1, 2) else None


def _may_repeat(offsets) -> bool:
    """Whether offsets could name a place twice: not if they increase (a mask's, a slice's), checked on the device
    so that only then the offsets go to the host to find the last write to each place."""
    if offsets.shape[0] < 2:
        return False
    blocks, threads = grid_for(offsets.shape[0] - 1)
    return _first_bad(lambda slot: _first_not_increasing[blocks, threads](slot, offsets.array)) >= 0


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
        dst_words = _narrow(dst)
        if dst_words is None:
            from .. import cpu
            on_host("scatter_dim", cpu.scatter_dim)(dst, d_off, d_strides, idx, src, s_off, s_strides, shape, dim,
                                                    accumulate)
            return
        blocks, threads = grid_for(idx.shape[0])
        _scatter_dim_narrow[blocks, threads](dst_words.array, d_off, _small(d_strides), idx.array, src.array, s_off,
                                             _small(s_strides), _small(shape), dim, dst.itemsize,
                                             dst.dtype == np.bool_)
        return
    blocks, threads = grid_for(idx.shape[0])
    _scatter_dim[blocks, threads](dst.array, d_off, _small(d_strides), idx.array, src.array, s_off, _small(s_strides),
                                  _small(shape), dim, bool(accumulate))


def check_range(idx, low, high):
    """Index of the first element outside [low, high), or -1."""
    if idx.shape[0] == 0:
        return -1
    blocks, threads = grid_for(idx.shape[0])
    return _first_bad(lambda slot: _first_outside[blocks, threads](slot, idx.array, int(low), int(high)))


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

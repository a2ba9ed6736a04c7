"""Indexing kernels: offsets from index tensors (with bounds checks), gather/scatter, nonzero, sorting.

Numba runs without bounds checks. index_offsets and check_range validate user indices and report
the first bad one (as a return value) instead of touching memory; gather_dim, scatter_dim,
scatter_rows and one_hot trust their callers (tcli.ops.indexing), which check indices and shapes.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from ._jit import PARALLEL_MIN, jit, serial_and_parallel


@jit(inline="always")
def _row_offset(r, rshape, rstrides):
    """Offset of element r (a flat index over rshape) given rstrides."""
    off = 0
    for d in range(rshape.shape[0] - 1, -1, -1):
        n = rshape[d]
        off += (r % n) * rstrides[d]
        r //= n
    return off


@jit
def index_offsets(offsets, indices, sizes, strides, base):
    """offsets[b] = base + sum_k wrap(indices[k * B + b]) * strides[k], for B = len(offsets) and k < len(sizes).

    Returns -1 if all indices are in range, else the position b * K + k of the first bad one (K = len(sizes)).
    """
    k_count, count = sizes.shape[0], offsets.shape[0]
    for b in range(count):
        off = base
        for k in range(k_count):
            i = indices[k * count + b]
            n = sizes[k]
            if i < -n or i >= n:
                return b * k_count + k
            if i < 0:
                i += n
            off += i * strides[k]
        offsets[b] = off
    return -1


def _gather_rows(out, src, offsets, rshape, rstrides):
    """out[b, r] = src[offsets[b] + offset(r)] for a dense out of shape (B, R)."""
    count = offsets.shape[0]
    rows = out.shape[0] // count if count else 0
    for b in prange(count):
        base = offsets[b]
        for r in range(rows):
            out[b * rows + r] = src[base + _row_offset(r, rshape, rstrides)]


_GATHER_ROWS = serial_and_parallel(_gather_rows)


def gather_rows(out, src, offsets, rshape, rstrides):
    _GATHER_ROWS[out.shape[0] >= PARALLEL_MIN](out, src, offsets, rshape, rstrides)


@jit
def scatter_rows(dst, offsets, rshape, rstrides, src, accumulate):
    """dst[offsets[b] + offset(r)] (+)= src[b, r]; serial, so repeated indices accumulate exactly."""
    count = offsets.shape[0]
    rows = src.shape[0] // count if count else 0
    for b in range(count):
        base = offsets[b]
        for r in range(rows):
            j = base + _row_offset(r, rshape, rstrides)
            if accumulate:
                dst[j] += src[b * rows + r]
            else:
                dst[j] = src[b * rows + r]


@jit
def check_range(idx, low, high):
    """Index of the first element outside [low, high), or -1."""
    for i in range(idx.shape[0]):
        if idx[i] < low or idx[i] >= high:
            return i
    return -1


@jit
def gather_dim(out, src, s_off, s_strides, idx, shape, dim):
    """out[p] = src[p with p[dim] replaced by idx[p]] for p over shape (idx dense, already range-checked)."""
    nd = shape.shape[0]
    for p in range(out.shape[0]):
        rem = p
        off = s_off
        for d in range(nd - 1, -1, -1):
            n = shape[d]
            coord = rem % n
            rem //= n
            if d == dim:
                coord = idx[p]
            off += coord * s_strides[d]
        out[p] = src[off]


@jit
def scatter_dim(dst, d_off, d_strides, idx, src, s_off, s_strides, shape, dim, accumulate):
    """dst[p with p[dim] = idx[p]] (+)= src[p] for p over shape (idx dense over shape)."""
    nd = shape.shape[0]
    total = idx.shape[0]
    for p in range(total):
        rem = p
        off = d_off
        soff = s_off
        for d in range(nd - 1, -1, -1):
            n = shape[d]
            coord = rem % n
            rem //= n
            soff += coord * s_strides[d]
            if d == dim:
                coord = idx[p]
            off += coord * d_strides[d]
        if accumulate:
            dst[off] += src[soff]
        else:
            dst[off] = src[soff]


@jit
def count_nonzero(x):
    n = 0
    for i in range(x.shape[0]):
        if x[i] != 0:
            n += 1
    return n


@jit
def nonzero(out, x, shape):
    """out (n, ndim) = coordinates of the nonzero elements of dense x, in row-major order."""
    nd = shape.shape[0]
    row = 0
    for p in range(x.shape[0]):
        if x[p] != 0:
            rem = p
            for d in range(nd - 1, -1, -1):
                out[row * nd + d] = rem % shape[d]
                rem //= shape[d]
            row += 1


@jit
def one_hot(out, idx, num_classes):
    for i in range(idx.shape[0]):
        out[i * num_classes + idx[i]] = 1


def _sort_rows(values, indices, x, rows, n, descending):
    """Stable sort of each contiguous row of x; NaN sorts as the largest value (as in PyTorch)."""
    for r in prange(rows):
        row = x[r * n:(r + 1) * n]
        order = np.argsort(row, kind="mergesort")
        if descending:
            order = _descending(row, order)
        for j in range(n):
            indices[r * n + j] = order[j]
            values[r * n + j] = row[order[j]]


_SORT_ROWS = None


def sort_rows(values, indices, x, rows, n, descending):
    global _SORT_ROWS
    if _SORT_ROWS is None:
        _SORT_ROWS = serial_and_parallel(_sort_rows)
    _SORT_ROWS[rows > 1 and rows * n >= PARALLEL_MIN](values, indices, x, rows, n, descending)


@jit
def _descending(row, order):
    """Reverse an ascending stable order, keeping equal values in their original order."""
    n = order.shape[0]
    out = np.empty_like(order)
    j = 0
    end = n
    while end > 0:
        start = end - 1
        v = row[order[start]]
        while start > 0 and (row[order[start - 1]] == v or (v != v and row[order[start - 1]] != row[order[start - 1]])):
            start -= 1
        for i in range(start, end):
            out[j] = order[i]
            j += 1
        end = start
    return out


@jit
def unique_sorted(values, inverse, counts, sorted_x, order):
    """Unique values of a sorted array, with the inverse map and counts; returns how many."""
    n = sorted_x.shape[0]
    u = -1
    for i in range(n):
        if i == 0 or sorted_x[i] != sorted_x[i - 1]:
            u += 1
            values[u] = sorted_x[i]
            counts[u] = 0
        counts[u] += 1
        inverse[order[i]] = u
    return u + 1

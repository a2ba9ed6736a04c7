"""Reductions, scans and softmax over a dense buffer viewed as (outer, red, inner).

The caller lays the reduced dims out contiguously (copying if needed); ``red`` is their total
size and ``inner`` the size of the trailing kept dims. With inner == 1 each output reduces one
contiguous row (vectorised with reassociation); otherwise rows of ``inner`` accumulate
elementwise, which vectorises over the inner dim. Outer rows run on threads when there is work.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._jit import PARALLEL_MIN, KernelTable, chunks_for
from .vmath import fexp, fmaxnum

# ---- combine functions: acc = OP(acc, x); FIN(acc, n) finishes (mean divides) -----------------------------

COMBINE: dict = {}
FINISH: dict = {}


def _combine(name, finish=None):
    def register(fn):
        COMBINE[name] = fn
        FINISH[name] = finish or _identity
        return fn
    return register


@njit(inline="always")
def _identity(acc, n):
    return acc


@njit(inline="always")
def _divide_by_n(acc, n):
    return acc / n


@_combine("sum")
def _sum(acc, x):
    return acc + x


@_combine("mean", _divide_by_n)
def _mean(acc, x):
    return acc + x


@_combine("prod")
def _prod(acc, x):
    return acc * x


@_combine("max")
def _max(acc, x):
    return acc if (acc >= x or acc != acc) else x


@_combine("min")
def _min(acc, x):
    return acc if (acc <= x or acc != acc) else x


@_combine("all")
def _all(acc, x):
    return acc and (x != 0)


@_combine("any")
def _any(acc, x):
    return acc or (x != 0)


# ---- templates --------------------------------------------------------------------------------------------

OP = FIN = None


def _reduce(o, x, outer, red, inner):
    """o[k, i] = reduce_r x[k, r, i] (red >= 1).

    Loops run over 0-based row views: with offsets LLVM cannot prove the index is non-negative,
    keeps numba's wraparound check and falls back to gathers instead of vector loads.
    """
    if inner == 1:
        for k in prange(outer):
            row = x[k * red:(k + 1) * red]
            acc = row[0]
            for r in range(1, red):
                acc = OP(acc, row[r])
            o[k] = FIN(acc, red)
    else:
        for k in prange(outer):
            out = o[k * inner:(k + 1) * inner]
            block = x[k * red * inner:(k + 1) * red * inner]
            for i in range(inner):
                out[i] = block[i]
            for r in range(1, red):
                row = block[r * inner:(r + 1) * inner]
                for i in range(inner):
                    out[i] = OP(out[i], row[i])
            for i in range(inner):
                out[i] = FIN(out[i], red)


def _reduce_all(o, x, nchunks):
    """o[0] = reduce of all of x (len >= 1), in parallel chunks."""
    n = x.shape[0]
    per = (n + nchunks - 1) // nchunks
    nchunks = (n + per - 1) // per  # no empty chunk: each starts from its own first element
    partial = np.empty(nchunks, o.dtype)
    for c in prange(nchunks):
        part = x[c * per:min(n, (c + 1) * per)]
        acc = part[0]
        for i in range(1, part.shape[0]):
            acc = OP(acc, part[i])
        partial[c] = acc
    acc = partial[0]
    for c in range(1, nchunks):
        acc = OP(acc, partial[c])
    o[0] = FIN(acc, n)


# Float sums accumulate in float64: one float32 accumulator over n values drifts by ~n ulps (the mean of 60000 x 784
# values of 0.3 came out 0.3002, a sum of 2**25 ones stopped at 2**24), where PyTorch's cascade sum stays exact
# to print precision. A float64 accumulator keeps float32 data's sums correctly rounded at any length that fits
# in memory, and costs nothing that shows: the loops stay vectorised and bound by memory.

_COLUMNS = 512


def _reduce_wide(o, x, outer, red, inner):
    """_reduce for sums and means of floats, in float64 accumulators."""
    if inner == 1:
        for k in prange(outer):
            row = x[k * red:(k + 1) * red]
            acc = 0.0
            for r in range(red):
                acc += row[r]
            o[k] = FIN(acc, red)
    else:  # tasks of up to _COLUMNS columns: their float64 row stays in L1, and a wide (1, red, inner) has tasks
        blocks = (inner + _COLUMNS - 1) // _COLUMNS
        for task in prange(outer * blocks):
            k, c0 = task // blocks, task % blocks * _COLUMNS
            width = min(inner, c0 + _COLUMNS) - c0
            acc = np.zeros(width, np.float64)
            for r in range(red):
                start = (k * red + r) * inner + c0
                row = x[start:start + width]
                for i in range(width):
                    acc[i] += row[i]
            out = o[k * inner + c0:k * inner + c0 + width]
            for i in range(width):
                out[i] = FIN(acc[i], red)


def _reduce_all_wide(o, x, nchunks):
    """_reduce_all for sums and means of floats, in float64 accumulators."""
    n = x.shape[0]
    per = (n + nchunks - 1) // nchunks
    partial = np.zeros(nchunks, np.float64)
    for c in prange(nchunks):
        part = x[min(n, c * per):min(n, (c + 1) * per)]
        acc = 0.0
        for i in range(part.shape[0]):
            acc += part[i]
        partial[c] = acc
    acc = 0.0
    for c in range(nchunks):
        acc += partial[c]
    o[0] = FIN(acc, n)


_REDUCERS = {name: {"OP": COMBINE[name], "FIN": FINISH[name]} for name in COMBINE}
_WIDE_SUMS = {name: {"FIN": FINISH[name]} for name in ("sum", "mean")}
_FAST = {"reassoc", "nsz", "contract"}  # lets LLVM split an accumulation into vector lanes
_ROWS = KernelTable.pair("reduce", _reduce, _REDUCERS, fastmath=_FAST)
_ALL = KernelTable.pair("reduce_all", _reduce_all, _REDUCERS, fastmath=_FAST)
_ROWS_WIDE = KernelTable.pair("reduce_wide", _reduce_wide, _WIDE_SUMS, fastmath=_FAST)
_ALL_WIDE = KernelTable.pair("reduce_all_wide", _reduce_all_wide, _WIDE_SUMS, fastmath=_FAST)


# ---- argmax / argmin, and max/min with indices --------------------------------------------------------------

@njit(inline="always")
def _better_max(x, best):
    return x > best or (x != x and best == best)


@njit(inline="always")
def _better_min(x, best):
    return x < best or (x != x and best == best)


BETTER = {"max": _better_max.py_func, "min": _better_min.py_func}


def _arg_reduce(values, indices, x, outer, red, inner):
    """values[k, i], indices[k, i] = best x[k, r, i] and its first r (NaN is best, as in PyTorch)."""
    for k in prange(outer):
        if inner == 1:
            row = x[k * red:(k + 1) * red]
            best = row[0]
            at = 0
            for r in range(1, red):
                v = row[r]
                if OP(v, best):
                    best = v
                    at = r
            values[k] = best
            indices[k] = at
            continue
        for i in range(inner):
            base = k * red * inner + i
            best = x[base]
            at = 0
            for r in range(1, red):
                v = x[base + r * inner]
                if OP(v, best):
                    best = v
                    at = r
            values[k * inner + i] = best
            indices[k * inner + i] = at


_ARG = KernelTable.pair("arg_reduce", _arg_reduce, BETTER)


# ---- variance ------------------------------------------------------------------------------------------------

def _variance(o, x, outer, red, inner, correction):
    """Two-pass variance along r with Bessel-style correction (divide by red - correction)."""
    denom = max(red - correction, 0)
    for k in prange(outer):
        if inner == 1:
            row = x[k * red:(k + 1) * red]
            mean = 0.0
            for r in range(red):
                mean += row[r]
            mean /= red
            acc = 0.0
            for r in range(red):
                d = row[r] - mean
                acc += d * d
            o[k] = acc / denom if denom > 0 else math.nan
            continue
        for i in range(inner):
            base = k * red * inner + i
            mean = 0.0
            for r in range(red):
                mean += x[base + r * inner]
            mean /= red
            acc = 0.0
            for r in range(red):
                d = x[base + r * inner] - mean
                acc += d * d
            o[k * inner + i] = acc / denom if denom > 0 else math.nan


_VAR = KernelTable.pair("variance", _variance, {"var": None}, fastmath=_FAST)


# ---- logsumexp, softmax, log_softmax ---------------------------------------------------------------------------

def _logsumexp(o, x, outer, red, inner):
    for k in prange(outer):
        for i in range(inner):
            base = k * red * inner + i
            m = x[base]
            for r in range(1, red):
                v = x[base + r * inner]
                if v > m or v != v:
                    m = v
            if math.isinf(m):  # all -inf, or some +inf: the answer is m itself
                o[k * inner + i] = m
                continue
            s = 0.0
            for r in range(red):
                s += fexp(x[base + r * inner] - m)
            o[k * inner + i] = m + math.log(s)


_LSE = KernelTable.pair("logsumexp", _logsumexp, {"logsumexp": None})


@njit(fastmath={"nnan", "nsz", "reassoc"})
def _row_max(row):
    """max of a row, vectorised. NaNs are skipped here, which softmax can afford: a NaN in the row
    still turns its sum, hence the whole row, into NaN."""
    m = row[0]
    for r in range(row.shape[0]):
        m = fmaxnum(m, row[r])
    return m


def _softmax(o, x, outer, red, inner):
    """Softmax (OP=0) or log-softmax (OP=1) along r, max-shifted for stability.

    NaN needs no special case: a NaN anywhere in a row makes its sum, hence the whole row, NaN.
    """
    for k in prange(outer):
        if inner == 1:
            xr = x[k * red:(k + 1) * red]
            orow = o[k * red:(k + 1) * red]
            m = _row_max(xr)
            if OP == 0:
                s = fexp(xr[0] - m)  # starts the sum in the input's dtype
                orow[0] = s
                for r in range(1, red):
                    e = fexp(xr[r] - m)
                    orow[r] = e
                    s += e
                inv = 1 / s
                for r in range(red):
                    orow[r] *= inv
            else:
                # (x - m) - log(s), as PyTorch rounds it: x - (m + log(s)) loses log(s)'s digits when |m| is large.
                # The shifted values go through memory, so reassoc cannot fold the two subtractions back together.
                d = xr[0] - m
                orow[0] = d
                s = fexp(d)
                for r in range(1, red):
                    d = xr[r] - m
                    orow[r] = d
                    s += fexp(d)
                log_s = math.log(s)
                for r in range(red):
                    orow[r] -= log_s
        else:
            for i in range(inner):
                base = k * red * inner + i
                m = x[base]
                for r in range(1, red):
                    v = x[base + r * inner]
                    m = v if v > m else m
                s = 0.0
                for r in range(red):
                    s += fexp(x[base + r * inner] - m)
                if OP == 0:
                    inv = 1.0 / s
                    for r in range(red):
                        o[base + r * inner] = fexp(x[base + r * inner] - m) * inv
                else:
                    for r in range(red):
                        o[base + r * inner] = x[base + r * inner] - m
                    log_s = math.log(s)
                    for r in range(red):
                        o[base + r * inner] -= log_s


_SOFTMAX = KernelTable.pair("softmax", _softmax, {"softmax": 0, "log_softmax": 1}, fastmath=_FAST)


def _softmax_backward(gi, g, y, outer, red, inner):
    """Gradient of softmax (OP=0: y*(g - sum(g*y))) or log_softmax (OP=1: g - exp(y)*sum(g)) along r."""
    for k in prange(outer):
        for i in range(inner):
            base = k * red * inner + i
            s = 0.0
            for r in range(red):
                j = base + r * inner
                s += g[j] * y[j] if OP == 0 else g[j]
            for r in range(red):
                j = base + r * inner
                if OP == 0:
                    gi[j] = y[j] * (g[j] - s)
                else:
                    gi[j] = g[j] - fexp(y[j]) * s


_SOFTMAX_BWD = KernelTable.pair("softmax_backward", _softmax_backward, {"softmax": 0, "log_softmax": 1})


# ---- scans ------------------------------------------------------------------------------------------------

def _scan(o, x, outer, red, inner):
    for k in prange(outer):
        for i in range(inner):
            base = k * red * inner + i
            acc = x[base]
            o[base] = acc
            for r in range(1, red):
                j = base + r * inner
                acc = OP(acc, x[j])
                o[j] = acc


def _scan_wide(o, x, outer, red, inner):
    """_scan for cumsum/cumprod of floats: a float64 running value, as PyTorch's CPU kernel keeps."""
    for k in prange(outer):
        for i in range(inner):
            base = k * red * inner + i
            acc = np.float64(x[base])
            o[base] = acc
            for r in range(1, red):
                j = base + r * inner
                acc = OP(acc, x[j])
                o[j] = acc


_SCAN = KernelTable.pair("scan", _scan, {"cumsum": COMBINE["sum"], "cumprod": COMBINE["prod"],
                                          "cummax": COMBINE["max"], "cummin": COMBINE["min"]})
_SCAN_WIDE = KernelTable.pair("scan_wide", _scan_wide, {"cumsum": COMBINE["sum"], "cumprod": COMBINE["prod"]})


# ---- the contract ----------------------------------------------------------------------------------------------

def _parallel(work):
    return work >= PARALLEL_MIN


def reduce(op, out, x, outer, red, inner):
    """out (outer*inner) = op-reduction of x viewed as (outer, red, inner); red >= 1."""
    wide = x.dtype.kind == "f" and op in _WIDE_SUMS
    if outer == 1 and inner == 1:
        nchunks = chunks_for(red)
        (_ALL_WIDE if wide else _ALL)[nchunks > 1][op](out, x, nchunks)
        return
    par = _parallel(outer * red * inner) and (outer > 1 or (wide and inner > _COLUMNS))
    (_ROWS_WIDE if wide else _ROWS)[par][op](out, x, outer, red, inner)


def arg_reduce(op, values, indices, x, outer, red, inner):
    """values, indices = max/min of x along red (first index of the best; NaN counts as best)."""
    _ARG[_parallel(outer * red * inner) and outer > 1][op](values, indices, x, outer, red, inner)


def variance(out, x, outer, red, inner, correction):
    _VAR[_parallel(outer * red * inner) and outer > 1]["var"](out, x, outer, red, inner, correction)


def logsumexp(out, x, outer, red, inner):
    _LSE[_parallel(outer * red * inner) and outer > 1]["logsumexp"](out, x, outer, red, inner)


def softmax(op, out, x, outer, red, inner):
    """op is 'softmax' or 'log_softmax'; out has x's layout."""
    _SOFTMAX[_parallel(outer * red * inner) and outer > 1][op](out, x, outer, red, inner)


def softmax_backward(op, grad_in, grad, y, outer, red, inner):
    _SOFTMAX_BWD[_parallel(outer * red * inner) and outer > 1][op](grad_in, grad, y, outer, red, inner)


def scan(op, out, x, outer, red, inner):
    """Inclusive scan along red: cumsum, cumprod, cummax, cummin."""
    table = _SCAN_WIDE if x.dtype.kind == "f" and op in ("cumsum", "cumprod") else _SCAN
    table[_parallel(outer * red * inner) and outer > 1][op](out, x, outer, red, inner)

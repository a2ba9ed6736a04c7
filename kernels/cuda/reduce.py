"""Reductions on the device, with the CPU contract: out (outer*inner) = reduce over red of x viewed as
(outer, red, inner), x a dense buffer and red >= 1.

Many outputs: one thread each, walking its red elements. Few outputs over long rows: one block each,
threads striding over the row, then a shared-memory tree (the simulator has no warp shuffles)."""

from __future__ import annotations

from numba import cuda, from_dtype

from ..templates import specialise
from .buffer import alloc
from .launch import THREADS, grid_for, jit


def _sum(acc, x):
    return acc + x


def _prod(acc, x):
    return acc * x


def _max(acc, x):
    return acc if (acc >= x or acc != acc) else x


def _min(acc, x):
    return acc if (acc <= x or acc != acc) else x


def _all(acc, x):
    return acc and (x != 0)


def _any(acc, x):
    return acc or (x != 0)


def _identity(acc, n):
    return acc


def _divide(acc, n):
    return acc / DTYPE(n)  # n in the accumulator's type: an int64 divisor would widen float32 to float64


_OPS = {"sum": (_sum, _identity), "mean": (_sum, _divide), "prod": (_prod, _identity), "max": (_max, _identity),
        "min": (_min, _identity), "all": (_all, _identity), "any": (_any, _identity)}

_SCANS = {"cumsum": _sum, "cumprod": _prod, "cummax": _max, "cummin": _min}

OP = FIN = DTYPE = None
_BLOCK = THREADS


def _per_thread(o, x, outer, red, inner):
    j = cuda.grid(1)
    while j < outer * inner:
        k, i = j // inner, j % inner
        base = k * red * inner + i
        acc = x[base]
        for r in range(1, red):
            acc = OP(acc, x[base + r * inner])
        o[j] = FIN(acc, red)
        j += cuda.gridsize(1)


def _per_block(o, x, outer, red, inner):
    part = cuda.shared.array(_BLOCK, DTYPE)
    t = cuda.threadIdx.x
    j = cuda.blockIdx.x
    while j < outer * inner:  # the grid strides over outputs
        k, i = j // inner, j % inner
        base = k * red * inner + i
        if t < red:
            acc = x[base + t * inner]
            r = t + _BLOCK
            while r < red:
                acc = OP(acc, x[base + r * inner])
                r += _BLOCK
            part[t] = acc
        cuda.syncthreads()
        active = min(red, _BLOCK)
        step = _BLOCK // 2
        while step > 0:
            if t < step and t + step < active:
                part[t] = OP(part[t], part[t + step])
            cuda.syncthreads()
            step //= 2
        if t == 0:
            o[j] = FIN(part[0], red)
        cuda.syncthreads()
        j += cuda.gridDim.x


def _scan(o, x, outer, red, inner):
    """Inclusive scan along each row (a thread walks its row in order, as the CPU kernel does)."""
    j = cuda.grid(1)
    while j < outer * inner:
        base = (j // inner) * red * inner + j % inner
        acc = x[base]
        o[base] = acc
        for r in range(1, red):
            p = base + r * inner
            acc = OP(acc, x[p])
            o[p] = acc
        j += cuda.gridsize(1)


def _partials(o, x, n):
    """o[b] = the reduction of the elements b*T + t + i*(gridDim*T) of x, for a grid of blocks of T threads
    (every thread has at least one element: the caller sizes the grid so). A full reduction then reduces o."""
    part = cuda.shared.array(_BLOCK, DTYPE)
    t = cuda.threadIdx.x
    stride = cuda.gridDim.x * _BLOCK
    i = cuda.blockIdx.x * _BLOCK + t
    acc = x[i]
    i += stride
    while i < n:
        acc = OP(acc, x[i])
        i += stride
    part[t] = acc
    cuda.syncthreads()
    step = _BLOCK // 2
    while step > 0:
        if t < step:
            part[t] = OP(part[t], part[t + step])
        cuda.syncthreads()
        step //= 2
    if t == 0:
        o[cuda.blockIdx.x] = part[0]


_kernels: dict = {}
_MAX_PARTIALS = 1024  # blocks of the first pass of a full reduction


def _kernel(template, op, dtype):
    key = (template.__name__, op, dtype.str)
    kernel = _kernels.get(key)
    if kernel is None:
        combine, finish = _OPS[op] if template is not _scan else (_SCANS[op], _identity)
        scope = dict(template.__globals__)
        scope["DTYPE"] = from_dtype(dtype)
        scope.update(OP=cuda.jit(device=True)(specialise(combine, scope=scope)),
                     FIN=cuda.jit(device=True)(specialise(finish, scope=scope)))
        kernel = _kernels[key] = jit(specialise(template, f"cuda{template.__name__}_{op}_{dtype.name}", scope))
    return kernel


def reduce(op, out, x, outer, red, inner):
    if op not in _OPS:
        raise NotImplementedError(f"tcli has no CUDA kernel for the reduction '{op}' yet."
                                  "\nhint: move the tensor to the CPU for it with .cpu().")
    outputs = outer * inner
    if outputs == 1 and red >= 8 * _BLOCK:  # a whole tensor: partial results from many blocks, then one block
        blocks = min(_MAX_PARTIALS, red // _BLOCK)
        scratch = alloc(blocks, x.dtype)  # held until both launches are queued
        partials = scratch.array
        combine = "sum" if op == "mean" else op  # the partials of a mean are sums: it divides by every element
        _kernel(_partials, combine, x.dtype)[blocks, _BLOCK](partials, x.array, red)
        _kernel(_per_block, combine, x.dtype)[1, _BLOCK](out.array, partials, 1, blocks, 1)
        if op == "mean":
            _scale[1, 1](out.array, red)
    elif outputs < 64 and red >= 4 * _BLOCK:
        _kernel(_per_block, op, x.dtype)[min(outputs, 1024), _BLOCK](out.array, x.array, outer, red, inner)
    else:
        blocks, threads = grid_for(outputs)
        _kernel(_per_thread, op, x.dtype)[blocks, threads](out.array, x.array, outer, red, inner)


@jit
def _scale(o, n):
    o[0] = o[0] / n


def scan(op, out, x, outer, red, inner):
    """Inclusive scan along red: cumsum, cumprod, cummax, cummin."""
    blocks, threads = grid_for(outer * inner)
    _kernel(_scan, op, x.dtype)[blocks, threads](out.array, x.array, outer, red, inner)

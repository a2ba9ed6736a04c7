"""Row-wise CUDA kernels with the CPU contract: softmax and log-softmax (and their gradients), argmax/argmin
with values, logsumexp, and nll_loss over class-index targets.

Rows are x viewed as (outer, red, inner): one thread per (k, i) walks its row of red elements with stride inner.
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda

from .buffer import alloc
from .launch import MAX_BLOCKS, SIMULATOR, THREADS, for_dtype, grid_for, jit

if SIMULATOR:  # C semantics for math under the simulator, as the GPU has them (see simmath.py)
    from .simmath import math  # noqa: F811

DTYPE = None
MAX_ROW_BLOCKS = 65535 if not SIMULATOR else MAX_BLOCKS  # the row kernels stride over rows past this


@jit
def _softmax(o, x, outer, red, inner, log):
    j = cuda.grid(1)
    while j < outer * inner:
        base = (j // inner) * red * inner + j % inner
        m = x[base]
        for r in range(1, red):
            v = x[base + r * inner]
            if v > m:
                m = v
        s = math.exp(x[base] - m)  # the sum starts from its first term: no untyped 0.0 (float64 on the GPU)
        if not log:
            o[base] = s
        for r in range(1, red):
            e = math.exp(x[base + r * inner] - m)
            if not log:
                o[base + r * inner] = e
            s += e
        if log:
            shift = m + math.log(s)
            for r in range(red):
                o[base + r * inner] = x[base + r * inner] - shift
        else:
            for r in range(red):
                o[base + r * inner] = o[base + r * inner] / s
        j += cuda.gridsize(1)


@jit
def _softmax_backward(gi, g, y, outer, red, inner, log):
    j = cuda.grid(1)
    while j < outer * inner:
        base = (j // inner) * red * inner + j % inner
        s = g[base] if log else g[base] * y[base]
        for r in range(1, red):
            p = base + r * inner
            s += g[p] if log else g[p] * y[p]
        for r in range(red):
            p = base + r * inner
            gi[p] = g[p] - math.exp(y[p]) * s if log else y[p] * (g[p] - s)
        j += cuda.gridsize(1)


@jit
def _arg_reduce(values, indices, x, outer, red, inner, largest):
    """The best value along each row and its first index; NaN is best, as in PyTorch."""
    j = cuda.grid(1)
    while j < outer * inner:
        base = (j // inner) * red * inner + j % inner
        best = x[base]
        at = 0
        for r in range(1, red):
            v = x[base + r * inner]
            better = (v > best) if largest else (v < best)
            if better or (v != v and best == best):
                best = v
                at = r
        values[j] = best
        indices[j] = at
        j += cuda.gridsize(1)


@jit
def _logsumexp(o, x, outer, red, inner):
    j = cuda.grid(1)
    while j < outer * inner:
        base = (j // inner) * red * inner + j % inner
        m = x[base]
        for r in range(1, red):
            v = x[base + r * inner]
            if v > m or v != v:
                m = v
        if math.isinf(m):
            o[j] = m
        else:
            s = math.exp(x[base] - m)
            for r in range(1, red):
                s += math.exp(x[base + r * inner] - m)
            o[j] = m + math.log(s)
        j += cuda.gridsize(1)


@jit
def _variance(o, x, outer, red, inner, correction):
    """Two passes along each row (mean, then squared deviations), divided by red - correction."""
    j = cuda.grid(1)
    while j < outer * inner:
        base = (j // inner) * red * inner + j % inner
        mean = 0.0
        for r in range(red):
            mean += x[base + r * inner]
        mean /= red
        acc = 0.0
        for r in range(red):
            d = x[base + r * inner] - mean
            acc += d * d
        denom = red - correction
        o[j] = acc / denom if denom > 0 else math.nan
        j += cuda.gridsize(1)


@jit
def _nll_rows(losses, terms, weights, logp, classes, target, weight, weighted, ignore_index):
    """Row i's loss -w * logp[i, t_i] (w = weight[t_i], or 1), into losses (the output's dtype) and terms (float64,
    for the sums), and w into weights; ignored rows give 0. Targets were checked on the host first."""
    i = cuda.grid(1)
    while i < target.shape[0]:
        t = target[i]
        if t != ignore_index and 0 <= t < classes:
            w = weight[t] if weighted else 1.0
            term = -w * logp[i * classes + t]
        else:
            w = term = 0.0
        losses[i] = term
        terms[i] = term
        weights[i] = w
        i += cuda.gridsize(1)


@jit
def _nll_grad(grad, classes, target, weight, weighted, ignore_index, scale, per_row):
    """grad (zero-filled, rows x classes) gets -w * scale at each row's target (scale[i] per row, or scale[0])."""
    i = cuda.grid(1)
    while i < target.shape[0]:
        t = target[i]
        if t != ignore_index and 0 <= t < classes:
            w = weight[t] if weighted else 1.0
            grad[i * classes + t] = -w * scale[i if per_row else 0]
        i += cuda.gridsize(1)


# ---- the contract ---------------------------------------------------------------------------------------------

# Rows along the last dim (inner == 1) at least a block wide: a block per row, so that a warp reads consecutive
# elements (a thread per row would make neighbouring threads read `red` elements apart), with shared-memory trees
# for the row's max and sum. The simulator has no warp shuffles, hence the trees.

def _row_tree(part, t, combine_max):
    """part[0] = the max (or sum) of part[0:THREADS]; every thread of the block calls it."""
    step = THREADS // 2
    while step > 0:
        cuda.syncthreads()
        if t < step:
            if combine_max:
                if part[t + step] > part[t]:
                    part[t] = part[t + step]
            else:
                part[t] += part[t + step]
        step //= 2
    cuda.syncthreads()


def _softmax_rows(o, x, rows, red, log):
    part = cuda.shared.array(THREADS, DTYPE)
    t = cuda.threadIdx.x
    for row in range(cuda.blockIdx.x, rows, cuda.gridDim.x):
        base = row * red
        m = x[base + t]  # red >= THREADS: every thread has an element
        for j in range(t + THREADS, red, THREADS):
            if x[base + j] > m:
                m = x[base + j]
        part[t] = m
        _row_tree(part, t, True)
        m = part[0]
        cuda.syncthreads()
        s = math.exp(x[base + t] - m)
        if not log:
            o[base + t] = s
        for j in range(t + THREADS, red, THREADS):
            e = math.exp(x[base + j] - m)
            if not log:
                o[base + j] = e
            s += e
        part[t] = s
        _row_tree(part, t, False)
        s = part[0]
        if log:
            shift = m + math.log(s)
            for j in range(t, red, THREADS):
                o[base + j] = x[base + j] - shift
        else:
            for j in range(t, red, THREADS):
                o[base + j] = o[base + j] / s
        cuda.syncthreads()


def _softmax_backward_rows(gi, g, y, rows, red, log):
    part = cuda.shared.array(THREADS, DTYPE)
    t = cuda.threadIdx.x
    for row in range(cuda.blockIdx.x, rows, cuda.gridDim.x):
        base = row * red
        s = g[base + t] if log else g[base + t] * y[base + t]
        for j in range(t + THREADS, red, THREADS):
            s += g[base + j] if log else g[base + j] * y[base + j]
        part[t] = s
        _row_tree(part, t, False)
        s = part[0]
        for j in range(t, red, THREADS):
            p = base + j
            gi[p] = g[p] - math.exp(y[p]) * s if log else y[p] * (g[p] - s)
        cuda.syncthreads()


def _row_kernel(template, dtype):
    return for_dtype(template, dtype, _row_tree)


def _by_block(inner, red) -> bool:
    return inner == 1 and red >= THREADS


def softmax(op, out, x, outer, red, inner):
    if _by_block(inner, red):
        _row_kernel(_softmax_rows, x.dtype)[min(outer, MAX_ROW_BLOCKS), THREADS](
            out.array, x.array, outer, red, op == "log_softmax")
        return
    blocks, threads = grid_for(outer * inner)
    _softmax[blocks, threads](out.array, x.array, outer, red, inner, op == "log_softmax")


def softmax_backward(op, grad_in, grad, y, outer, red, inner):
    if _by_block(inner, red):
        _row_kernel(_softmax_backward_rows, y.dtype)[min(outer, MAX_ROW_BLOCKS), THREADS](
            grad_in.array, grad.array, y.array, outer, red, op == "log_softmax")
        return
    blocks, threads = grid_for(outer * inner)
    _softmax_backward[blocks, threads](grad_in.array, grad.array, y.array, outer, red, inner, op == "log_softmax")


def arg_reduce(op, values, indices, x, outer, red, inner):
    blocks, threads = grid_for(outer * inner)
    _arg_reduce[blocks, threads](values.array, indices.array, x.array, outer, red, inner, op == "max")


def logsumexp(out, x, outer, red, inner):
    blocks, threads = grid_for(outer * inner)
    _logsumexp[blocks, threads](out.array, x.array, outer, red, inner)


def variance(out, x, outer, red, inner, correction):
    blocks, threads = grid_for(outer * inner)
    _variance[blocks, threads](out.array, x.array, outer, red, inner, correction)


def _weights(weight):
    """(the device array of a float64 weight buffer, whether there is one): an empty one stands for no weight."""
    if weight.shape[0]:
        return weight.array, True
    return alloc(1, np.float64).array, False


def nll_rows(logp, classes, target, weight, ignore_index, losses, terms, weights):
    """The per-row losses and weights of nll_loss, all on the device (the sums are device reductions): no host
    round trip, so a training step's loss does not stall the GPU. Differs from the CPU contract's nll_forward,
    which sums on the host's thread in row order."""
    rows = target.shape[0]
    if rows:
        blocks, threads = grid_for(rows)
        _nll_rows[blocks, threads](losses.array, terms.array, weights.array, logp.array, classes, target.array,
                                   *_weights(weight), ignore_index)


def nll_grad(grad, classes, target, weight, ignore_index, scale):
    """grad (zero-filled, rows x classes) gets -weight[t_i] * scale at each row's target; scale (float64, on the
    device) holds one value per row, or one for all."""
    rows = target.shape[0]
    if rows:
        blocks, threads = grid_for(rows)
        _nll_grad[blocks, threads](grad.array, classes, target.array, *_weights(weight), ignore_index, scale.array,
                                   scale.shape[0] == rows and rows > 1)

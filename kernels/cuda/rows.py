"""Row-wise CUDA kernels with the CPU contract: softmax and log-softmax (and their gradients), argmax/argmin
with values, logsumexp, and nll_loss over class-index targets.

Rows are x viewed as (outer, red, inner): one thread per (k, i) walks its row of red elements with stride inner.
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda, float64

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
        if log:  # (x - m) - log(s), as PyTorch rounds it: m + log(s) would lose log(s)'s digits for large m
            log_s = math.log(s)
            for r in range(red):
                o[base + r * inner] = (x[base + r * inner] - m) - log_s
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
def _nll_rows(losses, logp, classes, target, weight, weighted, ignore_index):
    """Row i's loss -w * logp[i, t_i] (w = weight[t_i], or 1); ignored rows give 0. Targets were checked on the
    host first."""
    i = cuda.grid(1)
    while i < target.shape[0]:
        t = target[i]
        losses[i] = -(weight[t] if weighted else 1.0) * logp[i * classes + t] if t != ignore_index else 0.0
        i += cuda.gridsize(1)


@jit
def _nll_partials(partials, logp, classes, target, weight, weighted, ignore_index):
    """Block b's sums, in float64, of its rows' losses -w * logp[i, t_i] and of their weights w: partials[2b],
    partials[2b + 1]."""
    losses = cuda.shared.array(THREADS, float64)
    weights = cuda.shared.array(THREADS, float64)
    k = cuda.threadIdx.x
    loss = total = 0.0
    i = cuda.grid(1)
    while i < target.shape[0]:
        t = target[i]
        if t != ignore_index:
            w = weight[t] if weighted else 1.0
            loss -= w * logp[i * classes + t]
            total += w
        i += cuda.gridsize(1)
    losses[k] = loss
    weights[k] = total
    _sum_pair(losses, weights, k)
    if k == 0:
        partials[2 * cuda.blockIdx.x] = losses[0]
        partials[2 * cuda.blockIdx.x + 1] = weights[0]


@jit
def _nll_finish(out, total_weight, partials, mean):
    """One block: the blocks' sums added up; out[0] = loss / weight (mean) or the loss, total_weight[0] = weight."""
    losses = cuda.shared.array(THREADS, float64)
    weights = cuda.shared.array(THREADS, float64)
    k = cuda.threadIdx.x
    loss = total = 0.0
    for b in range(k, partials.shape[0] // 2, THREADS):
        loss += partials[2 * b]
        total += partials[2 * b + 1]
    losses[k] = loss
    weights[k] = total
    _sum_pair(losses, weights, k)
    if k == 0:
        total_weight[0] = weights[0]
        out[0] = _ieee_div(losses[0], weights[0]) if mean else losses[0]


@jit
def _nll_grad(grad, classes, target, weight, weighted, ignore_index, g, per_row, total_weight, mean):
    """Every element of grad (rows x classes): -w * scale at each row's target, else 0; the scale is the output's
    gradient (g[i] per row, or g[0]), divided by the total weight for a mean."""
    j = cuda.grid(1)
    while j < grad.shape[0]:
        i = j // classes
        t = target[i]
        value = 0.0
        if j - i * classes == t and t != ignore_index:
            scale = float64(g[i if per_row else 0])
            if mean:
                scale = _ieee_div(scale, total_weight[0])
            value = -(weight[t] if weighted else 1.0) * scale
        grad[j] = value
        j += cuda.gridsize(1)


@cuda.jit(device=True)
def _sum_pair(a, b, k):
    """a[0], b[0] = the sums of a[0:THREADS], b[0:THREADS]; every thread of the block calls it."""
    step = THREADS // 2
    while step > 0:
        cuda.syncthreads()
        if k < step:
            a[k] += a[k + step]
            b[k] += b[k + step]
        step //= 2
    cuda.syncthreads()


@cuda.jit(device=True)
def _ieee_div(x, y):
    """x / y with IEEE's answers for y == 0 (inf, or nan for 0 / 0), as PyTorch's mean over zero weight gives."""
    if y != 0:
        return x / y
    if x != x or x == 0:
        return math.nan
    return math.copysign(math.inf, x) * math.copysign(1.0, y)


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
            log_s = math.log(s)
            for j in range(t, red, THREADS):
                o[base + j] = (x[base + j] - m) - log_s
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


def nll_rows(logp, classes, target, weight, ignore_index, losses):
    """nll_loss's per-row losses (reduction='none'), on the device."""
    rows = target.shape[0]
    if rows:
        blocks, threads = grid_for(rows)
        _nll_rows[blocks, threads](losses.array, logp.array, classes, target.array, *_weights(weight), ignore_index)


def nll_reduce(logp, classes, target, weight, ignore_index, mean, out, total_weight):
    """nll_loss's mean (or sum) into out (one element, logp's dtype) and its total weight into total_weight (one
    float64), in float64 as the CPU sums, in two launches and no host round trip. Targets were checked."""
    blocks = max(1, min(MAX_BLOCKS, -(-target.shape[0] // (THREADS * 8))))
    partials = alloc(2 * blocks, np.float64)
    _nll_partials[blocks, THREADS](partials.array, logp.array, classes, target.array, *_weights(weight),
                                   ignore_index)
    _nll_finish[1, THREADS](out.array, total_weight.array, partials.array, bool(mean))


def nll_grad(grad, classes, target, weight, ignore_index, g, total_weight, mean):
    """grad (rows x classes, every element written) of nll_loss: -weight[t_i] * scale at each row's target; the
    scale is g (the output's gradient: one value, or one per row), over total_weight for a mean."""
    if grad.shape[0]:
        blocks, threads = grid_for(grad.shape[0])
        _nll_grad[blocks, threads](grad.array, classes, target.array, *_weights(weight), ignore_index, g.array,
                                   g.shape[0] > 1, total_weight.array, bool(mean))

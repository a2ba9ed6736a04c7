"""Fused optimizer updates on the device: the CPU contract's rules (kernels/cpu/optim.py), one thread per
element in grid-stride loops, with the same fused multiply-adds (cuda.fma) and the same scalars.

Scalars arrive as the CPU's small array of the parameter's dtype and are passed as kernel arguments of that
dtype; a state buffer a configuration does not use arrives as None and is replaced by a one-element dummy.
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda

from .launch import SIMULATOR, grid_for, jit

if SIMULATOR:  # C semantics for math under the simulator, as the GPU has them (see simmath.py)
    from .simmath import math  # noqa: F811


@jit
def _sgd(p, g, buf, sign, wd, momentum, keep, neg_lr, has_momentum, first, nesterov):
    i = cuda.grid(1)
    while i < p.shape[0]:
        d = g[i] * sign
        if wd != 0:
            d = cuda.fma(wd, p[i], d)
        if has_momentum:
            b = d if first else cuda.fma(keep, d, buf[i] * momentum)
            buf[i] = b
            d = cuda.fma(momentum, b, d) if nesterov else b
        p[i] = cuda.fma(neg_lr, d, p[i])
        i += cuda.gridsize(1)


@jit
def _adam(p, g, m, v, vmax, sign, wd, decay, w1, one, beta2, w2, bc2_sqrt, eps, neg_step, amsgrad, decoupled):
    small, w1_minus_1 = w1 < 0.5, w1 - one
    i = cuda.grid(1)
    while i < p.shape[0]:
        d = g[i] * sign
        x = p[i]
        if decoupled:
            x = x * decay
        elif wd != 0:
            d = cuda.fma(wd, x, d)
        mi = m[i]
        mi = cuda.fma(w1, d - mi, mi) if small else cuda.fma(w1_minus_1, d - mi, d)  # PyTorch's lerp
        m[i] = mi
        vi = cuda.fma(w2 * d, d, v[i] * beta2)
        v[i] = vi
        if amsgrad:
            top = vmax[i]
            if vi > top or vi != vi:
                top = vi
            vmax[i] = top
            vi = top
        p[i] = x + (neg_step * mi) / (math.sqrt(vi) / bc2_sqrt + eps)
        i += cuda.gridsize(1)


@jit
def _rmsprop(p, g, sq, gavg, buf, sign, wd, alpha, w, one, eps, momentum, neg_lr, centered, has_momentum):
    small, w_minus_1 = w < 0.5, w - one
    i = cuda.grid(1)
    while i < p.shape[0]:
        d = g[i] * sign
        if wd != 0:
            d = cuda.fma(wd, p[i], d)
        s = cuda.fma(w * d, d, sq[i] * alpha)
        sq[i] = s
        if centered:
            a = gavg[i]
            a = cuda.fma(w, d - a, a) if small else cuda.fma(w_minus_1, d - a, d)
            gavg[i] = a
            s = cuda.fma(-a, a, s)
        avg = math.sqrt(s) + eps
        if has_momentum:
            b = buf[i] * momentum + d / avg
            buf[i] = b
            p[i] = cuda.fma(neg_lr, b, p[i])
        else:
            p[i] = p[i] + (neg_lr * d) / avg
        i += cuda.gridsize(1)


@jit
def _adagrad(p, g, total, sign, wd, eps, neg_clr):
    i = cuda.grid(1)
    while i < p.shape[0]:
        d = g[i] * sign
        if wd != 0:
            d = cuda.fma(wd, p[i], d)
        s = cuda.fma(d, d, total[i])
        total[i] = s
        p[i] = p[i] + (neg_clr * d) / (math.sqrt(s) + eps)
        i += cuda.gridsize(1)


_dummies: dict = {}


def _arrays(p, buffers):
    """The device arrays of p's state buffers, a shared one-element dummy for each unused (None) one."""
    dummy = _dummies.get(p.dtype.str)
    if dummy is None:
        dummy = _dummies[p.dtype.str] = cuda.device_array(1, p.dtype)
    return [dummy if b is None else b.array for b in buffers]


def _launch(kernel, p, g, buffers, sc, flags):
    n = p.shape[0]
    if n:
        blocks, threads = grid_for(n)
        kernel[blocks, threads](p.array, g.array, *_arrays(p, buffers), *np.asarray(sc, p.dtype), *flags)


def sgd_update(p, g, buf, sc, has_momentum, first, nesterov):
    _launch(_sgd, p, g, (buf,), sc, (has_momentum, first, nesterov))


def adam_update(p, g, m, v, vmax, sc, amsgrad, decoupled):
    _launch(_adam, p, g, (m, v, vmax), sc, (amsgrad, decoupled))


def rmsprop_update(p, g, sq, gavg, buf, sc, centered, has_momentum):
    _launch(_rmsprop, p, g, (sq, gavg, buf), sc, (centered, has_momentum))


def adagrad_update(p, g, total, sc):
    _launch(_adagrad, p, g, (total,), sc, ())

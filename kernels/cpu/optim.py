"""Fused optimizer updates: one pass over a parameter's flat buffer, its gradient and its state buffers.

Each kernel does in one loop what PyTorch's single-tensor optimizers do in a chain of in-place ops,
rounding where PyTorch stores a tensor and fusing a multiply-add where PyTorch's CPU kernels do
(``add(alpha=)``, ``lerp``, ``addcmul``), so results match PyTorch's bit for bit up to its sqrt.
Scalars arrive in ``sc``, a small array of the parameter's dtype, computed in Python double precision
as PyTorch computes them and rounded once: arithmetic stays in the buffer's dtype (lerp's ``weight - 1``
is formed from a 1 in ``sc``, exactly, as PyTorch forms it) and each kernel has one signature per
dtype. Flags are loop-invariant (LLVM unswitches them). A buffer a configuration does not use may be
any array of the dtype; it is never touched. Every buffer is dense and as long as the parameter's:
the caller checks, the kernels do not.
"""

from __future__ import annotations

import numpy as np
from numba import prange
from numba.core import types
from numba.extending import intrinsic

from ._jit import num_threads, serial_and_parallel

# Above this many elements an update runs on the thread pool (measured on 2 cores: a 200k-element Adam
# update takes 51 us instead of 100, SGD with momentum 25 instead of 38; at ~6e4 the two are even).
PARALLEL_UPDATE_MIN = 1 << 16


@intrinsic
def fma(typingctx, a, b, c):
    """a * b + c with one rounding (the FMA instruction PyTorch's vectorised CPU kernels use)."""
    if not (isinstance(a, types.Float) and a == b == c):
        return None

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return a(a, b, c), codegen


def _sgd(p, g, buf, sc, has_momentum, first, nesterov):
    """sc = (sign, weight_decay, momentum, 1 - dampening, -lr)."""
    sign, wd, momentum, keep, neg_lr = sc[0], sc[1], sc[2], sc[3], sc[4]
    for i in prange(p.shape[0]):
        d = g[i] * sign
        if wd != 0:
            d = fma(wd, p[i], d)
        if has_momentum:
            b = d if first else fma(keep, d, buf[i] * momentum)
            buf[i] = b
            d = fma(momentum, b, d) if nesterov else b
        p[i] = fma(neg_lr, d, p[i])


def _adam(p, g, m, v, vmax, sc, amsgrad, decoupled):
    """sc = (sign, weight_decay, 1 - lr * weight_decay, 1 - beta1 (lerp's weight), 1, beta2, 1 - beta2,
    sqrt(1 - beta2**step), eps, -lr / (1 - beta1**step))."""
    sign, wd, decay, w1, one, beta2, w2 = sc[0], sc[1], sc[2], sc[3], sc[4], sc[5], sc[6]
    bc2_sqrt, eps, neg_step = sc[7], sc[8], sc[9]
    small, w1_minus_1 = w1 < 0.5, w1 - one
    for i in prange(p.shape[0]):
        d = g[i] * sign
        x = p[i]
        if decoupled:
            x = x * decay
        elif wd != 0:
            d = fma(wd, x, d)
        mi = m[i]
        mi = fma(w1, d - mi, mi) if small else fma(w1_minus_1, d - mi, d)  # PyTorch's lerp
        m[i] = mi
        vi = fma(w2 * d, d, v[i] * beta2)
        v[i] = vi
        if amsgrad:
            top = vmax[i]
            if vi > top or vi != vi:  # torch.maximum: a NaN on either side wins
                top = vi
            vmax[i] = top
            vi = top
        p[i] = x + (neg_step * mi) / (np.sqrt(vi) / bc2_sqrt + eps)


def _rmsprop(p, g, sq, gavg, buf, sc, centered, has_momentum):
    """sc = (sign, weight_decay, alpha, 1 - alpha (lerp's weight), 1, eps, momentum, -lr)."""
    sign, wd, alpha, w, one, eps, momentum, neg_lr = sc[0], sc[1], sc[2], sc[3], sc[4], sc[5], sc[6], sc[7]
    small, w_minus_1 = w < 0.5, w - one
    for i in prange(p.shape[0]):
        d = g[i] * sign
        if wd != 0:
            d = fma(wd, p[i], d)
        s = fma(w * d, d, sq[i] * alpha)
        sq[i] = s
        if centered:
            a = gavg[i]
            a = fma(w, d - a, a) if small else fma(w_minus_1, d - a, d)
            gavg[i] = a
            s = fma(-a, a, s)
        avg = np.sqrt(s) + eps
        if has_momentum:
            b = buf[i] * momentum + d / avg
            buf[i] = b
            p[i] = fma(neg_lr, b, p[i])
        else:
            p[i] = p[i] + (neg_lr * d) / avg


def _adagrad(p, g, total, sc):
    """sc = (sign, weight_decay, eps, -lr / (1 + (step - 1) * lr_decay))."""
    sign, wd, eps, neg_clr = sc[0], sc[1], sc[2], sc[3]
    for i in prange(p.shape[0]):
        d = g[i] * sign
        if wd != 0:
            d = fma(wd, p[i], d)
        s = fma(d, d, total[i])
        total[i] = s
        p[i] = p[i] + (neg_clr * d) / (np.sqrt(s) + eps)


_SGD = serial_and_parallel(_sgd)
_ADAM = serial_and_parallel(_adam)
_RMSPROP = serial_and_parallel(_rmsprop)
_ADAGRAD = serial_and_parallel(_adagrad)


def _parallel(n: int) -> bool:
    """Whether an update of n elements runs on the thread pool: it must be big enough to pay, and with one
    thread no kernel may enter a parallel region (see ``kernels.cpu.set_num_threads``)."""
    return n >= PARALLEL_UPDATE_MIN and num_threads() > 1


def sgd_update(p, g, buf, sc, has_momentum, first, nesterov):
    _SGD[_parallel(p.shape[0])](p, g, buf, sc, has_momentum, first, nesterov)


def adam_update(p, g, m, v, vmax, sc, amsgrad, decoupled):
    _ADAM[_parallel(p.shape[0])](p, g, m, v, vmax, sc, amsgrad, decoupled)


def rmsprop_update(p, g, sq, gavg, buf, sc, centered, has_momentum):
    _RMSPROP[_parallel(p.shape[0])](p, g, sq, gavg, buf, sc, centered, has_momentum)


def adagrad_update(p, g, total, sc):
    _ADAGRAD[_parallel(p.shape[0])](p, g, total, sc)

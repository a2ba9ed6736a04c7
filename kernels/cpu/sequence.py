"""Kernels that write index-dependent sequences: arange, linspace."""

from __future__ import annotations

import numpy as np

from ._jit import jit


@jit(fastmath={"contract"})
def arange(out, start, step):
    # floats come as float64 start and step: start + i * step as one fused multiply-add (contract), then rounded
    # to out's dtype, as PyTorch's CPU kernel computes it (arange(-1, 1, 0.2)[5] is 5.55e-17 there, not 0)
    for i in range(out.shape[0]):
        out[i] = start + i * step


@jit
def linspace(out, start, end):
    # PyTorch's formula: step from the start for the first half, from the end for the second,
    # so both end points are exact.
    n = out.shape[0]
    if n == 1:
        out[0] = start
        return
    step = (end - start) / (n - 1)
    half = n // 2
    for i in range(n):
        out[i] = start + i * step if i < half else end - (n - 1 - i) * step


@jit
def linspace_f32(out, start, end):
    """linspace in float32 as PyTorch's CPU kernel rounds it (checked against torch 2.13): the step in float32,
    each value the exact start + i * step (or end - j * step) rounded once, as its vectorised fused multiply-add
    does; the float64 formula above put 0.0 where PyTorch has -1.49e-08 in linspace(-1, 1, 11)."""
    n = out.shape[0]
    if n == 1:
        out[0] = start
        return
    step = np.float32((end - start) / np.float32(n - 1))
    half = n // 2
    for i in range(n):
        if i < half:
            out[i] = np.float64(start) + i * np.float64(step)  # exact in float64: rounded once, on the store
        else:
            out[i] = np.float64(end) - (n - 1 - i) * np.float64(step)

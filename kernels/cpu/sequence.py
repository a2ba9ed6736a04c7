"""Kernels that write index-dependent sequences: arange, linspace."""

from __future__ import annotations

from ._jit import jit


@jit
def arange(out, start, step):
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

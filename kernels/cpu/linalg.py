"""Matrix products. float32/float64 go to the BLAS numpy links (OpenBLAS), which `tcli bench`
shows is several times faster than any numba loop here; other dtypes use the numba kernel."""

from __future__ import annotations

import numpy as np
from numba import prange

from ._jit import jit

_BLAS = (np.dtype(np.float32), np.dtype(np.float64))


@jit(parallel=True)
def matmul_loops(c, a, b):
    """c = a @ b for 2-D C-contiguous arrays: rows in parallel, unit-stride inner loops over b's rows."""
    m, k = a.shape
    n = b.shape[1]
    for i in prange(m):
        crow = c[i]
        for j in range(n):
            crow[j] = 0
        arow = a[i]
        for p in range(k):
            aip = arow[p]
            brow = b[p]
            for j in range(n):
                crow[j] += aip * brow[j]


def matmul(out, a, b):
    """out = a @ b for 2-D arrays (any strides; out C-contiguous)."""
    if out.dtype in _BLAS:
        np.matmul(a, b, out=out)
    else:
        matmul_loops(out, np.ascontiguousarray(a), np.ascontiguousarray(b))


def bmm(out, a, b):
    """out[i] = a[i] @ b[i] for 3-D arrays."""
    if out.dtype in _BLAS:
        np.matmul(a, b, out=out)
    else:
        for i in range(out.shape[0]):
            matmul_loops(out[i], np.ascontiguousarray(a[i]), np.ascontiguousarray(b[i]))

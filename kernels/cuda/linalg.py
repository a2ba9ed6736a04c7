"""Matrix products on the device: a shared-memory tiled GEMM reading its operands through their strides
(a transposed weight is read in place), batched over grid z.

A first kernel: 16x16 tiles, one output element per thread. Register blocking is the next step for speed.
"""

from __future__ import annotations

import types

from numba import cuda, from_dtype

TILE = 16
DTYPE = None


def _gemm(o, a, ao, a_bs, a_rs, a_cs, b, bo, b_bs, b_rs, b_cs, m, n, k):
    """o[z] (m x n, dense) = a[z] (m x k) @ b[z] (k x n) for batch z = blockIdx.z."""
    sa = cuda.shared.array((TILE, TILE), DTYPE)
    sb = cuda.shared.array((TILE, TILE), DTYPE)
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    col = cuda.blockIdx.x * TILE + tx
    row = cuda.blockIdx.y * TILE + ty
    z = cuda.blockIdx.z
    a_base = ao + z * a_bs
    b_base = bo + z * b_bs
    acc = DTYPE(0)
    for t in range((k + TILE - 1) // TILE):
        ka = t * TILE + tx
        kb = t * TILE + ty
        sa[ty, tx] = a[a_base + row * a_rs + ka * a_cs] if (row < m and ka < k) else DTYPE(0)
        sb[ty, tx] = b[b_base + kb * b_rs + col * b_cs] if (kb < k and col < n) else DTYPE(0)
        cuda.syncthreads()
        for e in range(TILE):
            acc += sa[ty, e] * sb[e, tx]
        cuda.syncthreads()
    if row < m and col < n:
        o[z * m * n + row * n + col] = acc


_kernels: dict = {}


def _kernel(dtype):
    kernel = _kernels.get(dtype.str)
    if kernel is None:
        scope = dict(_gemm.__globals__)
        scope["DTYPE"] = from_dtype(dtype)
        name = f"cuda_gemm_{dtype.name}"
        body = types.FunctionType(_gemm.__code__, scope, name)
        body.__qualname__ = name
        kernel = _kernels[dtype.str] = cuda.jit(body)
    return kernel


def gemm(out, a, b, batch, m, n, k):
    """out (batch x m x n, dense) = a @ b, each operand (buffer, offset, (batch stride, row stride, col stride))."""
    if batch * m * n == 0:
        return
    (abuf, ao, (a_bs, a_rs, a_cs)), (bbuf, bo, (b_bs, b_rs, b_cs)) = a, b
    grid = ((n + TILE - 1) // TILE, (m + TILE - 1) // TILE, batch)
    _kernel(out.dtype)[grid, (TILE, TILE)](out.array, abuf.array, ao, a_bs, a_rs, a_cs, bbuf.array, bo, b_bs, b_rs,
                                           b_cs, m, n, k)

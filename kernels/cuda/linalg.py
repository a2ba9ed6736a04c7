"""Matrix products on the device: shared-memory tiled GEMMs reading their operands through their strides
(a transposed weight is read in place), batched over grid z: a register-blocked kernel for products of at
least one 64 x 64 output tile, a simple 16 x 16 one (one output per thread) below that.
"""

from __future__ import annotations

import types

from numba import cuda, from_dtype

TILE = 16
DTYPE = None
_MAX_GRID_YZ = 65535  # CUDA's limit on grid dims y and z (the kernels stride over what is left)


def _gemm(o, a, ao, a_bs, a_rs, a_cs, b, bo, b_bs, b_rs, b_cs, m, n, k, batch):
    """o[z] (m x n, dense) = a[z] (m x k) @ b[z] (k x n); the grid strides over batches (z) and row tiles (y),
    which CUDA caps at 65535 blocks."""
    sa = cuda.shared.array((TILE, TILE), DTYPE)
    sb = cuda.shared.array((TILE, TILE), DTYPE)
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    col = cuda.blockIdx.x * TILE + tx
    for z in range(cuda.blockIdx.z, batch, cuda.gridDim.z):
        a_base = ao + z * a_bs
        b_base = bo + z * b_bs
        for tile_row in range(cuda.blockIdx.y, (m + TILE - 1) // TILE, cuda.gridDim.y):
            row = tile_row * TILE + ty
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


# The register-blocked kernel: a block computes a BM x BN tile of the output, each of its 256 threads a TM x TN
# patch held in registers, from BK-deep slices of A and B staged in shared memory (A transposed, so a thread's
# TM values of a column are contiguous). About 4x the arithmetic per shared-memory read of the simple kernel.
BM = BN = 64
BK = 8
TM = TN = 4
THREADS = (BM // TM) * (BN // TN)  # 256
LOADS = BM * BK // THREADS  # elements of each operand slice a thread stages (2)


def _gemm_blocked(o, a, ao, a_bs, a_rs, a_cs, b, bo, b_bs, b_rs, b_cs, m, n, k, batch):
    sa = cuda.shared.array((BK, BM), DTYPE)
    sb = cuda.shared.array((BK, BN), DTYPE)
    acc = cuda.local.array((TM, TN), DTYPE)
    ra = cuda.local.array(TM, DTYPE)
    rb = cuda.local.array(TN, DTYPE)
    tid = cuda.threadIdx.x
    tx, ty = tid % (BN // TN), tid // (BN // TN)
    col0 = cuda.blockIdx.x * BN
    for z in range(cuda.blockIdx.z, batch, cuda.gridDim.z):  # grid-stride: CUDA caps grid y and z at 65535
        a_base, b_base = ao + z * a_bs, bo + z * b_bs
        for tile_row in range(cuda.blockIdx.y, (m + BM - 1) // BM, cuda.gridDim.y):
            row0 = tile_row * BM
            for i in range(TM):
                for j in range(TN):
                    acc[i, j] = DTYPE(0)
            for k0 in range(0, k, BK):
                for s in range(LOADS):
                    e = tid + s * THREADS
                    r, c = e // BK, e % BK  # A: row r of the tile, column c of the slice
                    sa[c, r] = (a[a_base + (row0 + r) * a_rs + (k0 + c) * a_cs] if (row0 + r < m and k0 + c < k)
                                else DTYPE(0))
                    r, c = e // BN, e % BN  # B: row r of the slice, column c of the tile
                    sb[r, c] = (b[b_base + (k0 + r) * b_rs + (col0 + c) * b_cs] if (k0 + r < k and col0 + c < n)
                                else DTYPE(0))
                cuda.syncthreads()
                for kk in range(BK):
                    for i in range(TM):
                        ra[i] = sa[kk, ty * TM + i]
                    for j in range(TN):
                        rb[j] = sb[kk, tx * TN + j]
                    for i in range(TM):
                        for j in range(TN):
                            acc[i, j] += ra[i] * rb[j]
                cuda.syncthreads()
            for i in range(TM):
                r = row0 + ty * TM + i
                if r < m:
                    for j in range(TN):
                        c = col0 + tx * TN + j
                        if c < n:
                            o[z * m * n + r * n + c] = acc[i, j]


_kernels: dict = {}


def _kernel(dtype, template=_gemm):
    key = (template.__name__, dtype.str)
    kernel = _kernels.get(key)
    if kernel is None:
        scope = dict(template.__globals__)
        scope["DTYPE"] = from_dtype(dtype)
        name = f"cuda{template.__name__}_{dtype.name}"
        body = types.FunctionType(template.__code__, scope, name)
        body.__qualname__ = name
        kernel = _kernels[key] = cuda.jit(body)
    return kernel


def gemm(out, a, b, batch, m, n, k):
    """out (batch x m x n, dense) = a @ b, each operand (buffer, offset, (batch stride, row stride, col stride)).

    Products with at least one whole 64 x 64 output tile take the register-blocked kernel, smaller ones the
    simple tiled kernel (which wastes fewer threads on them)."""
    if batch * m * n == 0:
        return
    (abuf, ao, (a_bs, a_rs, a_cs)), (bbuf, bo, (b_bs, b_rs, b_cs)) = a, b
    args = (out.array, abuf.array, ao, a_bs, a_rs, a_cs, bbuf.array, bo, b_bs, b_rs, b_cs, m, n, k, batch)
    if m >= BM and n >= BN:
        grid = ((n + BN - 1) // BN, min((m + BM - 1) // BM, _MAX_GRID_YZ), min(batch, _MAX_GRID_YZ))
        _kernel(out.dtype, _gemm_blocked)[grid, THREADS](*args)
    else:
        grid = ((n + TILE - 1) // TILE, min((m + TILE - 1) // TILE, _MAX_GRID_YZ), min(batch, _MAX_GRID_YZ))
        _kernel(out.dtype)[grid, (TILE, TILE)](*args)

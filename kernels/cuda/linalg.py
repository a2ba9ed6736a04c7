"""Matrix products on the device: shared-memory tiled GEMMs reading their operands through their strides
(a transposed weight is read in place), batched over grid z: register-blocked kernels for products of at
least one 64 x 64 output tile, a simple 16 x 16 one (one output per thread) below that.
"""

from __future__ import annotations

from numba import cuda, from_dtype

from ..templates import specialise
from .buffer import overlap
from .launch import SIMULATOR, grid_for, jit
from .vector import load4

TILE = 16
DTYPE = None
_MAX_GRID_YZ = 65535  # CUDA's limit on grid dims y and z (the kernels stride over what is left)


def _gemm(o, a, ao, a_bs, a_rs, a_cs, b, bo, b_bs, b_rs, b_cs, m, n, k, batch, beta, bias, has_bias):
    """o[z] (m x n, dense) = a[z] (m x k) @ b[z] (k x n), plus bias on every row where has_bias (Linear's), plus
    o[z] where beta is 1 (o is not read where it is 0); the grid strides over batches (z) and row tiles (y), which
    CUDA caps at 65535 blocks."""
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
                out = z * m * n + row * n + col
                if has_bias:
                    acc += bias[col]
                o[out] = acc if beta == 0 else o[out] + acc


# The register-blocked kernel: a block computes a BM x BN tile of the output, each of its 256 threads a TM x TN
# patch held in registers, from BK-deep slices of A and B staged in shared memory (A transposed, so the values
# of a column sit in one row; its rows padded by 4 so the transposing stores hit 32 different banks).
# Shared-memory bandwidth, not arithmetic, bounds such a kernel, so a thread's patch is made of runs of 4
# neighbouring rows (columns): the run at ty*4 (tx*4) and, for 8 x 8 patches, a second one half a tile further.
# A run is one 128-bit load (load4: NVVM does not merge four scalar loads by itself), which quarters the load
# instructions per multiply-add, and the threads of a warp read neighbouring runs, so no bank conflicts.
# Two shapes (CONFIGS): 128 x 128 tiles of 8 x 8 per thread do twice the arithmetic per shared-memory read of
# 64 x 64 tiles of 4 x 4, and take products of at least one such tile; 64 x 64 tiles waste less on smaller ones.
BM = BN = BK = TM = TN = THREADS = LOADS = A_ROW = SA_SIZE = SB_SIZE = ALIGN = None  # bound by _kernel()
CONFIGS = {64: dict(BM=64, BN=64, BK=8, TM=4, TN=4), 128: dict(BM=128, BN=128, BK=8, TM=8, TN=8)}
BLOCK_THREADS = 256
PAD = 4


def _gemm_blocked(o, a, ao, a_bs, a_rs, a_cs, b, bo, b_bs, b_rs, b_cs, m, n, k, batch, beta, bias, has_bias):
    if ALIGN:  # sa[c * A_ROW + r]: A's row r, column c; sb[r * BN + c]: B's row r, column c
        sa = cuda.shared.array(SA_SIZE, DTYPE, alignment=ALIGN)
        sb = cuda.shared.array(SB_SIZE, DTYPE, alignment=ALIGN)
    else:  # the simulator: numpy arrays, and numba's own simulator takes no alignment
        sa = cuda.shared.array(SA_SIZE, DTYPE)
        sb = cuda.shared.array(SB_SIZE, DTYPE)
    acc = cuda.local.array((TM, TN), DTYPE)
    ra = cuda.local.array(TM, DTYPE)
    rb = cuda.local.array(TN, DTYPE)
    pa = cuda.local.array(LOADS, DTYPE)  # the next slice of A and B, on its way from global memory
    pb = cuda.local.array(LOADS, DTYPE)
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
            # Slice t is read from global memory into registers while slice t - 1 is multiplied from shared
            # memory, so the loads' latency hides behind the arithmetic.
            for t in range((k + BK - 1) // BK + 1):
                if t > 0:
                    for s in range(LOADS):
                        e = tid + s * THREADS
                        sa[(e % BK) * A_ROW + e // BK] = pa[s]
                        sb[e] = pb[s]  # (e // BN) * BN + e % BN
                    cuda.syncthreads()
                if t * BK < k:
                    k0 = t * BK
                    for s in range(LOADS):
                        e = tid + s * THREADS
                        r, c = e // BK, e % BK  # A: row r of the tile, column c of the slice
                        pa[s] = (a[a_base + (row0 + r) * a_rs + (k0 + c) * a_cs] if (row0 + r < m and k0 + c < k)
                                 else DTYPE(0))
                        r, c = e // BN, e % BN  # B: row r of the slice, column c of the tile
                        pb[s] = (b[b_base + (k0 + r) * b_rs + (col0 + c) * b_cs] if (k0 + r < k and col0 + c < n)
                                 else DTYPE(0))
                if t > 0:
                    for kk in range(BK):
                        for q in range(TM // 4):
                            ra[4 * q], ra[4 * q + 1], ra[4 * q + 2], ra[4 * q + 3] = load4(
                                sa, kk * A_ROW + q * (BM * 4 // TM) + ty * 4)
                        for q in range(TN // 4):
                            rb[4 * q], rb[4 * q + 1], rb[4 * q + 2], rb[4 * q + 3] = load4(
                                sb, kk * BN + q * (BN * 4 // TN) + tx * 4)
                        for i in range(TM):
                            for j in range(TN):
                                acc[i, j] += ra[i] * rb[j]
                    cuda.syncthreads()
            for i in range(TM):
                r = row0 + (i // 4) * (BM * 4 // TM) + ty * 4 + i % 4
                if r < m:
                    for j in range(TN):
                        c = col0 + (j // 4) * (BN * 4 // TN) + tx * 4 + j % 4
                        if c < n:
                            out = z * m * n + r * n + c
                            o[out] = acc[i, j] if beta == 0 else o[out] + acc[i, j]
            if has_bias:  # a pass of its own over what this thread just wrote: in the loop above, the bias's
                for i in range(TM):  # loads kept NVVM from holding acc in registers (it went to local memory)
                    r = row0 + (i // 4) * (BM * 4 // TM) + ty * 4 + i % 4
                    for j in range(TN):
                        c = col0 + (j // 4) * (BN * 4 // TN) + tx * 4 + j % 4
                        if r < m and c < n:
                            o[z * m * n + r * n + c] += bias[c]


_kernels: dict = {}


def _kernel(dtype, template=_gemm, tile=None):
    key = (template.__name__, dtype.str, tile)
    kernel = _kernels.get(key)
    if kernel is None:
        scope = dict(template.__globals__)
        scope["DTYPE"] = from_dtype(dtype)
        if tile is not None:
            shape = CONFIGS[tile]
            threads = (shape["BM"] // shape["TM"]) * (shape["BN"] // shape["TN"])
            assert threads == BLOCK_THREADS
            a_row = shape["BM"] + PAD
            scope.update(shape, THREADS=threads, LOADS=shape["BM"] * shape["BK"] // threads, A_ROW=a_row,
                         SA_SIZE=shape["BK"] * a_row, SB_SIZE=shape["BK"] * shape["BN"],
                         ALIGN=None if SIMULATOR else 4 * dtype.itemsize)  # load4 reads 4 aligned elements
        kernel = _kernels[key] = jit(specialise(template, f"cuda{template.__name__}{tile or ''}_{dtype.name}", scope))
    return kernel


def gemm(out, a, b, batch, m, n, k, tile=None, beta=0, bias=None):
    """out (batch x m x n, dense) = a @ b (+ bias, a buffer of n added to every row; + out where beta is 1), each
    operand (buffer, offset, (batch stride, row stride, col stride)).

    Products with at least one whole output tile of a register-blocked shape take the largest such shape,
    smaller ones the simple tiled kernel (which wastes fewer threads on them). ``tile`` forces a shape."""
    if batch * m * n == 0:
        return
    (abuf, ao, (a_bs, a_rs, a_cs)), (bbuf, bo, (b_bs, b_rs, b_cs)) = a, b
    args = (out.array, abuf.array, ao, a_bs, a_rs, a_cs, bbuf.array, bo, b_bs, b_rs, b_cs, m, n, k, batch, beta,
            out.array if bias is None else bias.array, bias is not None)
    shapes = (64, 128) if out.dtype.itemsize <= 4 else (64,)  # 8 x 8 patches of 8-byte values spill registers
    if tile is None:
        tile = max((t for t in shapes if m >= t and n >= t), default=None)
    elif tile not in shapes:
        raise ValueError(f"gemm: no {tile} x {tile} tile for {out.dtype} (it would spill registers)")
    if tile is not None:
        bm, bn = CONFIGS[tile]["BM"], CONFIGS[tile]["BN"]
        grid = ((n + bn - 1) // bn, min((m + bm - 1) // bm, _MAX_GRID_YZ), min(batch, _MAX_GRID_YZ))
        _kernel(out.dtype, _gemm_blocked, tile)[grid, BLOCK_THREADS](*args)
    else:
        grid = ((n + TILE - 1) // TILE, min((m + TILE - 1) // TILE, _MAX_GRID_YZ), min(batch, _MAX_GRID_YZ))
        _kernel(out.dtype)[grid, (TILE, TILE)](*args)


def matmul_add(out, a, b, m, n, k) -> bool:
    """out (m x n, dense) += a @ b in the product's own pass (the CPU contract's matmul_add, with gemm's operands);
    False, having done nothing, where out's buffer is also an operand's: a block would read what another wrote."""
    if out.shape[0] != m * n or overlap(out, a[0]) or overlap(out, b[0]):
        return False
    gemm(out, a, b, 1, m, n, k, beta=1)
    return True


@jit
def _add_row(out, row):
    j = cuda.grid(1)
    while j < out.shape[0]:
        out[j] += row[j % row.shape[0]]
        j += cuda.gridsize(1)


def add_row(out, row):
    """out (a flat C-contiguous (m, n) buffer) += row on every row: Linear's bias (the CPU contract's)."""
    if out.shape[0] == 0:
        return  # no rows, or rows of no columns (Linear(k, 0))
    if not row.shape[0] or out.shape[0] % row.shape[0]:
        raise ValueError("add_row: the buffer is not a whole number of rows")
    blocks, threads = grid_for(out.shape[0])
    _add_row[blocks, threads](out.array, row.array)

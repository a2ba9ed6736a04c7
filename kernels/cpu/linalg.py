"""Matrix products on tcli's own threads.

float32/float64 products call the BLAS that numpy ships (OpenBLAS) one block per thread from a
numba ``prange`` loop, with BLAS itself single-threaded. BLAS's own worker threads spin for a
while after each call; on a small machine they fought numba's workers for the cores and a training
step that mixed products with parallel elementwise kernels ran 20x slower. Running every thread
through numba's pool removes that fight, and splitting the rows ourselves also parallelises the
small products BLAS keeps on one thread. Tiny products, other dtypes, and numpy builds without
OpenBLAS use a numba loop kernel (or numpy's matmul for floats as a last resort).
"""

from __future__ import annotations

import ctypes

import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.extending import intrinsic

from ..config import PARALLEL_MIN
from ._jit import jit, num_threads, serial_and_parallel

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
_TINY_FLOPS = 2 * 16 ** 3  # below this a plain loop beats the cost of calling BLAS


# ---- finding numpy's BLAS ------------------------------------------------------------------------------

class _Blas:
    """Where numpy's OpenBLAS keeps cblas_?gemm and its thread-count functions, as addresses.

    threadpoolctl finds the library numpy loaded (on any platform). The kernels call these entry points
    through their addresses (see ``_call_gemm``): a ctypes call costs ~0.5 us, three per product.
    """

    def __init__(self):
        self.gemm = {}  # np.dtype -> address of cblas_?gemm
        self.int_width = np.int32(0)  # a value of BLAS's integer type: int64 for an ILP64 build
        self.get_threads = self.set_threads = 0  # addresses of openblas_{get,set}_num_threads
        try:
            from threadpoolctl import ThreadpoolController
            libs = [lib for lib in ThreadpoolController().lib_controllers
                    if lib.user_api == "blas" and lib.internal_api == "openblas"]
        except Exception:  # noqa: BLE001 - no threadpoolctl or no BLAS found: numpy's matmul it is
            return
        for lib in libs:
            so = ctypes.CDLL(lib.filepath)
            found = {np.dtype(np.float32): _symbol(so, "s"), np.dtype(np.float64): _symbol(so, "d")}
            get, set_ = _first(so, "openblas_get_num_threads"), _first(so, "openblas_set_num_threads")
            if all(found.values()) and get is not None and set_ is not None:
                self.gemm = {dtype: address for dtype, (address, _) in found.items()}
                self.int_width = np.int64(0) if found[np.dtype(np.float32)][1] else np.int32(0)
                self.get_threads, self.set_threads = (ctypes.cast(f, ctypes.c_void_p).value for f in (get, set_))
                return


def _first(so, name):
    """An OpenBLAS function under its plain or its scipy-openblas (prefixed, ILP64) name."""
    for candidate in (f"scipy_{name}64_", f"scipy_{name}", name):
        fn = getattr(so, candidate, None)
        if fn is not None:
            return fn
    return None


def _symbol(so, letter):
    """(address, ILP64?) of cblas_?gemm under OpenBLAS's possible names, or None."""
    for prefix in ("scipy_cblas_", "cblas_"):
        for suffix, ilp64 in (("64_", True), ("", False)):
            fn = getattr(so, f"{prefix}{letter}gemm{suffix}", None)
            if fn is not None:
                return ctypes.cast(fn, ctypes.c_void_p).value, ilp64
    return None


_blas = []


def _get_blas() -> _Blas:
    if not _blas:
        _blas.append(_Blas())
    return _blas[0]


# ---- kernels ---------------------------------------------------------------------------------------------

@intrinsic
def _call_gemm(typingctx, address, int_width, like, order, ta, tb, m, n, k, pa, lda, pb, ldb, beta, pc, ldc):
    """cblas_?gemm(order, ta, tb, m, n, k, 1, pa, lda, pb, ldb, beta, pc, ldc) through the function's address.

    A ctypes function passed to a numba kernel costs ~2 us per call in typing alone; an address is a plain
    integer. The real type follows ``like`` (an array of the product's dtype), the integer type follows
    ``int_width`` (BLAS's own: int64 for ILP64 builds); pointers are integer addresses.
    """
    sig = types.void(address, int_width, like, order, ta, tb, m, n, k, pa, lda, pb, ldb, beta, pc, ldc)

    def codegen(context, builder, signature, args):
        index = context.get_value_type(signature.args[1])
        real = context.get_value_type(signature.args[2].dtype)
        i32, ptr = ir.IntType(32), ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [i32, i32, i32, index, index, index, real, ptr, index, ptr, index,
                                               real, ptr, index])

        def integer(value, to):
            if value.type.width > to.width:
                return builder.trunc(value, to)
            return builder.sext(value, to) if value.type.width < to.width else value

        fn = builder.inttoptr(args[0], fnty.as_pointer())
        o, ta_, tb_, m_, n_, k_, pa_, lda_, pb_, ldb_, beta_, pc_, ldc_ = args[3:]
        beta_ = context.cast(builder, beta_, signature.args[13], signature.args[2].dtype)
        builder.call(fn, [integer(o, i32), integer(ta_, i32), integer(tb_, i32), integer(m_, index),
                          integer(n_, index), integer(k_, index), ir.Constant(real, 1.0), builder.inttoptr(pa_, ptr),
                          integer(lda_, index), builder.inttoptr(pb_, ptr), integer(ldb_, index),
                          beta_, builder.inttoptr(pc_, ptr), integer(ldc_, index)])
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _blas_threads(typingctx, address):
    """openblas_get_num_threads() through its address."""
    def codegen(context, builder, signature, args):
        fn = builder.inttoptr(args[0], ir.FunctionType(ir.IntType(32), []).as_pointer())
        return builder.sext(builder.call(fn, []), ir.IntType(64))

    return types.int64(address), codegen


@intrinsic
def _set_blas_threads(typingctx, address, count):
    """openblas_set_num_threads(count) through its address."""
    def codegen(context, builder, signature, args):
        fn = builder.inttoptr(args[0], ir.FunctionType(ir.VoidType(), [ir.IntType(32)]).as_pointer())
        builder.call(fn, [builder.trunc(args[1], ir.IntType(32))])
        return context.get_dummy_value()

    return types.void(address, count), codegen


def _gemm_blocks(gemm, get_threads, set_threads, int_width, a, b, c, beta, threads):
    """c[i] = a[i] @ b[i] + beta * c[i] for each batch i (or c = a @ b + beta * c for 2-D arrays) as BLAS calls
    (beta is 0 or 1: BLAS does not read c when it is 0); with threads > 1 a
    product is split into blocks of rows (or columns) run on numba's threads. a and b are read in place
    (stored either way round; a 3-D one with stride 0 broadcasts). Returns False, having done nothing, when
    an operand's strides are not a layout BLAS reads."""
    m, n, k = c.shape[-2], c.shape[-1], a.shape[-1]
    ta, lda = _blas_layout(a)
    tb, ldb = _blas_layout(b)
    if ta < 0 or tb < 0:
        return False
    a_batch = a.strides[0] // a.itemsize if a.ndim == 3 else 0
    b_batch = b.strides[0] // b.itemsize if b.ndim == 3 else 0
    batch = c.size // (m * n)
    row_parts = col_parts = 1
    if threads > 1 and batch < threads:
        if m >= n:
            row_parts = min(threads, m)
        else:
            col_parts = min(threads, n)
    item = c.itemsize
    pa, pb, pc = a.ctypes.data, b.ctypes.data, c.ctypes.data
    # BLAS runs single-threaded inside (its own spinning workers would fight numba's for the cores); the
    # user's setting, which numpy's matmul uses, is put back after.
    previous = _blas_threads(get_threads)
    if previous != 1:
        _set_blas_threads(set_threads, 1)
    rows = (m + row_parts - 1) // row_parts
    cols = (n + col_parts - 1) // col_parts
    blocks = row_parts * col_parts
    for job in prange(batch * blocks):
        i = job // blocks
        r0 = (job % blocks) // col_parts * rows
        c0 = job % col_parts * cols
        mr, nc = min(rows, m - r0), min(cols, n - c0)
        if mr > 0 and nc > 0:
            a_off = i * a_batch + (r0 * lda if ta == _NO_TRANS else r0)
            b_off = i * b_batch + (c0 if tb == _NO_TRANS else c0 * ldb)
            _call_gemm(gemm, int_width, c, _ROW_MAJOR, ta, tb, mr, nc, k, pa + a_off * item, lda, pb + b_off * item,
                       ldb, beta, pc + (i * m * n + r0 * n + c0) * item, n)
    if previous != 1:
        _set_blas_threads(set_threads, previous)
    return True


@jit
def _blas_layout(x):
    """(transposed?, leading dimension) of a matrix (the last two dims) BLAS can read in place, else (-1, 0)."""
    item = x.itemsize
    s_row, s_col = x.strides[-2] // item, x.strides[-1] // item
    rows, cols = x.shape[-2], x.shape[-1]
    if s_col == 1 and s_row >= max(cols, 1):
        return _NO_TRANS, s_row
    if s_row == 1 and s_col >= max(rows, 1):
        return _TRANS, s_col
    return -1, 0


_GEMM_BLOCKS = serial_and_parallel(_gemm_blocks)


@jit
def matmul_loops(c, a, b):
    """c = a @ b for 2-D C-contiguous arrays: unit-stride inner loops over b's rows (any dtype)."""
    m, k = a.shape
    n = b.shape[1]
    for i in range(m):
        crow = c[i]
        for j in range(n):
            crow[j] = 0
        arow = a[i]
        for p in range(k):
            aip = arow[p]
            brow = b[p]
            for j in range(n):
                crow[j] += aip * brow[j]


def _blas_gemm(out, a, b, beta):
    """out = a @ b + beta * out through BLAS, split over numba's threads; False, having done nothing, when BLAS
    has no gemm for out's dtype or the product is too small to be worth a BLAS call."""
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    flops = 2.0 * (out.shape[0] if out.ndim == 3 else 1) * m * n * k
    blas = _get_blas()
    gemm = blas.gemm.get(out.dtype)
    if gemm is None or flops < _TINY_FLOPS or k == 0:
        return False
    threads = num_threads() if flops >= 4 * PARALLEL_MIN else 1
    kernel = _GEMM_BLOCKS[threads > 1]
    if not kernel(gemm, blas.get_threads, blas.set_threads, blas.int_width, a, b, out, beta, threads):
        kernel(gemm, blas.get_threads, blas.set_threads, blas.int_width, np.ascontiguousarray(a),
               np.ascontiguousarray(b), out, beta, threads)
    return True


def _product(out, a, b):
    """out[...] = a @ b for 2-D or batched 3-D arrays (out C-contiguous, a and b any strides)."""
    if _blas_gemm(out, a, b, 0.0):
        return
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    batch = out.shape[0] if out.ndim == 3 else 1
    if out.dtype.kind == "f" and not _get_blas().gemm and 2.0 * batch * m * n * k >= _TINY_FLOPS:
        np.matmul(a, b, out=out)
        return
    for i in range(batch):
        matmul_loops(out[i] if out.ndim == 3 else out, np.ascontiguousarray(a[i] if a.ndim == 3 else a),
                     np.ascontiguousarray(b[i] if b.ndim == 3 else b))


def matmul_add(out, a, b) -> bool:
    """out += a @ b for 2-D arrays (out C-contiguous) in one BLAS pass that reads out as it writes it, where BLAS
    serves out's dtype, the product is big enough, and out shares no memory with a or b (BLAS would read what
    it has written); returns False, having done nothing, where it is not."""
    m, k, n = a.shape[0], a.shape[1], b.shape[1]
    if (out.shape != (m, n) or b.shape[0] != k or 2.0 * m * n * k < _TINY_FLOPS or np.may_share_memory(out, a)
            or np.may_share_memory(out, b)):
        return False
    return _blas_gemm(out, a, b, 1.0)


@jit
def _add_row(out, row):
    n = row.shape[0]
    for i in range(out.shape[0] // n):
        base = i * n
        for j in range(n):
            out[base + j] += row[j]


def add_row(out, row):
    """out (a flat C-contiguous (m, n) buffer) += row on every row: Linear's bias."""
    if out.shape[0] == 0:
        return  # no rows, or rows of no columns (Linear(k, 0))
    if row.shape[0] and out.shape[0] % row.shape[0] == 0:
        _add_row(out, row)
    else:
        raise ValueError("add_row: the buffer is not a whole number of rows")


def matmul(out, a, b):
    """out = a @ b for 2-D arrays, or out[i] = a[i] @ b[i] for 3-D ones (any strides; out C-contiguous)."""
    _product(out, a, b)


bmm = matmul

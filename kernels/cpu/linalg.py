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
from numba import prange

from ..config import PARALLEL_MIN
from ._jit import jit, num_threads, serial_and_parallel

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
_TINY_FLOPS = 2 * 16 ** 3  # below this a plain loop beats the cost of calling BLAS


# ---- finding numpy's BLAS ------------------------------------------------------------------------------

class _Blas:
    """The gemm entry points of numpy's OpenBLAS and its thread-count functions.

    threadpoolctl finds the library numpy loaded (on any platform); the entry points are then
    called directly through ctypes, which costs well under a microsecond.
    """

    def __init__(self):
        self.gemm = {}  # np.dtype -> ctypes function
        self.get_threads = self.set_threads = None
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
                get.restype, get.argtypes = ctypes.c_int, []
                set_.restype, set_.argtypes = None, [ctypes.c_int]
                self.gemm, self.get_threads, self.set_threads = found, get, set_
                return

    def single_threaded(self):
        """Set BLAS to one thread (tcli's threads do the splitting); return the count to restore."""
        previous = self.get_threads()
        if previous != 1:
            self.set_threads(1)
        return previous

    def restore(self, previous):
        if previous != 1:
            self.set_threads(previous)


def _first(so, name):
    """An OpenBLAS function under its plain or its scipy-openblas (prefixed, ILP64) name."""
    for candidate in (f"scipy_{name}64_", f"scipy_{name}", name):
        fn = getattr(so, candidate, None)
        if fn is not None:
            return fn
    return None


def _symbol(so, letter):
    """cblas_?gemm under OpenBLAS's possible names; the int width follows the ILP64 suffix."""
    for prefix in ("scipy_cblas_", "cblas_"):
        for suffix, index in (("64_", ctypes.c_int64), ("", ctypes.c_int32)):
            fn = getattr(so, f"{prefix}{letter}gemm{suffix}", None)
            if fn is None:
                continue
            real = ctypes.c_float if letter == "s" else ctypes.c_double
            fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, index, index, index, real, ctypes.c_void_p,
                           index, ctypes.c_void_p, index, real, ctypes.c_void_p, index]
            fn.restype = None
            return fn
    return None


_blas = []


def _get_blas() -> _Blas:
    if not _blas:
        _blas.append(_Blas())
    return _blas[0]


# ---- kernels ---------------------------------------------------------------------------------------------

def _gemm_blocks(gemm, a, b, c, ta, tb, lda, ldb, a_batch, b_batch, row_parts, col_parts):
    """c[i] = a[i] @ b[i] for each batch i (or c = a @ b for 2-D arrays), each product split into
    row_parts x col_parts blocks run as separate BLAS calls on numba's threads.

    a and b are read in place: ta/tb say whether each is stored transposed, lda/ldb are their
    leading dimensions and a_batch/b_batch their batch strides (elements; 0 broadcasts).
    """
    m, n, k = c.shape[-2], c.shape[-1], a.shape[-1]
    batch = c.size // (m * n)
    item = c.itemsize
    pa, pb, pc = a.ctypes.data, b.ctypes.data, c.ctypes.data
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
            gemm(_ROW_MAJOR, ta, tb, mr, nc, k, 1.0, pa + a_off * item, lda, pb + b_off * item, ldb, 0.0,
                 pc + (i * m * n + r0 * n + c0) * item, n)


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


def _blas_operand(x):
    """(array, transposed?, leading dimension) for a 2-D or 3-D array BLAS can read in place."""
    item = x.itemsize
    s_row, s_col = x.strides[-2] // item, x.strides[-1] // item
    rows, cols = x.shape[-2], x.shape[-1]
    if s_col == 1 and s_row >= max(cols, 1):
        return x, _NO_TRANS, s_row
    if s_row == 1 and s_col >= max(rows, 1):
        return x, _TRANS, s_col
    x = np.ascontiguousarray(x)
    return x, _NO_TRANS, max(cols, 1)


def _batch_stride(x):
    return x.strides[0] // x.itemsize if x.ndim == 3 else 0


def _product(out, a, b):
    """out[...] = a @ b for 2-D or batched 3-D arrays (out C-contiguous, a and b any strides)."""
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    batch = out.shape[0] if out.ndim == 3 else 1
    flops = 2.0 * batch * m * n * k
    blas = _get_blas()
    gemm = blas.gemm.get(out.dtype)
    if gemm is None or flops < _TINY_FLOPS or k == 0:
        if out.dtype.kind == "f" and gemm is None and flops >= _TINY_FLOPS:
            np.matmul(a, b, out=out)
            return
        for i in range(batch):
            matmul_loops(out[i] if out.ndim == 3 else out, np.ascontiguousarray(a[i] if a.ndim == 3 else a),
                         np.ascontiguousarray(b[i] if b.ndim == 3 else b))
        return
    a, ta, lda = _blas_operand(a)
    b, tb, ldb = _blas_operand(b)
    threads = num_threads() if flops >= 4 * PARALLEL_MIN else 1
    row_parts = col_parts = 1
    if threads > 1 and batch < threads:
        if m >= n:
            row_parts = min(threads, m)
        else:
            col_parts = min(threads, n)
    jobs = batch * row_parts * col_parts
    previous = blas.single_threaded()
    try:
        _GEMM_BLOCKS[jobs > 1 and threads > 1](gemm, a, b, out, ta, tb, lda, ldb, _batch_stride(a), _batch_stride(b),
                                               row_parts, col_parts)
    finally:
        blas.restore(previous)


@jit
def _add_row(out, row):
    n = row.shape[0]
    for i in range(out.shape[0] // n):
        base = i * n
        for j in range(n):
            out[base + j] += row[j]


def add_row(out, row):
    """out (a flat C-contiguous (m, n) buffer) += row on every row: Linear's bias."""
    if row.shape[0] and out.shape[0] % row.shape[0] == 0:
        _add_row(out, row)
    else:
        raise ValueError("add_row: the buffer is not a whole number of rows")


def matmul(out, a, b):
    """out = a @ b for 2-D arrays, or out[i] = a[i] @ b[i] for 3-D ones (any strides; out C-contiguous)."""
    _product(out, a, b)


bmm = matmul

"""The CPU kernel contract: what tcli's ops call, over numpy buffers. ``kernels.cuda`` mirrors it.

Buffers are flat 1-D arrays. Dense functions take whole buffers of equal length; strided ones take
``(buffer, offset, strides)`` operands and a shape. float16 buffers only ever meet ``copy`` and
``fill`` (tcli computes float16 in float32); numba has no float16, so those go through the bits.
"""

from __future__ import annotations

import numpy as np

from .. import config as _config
from . import _jit
from . import elementwise as _ew
from . import index as _index
from . import linalg as _linalg
from . import reduce as _reduce
from ._jit import PARALLEL_MIN, compiled_signatures, num_threads  # noqa: F401
from .index import (  # noqa: F401
    check_range,
    count_nonzero,
    gather_dim,
    gather_rows,
    index_offsets,
    nonzero,
    one_hot,
    scatter_dim,
    scatter_rows,
    sort_rows,
    unique_sorted,
)
from .linalg import add_row, bmm, matmul, matmul_add  # noqa: F401
from .loss import nll_backward, nll_forward  # noqa: F401
from .memory import alloc, empty_cache, overlap, pooled_bytes  # noqa: F401
from .optim import adagrad_update, adam_update, rmsprop_update, sgd_update  # noqa: F401
from .random import (  # noqa: F401
    bernoulli,
    exponential,
    multinomial,
    normal_fill_f32,
    normal_fill_f64,
    normal_scalar,
    randint,
    random64_fill,
    randperm,
    uniform,  # noqa: F401
)
from .reduce import arg_reduce, logsumexp, reduce, scan, softmax, softmax_backward, variance  # noqa: F401
from .sequence import arange, linspace, linspace_f32  # noqa: F401

_F16, _F32 = np.dtype(np.float16), np.dtype(np.float32)
SERIAL_ONLY = 1 << 62  # a size threshold no work reaches


def set_num_threads(n: int) -> None:
    """Threads for parallel kernels. With one, no kernel enters a parallel region at all: GNU OpenMP (numba's omp
    layer) aborts a forked child, such as a DataLoader worker, that enters one after its parent did."""
    _jit.set_num_threads(n)
    threshold = SERIAL_ONLY if n == 1 else _config.PARALLEL_MIN
    for module in (_jit, _ew, _index, _linalg, _reduce):
        module.PARALLEL_MIN = threshold


def _contiguous(shape):
    strides, acc = [], 1
    for size in reversed(shape):
        strides.append(acc)
        acc *= size
    return tuple(reversed(strides)), acc


def _copy_with_half(shape, out, a):
    """A strided copy where out or a is float16: convert through float32 bit patterns."""
    (ob, oo, os_), (ab, ao, as_) = out, a
    if ab.dtype == _F16 and ob.dtype == _F16:
        _ew.unary_strided("copy", shape, (ob.view(np.uint16), oo, os_), (ab.view(np.uint16), ao, as_))
        return
    strides, n = _contiguous(shape)
    if ab.dtype == _F16:
        if ob.dtype == _F32:
            _ew.unary_strided("half_bits_to_float_bits", shape, (ob.view(np.uint32), oo, os_),
                              (ab.view(np.uint16), ao, as_))
            return
        wide = np.empty(n, np.float32)
        _ew.unary_strided("half_bits_to_float_bits", shape, (wide.view(np.uint32), 0, strides),
                          (ab.view(np.uint16), ao, as_))
        _ew.unary_strided("copy", shape, out, (wide, 0, strides))
        return
    if ab.dtype == _F32:
        source = (ab.view(np.uint32), ao, as_)
    else:
        wide = np.empty(n, np.float32)
        _ew.unary_strided("copy", shape, (wide, 0, strides), a)
        source = (wide.view(np.uint32), 0, strides)
    _ew.unary_strided("float_bits_to_half_bits", shape, (ob.view(np.uint16), oo, os_), source)


def _fill_half(shape, out, value):
    bits = (out[0].view(np.uint16), out[1], out[2])
    _ew.unary_strided("fill", shape, bits, bits, np.float16(value).view(np.uint16), 0)


def unary(op, out, a, p=0, q=0):
    if out.dtype is _F16 or a.dtype is _F16:
        unary_strided(op, (out.shape[0],), (out, 0, (1,)), (a, 0, (1,)), p, q)
        return
    _ew.unary(op, out, a, p, q)


def unary_strided(op, shape, out, a, p=0, q=0):
    if out[0].dtype is _F16 or a[0].dtype is _F16:
        if op == "fill":
            _fill_half(shape, out, p)
        elif op == "copy":
            _copy_with_half(shape, out, a)
        else:
            raise TypeError(f"kernel {op!r} does not take float16 buffers (tcli computes float16 in float32)")
        return
    _ew.unary_strided(op, shape, out, a, p, q)


binary = _ew.binary
binary_kernel = _ew.binary_kernel
unary_kernel = _ew.unary_kernel
binary_strided = _ew.binary_strided
ternary = _ew.ternary
ternary_strided = _ew.ternary_strided

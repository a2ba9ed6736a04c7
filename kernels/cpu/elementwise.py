"""Elementwise kernels: every scalar op defined once, specialised into dense and strided maps.

Layouts (the same for unary, binary and ternary maps):
- dense: every operand is a 1-D C-contiguous buffer of the output's length (the fast path);
- strided: operands are ``(buffer, offset, strides)`` over flat buffers sharing one shape; a
  stride of 0 broadcasts. Innermost rows get unit-stride loops that LLVM vectorises, and the
  outer rows are split into chunks that the parallel build runs on threads.

Scalar ops and templates live in one file on purpose: numba's disk cache is invalidated by the
timestamp of the file that defines a kernel, so an edit to an op must touch this file.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from ._jit import PARALLEL_MIN, KernelTable, chunks_for
from .vmath import fexp

# ---- scalar ops ----------------------------------------------------------------------------------------
# Unary ops take (x, p, q): p and q are scalar parameters in x's dtype, ignored by most ops.

UNARY: dict = {}
BINARY: dict = {}
TERNARY: dict = {}
BOOL_RESULT: set = set()  # ops whose result is bool whatever the input dtype


def _op(table, *, boolean=False, name=None):
    """Register a scalar op; it is jitted when a kernel first needs it (nothing compiles at import)."""
    def register(fn):
        key = name or fn.__name__.rstrip("_")
        table[key] = fn
        if boolean:
            BOOL_RESULT.add(key)
        return fn
    return register


def _floor_div_float(x, y):
    """Floor division as PyTorch computes it for floats (c10's div_floor_floating)."""


def _fdiv(x, y):
    """Floor division: Python's semantics for integers, PyTorch's for floats."""


def _tdiv(x, y):
    """Division rounded toward zero: C semantics for integers, trunc(x / y) for floats."""


def _ipow(x, y):
    """x ** y; for integers with a negative exponent, C's truncation as PyTorch computes it."""


def _zero(x):
    """0 in x's own type (a literal 0 would widen float32 arithmetic to float64; x * 0 is NaN for inf)."""


def _mod(x, y):
    """Modulo whose result takes the divisor's sign (Python's and PyTorch's semantics)."""


@overload(_floor_div_float, inline="always")
def _floor_div_float_impl(x, y):
    def impl(x, y):
        if y == 0:
            return x / y
        m = np.fmod(x, y)
        d = (x - m) / y
        if m != 0 and (y < 0) != (m < 0):
            d -= 1
        if d == 0:
            return math.copysign(0.0, x / y)
        f = np.floor(d)  # not math.floor: numba returns an int64 there, INT64_MIN for NaN and inf
        if d - f > 0.5:
            f += 1
        return f
    return impl


@overload(_fdiv, inline="always")
def _fdiv_impl(x, y):
    if isinstance(x, types.Float):
        return lambda x, y: _floor_div_float(x, y)
    return lambda x, y: x // y


@overload(_tdiv, inline="always")
def _tdiv_impl(x, y):
    if isinstance(x, types.Float):
        return lambda x, y: np.trunc(x / y)  # not math.trunc: an int64 in numba (NaN, inf)

    def impl(x, y):
        q = abs(x) // abs(y)
        return -q if (x < 0) != (y < 0) else q
    return impl


@overload(_zero, inline="always")
def _zero_impl(x):
    if isinstance(x, types.Float):
        make = np.float32 if x.bitwidth == 32 else np.float64
        return lambda x: make(0)
    return lambda x: x - x


@overload(_ipow, inline="always")
def _ipow_impl(x, y):
    if isinstance(x, types.Integer) and isinstance(y, types.Integer):
        def impl(x, y):
            if y >= 0:
                return x ** y
            if x == 1:
                return x
            if x == -1:
                return x if y % 2 else -x
            return _zero(x)  # |x| > 1: the result truncates to 0 (0 ** negative is 0 in PyTorch too)
        return impl
    return lambda x, y: x ** y


@overload(_mod, inline="always")
def _mod_impl(x, y):
    if isinstance(x, types.Float):
        def impl(x, y):
            m = np.fmod(x, y)
            if m != 0 and (y < 0) != (m < 0):
                m += y
            return m
        return impl
    return lambda x, y: x % y


@njit(inline="always")
def _max(x, y):
    return x if (x > y or x != x) else y  # NaN wins, as in torch.maximum


@njit(inline="always")
def _min(x, y):
    return x if (x < y or x != x) else y


@njit(inline="always")
def _sgn(x):
    return (x > 0) - (x < 0)  # PyTorch: sign(NaN) and sign(-0.) are 0


# unary ---------------------------------------------------------------------------------------------------

@_op(UNARY)
def copy(x, p, q):
    return x


@_op(UNARY)
def fill(x, p, q):
    return p


@_op(UNARY)
def neg(x, p, q):
    return -x


@_op(UNARY, name="abs")
def abs_(x, p, q):
    return abs(x)


@_op(UNARY)
def sign(x, p, q):
    return _sgn(x)


@_op(UNARY)
def reciprocal(x, p, q):
    return 1.0 / x


@_op(UNARY)
def square(x, p, q):
    return x * x


@_op(UNARY)
def sqrt(x, p, q):
    return math.sqrt(x) if x >= 0 else math.nan


@_op(UNARY)
def rsqrt(x, p, q):
    return 1.0 / math.sqrt(x) if x >= 0 else math.nan


@_op(UNARY)
def exp(x, p, q):
    return fexp(x)


@_op(UNARY)
def exp2(x, p, q):
    return 2.0 ** x


@_op(UNARY)
def expm1(x, p, q):
    return math.expm1(x)


@njit(inline="always")
def _log_domain(x, lower):
    return -math.inf if x == lower else math.nan


@_op(UNARY)
def log(x, p, q):
    return math.log(x) if x > 0 else _log_domain(x, 0)


@_op(UNARY)
def log2(x, p, q):
    return math.log2(x) if x > 0 else _log_domain(x, 0)


@_op(UNARY)
def log10(x, p, q):
    return math.log10(x) if x > 0 else _log_domain(x, 0)


@_op(UNARY)
def log1p(x, p, q):
    return math.log1p(x) if x > -1 else _log_domain(x, -1)


@_op(UNARY)
def sin(x, p, q):
    return math.sin(x)


@_op(UNARY)
def cos(x, p, q):
    return math.cos(x)


@_op(UNARY)
def tan(x, p, q):
    return math.tan(x)


@_op(UNARY)
def asin(x, p, q):
    return math.asin(x) if -1 <= x <= 1 else math.nan


@_op(UNARY)
def acos(x, p, q):
    return math.acos(x) if -1 <= x <= 1 else math.nan


@_op(UNARY)
def atan(x, p, q):
    return math.atan(x)


@_op(UNARY)
def sinh(x, p, q):
    return math.sinh(x)


@_op(UNARY)
def cosh(x, p, q):
    return math.cosh(x)


@_op(UNARY)
def tanh(x, p, q):
    return math.tanh(x)


@_op(UNARY)
def sigmoid(x, p, q):
    return 1 / (1 + fexp(-x))  # PyTorch's formula: exp overflows to inf and sigmoid(-100) is 0


@_op(UNARY)
def relu(x, p, q):
    return _zero(x) if x < 0 else x  # as PyTorch: NaN and -0. pass through


@_op(UNARY)
def erf(x, p, q):
    return math.erf(x)


@_op(UNARY)
def floor(x, p, q):
    return np.floor(x)  # not math.floor: that returns an int and breaks on inf/NaN


@_op(UNARY)
def ceil(x, p, q):
    return np.ceil(x)


@_op(UNARY, name="round")
def round_(x, p, q):
    return np.rint(x)  # half to even, as PyTorch rounds


_TEN = np.float32(10)  # float32 + float32 stays float32 (an int literal would widen the product to float64)


@_op(UNARY)
def round_decimals(x, p, q):
    # PyTorch's: in x's own type (10**|p| is exact there for the decimals anyone uses), dividing first when p < 0
    if p < 0:
        scale = (_zero(x) + _TEN) ** -p
        return np.rint(x / scale) * scale
    scale = (_zero(x) + _TEN) ** p
    return np.rint(x * scale) / scale


@_op(UNARY)
def trunc(x, p, q):
    return np.trunc(x)


@_op(UNARY)
def frac(x, p, q):
    return x - np.trunc(x)


@_op(UNARY, boolean=True)
def logical_not(x, p, q):
    return not x


@_op(UNARY)
def bitwise_not(x, p, q):
    return ~x


@_op(UNARY, boolean=True)
def isnan(x, p, q):
    return x != x


@_op(UNARY, boolean=True)
def isinf(x, p, q):
    return math.isinf(x)


@_op(UNARY, boolean=True)
def isfinite(x, p, q):
    return math.isfinite(x)


@_op(UNARY, boolean=True)
def signbit(x, p, q):
    return math.copysign(1.0, x) < 0


# unary with a scalar operand p (the "_s" ops) or parameters

@_op(UNARY)
def add_s(x, p, q):
    return x + p


@_op(UNARY)
def sub_s(x, p, q):
    return x - p


@_op(UNARY)
def rsub_s(x, p, q):
    return p - x


@_op(UNARY)
def mul_s(x, p, q):
    return x * p


@_op(UNARY)
def square_grad_s(x, p, q):
    return p * (x + x)  # square_grad with the one value p as the incoming gradient (a sum's, expanded)


@_op(UNARY)
def div_s(x, p, q):
    return x / p


@_op(UNARY)
def rdiv_s(x, p, q):
    return p / x


@_op(UNARY)
def floordiv_s(x, p, q):
    return _fdiv(x, p)


@_op(UNARY)
def rfloordiv_s(x, p, q):
    return _fdiv(p, x)


@_op(UNARY)
def truncdiv_s(x, p, q):
    return _tdiv(x, p)


@_op(UNARY)
def rtruncdiv_s(x, p, q):
    return _tdiv(p, x)


@_op(UNARY)
def rem_s(x, p, q):
    return _mod(x, p)


@_op(UNARY)
def rrem_s(x, p, q):
    return _mod(p, x)


@_op(UNARY)
def pow_s(x, p, q):
    return _ipow(x, p)  # integers: a negative exponent truncates (0 ** -1 is 0), as the tensor-tensor form does


@_op(UNARY)
def rpow_s(x, p, q):
    return _ipow(p, x)


@_op(UNARY)
def max_s(x, p, q):
    return _max(x, p)


@_op(UNARY)
def min_s(x, p, q):
    return _min(x, p)


@_op(UNARY)
def clamp(x, p, q):
    return _min(_max(x, p), q)


@_op(UNARY)
def leaky_relu(x, p, q):
    return x if x > 0 else x * p


@_op(UNARY)
def elu(x, p, q):
    return x if x > 0 else p * math.expm1(x)


_SQRT1_2 = 0.7071067811865476     # 1 / sqrt(2)
_SQRT2_PI = 0.7978845608028654    # sqrt(2 / pi)
_INV_SQRT_2PI = 0.3989422804014327  # 1 / sqrt(2 pi)


@_op(UNARY)
def gelu(x, p, q):
    return 0.5 * x * (1 + math.erf(x * _SQRT1_2))


@_op(UNARY)
def gelu_tanh(x, p, q):
    return 0.5 * x * (1 + math.tanh(_SQRT2_PI * (x + 0.044715 * x * x * x)))


@_op(UNARY)
def silu(x, p, q):
    return x / (1 + math.exp(-x))


@_op(UNARY, boolean=True)
def eq_s(x, p, q):
    return x == p


@_op(UNARY, boolean=True)
def ne_s(x, p, q):
    return x != p


@_op(UNARY, boolean=True)
def lt_s(x, p, q):
    return x < p


@_op(UNARY, boolean=True)
def le_s(x, p, q):
    return x <= p


@_op(UNARY, boolean=True)
def gt_s(x, p, q):
    return x > p


@_op(UNARY, boolean=True)
def ge_s(x, p, q):
    return x >= p


@_op(UNARY)
def and_s(x, p, q):
    return x & p


@_op(UNARY)
def or_s(x, p, q):
    return x | p


@_op(UNARY)
def xor_s(x, p, q):
    return x ^ p


# float16 storage: numba has no float16, so conversions work on the bits (uint16 <-> float32 as uint32)

@_op(UNARY)
def half_bits_to_float_bits(h, p, q):
    h = np.uint32(h)
    sign = (h & 0x8000) << 16
    e = (h >> 10) & 0x1F
    m = h & 0x3FF
    if e == 0x1F:
        return sign | 0x7F800000 | (m << 13)
    if e != 0:
        return sign | ((e + 112) << 23) | (m << 13)
    if m == 0:
        return sign
    e = np.uint32(113)
    while (m & 0x400) == 0:  # subnormal: normalise
        m <<= 1
        e -= 1
    return sign | (e << 23) | ((m & 0x3FF) << 13)


@_op(UNARY)
def float_bits_to_half_bits(b, p, q):
    b = np.uint32(b)
    sign = np.uint32((b >> 16) & 0x8000)
    e = np.int64((b >> 23) & 0xFF)
    m = np.uint32(b & 0x7FFFFF)
    if e == 0xFF:
        return np.uint16(sign | 0x7C00 | ((m >> 13) | (0x200 if m else 0)))
    if e > 142:
        return np.uint16(sign | 0x7C00)  # overflow to inf
    if e >= 113:
        h = sign | np.uint32((e - 112) << 10) | (m >> 13)
        rest = m & 0x1FFF
        if rest > 0x1000 or (rest == 0x1000 and (h & 1)):
            h += 1  # round to nearest even; a carry may roll into the exponent (up to inf)
        return np.uint16(h)
    if e >= 102:
        m |= 0x800000
        shift = np.uint32(126 - e)
        h = m >> shift
        rest = m & ((np.uint32(1) << shift) - 1)
        half = np.uint32(1) << (shift - 1)
        if rest > half or (rest == half and (h & 1)):
            h += 1
        return np.uint16(sign | h)
    return np.uint16(sign)


# binary --------------------------------------------------------------------------------------------------

@_op(BINARY)
def add(x, y):
    return x + y


@_op(BINARY)
def sub(x, y):
    return x - y


@_op(BINARY)
def mul(x, y):
    return x * y


@_op(BINARY)
def div(x, y):
    return x / y


@_op(BINARY)
def floordiv(x, y):
    return _fdiv(x, y)


@_op(BINARY)
def truncdiv(x, y):
    return _tdiv(x, y)


@_op(BINARY)
def rem(x, y):
    return _mod(x, y)


@_op(BINARY, name="pow")
def pow_(x, y):
    return _ipow(x, y)


@_op(BINARY)
def maximum(x, y):
    return _max(x, y)


@_op(BINARY)
def minimum(x, y):
    return _min(x, y)


@_op(BINARY)
def atan2(x, y):
    return math.atan2(x, y)


@_op(BINARY, boolean=True)
def eq(x, y):
    return x == y


@_op(BINARY, boolean=True)
def ne(x, y):
    return x != y


@_op(BINARY, boolean=True)
def lt(x, y):
    return x < y


@_op(BINARY, boolean=True)
def le(x, y):
    return x <= y


@_op(BINARY, boolean=True)
def gt(x, y):
    return x > y


@_op(BINARY, boolean=True)
def ge(x, y):
    return x >= y


@_op(BINARY, boolean=True)
def logical_and(x, y):
    return (x != 0) and (y != 0)


@_op(BINARY, boolean=True)
def logical_or(x, y):
    return (x != 0) or (y != 0)


@_op(BINARY, boolean=True)
def logical_xor(x, y):
    return (x != 0) != (y != 0)


@_op(BINARY)
def bitwise_and(x, y):
    return x & y


@_op(BINARY)
def bitwise_or(x, y):
    return x | y


@_op(BINARY)
def bitwise_xor(x, y):
    return x ^ y


# fused gradient formulas: g is the incoming gradient, y the saved output (or input)

@_op(BINARY)
def relu_grad(g, y):
    return g if y > 0 else _zero(g)  # PyTorch's threshold_backward: 0 where the output is not > 0


@_op(BINARY)
def nonneg_grad(g, x):
    return g if x >= 0 else _zero(g)  # clamp(min=0)'s gradient: it passes where the input is >= 0, 0 included


@_op(BINARY)
def square_grad(g, x):
    return g * (x + x)  # pow(x, 2)'s gradient as PyTorch rounds it: grad * (2 * x) (float16 is computed in float32)


@_op(BINARY)
def sigmoid_grad(g, y):
    return g * (y * (1 - y))


@_op(BINARY)
def tanh_grad(g, y):
    return g * (1 - y * y)


@_op(BINARY)
def abs_grad(g, x):
    return g * _sgn(x)


@_op(BINARY)
def gelu_grad(g, x):
    cdf = 0.5 * (1 + math.erf(x * _SQRT1_2))
    return g * (cdf + x * _INV_SQRT_2PI * math.exp(-0.5 * x * x))


@_op(BINARY)
def gelu_tanh_grad(g, x):
    t = math.tanh(_SQRT2_PI * (x + 0.044715 * x * x * x))
    return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT2_PI * (1 + 3 * 0.044715 * x * x))


@_op(BINARY)
def silu_grad(g, x):
    s = 1 / (1 + math.exp(-x))
    return g * (s * (1 + x * (1 - s)))


# ternary -------------------------------------------------------------------------------------------------

@_op(TERNARY)
def where(c, x, y):
    return x if c else y


@_op(TERNARY)
def lerp(start, end, weight):
    return start + weight * (end - start)


@_op(TERNARY, name="clamp")
def clamp_t(x, lo, hi):
    return _min(_max(x, lo), hi)


@_op(TERNARY)
def addcmul(x, a, b):
    return x + a * b


@_op(TERNARY)
def masked_grad(keep, g, _unused):
    return g if keep else _zero(g)


# ---- templates ---------------------------------------------------------------------------------------
# OP is a global bound per specialisation (see _jit.KernelTable).

OP = None


@njit
def _outer_count(shape):
    outer = 1
    for d in range(shape.shape[0] - 1):
        outer *= shape[d]
    return outer


@njit
def _chunk(c, nchunks, outer):
    per = (outer + nchunks - 1) // nchunks
    k0 = c * per
    return k0, min(outer, k0 + per)


@njit
def _start_index(k, shape):
    idx = np.zeros(max(shape.shape[0] - 1, 1), np.int64)
    for d in range(shape.shape[0] - 2, -1, -1):
        idx[d] = k % shape[d]
        k //= shape[d]
    return idx


@njit
def _offset_of(idx, shape, strides, base):
    off = base
    for d in range(shape.shape[0] - 1):
        off += idx[d] * strides[d]
    return off


@njit
def _next_row(idx, shape):
    """Advance the odometer over all dims but the last; return the lowest dim that moved."""
    for d in range(shape.shape[0] - 2, -1, -1):
        idx[d] += 1
        if idx[d] < shape[d]:
            return d
        idx[d] = 0
    return -1


@njit
def _step(off, d, shape, strides):
    """Offset change when the odometer moved at dim d (every dim after d wrapped to 0)."""
    off += strides[d]
    for e in range(d + 1, shape.shape[0] - 1):
        off -= strides[e] * (shape[e] - 1)
    return off


def _unary_dense(o, a, p, q):
    for i in prange(o.shape[0]):
        o[i] = OP(a[i], p, q)


def _unary_strided(shape, o, oo, os_, a, ao, as_, p, q, nchunks):
    nd = shape.shape[0]
    inner = shape[nd - 1]
    so, sa = os_[nd - 1], as_[nd - 1]
    outer = _outer_count(shape)
    for c in prange(nchunks):
        k0, k1 = _chunk(c, nchunks, outer)
        if k0 < k1:
            idx = _start_index(k0, shape)
            po = _offset_of(idx, shape, os_, oo)
            pa = _offset_of(idx, shape, as_, ao)
            for _ in range(k0, k1):
                if so == 1 and sa == 1:
                    orow, arow = o[po:po + inner], a[pa:pa + inner]  # 0-based views: LLVM vectorises
                    for j in range(inner):
                        orow[j] = OP(arow[j], p, q)
                else:
                    for j in range(inner):
                        o[po + j * so] = OP(a[pa + j * sa], p, q)
                d = _next_row(idx, shape)
                if d >= 0:
                    po = _step(po, d, shape, os_)
                    pa = _step(pa, d, shape, as_)


def _binary_dense(o, a, b):
    for i in prange(o.shape[0]):
        o[i] = OP(a[i], b[i])


# In-place forms. Given the same array as output and input, LLVM's runtime overlap check sends the
# loop above down its scalar path (3.5x slower at 10^5 float32); with the output read through its
# own name there is nothing to check.

def _unary_inplace(o, p, q):
    for i in prange(o.shape[0]):
        o[i] = OP(o[i], p, q)


def _binary_inplace(o, b):
    for i in prange(o.shape[0]):
        o[i] = OP(o[i], b[i])


def _binary_strided(shape, o, oo, os_, a, ao, as_, b, bo, bs, nchunks):
    nd = shape.shape[0]
    inner = shape[nd - 1]
    so, sa, sb = os_[nd - 1], as_[nd - 1], bs[nd - 1]
    outer = _outer_count(shape)
    for c in prange(nchunks):
        k0, k1 = _chunk(c, nchunks, outer)
        if k0 < k1:
            idx = _start_index(k0, shape)
            po = _offset_of(idx, shape, os_, oo)
            pa = _offset_of(idx, shape, as_, ao)
            pb = _offset_of(idx, shape, bs, bo)
            for _ in range(k0, k1):
                orow = o[po:po + inner]  # 0-based row views let LLVM vectorise the unit-stride cases
                if so == 1 and sa == 1 and sb == 1:
                    arow, brow = a[pa:pa + inner], b[pb:pb + inner]
                    for j in range(inner):
                        orow[j] = OP(arow[j], brow[j])
                elif so == 1 and sa == 1 and sb == 0:
                    arow, y = a[pa:pa + inner], b[pb]
                    for j in range(inner):
                        orow[j] = OP(arow[j], y)
                elif so == 1 and sa == 0 and sb == 1:
                    x, brow = a[pa], b[pb:pb + inner]
                    for j in range(inner):
                        orow[j] = OP(x, brow[j])
                else:
                    for j in range(inner):
                        o[po + j * so] = OP(a[pa + j * sa], b[pb + j * sb])
                d = _next_row(idx, shape)
                if d >= 0:
                    po = _step(po, d, shape, os_)
                    pa = _step(pa, d, shape, as_)
                    pb = _step(pb, d, shape, bs)


def _ternary_dense(o, c, a, b):
    for i in prange(o.shape[0]):
        o[i] = OP(c[i], a[i], b[i])


def _ternary_strided(shape, o, oo, os_, c, co, cs, a, ao, as_, b, bo, bs, nchunks):
    nd = shape.shape[0]
    inner = shape[nd - 1]
    so, sc, sa, sb = os_[nd - 1], cs[nd - 1], as_[nd - 1], bs[nd - 1]
    outer = _outer_count(shape)
    for ch in prange(nchunks):
        k0, k1 = _chunk(ch, nchunks, outer)
        if k0 < k1:
            idx = _start_index(k0, shape)
            po = _offset_of(idx, shape, os_, oo)
            pc = _offset_of(idx, shape, cs, co)
            pa = _offset_of(idx, shape, as_, ao)
            pb = _offset_of(idx, shape, bs, bo)
            for _ in range(k0, k1):
                if so == 1 and sc == 1 and sa == 1 and sb == 1:
                    orow, crow = o[po:po + inner], c[pc:pc + inner]
                    arow, brow = a[pa:pa + inner], b[pb:pb + inner]
                    for j in range(inner):
                        orow[j] = OP(crow[j], arow[j], brow[j])
                else:
                    for j in range(inner):
                        o[po + j * so] = OP(c[pc + j * sc], a[pa + j * sa], b[pb + j * sb])
                d = _next_row(idx, shape)
                if d >= 0:
                    po = _step(po, d, shape, os_)
                    pc = _step(pc, d, shape, cs)
                    pa = _step(pa, d, shape, as_)
                    pb = _step(pb, d, shape, bs)


_UNARY_DENSE = KernelTable.pair("unary_dense", _unary_dense, UNARY)
_UNARY_STRIDED = KernelTable.pair("unary_strided", _unary_strided, UNARY)
_BINARY_DENSE = KernelTable.pair("binary_dense", _binary_dense, BINARY)
_UNARY_INPLACE = KernelTable.pair("unary_inplace", _unary_inplace, UNARY)
_BINARY_INPLACE = KernelTable.pair("binary_inplace", _binary_inplace, BINARY)
_BINARY_STRIDED = KernelTable.pair("binary_strided", _binary_strided, BINARY)
_TERNARY_DENSE = KernelTable.pair("ternary_dense", _ternary_dense, TERNARY)
_TERNARY_STRIDED = KernelTable.pair("ternary_strided", _ternary_strided, TERNARY)


def _layout(shape, *operands):
    """The int64 arrays strided kernels take: the shape, then each operand's strides."""
    return _layout_arrays(shape, *[op[2] for op in operands])


@functools.lru_cache(maxsize=1024)
def _layout_arrays(shape, *strides):
    # Cached (the kernels only read them): a training loop asks for the same few layouts every step, and
    # making the arrays costs more than a small kernel.
    return [np.array(shape, np.int64)] + [np.array(s, np.int64) for s in strides]


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


# ---- the contract ------------------------------------------------------------------------------------
# Dense: 1-D buffers of equal length. Strided: (buffer, offset, strides) triples and a non-empty
# shape (callers pass 0-d work as shape (1,)). p and q are scalars in the input's dtype.

def unary_kernel(op, n):
    """The dense unary kernel for op over n elements (serial or parallel), to call directly."""
    return _UNARY_DENSE[n >= PARALLEL_MIN][op]


def binary_kernel(op, n):
    return _BINARY_DENSE[n >= PARALLEL_MIN][op]


def unary(op, out, a, p=0, q=0):
    if out is a:
        _UNARY_INPLACE[out.shape[0] >= PARALLEL_MIN][op](out, p, q)
    else:
        _UNARY_DENSE[out.shape[0] >= PARALLEL_MIN][op](out, a, p, q)


def unary_strided(op, shape, out, a, p=0, q=0):
    n = _numel(shape)
    if n:
        nchunks = chunks_for(n)
        sh, so, sa = _layout(shape, out, a)
        _UNARY_STRIDED[nchunks > 1][op](sh, out[0], out[1], so, a[0], a[1], sa, p, q, nchunks)


def binary(op, out, a, b):
    if out is a:
        _BINARY_INPLACE[out.shape[0] >= PARALLEL_MIN][op](out, b)
    else:
        _BINARY_DENSE[out.shape[0] >= PARALLEL_MIN][op](out, a, b)


def binary_strided(op, shape, out, a, b):
    n = _numel(shape)
    if n:
        nchunks = chunks_for(n)
        sh, so, sa, sb = _layout(shape, out, a, b)
        _BINARY_STRIDED[nchunks > 1][op](sh, out[0], out[1], so, a[0], a[1], sa, b[0], b[1], sb, nchunks)


def ternary(op, out, c, a, b):
    _TERNARY_DENSE[out.shape[0] >= PARALLEL_MIN][op](out, c, a, b)


def ternary_strided(op, shape, out, c, a, b):
    n = _numel(shape)
    if n:
        nchunks = chunks_for(n)
        sh, so, sc, sa, sb = _layout(shape, out, c, a, b)
        _TERNARY_STRIDED[nchunks > 1][op](sh, out[0], out[1], so, c[0], c[1], sc, a[0], a[1], sa,
                                          b[0], b[1], sb, nchunks)

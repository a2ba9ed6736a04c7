"""Elementwise CUDA kernels: grid-stride maps over flat device buffers, dense or strided.

The layouts are the CPU contract's (see kernels/cpu/elementwise.py): dense operands are whole buffers
of the output's length; strided ones are ``(buffer, offset, strides)`` over one shape, stride 0
broadcasting. Each scalar op is a device function; a kernel template calls the global ``OP`` and is
specialised per op on first use, as on the CPU.

Constants are named, and every dtype gets its own build of an op with the names bound to values of that
dtype (``_namespace``): a literal ``1.0`` would make numba compute float32 data in float64 on the GPU.
``python -m tcli.kernels.cuda.check`` compiles every kernel for sm_90 and fails on such float64 leaks.
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda, float64, from_dtype

from ..templates import specialise
from .fallback import on_host
from .launch import SIMULATOR, grid_for, jit

if SIMULATOR:  # C semantics for math under the simulator, as the GPU has them (see simmath.py)
    from .simmath import math  # noqa: F811

# Constants in the kernel's own float type: numba types a literal 1.0 as float64 and widens float32 arithmetic
# with it. Ops and helpers name them (_ONE, _HALF, ...) instead of writing literals; every dtype gets its own
# build of the ops in a namespace where the names hold that dtype's values (see _namespace).
_ZERO, _ONE, _TWO, _THREE, _TEN, _HALF, _INF, _NAN = 0.0, 1.0, 2.0, 3.0, 10.0, 0.5, math.inf, math.nan
_WHOLE = 4503599627370496.0  # 2**52: float64s this large are whole numbers (_namespace: per float type)
_SQRT1_2, _SQRT2_PI, _INV_SQRT_2PI = 0.7071067811865476, 0.7978845608028654, 0.3989422804014327
_GELU_C = 0.044715  # gelu's tanh form
_WHOLE_NUMBERS = ("_ZERO", "_ONE", "_TWO", "_THREE", "_TEN")
_FLOAT = float64  # the float type of the constants (math.floor's int results are cast back to it)
_CONSTANTS = ("_ZERO", "_ONE", "_TWO", "_THREE", "_TEN", "_HALF", "_INF", "_NAN", "_SQRT1_2", "_SQRT2_PI",
              "_INV_SQRT_2PI", "_GELU_C")

UNARY: dict = {}
BINARY: dict = {}
TERNARY: dict = {}


def _op(table, name=None):
    def register(fn):
        table[name or fn.__name__.rstrip("_")] = fn
        return fn
    return register


# ---- helpers (device functions inlined into the ops) ---------------------------------------------------------

def _sgn(x):
    return _ONE if x > 0 else (-_ONE if x < 0 else _ZERO)  # PyTorch: sign(NaN) and sign(-0.) are 0


# numba types math.floor/ceil/trunc of a float as an integer (Python's rule), so NaN, inf and values past
# 2**63 would not survive them. Past 2**52 every float is a whole number already: such values pass through,
# and the others come back to the float type.

def _floor(x):
    return _FLOAT(math.floor(x)) if abs(x) < _WHOLE else x


def _ceil(x):
    return _FLOAT(math.ceil(x)) if abs(x) < _WHOLE else x


def _trunc(x):
    if not abs(x) < _WHOLE:
        return x
    return _FLOAT(math.floor(x) if x >= 0 else math.ceil(x))


def _rint(x):
    """Round half to even, as PyTorch rounds (numba.cuda has no rint)."""
    if not abs(x) < _WHOLE:
        return x
    r = _FLOAT(math.floor(x))
    d = x - r
    if d > _HALF or (d == _HALF and r % _TWO != _ZERO):
        r += _ONE
    return r


def _fmod(x, y):
    """C's fmod: NaN for an infinite x or a zero y (Python's math.fmod, which the simulator runs, raises)."""
    if math.isinf(x) or y == 0:
        return _NAN
    return math.fmod(x, y)


def _floor_div(x, y):
    """Floor division of floats as PyTorch computes it (c10's div_floor_floating)."""
    if y == 0:
        return x / y
    m = _fmod(x, y)
    d = (x - m) / y
    if m != 0 and (y < 0) != (m < 0):
        d -= _ONE
    if d == 0:
        return math.copysign(_ZERO, x / y)
    f = _floor(d)
    if d - f > _HALF:
        f += _ONE
    return f


def _mod(x, y):
    """Remainder with the divisor's sign (Python's and PyTorch's semantics), for floats."""
    m = _fmod(x, y)
    if m != 0 and (y < 0) != (m < 0):
        m += y
    return m


def _ipow(x, y):
    """x ** y for integers; a negative exponent truncates as C does (PyTorch)."""
    if y < 0:
        if x == 1:
            return x
        if x == -1:
            return x if y % 2 else -x
        return x - x
    result = x - x + 1
    while y > 0:
        if y % 2:
            result *= x
        x *= x
        y //= 2
    return result


def _trunc_div_int(x, y):
    if y == 0:
        return 0
    q = abs(x) // abs(y)
    return -q if (x < 0) != (y < 0) else q


# ---- unary ops: (x, p, q), p and q scalars in x's dtype ----------------------------------------------------

@_op(UNARY)
def copy(x, p, q):
    return x


@_op(UNARY)
def fill(x, p, q):
    return p


@_op(UNARY)
def neg(x, p, q):
    return -x


@_op(UNARY)
def abs_(x, p, q):
    return -x if x < 0 else x


@_op(UNARY)
def reciprocal(x, p, q):
    return _ONE / x


@_op(UNARY)
def square(x, p, q):
    return x * x


@_op(UNARY)
def sqrt(x, p, q):
    return math.sqrt(x)


@_op(UNARY)
def rsqrt(x, p, q):
    return _ONE / math.sqrt(x)


@_op(UNARY)
def exp(x, p, q):
    return math.exp(x)


@_op(UNARY)
def log(x, p, q):
    return math.log(x)


@_op(UNARY)
def log1p(x, p, q):
    return math.log1p(x)


@_op(UNARY)
def sin(x, p, q):
    return math.sin(x)


@_op(UNARY)
def cos(x, p, q):
    return math.cos(x)


@_op(UNARY)
def tanh(x, p, q):
    return math.tanh(x)


@_op(UNARY)
def sigmoid(x, p, q):
    return _ONE / (_ONE + math.exp(-x))


@_op(UNARY)
def relu(x, p, q):
    return _ZERO if x < 0 else x  # NaN passes through, as in PyTorch


@_op(UNARY)
def floor(x, p, q):
    return _floor(x)


@_op(UNARY)
def ceil(x, p, q):
    return _ceil(x)


@_op(UNARY)
def trunc(x, p, q):
    return _trunc(x)


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
def pow_s(x, p, q):
    return x ** p


@_op(UNARY)
def rpow_s(x, p, q):
    return p ** x


@_op(UNARY)
def max_s(x, p, q):
    return x if (x > p or x != x) else p  # strict, as the CPU: on a tie (-0. and 0.) the other side


@_op(UNARY)
def min_s(x, p, q):
    return x if (x < p or x != x) else p


@_op(UNARY)
def clamp(x, p, q):
    y = x if (x > p or x != x) else p
    return y if (y < q or y != y) else q


@_op(UNARY)
def leaky_relu(x, p, q):
    return x if x > 0 else x * p


@_op(UNARY)
def eq_s(x, p, q):
    return x == p


@_op(UNARY)
def ne_s(x, p, q):
    return x != p


@_op(UNARY)
def lt_s(x, p, q):
    return x < p


@_op(UNARY)
def le_s(x, p, q):
    return x <= p


@_op(UNARY)
def gt_s(x, p, q):
    return x > p


@_op(UNARY)
def ge_s(x, p, q):
    return x >= p


@_op(UNARY)
def logical_not(x, p, q):
    return not x


@_op(UNARY)
def isnan(x, p, q):
    return x != x


@_op(UNARY)
def expm1(x, p, q):
    return math.expm1(x)


@_op(UNARY)
def exp2(x, p, q):
    return math.pow(_TWO, x)


@_op(UNARY)
def log2(x, p, q):
    return math.log2(x)


@_op(UNARY)
def log10(x, p, q):
    return math.log10(x)


@_op(UNARY)
def tan(x, p, q):
    return math.tan(x)


@_op(UNARY)
def asin(x, p, q):
    return math.asin(x)


@_op(UNARY)
def acos(x, p, q):
    return math.acos(x)


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
def erf(x, p, q):
    return math.erf(x)


@_op(UNARY)
def sign(x, p, q):
    return _sgn(x)


@_op(UNARY)
def round_(x, p, q):
    return _rint(x)


@_op(UNARY)
def frac(x, p, q):
    return x - _trunc(x)


@_op(UNARY)
def signbit(x, p, q):
    return math.copysign(_ONE, x) < 0


@_op(UNARY)
def round_decimals(x, p, q):
    if p < 0:  # PyTorch's order: divide first for negative decimals
        scale = math.pow(_TEN, -p)
        return _rint(x / scale) * scale
    scale = math.pow(_TEN, p)
    return _rint(x * scale) / scale


@_op(UNARY)
def isinf(x, p, q):
    return math.isinf(x)


@_op(UNARY)
def isfinite(x, p, q):
    return math.isfinite(x)


@_op(UNARY)
def bitwise_not(x, p, q):
    return ~x


@_op(UNARY)
def floordiv_s(x, p, q):
    return _floor_div(x, p)


@_op(UNARY)
def rfloordiv_s(x, p, q):
    return _floor_div(p, x)


@_op(UNARY)
def truncdiv_s(x, p, q):
    return _trunc(x / p)


@_op(UNARY)
def rtruncdiv_s(x, p, q):
    return _trunc(p / x)


@_op(UNARY)
def rem_s(x, p, q):
    return _mod(x, p)


@_op(UNARY)
def rrem_s(x, p, q):
    return _mod(p, x)


@_op(UNARY)
def and_s(x, p, q):
    return x & p


@_op(UNARY)
def or_s(x, p, q):
    return x | p


@_op(UNARY)
def xor_s(x, p, q):
    return x ^ p


@_op(UNARY)
def elu(x, p, q):
    return x if x > 0 else p * math.expm1(x)


@_op(UNARY)
def gelu(x, p, q):
    return _HALF * x * (_ONE + math.erf(x * _SQRT1_2))


@_op(UNARY)
def gelu_tanh(x, p, q):
    return _HALF * x * (_ONE + math.tanh(_SQRT2_PI * (x + _GELU_C * x * x * x)))


@_op(UNARY)
def silu(x, p, q):
    return x / (_ONE + math.exp(-x))


# Integer forms, chosen by the contract functions below when the operands are integers (numba.cuda has no
# per-type overloads of a device function).

@_op(UNARY, name="floordiv_s_int")
def floordiv_s_int(x, p, q):
    return x // p if p != 0 else 0


@_op(UNARY, name="rfloordiv_s_int")
def rfloordiv_s_int(x, p, q):
    return p // x if x != 0 else 0


@_op(UNARY, name="truncdiv_s_int")
def truncdiv_s_int(x, p, q):
    return _trunc_div_int(x, p)


@_op(UNARY, name="rtruncdiv_s_int")
def rtruncdiv_s_int(x, p, q):
    return _trunc_div_int(p, x)


@_op(UNARY, name="rem_s_int")
def rem_s_int(x, p, q):
    return x % p if p != 0 else 0


@_op(UNARY, name="rrem_s_int")
def rrem_s_int(x, p, q):
    return p % x if x != 0 else 0


@_op(UNARY, name="pow_s_int")
def pow_s_int(x, p, q):
    return _ipow(x, p)


@_op(UNARY, name="rpow_s_int")
def rpow_s_int(x, p, q):
    return _ipow(p, x)


@_op(UNARY, name="round_int")
def round_int(x, p, q):
    return x


# ---- binary ops -----------------------------------------------------------------------------------------------

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
def pow_(x, y):
    return x ** y


@_op(BINARY)
def maximum(x, y):
    return x if (x > y or x != x) else y


@_op(BINARY)
def minimum(x, y):
    return x if (x < y or x != x) else y


@_op(BINARY)
def eq(x, y):
    return x == y


@_op(BINARY)
def ne(x, y):
    return x != y


@_op(BINARY)
def lt(x, y):
    return x < y


@_op(BINARY)
def le(x, y):
    return x <= y


@_op(BINARY)
def gt(x, y):
    return x > y


@_op(BINARY)
def ge(x, y):
    return x >= y


@_op(BINARY)
def logical_and(x, y):
    return (x != 0) and (y != 0)


@_op(BINARY)
def logical_or(x, y):
    return (x != 0) or (y != 0)


@_op(BINARY)
def floordiv(x, y):
    return _floor_div(x, y)


@_op(BINARY)
def truncdiv(x, y):
    return _trunc(x / y)


@_op(BINARY)
def rem(x, y):
    return _mod(x, y)


@_op(BINARY)
def atan2(x, y):
    return math.atan2(x, y)


@_op(BINARY)
def logical_xor(x, y):
    return (x != 0) != (y != 0)


@_op(BINARY, name="floordiv_int")
def floordiv_int(x, y):
    return x // y if y != 0 else 0


@_op(BINARY, name="truncdiv_int")
def truncdiv_int(x, y):
    return _trunc_div_int(x, y)


@_op(BINARY, name="pow_int")
def pow_int(x, y):
    return _ipow(x, y)


@_op(BINARY, name="rem_int")
def rem_int(x, y):
    return x % y if y != 0 else 0


@_op(BINARY)
def abs_grad(g, x):
    return g * _sgn(x)


@_op(BINARY)
def gelu_grad(g, x):
    cdf = _HALF * (_ONE + math.erf(x * _SQRT1_2))
    return g * (cdf + x * _INV_SQRT_2PI * math.exp(-_HALF * x * x))


@_op(BINARY)
def gelu_tanh_grad(g, x):
    t = math.tanh(_SQRT2_PI * (x + _GELU_C * x * x * x))
    return g * (_HALF * (_ONE + t) + _HALF * x * (_ONE - t * t) * _SQRT2_PI * (_ONE + _THREE * _GELU_C * x * x))


@_op(BINARY)
def silu_grad(g, x):
    s = _ONE / (_ONE + math.exp(-x))
    return g * (s * (_ONE + x * (_ONE - s)))


@_op(BINARY)
def bitwise_and(x, y):
    return x & y


@_op(BINARY)
def bitwise_or(x, y):
    return x | y


@_op(BINARY)
def bitwise_xor(x, y):
    return x ^ y


@_op(BINARY)
def relu_grad(g, y):
    return g if y > 0 else _ZERO


@_op(BINARY)
def nonneg_grad(g, x):
    return g if x >= 0 else _ZERO


@_op(BINARY)
def square_grad(g, x):
    return g * (x + x)


@_op(BINARY)
def sigmoid_grad(g, y):
    return g * (y * (_ONE - y))


@_op(BINARY)
def tanh_grad(g, y):
    return g * (_ONE - y * y)


# ---- ternary ops ----------------------------------------------------------------------------------------------

@_op(TERNARY)
def where(c, x, y):
    return x if c else y


@_op(TERNARY)
def masked_grad(keep, g, _unused):
    return g if keep else _ZERO


@_op(TERNARY, name="clamp")
def clamp_t(x, lo, hi):
    y = x if (x > lo or x != x) else lo
    return y if (y < hi or y != y) else hi


@_op(TERNARY)
def lerp(start, end, weight):
    return start + weight * (end - start)


@_op(TERNARY)
def addcmul(x, a, b):
    return x + a * b


# ---- templates ------------------------------------------------------------------------------------------------

OP = None


# Dense kernels take four elements a grid-stride apart per trip, all loads before any store: a thread then has
# four reads in flight instead of one, which a memory-bound op needs to near the GPU's bandwidth (reads stay
# coalesced: the threads of a warp read neighbouring elements). An element is read and written by one thread
# alone, so in-place calls (o is a) stay correct.
def _unary_dense(o, a, p, q):
    n, step = o.shape[0], cuda.gridsize(1)
    i = cuda.grid(1)
    while i + 3 * step < n:
        a0, a1, a2, a3 = a[i], a[i + step], a[i + 2 * step], a[i + 3 * step]
        o[i] = OP(a0, p, q)
        o[i + step] = OP(a1, p, q)
        o[i + 2 * step] = OP(a2, p, q)
        o[i + 3 * step] = OP(a3, p, q)
        i += 4 * step
    while i < n:
        o[i] = OP(a[i], p, q)
        i += step


def _unary_strided(n, shape, o, oo, os_, a, ao, as_, p, q):
    i = cuda.grid(1)
    while i < n:
        rest, po, pa = i, oo, ao
        for d in range(len(shape) - 1, -1, -1):
            k = rest % shape[d]
            rest //= shape[d]
            po += k * os_[d]
            pa += k * as_[d]
        o[po] = OP(a[pa], p, q)
        i += cuda.gridsize(1)


def _binary_dense(o, a, b):
    n, step = o.shape[0], cuda.gridsize(1)
    i = cuda.grid(1)
    while i + 3 * step < n:
        a0, a1, a2, a3 = a[i], a[i + step], a[i + 2 * step], a[i + 3 * step]
        b0, b1, b2, b3 = b[i], b[i + step], b[i + 2 * step], b[i + 3 * step]
        o[i] = OP(a0, b0)
        o[i + step] = OP(a1, b1)
        o[i + 2 * step] = OP(a2, b2)
        o[i + 3 * step] = OP(a3, b3)
        i += 4 * step
    while i < n:
        o[i] = OP(a[i], b[i])
        i += step


def _binary_strided(n, shape, o, oo, os_, a, ao, as_, b, bo, bs):
    i = cuda.grid(1)
    while i < n:
        rest, po, pa, pb = i, oo, ao, bo
        for d in range(len(shape) - 1, -1, -1):
            k = rest % shape[d]
            rest //= shape[d]
            po += k * os_[d]
            pa += k * as_[d]
            pb += k * bs[d]
        o[po] = OP(a[pa], b[pb])
        i += cuda.gridsize(1)


def _ternary_dense(o, c, a, b):
    i = cuda.grid(1)
    while i < o.shape[0]:
        o[i] = OP(c[i], a[i], b[i])
        i += cuda.gridsize(1)


def _ternary_strided(n, shape, o, oo, os_, c, co, cs, a, ao, as_, b, bo, bs):
    i = cuda.grid(1)
    while i < n:
        rest, po, pc, pa, pb = i, oo, co, ao, bo
        for d in range(len(shape) - 1, -1, -1):
            k = rest % shape[d]
            rest //= shape[d]
            po += k * os_[d]
            pc += k * cs[d]
            pa += k * as_[d]
            pb += k * bs[d]
        o[po] = OP(c[pc], a[pa], b[pb])
        i += cuda.gridsize(1)


_HELPERS = ("_sgn", "_floor", "_ceil", "_trunc", "_rint", "_fmod", "_floor_div", "_mod", "_ipow", "_trunc_div_int")
_namespaces: dict = {}


def _namespace(dtype):
    """This module's globals for kernels over ``dtype``: the constants in that float type (float64 for integer
    and bool data) and the helpers rebuilt as device functions over them."""
    namespace = _namespaces.get(dtype.str)
    if namespace is None:
        kind = dtype.type if dtype.kind == "f" else np.float64
        namespace = _namespaces[dtype.str] = dict(globals())
        namespace.update({name: kind(globals()[name]) for name in _CONSTANTS})
        namespace["_WHOLE"] = kind(2.0 ** np.finfo(kind).nmant)  # 2**52 overflows float16
        if dtype.kind != "f":  # whole-number constants stay integers: relu(int64) must not pass through float64
            namespace.update({name: np.int64(globals()[name]) for name in _WHOLE_NUMBERS})
        namespace["_FLOAT"] = from_dtype(np.dtype(kind))
        for name in _HELPERS:
            namespace[name] = cuda.jit(device=True)(specialise(globals()[name], scope=namespace))
    return namespace


class _Kernels(dict):
    """(op name, dtype) -> the template compiled with that op over that dtype's namespace (made on first use)."""

    def __init__(self, family, template, ops):
        super().__init__()
        self.family, self.template, self.ops = family, template, ops

    def __missing__(self, key):
        op, dtype = key
        fn = self.ops[op]  # the contract functions send ops without a CUDA form to the host first
        namespace = dict(_namespace(dtype))
        namespace["OP"] = cuda.jit(device=True)(specialise(fn, scope=namespace))
        kernel = self[key] = jit(specialise(self.template, f"{self.family}_{op}_{dtype.name}", namespace))
        return kernel


_UNARY_DENSE = _Kernels("cuda_unary_dense", _unary_dense, UNARY)
_UNARY_STRIDED = _Kernels("cuda_unary_strided", _unary_strided, UNARY)
_BINARY_DENSE = _Kernels("cuda_binary_dense", _binary_dense, BINARY)
_BINARY_STRIDED = _Kernels("cuda_binary_strided", _binary_strided, BINARY)
_TERNARY_DENSE = _Kernels("cuda_ternary_dense", _ternary_dense, TERNARY)
_TERNARY_STRIDED = _Kernels("cuda_ternary_strided", _ternary_strided, TERNARY)


# ---- the contract: DeviceBuffers in, as the CPU's numpy buffers ------------------------------------------------

def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def _strided(operand):
    buf, offset, strides = operand
    return buf.array, offset, tuple(strides)


_INT_FORMS = {"floordiv_s", "rfloordiv_s", "truncdiv_s", "rtruncdiv_s", "rem_s", "rrem_s", "round", "floordiv",
              "truncdiv", "rem", "pow", "pow_s", "rpow_s"}


def _form(op, buf):
    """The op's integer form for integer operands (see the _int ops)."""
    return op + "_int" if op in _INT_FORMS and buf.dtype.kind in "iub" else op


def _on_host(contract_function, *args):
    """An op without a CUDA kernel: the CPU kernel on host copies (fallback.py)."""
    from .. import cpu
    on_host(contract_function, getattr(cpu, contract_function))(*args)


def unary(op, out, a, p=0, q=0):
    form = _form(op, a)
    if form not in UNARY:
        return _on_host("unary", op, out, a, p, q)
    n = out.shape[0]
    if n:
        blocks, threads = grid_for(n)
        _UNARY_DENSE[form, a.dtype][blocks, threads](out.array, a.array, p, q)


def unary_strided(op, shape, out, a, p=0, q=0):
    form = _form(op, a[0])
    if form not in UNARY:
        return _on_host("unary_strided", op, shape, out, a, p, q)
    n = _numel(shape)
    if n:
        blocks, threads = grid_for(n)
        _UNARY_STRIDED[form, a[0].dtype][blocks, threads](n, tuple(shape), *_strided(out), *_strided(a), p, q)


def binary(op, out, a, b):
    form = _form(op, a)
    if form not in BINARY:
        return _on_host("binary", op, out, a, b)
    n = out.shape[0]
    if n:
        blocks, threads = grid_for(n)
        _BINARY_DENSE[form, a.dtype][blocks, threads](out.array, a.array, b.array)


def binary_strided(op, shape, out, a, b):
    form = _form(op, a[0])
    if form not in BINARY:
        return _on_host("binary_strided", op, shape, out, a, b)
    n = _numel(shape)
    if n:
        blocks, threads = grid_for(n)
        _BINARY_STRIDED[form, a[0].dtype][blocks, threads](n, tuple(shape), *_strided(out), *_strided(a),
                                                           *_strided(b))


def ternary(op, out, c, a, b):
    if op not in TERNARY:
        return _on_host("ternary", op, out, c, a, b)
    n = out.shape[0]
    if n:
        blocks, threads = grid_for(n)
        _TERNARY_DENSE[op, a.dtype][blocks, threads](out.array, c.array, a.array, b.array)


def ternary_strided(op, shape, out, c, a, b):
    if op not in TERNARY:
        return _on_host("ternary_strided", op, shape, out, c, a, b)
    n = _numel(shape)
    if n:
        blocks, threads = grid_for(n)
        _TERNARY_STRIDED[op, a[0].dtype][blocks, threads](n, tuple(shape), *_strided(out), *_strided(c),
                                                          *_strided(a), *_strided(b))

"""Elementwise ops against numpy references, table-driven: values, result dtypes, layouts, gradients, in-place
forms, property tests and PyTorch's error messages.

Each op is one table row: its tcli call, its numpy reference, the input domains, the dtypes it supports (as in
PyTorch 2.13), the rule for its result dtype and its tolerance class (see helpers.TOL). Every op runs in float32
and float64 on every layout; the other dtypes it supports run on a contiguous and one broadcast layout (each new
(op, dtype, layout) combination compiles a kernel the first time, so combinations are not multiplied needlessly).
Live comparisons with PyTorch are in separate tests that skip without torch.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from helpers import (
    FLOATS,
    NP_OF,
    assert_error,
    assert_matches,
    contiguous,
    expanded,
    is_float,
    rng_for,
    sample,
    sliced,
    to_numpy,
    transposed,
    version,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import tcli

f16, f32, f64 = tcli.float16, tcli.float32, tcli.float64
i64, i32, u8, b1 = tcli.int64, tcli.int32, tcli.uint8, tcli.bool

ALL = (f32, f64, f16, i64, i32, u8, b1)
NO_BOOL = (f32, f64, f16, i64, i32, u8)
FLOAT_ONLY = (f32, f64, f16)
INT_ONLY = (i64, i32, u8, b1)


def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def _sign(x):
    if x.dtype == np.bool_:
        return x
    return np.where(np.isnan(x), 0, np.sign(x)) if x.dtype.kind == "f" else np.sign(x)  # PyTorch: sign(nan) = 0


def _trunc_div(a, b):
    q = np.trunc(np.true_divide(a, b))
    return q if np.asarray(a).dtype.kind == "f" else q.astype(np.result_type(a, b))


# ---- the tables ------------------------------------------------------------------------------------------------
# result rules: "same" (the input dtype), "float" (integers and bool give the default float32),
# "bool" (always bool), "square" (bool -> int64, otherwise same).

def result_dtype(rule: str, dt):
    if rule == "bool":
        return b1
    if rule == "float":
        return dt if is_float(dt) else f32
    if rule == "square":
        return i64 if dt is b1 else dt
    return dt


@dataclass(frozen=True)
class Unary:
    name: str
    ref: Callable
    domain: str
    dtypes: tuple
    result: str
    tol: str
    grad: str | None = None  # the gradcheck input domain; None: not differentiable

    def __str__(self):
        return self.name


UNARY = [
    Unary("neg", np.negative, "real", NO_BOOL, "same", "exact", "real"),
    Unary("abs", np.abs, "real", NO_BOOL, "same", "exact", "nonzero"),
    Unary("sign", _sign, "real", ALL, "same", "exact", "nonzero"),
    Unary("exp", np.exp, "real", ALL, "float", "transc", "real"),
    Unary("exp2", np.exp2, "real", ALL, "float", "transc", "real"),
    Unary("expm1", np.expm1, "real", ALL, "float", "transc", "real"),
    Unary("log", np.log, "pos", ALL, "float", "transc", "pos"),
    Unary("log2", np.log2, "pos", ALL, "float", "transc", "pos"),
    Unary("log10", np.log10, "pos", ALL, "float", "transc", "pos"),
    Unary("log1p", np.log1p, "log1p", ALL, "float", "transc", "log1p"),
    Unary("sin", np.sin, "real", ALL, "float", "transc", "real"),
    Unary("cos", np.cos, "real", ALL, "float", "transc", "real"),
    Unary("tan", np.tan, "tan", ALL, "float", "transc", "unit"),
    Unary("asin", np.arcsin, "unit", ALL, "float", "transc", "unit"),
    Unary("acos", np.arccos, "unit", ALL, "float", "transc", "unit"),
    Unary("atan", np.arctan, "real", ALL, "float", "transc", "real"),
    Unary("sinh", np.sinh, "real", ALL, "float", "transc", "real"),
    Unary("cosh", np.cosh, "real", ALL, "float", "transc", "real"),
    Unary("tanh", np.tanh, "real", ALL, "float", "transc", "real"),
    Unary("sigmoid", lambda x: 1 / (1 + np.exp(-x)), "real", ALL, "float", "transc", "real"),
    Unary("relu", lambda x: np.maximum(x, 0), "real", NO_BOOL, "same", "exact", "nonzero"),
    Unary("erf", _erf, "real", ALL, "float", "transc", "real"),
    Unary("floor", np.floor, "halves", NO_BOOL, "same", "exact", "real"),
    Unary("ceil", np.ceil, "halves", NO_BOOL, "same", "exact", "real"),
    Unary("round", np.round, "halves", NO_BOOL, "same", "exact", "real"),  # half to even
    Unary("trunc", np.trunc, "halves", NO_BOOL, "same", "exact", "real"),
    Unary("frac", lambda x: x - np.trunc(x), "halves", FLOAT_ONLY, "same", "exact", "real"),
    Unary("reciprocal", lambda x: 1 / x, "nonzero", ALL, "float", "arith", "nonzero"),
    Unary("square", lambda x: x * x, "real", ALL, "square", "exact", "real"),
    Unary("sqrt", np.sqrt, "pos", ALL, "float", "arith", "pos"),
    Unary("rsqrt", lambda x: 1 / np.sqrt(x), "pos", ALL, "float", "arith", "pos"),
    Unary("isnan", np.isnan, "special", ALL, "bool", "exact"),
    Unary("isinf", np.isinf, "special", ALL, "bool", "exact"),
    Unary("isfinite", np.isfinite, "special", ALL, "bool", "exact"),
    Unary("logical_not", np.logical_not, "special", ALL, "bool", "exact"),
    Unary("bitwise_not", np.invert, "real", INT_ONLY, "same", "exact"),
]


@dataclass(frozen=True)
class Binary:
    name: str
    fn: Callable            # fn(a, b): b a tensor or a Python number
    ref: Callable           # the numpy reference
    dom_a: str
    dom_b: str
    dtypes: tuple
    result: str
    tol: str
    scalar: tuple | None = None   # (float value, int value) for tensor (op) number; None: not accepted
    rop: Callable | None = None   # number (op) tensor, a Python operator form
    rscalar: tuple | None = None  # (float value, int value) for rop
    grad: bool = False

    def __str__(self):
        return self.name


def _div_trunc(a, b):
    return tcli.div(a, b, rounding_mode="trunc")


def _div_floor(a, b):
    return tcli.div(a, b, rounding_mode="floor")


BINARY = [
    Binary("add", tcli.add, np.add, "real", "real", ALL, "same", "arith", (2.5, 3), operator.add, (3.5, 2), True),
    Binary("sub", tcli.sub, np.subtract, "real", "real", NO_BOOL, "same", "arith", (1.5, 2), operator.sub, (2, 2),
           True),
    Binary("mul", tcli.mul, np.multiply, "real", "real", ALL, "same", "arith", (-1.5, 3), operator.mul, (3, 3),
           True),
    Binary("div", tcli.div, np.true_divide, "real", "nonzero", ALL, "float", "arith", (4.0, 4), operator.truediv,
           (1, 1), True),
    Binary("div_trunc", _div_trunc, _trunc_div, "real", "nonzero", NO_BOOL, "same", "arith", (-2.0, -2),
           grad=True),
    Binary("div_floor", _div_floor, np.floor_divide, "real", "nonzero", NO_BOOL, "same", "arith", (-2.0, -2)),
    Binary("floor_divide", tcli.floor_divide, np.floor_divide, "real", "nonzero", NO_BOOL, "same", "arith",
           (-2.0, -2), operator.floordiv, (7.5, 7)),
    Binary("remainder", tcli.remainder, np.remainder, "real", "nonzero", NO_BOOL, "same", "arith", (1.5, -4),
           operator.mod, (7.5, 7), True),
    Binary("pow", tcli.pow, np.power, "powbase", "exp", NO_BOOL, "same", "transc", (2.5, 3), operator.pow, (2, 2),
           True),
    Binary("maximum", tcli.maximum, np.maximum, "halves", "halves", ALL, "same", "exact", grad=True),
    Binary("minimum", tcli.minimum, np.minimum, "halves", "halves", ALL, "same", "exact", grad=True),
    Binary("atan2", tcli.atan2, np.arctan2, "real", "real", ALL, "float", "transc", grad=True),
    Binary("eq", tcli.eq, np.equal, "halves", "halves", ALL, "bool", "exact", (0.5, 1), operator.eq, (0.5, 1)),
    Binary("ne", tcli.ne, np.not_equal, "halves", "halves", ALL, "bool", "exact", (0.5, 1), operator.ne, (0.5, 1)),
    Binary("lt", tcli.lt, np.less, "halves", "halves", ALL, "bool", "exact", (0.5, 1), operator.lt, (0.5, 1)),
    Binary("le", tcli.le, np.less_equal, "halves", "halves", ALL, "bool", "exact", (0.5, 1), operator.le, (0.5, 1)),
    Binary("gt", tcli.gt, np.greater, "halves", "halves", ALL, "bool", "exact", (0.5, 1), operator.gt, (0.5, 1)),
    Binary("ge", tcli.ge, np.greater_equal, "halves", "halves", ALL, "bool", "exact", (0.5, 1), operator.ge,
           (0.5, 1)),
    Binary("logical_and", tcli.logical_and, np.logical_and, "halves", "halves", ALL, "bool", "exact"),
    Binary("logical_or", tcli.logical_or, np.logical_or, "halves", "halves", ALL, "bool", "exact"),
    Binary("logical_xor", tcli.logical_xor, np.logical_xor, "halves", "halves", ALL, "bool", "exact"),
    Binary("bitwise_and", tcli.bitwise_and, np.bitwise_and, "real", "real", INT_ONLY, "same", "exact", (None, 6),
           operator.and_, (None, 6)),
    Binary("bitwise_or", tcli.bitwise_or, np.bitwise_or, "real", "real", INT_ONLY, "same", "exact", (None, 6),
           operator.or_, (None, 6)),
    Binary("bitwise_xor", tcli.bitwise_xor, np.bitwise_xor, "real", "real", INT_ONLY, "same", "exact", (None, 6),
           operator.xor, (None, 6)),
]

BINARY_BY_NAME = {row.name: row for row in BINARY}


def primary_dtypes(dtypes):
    """The dtypes an op runs in on every layout: float32 and float64, or int64 and int32 for integer-only ops."""
    return tuple(d for d in (f32, f64) if d in dtypes) or (i64, i32)


def _compute_input(x: np.ndarray, dt, res):
    """x as the numpy reference computes with it: float64 for float math (float32 for float16 inputs), the
    result dtype for integer math, the input itself for predicates."""
    if is_float(dt):
        return x.astype(np.float32 if dt is f16 else np.float64)
    if is_float(res):
        return x.astype(np.float64)
    if res is b1:
        return x
    return x.astype(NP_OF[res])


def _reference(fn, res, *xs):
    with np.errstate(all="ignore"):
        out = np.asarray(fn(*xs))
    if res is f16:  # float32 math rounded to float16
        out = out.astype(np.float32).astype(np.float16)
    return out


# ---- unary ops: values and result dtypes on every layout --------------------------------------------------------

UNARY_LAYOUTS = ("contiguous", "transposed", "sliced", "expanded", "0d", "empty")


def make_unary_input(layout, dt, domain, rng):
    """(tensor, its values) for ``layout``."""
    if layout == "expanded":
        row = sample(domain, dt, (1, 4), rng)
        return expanded(row, (3, 4)), np.broadcast_to(row, (3, 4))
    shape = {"0d": (), "empty": (0, 4)}.get(layout, (3, 4))
    x = sample(domain, dt, shape, rng)
    builder = {"transposed": transposed, "sliced": sliced}.get(layout, contiguous)
    return builder(x), x


def unary_layouts_for(row, dt):
    """Every layout in the primary dtypes. float16 also runs on a broadcast (expanded) view: it computes in
    float32, so that costs no new kernel. Integers and bool run contiguous and 0-d (the dense kernel): a strided
    kernel per (op, integer dtype) would add ~40 compilations (~30 s cold) for a dtype-generic template that the
    primary dtypes already run on every layout."""
    if dt in primary_dtypes(row.dtypes):
        return UNARY_LAYOUTS
    return ("contiguous", "expanded") if dt is f16 else ("contiguous", "0d")


def unary_cases():
    for row in UNARY:
        for dt in row.dtypes:
            layouts = unary_layouts_for(row, dt)
            for layout in layouts:
                yield pytest.param(row, dt, layout, id=f"{row.name}-{dt.name}-{layout}")


@pytest.mark.parametrize("row,dt,layout", list(unary_cases()))
def test_unary(row, dt, layout):
    t, x = make_unary_input(layout, dt, row.domain, rng_for(row.name, dt.name, layout))
    res = result_dtype(row.result, dt)
    expected = _reference(row.ref, res, _compute_input(x, dt, res))
    got = getattr(tcli, row.name)(t)
    assert_matches(got, expected, res, row.tol)
    assert_matches(getattr(t, row.name)(), expected, res, row.tol)  # the method form
    np.testing.assert_array_equal(to_numpy(t), x)  # the input is untouched


def test_unary_table_covers_the_brief():
    names = {row.name for row in UNARY}
    assert names == set("neg abs sign exp exp2 expm1 log log2 log10 log1p sin cos tan asin acos atan sinh cosh tanh "
                        "sigmoid relu erf floor ceil round trunc frac reciprocal square sqrt rsqrt isnan isinf "
                        "isfinite logical_not bitwise_not".split())


SPECIAL = [-0.0, 0.0, -1.0, 0.5, -2.5, math.inf, -math.inf, math.nan, 1e30, -1e30]


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.name)
@pytest.mark.parametrize("row", [r for r in UNARY if f32 in r.dtypes], ids=str)
def test_unary_special_values_table(row, dt):
    """Signed zeros, infinities, NaN and huge values through every float op, against the same numpy reference."""
    x = np.array(SPECIAL, NP_OF[dt])
    res = result_dtype(row.result, dt)
    expected = _reference(row.ref, res, _compute_input(x, dt, res))
    assert_matches(getattr(tcli, row.name)(tcli.tensor(x)), expected, res, row.tol)


def test_unary_special_values():
    x = tcli.tensor([-0.0, 0.0, -1.0, math.inf, -math.inf, math.nan])
    np.testing.assert_array_equal(to_numpy(tcli.log(x)), [-math.inf, -math.inf, math.nan, math.inf, math.nan,
                                                          math.nan])
    np.testing.assert_array_equal(to_numpy(tcli.sqrt(x)), [-0.0, 0.0, math.nan, math.inf, math.nan, math.nan])
    np.testing.assert_array_equal(to_numpy(tcli.reciprocal(x)), [-math.inf, math.inf, -1.0, 0.0, -0.0, math.nan])
    np.testing.assert_allclose(to_numpy(tcli.exp(x)), [1.0, 1.0, math.exp(-1.0), math.inf, 0.0, math.nan], rtol=1e-6)
    np.testing.assert_array_equal(to_numpy(tcli.sigmoid(tcli.tensor([-1000.0, 1000.0]))), [0.0, 1.0])
    np.testing.assert_array_equal(to_numpy(tcli.relu(x)), [-0.0, 0.0, 0.0, math.inf, 0.0, math.nan])
    np.testing.assert_array_equal(to_numpy(tcli.sign(x)), [0.0, 0.0, -1.0, 1.0, -1.0, 0.0])  # sign(nan) is 0
    np.testing.assert_array_equal(to_numpy(tcli.log1p(tcli.tensor([-1.0, -2.0]))), [-math.inf, math.nan])
    # round is half to even, as PyTorch rounds
    np.testing.assert_array_equal(to_numpy(tcli.round(tcli.tensor([0.5, 1.5, 2.5, -0.5, -2.5]))),
                                  [0.0, 2.0, 2.0, -0.0, -2.0])


def test_unary_on_integers_keeps_or_converts_dtype():
    i = tcli.tensor([-2, 0, 3])
    assert tcli.exp(i).dtype == f32 and tcli.sqrt(i).dtype == f32 and tcli.sigmoid(i).dtype == f32
    assert tcli.floor(i).dtype == i64 and to_numpy(tcli.floor(i)).tolist() == [-2, 0, 3]
    assert tcli.abs(i).dtype == i64 and to_numpy(tcli.abs(i)).tolist() == [2, 0, 3]
    assert tcli.square(tcli.tensor([True, False])).dtype == i64
    assert to_numpy(-tcli.tensor([3, 0], dtype=u8)).tolist() == [253, 0]  # uint8 negation wraps
    assert to_numpy(tcli.bitwise_not(tcli.tensor([True, False]))).tolist() == [False, True]
    assert to_numpy(tcli.bitwise_not(tcli.tensor([0, 5], dtype=u8))).tolist() == [255, 250]


# ---- binary ops: values and result dtypes on every layout ---------------------------------------------------------
# Layouts: both contiguous; a transposed view; b a sliced (step 2) view; (3,1) with (4,); bias-style (N,M) with
# (M,); both 0-d; (3,4) with a 0-d tensor; an empty (0,4) with (4,); tensor (op) number; number (op) tensor.

BINARY_LAYOUTS = ("contiguous", "transposed", "sliced", "broadcast", "bias", "0d", "dim_0d", "empty", "scalar",
                  "rscalar")
_SHAPES = {"contiguous": ((3, 4), (3, 4)), "transposed": ((3, 4), (3, 4)), "sliced": ((3, 4), (3, 4)),
           "broadcast": ((3, 1), (4,)), "bias": ((3, 4), (4,)), "0d": ((), ()), "dim_0d": ((3, 4), ()),
           "empty": ((0, 4), (4,))}


def scalar_operand_dtype(dt, number):
    """The dtype a tensor of dtype dt and a Python number compute in (PyTorch's promotion; see test_promotion)."""
    if isinstance(number, bool):
        return dt
    if isinstance(number, int):
        return i64 if dt is b1 else dt
    return dt if is_float(dt) else f32


def _number_for(values, dt):
    if dt is b1:
        return True
    return values[0] if is_float(dt) or values[1] is None else values[1]


# The ops whose broadcast (strided) kernels every dtype runs, here and in the property tests, which compile them
# anyway; the other ops run integer and bool operands contiguous and 0-d only, to keep the cold-cache run short.
BROADCAST_EVERY_DTYPE = ("add", "mul", "maximum", "eq", "lt", "ge")


def binary_layouts_for(row, dt):
    if dt not in primary_dtypes(row.dtypes):
        if dt is f16 or row.name in BROADCAST_EVERY_DTYPE:
            return ("contiguous", "bias")
        return ("contiguous", "0d")
    layouts = [lay for lay in BINARY_LAYOUTS if lay not in ("scalar", "rscalar")]
    if row.scalar is not None:
        layouts.append("scalar")
    if row.rop is not None:
        layouts.append("rscalar")
    return tuple(layouts)


def binary_cases():
    for row in BINARY:
        for dt in row.dtypes:
            for layout in binary_layouts_for(row, dt):
                yield pytest.param(row, dt, layout, id=f"{row.name}-{dt.name}-{layout}")
        # integer tensors with Python numbers (int64 stands for the integer dtypes)
        if i64 in row.dtypes and i64 not in primary_dtypes(row.dtypes):
            for layout in ("scalar", "rscalar") if row.rop is not None else ("scalar",):
                if row.scalar is not None:
                    yield pytest.param(row, i64, layout, id=f"{row.name}-int64-{layout}")


@pytest.mark.parametrize("row,dt,layout", list(binary_cases()))
def test_binary(row, dt, layout):
    rng = rng_for(row.name, dt.name, layout)
    if layout in ("scalar", "rscalar"):
        number = _number_for(row.scalar if layout == "scalar" else row.rscalar, dt)
        x = sample(row.dom_a if layout == "scalar" else row.dom_b, dt, (3, 4), rng)
        t = contiguous(x)
        operand = scalar_operand_dtype(dt, number)
        res = result_dtype(row.result, operand)
        xc = _compute_input(x.astype(NP_OF[operand]), operand, res)
        if layout == "scalar":
            expected = _reference(row.ref, res, xc, number)
            got = row.fn(t, number)
        else:
            expected = _reference(row.ref, res, number, xc)
            got = row.rop(number, t)
        assert_matches(got, expected, res, row.tol)
        return
    shape_a, shape_b = _SHAPES[layout]
    a = sample(row.dom_a, dt, shape_a, rng)
    b = sample(row.dom_b, dt, shape_b, rng)
    ta = transposed(a) if layout == "transposed" else contiguous(a)
    tb = sliced(b) if layout == "sliced" else contiguous(b)
    res = result_dtype(row.result, dt)
    expected = _reference(row.ref, res, _compute_input(a, dt, res), _compute_input(b, dt, res))
    assert_matches(row.fn(ta, tb), expected, res, row.tol)
    np.testing.assert_array_equal(to_numpy(ta), a)
    np.testing.assert_array_equal(to_numpy(tb), b)


def test_binary_table_covers_the_brief():
    assert {row.name for row in BINARY} == set(
        "add sub mul div div_trunc div_floor floor_divide remainder pow maximum minimum atan2 eq ne lt le gt ge "
        "logical_and logical_or logical_xor bitwise_and bitwise_or bitwise_xor".split())


def test_add_sub_alpha():
    a, b = tcli.tensor([1.0, 2.0]), tcli.tensor([10.0, 20.0])
    assert to_numpy(tcli.add(a, b, alpha=2)).tolist() == [21.0, 42.0]
    assert to_numpy(tcli.sub(a, b, alpha=0.5)).tolist() == [-4.0, -8.0]
    assert to_numpy(a.add(3, alpha=2)).tolist() == [7.0, 8.0]


def test_method_forms_match_functions():
    a, b = tcli.tensor([[1.5, -2.0], [0.25, 3.0]]), tcli.tensor([0.5, -1.0])
    for name in ("add", "sub", "mul", "div", "maximum", "minimum", "atan2", "eq", "lt", "ge"):
        np.testing.assert_array_equal(to_numpy(getattr(a, name)(b)), to_numpy(getattr(tcli, name)(a, b)))


# ---- Python operators, including the reflected forms ---------------------------------------------------------------

OPERATORS = [  # (symbol, operator, numpy reference, result rule, divisor must be non-zero)
    ("+", operator.add, np.add, "same", False),
    ("-", operator.sub, np.subtract, "same", False),
    ("*", operator.mul, np.multiply, "same", False),
    ("/", operator.truediv, np.true_divide, "float", True),
    ("//", operator.floordiv, np.floor_divide, "same", True),
    ("%", operator.mod, np.remainder, "same", True),
    ("**", operator.pow, np.power, "same", False),
    ("==", operator.eq, np.equal, "bool", False),
    ("!=", operator.ne, np.not_equal, "bool", False),
    ("<", operator.lt, np.less, "bool", False),
    ("<=", operator.le, np.less_equal, "bool", False),
    (">", operator.gt, np.greater, "bool", False),
    (">=", operator.ge, np.greater_equal, "bool", False),
    ("&", operator.and_, np.bitwise_and, "same", False),
    ("|", operator.or_, np.bitwise_or, "same", False),
    ("^", operator.xor, np.bitwise_xor, "same", False),
]


def operator_cases():
    for symbol, *_ in OPERATORS:
        for dt in (f32, i64) if symbol not in "&|^" else (i64,):
            for form in ("tensor-tensor", "tensor-number", "number-tensor"):
                yield pytest.param(symbol, dt, form, id=f"{symbol}-{dt.name}-{form}")


@pytest.mark.parametrize("symbol,dt,form", list(operator_cases()))
def test_operators(symbol, dt, form):
    _, op, ref, rule, nonzero = next(o for o in OPERATORS if o[0] == symbol)
    rng = rng_for("operator", symbol, dt.name, form)
    a = sample("pos" if symbol == "**" else "real", dt, (2, 3), rng)
    b = sample("nonzero" if nonzero else ("exp" if symbol == "**" else "real"), dt, (2, 3), rng)
    number = 3 if dt is i64 else 1.5
    if form == "tensor-tensor":
        got, expected = op(tcli.tensor(a), tcli.tensor(b)), (a, b)
    elif form == "tensor-number":
        got, expected = op(tcli.tensor(a), number), (a, number)
    else:
        got, expected = op(number, tcli.tensor(b)), (number, b)
    res = result_dtype(rule, dt)
    xs = [x.astype(np.float64) if isinstance(x, np.ndarray) and is_float(res) else x for x in expected]
    assert_matches(got, _reference(ref, res, *xs), res, "transc" if symbol == "**" else "arith")


def test_unary_operators():
    x = tcli.tensor([[1.5, -2.0], [0.0, 3.0]])
    np.testing.assert_array_equal(to_numpy(-x), [[-1.5, 2.0], [-0.0, -3.0]])
    np.testing.assert_array_equal(to_numpy(abs(x)), [[1.5, 2.0], [0.0, 3.0]])
    assert (+x) is x or np.array_equal(to_numpy(+x), to_numpy(x))
    assert to_numpy(~tcli.tensor([5, -1])).tolist() == [-6, 0]
    assert to_numpy(~tcli.tensor([True, False])).tolist() == [False, True]


def test_reflected_operators_literal():
    t = tcli.tensor([1.0, 2.0, 4.0])
    assert to_numpy(2 - t).tolist() == [1.0, 0.0, -2.0]
    assert to_numpy(1 / t).tolist() == [1.0, 0.5, 0.25]
    assert to_numpy(2 ** t).tolist() == [2.0, 4.0, 16.0]
    assert to_numpy(3 + t).tolist() == [4.0, 5.0, 7.0]
    assert to_numpy(3 * t).tolist() == [3.0, 6.0, 12.0]
    assert to_numpy(2 < t).tolist() == [False, False, True]
    i = tcli.tensor([1, 2, 4])
    assert (2 - i).dtype == i64 and to_numpy(2 - i).tolist() == [1, 0, -2]
    assert (1 / i).dtype == f32 and to_numpy(1 / i).tolist() == [1.0, 0.5, 0.25]
    assert (2 ** i).dtype == i64 and to_numpy(2 ** i).tolist() == [2, 4, 16]
    assert (2.0 ** i).dtype == f32 and to_numpy(2.0 ** i).tolist() == [2.0, 4.0, 16.0]
    assert (7 // i).dtype == i64 and to_numpy(7 // i).tolist() == [7, 3, 1]
    assert (7 % i).dtype == i64 and to_numpy(7 % i).tolist() == [0, 1, 3]


# ---- division semantics ------------------------------------------------------------------------------------------

def test_true_division_of_integers_gives_default_float():
    i = tcli.tensor([7, -7, 1])
    assert (i / tcli.tensor([2, 2, 3])).dtype == f32
    assert (i / 2).dtype == f32
    np.testing.assert_allclose(to_numpy(i / 2), [3.5, -3.5, 0.5])
    assert tcli.div(tcli.tensor([1, 2], dtype=u8), tcli.tensor([2, 4], dtype=u8)).dtype == f32
    assert (tcli.tensor([True]) / tcli.tensor([True])).dtype == f32
    assert to_numpy(i / 0).tolist() == [math.inf, -math.inf, math.inf]  # true division by zero is fine


@pytest.mark.parametrize("dt", [i64, i32, f32, f64], ids=lambda d: d.name)
def test_floor_division_and_remainder_follow_floor_semantics(dt):
    a = tcli.tensor([-7, 7, -7, 7, 0, -1], dtype=dt)
    b = tcli.tensor([2, 2, -2, -2, 3, 3], dtype=dt)
    assert (a // b).dtype == dt and (a % b).dtype == dt
    assert to_numpy(a // b).tolist() == [-4, 3, 3, -4, 0, -1]
    assert to_numpy(a % b).tolist() == [1, 1, -1, -1, 0, 2]
    assert to_numpy(tcli.div(a, b, rounding_mode="floor")).tolist() == [-4, 3, 3, -4, 0, -1]
    assert to_numpy(tcli.div(a, b, rounding_mode="trunc")).tolist() == [-3, 3, 3, -3, 0, 0]
    assert to_numpy(a // 2).tolist() == [-4, 3, -4, 3, 0, -1]
    assert to_numpy(a % -2).tolist() == [-1, -1, -1, -1, 0, -1]
    assert to_numpy(tcli.remainder(a, 3)).tolist() == [2, 1, 2, 1, 0, 2]


def test_float_floor_division_and_remainder_with_fractions():
    a = tcli.tensor([-7.5, 7.5, -7.5, 7.5])
    b = tcli.tensor([2.0, 2.0, -2.0, -2.0])
    assert to_numpy(a // b).tolist() == [-4.0, 3.0, 3.0, -4.0]
    assert to_numpy(a % b).tolist() == [0.5, 1.5, -1.5, -0.5]
    assert to_numpy(tcli.div(a, b, rounding_mode="trunc")).tolist() == [-3.0, 3.0, 3.0, -3.0]
    assert to_numpy(7.5 % tcli.tensor([2.0, -2.0])).tolist() == [1.5, -0.5]
    # floats may divide by zero: inf and nan as IEEE says
    z = tcli.tensor([1.0, -1.0, 0.0]) // 0.0
    assert to_numpy(z)[0] == math.inf and to_numpy(z)[1] == -math.inf and math.isnan(to_numpy(z)[2])


INT_DIV_BY_ZERO = [
    "i // 0", "i % 0", "tcli.div(i, 0, rounding_mode='trunc')", "tcli.div(i, 0, rounding_mode='floor')",
    "i // tcli.tensor([1, 0, 1])", "i % tcli.tensor([1, 0, 1])", "tcli.floor_divide(i, 0)", "tcli.remainder(i, 0)",
    "tcli.tensor([1, 2], dtype=tcli.uint8) // tcli.tensor([0, 1], dtype=tcli.uint8)",
]
INT_NEGATIVE_POWERS = ["i ** -1", "i.pow(-2)", "tcli.pow(i, -1)", "tcli.tensor([2], dtype=tcli.int32) ** -3",
                       "tcli.tensor([2], dtype=tcli.uint8) ** -1"]


@pytest.mark.parametrize("expr,message", [(e, "ZeroDivisionError") for e in INT_DIV_BY_ZERO]
                         + [(e, "Integers to negative integer powers are not allowed.") for e in INT_NEGATIVE_POWERS])
def test_integer_errors_match_torch(expr, message):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as excinfo:
        eval(expr.replace("tcli.", "torch."), {"torch": torch, "i": torch.tensor([1, 2, 3])})
    assert str(excinfo.value).split("\n")[0] == message


@pytest.mark.parametrize("expr", INT_DIV_BY_ZERO)
def test_integer_division_by_zero_raises(expr):
    i = tcli.tensor([1, 2, 3])  # noqa: F841 (used by eval)
    with pytest.raises(RuntimeError) as excinfo:
        eval(expr)
    assert_error(excinfo, "ZeroDivisionError", hint=False)


# ---- powers --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("expr", INT_NEGATIVE_POWERS)
def test_integer_negative_power_raises(expr):
    i = tcli.tensor([1, 2, 3])  # noqa: F841 (used by eval)
    with pytest.raises(RuntimeError) as excinfo:
        eval(expr)
    assert_error(excinfo, "Integers to negative integer powers are not allowed.", hint=False)


def test_powers():
    i = tcli.tensor([-2, 0, 3])
    assert (i ** 2).dtype == i64 and to_numpy(i ** 2).tolist() == [4, 0, 9]
    assert (i ** 0).dtype == i64 and to_numpy(i ** 0).tolist() == [1, 1, 1]
    assert (i ** 2.0).dtype == f32 and to_numpy(i ** 2.0).tolist() == [4.0, 0.0, 9.0]
    assert (i ** 0.5).dtype == f32
    f = tcli.tensor([4.0, 9.0])
    np.testing.assert_allclose(to_numpy(f ** 0.5), [2.0, 3.0])
    np.testing.assert_allclose(to_numpy(f ** -1), [0.25, 1 / 9], rtol=1e-6)
    assert (f ** 2).dtype == f32
    # an integer tensor exponent with negative entries is allowed (PyTorch integer pow: 1, -1 or 0)
    got = tcli.tensor([1, 2, -1, 3]) ** tcli.tensor([-1, -1, -1, 2])
    assert got.dtype == i64 and to_numpy(got).tolist() == [1, 0, -1, 9]


# ---- clamp, where, masked_fill, lerp, addcmul -------------------------------------------------------------------

TERNARY_LAYOUTS = ("contiguous", "transposed", "broadcast", "0d", "empty")


def _x_for(layout, dt, rng, domain="real"):
    shape = {"0d": (), "empty": (0, 4)}.get(layout, (3, 4))
    x = sample(domain, dt, shape, rng)
    return (transposed(x) if layout == "transposed" else contiguous(x)), x


def _ternary_cases(dtypes, broadcast=ALL):
    """Every layout for float32 and float64; the other dtypes contiguous plus broadcast (those in ``broadcast``)
    or 0-d (the others)."""
    for dt in dtypes:
        others = ("contiguous", "broadcast" if dt in broadcast else "0d")
        for layout in TERNARY_LAYOUTS if dt in FLOATS else others:
            yield pytest.param(dt, layout, id=f"{dt.name}-{layout}")


CLAMP_BOUNDS = {"min": (-0.5, None), "max": (None, 0.5), "both": (-0.5, 0.5)}


@pytest.mark.parametrize("bounds", list(CLAMP_BOUNDS))
@pytest.mark.parametrize("dt,layout", list(_ternary_cases(NO_BOOL, broadcast=(f16, i64))))
def test_clamp(bounds, dt, layout):
    lo, hi = CLAMP_BOUNDS[bounds]
    if not is_float(dt):
        lo, hi = (None if lo is None else (0 if dt is u8 else -2)), (None if hi is None else 3)
    rng = rng_for("clamp", bounds, dt.name, layout)
    if layout == "broadcast":
        row = sample("real", dt, (1, 4), rng)
        t, x = expanded(row, (3, 4)), np.broadcast_to(row, (3, 4))
    else:
        t, x = _x_for(layout, dt, rng)
    xc = _compute_input(x, dt, dt)
    expected = _reference(lambda v: np.clip(v, lo, hi), dt, xc)
    assert_matches(tcli.clamp(t, lo, hi), expected, dt, "exact")
    assert_matches(t.clamp(min=lo, max=hi), expected, dt, "exact")
    if bounds == "min":
        assert_matches(tcli.clamp_min(t, lo), expected, dt, "exact")
    if bounds == "max":
        assert_matches(tcli.clamp_max(t, hi), expected, dt, "exact")


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.name)
def test_clamp_with_tensor_bounds(dt):
    rng = rng_for("clamp_tensor", dt.name)
    x = sample("real", dt, (3, 4), rng)
    lo = sample("small", dt, (4,), rng) - 1
    hi = lo + 1.5
    expected = np.minimum(np.maximum(x, lo), hi)
    assert_matches(tcli.clamp(tcli.tensor(x), tcli.tensor(lo), tcli.tensor(hi)), expected, dt, "exact")
    assert_matches(tcli.clamp(transposed(x), min=tcli.tensor(lo)), np.maximum(x, lo), dt, "exact")


def test_clamp_promotes_like_pytorch():
    i = tcli.tensor([-3, 0, 5])
    assert tcli.clamp(i, 0.5).dtype == f32 and to_numpy(tcli.clamp(i, 0.5)).tolist() == [0.5, 0.5, 5.0]
    assert tcli.clamp(i, -1, 2).dtype == i64 and to_numpy(tcli.clamp(i, -1, 2)).tolist() == [-1, 0, 2]
    nan = tcli.clamp(tcli.tensor([math.nan, 2.0]), 0.0, 1.0)
    assert math.isnan(to_numpy(nan)[0]) and to_numpy(nan)[1] == 1.0  # clamp propagates NaN


@pytest.mark.parametrize("dt,layout", list(_ternary_cases(ALL)))
def test_where(dt, layout):
    rng = rng_for("where", dt.name, layout)
    if layout == "broadcast":  # condition (3,1), input (3,4), other (4,)
        cond, x, y = rng.random((3, 1)) < 0.5, sample("real", dt, (3, 4), rng), sample("real", dt, (4,), rng)
        tc, tx, ty = tcli.tensor(cond), tcli.tensor(x), tcli.tensor(y)
    else:
        tx, x = _x_for(layout, dt, rng)
        shape = x.shape
        cond, y = rng.random(shape) < 0.5, sample("real", dt, shape, rng)
        tc, ty = (transposed(cond) if layout == "transposed" else contiguous(cond)), tcli.tensor(y)
    assert_matches(tcli.where(tc, tx, ty), np.where(cond, x, y), dt)


@pytest.mark.parametrize("dt", [f32, i64, b1], ids=lambda d: d.name)
def test_where_method_form(dt):
    """x.where(condition, y) is where(condition, x, y)."""
    rng = rng_for("where-method", dt.name)
    cond, x, y = rng.random((3, 4)) < 0.5, sample("real", dt, (3, 4), rng), sample("real", dt, (4,), rng)
    assert_matches(tcli.tensor(x).where(tcli.tensor(cond), tcli.tensor(y)), np.where(cond, x, y), dt)


def test_where_with_numbers():
    cond = tcli.tensor([True, False, True])
    x = tcli.tensor([1.0, 2.0, 3.0])
    assert_matches(tcli.where(cond, x, 0.0), np.array([1.0, 0.0, 3.0]), f32)
    assert_matches(tcli.where(cond, 5, x), np.array([5.0, 2.0, 5.0]), f32)
    assert_matches(tcli.where(cond, tcli.tensor([1, 2, 3]), 2.5), np.array([1.0, 2.5, 3.0]), f32)
    assert_matches(tcli.where(cond, 1.0, 0.0), np.array([1.0, 0.0, 1.0]), f32)
    assert_matches(tcli.where(cond, 1, 0), np.array([1, 0, 1]), i64)
    assert_matches(tcli.where(cond, x.double(), x), np.array([1.0, 2.0, 3.0]), f64)


@pytest.mark.parametrize("dt,layout", list(_ternary_cases(ALL)))
def test_masked_fill(dt, layout):
    rng = rng_for("masked_fill", dt.name, layout)
    tx, x = _x_for(layout, dt, rng)
    value = True if dt is b1 else (-9.5 if is_float(dt) else 7)
    if layout == "broadcast":  # a (4,) mask over (3,4)
        mask = rng.random((4,)) < 0.5
    else:
        mask = rng.random(x.shape) < 0.5
    expected = np.where(mask, np.array(value).astype(x.dtype), x)
    assert_matches(tcli.masked_fill(tx, tcli.tensor(mask), value), expected, dt)
    assert_matches(tx.masked_fill(tcli.tensor(mask), tcli.tensor(value)), expected, dt)


@pytest.mark.parametrize("dt,layout", list(_ternary_cases(FLOAT_ONLY)))
def test_lerp(dt, layout):
    rng = rng_for("lerp", dt.name, layout)
    ts, s = _x_for(layout, dt, rng)
    e = sample("real", dt, (4,) if layout == "broadcast" else s.shape, rng)
    w = sample("unit", dt, s.shape, rng)
    sc, ec, wc = (_compute_input(v, dt, dt) for v in (s, e, w))
    assert_matches(tcli.lerp(ts, tcli.tensor(e), 0.3), _reference(lambda a, b: a + 0.3 * (b - a), dt, sc, ec), dt,
                   "arith")
    assert_matches(tcli.lerp(ts, tcli.tensor(e), tcli.tensor(w)),
                   _reference(lambda a, b, c: a + c * (b - a), dt, sc, ec, wc), dt, "arith")


@pytest.mark.parametrize("dt,layout", list(_ternary_cases((f32, f64, f16, i64, i32))))
def test_addcmul(dt, layout):
    rng = rng_for("addcmul", dt.name, layout)
    tx, x = _x_for(layout, dt, rng)
    a = sample("real", dt, (4,) if layout == "broadcast" else x.shape, rng)
    b = sample("real", dt, x.shape, rng)
    value = 0.5 if is_float(dt) else 2
    xc, ac, bc = (_compute_input(v, dt, dt) for v in (x, a, b))
    expected = _reference(lambda p, q, r: p + value * q * r, dt, xc, ac, bc)
    assert_matches(tcli.addcmul(tx, tcli.tensor(a), tcli.tensor(b), value=value), expected, dt, "arith")
    assert_matches(tx.addcmul(tcli.tensor(a), tcli.tensor(b), value=value), expected, dt, "arith")


# ---- gradients -------------------------------------------------------------------------------------------------------
# gradcheck in float64 on small inputs, away from non-differentiable points (the domains above: |x| >= 0.25 for
# abs/relu/sign, x > 0 for log/sqrt, |x| < 0.9 for asin/acos; random continuous inputs never tie or sit on a bound).

def leaf(values, requires_grad=True):
    return tcli.tensor(np.asarray(values, np.float64), requires_grad=requires_grad)


def _gradcheck(fn, *inputs):
    assert tcli.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize("row", [r for r in UNARY if r.grad], ids=str)
def test_unary_gradcheck(row):
    x = leaf(sample(row.grad, f64, (2, 3), rng_for("grad", row.name)))
    _gradcheck(getattr(tcli, row.name), x)


@pytest.mark.parametrize("row", [r for r in UNARY if r.grad], ids=str)
def test_unary_gradcheck_noncontiguous(row):
    x = leaf(sample(row.grad, f64, (3, 2), rng_for("grad-t", row.name)))
    _gradcheck(lambda v: getattr(tcli, row.name)(v.t()), x)


GRAD_SHAPES = {"same": ((2, 3), (2, 3)), "broadcast": ((2, 1), (3,)), "bias": ((2, 3), (3,)), "0d": ((2, 3), ())}
_GRAD_DOMAINS = {"pow": ("pos", "small"), "div": ("real", "nonzero"), "div_trunc": ("real", "nonzero"),
                 "remainder": ("real", "nonzero"), "maximum": ("real", "real"), "minimum": ("real", "real")}


def binary_grad_cases():
    for row in BINARY:
        if row.grad:
            for kind in GRAD_SHAPES:
                yield pytest.param(row, kind, id=f"{row.name}-{kind}")


@pytest.mark.parametrize("row,kind", list(binary_grad_cases()))
def test_binary_gradcheck(row, kind):
    rng = rng_for("grad", row.name, kind)
    dom_a, dom_b = _GRAD_DOMAINS.get(row.name, ("real", "real"))
    shape_a, shape_b = GRAD_SHAPES[kind]
    a, b = leaf(sample(dom_a, f64, shape_a, rng)), leaf(sample(dom_b, f64, shape_b, rng))
    _gradcheck(row.fn, a, b)
    # gradients of broadcast inputs are summed back to the inputs' shapes
    row.fn(a, b).sum().backward()
    assert tuple(a.grad.shape) == shape_a and tuple(b.grad.shape) == shape_b
    assert a.grad.dtype == f64 and b.grad.dtype == f64


SCALAR_GRADS = {  # label: (function of one tensor, input domain)
    "x + 2": (lambda x: x + 2, "real"),
    "2 + x": (lambda x: 2 + x, "real"),
    "x - 1.5": (lambda x: x - 1.5, "real"),
    "2 - x": (lambda x: 2 - x, "real"),
    "x * 3": (lambda x: x * 3, "real"),
    "3 * x": (lambda x: 3 * x, "real"),
    "x / 2": (lambda x: x / 2, "real"),
    "1 / x": (lambda x: 1 / x, "nonzero"),
    "x ** 3": (lambda x: x ** 3, "real"),
    "x ** 2": (lambda x: x ** 2, "real"),
    "x ** 0.5": (lambda x: x ** 0.5, "pos"),
    "2 ** x": (lambda x: 2 ** x, "real"),
    "x % 1.5": (lambda x: x % 1.5, "real"),
    "sub alpha": (lambda x: tcli.sub(x, x * x, alpha=2), "real"),
    "add alpha": (lambda x: tcli.add(x, x * x, alpha=-0.5), "real"),
    "clamp min": (lambda x: tcli.clamp(x, min=-0.5), "real"),
    "clamp max": (lambda x: tcli.clamp(x, max=0.5), "real"),
    "clamp both": (lambda x: tcli.clamp(x, -0.5, 0.5), "real"),
    "clamp_min": (lambda x: tcli.clamp_min(x, 0.1), "real"),
    "clamp min=0": (lambda x: x.clamp(min=0), "nonzero"),
    "where number": (lambda x: tcli.where(x > 0, x, 0.0), "nonzero"),
    "masked_fill": (lambda x: x.masked_fill(x < 0, 2.0), "nonzero"),
    "lerp scalar": (lambda x: tcli.lerp(x, x * x, 0.3), "real"),
}


@pytest.mark.parametrize("label", list(SCALAR_GRADS))
def test_gradcheck_with_numbers(label):
    fn, domain = SCALAR_GRADS[label]
    _gradcheck(fn, leaf(sample(domain, f64, (2, 3), rng_for("grad-scalar", label))))


@pytest.mark.parametrize("dt", [f32, f64])
def test_relu_idiom_and_square_gradients_at_the_edges(dt):
    """x.clamp(min=0) passes the gradient where x >= 0, both zeros included, and not at NaN (PyTorch's mask is
    x >= min); (x ** 2).sum() gives 2x through the broadcast gradient of the sum."""
    x = tcli.tensor([-1.5, -0.0, 0.0, 2.0, math.nan, 3.0], dtype=dt, requires_grad=True)
    x.clamp(min=0).backward(tcli.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], dtype=dt))
    np.testing.assert_array_equal(to_numpy(x.grad), [0.0, 2.0, 3.0, 4.0, 0.0, 6.0])
    y = tcli.tensor([[-1.5, 0.25], [3.0, -0.0]], dtype=dt, requires_grad=True)
    (y ** 2).sum().backward()
    np.testing.assert_array_equal(to_numpy(y.grad), [[-3.0, 0.5], [6.0, -0.0]])
    z = tcli.tensor([0.0, 1e-30, 2.0], dtype=dt, requires_grad=True)
    ((z ** 2).sum() * 3e38).backward()  # g * (x + x): 2g would overflow to inf, and inf * 0 is nan
    x, g = np.array([0.0, 1e-30, 2.0], dt.np), dt.np.type(3e38)
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(to_numpy(z.grad), g * (x + x))  # [0, 6e8, inf] in float32


TERNARY_GRADS = {  # label: (function, input shapes, input domains)
    "clamp tensor bounds": (lambda x, lo, hi: tcli.clamp(x, lo, hi), ((2, 3), (3,), (2, 1)), ("real", "real", "real")),
    "where": (lambda x, y, c: tcli.where(c > 0, x, y), ((2, 3), (3,), (2, 1)), ("real", "real", "nonzero")),
    "masked_fill tensor value": (lambda x, v, c: x.masked_fill(c > 0, v), ((2, 3), (), (3,)),
                                 ("real", "real", "nonzero")),
    "lerp tensor weight": (lambda s, e, w: tcli.lerp(s, e, w), ((2, 3), (3,), (2, 1)), ("real", "real", "unit")),
    "addcmul": (lambda x, a, b: tcli.addcmul(x, a, b, value=0.5), ((2, 3), (3,), (2, 1)), ("real", "real", "real")),
}


@pytest.mark.parametrize("label", list(TERNARY_GRADS))
def test_ternary_gradcheck(label):
    fn, shapes, domains = TERNARY_GRADS[label]
    rng = rng_for("grad-ternary", label)
    inputs = [leaf(sample(d, f64, s, rng)) for s, d in zip(shapes, domains)]
    if label == "clamp tensor bounds":  # keep lo < hi everywhere
        inputs[2] = leaf(to_numpy(inputs[2]) * 0 + 1.0 + np.abs(to_numpy(inputs[1])).max())
        inputs[1] = leaf(to_numpy(inputs[1]) * 0.3)
    _gradcheck(fn, *inputs)
    fn(*inputs).sum().backward()
    for t, s in zip(inputs, shapes):
        assert t.grad is None or tuple(t.grad.shape) == s


def test_gradcheck_detects_a_wrong_gradient():
    class Twice(tcli.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3  # wrong on purpose

    x = leaf([0.5, 1.5])
    assert not tcli.autograd.gradcheck(Twice.apply, (x,), raise_exception=False)


def test_broadcast_gradient_values():
    a = leaf([[1.0], [2.0]])            # (2, 1)
    b = leaf([10.0, 20.0, 30.0])        # (3,)
    (a * b).sum().backward()
    np.testing.assert_array_equal(to_numpy(a.grad), [[60.0], [60.0]])
    np.testing.assert_array_equal(to_numpy(b.grad), [3.0, 3.0, 3.0])
    x = leaf([1.0, 2.0])
    (x + 2).sum().backward()
    np.testing.assert_array_equal(to_numpy(x.grad), [1.0, 1.0])


def test_maximum_tie_splits_the_gradient():
    a, b = leaf([1.0, 2.0]), leaf([1.0, 0.0])
    tcli.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(to_numpy(a.grad), [0.5, 1.0])
    np.testing.assert_array_equal(to_numpy(b.grad), [0.5, 0.0])


def test_relu_and_clamp_gradients_at_the_kink_are_pytorchs():
    x = leaf([-1.0, 0.0, 1.0])
    x.relu().sum().backward()
    np.testing.assert_array_equal(to_numpy(x.grad), [0.0, 0.0, 1.0])
    y = leaf([-1.0, 0.0, 1.0])
    y.clamp(0.0, 1.0).sum().backward()  # the bounds themselves pass the gradient
    np.testing.assert_array_equal(to_numpy(y.grad), [0.0, 1.0, 1.0])


GRAD_FN_NAMES = {
    "x + y": (lambda m, x, y: x + y, "AddBackward0"),
    "x + 2": (lambda m, x, y: x + 2, "AddBackward0"),
    "2 + x": (lambda m, x, y: 2 + x, "AddBackward0"),
    "x - y": (lambda m, x, y: x - y, "SubBackward0"),
    "x - 2": (lambda m, x, y: x - 2, "SubBackward0"),
    "2 - x": (lambda m, x, y: 2 - x, "RsubBackward1"),
    "x * y": (lambda m, x, y: x * y, "MulBackward0"),
    "2 * x": (lambda m, x, y: 2 * x, "MulBackward0"),
    "x / y": (lambda m, x, y: x / y, "DivBackward0"),
    "x / 2": (lambda m, x, y: x / 2, "DivBackward0"),
    "1 / x": (lambda m, x, y: 1 / x, "MulBackward0"),
    "div trunc": (lambda m, x, y: m.div(x, y, rounding_mode="trunc"), "DivBackward2"),
    "x ** 3": (lambda m, x, y: x ** 3, "PowBackward0"),
    "x ** y": (lambda m, x, y: x ** y, "PowBackward1"),
    "2 ** x": (lambda m, x, y: 2 ** x, "PowBackward2"),
    "x % 2": (lambda m, x, y: x % 2, "RemainderBackward0"),
    "x % y": (lambda m, x, y: x % y, "RemainderBackward1"),
    "clamp numbers": (lambda m, x, y: x.clamp(0, 1), "ClampBackward1"),
    "clamp min": (lambda m, x, y: x.clamp(min=0), "ClampBackward1"),
    "clamp tensors": (lambda m, x, y: x.clamp(min=y), "ClampBackward0"),
    "relu": (lambda m, x, y: x.relu(), "ReluBackward0"),
    "where": (lambda m, x, y: m.where(x > 1, x, y), "WhereBackward0"),
    "masked_fill": (lambda m, x, y: x.masked_fill(x > 1, 0.0), "MaskedFillBackward0"),
    "lerp number": (lambda m, x, y: m.lerp(x, y, 0.5), "LerpBackward0"),
    "lerp tensor": (lambda m, x, y: m.lerp(x, y, y), "LerpBackward1"),
    "addcmul": (lambda m, x, y: m.addcmul(x, x, y), "AddcmulBackward0"),
    "maximum": (lambda m, x, y: m.maximum(x, y), "MaximumBackward0"),
    "atan2": (lambda m, x, y: m.atan2(x, y), "Atan2Backward0"),
    "neg": (lambda m, x, y: -x, "NegBackward0"),
    "square": (lambda m, x, y: x.square(), "PowBackward0"),
    "sigmoid": (lambda m, x, y: x.sigmoid(), "SigmoidBackward0"),
    "log1p": (lambda m, x, y: x.log1p(), "Log1PBackward0"),
    "floor": (lambda m, x, y: x.floor(), "FloorBackward0"),
}


@pytest.mark.parametrize("label", list(GRAD_FN_NAMES))
def test_grad_fn_names(label):
    fn, name = GRAD_FN_NAMES[label]
    x, y = leaf([0.5, 1.5]), leaf([2.0, 3.0])
    assert fn(tcli, x, y).grad_fn.name() == name


def test_no_grad_fn_for_comparisons_and_without_requires_grad():
    x = leaf([0.5, 1.5])
    assert (x > 1).grad_fn is None and not (x > 1).requires_grad
    assert (leaf([1.0], requires_grad=False) * 2).grad_fn is None
    with tcli.no_grad():
        assert (x * 2).grad_fn is None


# ---- in-place forms ------------------------------------------------------------------------------------------------

INPLACE = {  # label: (in-place call returning its result, out-of-place equivalent, input domain)
    "add_ tensor": (lambda x, o: x.add_(o), lambda x, o: x + o, "real"),
    "add_ number": (lambda x, o: x.add_(2), lambda x, o: x + 2, "real"),
    "add_ alpha": (lambda x, o: x.add_(o, alpha=2), lambda x, o: x + 2 * o, "real"),
    "sub_": (lambda x, o: x.sub_(o), lambda x, o: x - o, "real"),
    "mul_ tensor": (lambda x, o: x.mul_(o), lambda x, o: x * o, "real"),
    "mul_ number": (lambda x, o: x.mul_(1.5), lambda x, o: x * 1.5, "real"),
    "div_": (lambda x, o: x.div_(2), lambda x, o: x / 2, "real"),
    "pow_": (lambda x, o: x.pow_(2), lambda x, o: x ** 2, "real"),
    "clamp_ both": (lambda x, o: x.clamp_(-0.5, 0.5), lambda x, o: x.clamp(-0.5, 0.5), "real"),
    "clamp_ min": (lambda x, o: x.clamp_(min=0), lambda x, o: x.clamp(min=0), "real"),
    "clamp_ max": (lambda x, o: x.clamp_(max=0), lambda x, o: x.clamp(max=0), "real"),
    "relu_": (lambda x, o: x.relu_(), lambda x, o: x.relu(), "real"),
    "neg_": (lambda x, o: x.neg_(), lambda x, o: -x, "real"),
    "abs_": (lambda x, o: x.abs_(), lambda x, o: x.abs(), "real"),
    "exp_": (lambda x, o: x.exp_(), lambda x, o: x.exp(), "real"),
    "sqrt_": (lambda x, o: x.sqrt_(), lambda x, o: x.sqrt(), "pos"),
    "sigmoid_": (lambda x, o: x.sigmoid_(), lambda x, o: x.sigmoid(), "real"),
    "floor_": (lambda x, o: x.floor_(), lambda x, o: x.floor(), "real"),
    "masked_fill_": (lambda x, o: x.masked_fill_(o > 0, 0.0), lambda x, o: x.masked_fill(o > 0, 0.0), "real"),
    "lerp_": (lambda x, o: x.lerp_(o, 0.25), lambda x, o: tcli.lerp(x, o, 0.25), "real"),
    "addcmul_": (lambda x, o: x.addcmul_(o, o, value=2), lambda x, o: tcli.addcmul(x, o, o, value=2), "real"),
}


def _iadd(x, o):
    x += o
    return x


def _isub(x, o):
    x -= o
    return x


def _imul(x, o):
    x *= o
    return x


def _idiv(x, o):
    x /= o
    return x


INPLACE.update({
    "+= tensor": (_iadd, lambda x, o: x + o, "real"),
    "+= number": (lambda x, o: _iadd(x, 1.5), lambda x, o: x + 1.5, "real"),
    "-= tensor": (_isub, lambda x, o: x - o, "real"),
    "*= tensor": (_imul, lambda x, o: x * o, "real"),
    "/= number": (lambda x, o: _idiv(x, 4), lambda x, o: x / 4, "real"),
})


def _inplace_target(layout, rng, domain):
    """(tensor to modify, its base or None, base values) for a (3,4) target with ``layout``."""
    x = sample(domain, f32, (3, 4), rng)
    if layout == "contiguous":
        return tcli.tensor(x), None, None
    if layout == "transposed":
        base = tcli.tensor(np.ascontiguousarray(x.T))
        return base.t(), base, to_numpy(base)
    base = tcli.tensor(np.concatenate([x, x[:, ::-1] + 100], axis=1)[:, [0, 4, 1, 5, 2, 6, 3, 7]])
    return base[:, ::2], base, to_numpy(base)


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "sliced"])
@pytest.mark.parametrize("label", list(INPLACE))
def test_inplace(label, layout):
    op, ref, domain = INPLACE[label]
    rng = rng_for("inplace", label, layout)
    x, base, base_before = _inplace_target(layout, rng, domain)
    other = tcli.tensor(sample("real", f32, (4,), rng))  # broadcasts over x's rows
    expected = to_numpy(ref(x.clone(), other))
    ptr, v0 = x.data_ptr(), version(x)
    out = op(x, other)
    assert out is x
    assert x.data_ptr() == ptr and x.dtype == f32
    assert version(x) == v0 + 1
    np.testing.assert_allclose(to_numpy(x), expected, rtol=1e-6, atol=1e-6)
    if base is not None:  # the view wrote through to its base, and only where it looks
        assert version(base) == version(x)
        after = to_numpy(base)
        if layout == "transposed":
            np.testing.assert_allclose(after.T, expected, rtol=1e-6, atol=1e-6)
        else:
            np.testing.assert_allclose(after[:, ::2], expected, rtol=1e-6, atol=1e-6)
            np.testing.assert_array_equal(after[:, 1::2], base_before[:, 1::2])


def test_inplace_keeps_dtype_with_compatible_operands():
    i = tcli.tensor([1, 2, 3])
    i += 2
    i *= tcli.tensor([2, 2, 2], dtype=i32)
    i += True
    assert i.dtype == i64 and to_numpy(i).tolist() == [7, 9, 11]
    j = tcli.tensor([1, 2], dtype=i32)
    j += tcli.tensor([10, 20])  # int64 result fits the int32 category: allowed
    assert j.dtype == i32 and to_numpy(j).tolist() == [11, 22]
    h = tcli.tensor([1.5, 2.5], dtype=f16)
    ptr = h.data_ptr()
    h += 1
    h.mul_(tcli.tensor([2.0, 2.0]))
    assert h.dtype == f16 and h.data_ptr() == ptr and to_numpy(h).tolist() == [5.0, 7.0]
    f = tcli.tensor([1.0, 2.0])
    f += tcli.tensor([1, 2])
    f += tcli.tensor([0.5, 0.5], dtype=f64)
    assert f.dtype == f32 and to_numpy(f).tolist() == [2.5, 4.5]


_CAST = "result type {} can't be cast to the desired output type {}"

INPLACE_CAST_ERRORS = [  # i is tcli.tensor([1, 2, 3])
    ("i.__iadd__(1.5)", _CAST.format("Float", "Long")),
    ("i.add_(1.5)", _CAST.format("Float", "Long")),
    ("i.add_(tcli.tensor([0.5, 0.5, 0.5]))", _CAST.format("Float", "Long")),
    ("i.mul_(0.5)", _CAST.format("Float", "Long")),
    ("i.div_(2)", _CAST.format("Float", "Long")),
    ("i.__itruediv__(2)", _CAST.format("Float", "Long")),
    ("i.clamp_(0.5)", _CAST.format("Float", "long int")),  # sic: clamp_ names the dtype differently
    ("tcli.tensor([1, 2], dtype=tcli.int32).sub_(0.5)", _CAST.format("Float", "Int")),
    ("tcli.tensor([True, False]).add_(1)", _CAST.format("Long", "Bool")),
    ("tcli.tensor([1, 2], dtype=tcli.uint8).mul_(1.5)", _CAST.format("Float", "Byte")),
]


@pytest.mark.parametrize("expr,message", INPLACE_CAST_ERRORS, ids=[e[0] for e in INPLACE_CAST_ERRORS])
def test_inplace_cast_errors(expr, message):
    i = tcli.tensor([1, 2, 3])
    with pytest.raises(RuntimeError) as excinfo:
        eval(expr)
    assert_error(excinfo, message, hint=True)
    assert to_numpy(i).tolist() == [1, 2, 3]  # nothing was written


@pytest.mark.parametrize("expr,message", INPLACE_CAST_ERRORS, ids=[e[0] for e in INPLACE_CAST_ERRORS])
def test_inplace_cast_errors_match_torch(expr, message):
    torch = pytest.importorskip("torch")
    i = torch.tensor([1, 2, 3])
    with pytest.raises(RuntimeError) as excinfo:
        eval(expr.replace("tcli.", "torch."), {"torch": torch, "i": i})
    assert str(excinfo.value).split("\n")[0] == message
    assert i.tolist() == [1, 2, 3]


def test_int_tensor_plus_equals_float_raises_like_pytorch():
    i = tcli.tensor([1, 2, 3])
    with pytest.raises(RuntimeError) as excinfo:
        i += 1.5
    assert_error(excinfo, "result type Float can't be cast to the desired output type Long", hint=True)


def test_inplace_broadcast_errors():
    with pytest.raises(RuntimeError) as excinfo:
        tcli.ones(3).add_(tcli.ones(2, 3))
    assert str(excinfo.value).split("\n")[0] == "output with shape [3] doesn't match the broadcast shape [2, 3]"
    x = tcli.ones(3)
    with pytest.raises(RuntimeError) as excinfo:
        x += tcli.ones(2, 1)
    assert str(excinfo.value).split("\n")[0] == "output with shape [3] doesn't match the broadcast shape [2, 3]"


def test_inplace_version_counts_each_op():
    x = tcli.zeros(2, 3)
    v = version(x)
    x.add_(1)
    x.mul_(2)
    x += 1
    x.relu_()
    assert version(x) == v + 4
    row = x[0]
    row.add_(1)  # a view shares its base's counter
    assert version(x) == v + 5 and version(row) == v + 5
    assert to_numpy(x).tolist() == [[4.0, 4.0, 4.0], [3.0, 3.0, 3.0]]


@pytest.mark.parametrize("n", [7, 100_003])  # serial and parallel kernels
@pytest.mark.parametrize("dtype", [f32, f64])
def test_dense_inplace_same_shape(dtype, n):
    """The direct paths: same-shape dense operands, a scalar, the tensor itself, and zero_()."""
    rng = np.random.default_rng(n)
    a = rng.standard_normal(n).astype(dtype.np)
    b = rng.standard_normal(n).astype(dtype.np) + 3
    x, other = tcli.tensor(a), tcli.tensor(b)
    ptr, v0 = x.data_ptr(), version(x)
    x += other
    x -= other * 2
    x *= other
    x /= other
    x.mul_(0.5).add_(1.25)
    expected = ((a + b - b * 2) * b / b) * dtype.np.type(0.5) + dtype.np.type(1.25)
    np.testing.assert_allclose(to_numpy(x), expected, rtol=1e-6)
    x.add_(x)  # reads and writes the same memory
    np.testing.assert_allclose(to_numpy(x), expected * 2, rtol=1e-6)
    assert x.data_ptr() == ptr and version(x) == v0 + 7
    x.zero_()
    assert version(x) == v0 + 8 and not to_numpy(x).any()
    np.testing.assert_array_equal(to_numpy(other), b)  # the operand is untouched


# ---- property tests ----------------------------------------------------------------------------------------------

PROPERTY_DTYPES = (f32, f64, i64, i32, u8, b1)
PROPERTY_OPS = {name: (BINARY_BY_NAME[name].fn, BINARY_BY_NAME[name].ref) for name in BROADCAST_EVERY_DTYPE}


@settings(max_examples=50, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=4, min_side=0, max_side=4),
       dtype=st.sampled_from(PROPERTY_DTYPES), op=st.sampled_from(sorted(PROPERTY_OPS)),
       seed=st.integers(0, 2**32 - 1), transpose=st.booleans())
def test_property_broadcast_matches_numpy(shapes, dtype, op, seed, transpose):
    (shape_a, shape_b), out_shape = shapes
    rng = np.random.default_rng(seed)
    a, b = sample("halves", dtype, shape_a, rng), sample("halves", dtype, shape_b, rng)
    ta = tcli.tensor(a)
    if transpose and a.ndim >= 2:  # the same values through a non-contiguous view
        ta = tcli.tensor(np.ascontiguousarray(np.swapaxes(a, -1, -2))).transpose(-1, -2)
    fn, ref = PROPERTY_OPS[op]
    got = fn(ta, tcli.tensor(b))
    with np.errstate(all="ignore"):
        expected = ref(a, b)
    assert tuple(got.shape) == out_shape == expected.shape
    assert got.dtype == (b1 if op in ("eq", "lt", "ge") else dtype)
    np.testing.assert_array_equal(to_numpy(got), expected)


def _torch_broadcast_error(shape_a, shape_b):
    """PyTorch's infer_size message: dims are compared from the right; the first mismatch found is reported."""
    n = max(len(shape_a), len(shape_b))
    for i in range(n - 1, -1, -1):
        offset = n - 1 - i
        x = shape_a[len(shape_a) - 1 - offset] if len(shape_a) - 1 - offset >= 0 else 1
        y = shape_b[len(shape_b) - 1 - offset] if len(shape_b) - 1 - offset >= 0 else 1
        if x != y and x != 1 and y != 1:
            return f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton dimension {i}"
    return None


@st.composite
def incompatible_shapes(draw):
    shape_a = draw(st.lists(st.integers(0, 4), min_size=1, max_size=4))
    shape_b = list(draw(st.lists(st.integers(0, 4), min_size=0, max_size=4)))
    # force one clash on a dim both shapes have
    k = draw(st.integers(1, len(shape_a)))
    while len(shape_b) < k:
        shape_b.insert(0, draw(st.integers(0, 4)))
    x = shape_a[-k] if shape_a[-k] != 1 else 2
    shape_a[-k] = x
    shape_b[-k] = draw(st.sampled_from([s for s in (0, 2, 3, 4) if s != x]))
    return tuple(shape_a), tuple(shape_b)


@settings(max_examples=50, deadline=None)
@given(shapes=incompatible_shapes(), op=st.sampled_from(sorted(PROPERTY_OPS)))
def test_property_incompatible_shapes_raise(shapes, op):
    shape_a, shape_b = shapes
    message = _torch_broadcast_error(shape_a, shape_b)
    assert message is not None
    with pytest.raises(RuntimeError, match="must match the size of tensor b") as excinfo:
        PROPERTY_OPS[op][0](tcli.zeros(*shape_a), tcli.zeros(*shape_b))
    assert_error(excinfo, message, hint=True)


# ---- errors ---------------------------------------------------------------------------------------------------------
# (label, expression, exception type, PyTorch 2.13's first line, whether tcli must add a hint: line)

_f = "tcli.tensor([1.0, 2.0, 3.0])"
_i = "tcli.tensor([1, 2, 3])"
_b = "tcli.tensor([True, False, True])"

_BOOL_SUB = ("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` "
             "operator instead.")
_MISMATCH = "The size of tensor a ({}) must match the size of tensor b ({}) at non-singleton dimension {}"

ERRORS = [
    ("broadcast (2,3)+(4,)", "tcli.ones(2, 3) + tcli.ones(4)", RuntimeError, _MISMATCH.format(3, 4, 1), True),
    ("broadcast (3,1,5)*(4,6)", "tcli.ones(3, 1, 5) * tcli.ones(4, 6)", RuntimeError, _MISMATCH.format(5, 6, 2),
     True),
    ("broadcast two mismatches", "tcli.ones(2, 3) - tcli.ones(4, 5)", RuntimeError, _MISMATCH.format(3, 5, 1), True),
    ("broadcast comparison", "tcli.ones(2, 3) < tcli.ones(2)", RuntimeError, _MISMATCH.format(3, 2, 1), True),
    ("broadcast where", "tcli.where(tcli.ones(2, 3) > 0, tcli.ones(2, 3), tcli.ones(4))", RuntimeError,
     _MISMATCH.format(3, 4, 1), True),
    ("bool minus bool", f"{_b} - {_b}", RuntimeError, _BOOL_SUB, True),
    ("bool minus True", f"{_b} - True", RuntimeError, _BOOL_SUB, True),
    ("True minus bool", f"True - {_b}", RuntimeError, _BOOL_SUB, True),
    ("bool minus 1", f"{_b} - 1", RuntimeError,
     "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, use "
     "the `~` or `logical_not()` operator instead.", True),
    ("negate bool", f"-{_b}", RuntimeError,
     "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the "
     "`~` or `logical_not()` operator instead.", True),
    ("int += 1.5", f"{_i}.__iadd__(1.5)", RuntimeError, _CAST.format("Float", "Long"), True),
    ("bool add_ 1", f"{_b}.add_(1)", RuntimeError, _CAST.format("Long", "Bool"), True),
    ("int // 0", f"{_i} // 0", RuntimeError, "ZeroDivisionError", False),
    ("int ** -1", f"{_i} ** -1", RuntimeError, "Integers to negative integer powers are not allowed.", False),
    ("clamp()", f"{_f}.clamp()", RuntimeError, "torch.clamp: At least one of 'min' or 'max' must not be None", False),
    ("where float condition", f"tcli.where({_f}, {_f}, {_f})", RuntimeError,
     "where expected condition to be a boolean tensor, but got a tensor with dtype Float", False),
    ("where int condition", f"tcli.where({_i}, {_f}, {_f})", RuntimeError,
     "where expected condition to be a boolean tensor, but got a tensor with dtype Long", False),
    ("masked_fill 1-d value", f"{_f}.masked_fill({_f} > 1, {_f})", RuntimeError,
     "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with 1 dimension(s).", False),
    ("masked_fill float mask", f"{_f}.masked_fill({_f}, 0.0)", RuntimeError,
     "masked_fill_ only supports boolean masks, but got mask with dtype float", False),
    ("masked_fill int mask", f"{_f}.masked_fill({_i}, 0.0)", RuntimeError,
     "masked_fill_ only supports boolean masks, but got mask with dtype long int", False),
    ("float & float", f"{_f} & {_f}", NotImplementedError, "\"bitwise_and_cpu\" not implemented for 'Float'", False),
    ("double | double", f"{_f}.double() | {_f}.double()", NotImplementedError,
     "\"bitwise_or_cpu\" not implemented for 'Double'", False),
    ("bitwise_xor float number", f"tcli.bitwise_xor({_f}, 1)", NotImplementedError,
     "\"bitwise_xor_cpu\" not implemented for 'Float'", False),
    ("~float", f"~{_f}", TypeError, "~ (operator.invert) is only implemented on integer and Boolean-type tensors",
     False),
    ("maximum number", f"tcli.maximum({_f}, 2)", TypeError,
     "maximum(): argument 'other' (position 2) must be Tensor, not int", False),
    ("div rounding_mode", f"tcli.div({_f}, {_f}, rounding_mode='round')", RuntimeError,
     "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found 'round'", False),
    ("abs bool", f"{_b}.abs()", NotImplementedError, "\"abs_cpu\" not implemented for 'Bool'", False),
    ("relu bool", f"{_b}.relu()", RuntimeError, "Boolean inputs not supported for relu", False),
    ("frac int", f"{_i}.frac()", NotImplementedError, "\"frac_cpu\" not implemented for 'Long'", False),
    ("floor bool", f"{_b}.floor()", NotImplementedError, "\"floor_vml_cpu\" not implemented for 'Bool'", False),
    ("bool ** bool", f"{_b} ** {_b}", NotImplementedError, "\"pow\" not implemented for 'Bool'", False),
    ("bool // bool", f"{_b} // {_b}", NotImplementedError, "\"div_floor_cpu\" not implemented for 'Bool'", False),
    ("bool % bool", f"{_b} % {_b}", NotImplementedError, "\"remainder_cpu\" not implemented for 'Bool'", False),
    ("leaf in-place", "tcli.ones(2, requires_grad=True).add_(1)", RuntimeError,
     "a leaf Variable that requires grad is being used in an in-place operation.", True),
]


@pytest.mark.parametrize("label,expr,exc,message,hint", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(label, expr, exc, message, hint):
    with pytest.raises(exc) as excinfo:
        eval(expr)
    assert type(excinfo.value) is exc
    assert_error(excinfo, message, hint)


# ---- live comparisons with PyTorch (skipped without torch) ----------------------------------------------------------

def _torch_binary(torch, row, a, b):
    if row.name == "div_trunc":
        return torch.div(a, b, rounding_mode="trunc")
    if row.name == "div_floor":
        return torch.div(a, b, rounding_mode="floor")
    return getattr(torch, row.name)(a, b)


def _compare_with_torch(torch, got, want, dt, tol):
    assert got.dtype.name == str(want.dtype)[len("torch."):]
    assert tuple(got.shape) == tuple(want.shape)
    w = want.numpy()
    if is_float(dt):
        rtol, atol = {"exact": (0, 0), "arith": (1e-6, 1e-6), "transc": (1e-5, 1e-6)}[tol]
        if dt is f16:
            rtol, atol = 1e-3, 1e-3
        np.testing.assert_allclose(to_numpy(got).astype(np.float64), w.astype(np.float64), rtol=rtol, atol=atol,
                                   equal_nan=True)
    else:
        np.testing.assert_array_equal(to_numpy(got), w)


@pytest.mark.parametrize("row", UNARY, ids=str)
def test_unary_vs_torch(row):
    torch = pytest.importorskip("torch")
    for dt in row.dtypes:
        x = sample(row.domain, dt, (3, 4), rng_for("torch", row.name, dt.name))
        got = getattr(tcli, row.name)(tcli.tensor(x))
        want = getattr(torch, row.name)(torch.from_numpy(x.copy()))
        _compare_with_torch(torch, got, want, result_dtype(row.result, dt), row.tol)


@pytest.mark.parametrize("row", [r for r in UNARY if f32 in r.dtypes], ids=str)
def test_unary_special_values_vs_torch(row):
    torch = pytest.importorskip("torch")
    for dt in (f32, f64):
        x = np.array(SPECIAL, NP_OF[dt])
        got = getattr(tcli, row.name)(tcli.tensor(x))
        want = getattr(torch, row.name)(torch.from_numpy(x.copy()))
        _compare_with_torch(torch, got, want, result_dtype(row.result, dt), row.tol)


@pytest.mark.parametrize("row", BINARY, ids=str)
def test_binary_vs_torch(row):
    torch = pytest.importorskip("torch")
    for dt in row.dtypes:
        rng = rng_for("torch", row.name, dt.name)
        b_shape = (4,) if dt in primary_dtypes(row.dtypes) else (3, 4)  # only compiled broadcast kernels
        a, b = sample(row.dom_a, dt, (3, 4), rng), sample(row.dom_b, dt, b_shape, rng)
        got = row.fn(tcli.tensor(a), tcli.tensor(b))
        want = _torch_binary(torch, row, torch.from_numpy(a.copy()), torch.from_numpy(b.copy()))
        _compare_with_torch(torch, got, want, result_dtype(row.result, dt), row.tol)
        if row.scalar is not None and dt in (f32, i64, b1):
            number = _number_for(row.scalar, dt)
            want = _torch_binary(torch, row, torch.from_numpy(a.copy()), number)
            _compare_with_torch(torch, row.fn(tcli.tensor(a), number), want, scalar_operand_dtype(dt, number),
                                row.tol)
        if row.rop is not None and dt in (f32, i64):
            number = _number_for(row.rscalar, dt)
            want = row.rop(number, torch.from_numpy(b.copy()))
            _compare_with_torch(torch, row.rop(number, tcli.tensor(b)), want, scalar_operand_dtype(dt, number),
                                row.tol)


@pytest.mark.parametrize("label,expr,exc,message,hint", ERRORS, ids=[e[0] for e in ERRORS])
def test_error_table_matches_torch(label, expr, exc, message, hint):
    torch = pytest.importorskip("torch")
    with pytest.raises(exc) as excinfo:
        eval(expr.replace("tcli.", "torch."), {"torch": torch})
    assert str(excinfo.value).split("\n")[0] == message


@pytest.mark.parametrize("label", list(GRAD_FN_NAMES))
def test_grad_fn_names_match_torch(label):
    torch = pytest.importorskip("torch")
    fn, name = GRAD_FN_NAMES[label]
    x = torch.tensor([0.5, 1.5], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([2.0, 3.0], dtype=torch.float64, requires_grad=True)
    assert fn(torch, x, y).grad_fn.name() == name


def test_floor_and_trunc_division_of_special_and_huge_floats():
    """NaN and inf stay NaN/inf (not INT64_MIN), and quotients past 2**63 stay exact floats."""
    nan, inf = float("nan"), float("inf")
    x = tcli.tensor([nan, inf, -inf, 2.5, -7.5, 1e20], dtype=tcli.float64)
    floor = (x // 2).tolist()
    assert all(math.isnan(v) for v in floor[:3]) and floor[3:] == [1.0, -4.0, 5e19]
    trunc = tcli.div(x, 3, rounding_mode="trunc").tolist()
    assert math.isnan(trunc[0]) and trunc[1:5] == [inf, -inf, 0.0, -2.0] and trunc[5] == float(np.trunc(1e20 / 3))
    assert math.isnan((5 // x).tolist()[0]) and (5 // x).tolist()[1:3] == [0.0, -1.0]


def test_floor_and_trunc_division_of_special_floats_match_torch():
    torch = pytest.importorskip("torch")
    values = [float("nan"), float("inf"), -float("inf"), 2.5, -7.5, 1e20, -0.0]
    for make in (lambda m, x: x // 2, lambda m, x: 5 // x, lambda m, x: m.div(x, 3, rounding_mode="trunc"),
                 lambda m, x: x % 2):
        got = make(tcli, tcli.tensor(values)).tolist()
        want = make(torch, torch.tensor(values)).tolist()
        np.testing.assert_array_equal(np.array(got), np.array(want))


@pytest.mark.parametrize("name, call, ref", [
    ("add", lambda x, out: tcli.add(x, 2.0, out=out), lambda a: a + 2),
    ("sub", lambda x, out: tcli.sub(x, x, alpha=0.5, out=out), lambda a: a * 0.5),
    ("mul", lambda x, out: tcli.mul(x, x, out=out), lambda a: a * a),
    ("div", lambda x, out: tcli.div(x, 4, out=out), lambda a: a / 4),
    ("pow", lambda x, out: tcli.pow(x, 2, out=out), lambda a: a ** 2),
    ("clamp", lambda x, out: tcli.clamp(x, -0.5, 0.5, out=out), lambda a: np.clip(a, -0.5, 0.5)),
])
def test_out_argument(name, call, ref):
    """out= gets the result and is returned (an empty out is resized); PyTorch refuses it where the result would
    need a gradient."""
    a = sample("real", f64, (2, 3), rng_for("out", name))
    out = tcli.empty(2, 3, dtype=f64)
    assert call(tcli.tensor(a), out) is out
    np.testing.assert_allclose(to_numpy(out), ref(a), rtol=1e-12)
    empty = tcli.empty(0, dtype=f64)
    assert call(tcli.tensor(a), empty) is empty and tuple(empty.shape) == (2, 3)
    with pytest.raises(RuntimeError, match=rf"^{name}\(\): functions with out=\.\.\. arguments don't support"):
        call(tcli.tensor(a, requires_grad=True), out)


def test_integer_division_by_zero_with_the_number_on_the_left():
    for op in (lambda d: 5 // d, lambda d: 5 % d, lambda d: torch_floordiv(5, d)):
        with pytest.raises(RuntimeError, match="^ZeroDivisionError"):
            op(tcli.tensor([0, 1]))
    assert (7 // tcli.tensor([2, 3])).tolist() == [3, 2] and (5 % tcli.tensor([2, 3])).tolist() == [1, 2]
    assert (7.0 // tcli.tensor([0, 2])).tolist() == [math.inf, 3.0]  # a float side: IEEE, no error


def torch_floordiv(a, b):
    return tcli.floor_divide(a, b)


# ---- fmax/fmin: NaN-ignoring maximum/minimum --------------------------------------------------------------

def test_fmax_and_fmin_ignore_nan_as_numpy_does():
    nan = float("nan")
    a = np.array([nan, 1.0, nan, 2.0, 3.0, -0.0])
    b = np.array([1.0, nan, nan, 2.0, 1.0, 0.0])
    for op, ref in ((tcli.fmax, np.fmax), (tcli.fmin, np.fmin)):
        for dt in (tcli.float32, tcli.float64):
            got = op(tcli.tensor(a, dtype=dt), tcli.tensor(b, dtype=dt))
            assert got.dtype is dt
            np.testing.assert_array_equal(got.numpy(), ref(a, b).astype(NP_OF[dt]))
        ints = op(tcli.tensor([1, 5]), tcli.tensor([[3], [4]]))  # broadcasting, integers (no NaN there)
        assert ints.dtype is tcli.int64 and ints.tolist() == ref(np.array([1, 5]), np.array([[3], [4]])).tolist()
        mixed = op(tcli.tensor([1, 5]), tcli.tensor([2.5, nan]))
        assert mixed.dtype is tcli.float32 and mixed.tolist() == ref(np.array([1, 5]), np.array([2.5, nan])).tolist()


def test_fmax_and_fmin_gradients_go_to_the_side_picked():
    """Finite differences in float64 away from ties and NaN; on ties the input takes all of it, and where one
    side is NaN the other does (PyTorch's derivative formula), unlike maximum's halves."""
    rng = rng_for("fmax-grad")
    a0, b0 = rng.normal(size=(3, 4)), rng.normal(size=(4,))
    for op in (tcli.fmax, tcli.fmin):
        a, b = tcli.tensor(a0, requires_grad=True), tcli.tensor(b0, requires_grad=True)
        w = tcli.tensor(rng.normal(size=(3, 4)))
        (op(a, b) * w).sum().backward()
        eps, num_a, num_b = 1e-6, np.zeros_like(a0), np.zeros_like(b0)

        def f(x, y, op=op, w=w):
            return (op(tcli.tensor(x), tcli.tensor(y)) * w).sum().item()

        for idx in np.ndindex(a0.shape):
            d = np.zeros_like(a0)
            d[idx] = eps
            num_a[idx] = (f(a0 + d, b0) - f(a0 - d, b0)) / (2 * eps)
        for idx in np.ndindex(b0.shape):
            d = np.zeros_like(b0)
            d[idx] = eps
            num_b[idx] = (f(a0, b0 + d) - f(a0, b0 - d)) / (2 * eps)
        np.testing.assert_allclose(a.grad.numpy(), num_a, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(b.grad.numpy(), num_b, rtol=1e-6, atol=1e-8)
        assert op(a, b).grad_fn.name() == ("FmaxBackward0" if op is tcli.fmax else "FminBackward0")
    nan = float("nan")
    a = tcli.tensor([2.0, nan, 1.0], requires_grad=True)
    b = tcli.tensor([2.0, 1.0, nan], requires_grad=True)
    tcli.fmax(a, b).sum().backward()
    assert a.grad.tolist() == [1.0, 0.0, 1.0] and b.grad.tolist() == [0.0, 1.0, 0.0]


def test_fmax_fmin_maximum_refuse_numbers_and_write_out():
    with pytest.raises(TypeError, match=r"maximum\(\): argument 'input' \(position 1\) must be Tensor, not int"):
        tcli.maximum(2, tcli.ones(2))
    with pytest.raises(TypeError, match=r"fmin\(\): argument 'other' \(position 2\) must be Tensor, not float"):
        tcli.fmin(tcli.ones(2), 2.0)
    out = tcli.empty(2)
    assert tcli.fmax(tcli.tensor([1.0, float("nan")]), tcli.tensor([0.0, 3.0]), out=out) is out
    assert out.tolist() == [1.0, 3.0]
    assert tcli.maximum(tcli.tensor([1.0, 4.0]), tcli.tensor([2.0, 3.0]), out=out) is out and out.tolist() == [2, 4]


def test_fmax_matches_pytorch():
    torch = pytest.importorskip("torch")
    nan = float("nan")
    a, b = [nan, 1.0, nan, 2.0, 3.0], [1.0, nan, nan, 2.0, 1.0]
    for name in ("fmax", "fmin"):
        x, y = tcli.tensor(a, requires_grad=True), tcli.tensor(b, requires_grad=True)
        xt, yt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        got, want = getattr(tcli, name)(x, y), getattr(torch, name)(xt, yt)
        (got * tcli.arange(5.0)).nansum().backward()
        (want * torch.arange(5.0)).nansum().backward()
        np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
        np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())
        np.testing.assert_array_equal(y.grad.numpy(), yt.grad.numpy())

"""PyTorch's type promotion, exactly: promote_types over all pairs of the 9 dtypes, the priority of dimensioned
tensors over 0-d tensors over Python numbers (unless the lower-priority operand is of a higher category), the
default dtype's role, and the dtypes that binary ops actually return.

The expected tables are written by hand from PyTorch's rules (c10's promoteTypes and ResultTypeState); the
torch-guarded tests check the tables themselves and compare tcli with torch live over all pairs.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers import BY_SHORT, DTYPE_NAMES, DTYPES, NP_OF, SHORT, to_numpy

import tcli

# promote_types(row, column): the smallest dtype both fit; bool is below every integer, integers below floats,
# uint8 with a signed type needs the next signed type that holds 255 (int16), floats win over any integer.
PROMOTE = """
      b1   u8   i8   i16  i32  i64  f16  f32  f64
b1    b1   u8   i8   i16  i32  i64  f16  f32  f64
u8    u8   u8   i16  i16  i32  i64  f16  f32  f64
i8    i8   i16  i8   i16  i32  i64  f16  f32  f64
i16   i16  i16  i16  i16  i32  i64  f16  f32  f64
i32   i32  i32  i32  i32  i32  i64  f16  f32  f64
i64   i64  i64  i64  i64  i64  i64  f16  f32  f64
f16   f16  f16  f16  f16  f16  f16  f16  f32  f64
f32   f32  f32  f32  f32  f32  f32  f32  f32  f64
f64   f64  f64  f64  f64  f64  f64  f64  f64  f64
"""


def _parse(table):
    lines = [line.split() for line in table.strip().splitlines()]
    columns = lines[0]
    return {(row[0], col): cell for row in lines[1:] for col, cell in zip(columns, row[1:])}


EXPECTED = _parse(PROMOTE)
PAIRS = [(a, b) for a in SHORT.values() for b in SHORT.values()]


@pytest.fixture
def default_float64():
    """set_default_dtype(float64) for one test; the default is restored whatever happens."""
    before = tcli.get_default_dtype()
    tcli.set_default_dtype(tcli.float64)
    yield
    tcli.set_default_dtype(before)


@pytest.fixture(autouse=True)
def default_dtype_is_float32():
    assert tcli.get_default_dtype() is tcli.float32
    yield
    assert tcli.get_default_dtype() is tcli.float32


def test_table_is_symmetric_and_complete():
    assert len(EXPECTED) == 81
    for a, b in PAIRS:
        assert EXPECTED[a, b] == EXPECTED[b, a]


@pytest.mark.parametrize("a,b", PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_promote_types(a, b):
    assert tcli.promote_types(BY_SHORT[a], BY_SHORT[b]) is BY_SHORT[EXPECTED[a, b]]


def _values(dt, shape=(3,)):
    """Small values every dtype holds exactly (0 and 1, plus 2 for non-bool)."""
    base = np.array([1, 0, 2][: shape[0]] if shape else 1)
    return base.astype(np.bool_) if dt is tcli.bool else base.astype(NP_OF[dt])


@pytest.mark.parametrize("a,b", PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
def test_binary_ops_of_dimensioned_tensors(a, b):
    da, db, want = BY_SHORT[a], BY_SHORT[b], BY_SHORT[EXPECTED[a, b]]
    x, y = _values(da), _values(db)
    tx, ty = tcli.tensor(x), tcli.tensor(y)
    assert tcli.result_type(tx, ty) is want
    total = tx + ty
    assert total.dtype is want
    expected = np.add(x.astype(NP_OF[want]), y.astype(NP_OF[want]))
    np.testing.assert_array_equal(to_numpy(total), expected)


# ---- priority: dimensioned tensor > 0-d tensor > Python number, by category ---------------------------------------
# Each operand: ("dim", dtype) a 1-D tensor, ("0d", dtype) a 0-d tensor, ("py", value) a Python number.

PRIORITY = [
    # same category: the higher-priority operand decides
    (("dim", "i32"), ("0d", "i64"), "i32"),
    (("dim", "u8"), ("0d", "i8"), "u8"),
    (("dim", "i8"), ("0d", "u8"), "i8"),
    (("dim", "i8"), ("0d", "i16"), "i8"),
    (("dim", "f16"), ("0d", "f64"), "f16"),
    (("dim", "f32"), ("0d", "f64"), "f32"),
    (("dim", "f32"), ("0d", "f16"), "f32"),
    (("dim", "i32"), ("py", 3), "i32"),
    (("dim", "u8"), ("py", 300), "u8"),
    (("dim", "i8"), ("py", 2), "i8"),
    (("dim", "f16"), ("py", 2.5), "f16"),
    (("dim", "f64"), ("py", 2), "f64"),
    (("dim", "f16"), ("py", 2), "f16"),
    (("dim", "i64"), ("py", True), "i64"),
    (("dim", "b1"), ("py", True), "b1"),
    (("0d", "i16"), ("py", 5), "i16"),
    (("0d", "f16"), ("py", 2.5), "f16"),
    (("0d", "f64"), ("py", 2), "f64"),
    # a lower-priority operand of a higher category takes part
    (("dim", "i32"), ("py", 2.5), "f32"),     # a Python float counts as the default dtype
    (("dim", "u8"), ("py", 2.5), "f32"),
    (("dim", "b1"), ("py", 1), "i64"),        # a Python int counts as int64
    (("dim", "b1"), ("py", 1.5), "f32"),
    (("dim", "b1"), ("0d", "u8"), "u8"),
    (("dim", "b1"), ("0d", "i32"), "i32"),
    (("dim", "b1"), ("0d", "f64"), "f64"),
    (("dim", "i64"), ("0d", "f16"), "f16"),
    (("dim", "i32"), ("0d", "f64"), "f64"),   # promote_types(int32, float64): the 0-d dtype, not the default
    (("dim", "i16"), ("0d", "f32"), "f32"),
    (("0d", "b1"), ("py", 2), "i64"),
    (("0d", "i32"), ("py", 2.5), "f32"),
    (("0d", "u8"), ("py", 1.5), "f32"),
    # both 0-d, or both dimensioned: ordinary promotion
    (("0d", "i32"), ("0d", "i64"), "i64"),
    (("0d", "u8"), ("0d", "i8"), "i16"),
    (("0d", "f16"), ("0d", "f32"), "f32"),
    (("0d", "i64"), ("0d", "f16"), "f16"),
    (("dim", "i32"), ("dim", "i64"), "i64"),
    (("dim", "u8"), ("dim", "i8"), "i16"),
    (("dim", "f16"), ("dim", "f64"), "f64"),
    # two Python numbers
    (("py", 2), ("py", 2.5), "f32"),
    (("py", True), ("py", 2), "i64"),
    (("py", True), ("py", False), "b1"),
]


def _operand(spec):
    kind, what = spec
    if kind == "py":
        return what
    dt = BY_SHORT[what]
    return tcli.tensor(_values(dt)) if kind == "dim" else tcli.tensor(_values(dt, ()))


def _pid(case):
    (ka, va), (kb, vb), want = case
    return f"{ka}:{va}+{kb}:{vb}->{want}"


@pytest.mark.parametrize("a,b,want", PRIORITY, ids=[_pid(c) for c in PRIORITY])
def test_priority_result_type(a, b, want):
    x, y = _operand(a), _operand(b)
    assert tcli.result_type(x, y) is BY_SHORT[want]
    assert tcli.result_type(y, x) is BY_SHORT[want]


@pytest.mark.parametrize("a,b,want", [c for c in PRIORITY if c[0][0] != "py" or c[1][0] != "py"],
                         ids=[_pid(c) for c in PRIORITY if c[0][0] != "py" or c[1][0] != "py"])
def test_priority_in_binary_ops(a, b, want):
    x, y = _operand(a), _operand(b)
    dt = BY_SHORT[want]
    for got in (x + y, y + x, x * y, y * x):
        assert got.dtype is dt
    if isinstance(x, tcli.Tensor) and isinstance(y, tcli.Tensor):
        assert tcli.maximum(x, y).dtype is dt
    assert (x == y).dtype is tcli.bool


def test_priority_values():
    assert to_numpy(tcli.tensor([1, 2], dtype=tcli.int32) + 2.5).tolist() == [3.5, 4.5]
    assert to_numpy(tcli.tensor([True, False]) + 1).tolist() == [2, 1]
    assert to_numpy(tcli.tensor([True, False]) + True).tolist() == [True, True]
    assert to_numpy(tcli.tensor([True, False]) * False).tolist() == [False, False]
    half = tcli.tensor([1.0, 2.0], dtype=tcli.float16) + tcli.tensor(0.5, dtype=tcli.float64)
    assert half.dtype is tcli.float16 and to_numpy(half).tolist() == [1.5, 2.5]
    narrow = tcli.tensor([1, 2], dtype=tcli.int32) + tcli.tensor(10, dtype=tcli.int64)
    assert narrow.dtype is tcli.int32 and to_numpy(narrow).tolist() == [11, 12]


def test_true_division_and_unary_math_use_the_default_dtype():
    i = tcli.tensor([1, 2])
    assert (i / 2).dtype is tcli.float32
    assert (i / tcli.tensor([2, 2])).dtype is tcli.float32
    assert tcli.exp(i).dtype is tcli.float32
    assert (tcli.tensor([1, 2], dtype=tcli.int8) / tcli.tensor(2.0, dtype=tcli.float64)).dtype is tcli.float64
    assert (tcli.tensor([1.0], dtype=tcli.float16) / 2).dtype is tcli.float16


def test_set_default_dtype_float64(default_float64):
    assert tcli.get_default_dtype() is tcli.float64
    i = tcli.tensor([1, 2, 3])
    assert (i / 2).dtype is tcli.float64
    np.testing.assert_array_equal(to_numpy(i / 2), [0.5, 1.0, 1.5])
    assert (i + 1.5).dtype is tcli.float64
    np.testing.assert_array_equal(to_numpy(i + 1.5), [2.5, 3.5, 4.5])
    assert tcli.result_type(i, 1.5) is tcli.float64
    assert tcli.result_type(2, 2.5) is tcli.float64
    assert (tcli.tensor([True]) + 1.5).dtype is tcli.float64
    assert tcli.exp(i).dtype is tcli.float64
    assert tcli.tensor([1.5]).dtype is tcli.float64
    # tensors that already are floating keep their dtype
    assert (tcli.tensor([1.0], dtype=tcli.float32) + 1.5).dtype is tcli.float32
    assert (tcli.tensor([1.0], dtype=tcli.float16) / 2).dtype is tcli.float16
    assert (i + tcli.tensor(1.5, dtype=tcli.float32)).dtype is tcli.float32


def test_set_default_dtype_rejects_integers():
    with pytest.raises(TypeError) as excinfo:
        tcli.set_default_dtype(tcli.int64)
    assert str(excinfo.value).split("\n")[0] == "only floating-point types are supported as the default type"
    assert tcli.get_default_dtype() is tcli.float32


def test_dtype_names_and_aliases():
    for name in DTYPE_NAMES:
        assert repr(DTYPES[name]) == f"torch.{name}"
    assert tcli.float is tcli.float32 and tcli.double is tcli.float64 and tcli.half is tcli.float16
    assert tcli.long is tcli.int64 and tcli.int is tcli.int32 and tcli.short is tcli.int16


# ---- live comparisons with PyTorch (skipped without torch) ----------------------------------------------------------

def _torch_operand(torch, spec):
    kind, what = spec
    if kind == "py":
        return what
    dt = getattr(torch, BY_SHORT[what].name)
    values = _values(BY_SHORT[what], (3,) if kind == "dim" else ())
    return torch.tensor(values.tolist(), dtype=dt)


def test_promotion_table_matches_torch():
    torch = pytest.importorskip("torch")
    for a, b in PAIRS:
        got = torch.promote_types(getattr(torch, BY_SHORT[a].name), getattr(torch, BY_SHORT[b].name))
        assert str(got) == f"torch.{BY_SHORT[EXPECTED[a, b]].name}", (a, b)


def test_priority_table_matches_torch():
    torch = pytest.importorskip("torch")
    for a, b, want in PRIORITY:
        x, y = _torch_operand(torch, a), _torch_operand(torch, b)
        assert str(torch.result_type(x, y)) == f"torch.{BY_SHORT[want].name}", (a, b)
        if isinstance(x, torch.Tensor) or isinstance(y, torch.Tensor):
            assert str((x + y).dtype) == f"torch.{BY_SHORT[want].name}", (a, b)


KINDS = ("dim", "0d")
NUMBERS = (True, 2, 2.5)


def test_result_type_matches_torch_for_all_pairs_and_kinds():
    torch = pytest.importorskip("torch")
    mismatches = []
    for (a, b), ka, kb in itertools.product(PAIRS, KINDS, KINDS):
        want = torch.result_type(_torch_operand(torch, (ka, a)), _torch_operand(torch, (kb, b)))
        got = tcli.result_type(_operand((ka, a)), _operand((kb, b)))
        if repr(got) != str(want):
            mismatches.append((ka, a, kb, b, got, want))
    for a, ka, number in itertools.product(SHORT.values(), KINDS, NUMBERS):
        want = torch.result_type(_torch_operand(torch, (ka, a)), number)
        got = tcli.result_type(_operand((ka, a)), number)
        if repr(got) != str(want):
            mismatches.append((ka, a, "py", number, got, want))
    assert not mismatches


def test_binary_op_dtypes_match_torch_for_all_pairs():
    torch = pytest.importorskip("torch")
    mismatches = []
    for (a, b), ka, kb in itertools.product(PAIRS, KINDS, KINDS):
        tx, ty = _torch_operand(torch, (ka, a)), _torch_operand(torch, (kb, b))
        x, y = _operand((ka, a)), _operand((kb, b))
        for name, op in (("add", lambda p, q: p + q), ("div", lambda p, q: p / q)):
            want, got = op(tx, ty), op(x, y)
            if repr(got.dtype) != str(want.dtype):
                mismatches.append((name, ka, a, kb, b, got.dtype, want.dtype))
    assert not mismatches


def test_default_float64_matches_torch(default_float64):
    torch = pytest.importorskip("torch")
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        for dt in DTYPE_NAMES:
            x = tcli.tensor(_values(DTYPES[dt]))
            tx = torch.tensor(_values(DTYPES[dt]).tolist(), dtype=getattr(torch, dt))
            for number in NUMBERS:
                assert repr((x + number).dtype) == str((tx + number).dtype), (dt, number)
            assert repr((x / 2).dtype) == str((tx / 2).dtype), dt
    finally:
        torch.set_default_dtype(before)

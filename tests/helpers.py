"""Shared test helpers: dtype maps, seeded inputs, layouts, comparisons, error parity with PyTorch.

Nothing here imports torch: every test must be meaningful without it (torch comparisons live in their own
``pytest.importorskip("torch")``-guarded test functions).
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest

import tcli

# ---- dtypes -------------------------------------------------------------------------------------------------

DTYPE_NAMES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64")
DTYPES = {name: getattr(tcli, name) for name in DTYPE_NAMES}
NP_OF = {DTYPES[name]: np.dtype(name if name != "bool" else np.bool_) for name in DTYPE_NAMES}
SHORT = {"bool": "b1", "uint8": "u8", "int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64",
         "float16": "f16", "float32": "f32", "float64": "f64"}
BY_SHORT = {short: DTYPES[name] for name, short in SHORT.items()}

FLOATS = (tcli.float32, tcli.float64)


def is_float(dt) -> bool:
    return dt in (tcli.float16, tcli.float32, tcli.float64)


def torch_dtype(torch, dt):
    """The torch dtype with tcli dtype ``dt``'s name (for the torch-guarded comparisons)."""
    return getattr(torch, dt.name)


# ---- tolerances ---------------------------------------------------------------------------------------------
# (rtol, atol) by tolerance class and result dtype. The numpy reference is computed in float64 (float32 for
# float16 inputs, which tcli stores as float16 but computes in float32) and rounded to the result dtype.
#   exact:  the op is exactly representable (neg, abs, floor, comparisons, ...): bit-for-bit after rounding.
#   arith:  +, -, *, / and friends: at most a rounding step apart (a double rounding, 1/x as 1.0 / x).
#   transc: libm transcendental functions, which are within a few ulp of the float64 reference.
# float16 results must be within one float16 ulp (2**-10 relative) of float32 math rounded to float16.

TOL = {
    "exact": {tcli.float16: (0.0, 0.0), tcli.float32: (0.0, 0.0), tcli.float64: (0.0, 0.0)},
    "arith": {tcli.float16: (1e-3, 1e-3), tcli.float32: (1e-6, 1e-6), tcli.float64: (1e-12, 1e-12)},
    "transc": {tcli.float16: (1e-3, 1e-3), tcli.float32: (1e-5, 1e-6), tcli.float64: (1e-10, 1e-12)},
}

# ---- seeded inputs ------------------------------------------------------------------------------------------

_HALVES = (-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -1.25, 0.75, 2.3, -3.0, 0.0, 3.5, -0.7, 1.0)
_SPECIAL = (math.nan, math.inf, -math.inf, 0.0, -1.5, 2.0, 0.5, -0.25)

# float domains: (low, high) for uniform draws, or a tuple of values to choose from
_FLOAT_DOMAINS = {
    "real": (-3.0, 3.0),
    "small": (-2.0, 2.0),
    "pos": (0.25, 4.0),
    "powbase": (0.25, 4.0),
    "unit": (-0.9, 0.9),
    "log1p": (-0.75, 3.0),
    "tan": (-1.4, 1.4),
    "halves": _HALVES,
    "special": _SPECIAL,
}
# integer domains: (signed range, unsigned range), inclusive
_INT_DOMAINS = {
    "real": ((-6, 6), (0, 12)),
    "small": ((-3, 3), (0, 3)),
    "pos": ((1, 9), (1, 9)),
    "powbase": ((-3, 3), (0, 3)),
    "unit": ((-1, 1), (0, 1)),
    "log1p": ((0, 6), (0, 6)),
    "tan": ((-1, 1), (0, 1)),
    "halves": ((-6, 6), (0, 12)),
    "special": ((-6, 6), (0, 12)),
    "exp": ((0, 3), (0, 3)),
}


def rng_for(*key) -> np.random.Generator:
    """A generator seeded from ``key`` (stable across runs and processes, unlike hash())."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def sample(domain: str, dt, shape, rng: np.random.Generator) -> np.ndarray:
    """Values of tcli dtype ``dt`` from ``domain`` as a numpy array of that dtype.

    ``nonzero``: the ``real`` domain pushed away from 0 (|x| >= 0.25 for floats, >= 1 for integers).
    ``exp``: small non-negative exponents (floats draw from [-2, 2]); ``powbase``: bases for them (positive
    floats, small integers of either sign).
    """
    npdt = NP_OF[dt]
    shape = tuple(shape)
    if npdt.kind == "b":
        return rng.random(shape) < 0.5
    if npdt.kind in "iu":
        if domain == "nonzero":
            hi = 6
            mag = rng.integers(1, hi + 1, shape)
            sign = np.ones(shape, np.int64) if npdt.kind == "u" else rng.choice([-1, 1], shape)
            return (mag * sign).astype(npdt)
        lo, hi = _INT_DOMAINS[domain][npdt.kind == "u"]
        return rng.integers(lo, hi + 1, shape).astype(npdt)
    if domain == "nonzero":
        return (rng.uniform(0.25, 3.0, shape) * rng.choice([-1.0, 1.0], shape)).astype(npdt)
    spec = _FLOAT_DOMAINS.get(domain, (-2.0, 2.0))
    if len(spec) == 2 and domain not in ("halves", "special"):
        return rng.uniform(spec[0], spec[1], shape).astype(npdt)
    return rng.choice(np.array(spec), shape).astype(npdt)


# ---- layouts --------------------------------------------------------------------------------------------------
# Every builder takes the values as a numpy array and returns a tcli tensor holding exactly those values, with
# the named memory layout.

def contiguous(values: np.ndarray):
    t = tcli.tensor(values)
    assert t.is_contiguous()
    return t


def transposed(values: np.ndarray):
    """A non-contiguous transposed view of a 2-D array's values."""
    t = tcli.tensor(np.ascontiguousarray(values.T)).t()
    assert not t.is_contiguous() and tuple(t.shape) == values.shape
    return t


def sliced(values: np.ndarray):
    """A non-contiguous view taken with a step of 2 along the last dim (base's other columns hold junk)."""
    base = np.zeros(values.shape[:-1] + (2 * values.shape[-1],), values.dtype)
    base[..., ::2] = values
    base[..., 1::2] = values[..., ::-1] if values.dtype != np.bool_ else ~values
    t = tcli.tensor(base)[..., ::2]
    assert (not t.is_contiguous() or t.numel() <= 1) and tuple(t.shape) == values.shape
    return t


def expanded(row: np.ndarray, shape):
    """A stride-0 broadcast view: ``row`` (leading dim 1) expanded to ``shape``."""
    t = tcli.tensor(row).expand(*shape)
    assert 0 in t.stride()
    return t


def to_numpy(t) -> np.ndarray:
    """A copy of t's values (detached), whatever its layout."""
    return np.array(t.detach().numpy(), copy=True)


def version(t) -> int:
    """t's version counter (PyTorch's ``t._version`` is an int; tcli's holds it in ``.value``)."""
    v = t._version
    return v if isinstance(v, int) else v.value


# ---- comparisons ----------------------------------------------------------------------------------------------

def assert_matches(got, expected: np.ndarray, dt, tol: str = "exact"):
    """got (a tcli tensor) has dtype ``dt``, ``expected``'s shape, and its values within TOL[tol]."""
    assert got.dtype == dt, f"dtype: got {got.dtype}, expected {dt}"
    assert tuple(got.shape) == tuple(expected.shape), f"shape: got {tuple(got.shape)}, expected {expected.shape}"
    values = to_numpy(got)
    assert values.dtype == NP_OF[dt]
    with np.errstate(all="ignore"):
        expected = np.asarray(expected).astype(NP_OF[dt])
    if is_float(dt):
        rtol, atol = TOL[tol][dt]
        np.testing.assert_allclose(values.astype(np.float64), expected.astype(np.float64), rtol=rtol, atol=atol,
                                   equal_nan=True)
    else:
        np.testing.assert_array_equal(values, expected)


def first_line(exc) -> str:
    return str(exc.value if hasattr(exc, "value") else exc).split("\n")[0]


def assert_error(excinfo, message: str, hint: bool):
    """The exception's first line is PyTorch's ``message``; a ``hint:`` line follows when ``hint``."""
    text = str(excinfo.value)
    lines = text.split("\n")
    assert lines[0] == message
    if hint:
        assert len(lines) >= 2 and lines[1].startswith("hint: ") and len(lines[1]) > len("hint: "), text


def assert_same_errors(torch_module, fns):
    """Each ``fn(module)`` raises the same exception type with the same first line under tcli and
    ``torch_module`` (PyTorch); a call that does not raise under PyTorch fails the test."""
    mismatches = []
    for i, fn in enumerate(fns):
        with pytest.raises(Exception) as theirs:
            fn(torch_module)
        try:
            fn(tcli)
        except Exception as ours:
            got = (type(ours).__name__, str(ours).splitlines()[0])
        else:
            got = ("no error", "")
        want = (type(theirs.value).__name__, str(theirs.value).splitlines()[0])
        if got != want:
            mismatches.append((i, got, want))
    assert not mismatches

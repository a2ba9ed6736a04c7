"""dtype objects with PyTorch's names, and PyTorch's type-promotion rules."""

from __future__ import annotations

import numpy as np

__all__ = ["dtype", "get_default_dtype", "set_default_dtype", "promote_types", "result_type"]


class dtype:
    """A tensor element type; prints as PyTorch prints its dtypes (``torch.float32``)."""

    __slots__ = ("name", "np", "itemsize", "is_floating_point", "is_signed", "is_complex", "_rank",
                 "_legacy")

    def __init__(self, name, np_dtype, rank, legacy):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.is_floating_point = self.np.kind == "f"
        self.is_signed = self.np.kind in "if"
        self.is_complex = False
        self._rank = rank  # position in the promotion lattice within a category
        self._legacy = legacy

    def __repr__(self):
        return "torch." + self.name

    def __reduce__(self):
        return (_by_name, (self.name,))

    def to_real(self):
        return self

    @property
    def kind(self):
        """'b' bool, 'i' integer (signed or not), 'f' floating."""
        k = self.np.kind
        return "i" if k == "u" else k


bool_ = dtype("bool", np.bool_, 0, "BoolTensor")
uint8 = dtype("uint8", np.uint8, 1, "ByteTensor")
int8 = dtype("int8", np.int8, 1, "CharTensor")
int16 = dtype("int16", np.int16, 2, "ShortTensor")
int32 = dtype("int32", np.int32, 3, "IntTensor")
int64 = dtype("int64", np.int64, 4, "LongTensor")
float16 = dtype("float16", np.float16, 1, "HalfTensor")
float32 = dtype("float32", np.float32, 2, "FloatTensor")
float64 = dtype("float64", np.float64, 3, "DoubleTensor")

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)
_BY_NAME = {d.name: d for d in ALL}
_BY_NP = {d.np: d for d in ALL}
_BY_LEGACY = {d._legacy: d for d in ALL}
# PyTorch's aliases
ALIASES = {"float": float32, "double": float64, "half": float16, "short": int16, "int": int32,
           "long": int64, "bool": bool_}


def _by_name(name):
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype) -> dtype:
    try:
        return _BY_NP[np.dtype(np_dtype)]
    except KeyError:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{np.dtype(np_dtype).name}. The only supported types are: "
            "float64, float32, float16, int64, int32, int16, int8, uint8, and bool.") from None


def legacy_type_name(dt: dtype) -> str:
    return "torch." + dt._legacy


def scalar_name(dt: dtype) -> str:
    """PyTorch's ScalarType name, as its messages spell it: 'Float', 'Long', 'Bool', ..."""
    return dt._legacy[:-len("Tensor")]


_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
              "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}


def cpp_name(dt: dtype) -> str:
    """The C++ type name some PyTorch messages use: 'float', 'long int', ..."""
    return _CPP_NAMES[dt.name]


def not_implemented(kernel: str, dt: dtype) -> NotImplementedError:
    """PyTorch's error for an op that has no kernel for a dtype."""
    return NotImplementedError(f"\"{kernel}\" not implemented for '{scalar_name(dt)}'")


def from_legacy_type_name(name: str) -> dtype:
    short = name[len("torch."):] if name.startswith("torch.") else name
    try:
        return _BY_LEGACY[short]
    except KeyError:
        raise ValueError(f"invalid type: '{name}'") from None


def as_dtype(obj) -> dtype:
    """Accept a tcli dtype, a Python type (float/int/bool) or a numpy dtype, as PyTorch's dtype= does."""
    if isinstance(obj, dtype):
        return obj
    if obj is float:
        return float64
    if obj is int:
        return int64
    if obj is bool:
        return bool_
    if isinstance(obj, str):  # numpy would take 'float32'; PyTorch does not
        from .errors import api_name, hint
        raise TypeError(f"{api_name()}(): argument 'dtype' must be torch.dtype, not str"
                        + hint(f"pass the dtype object: dtype=tcli.{obj.replace('torch.', '')}."))
    try:
        return from_numpy_dtype(obj)
    except TypeError:
        raise TypeError(f"dtype must be a tcli.dtype (e.g. tcli.float32), got {obj!r}") from None


# ---- default dtype ---------------------------------------------------------------------------------

_default = [float32]


def get_default_dtype() -> dtype:
    return _default[0]


def set_default_dtype(d) -> None:
    d = as_dtype(d)
    if not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _default[0] = d


# ---- promotion ---------------------------------------------------------------------------------------

def promote_types(a: dtype, b: dtype) -> dtype:
    """PyTorch's promoteTypes: the smallest dtype both values fit, floats winning over integers."""
    if a is b:
        return a
    ka, kb = a.kind, b.kind
    if ka == "b":
        return b
    if kb == "b":
        return a
    if ka == "f" and kb == "f":
        return a if a._rank >= b._rank else b
    if ka == "f":
        return a
    if kb == "f":
        return b
    return _BY_NP[np.promote_types(a.np, b.np)]


_CATEGORY = {"b": 0, "i": 1, "f": 2}


def _combine_categories(higher, lower):
    """c10's combine_categories: a lower-priority operand only counts if it is of a higher category."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.kind == "f":
        return higher
    if higher.kind == "b" or lower.kind == "f":
        return promote_types(higher, lower)
    return higher


def scalar_dtype(value) -> dtype:
    """The dtype a Python number takes part in promotion with (floats count as the default dtype)."""
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return int64
    return _default[0]


def result_type(*operands) -> dtype:
    """torch.result_type over tensors and Python numbers: dimensioned tensors outrank 0-d tensors,
    which outrank Python numbers, unless the lower-priority operand is of a higher category."""
    dim = zero = wrapped = None
    for x in operands:
        shape = getattr(x, "_shape", None)
        if shape is None:
            d = scalar_dtype(x)
            wrapped = d if wrapped is None else promote_types(wrapped, d)
        elif shape:
            d = x._dtype
            dim = d if dim is None else promote_types(dim, d)
        else:
            d = x._dtype
            zero = d if zero is None else promote_types(zero, d)
    return _combine_categories(dim, _combine_categories(zero, wrapped))

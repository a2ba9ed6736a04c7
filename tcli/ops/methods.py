"""Tensor methods and operators: each is the op function of the same name, bound once here."""

from __future__ import annotations

from .. import autograd, monitor
from .. import dtypes as _dtypes
from .._tensor import Tensor
from ..autograd import graph
from ..errors import hint
from . import _dispatch as D
from . import conversion, creation, indexing, inplace, linalg, pointwise, random, reduction, shape
from ._util import numpy_names
from .pointwise import is_number


def _backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    if gradient is None and inputs is None and self._requires_grad and self.numel() == 1 and not create_graph:
        # loss.backward(): the common case, without the list handling (and create_graph's warning) of
        # autograd.backward
        seed = D.filled(self._shape, self._dtype, 1, self._device)
        graph.run_backward((self,), (seed,), bool(retain_graph), False)
        if monitor.WATCHER is not None and not self._shape:
            monitor.WATCHER.on_backward(self)
        return
    autograd.backward(self, gradient, retain_graph, create_graph, inputs)


def _fill_number(self, value):
    """Fill with a Python number and return self (internal: no autograd, no version bump)."""
    D.fill(self, value)
    return self


def _new(factory):
    def method(self, *size, dtype=None, device=None, requires_grad=False, **kwargs):
        return factory(*size, dtype=dtype or self._dtype, device=device or self._device,
                       requires_grad=requires_grad)
    return method


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, **kwargs):
    return creation.full(size, fill_value, dtype=dtype or self._dtype, device=device or self._device,
                         requires_grad=requires_grad)


def _new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, **kwargs):
    if isinstance(data, Tensor):
        return data.detach().clone().to(dtype or self._dtype)
    return creation.tensor(data, dtype=dtype or self._dtype, device=device or self._device,
                           requires_grad=requires_grad)


# ---- reflected and in-place operators ---------------------------------------------------------------------

def _reflected(fn):
    """other <op> self for a non-commutative op (other is a number or an array-like)."""
    def op(self, other):
        if not is_number(other) and not isinstance(other, Tensor):
            return NotImplemented
        return fn(other, self)
    return op


def _commuted(fn):
    """other <op> self for a commutative op: computed as self <op> other (the fast path's order)."""
    def op(self, other):
        if not is_number(other) and not isinstance(other, Tensor):
            return NotImplemented
        return fn(self, other)
    return op


def _rsub(self, other):
    return pointwise.rsub(self, other)


def _rpow(self, other):
    return pointwise.pow(other, self)


def _rmatmul(self, other):
    return linalg.matmul(other, self)


def _inplace_binary(kernel, fn):
    def op(self, other, **kwargs):
        if type(other) is list or type(other) is tuple:
            raise TypeError(f"{kernel}_(): argument 'other' (position 1) must be Tensor, not {type(other).__name__}"
                            + hint("make it a tensor first: tcli.tensor(...)."))
        return inplace.binary(self, kernel, other, fn, **kwargs)
    return op


def _clamp_(self, min=None, max=None):
    """clamp_ checks the cast up front, with the C++ type name PyTorch's clamp_ uses ('long int')."""
    bounds_float = any(isinstance(v, float) or getattr(v, "is_floating_point", lambda: False)() for v in (min, max))
    if bounds_float and not self._dtype.is_floating_point:
        raise inplace._cast_error(_dtypes.float32, self._dtype, cpp_names=True)
    return inplace.apply(self, pointwise.clamp, min, max)


def _operator(fn):
    """A binary dunder that PyTorch refuses a list or tuple for: NotImplemented, so Python raises its TypeError
    ("unsupported operand type(s) for /: 'Tensor' and 'list'"), as it does for torch.Tensor."""
    def operator(self, other):
        if type(other) is list or type(other) is tuple:
            return NotImplemented
        return fn(self, other)
    return operator


def _inplace(fn):
    def op(self, *args, **kwargs):
        return inplace.apply(self, fn, *args, **kwargs)
    return op


def _eq(self, other):
    if not isinstance(other, Tensor) and not is_number(other):
        return False
    return pointwise.eq(self, other)


def _ne(self, other):
    if not isinstance(other, Tensor) and not is_number(other):
        return True
    return pointwise.ne(self, other)


def _equal(self, other):
    """True if same shape and same values (PyTorch's torch.equal)."""
    if self._shape != other._shape:
        return False
    if self.numel() == 0:
        return True
    return bool(reduction.all(pointwise.eq(self.detach(), other.detach())).item())


def _allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(reduction.all(isclose(self, other, rtol, atol, equal_nan)).item())


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    a, b = input.detach(), other.detach() if isinstance(other, Tensor) else other
    diff = pointwise.abs(pointwise.sub(a, b))
    tol = pointwise.add(pointwise.mul(pointwise.abs(b), rtol), atol) if isinstance(b, Tensor) else atol + rtol * abs(b)
    close = pointwise.le(diff, tol)
    close = pointwise.logical_or(close, pointwise.eq(a, b))
    if equal_nan:
        close = pointwise.logical_or(close, pointwise.logical_and(pointwise.isnan(a), pointwise.isnan(b)))
    return close


def _needs_dim(fn):
    """Tensor.softmax/log_softmax: dim is required (only the functional forms guess one, with a warning)."""
    @numpy_names
    def method(self, dim=None, dtype=None):
        if dim is None:
            raise TypeError(f'{fn.__name__}() missing 1 required positional arguments: "dim"'
                            + hint(f"name the dim to normalise over: x.{fn.__name__}(dim=-1) for the last one."))
        return fn(self, dim, dtype)

    return method


@numpy_names
def _max(self, dim=None, keepdim=False):
    return reduction.max(self, dim, keepdim)


@numpy_names
def _min(self, dim=None, keepdim=False):
    return reduction.min(self, dim, keepdim)


def _apply_(self, callable_):
    if self._device.type != "cpu":
        raise TypeError("apply_ is only implemented on CPU tensors" + hint("x.cpu().apply_(fn), then .cuda()."))
    values = self._np()
    flat = values.reshape(-1) if values.flags.c_contiguous else None
    if flat is None:
        raise RuntimeError("apply_ needs a contiguous tensor")
    for i in range(flat.shape[0]):
        flat[i] = callable_(flat[i].item())
    return self


METHODS = {
    # autograd and bookkeeping
    "backward": _backward, "_fill_number": _fill_number, "contiguous_copy": D.contiguous_copy,
    # conversion
    "to": conversion.to, "type": conversion.type, "type_as": conversion.type_as, "float": conversion.float_,
    "double": conversion.double, "half": conversion.half, "int": conversion.int_, "long": conversion.long,
    "short": conversion.short, "char": conversion.char, "byte": conversion.byte, "bool": conversion.bool_,
    "cpu": conversion.cpu, "cuda": conversion.cuda, "pin_memory": conversion.pin_memory,
    "is_pinned": conversion.is_pinned,
    # creation from an existing tensor
    "new_zeros": _new(creation.zeros), "new_ones": _new(creation.ones), "new_empty": _new(creation.empty),
    "new_full": _new_full, "new_tensor": _new_tensor, "clone": shape.clone,
    # shape and views
    "view": shape.view, "view_as": shape.view_as, "reshape": shape.reshape, "reshape_as": shape.reshape_as,
    "flatten": shape.flatten, "ravel": shape.ravel, "unflatten": shape.unflatten, "squeeze": shape.squeeze,
    "unsqueeze": shape.unsqueeze, "transpose": shape.transpose, "swapaxes": shape.transpose,
    "swapdims": shape.transpose, "t": shape.t, "permute": shape.permute, "movedim": shape.movedim,
    "moveaxis": shape.movedim, "expand": shape.expand, "expand_as": shape.expand_as,
    "broadcast_to": shape.broadcast_to, "narrow": shape.narrow, "select": shape.select, "unbind": shape.unbind,
    "split": shape.split, "chunk": shape.chunk, "tensor_split": shape.tensor_split, "diagonal": shape.diagonal,
    "as_strided": shape.as_strided, "contiguous": shape.contiguous, "flip": shape.flip, "fliplr": shape.fliplr,
    "flipud": shape.flipud, "roll": shape.roll, "repeat": shape.repeat, "tile": shape.tile,
    "repeat_interleave": shape.repeat_interleave, "tril": shape.tril, "triu": shape.triu,
    # indexing
    "__getitem__": indexing.getitem, "__setitem__": indexing.setitem, "gather": indexing.gather,
    "scatter": indexing.scatter, "scatter_add": indexing.scatter_add, "index_select": indexing.index_select,
    "index_add": indexing.index_add, "index_put": indexing.index_put, "take": indexing.take,
    "masked_select": indexing.masked_select,
    "nonzero": indexing.nonzero, "argwhere": indexing.argwhere, "sort": indexing.sort, "argsort": indexing.argsort,
    "msort": indexing.msort, "topk": indexing.topk, "kthvalue": indexing.kthvalue, "median": indexing.median,
    "unique": indexing.unique, "bincount": indexing.bincount,
    # reductions
    "sum": reduction.sum, "nansum": reduction.nansum, "mean": reduction.mean, "nanmean": reduction.nanmean,
    "prod": reduction.prod, "max": _max, "min": _min, "amax": reduction.amax, "amin": reduction.amin,
    "aminmax": reduction.aminmax, "argmax": reduction.argmax, "argmin": reduction.argmin, "all": reduction.all,
    "any": reduction.any, "count_nonzero": reduction.count_nonzero, "var": reduction.var, "std": reduction.std,
    "norm": reduction.norm, "logsumexp": reduction.logsumexp, "softmax": _needs_dim(reduction.softmax),
    "log_softmax": _needs_dim(reduction.log_softmax), "cumsum": reduction.cumsum, "cumprod": reduction.cumprod,
    # linear algebra
    "mm": linalg.mm, "matmul": linalg.matmul, "bmm": linalg.bmm, "mv": linalg.mv, "dot": linalg.dot,
    "inner": linalg.inner, "outer": linalg.outer, "ger": linalg.outer, "addmm": linalg.addmm,
    # comparison helpers
    "equal": _equal, "allclose": _allclose, "isclose": isclose,
    "where": lambda self, condition, other: pointwise.where(condition, self, other),
    # random fills
    "uniform_": random.uniform_, "normal_": random.normal_, "bernoulli_": random.bernoulli_,
    "bernoulli": random.bernoulli, "exponential_": random.exponential_, "random_": random.random_,
    "multinomial": random.multinomial,
    # in place
    "copy_": inplace.copy_, "fill_": inplace.fill_, "zero_": inplace.zero_, "apply_": _apply_,
    "add_": _inplace_binary("add", pointwise.add), "sub_": _inplace_binary("sub", pointwise.sub),
    "mul_": _inplace_binary("mul", pointwise.mul), "div_": _inplace(pointwise.div),
    "pow_": _inplace(pointwise.pow), "clamp_": _clamp_, "clip_": _clamp_,
    "clamp_min_": _inplace(pointwise.clamp_min), "clamp_max_": _inplace(pointwise.clamp_max),
    "masked_fill_": _inplace(pointwise.masked_fill), "lerp_": _inplace(pointwise.lerp),
    "addcmul_": _inplace(pointwise.addcmul), "addcdiv_": _inplace(pointwise.addcdiv),
    "scatter_": _inplace(indexing.scatter), "scatter_add_": _inplace(indexing.scatter_add),
    "index_add_": _inplace(indexing.index_add), "index_put_": _inplace(indexing.index_put),
    "remainder_": _inplace(pointwise.remainder),
    "floor_divide_": _inplace(pointwise.floor_divide), "maximum_": _inplace(pointwise.maximum),
    "t_": None, "squeeze_": None, "unsqueeze_": None,
    # operators (_operator: a list or tuple operand is refused as PyTorch refuses it)
    "__add__": pointwise.add_operator, "__radd__": _commuted(pointwise.add),
    "__iadd__": _operator(_inplace_binary("add", pointwise.add)),
    "__sub__": pointwise.sub_operator, "__rsub__": _operator(_rsub),
    "__isub__": _operator(_inplace_binary("sub", pointwise.sub)),
    "__mul__": pointwise.mul_operator, "__rmul__": _commuted(pointwise.mul),
    "__imul__": _operator(_inplace_binary("mul", pointwise.mul)),
    "__truediv__": _operator(pointwise.div), "__rtruediv__": _reflected(pointwise.div),
    "__itruediv__": _operator(_inplace(pointwise.div)),
    "__floordiv__": _operator(pointwise.floor_divide), "__rfloordiv__": _reflected(pointwise.floor_divide),
    "__ifloordiv__": _operator(_inplace(pointwise.floor_divide)),
    "__mod__": _operator(pointwise.remainder), "__rmod__": _reflected(pointwise.remainder),
    "__imod__": _operator(_inplace(pointwise.remainder)),
    "__pow__": _operator(pointwise.pow), "__rpow__": _operator(_rpow), "__ipow__": _operator(_inplace(pointwise.pow)),
    "__matmul__": _operator(linalg.matmul), "__rmatmul__": _operator(_rmatmul),
    "__neg__": pointwise.neg, "__pos__": lambda self: self, "__abs__": pointwise.abs,
    "__invert__": pointwise.bitwise_not,
    "__eq__": _eq, "__ne__": _ne, "__lt__": _operator(pointwise.lt), "__le__": _operator(pointwise.le),
    "__gt__": _operator(pointwise.gt), "__ge__": _operator(pointwise.ge),
    "__and__": _operator(pointwise.bitwise_and), "__or__": _operator(pointwise.bitwise_or),
    "__xor__": _operator(pointwise.bitwise_xor),
    "__rand__": _commuted(pointwise.bitwise_and), "__ror__": _commuted(pointwise.bitwise_or),
    "__rxor__": _commuted(pointwise.bitwise_xor),
    "__iand__": _operator(_inplace(pointwise.bitwise_and)), "__ior__": _operator(_inplace(pointwise.bitwise_or)),
    "__ixor__": _operator(_inplace(pointwise.bitwise_xor)),
}

# Pointwise functions that are also methods under the same name, with in-place twins "name_".
_POINTWISE = ("add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide",
              "remainder", "fmod", "pow", "float_power", "maximum", "minimum", "fmax", "fmin", "atan2", "arctan2",
              "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
              "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or",
              "bitwise_xor", "bitwise_not", "isnan", "isinf", "isfinite", "signbit",
              "neg", "negative", "abs", "absolute", "sign", "sgn", "exp", "exp2", "expm1", "log", "log2", "log10",
              "log1p", "sin", "cos", "tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan", "sinh", "cosh",
              "tanh", "sigmoid", "relu", "erf", "floor", "ceil", "trunc", "fix", "frac", "reciprocal", "square",
              "sqrt", "rsqrt", "round", "clamp", "clip", "clamp_min", "clamp_max", "where", "masked_fill", "lerp",
              "addcmul", "addcdiv", "rsub")
_UNARY_INPLACE = ("neg", "abs", "sign", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos",
                  "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "sigmoid", "relu", "erf", "floor", "ceil",
                  "trunc", "frac", "reciprocal", "square", "sqrt", "rsqrt", "round", "logical_not", "bitwise_not",
                  "fix", "negative")


def install():
    for name in _POINTWISE:
        METHODS.setdefault(name, getattr(pointwise, name))
    for name in _UNARY_INPLACE:
        METHODS.setdefault(name + "_", _inplace(getattr(pointwise, name)))
    for name, fn in METHODS.items():
        if fn is not None:
            setattr(Tensor, name, fn)
    Tensor.__hash__ = object.__hash__
    Tensor.T = property(shape.T)
    Tensor.mT = property(shape.mT)
    Tensor.H = property(shape.T)
    Tensor.mH = property(shape.mT)
    Tensor.real = property(lambda self: self)

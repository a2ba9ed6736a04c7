"""Making tensors: from data (lists, numbers, numpy, DLPack), constant fills, ranges, legacy types."""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import dtypes as _dt
from .._size import Size
from .._tensor import Tensor, contiguous_strides
from ..cuda import check_device
from ..device import CPU, as_device
from ..errors import hint
from . import _dispatch as D
from ._util import check_sizes_nonnegative, normalize_shape

_default_device = [CPU]


def set_default_device(device) -> None:
    _default_device[0] = check_device(as_device(device))


def get_default_device():
    return _default_device[0]


def _device(device):
    if device is None:
        return _default_device[0]
    return check_device(as_device(device))


def _finish(t: Tensor, requires_grad: bool) -> Tensor:
    if requires_grad:
        if not t._dtype.is_floating_point:  # the factories' wording (requires_grad_() has its own, as in PyTorch)
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients"
                               + hint(f"this would be {t._dtype}: pass dtype=tcli.float32, or write the numbers "
                                      "as floats (1.0, not 1)."))
        t.requires_grad_(True)
    return t


# ---- from data ---------------------------------------------------------------------------------------

def _infer(data, shape, depth, found):
    """Walk nested sequences checking they are rectangular; collect the dtypes of the scalars.

    Each scalar counts as PyTorch counts it: a Python float as the default dtype, an int as int64,
    a bool as bool, a numpy scalar, array or tensor as its own dtype.
    """
    n = len(data)
    if depth == len(shape):
        shape.append(n)
    elif shape[depth] != n:
        raise ValueError(f"expected sequence of length {shape[depth]} at dim {depth} (got {n})"
                         + hint("every row must have the same length; a ragged list is not a tensor."))
    if n == 0:
        return
    types = {type(x) for x in data}
    if types <= _PY_SCALARS:
        if depth + 1 != len(shape):
            raise ValueError(f"expected sequence of length {shape[depth + 1]} at dim {depth + 1} (got 0)")
        found.update(_scalar_dtype(t()) for t in types)
        return
    for x in data:
        if isinstance(x, (list, tuple)):
            _infer(x, shape, depth + 1, found)
        elif isinstance(x, Tensor):  # a tensor inside a list is one scalar, as in PyTorch
            if x.numel() != 1:
                raise ValueError("only one element tensors can be converted to Python scalars"
                                 + hint("tcli.stack(list_of_tensors) joins tensors into one tensor."))
            if depth + 1 != len(shape):
                raise ValueError(f"expected sequence of length {shape[depth + 1]} at dim {depth + 1} (got Tensor)")
            found.add(x._dtype)
        elif isinstance(x, np.ndarray):
            sub = tuple(x.shape)
            if depth + 1 == len(shape):
                shape.extend(sub)
            elif tuple(shape[depth + 1:]) != sub:
                raise ValueError(f"expected sequence of length {shape[depth + 1]} at dim {depth + 1} (got "
                                 f"{sub[0] if sub else 0})")
            found.add(_dt.from_numpy_dtype(x.dtype))
        else:
            if depth + 1 != len(shape):
                raise ValueError(f"expected sequence of length {shape[depth + 1]} at dim {depth + 1} "
                                 f"(got {type(x).__name__})")
            found.add(_scalar_dtype(x))


_PY_SCALARS = {bool, int, float}


def _scalar_dtype(x):
    if isinstance(x, np.generic):
        return _dt.from_numpy_dtype(x.dtype)
    if isinstance(x, bool):
        return _dt.bool_
    if isinstance(x, numbers.Integral):
        return _dt.int64
    if isinstance(x, numbers.Real):
        return _dt.get_default_dtype()
    if isinstance(x, numbers.Complex):
        raise TypeError("tcli does not support complex numbers")
    if isinstance(x, str):
        raise ValueError("too many dimensions 'str'"
                         + hint("tensor() takes numbers, nested lists/tuples of numbers, numpy arrays or tensors."))
    raise RuntimeError(f"Could not infer dtype of {type(x).__name__}"
                       + hint("tensor() takes numbers, nested lists/tuples of numbers, numpy arrays or tensors."))


def _promote_all(found):
    if not found:
        return _dt.get_default_dtype()
    found = iter(found)
    out = next(found)
    for d in found:
        out = _dt.promote_types(out, d)
    return out


def _from_array(arr: np.ndarray, dtype, device) -> Tensor:
    """A new dense tensor holding a copy of ``arr`` converted to ``dtype``."""
    if device is not CPU:
        return _from_array(arr, dtype, CPU).to(device)
    out = D.empty(arr.shape, dtype, device)
    src = _wrap_numpy(arr if arr.flags.c_contiguous else arr.copy()) if arr.dtype != object else None
    if src is None:
        out._buf[:] = arr.reshape(-1)
    else:
        D.map1_into("copy", out, src)
    return out


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new tensor holding a copy of ``data`` (a number, nested lists, a numpy array or a tensor)."""
    device = _device(device)
    dtype = None if dtype is None else _dt.as_dtype(dtype)
    if isinstance(data, range):
        data = list(data)
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
            "sourceTensor.detach().clone().requires_grad_(True), rather than torch.tensor(sourceTensor).",
            UserWarning, stacklevel=2)
        out = D.cast(data.detach(), dtype or data._dtype)
    elif isinstance(data, np.ndarray):
        src = _wrap_numpy(data) if data.dtype.kind in "biuf" else None
        if src is None:
            raise TypeError(f"can't convert np.ndarray of type numpy.{data.dtype.name}. The only supported "
                            "types are: float64, float32, float16, int64, int32, int16, int8, uint8, and bool.")
        out = D.cast(src, dtype or src._dtype)
    elif isinstance(data, np.generic):
        return tensor(data.item() if dtype is not None else np.asarray(data), dtype=dtype, device=device,
                      requires_grad=requires_grad)
    elif hasattr(data, "__dlpack__") and not isinstance(data, (list, tuple)):
        out = D.cast(from_dlpack(data), dtype) if dtype else D.contiguous_copy(from_dlpack(data))
    else:
        out = _from_python(data, dtype, device)
    if out._device is not device:
        out = out.to(device)
    return _finish(out, requires_grad)


def _from_python(data, dtype, device):
    if isinstance(data, (list, tuple)):
        shape, found = [], set()
        _infer(data, shape, 0, found)
        target = dtype or _promote_all(found)
        if _contains_arrays(data):
            data = _arrays_to_lists(data)
        shape = tuple(shape)
    else:
        target = dtype or _scalar_dtype(data)
        shape = ()
    if target is _dt.float16:
        arr = np.array(data, dtype=np.float32)
    else:
        try:
            arr = np.array(data, dtype=target.np)
        except OverflowError:
            raise RuntimeError(f"value cannot be converted to type {target.name} without overflow") from None
        except (ValueError, TypeError):
            arr = np.array(data, dtype=np.float64).astype(target.np)
    return _from_array(arr.reshape(shape), target, device)


def _contains_arrays(data):
    return any(isinstance(x, (Tensor, np.ndarray)) or (isinstance(x, (list, tuple)) and _contains_arrays(x))
               for x in data)


def _arrays_to_lists(data):
    out = []
    for x in data:
        if isinstance(x, Tensor):
            out.append(x.item())
        elif isinstance(x, np.ndarray):
            out.append(x.tolist())
        elif isinstance(x, (list, tuple)):
            out.append(_arrays_to_lists(x))
        else:
            out.append(x)
    return out


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like tensor(), but shares memory with a tensor or numpy array of the right dtype and device."""
    dtype = None if dtype is None else _dt.as_dtype(dtype)
    if isinstance(data, Tensor):
        out = data if dtype is None or data._dtype is dtype else data.to(dtype)
        return out if device is None else out.to(device)
    if isinstance(data, np.ndarray) and data.dtype.kind in "biuf" and device in (None, "cpu", CPU):
        t = from_numpy(data)
        return t if dtype is None or t._dtype is dtype else D.cast(t, dtype)
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def from_numpy(arr) -> Tensor:
    """A tensor sharing memory with the numpy array ``arr``."""
    if isinstance(arr, np.ndarray) and not arr.flags.writeable:
        warnings.warn("The given NumPy array is not writable, and PyTorch does not support non-writable "
                      "tensors. This means writing to this tensor will result in undefined behavior. You may "
                      "want to copy the array to protect its data or make it writable before converting it to "
                      "a tensor. This type of warning will be suppressed for the rest of this program.",
                      UserWarning, stacklevel=2)
    return _wrap_numpy(arr)


def _wrap_numpy(arr) -> Tensor:
    """A tensor over the numpy array's memory (no warning: callers that copy use it too)."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    dtype = _dt.from_numpy_dtype(arr.dtype)
    if not arr.dtype.isnative:
        raise ValueError("given numpy array has byte order different from the native byte order. Conversion "
                         "between byte orders is currently not supported.")
    shape = tuple(arr.shape)
    strides = _element_strides(shape, arr.strides, arr.itemsize)
    if arr.flags.c_contiguous and arr.flags.aligned and arr.flags.writeable:
        buf = arr.reshape(-1)
        return Tensor._make(buf, shape, contiguous_strides(shape), 0, dtype, None, True)
    buf = np.lib.stride_tricks.as_strided(arr, (_extent(shape, strides),), (arr.itemsize,),
                                          writeable=arr.flags.writeable)
    return Tensor._make(buf, shape, strides, 0, dtype, None, False)


def _element_strides(shape, byte_strides, item) -> tuple:
    """Strides in elements of an array shared with another library (None: C-contiguous), with PyTorch's errors
    for strides a tensor cannot have."""
    if byte_strides is None:
        return contiguous_strides(shape)
    if any(s < 0 for s in byte_strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors with negative "
                         "strides are not currently supported. (You can probably work around this by making a "
                         "copy of your array  with array.copy().) ")
    if any(s % item for s in byte_strides):
        raise ValueError("given numpy array strides not a multiple of the element byte size. Copy the numpy "
                         "array to reallocate the memory.")
    return tuple(s // item for s in byte_strides)


def _extent(shape, strides) -> int:
    """Elements from the first to the last one a strided view reaches."""
    return 1 + sum((n - 1) * s for n, s in zip(shape, strides)) if all(shape) else 0


def from_dlpack(obj) -> Tensor:
    """A tensor sharing memory with any object that exports DLPack (numpy, PyTorch, CuPy, ...); CUDA arrays are
    taken through their __cuda_array_interface__."""
    if isinstance(obj, Tensor):
        return obj
    device = getattr(obj, "__dlpack_device__", None)
    if device is not None and device()[0] == 2:  # kDLCUDA
        return _wrap_cuda_array(obj, check_device(as_device(f"cuda:{device()[1]}")))
    return _wrap_numpy(np.from_dlpack(obj))


def _wrap_cuda_array(obj, device) -> Tensor:
    """A tensor over another library's CUDA array, through its __cuda_array_interface__."""
    desc = getattr(obj, "__cuda_array_interface__", None)
    if desc is None:
        raise TypeError(f"tcli takes CUDA arrays through __cuda_array_interface__, which this "
                        f"{type(obj).__name__} does not have."
                        + hint("copy it to the host first (e.g. torch: t.cpu()), then tcli.from_numpy / .cuda()."))
    from .. import cuda
    np_dtype = np.dtype(desc["typestr"])
    shape = tuple(desc["shape"])
    strides = _element_strides(shape, desc.get("strides"), np_dtype.itemsize)
    buf = cuda.backend().external(desc["data"][0], _extent(shape, strides), np_dtype, obj, desc.get("stream"))
    return Tensor._make(buf, shape, strides, 0, _dt.from_numpy_dtype(np_dtype), None,
                        strides == contiguous_strides(shape), device=device)


# ---- constant fills --------------------------------------------------------------------------------------

def _fill_dtype(value, dtype):
    if dtype is not None:
        return _dt.as_dtype(dtype)
    return _dt.scalar_dtype(value)


def _new(shape, dtype, device, requires_grad, value=None):
    check_sizes_nonnegative(shape)
    dtype = _dt.get_default_dtype() if dtype is None else _dt.as_dtype(dtype)
    out = D.empty(shape, dtype, _device(device))
    if value is not None:
        D.fill(out, value)
    return _finish(out, requires_grad)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None) -> Tensor:
    return _new(normalize_shape(size), dtype, device, requires_grad)


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    return _new(normalize_shape(size), dtype, device, requires_grad, 0)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    return _new(normalize_shape(size), dtype, device, requires_grad, 1)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    fill_value = _fill_number(fill_value, "full")
    return _new(normalize_shape((size,)), _fill_dtype(fill_value, dtype), device, requires_grad, fill_value)


def _like(t, dtype, device):
    return (t._dtype if dtype is None else _dt.as_dtype(dtype)), (t._device if device is None else device)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    dtype, device = _like(input, dtype, device)
    return _new(input._shape, dtype, device, requires_grad)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    dtype, device = _like(input, dtype, device)
    return _new(input._shape, dtype, device, requires_grad, 0)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    dtype, device = _like(input, dtype, device)
    return _new(input._shape, dtype, device, requires_grad, 1)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    dtype, device = _like(input, dtype, device)
    return _new(input._shape, dtype, device, requires_grad, _fill_number(fill_value, "full_like"))


def _fill_number(value, name):
    """A fill value as a Python number: a one-element tensor gives its value; anything else but a number is
    PyTorch's TypeError (a list would otherwise reach a kernel)."""
    if isinstance(value, Tensor):
        return value.item()
    if isinstance(value, numbers.Number):
        return value
    raise TypeError(f"{name}(): argument 'fill_value' (position 2) must be Number, not {type(value).__name__}"
                    + hint("fill with one number; for given values use tcli.tensor([...]) (or .expand)."))


# ---- ranges ------------------------------------------------------------------------------------------------

def _number(x, name):
    if isinstance(x, Tensor):
        return x.item()
    if not isinstance(x, numbers.Number):
        raise TypeError(f"arange(): argument '{name}' must be Number, not {type(x).__name__}")
    return x


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False) -> Tensor:
    if end is None:
        start, end = 0, start
    start, end, step = _number(start, "start"), _number(end, "end"), _number(step, "step")
    if dtype is None:
        floating = any(isinstance(v, float) for v in (start, end, step))
        dtype = _dt.get_default_dtype() if floating else _dt.int64
    dtype = _dt.as_dtype(dtype)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if not all(math.isfinite(v) for v in (start, end)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if (step > 0 and end < start) or (step < 0 and end > start):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign"
                           + hint(f"arange({start}, {end}, {step}) is empty in that direction; flip the step "
                                  "sign or swap the bounds."))
    n = max(0, math.ceil((end - start) / step))
    if _device(device) is not CPU:
        return _finish(arange(start, end, step, dtype=dtype).to(_device(device)), requires_grad)
    t = _new((n,), dtype, device, False)
    compute = t if t._dtype is not _dt.float16 else D.empty((n,), _dt.float32)
    # floats: start + i * step in float64, rounded once, which is closest to PyTorch's (its CPU kernel mixes a
    # double and a vectorised float formula, so a few values can still differ in the last bit)
    D.K.arange(compute._buf, float(start) if dtype.is_floating_point else start,
               float(step) if dtype.is_floating_point else step)
    if compute is not t:
        D.map1_into("copy", t, compute)
    return _finish(t, requires_grad)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    start, end = _number(start, "start"), _number(end, "end")
    if not isinstance(steps, int) or steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = _dt.get_default_dtype() if dtype is None else _dt.as_dtype(dtype)
    narrow = dtype in (_dt.float32, _dt.float16)  # PyTorch's float32 rounding (see linspace_f32)
    compute = _dt.float32 if narrow else _dt.float64
    out = D.empty((steps,), compute)
    if steps:
        (D.K.linspace_f32 if narrow else D.K.linspace)(out._buf, compute.np.type(start), compute.np.type(end))
    out = D.cast(out, dtype) if dtype is not compute else out
    return _finish(out.to(_device(device)) if device is not None else out, requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    exps = linspace(start, end, steps, dtype=_dt.float64)
    return _finish((base ** exps).to(_dt.get_default_dtype() if dtype is None else dtype), requires_grad)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    m = n if m is None else m
    if n < 0 or m < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n if n < 0 else m}")
    t = _new((n, m), dtype, device, False, 0)
    k = min(n, m)
    if k:
        D.fill(t._view_of((k,), (m + 1,), 0), 1)
    return _finish(t, requires_grad)


# ---- legacy constructors: tcli.Tensor(...), tcli.FloatTensor(...) ---------------------------------------------

def legacy_new(cls, dtype, args, kwargs):
    """What ``Tensor(...)``/``FloatTensor(...)`` build: sizes give an uninitialised tensor, data a copy."""
    device = kwargs.pop("device", None)
    if kwargs:
        raise TypeError(f"new() received an invalid combination of arguments - got {list(kwargs)}")
    if not args:
        return _new((0,), dtype, device, False)
    if len(args) == 1 and not isinstance(args[0], (int, Size)):
        data = args[0]
        if isinstance(data, Tensor):
            return data if data._dtype is dtype else D.cast(data, dtype)
        return tensor(data, dtype=dtype, device=device)
    return _new(normalize_shape(args), dtype, device, False)


def _legacy_type(dtype):
    class LegacyTensorType(type):
        def __instancecheck__(cls, obj):
            return isinstance(obj, Tensor) and obj._dtype is dtype

    def new(cls, *args, **kwargs):
        return legacy_new(Tensor, dtype, args, kwargs)

    name = _dt.legacy_type_name(dtype).split(".")[-1]
    return LegacyTensorType(name, (), {"__new__": new, "dtype": dtype, "__module__": "torch"})


FloatTensor = _legacy_type(_dt.float32)
DoubleTensor = _legacy_type(_dt.float64)
HalfTensor = _legacy_type(_dt.float16)
LongTensor = _legacy_type(_dt.int64)
IntTensor = _legacy_type(_dt.int32)
ShortTensor = _legacy_type(_dt.int16)
CharTensor = _legacy_type(_dt.int8)
ByteTensor = _legacy_type(_dt.uint8)
BoolTensor = _legacy_type(_dt.bool_)

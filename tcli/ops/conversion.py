"""Changing dtype and device: ``to``, ``type``, ``float()``/``long()``/..., ``cpu``/``cuda``."""

from __future__ import annotations

from .. import dtypes as _dt
from .._tensor import Tensor
from ..autograd.graph import Node, attach
from ..cuda import check_device
from ..device import device as Device
from ..errors import hint
from . import _dispatch as D
from .pointwise import _requires


class ToCopyBackward0(Node):
    """The gradient goes back to the input's dtype and device (ctx: (dtype, device))."""

    def backward(self, g):
        dtype, device = self.ctx
        return (g.to(device=device, dtype=dtype),)


def _cast(x: Tensor, dtype) -> Tensor:
    result = D.cast(x, dtype)
    if _requires(x):
        if not dtype.is_floating_point:
            return result  # integer results carry no gradient
        n = ToCopyBackward0()
        n.ctx = (x._dtype, x._device)
        attach(n, result, x)
    return result


def _move(x: Tensor, device, non_blocking=False) -> Tensor:
    """A copy of x on ``device`` (dense), recorded as ToCopyBackward0 like PyTorch's .to(). non_blocking: a copy
    from pinned memory to the GPU is queued, not waited for (device-to-host copies wait anyway)."""
    src = x if x._dense else D.contiguous_copy(x)
    host = src._buf if x._device.type == "cpu" else D.backend(x._device).to_host(src._buf)  # a fresh copy
    buf = host if device.type == "cpu" else D.backend(device).from_host(host, non_blocking=bool(non_blocking))
    from .._tensor import layout_of
    result = Tensor._make(buf, x._shape, layout_of(x._shape)[1], 0, x._dtype, dense=True, device=device)
    if _requires(x):
        n = ToCopyBackward0()
        n.ctx = (x._dtype, x._device)
        attach(n, result, x)
    return result


def _parse_to(args, kwargs):
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    non_blocking = kwargs.pop("non_blocking", False)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    flags = []
    for a in args:
        if isinstance(a, _dt.dtype):
            dtype = a
        elif isinstance(a, Tensor):
            dtype, device = a._dtype, a._device
        elif isinstance(a, (str, Device, int)) and not isinstance(a, bool):
            device = a
        elif isinstance(a, bool):
            flags.append(a)  # positional: non_blocking, then copy
        elif a is not None:
            dtype = _dt.as_dtype(a)
    if flags:
        non_blocking = non_blocking or flags[0]
        copy = copy or (len(flags) > 1 and flags[1])
    return dtype, device, copy, non_blocking


def to(input, *args, **kwargs):
    dtype, device, copy, non_blocking = _parse_to(args, dict(kwargs))
    dtype = None if dtype is None else _dt.as_dtype(dtype)
    if device is not None:
        device = check_device(Device(device) if not isinstance(device, Device) else device)
    result = input
    if device is not None and device != input._device:
        result = _move(result, device, non_blocking)
        copy = False
    if dtype is not None and dtype is not result._dtype:
        result = _cast(result, dtype)
    elif copy:
        from .shape import clone
        result = clone(result)
    return result


def type(input, dtype=None, non_blocking=False, **kwargs):
    if dtype is None:
        return _dt.legacy_type_name(input._dtype)
    if isinstance(dtype, str):
        dtype = _dt.from_legacy_type_name(dtype)
    elif not isinstance(dtype, _dt.dtype):
        legacy = getattr(dtype, "dtype", None)
        if legacy is None:
            raise TypeError(f"type() expects a dtype or a type name, got {dtype!r}")
        dtype = legacy
    return input if dtype is input._dtype else _cast(input, dtype)


def type_as(input, other):
    return to(input, other._dtype)


def _as(dtype):
    def convert(input, memory_format=None):
        return input if input._dtype is dtype else _cast(input, dtype)
    convert.__name__ = dtype.name
    return convert


float_ = _as(_dt.float32)
double = _as(_dt.float64)
half = _as(_dt.float16)
int_ = _as(_dt.int32)
long = _as(_dt.int64)
short = _as(_dt.int16)
char = _as(_dt.int8)
byte = _as(_dt.uint8)
bool_ = _as(_dt.bool_)


def cpu(input, memory_format=None):
    return input if input._device.type == "cpu" else to(input, "cpu")


def cuda(input, device=None, non_blocking=False, memory_format=None):
    target = check_device(Device("cuda") if device is None else Device(device) if not isinstance(device, int)
                          else Device("cuda", device))
    return input if input._device == target else to(input, target, non_blocking=non_blocking)


def pin_memory(input, device=None):
    """A copy of a CPU tensor in page-locked host memory, which the GPU reads directly (faster copies)."""
    from .. import cuda as _cuda
    if not _cuda.is_available():
        raise RuntimeError("Cannot access accelerator device when none is available."
                           + hint("pinned memory speeds up copies to a GPU; without one, leave pin_memory off."))
    if input._device.type != "cpu":
        raise RuntimeError("cannot pin a CUDA tensor: only dense CPU tensors can be pinned"
                           + hint("pin the CPU tensor before moving it: x.pin_memory().cuda(non_blocking=True)."))
    if is_pinned(input):
        return input
    src = input if input._dense else D.contiguous_copy(input)
    buf = _cuda.backend().pinned_copy(src._buf)
    from .._tensor import layout_of
    return Tensor._make(buf, input._shape, layout_of(input._shape)[1], 0, input._dtype, dense=True)


def is_pinned(input, device=None):
    from .. import cuda as _cuda
    if input._device.type != "cpu" or not _cuda.is_initialized():  # nothing is pinned before CUDA starts
        return False
    return _cuda.backend().is_pinned(input._buf)

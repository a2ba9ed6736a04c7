"""Turning tensors into kernel calls: allocation, dense fast paths, strided layouts, casts.

Every op's forward and backward reaches the kernels through here, so the choice between the
dense and the strided kernel, the float16-in-float32 rule and the device's backend are made in
one place. Kernels receive aligned shapes and one compute dtype; they know nothing of Tensor.
"""

from __future__ import annotations

import functools

import numpy as np

from .. import dtypes as _dt
from .._tensor import Tensor, layout_of
from ..device import CPU
from ..errors import hint
from ..kernels.config import PARALLEL_MIN as _PARALLEL_MIN
from ._util import coalesce, expand_strides


class _LazyKernels:
    """tcli.kernels.cpu, imported (with numba) on first use: ``import tcli`` stays light."""

    def __getattr__(self, name):
        import importlib
        module = importlib.import_module("tcli.kernels.cpu")
        self.__dict__.update(vars(module))  # later lookups are plain attribute hits
        return getattr(module, name)


K = _LazyKernels()

float16, float32 = _dt.float16, _dt.float32


def backend(device):
    if device.type == "cpu":
        return K
    from ..cuda import backend as cuda_backend
    return cuda_backend()


def check_same_device(a: Tensor, b: Tensor):
    if a._device is not b._device:
        raise RuntimeError(
            f"Expected all tensors to be on the same device, but found at least two devices, {a._device} and "
            f"{b._device}!" + hint(f"the first tensor is on {a._device} and the second on {b._device}: move one to "
                                   f"the other, e.g. second.to('{a._device}') (or .cuda() / .cpu())."))


def same_device(a: Tensor, b: Tensor):
    """(a, b) on one device. As in PyTorch, a 0-d CPU tensor goes along with a CUDA operand (it is a number);
    any other mix is an error."""
    if a._device is b._device:
        return a, b
    if not b._shape and b._device is CPU:
        return a, b.to(a._device)
    if not a._shape and a._device is CPU:
        return a.to(b._device), b
    check_same_device(a, b)


def kernels(t: Tensor):
    """The kernel contract for t's device: tcli.kernels.cpu, or tcli.kernels.cuda for a CUDA tensor."""
    return K if t._device is CPU else backend(t._device)


_POOLED_ELEMENTS = 1 << 15  # at or above this many elements a buffer may come from the caching allocator


def empty(shape, dtype, device=CPU) -> Tensor:
    """A new dense, uninitialised tensor."""
    n, strides = layout_of(shape)
    if device is CPU:
        buf = np.empty(n, dtype.np) if n < _POOLED_ELEMENTS else K.alloc(n, dtype.np)
    else:
        buf = backend(device).alloc(n, dtype.np)
    t = object.__new__(Tensor)
    t._buf, t._shape, t._strides, t._dtype = buf, shape, strides, dtype
    if device is not CPU:
        t._device = device
    return t


def _strided_args(shape, tensors):
    """Coalesced shape and (buf, off, strides) for each tensor, all viewed at ``shape``."""
    cshape, cstrides = _coalesced(shape, *[(t._shape, t._strides) for t in tensors])
    return cshape, [(t._buf, t._offset, s) for t, s in zip(tensors, cstrides)]


@functools.lru_cache(maxsize=1024)
def _coalesced(shape, *layouts):
    """(shape, strides) pairs viewed at ``shape`` and coalesced; cached, as a training loop repeats its layouts."""
    strides = [s if sh == shape else expand_strides(sh, s, shape) for sh, s in layouts]
    cshape, cstrides = coalesce(shape, *strides)
    return cshape, tuple(cstrides)


def to_compute(t: Tensor, dtype) -> Tensor:
    """t in the dtype a kernel computes in (float16 is computed in float32)."""
    if dtype is float16:
        dtype = float32
    return t if t._dtype is dtype else cast(t, dtype)


def scalar_of(value, dtype):
    """A Python number as a numpy scalar of the compute dtype (float16 computes in float32).

    Integers wrap to the dtype's width, as PyTorch's C++ casts do (uint8 tensor + 300 adds 44).
    """
    if dtype is float16:
        dtype = float32
    if isinstance(value, int) and not -(1 << 63) <= value < (1 << 64):
        raise RuntimeError("Overflow when unpacking long")
    try:
        return dtype.np.type(value)
    except OverflowError:
        if dtype.is_floating_point or not isinstance(value, int):
            raise RuntimeError(f"value cannot be converted to type {dtype.name} without overflow") from None
        bits = 8 * dtype.itemsize
        wrapped = value & ((1 << bits) - 1)
        if dtype.is_signed and wrapped >= 1 << (bits - 1):
            wrapped -= 1 << bits
        return dtype.np.type(wrapped)


def _finish(out, result_dtype):
    """Cast a float32 result computed for a float16 op back to float16."""
    return cast(out, result_dtype) if out._dtype is not result_dtype else out


# ---- fast paths: same dtype, dense, same shape (most ops in a training loop) -------------------------

_np_empty = np.empty
_new_object = object.__new__


class DenseOp:
    """One elementwise op's dense kernels, looked up once: the hot path calls them directly.

    ``DenseOp.of(name)`` returns the shared instance for a kernel name.
    """

    _instances: dict = {}

    @classmethod
    def of(cls, name, unary):
        op = cls._instances.get(name)
        if op is None:
            op = cls._instances[name] = cls(name, unary)
        return op

    __slots__ = ("name", "serial", "parallel", "unary", "entries")

    def __init__(self, name, unary=False):
        self.name, self.unary = name, unary
        self.serial = self.parallel = None
        self.entries = {}  # input dtype -> the serial kernel's compiled entry point

    def resolve(self, n):
        table = K.unary_kernel if self.unary else K.binary_kernel
        self.serial, self.parallel = table(self.name, 0), table(self.name, 1 << 62)
        return self.serial if n < _PARALLEL_MIN else self.parallel

    def entry(self, dtype, *args):
        """Run the serial kernel on args and remember its compiled entry point for ``dtype``.

        Calling the entry point skips numba's argument typing (~100 ns of a ~1 us op). That is only
        sound for arguments of exactly the compiled types, which dense CPU buffers guarantee: they
        are writable, aligned, C-contiguous 1-D arrays of the tensor's dtype (see Tensor), and the
        op's other arguments are fixed by the input dtype.
        """
        kernel = self.serial or self.resolve(0)
        kernel(*args)
        try:
            import numba
            signature = tuple(numba.typeof(a) for a in args)
            self.entries[dtype] = kernel.overloads[signature].entry_point
        except (KeyError, AttributeError):  # a numba without this internal: keep dispatching
            self.entries[dtype] = kernel




def binary_operator(name, dense: DenseOp, scalar: DenseOp, fallback, record, tensor_types, bool_ok=True):
    """``a <op> b`` for Tensor's dunder methods and the plain functional call.

    Two dense CPU tensors of one shape and dtype (not float16), or a dense float tensor and a Python number, run
    the op's serial kernel through its compiled entry point straight into a fresh buffer; anything else goes to
    ``fallback(a, b)``. ``record(result, a, b_or_None, number)`` attaches the gradient node when one is needed;
    ``bool_ok=False`` sends bool tensors to the fallback (and its error). The fast paths are written out here, in
    one function: each call saved is a tenth of a 3-element add.
    """
    from ..autograd.grad_mode import STATE

    def op(self, other):
        t = type(other)
        dt = self._dtype
        if dt is _bool and not bool_ok:
            return fallback(self, other)
        if t in tensor_types:
            if (other._dtype is dt and self._dense and other._dense and self._shape == other._shape
                    and dt is not float16 and self._device is CPU and other._device is CPU):
                abuf = self._buf
                n = abuf.shape[0]
                if n < _PARALLEL_MIN:
                    buf = _np_empty(n, dt.np)
                    entry = dense.entries.get(dt)
                    if entry is None:
                        dense.entry(dt, buf, abuf, other._buf)
                    else:
                        entry(buf, abuf, other._buf)
                else:
                    buf = K.alloc(n, dt.np)
                    (dense.parallel or dense.resolve(n))(buf, abuf, other._buf)
                result = _new_object(Tensor)
                result._buf, result._shape, result._strides, result._dtype = buf, self._shape, self._strides, dt
                if STATE.enabled and (self._requires_grad or other._requires_grad):
                    record(result, self, other, None)
                return result
        elif (t is float or t is int) and (dt is float32 or dt is _float64) and self._dense and self._device is CPU:
            p = dt.np.type(other)
            abuf = self._buf
            n = abuf.shape[0]
            if n < _PARALLEL_MIN:
                buf = _np_empty(n, dt.np)
                entry = scalar.entries.get(dt)
                if entry is None:
                    scalar.entry(dt, buf, abuf, p, p)
                else:
                    entry(buf, abuf, p, p)
            else:
                buf = K.alloc(n, dt.np)
                (scalar.parallel or scalar.resolve(n))(buf, abuf, p, p)
            result = _new_object(Tensor)
            result._buf, result._shape, result._strides, result._dtype = buf, self._shape, self._strides, dt
            if STATE.enabled and self._requires_grad:
                record(result, self, None, other)
            return result
        if t is list or t is tuple:  # Python then raises PyTorch's "unsupported operand type(s) for +: ..."
            return NotImplemented
        return fallback(self, other)
    op.__name__ = op.__qualname__ = f"__{name}__"
    return op


_bool = _dt.bool_
_float64 = _dt.float64


# ---- maps ---------------------------------------------------------------------------------------------

def map1(op, x: Tensor, result_dtype, p=0, q=0) -> Tensor:
    """out = op(x, p, q) elementwise, in x's dtype (bool results for predicates)."""
    if x._dense and x._dtype is not float16 and result_dtype is not float16 and x._device is CPU:
        out = empty(x._shape, result_dtype)
        n = x._buf.shape[0]
        dense = DenseOp.of(op, True)
        kernel = (dense.serial if n < _PARALLEL_MIN else dense.parallel) or dense.resolve(n)
        kernel(out._buf, x._buf, p, q)
        return out
    compute = float32 if x._dtype is float16 else x._dtype
    if x._dtype is not compute:
        x = cast(x, compute)
    out_dtype = float32 if result_dtype is float16 else result_dtype
    out = empty(x._shape, out_dtype, x._device)
    if x._dense:
        kernels(x).unary(op, out._buf, x._buf, p, q)
    else:
        shape, (o, a) = _strided_args(x._shape, (out, x))
        kernels(x).unary_strided(op, shape, o, a, p, q)
    return _finish(out, result_dtype) if result_dtype is float16 else out


def map2(op, a: Tensor, b: Tensor, compute, result_dtype, shape) -> Tensor:
    """out = op(a, b) elementwise over the broadcast ``shape``."""
    if compute is float16:
        compute = float32
    if a._dtype is not compute:
        a = cast(a, compute)
    if b._dtype is not compute:
        b = cast(b, compute)
    out_dtype = float32 if result_dtype is float16 else result_dtype
    out = empty(shape, out_dtype, a._device)
    if a._dense and b._dense and a._shape == b._shape and a._device is CPU:
        n = out._buf.shape[0]
        dense = DenseOp.of(op, False)
        ((dense.serial if n < _PARALLEL_MIN else dense.parallel) or dense.resolve(n))(out._buf, a._buf, b._buf)
    elif a._dense and b._dense and a._shape == b._shape:
        kernels(a).binary(op, out._buf, a._buf, b._buf)
    else:
        cshape, (o, x, y) = _strided_args(shape, (out, a, b))
        kernels(a).binary_strided(op, cshape, o, x, y)
    return _finish(out, result_dtype) if result_dtype is float16 else out


def map3(op, c: Tensor, a: Tensor, b: Tensor, compute, result_dtype, shape) -> Tensor:
    """out = op(c, a, b) elementwise; c keeps its own dtype (e.g. a bool condition) unless float16."""
    if c._dtype is float16:
        c = cast(c, float32)
    if compute is float16:
        compute = float32
    if a._dtype is not compute:
        a = cast(a, compute)
    if b._dtype is not compute:
        b = cast(b, compute)
    out_dtype = float32 if result_dtype is float16 else result_dtype
    out = empty(shape, out_dtype, a._device)
    if c._dense and a._dense and b._dense and c._shape == a._shape == b._shape == shape:
        kernels(a).ternary(op, out._buf, c._buf, a._buf, b._buf)
    else:
        cshape, (o, z, x, y) = _strided_args(shape, (out, c, a, b))
        kernels(a).ternary_strided(op, cshape, o, z, x, y)
    return _finish(out, result_dtype) if result_dtype is float16 else out


# ---- writing into existing tensors ----------------------------------------------------------------------

def _check_fits(x: Tensor, shape):
    """Raise PyTorch's expand error unless x broadcasts to ``shape`` (writes must never go astray)."""
    if x._shape != shape:
        from .shape import expand
        expand(x.detach(), shape)


def _span(t: Tensor):
    """The first and last storage slots t touches."""
    last = t._offset + sum((n - 1) * s for n, s in zip(t._shape, t._strides))
    return t._offset, last


def _writable_source(dst: Tensor, src: Tensor) -> Tensor:
    """src, made safe to read while dst is written: PyTorch's errors for overlapping memory, and a copy
    where the overlap is harmless to PyTorch but would make the result depend on loop order."""
    if src._buf is not dst._buf or 0 in src._shape or 0 in dst._shape:
        return src
    if src._offset == dst._offset and src._strides == dst._strides and src._shape == dst._shape:
        return src  # elementwise in place: each element reads itself first
    lo, hi = _span(src)
    dlo, dhi = _span(dst)
    if hi < dlo or dhi < lo:
        return src
    if src.is_contiguous() and dst.is_contiguous():
        raise RuntimeError("unsupported operation: some elements of the input tensor and the written-to tensor refer "
                           "to a single memory location. Please clone() the tensor before performing the operation."
                           + hint("the source overlaps the destination, e.g. t[1:] = t[:-1]; write t[1:] = "
                                  "t[:-1].clone()."))
    return contiguous_copy(src)


def _check_destination(dst: Tensor):
    """Writing into an expanded tensor would write one memory slot many times."""
    for n, s in zip(dst._shape, dst._strides):
        if s == 0 and n > 1:
            raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                               "single memory location. Please clone() the tensor before performing the operation."
                               + hint("this tensor is an expand()ed view; clone() it (or use expand(...).clone()) "
                                      "before writing into it."))


def map1_into(op, dst: Tensor, x: Tensor, p=0, q=0):
    """dst[...] = op(x) with x broadcast to dst's shape; dst may be any strided view."""
    if x._device is not dst._device:
        check_same_device(dst, x)
    if dst._dense and x._dense and dst._shape == x._shape and dst._dtype is not float16:
        kernels(dst).unary(op, dst._buf, x._buf, p, q)
        return
    _check_fits(x, dst._shape)
    _check_destination(dst)
    x = _writable_source(dst, x)
    if dst._dtype is float16 and op != "copy":
        tmp = map1(op, x if x._shape == dst._shape else x.expand(dst._shape), float32, p, q)
        map1_into("copy", dst, tmp)
        return
    shape, (o, a) = _strided_args(dst._shape, (dst, x))
    kernels(dst).unary_strided(op, shape, o, a, p, q)


def map2_into(op, dst: Tensor, a: Tensor, b: Tensor):
    """dst[...] = op(a, b), with a and b in dst's dtype, broadcast to dst's shape."""
    if a._device is not dst._device or b._device is not dst._device:
        check_same_device(dst, a if a._device is not dst._device else b)
    _check_fits(a, dst._shape)
    _check_fits(b, dst._shape)
    _check_destination(dst)
    a, b = _writable_source(dst, a), _writable_source(dst, b)
    if dst._dtype is float16:
        tmp = map2(op, a, b, float32, float32, dst._shape)
        map1_into("copy", dst, tmp)
        return
    if dst._dense and a._dense and b._dense and dst._shape == a._shape == b._shape:
        kernels(dst).binary(op, dst._buf, a._buf, b._buf)
        return
    shape, (o, x, y) = _strided_args(dst._shape, (dst, a, b))
    kernels(dst).binary_strided(op, shape, o, x, y)


def filled(shape, dtype, value, device=CPU) -> Tensor:
    """A new dense tensor with every element ``value``."""
    out = empty(shape, dtype, device)
    if device is CPU and dtype is not float16:
        buf = out._buf
        n = buf.shape[0]
        op = _FILL
        p = scalar_of(value, dtype)
        if n >= _PARALLEL_MIN:
            (op.parallel or op.resolve(n))(buf, buf, p, p)
        else:
            entry = op.entries.get(dtype)
            if entry is None:
                op.entry(dtype, buf, buf, p, p)
            else:
                entry(buf, buf, p, p)
        return out
    fill(out, value)
    return out


_FILL = DenseOp.of("fill", True)


def _fill_value(value, dtype):
    """value as dtype, or PyTorch's overflow error (fills check the range; arithmetic wraps)."""
    if dtype is float16:
        return np.float16(value)
    if isinstance(value, int) and not dtype.is_floating_point and dtype is not _dt.bool_:
        info = np.iinfo(dtype.np)
        if not info.min <= value <= info.max:
            raise RuntimeError(f"value cannot be converted to type {_C_INT_NAMES[dtype.name]} without overflow")
    return scalar_of(value, dtype)


_C_INT_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t"}


def fill(dst: Tensor, value):
    p = _fill_value(value, dst._dtype)
    if dst._dense:
        kernels(dst).unary("fill", dst._buf, dst._buf, p, p)
    else:
        shape, (o, a) = _strided_args(dst._shape, (dst, dst))
        kernels(dst).unary_strided("fill", shape, o, a, p, p)


def cast(t: Tensor, dtype) -> Tensor:
    """A new dense tensor with t's values converted to ``dtype`` (C casts, as PyTorch converts)."""
    out = empty(t._shape, dtype, t._device)
    if t._dense:
        kernels(t).unary("copy", out._buf, t._buf, 0, 0)
    else:
        shape, (o, a) = _strided_args(t._shape, (out, t))
        kernels(t).unary_strided("copy", shape, o, a, 0, 0)
    return out


def contiguous_copy(t: Tensor) -> Tensor:
    return cast(t, t._dtype)

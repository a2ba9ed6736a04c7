"""Tensor: a strided view over a flat buffer, plus dtype, device and autograd fields.

The storage model is PyTorch's: ``_buf`` is a 1-D buffer (a numpy array on the CPU) shared by a
tensor and all its views; ``_shape``, ``_strides`` (in elements) and ``_offset`` say where this
tensor's elements are. ``_dense`` marks the common case of a tensor that is exactly its whole
buffer in row-major order, which lets ops hand buffers straight to dense kernels.

Invariant the dense fast paths rely on: a dense CPU tensor's buffer is a writable, aligned,
C-contiguous 1-D array of its dtype (from_numpy marks any other numpy memory as not dense).

Ops live in ``tcli.ops`` and are attached as methods when ``tcli`` is imported; this module only
holds what a tensor *is*.
"""

from __future__ import annotations

import warnings
import weakref

import numpy as np

from . import dtypes as _dt
from . import printing
from ._size import Size
from .autograd import grad_mode
from .autograd.graph import Version
from .device import CPU
from .errors import hint

_LAYOUTS: dict = {}  # shape -> (numel, contiguous strides): shapes repeat, so compute each once


def layout_of(shape) -> tuple:
    info = _LAYOUTS.get(shape)
    if info is None:
        strides = []
        acc = 1
        for s in reversed(shape):
            strides.append(acc)
            acc *= s if s > 0 else 1
        n = 1
        for s in shape:
            n *= s
        info = (n, tuple(reversed(strides)))
        if len(_LAYOUTS) < 4096:
            _LAYOUTS[shape] = info
    return info


def contiguous_strides(shape) -> tuple:
    return layout_of(shape)[1]


def numel_of(shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


class Tensor:
    # The fields every tensor has live in slots; the rest are class-level defaults that only the
    # tensors that need them set (in the instance dict), which keeps making a tensor cheap.
    __slots__ = ("_buf", "_shape", "_strides", "_dtype", "__dict__", "__weakref__")
    _offset = 0
    _dense = True  # the whole buffer, row-major, from offset 0
    _ver = None
    _base_fn = None  # for views: the base's grad_fn when this view's history was last set
    _own_output = False  # a node's output as that node saved it (graph.own_output)
    _device = CPU
    _requires_grad = False
    _grad_fn = None
    _grad = None
    _output_nr = 0
    _retains_grad = False
    _accumulator = None
    _base = None
    _backward_hooks = None
    __array_priority__ = 1000  # numpy defers to Tensor's reflected operators

    def __new__(cls, *args, **kwargs):
        if cls is Tensor or not args or not isinstance(args[0], Tensor):
            from .ops.creation import legacy_new
            return legacy_new(cls, _dt.get_default_dtype(), args, kwargs)
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        pass

    # ---- construction (internal) ----------------------------------------------------------------------

    @classmethod
    def _make(cls, buf, shape, strides, offset, dtype, version=None, dense=None, device=CPU):
        t = object.__new__(cls)
        t._buf = buf
        t._shape = shape
        t._strides = strides
        t._dtype = dtype
        if offset:
            t._offset = offset
        if version is not None:
            t._ver = version
        if dense is None:  # dense also promises a writable, aligned buffer (see the module docstring)
            n, contiguous = layout_of(shape)
            dense = (offset == 0 and buf.shape[0] == n and strides == contiguous and buf.flags.writeable
                     and buf.flags.aligned)
        if not dense:
            t._dense = False
        if device is not CPU:
            t._device = device
        return t

    @property
    def _vc(self) -> Version:
        """The version counter, shared with views; made on first use (most tensors never need one).
        A view made before its base had a counter finds it through ``_base``."""
        v = self._ver
        if v is None:
            v = self._ver = self._base._vc if self._base is not None else Version()
        return v

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has seen (PyTorch's ``t._version``)."""
        return self._vc.value

    def _view_of(self, shape, strides, offset, dense=None):
        """A view sharing storage and version counter; autograd wiring is the caller's job."""
        t = Tensor._make(self._buf, shape, strides, offset, self._dtype, self._ver, dense, self._device)
        base = self if self._base is None else self._base
        t._base = base
        if base._grad_fn is not None:
            t._base_fn = base._grad_fn
        return t

    def _sync_view_history(self):
        """After an in-place change to its base (through another view or the base itself), a view's
        grad_fn must lead to the base's new history, as PyTorch regenerates it."""
        base = self._base
        if base is not None and self._base_fn is not base._grad_fn:
            from .ops.inplace import refresh_view
            refresh_view(self)

    def _detached(self):
        """An alias without history: same storage, same version counter."""
        t = Tensor._make(self._buf, self._shape, self._strides, self._offset, self._dtype, self._vc,
                         self._dense, self._device)
        return t

    def _host_np(self) -> np.ndarray:
        """The values as a numpy array in host memory: a view for CPU tensors, a copy from the device else."""
        if self._device.type == "cpu":
            return self._np()
        from .ops.conversion import to
        with grad_mode.no_grad():
            return to(self.detach(), "cpu")._np()

    def _np(self) -> np.ndarray:
        """A numpy view of this tensor's elements (shares memory)."""
        if self._dense:
            return self._buf.reshape(self._shape)
        if 0 in self._shape:  # an empty view may sit past the end of its buffer
            return np.empty(self._shape, self._buf.dtype)
        item = self._buf.itemsize
        return np.ndarray(self._shape, self._buf.dtype, self._buf, self._offset * item,
                          tuple(s * item for s in self._strides))

    # ---- attributes ---------------------------------------------------------------------------------------

    @property
    def shape(self) -> Size:
        return Size(self._shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._shape)
        return self._shape[self._wrap_dim(dim)]

    def stride(self, dim=None):
        if dim is None:
            return tuple(self._strides)
        return self._strides[self._wrap_dim(dim)]

    def storage_offset(self) -> int:
        return self._offset

    @property
    def dtype(self):
        return self._dtype

    @property
    def device(self):
        return self._device

    @property
    def is_cuda(self) -> bool:
        return self._device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self._device.type == "cpu"

    @property
    def layout(self):
        return "torch.strided"

    @property
    def ndim(self) -> int:
        return len(self._shape)

    def dim(self) -> int:
        return len(self._shape)

    ndimension = dim

    def numel(self) -> int:
        return numel_of(self._shape)

    nelement = numel

    def element_size(self) -> int:
        return self._dtype.itemsize

    @property
    def itemsize(self) -> int:
        return self._dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.numel() * self._dtype.itemsize

    @property
    def __cuda_array_interface__(self) -> dict:
        """Zero-copy export of a CUDA tensor's memory to numba, CuPy or PyTorch (version 2 of the protocol)."""
        if self._device.type != "cuda":
            raise AttributeError(f"Can't get __cuda_array_interface__ on non-CUDA tensor type: {self.type()} If CUDA "
                                 "data is required use tensor.cuda() to copy tensor to device memory.")
        if self._requires_grad:
            raise RuntimeError("Can't get __cuda_array_interface__ on Variable that requires grad. If gradients aren't "
                               "required, use var.detach() to get Variable that doesn't require grad.")
        item = self._dtype.itemsize
        contiguous = self.is_contiguous()
        return {"typestr": np.dtype(self._dtype.np).str, "shape": tuple(self._shape),
                "strides": None if contiguous else tuple(s * item for s in self._strides),
                "data": (self.data_ptr() if self.numel() else 0, False), "version": 2}

    def data_ptr(self) -> int:
        if self._device.type != "cpu":
            return self._buf.pointer() + self._offset * self._dtype.itemsize
        return self._buf.ctypes.data + self._offset * self._dtype.itemsize

    def is_floating_point(self) -> bool:
        return self._dtype.is_floating_point

    def is_complex(self) -> bool:
        return False

    def is_signed(self) -> bool:
        return self._dtype.is_signed

    def is_contiguous(self, memory_format=None) -> bool:
        if self._dense or 0 in self._shape:
            return True
        expected = 1
        for size, stride in zip(reversed(self._shape), reversed(self._strides)):
            if size != 1 and stride != expected:
                return False
            expected *= size
        return True

    def _wrap_dim(self, dim, ndim=None):
        from .ops._util import wrap_dim
        return wrap_dim(dim, len(self._shape) if ndim is None else ndim)

    # ---- autograd fields ---------------------------------------------------------------------------

    @property
    def requires_grad(self) -> bool:
        if self._base is not None:
            self._sync_view_history()
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if self._grad_fn is not None and value:  # requires_grad_() lets it pass; the attribute does not
            raise RuntimeError("you can only change requires_grad flags of leaf variables."
                               + hint("it already requires grad: it was computed from tensors that do."))
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        requires_grad = bool(requires_grad)
        if self._grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
                + hint("x.detach() gives a tensor without history that does not require grad."))
        if requires_grad and not self._dtype.is_floating_point:
            raise RuntimeError(
                "only Tensors of floating point dtype can require gradients"
                + hint(f"this tensor is {self._dtype}; make it floating point first, e.g. "
                       "x = x.float().requires_grad_() or tcli.tensor(..., dtype=tcli.float32, "
                       "requires_grad=True)."))
        self._requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad_fn(self):
        if self._base is not None:
            self._sync_view_history()
        return self._grad_fn

    @property
    def grad(self):
        if self._grad_fn is not None and not self._retains_grad and self._grad is None:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
                "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
                "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
                "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
                "instead. See github.com/pytorch/pytorch/pull/30531 for more information.",
                UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value._shape != self._shape:
                raise RuntimeError("assigned grad has data of a different size"
                                   + hint(f"the tensor is {list(self._shape)}, the grad {list(value._shape)}."))
            if value._dtype is not self._dtype:
                raise RuntimeError("assigned grad has data of a different type")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def retain_grad(self):
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is None or self._retains_grad:
            return
        node = self._grad_fn
        if node._retained is None:
            node._retained = []
        node._retained.append((self._output_nr, weakref.ref(self)))
        self._retains_grad = True

    def register_hook(self, hook):
        """Call ``hook(grad)`` when the gradient for this tensor is computed (it may return a new grad)."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        from .autograd.graph import edge
        node, nr = edge(self)
        return node.register_hook(lambda grads: _call_tensor_hook(hook, grads, nr))

    @property
    def data(self):
        t = Tensor._make(self._buf, self._shape, self._strides, self._offset, self._dtype, None,
                         self._dense, self._device)
        return t

    @data.setter
    def data(self, other):
        if not isinstance(other, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(other).__name__}")
        self._buf, self._shape, self._strides = other._buf, other._shape, other._strides
        self._offset, self._dtype, self._dense = other._offset, other._dtype, other._dense
        if other._device is not self._device:
            self._device = other._device

    def detach(self):
        return self._detached()

    def detach_(self):
        if self._base is not None and self._grad_fn is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead."
                               + hint("y = y.detach() gives a new tensor without history."))
        self._grad_fn = None
        self._requires_grad = False
        return self

    @property
    def output_nr(self) -> int:
        return self._output_nr

    # ---- Python protocol -----------------------------------------------------------------------------

    def __repr__(self, *, tensor_contents=None):
        from .dtypes import get_default_dtype
        grad_fn = self._grad_fn
        text = printing.tensor_repr(
            self._host_np(), dtype_name=repr(self._dtype), default_dtype_name=repr(get_default_dtype()),
            device=None if self._device.type == "cpu" else str(self._device),
            requires_grad=self._requires_grad and grad_fn is None and not grad_mode.STATE.inference,
            grad_fn=None if grad_fn is None else grad_fn.name())
        return text

    def __rich__(self):
        from ._rich import render
        return render(self)

    def __format__(self, spec):
        if not self._shape and type(self) is Tensor:
            return self.item().__format__(spec)
        return object.__format__(self, spec) if spec else repr(self)

    def __hash__(self):
        return id(self)

    def __len__(self):
        if not self._shape:
            raise TypeError("len() of a 0-d tensor"
                            + hint("a 0-d tensor holds one value: use x.item() to read it, or x.numel()."))
        return self._shape[0]

    def __iter__(self):
        if not self._shape:
            raise TypeError("iteration over a 0-d tensor"
                            + hint("a 0-d tensor holds one value: use x.item() to read it."))
        return iter(self.unbind(0))

    def __bool__(self):
        n = self.numel()
        if n != 1:
            what = "no values" if n == 0 else "more than one value"
            raise RuntimeError(
                f"Boolean value of Tensor with {what} is ambiguous"
                + hint("reduce it to one value first: (x > 0).all(), (x > 0).any(), or compare a single "
                       "element x[i]."))
        return bool(self.item())

    def __float__(self):
        return float(self._scalar())

    def __int__(self):
        return int(self._scalar())

    def _scalar(self):
        """The one value, for float(t) and int(t): PyTorch's ValueError for more (item() raises RuntimeError)."""
        if self.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars"
                             + hint(f"the tensor has {self.numel()} elements: reduce it first (t.sum(), t.mean()), "
                                    "or pick one (t[0])."))
        if self._requires_grad:
            warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
                          "Consider using tensor.detach() first.", UserWarning, stacklevel=3)
        return self.item()

    def __index__(self):
        if self._dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self):
        return complex(self._scalar())

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def __dlpack__(self, stream=None, **kwargs):
        if self._requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        if self._device.type == "cuda":
            return self._cuda_dlpack(stream, **kwargs)
        if stream is not None:
            kwargs["stream"] = stream
        return self._np().__dlpack__(**kwargs)

    def _cuda_dlpack(self, stream, max_version=None, dl_device=None, copy=None):
        """A capsule over the device memory (tcli/_dlpack.py); an unversioned one, which every consumer takes."""
        from ._dlpack import cuda_capsule
        if dl_device is not None and tuple(dl_device) != self.__dlpack_device__():
            raise BufferError(f"tcli cannot export a CUDA tensor to DLPack device {tuple(dl_device)}"
                              + hint("copy it there first, e.g. t.cpu() for the host."))
        return cuda_capsule(self.clone() if copy else self, stream)

    def __dlpack_device__(self):
        return (2, self._device.index or 0) if self._device.type == "cuda" else (1, 0)  # kDLCUDA, kDLCPU

    def __reduce_ex__(self, protocol):
        return (_rebuild, (self._np().copy(), self._requires_grad))

    def __copy__(self):
        """copy.copy: a new tensor over the same memory (PyTorch's goes through its pickling, which shares the
        storage within a process), keeping requires_grad; the grad and history stay with the original."""
        t = self.detach()
        t._requires_grad = self._requires_grad and self._grad_fn is None
        return t

    def __deepcopy__(self, memo):
        if self._grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
                               "because of a torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        t = self.clone().detach()
        t._requires_grad = self._requires_grad
        if self._grad is not None:
            t._grad = self._grad.clone()
        memo[id(self)] = t
        return t

    # ---- conversions to Python and numpy ---------------------------------------------------------------

    def item(self):
        n = self.numel()
        if n != 1:
            raise RuntimeError(f"a Tensor with {n} elements cannot be converted to Scalar"
                               + hint("item() reads a single value; use .tolist() for all of them, or "
                                      "index one element first (x[0].item())."))
        if self._device.type != "cpu":
            return self._host_np().item()
        return self._buf[self._offset].item()

    def tolist(self):
        return self._host_np().tolist()

    def numpy(self, *, force=False):
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                               "instead." + hint("x.detach().numpy() shares memory with x but drops history."))
        if self._device.type != "cpu":
            raise TypeError(f"can't convert {self._device} device type tensor to numpy. Use Tensor.cpu() to "
                            "copy the tensor to host memory first.")
        return self._np()


def _rebuild(array, requires_grad):
    from .ops.creation import from_numpy
    t = from_numpy(array)
    t._requires_grad = requires_grad
    return t


def _call_tensor_hook(hook, grads, nr):
    g = grads[nr]
    if g is not None:
        new = hook(g)
        if new is not None:
            if new._shape != g._shape:
                raise RuntimeError(f"hook '{getattr(hook, '__name__', type(hook).__name__)}' has changed the size of "
                                   f"value" + hint(f"a hook may change a gradient's values, not its shape "
                                                   f"{list(g._shape)} (it returned {list(new._shape)})."))
            grads[nr] = new

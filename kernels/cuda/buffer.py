"""Device memory: a flat 1-D buffer per tensor storage, and what tcli counts of it.

A ``DeviceBuffer`` wraps numba's device array. It answers what tcli's Python code asks of a buffer
(shape, dtype, size in bytes) but refuses to act as host memory: numpy and the CPU kernels cannot read
it, and an op that has no CUDA kernel yet raises a clear NotImplementedError instead of reading device
memory as if it were the host's.
"""

from __future__ import annotations

import sys
import weakref

import numpy as np
from numba import cuda
from numba.extending import typeof_impl

_allocated = [0, 0]  # bytes live now, the most ever live


class _Flags:
    writeable = aligned = True


class DeviceBuffer:
    __slots__ = ("array", "shape", "dtype", "__weakref__")
    flags = _Flags()

    def __init__(self, array, owner=True):
        self.array = array
        self.shape = (array.shape[0],)
        self.dtype = np.dtype(array.dtype)
        if owner:  # views of another buffer's memory (view()) are not counted twice
            nbytes = self.shape[0] * self.dtype.itemsize
            _allocated[0] += nbytes
            _allocated[1] = max(_allocated[1], _allocated[0])
            weakref.finalize(self, _release, nbytes)

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.shape[0] * self.dtype.itemsize

    @property
    def size(self) -> int:
        return self.shape[0]

    def __len__(self):
        return self.shape[0]

    def pointer(self) -> int:
        """The device address of element 0 (the simulator has no device memory: its host copy's address)."""
        interface = getattr(self.array, "__cuda_array_interface__", None)
        if interface is not None:
            return interface["data"][0]
        return self.array._ary.ctypes.data  # numba's simulator keeps a numpy array here

    def __array__(self, *args, **kwargs):
        raise not_supported()

    def __getitem__(self, key):
        raise not_supported()

    def __setitem__(self, key, value):
        raise not_supported()

    def reshape(self, *shape):
        raise not_supported()

    def view(self, dtype):
        """The same memory as another dtype of the same size (kernels that only move bits use it)."""
        return DeviceBuffer(self.array.view(np.dtype(dtype)), owner=False)


def _release(nbytes):
    _allocated[0] -= nbytes


def not_supported() -> NotImplementedError:
    """The error for an op that reached host-only code with a CUDA tensor, naming the op the user called."""
    name = public_caller()
    what = f"'{name}'" if name else "this operation"
    return NotImplementedError(
        f"tcli cannot run {what} on CUDA tensors yet: it has no CUDA kernel."
        "\nhint: move the tensors to the CPU for it with .cpu() (and back with .cuda()), or run on the CPU.")


def public_caller() -> str | None:
    """The outermost tcli function on the stack below the user's code: the op the user called."""
    frame = sys._getframe(2)
    name = None
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("tcli"):
            code = frame.f_code.co_name
            if not code.startswith("_") and not module.startswith("tcli.kernels"):
                owner = frame.f_locals.get("self") if code == "forward" else None
                name = type(owner).__name__ if owner is not None else code  # a layer: its class, not "forward"
        elif name is not None:
            break
        frame = frame.f_back
    return name


@typeof_impl.register(DeviceBuffer)
def _no_cpu_kernel(value, context):
    raise not_supported()


def alloc(n: int, np_dtype) -> DeviceBuffer:
    return DeviceBuffer(cuda.device_array(max(n, 0), np.dtype(np_dtype)))


def from_host(host: np.ndarray) -> DeviceBuffer:
    """A device copy of a C-contiguous 1-D host array."""
    return DeviceBuffer(cuda.to_device(np.ascontiguousarray(host)))


def to_host(buf: DeviceBuffer) -> np.ndarray:
    if buf.shape[0] == 0:
        return np.empty(0, buf.dtype)
    return buf.array.copy_to_host()


_pinned = weakref.WeakValueDictionary()  # id -> host array in page-locked memory
_free_pinned: dict = {}  # nbytes -> page-locked blocks whose arrays died (pinning is slow: blocks are reused)
_POOL_LIMIT = 8  # blocks kept per size: a DataLoader pins the same few batch sizes over and over


def pinned_copy(host: np.ndarray) -> np.ndarray:
    """A copy of a 1-D host array in page-locked memory (from a pool of blocks: a DataLoader pins every batch)."""
    nbytes = host.shape[0] * host.dtype.itemsize
    blocks = _free_pinned.get(nbytes)
    block = blocks.pop() if blocks else cuda.pinned_array(max(nbytes, 1), np.uint8)
    pinned = np.frombuffer(memoryview(block), host.dtype, host.shape[0])  # the array owns the block's lifetime
    pinned[...] = host
    _pinned[id(pinned)] = pinned
    weakref.finalize(pinned, _return_pinned, nbytes, block)
    return pinned


def _return_pinned(nbytes, block):
    blocks = _free_pinned.setdefault(nbytes, [])
    if len(blocks) < _POOL_LIMIT:
        blocks.append(block)


def is_pinned(host) -> bool:
    return _pinned.get(id(host)) is host


def memory_allocated() -> int:
    return _allocated[0]


def max_memory_allocated() -> int:
    return _allocated[1]


def reset_peak_memory_stats() -> None:
    _allocated[1] = _allocated[0]

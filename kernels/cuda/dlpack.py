"""DLPack import of another library's CUDA array (torch.from_dlpack's counterpart, tcli.from_dlpack), through the
array's __cuda_array_interface__: a flat device buffer over its memory, kept alive by the array.

There is no export of CUDA tensors as DLPack capsules yet: a capsule's destructor and the DLManagedTensor's
deleter must be C functions. Python callbacks made with ctypes crash the interpreter when they run while an
exception is pending (a consumer that fails after taking the capsule, or frees it during unwinding).
PyTorch, CuPy and numba take tcli's CUDA tensors without a copy through __cuda_array_interface__ instead.
"""

from __future__ import annotations

import numpy as np
from numba import cuda

from .buffer import DeviceBuffer

_LEGACY_STREAMS = (None, 1, 2)  # no stream, the legacy default, the per-thread default: ordered with tcli's work


def from_interface(obj):
    """(buffer, shape, strides in elements, numpy dtype) sharing the memory of a CUDA array that has a
    __cuda_array_interface__ (PyTorch, CuPy, numba)."""
    desc = getattr(obj, "__cuda_array_interface__", None)
    if desc is None or not hasattr(cuda, "from_cuda_array_interface"):
        raise TypeError(f"tcli takes CUDA arrays through __cuda_array_interface__, which this "
                        f"{type(obj).__name__} does not have here."
                        "\nhint: copy it to the host first (e.g. torch: t.cpu()), then tcli.from_numpy / .cuda().")
    dtype = np.dtype(desc["typestr"])
    shape = tuple(desc["shape"])
    given = desc.get("strides")
    if given is None:
        strides, step = [], 1
        for size in reversed(shape):
            strides.append(step)
            step *= size
        strides = tuple(reversed(strides))
    else:
        if any(s % dtype.itemsize or s < 0 for s in given):
            raise ValueError("tcli cannot view an array whose strides are negative or not whole elements")
        strides = tuple(s // dtype.itemsize for s in given)
    if desc.get("stream") not in _LEGACY_STREAMS:
        cuda.synchronize()  # the producer's work on its own stream finishes before tcli's kernels read the memory
    extent = 1 + sum((n - 1) * s for n, s in zip(shape, strides)) if all(shape) else 0
    flat = {"shape": (extent,), "typestr": dtype.str, "data": (desc["data"][0], False), "strides": None,
            "version": 3}  # no stream: tcli's copies and kernels stay on the default stream
    array = cuda.from_cuda_array_interface(flat, owner=obj) if extent else cuda.device_array(0, dtype)
    return DeviceBuffer(array), shape, strides, dtype

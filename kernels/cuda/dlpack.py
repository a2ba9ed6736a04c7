"""DLPack for device memory: export (a kDLCUDA capsule, so torch.from_dlpack or cupy.from_dlpack take a CUDA
tensor without a copy) and import of another library's CUDA array (through its __cuda_array_interface__).

The capsule holds a DLManagedTensor built with ctypes. Its shape and strides arrays, and the tensor that owns
the memory, stay in ``_live`` until the consumer calls the deleter (or the capsule dies unconsumed).
"""

from __future__ import annotations

import ctypes

import numpy as np
from numba import cuda

from .buffer import DeviceBuffer

KDL_CUDA = 2
_CODES = {"i": 0, "u": 1, "f": 2, "b": 6}  # kDLInt, kDLUInt, kDLFloat, kDLBool


class _Device(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _Tensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", _Device), ("ndim", ctypes.c_int32), ("dtype", _DataType),
                ("shape", ctypes.POINTER(ctypes.c_int64)), ("strides", ctypes.POINTER(ctypes.c_int64)),
                ("byte_offset", ctypes.c_uint64)]


class _Managed(ctypes.Structure):
    pass


_Deleter = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_Managed._fields_ = [("dl_tensor", _Tensor), ("manager_ctx", ctypes.c_void_p), ("deleter", _Deleter)]

_live: dict = {}  # address of an exported DLManagedTensor -> what must outlive it
_NAME = b"dltensor"


def _release(address):
    _live.pop(address, None)


_DELETER = _Deleter(_release)  # called by the consumer when it is done with the memory
_capsule_new = ctypes.pythonapi.PyCapsule_New
_capsule_new.restype, _capsule_new.argtypes = ctypes.py_object, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
_is_valid = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p)(("PyCapsule_IsValid", ctypes.pythonapi))
_pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p)(
    ("PyCapsule_GetPointer", ctypes.pythonapi))


@ctypes.PYFUNCTYPE(None, ctypes.c_void_p)
def _capsule_died(capsule):
    """A capsule nobody consumed (a consumer renames it 'used_dltensor' and calls the deleter itself)."""
    if _is_valid(capsule, _NAME):
        _release(_pointer(capsule, _NAME))


def export(pointer: int, shape, strides, dtype: np.dtype, owner, device_id: int = 0):
    """A DLPack capsule of device memory at ``pointer`` (strides in elements); ``owner`` is kept alive until
    the consumer releases it."""
    n = len(shape)
    managed = _Managed()
    shape_array, strides_array = (ctypes.c_int64 * n)(*shape), (ctypes.c_int64 * n)(*strides)
    tensor = managed.dl_tensor
    tensor.data = pointer or None
    tensor.device = _Device(KDL_CUDA, device_id)
    tensor.ndim = n
    tensor.dtype = _DataType(_CODES[dtype.kind], dtype.itemsize * 8, 1)
    tensor.shape = ctypes.cast(shape_array, ctypes.POINTER(ctypes.c_int64))
    tensor.strides = ctypes.cast(strides_array, ctypes.POINTER(ctypes.c_int64))
    tensor.byte_offset = 0
    managed.deleter = _DELETER
    address = ctypes.addressof(managed)
    _live[address] = (managed, shape_array, strides_array, owner)
    return _capsule_new(address, _NAME, ctypes.cast(_capsule_died, ctypes.c_void_p))


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
    extent = 1 + sum((n - 1) * s for n, s in zip(shape, strides)) if all(shape) else 0
    flat = {"shape": (extent,), "typestr": dtype.str, "data": (desc["data"][0], False), "strides": None,
            "version": 3}
    if desc.get("stream") is not None:
        flat["stream"] = desc["stream"]  # numba waits for the producer's stream
    array = cuda.from_cuda_array_interface(flat, owner=obj) if extent else cuda.device_array(0, dtype)
    return DeviceBuffer(array), shape, strides, dtype

"""DLPack capsules for CUDA tensors (CPU tensors export through numpy's).

A capsule holds a DLManagedTensor: the tensor's pointer, shape and strides, and a deleter the consumer calls when
it lets go. Both that deleter and the capsule's own destructor (for a capsule nobody consumed) must be C code:
they run in other libraries' C++ (perhaps without the GIL) or while an exception is pending, where calling back
into Python through ctypes crashes the interpreter. So they are numba ``cfunc``s that only call the C API: take
the GIL, drop the reference that keeps the tensor alive, release the GIL.

As with any DLPack export, once the consumer lets go the memory returns to tcli's cache at once: a consumer on
a stream of its own must have finished with it (or synchronized) by then.
"""

from __future__ import annotations

import ctypes

import numpy as np

from .errors import hint

_CAPSULE = ctypes.create_string_buffer(b"dltensor")  # the name must outlive every capsule
_KDL_CUDA = 2
_TYPE_CODES = {"i": 0, "u": 1, "f": 2, "b": 6}  # kDLInt, kDLUInt, kDLFloat, kDLBool


class _Device(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", _Device), ("ndim", ctypes.c_int32), ("dtype", _DataType),
                ("shape", ctypes.POINTER(ctypes.c_int64)), ("strides", ctypes.POINTER(ctypes.c_int64)),
                ("byte_offset", ctypes.c_uint64)]


class _ManagedTensor(ctypes.Structure):
    _fields_ = [("dl_tensor", _DLTensor), ("manager_ctx", ctypes.c_void_p), ("deleter", ctypes.c_void_p)]


_MANAGER_CTX_WORD = _ManagedTensor.manager_ctx.offset // 8
_capsule_new = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)(
    ("PyCapsule_New", ctypes.pythonapi))
_capsule_set_context = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.py_object, ctypes.c_void_p)(
    ("PyCapsule_SetContext", ctypes.pythonapi))
_capsule_set_destructor = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.py_object, ctypes.c_void_p)(
    ("PyCapsule_SetDestructor", ctypes.pythonapi))
_incref = ctypes.PYFUNCTYPE(None, ctypes.py_object)(("Py_IncRef", ctypes.pythonapi))
_decref = ctypes.PYFUNCTYPE(None, ctypes.py_object)(("Py_DecRef", ctypes.pythonapi))


class _Export:
    """What a capsule keeps alive: the tensor (so its device memory) and the structures the consumer reads."""

    def __init__(self, tensor, managed, shape, strides):
        self.tensor, self.managed, self.shape, self.strides = tensor, managed, shape, strides


_cfuncs: list = []


def _native_functions():
    """(deleter, capsule destructor) as numba cfuncs, compiled on first use (~0.1 s): never cached on disk, since
    they hold this process's addresses of the C API."""
    if not _cfuncs:
        from numba import cfunc, types

        def c_api(name, restype, *argtypes):  # pointers as int64: the same in the C calling convention
            return ctypes.CFUNCTYPE(restype, *argtypes)(ctypes.cast(getattr(ctypes.pythonapi, name),
                                                                    ctypes.c_void_p).value)

        i64 = ctypes.c_int64
        gil_ensure = c_api("PyGILState_Ensure", ctypes.c_int)
        gil_release = c_api("PyGILState_Release", None, ctypes.c_int)
        decref = c_api("Py_DecRef", None, i64)
        is_valid = c_api("PyCapsule_IsValid", ctypes.c_int, i64, i64)
        context = c_api("PyCapsule_GetContext", i64, i64)
        name = ctypes.addressof(_CAPSULE)
        word = _MANAGER_CTX_WORD

        @cfunc(types.void(types.CPointer(types.int64)))
        def deleter(managed):  # the consumer is done with the memory
            state = gil_ensure()
            decref(managed[word])
            gil_release(state)

        @cfunc(types.void(types.int64))
        def destructor(capsule):  # the capsule dies; a consumer renames a capsule it took ("used_dltensor")
            if is_valid(capsule, name):
                decref(context(capsule))

        _cfuncs.extend([deleter, destructor])
    return _cfuncs


def cuda_capsule(tensor, stream=None):
    """A DLPack capsule over a CUDA tensor's memory (no copy). ``stream`` is the consumer's (the protocol's
    codes: None or 1 the legacy default stream, where tcli works; 2 the per-thread default, ordered with it; -1
    no ordering; else a stream pointer, which then waits for the work tcli has queued)."""
    if stream == 0:
        raise BufferError("stream=0 is ambiguous in the DLPack protocol"
                          + hint("pass 1 for the legacy default stream, 2 for the per-thread one, or -1."))
    if stream is not None and stream not in (-1, 1, 2):
        from . import cuda
        cuda.backend().make_stream_wait(stream)
    deleter, destructor = _native_functions()
    ndim = tensor.dim()
    shape = (ctypes.c_int64 * max(ndim, 1))(*tensor._shape)
    strides = (ctypes.c_int64 * max(ndim, 1))(*tensor._strides)
    dtype = np.dtype(tensor._dtype.np)
    managed = _ManagedTensor()
    dl = managed.dl_tensor
    dl.data = tensor.data_ptr() if tensor.numel() else None
    dl.device = _Device(_KDL_CUDA, tensor._device.index or 0)
    dl.ndim = ndim
    dl.dtype = _DataType(_TYPE_CODES[dtype.kind], dtype.itemsize * 8, 1)
    dl.shape = ctypes.cast(shape, ctypes.POINTER(ctypes.c_int64))
    dl.strides = ctypes.cast(strides, ctypes.POINTER(ctypes.c_int64))
    owner = _Export(tensor, managed, shape, strides)
    managed.manager_ctx = id(owner)
    managed.deleter = deleter.address
    _incref(owner)  # the capsule's (then the consumer's) reference, which the C functions above drop
    held = False
    try:
        capsule = _capsule_new(ctypes.addressof(managed), ctypes.addressof(_CAPSULE), None)
        _capsule_set_context(capsule, id(owner))
        held = _capsule_set_destructor(capsule, destructor.address) == 0  # from now on the capsule drops it
    finally:
        if not held:  # an error (or Ctrl-C) before the capsule took the reference
            _decref(owner)
    return capsule

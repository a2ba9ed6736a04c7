"""DLPack for CUDA tensors: the capsule tcli exports (kDLCUDA, shape, strides, dtype, owner kept alive until the
consumer lets go), PyTorch taking it without a copy on a GPU, and tcli taking PyTorch's CUDA tensors."""

import ctypes
import gc

import numpy as np
import pytest

import tcli

dlpack = tcli.cuda.backend().dlpack
_get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_get_pointer.restype, _get_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
_set_name = ctypes.pythonapi.PyCapsule_SetName
_set_name.restype, _set_name.argtypes = ctypes.c_int, [ctypes.py_object, ctypes.c_char_p]


def _consume(capsule):
    """What a consumer does: read the DLManagedTensor, mark the capsule used; returns (tensor fields, release)."""
    managed = dlpack._Managed.from_address(_get_pointer(capsule, b"dltensor"))
    _set_name(capsule, b"used_dltensor")
    t = managed.dl_tensor
    fields = dict(data=t.data, device=(t.device.device_type, t.device.device_id), ndim=t.ndim,
                  dtype=(t.dtype.code, t.dtype.bits, t.dtype.lanes), shape=[t.shape[i] for i in range(t.ndim)],
                  strides=[t.strides[i] for i in range(t.ndim)], offset=t.byte_offset)
    return fields, lambda: managed.deleter(ctypes.addressof(managed))


@pytest.mark.parametrize("dtype, code", [(tcli.float32, (2, 32, 1)), (tcli.int64, (0, 64, 1)),
                                         (tcli.bool, (6, 8, 1)), (tcli.float16, (2, 16, 1))])
def test_a_cuda_tensor_exports_a_kdlcuda_capsule(dtype, code):
    base = tcli.arange(24, device="cuda").reshape(4, 6).to(dtype)
    view = base.t()[1:]  # strided, with an offset
    assert view.__dlpack_device__() == (2, 0)
    live = len(dlpack._live)
    fields, release = _consume(view.__dlpack__())
    assert fields == dict(data=view.data_ptr(), device=(2, 0), ndim=2, dtype=code, shape=[5, 4], strides=[1, 6],
                          offset=0)
    del view, base
    gc.collect()
    assert len(dlpack._live) == live + 1  # the consumer holds the memory: the tensor stays alive
    release()
    assert len(dlpack._live) == live


def test_a_capsule_nobody_consumed_lets_go_of_the_tensor():
    live = len(dlpack._live)
    capsule = tcli.ones(3, device="cuda").__dlpack__()
    assert len(dlpack._live) == live + 1
    del capsule
    gc.collect()
    assert len(dlpack._live) == live


def test_export_refuses_a_tensor_that_requires_grad():
    with pytest.raises(BufferError, match="require gradient"):
        tcli.ones(2, device="cuda", requires_grad=True).__dlpack__()


def test_a_cuda_array_without_an_interface_gets_a_clear_error():
    class OpaqueCudaArray:
        def __dlpack_device__(self):
            return (2, 0)

    with pytest.raises(TypeError, match="__cuda_array_interface__"):
        tcli.from_dlpack(OpaqueCudaArray())


def _torch_cuda():
    torch = pytest.importorskip("torch")
    if tcli.cuda.backend().launch.SIMULATOR or not torch.cuda.is_available():
        pytest.skip("needs PyTorch with a GPU (the simulator's 'device' memory is host memory)")
    return torch


def test_pytorch_takes_a_cuda_tensor_without_a_copy():
    torch = _torch_cuda()
    t = tcli.arange(12.0, device="cuda").reshape(3, 4)
    shared = torch.from_dlpack(t.t())
    assert shared.device.type == "cuda" and shared.shape == (4, 3) and shared.stride() == (1, 4)
    shared.mul_(10)
    torch.cuda.synchronize()
    np.testing.assert_array_equal(t.cpu().numpy(), np.arange(12.0, dtype=np.float32).reshape(3, 4) * 10)


def test_tcli_takes_a_pytorch_cuda_tensor_without_a_copy():
    torch = _torch_cuda()
    source = torch.arange(12, dtype=torch.float32, device="cuda").reshape(3, 4).t()
    t = tcli.from_dlpack(source)
    assert t.device == tcli.device("cuda", 0) and t.shape == (4, 3) and t.stride() == (1, 4)
    t.add_(1)
    np.testing.assert_array_equal(source.cpu().numpy(), np.arange(12.0).reshape(3, 4).T + 1)

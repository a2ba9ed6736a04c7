"""DLPack and CUDA tensors: tcli takes another library's CUDA arrays without a copy (through their
__cuda_array_interface__) and gives its own as DLPack capsules or through that interface."""

import ctypes
import gc
import weakref

import numba.cuda
import numpy as np
import pytest

import tcli


def _read(capsule):
    """The DLManagedTensor inside a capsule, read as a consumer would."""
    from tcli._dlpack import _ManagedTensor
    get = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.py_object, ctypes.c_char_p)(("PyCapsule_GetPointer",
                                                                                ctypes.pythonapi))
    return _ManagedTensor.from_address(get(capsule, b"dltensor"))


@pytest.mark.parametrize("dtype, code", [(tcli.float32, 2), (tcli.int64, 0), (tcli.uint8, 1), (tcli.bool, 6),
                                         (tcli.float16, 2)])
def test_a_capsule_describes_the_tensors_device_memory(dtype, code):
    """A strided view goes out as it is: data pointer of its first element, element strides, kDLCUDA."""
    base = tcli.arange(24, device="cuda").reshape(4, 6).to(dtype)
    view = base[1:, ::2].t()
    assert view.__dlpack_device__() == (2, 0)  # kDLCUDA
    capsule = view.__dlpack__(stream=-1)  # held: its structures die with it
    dl = _read(capsule).dl_tensor
    assert (dl.device.device_type, dl.device.device_id) == (2, 0)
    assert dl.ndim == 2 and [dl.shape[i] for i in range(2)] == [3, 3] and [dl.strides[i] for i in range(2)] == [2, 6]
    assert (dl.dtype.code, dl.dtype.bits, dl.dtype.lanes) == (code, 8 * dtype.itemsize, 1)
    assert dl.data == view.data_ptr() == base.data_ptr() + 6 * dtype.itemsize and dl.byte_offset == 0


def test_a_capsule_keeps_the_memory_until_its_consumer_lets_go():
    """The tensor lives while the capsule does; a consumer takes the capsule (renames it) and calls the deleter
    when done, and only then is the device memory let go."""
    t = tcli.ones(1000, device="cuda")
    memory = weakref.ref(t._buf)
    unused = t.__dlpack__()
    del t
    gc.collect()
    assert memory() is not None  # the capsule holds it
    del unused
    gc.collect()
    assert memory() is None  # an unconsumed capsule lets go when it dies

    t = tcli.ones(1000, device="cuda")
    memory = weakref.ref(t._buf)
    capsule = t.__dlpack__()
    managed = _read(capsule)
    ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.py_object, ctypes.c_char_p)(("PyCapsule_SetName", ctypes.pythonapi))(
        capsule, b"used_dltensor")
    del t, capsule
    gc.collect()
    assert memory() is not None  # consumed: the consumer holds it now
    ctypes.CFUNCTYPE(None, ctypes.c_void_p)(managed.deleter)(ctypes.addressof(managed))
    gc.collect()
    assert memory() is None


def test_a_capsule_dropped_while_an_exception_unwinds_lets_go_cleanly():
    t = tcli.ones(1000, device="cuda")
    memory = weakref.ref(t._buf)

    def export_then_fail(tensor):
        capsule = tensor.__dlpack__()  # noqa: F841  (dies with the frame, during the unwinding)
        raise ValueError("consumer failed")

    with pytest.raises(ValueError):
        export_then_fail(t)
    del t
    gc.collect()
    assert memory() is None


def test_streams_follow_the_protocol():
    """1 and 2 (the default streams) need no ordering, -1 asks for none, 0 is ambiguous and refused; another
    stream waits for tcli's queued work (the simulator, without streams, waits for everything)."""
    t = tcli.ones(3, device="cuda")
    for stream in (None, 1, 2, -1):
        assert _read(capsule := t.__dlpack__(stream=stream)).dl_tensor.ndim == 1
    with pytest.raises(BufferError, match="(?s)stream=0 is ambiguous.*hint: "):
        t.__dlpack__(stream=0)
    if not hasattr(numba.cuda, "external_stream"):
        synchronized = []
        original = numba.cuda.synchronize
        numba.cuda.synchronize = lambda: synchronized.append(True) or original()
        try:
            capsule = t.__dlpack__(stream=12345)
        finally:
            numba.cuda.synchronize = original
        assert synchronized and _read(capsule).dl_tensor.ndim == 1


def test_a_capsule_for_another_device_is_refused_and_copy_exports_a_copy():
    t = tcli.zeros(3, device="cuda")
    with pytest.raises(BufferError, match="(?s)device \\(1, 0\\).*hint: "):
        t.__dlpack__(dl_device=(1, 0))
    capsule = t.__dlpack__(copy=True, max_version=(1, 0))
    assert _read(capsule).dl_tensor.data != t.data_ptr()


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
    shared = torch.as_tensor(t.t(), device="cuda")
    assert shared.shape == (4, 3) and shared.stride() == (1, 4)
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


def test_pytorch_takes_a_dlpack_capsule_without_a_copy():
    torch = _torch_cuda()
    t = tcli.arange(12.0, device="cuda").reshape(3, 4)
    shared = torch.from_dlpack(t.t())
    assert shared.device.type == "cuda" and shared.shape == (4, 3) and shared.stride() == (1, 4)
    shared.mul_(10)
    torch.cuda.synchronize()
    np.testing.assert_array_equal(t.cpu().numpy(), np.arange(12.0, dtype=np.float32).reshape(3, 4) * 10)

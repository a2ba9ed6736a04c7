"""DLPack and CUDA tensors: tcli takes another library's CUDA arrays without a copy (through their
__cuda_array_interface__); exporting a CUDA tensor as a capsule is refused with a pointer to the interface."""

import numpy as np
import pytest

import tcli


def test_a_cuda_tensor_names_its_device_and_refuses_a_dlpack_capsule():
    t = tcli.ones(3, device="cuda")
    assert t.__dlpack_device__() == (2, 0)  # kDLCUDA
    with pytest.raises(BufferError, match="(?s)cannot export CUDA tensors.*hint: .*__cuda_array_interface__"):
        t.__dlpack__()


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

"""Training on the CUDA device gives the CPU's numbers: the tutorial's hand-written loop, and nn + optim.

The data are drawn on the CPU and moved: the CUDA generator draws other numbers (test_cuda_random.py)."""

import numpy as np
import pytest

import tcli
import tcli.nn as nn
import tcli.nn.functional as F


def _tutorial(device, steps=4):
    tcli.manual_seed(0)
    x, y = tcli.randn(16, 20).to(device), tcli.randn(16, 3).to(device)
    w1 = tcli.randn(20, 10).to(device).requires_grad_()
    w2 = tcli.randn(10, 3).to(device).requires_grad_()
    losses = []
    for _ in range(steps):
        loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with tcli.no_grad():
            w1 -= 1e-4 * w1.grad
            w2 -= 1e-4 * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
    assert w1.device.type == device and w1.grad.device.type == device
    return losses, w1.detach().cpu()


def test_the_tutorial_loop_matches_the_cpu():
    cpu_losses, cpu_w1 = _tutorial("cpu")
    gpu_losses, gpu_w1 = _tutorial("cuda")
    np.testing.assert_allclose(gpu_losses, cpu_losses, rtol=1e-5)
    np.testing.assert_allclose(gpu_w1.tolist(), cpu_w1.tolist(), rtol=1e-4, atol=1e-6)
    assert gpu_losses[-1] < gpu_losses[0]


@pytest.mark.parametrize("make_optimizer", [
    lambda p: tcli.optim.SGD(p, lr=0.05, momentum=0.9),
    lambda p: tcli.optim.Adam(p, lr=0.01),
    lambda p: tcli.optim.AdamW(p, lr=0.01, weight_decay=0.1, amsgrad=True),
    lambda p: tcli.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda p: tcli.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    lambda p: tcli.optim.Adagrad(p, lr=0.1, weight_decay=0.01),
], ids=["sgd-momentum", "adam", "adamw-amsgrad", "sgd-nesterov", "rmsprop-centered", "adagrad"])
def test_a_classifier_trains_the_same_on_both_devices(make_optimizer):
    def run(device):
        tcli.manual_seed(1)
        model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)).to(device)
        optimizer = make_optimizer(model.parameters())
        x = tcli.randn(12, 6).to(device)
        target = tcli.randint(0, 3, (12,)).to(device)
        losses = []
        for _ in range(3):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), target)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        assert all(p.device.type == device for p in model.parameters())
        assert all(s.device.type == device for st in optimizer.state.values() for s in st.values()
                   if isinstance(s, tcli.Tensor) and s.dim())
        return losses, [p.detach().cpu().tolist() for p in model.parameters()]

    cpu_losses, cpu_params = run("cpu")
    gpu_losses, gpu_params = run("cuda")
    np.testing.assert_allclose(gpu_losses, cpu_losses, rtol=1e-5)
    for got, want in zip(gpu_params, cpu_params):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_module_to_and_state_dict_across_devices():
    model = nn.Linear(3, 2)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    model.cuda()
    assert model.weight.device.type == "cuda" and isinstance(model.weight, nn.Parameter)
    assert model.weight.requires_grad
    on_gpu = model.state_dict()
    assert all(v.device.type == "cuda" for v in on_gpu.values())
    model.cpu()
    assert all(model.state_dict()[k].tolist() == v.tolist() for k, v in state.items())
    fresh = nn.Linear(3, 2).cuda()
    fresh.load_state_dict(state)  # CPU tensors load into CUDA parameters, as in PyTorch
    assert fresh.weight.device.type == "cuda" and fresh.weight.cpu().tolist() == state["weight"].tolist()


def test_optimizer_state_loads_onto_the_parameters_device():
    model = nn.Linear(3, 2).cuda()
    opt = tcli.optim.Adam(model.parameters(), lr=0.01)
    F.mse_loss(model(tcli.randn(4, 3, device="cuda")), tcli.zeros(4, 2, device="cuda")).backward()
    opt.step()
    fresh = tcli.optim.Adam(model.parameters(), lr=0.01)
    fresh.load_state_dict(opt.state_dict())  # CUDA state into CUDA parameters
    state = fresh.state[model.weight]
    assert state["exp_avg"].device.type == "cuda" and state["step"].device.type == "cpu"
    cpu_model = nn.Linear(3, 2)
    cpu_opt = tcli.optim.Adam(cpu_model.parameters(), lr=0.01)
    F.mse_loss(cpu_model(tcli.randn(4, 3)), tcli.zeros(4, 2)).backward()
    cpu_opt.step()
    gpu_opt = tcli.optim.Adam(cpu_model.cuda().parameters(), lr=0.01)
    gpu_opt.load_state_dict(cpu_opt.state_dict())  # a CPU checkpoint into CUDA parameters
    assert gpu_opt.state[cpu_model.weight]["exp_avg_sq"].device.type == "cuda"

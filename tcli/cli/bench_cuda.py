"""``tcli bench --device cuda``: tcli's CUDA kernels against PyTorch's on the same GPU, in the same process.

Every call ends with a device synchronize, so a time covers the work and not just the launch. The targets
are the CUDA issue's: elementwise add at 70% of PyTorch's bandwidth, SGEMM (PyTorch with TF32 off) at 40% of
its FLOP/s, a host-to-device copy from pinned memory at 80% of PyTorch's; the training steps are
reported without a target. Under numba's simulator the sizes shrink to a smoke test of the same code.
"""

from __future__ import annotations

from ..cuda import _simulated
from .bench import Libs, Target, Workload


def _size(real: int, simulated: int) -> int:
    return simulated if _simulated() else real


def _torch_cuda(libs: Libs):
    """torch when it can run on a GPU here, else None (its column stays empty)."""
    torch = libs.torch
    if torch is None or not torch.cuda.is_available():
        return None
    torch.backends.cuda.matmul.allow_tf32 = False  # the FP32 reference the targets are about
    torch.backends.cudnn.allow_tf32 = False
    return torch


def _synced(mod, fn):
    sync = mod.cuda.synchronize

    def call():
        fn()
        sync()

    return call


def _candidates(libs: Libs, make):
    """{'tcli': ..., 'torch': ...} of make(module) synchronized calls (torch only where it has a GPU)."""
    torch = _torch_cuda(libs)
    return libs.build(tcli=lambda: _synced(libs.tcli, make(libs.tcli)),
                      torch=(lambda: _synced(torch, make(torch))) if torch is not None else None)


def _on_device(shapes: list[tuple[int, ...]], op, seed: int):
    """A setup where tcli and torch run ``op(*tensors)`` on CUDA copies of float32 data of these shapes."""
    def setup(libs: Libs):
        arrays = [libs.data(*shape, seed=seed + i) for i, shape in enumerate(shapes)]

        def make(mod):
            tensors = [mod.from_numpy(a).cuda() for a in arrays]
            return lambda: op(*tensors)

        return _candidates(libs, make)
    return setup


def _add(n: int):
    return _on_device([(n,), (n,)], lambda x, y: x + y, seed=1)


def _sgemm(n: int):
    return _on_device([(n, n), (n, n)], lambda x, y: x @ y, seed=3)


def _host_to_device(n: int):
    def setup(libs: Libs):
        host = libs.data(n, seed=5)

        def make(mod):
            src = mod.from_numpy(host).pin_memory()
            return lambda: src.to("cuda", non_blocking=True)

        return _candidates(libs, make)
    return setup


def _randn(n: int):
    def setup(libs: Libs):
        def make(mod):
            mod.manual_seed(0)
            return lambda: mod.randn(n, device="cuda")

        return _candidates(libs, make)
    return setup


def _two_layer(libs: Libs):
    n, d_in, hidden, d_out = _size(64, 4), _size(1000, 16), _size(100, 8), _size(10, 2)
    x, y = libs.data(n, d_in, seed=1), libs.data(n, d_out, seed=2)
    w1, w2 = libs.data(d_in, hidden, seed=3), libs.data(hidden, d_out, seed=4)

    def make(mod):
        xd, yd = mod.from_numpy(x).cuda(), mod.from_numpy(y).cuda()
        a, b = mod.from_numpy(w1.copy()).cuda().requires_grad_(), mod.from_numpy(w2.copy()).cuda().requires_grad_()

        def step():
            loss = (xd.mm(a).clamp(min=0).mm(b) - yd).pow(2).sum()
            loss.backward()
            with mod.no_grad():
                a.sub_(1e-6 * a.grad)
                b.sub_(1e-6 * b.grad)
                a.grad.zero_()
                b.grad.zero_()

        return step

    return _candidates(libs, make)


def _mlp_sgd(libs: Libs):
    batch, features, width = _size(128, 4), _size(784, 16), _size(256, 8)
    x = libs.data(batch, features, seed=6)
    labels = libs.np.random.default_rng(7).integers(0, 10, batch)

    def make(mod):
        mod.manual_seed(0)
        model = mod.nn.Sequential(mod.nn.Linear(features, width), mod.nn.ReLU(), mod.nn.Linear(width, 10)).cuda()
        opt = mod.optim.SGD(model.parameters(), lr=0.01)
        xb, yb = mod.from_numpy(x).cuda(), mod.from_numpy(labels).cuda()

        def step():
            opt.zero_grad()
            mod.nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()

        return step

    return _candidates(libs, make)


def cuda_workloads() -> list[Workload]:
    add_n, gemm_n, copy_n, rand_n = _size(10**8, 4096), _size(4096, 32), _size(256 * 2**20, 2**16), _size(10**7, 512)
    sort_n = _size(10**6, 200)
    return [
        Workload("cuda_add_1e8" if not _simulated() else "cuda_add", _add(add_n), Target(1.43),
                 note=f"{add_n:,} float32, fresh output; target: 70% of torch's bandwidth"),
        Workload("cuda_add_small", _add(1024),
                 note="1,024 float32: the cost of one op (allocation, launch, tcli's Python), not of its kernel"),
        Workload(f"cuda_sgemm_{gemm_n}", _sgemm(gemm_n), Target(2.5), flops=2.0 * gemm_n ** 3,
                 note="float32, torch with TF32 off; target: 40% of torch's FLOP/s"),
        Workload("cuda_h2d_copy", _host_to_device(copy_n), Target(1.25),
                 note=f"{copy_n * 4 / 2**20:g} MiB pinned host to device; target: 80% of torch"),
        Workload("cuda_randn_1e7" if not _simulated() else "cuda_randn", _randn(rand_n),
                 note=f"{rand_n:,} normal float32 drawn on the device (Philox, PyTorch's scheme)"),
        Workload("cuda_mask_select_1e7" if not _simulated() else "cuda_mask_select",
                 _on_device([(rand_n,)], lambda x: x[x > 0], seed=8),
                 note=f"x[x > 0] of {rand_n:,} float32: a stream compaction, one count read back"),
        Workload("cuda_sort_1e6" if not _simulated() else "cuda_sort",
                 _on_device([(sort_n,)], lambda x: x.sort(), seed=9),
                 note=f"sort of {sort_n:,} float32 with indices: runs of 1024 in shared memory, then merges"),
        Workload("cuda_two_layer_step", _two_layer, note="the tutorial step (64x1000 -> 100 -> 10) on the GPU"),
        Workload("cuda_mlp_sgd_step", _mlp_sgd, note="784-256-10, batch 128, cross_entropy, SGD"),
    ]

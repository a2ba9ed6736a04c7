"""CUDA device semantics: moving tensors, creation on the device, printing, queries, memory, errors.

Runs where tcli sees a CUDA device (a GPU, or numba's simulator: see tests/test_cuda_simulator.py)."""

import numpy as np
import pytest
from numba import config, cuda

import tcli

CUDA = tcli.device("cuda", 0)


@pytest.mark.parametrize("dtype", [tcli.float32, tcli.float64, tcli.float16, tcli.int64, tcli.int32, tcli.uint8,
                                   tcli.bool])
def test_round_trip_keeps_values_dtype_and_shape(dtype):
    host = tcli.tensor(np.arange(-6, 6).reshape(3, 4) % 5 - 1).to(dtype)
    dev = host.to("cuda")
    assert dev.device == CUDA and dev.is_cuda and not dev.is_cpu and str(dev.device) == "cuda:0"
    assert dev.dtype is dtype and dev.shape == host.shape
    back = dev.cpu()
    assert back.device.type == "cpu" and back.dtype is dtype
    assert back.tolist() == host.tolist()


def test_every_way_to_move():
    t = tcli.tensor([1.0, 2.0, 3.0])
    for moved in (t.cuda(), t.to("cuda"), t.to("cuda:0"), t.to(CUDA), t.to(device="cuda"), t.cuda(0),
                  t.to(tcli.zeros(1, device="cuda")), t.to("cuda", tcli.float64)):
        assert moved.device == CUDA and moved.cpu().tolist() == [1.0, 2.0, 3.0]
    g = t.cuda()
    assert g.cuda() is g and t.cpu() is t  # already there: the same tensor, as in PyTorch
    assert t.to("cuda", tcli.float64).dtype is tcli.float64
    view = tcli.arange(12.0).reshape(3, 4).t()[1:]  # a strided view moves as its values
    assert view.cuda().cpu().tolist() == view.tolist()
    assert view.cuda().is_contiguous()


def test_creation_functions_take_the_device():
    for t in (tcli.zeros(2, 3, device="cuda"), tcli.ones(2, 3, device=CUDA), tcli.full((2, 3), 7.0, device="cuda"),
              tcli.empty(2, 3, device="cuda"), tcli.tensor([[1, 2, 3], [4, 5, 6]], device="cuda"),
              tcli.arange(6, device="cuda").reshape(2, 3), tcli.eye(2, 3, device="cuda"),
              tcli.rand(2, 3, device="cuda"), tcli.randn(2, 3, device="cuda"),
              tcli.randint(0, 5, (2, 3), device="cuda")):
        assert t.device == CUDA and t.shape == (2, 3)
    assert tcli.full((2,), 7.0, device="cuda").tolist() == [7.0, 7.0]
    assert tcli.eye(2, device="cuda").tolist() == [[1.0, 0.0], [0.0, 1.0]]
    like = tcli.zeros(4, device="cuda")
    assert tcli.ones_like(like).device == CUDA and tcli.rand_like(like).device == CUDA
    assert sorted(tcli.randperm(6, device="cuda").tolist()) == list(range(6))


def test_set_default_device():
    try:
        tcli.set_default_device("cuda")
        assert tcli.zeros(2).device == CUDA and tcli.tensor([1.0]).device == CUDA
    finally:
        tcli.set_default_device("cpu")
    assert tcli.zeros(2).device.type == "cpu"


def test_printing_has_the_device_suffix():
    assert repr(tcli.tensor([1.0, 2.5]).cuda()) == "tensor([1.0000, 2.5000], device='cuda:0')"
    assert repr(tcli.tensor([1, 2]).cuda()) == "tensor([1, 2], device='cuda:0')"
    w = tcli.ones(2, device="cuda", requires_grad=True)
    assert repr(w) == "tensor([1., 1.], device='cuda:0', requires_grad=True)"
    assert repr(w * 2) == "tensor([2., 2.], device='cuda:0', grad_fn=<MulBackward0>)"
    assert str(tcli.zeros(2, dtype=tcli.float64, device="cuda")) == (
        "tensor([0., 0.], device='cuda:0', dtype=torch.float64)")
    assert "cuda:0" in tcli.ones(3, device="cuda").__rich__().renderables[0].plain


def test_reading_values_copies_to_the_host():
    t = tcli.tensor([[1.5, 2.0], [3.0, 4.0]], device="cuda")
    assert t[1, 0].item() == 3.0 and float(t[0, 0]) == 1.5 and t.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    assert bool(t.sum() > 0)
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu"):
        t.numpy()
    assert np.asarray(t.cpu()).tolist() == t.tolist()


def test_queries():
    assert tcli.cuda.is_available() and tcli.cuda.device_count() >= 1
    assert tcli.cuda.current_device() == 0 and isinstance(tcli.cuda.get_device_name(), str)
    tcli.cuda.synchronize()
    tcli.cuda.manual_seed(0)
    tcli.cuda.manual_seed_all(0)
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        tcli.zeros(1, device=f"cuda:{tcli.cuda.device_count()}")


def test_memory_allocated_follows_live_tensors():
    import gc
    gc.collect()
    before = tcli.cuda.memory_allocated()
    t = tcli.empty(1000, device="cuda")
    assert tcli.cuda.memory_allocated() == before + 4096  # a 512-byte multiple, as in PyTorch
    assert tcli.cuda.max_memory_allocated() >= before + 4096
    del t
    gc.collect()
    assert tcli.cuda.memory_allocated() == before


def test_freed_blocks_are_cached_and_reused_until_empty_cache():
    import gc
    gc.collect()
    tcli.cuda.empty_cache()
    assert tcli.cuda.memory_reserved() == tcli.cuda.memory_allocated()
    t = tcli.full((3000,), 7.0, device="cuda")
    address = t.data_ptr()
    del t
    gc.collect()
    assert tcli.cuda.memory_reserved() == tcli.cuda.memory_allocated() + 12288  # kept for the next request
    u = tcli.zeros(2950, device="cuda")  # the same 512-byte size class: the same block, zeroed
    assert u.data_ptr() == address and tcli.cuda.memory_reserved() == tcli.cuda.memory_allocated()
    assert u.sum().item() == 0.0
    del u
    gc.collect()
    tcli.cuda.empty_cache()
    assert tcli.cuda.memory_reserved() == tcli.cuda.memory_allocated()


def test_a_freed_block_of_the_same_shape_is_preferred():
    """Within a size class, the block whose array already has the asked shape and dtype is reused as it is."""
    buffer = tcli.cuda.backend().buffer
    buffer.empty_cache()
    first, second = buffer.alloc(1000, np.float32), buffer.alloc(1010, np.float32)  # one 4096-byte class
    arrays = first.array, second.array
    del first, second
    again = buffer.alloc(1000, np.float32)
    assert again.array is arrays[0] and again.shape == (1000,)
    other = buffer.alloc(1010, np.float32)
    assert other.array is arrays[1]


def test_block_sizes_waste_at_most_a_quarter():
    block_size = tcli.cuda.backend().buffer.block_size
    for nbytes in [1, 511, 512, 513, 4000, 2**20, 2**20 + 1, 3 * 2**20 + 7, 10**8 * 4, 2**33 - 1]:
        size = block_size(nbytes)
        assert size >= nbytes and size % 512 == 0 and (size - nbytes < 512 or size <= 1.25 * nbytes)


def test_mixing_devices_raises_pytorchs_error_with_a_hint():
    a, b = tcli.tensor([1.0, 2.0]), tcli.tensor([1.0, 2.0], device="cuda")
    for attempt in (lambda: a + b, lambda: b * a, lambda: tcli.mm(a[None], b[:, None]), lambda: b.sub_(a)):
        with pytest.raises(RuntimeError) as info:
            attempt()
        text = str(info.value)
        assert "Expected all tensors to be on the same device, but found at least two devices" in text
        assert "cuda:0" in text and "cpu" in text and "\nhint: " in text
    assert (a.to(b.device) + b).device == CUDA
    c = tcli.zeros(2, device="cuda")
    c.copy_(a)  # copy_ crosses devices, as in PyTorch
    assert c.tolist() == [1.0, 2.0]


def test_ops_without_a_cuda_kernel_run_on_the_host_and_warn_once(monkeypatch):
    from tcli.kernels.cuda import index
    from tcli.kernels.cuda.fallback import HostFallbackWarning, _warned
    # 16-bit adds swap whole 32-bit words; memory that is not a block of ours (another library's) goes to the host
    monkeypatch.setattr(index, "words", lambda buf: None)
    _warned.discard("scatter_add")
    x = tcli.zeros(5, dtype=tcli.int16)
    index, src = tcli.tensor([0, 2, 2, 4]), tcli.tensor([1, 2, 3, 4], dtype=tcli.int16)
    with pytest.warns(HostFallbackWarning, match="no CUDA kernel for 'scatter_add' yet: it ran on the host"):
        got = x.cuda().scatter_add(0, index.cuda(), src.cuda())
    assert got.device == CUDA and got.cpu().tolist() == x.scatter_add(0, index, src).tolist() == [1, 0, 5, 0, 4]
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", HostFallbackWarning)  # the second time is quiet
        x.cuda().scatter_add(0, index.cuda(), src.cuda())
    _warned.discard("index_add")
    with pytest.warns(HostFallbackWarning, match="no CUDA kernel for 'index_add' yet"):  # through a method's wrapper
        x.cuda().index_add_(0, index.cuda(), src.cuda())


def test_a_device_buffer_never_reaches_a_cpu_kernel():
    """The safety net: device memory handed to a CPU kernel raises instead of being read as host memory."""
    from tcli.kernels import cpu
    t = tcli.ones(4, device="cuda")
    out = tcli.empty(1)
    with pytest.raises(NotImplementedError, match="on CUDA tensors yet"):
        cpu.reduce("sum", out._buf, t._buf, 1, 4, 1)
    with pytest.raises(NotImplementedError):
        np.asarray(t._buf)
    with pytest.raises(TypeError, match="apply_ is only implemented on CPU tensors"):
        t.apply_(lambda v: v)


def test_autograd_crosses_devices():
    w = tcli.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (w.cuda() * 2).sum()
    assert y.device == CUDA and y.grad_fn.name() == "SumBackward0"
    y.backward()
    assert w.grad.device.type == "cpu" and w.grad.tolist() == [2.0, 2.0, 2.0]
    g = tcli.ones(3, device="cuda", requires_grad=True)
    (g.cpu() ** 2).sum().backward()
    assert g.grad.device == CUDA and g.grad.tolist() == [2.0, 2.0, 2.0]


def test_save_and_load_cuda_tensors(tmp_path):
    """A CUDA model's state_dict saves with PyTorch's 'cuda:0' location and loads back on the GPU; views of one
    storage stay views of one device buffer; map_location moves storages either way."""
    base = tcli.arange(12.0, device="cuda")
    state = {"w": base.view(3, 4), "row": base[4:8], "ids": tcli.tensor([3, 1], device="cuda"), "cpu": tcli.ones(2)}
    path = tmp_path / "state.pt"
    tcli.save(state, path)
    loaded = tcli.load(path)
    assert loaded["w"].device == CUDA and loaded["ids"].device == CUDA and loaded["cpu"].device.type == "cpu"
    assert loaded["w"].tolist() == state["w"].tolist() and loaded["row"].tolist() == [4.0, 5.0, 6.0, 7.0]
    loaded["w"][1, 0] = -1.0  # the views share one device buffer, as they did when saved
    assert loaded["row"][0].item() == -1.0
    on_cpu = tcli.load(path, map_location="cpu")
    assert on_cpu["w"].device.type == "cpu" and on_cpu["w"].tolist() == state["w"].tolist()
    assert tcli.load(path, map_location="cuda")["cpu"].device == CUDA
    model = tcli.nn.Linear(3, 2).cuda()
    tcli.save(model.state_dict(), tmp_path / "model.pt")
    fresh = tcli.nn.Linear(3, 2).cuda()
    fresh.load_state_dict(tcli.load(tmp_path / "model.pt"))
    assert fresh.weight.tolist() == model.weight.tolist() and fresh.weight.device == CUDA


def test_pinned_memory_and_a_pinning_dataloader():
    t = tcli.arange(6.0).reshape(2, 3)
    assert not t.is_pinned()
    p = t.pin_memory()
    assert p.is_pinned() and p.device.type == "cpu" and p.tolist() == t.tolist() and p.pin_memory() is p
    assert p[1].is_pinned()  # a view of pinned memory
    assert p.cuda(non_blocking=True).cpu().tolist() == t.tolist()
    with pytest.raises(RuntimeError, match="only dense CPU tensors can be pinned"):
        t.cuda().pin_memory()
    data = tcli.utils.data.TensorDataset(tcli.arange(8.0), tcli.arange(8))
    batches = list(tcli.utils.data.DataLoader(data, batch_size=4, pin_memory=True))
    assert all(x.is_pinned() and y.is_pinned() for x, y in batches)
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_a_non_blocking_copy_from_pinned_memory_is_queued_and_its_block_waits_for_it(monkeypatch):
    """.cuda(non_blocking=True) from pinned memory queues the copy and records an event; the page-locked block
    is handed out again (or freed) only after waiting for that event. Other copies are synchronous."""
    from tcli.kernels.cuda import buffer
    waited = []

    class Event:
        def __init__(self):
            self.recorded = False

        def record(self, stream=0):
            self.recorded = True

        def synchronize(self):
            waited.append(self)

    monkeypatch.setattr(buffer.cuda, "event", Event)
    monkeypatch.setattr(buffer, "_copying", {})  # earlier tests' copies are not this test's
    t = tcli.arange(6.0)
    p = t.pin_memory()
    moved = p.to("cuda", True)  # positional non_blocking, as in PyTorch
    (event,) = buffer._copying.values()
    assert event.recorded and not waited and moved.cpu().tolist() == t.tolist()
    t.cuda(non_blocking=True)  # pageable memory: synchronous, nothing recorded
    assert list(buffer._copying.values()) == [event]
    del p
    again = (t + 1).pin_memory()  # reuses the block: waits for the copy first
    assert waited == [event] and not buffer._copying and again.tolist() == (t + 1).tolist()


def test_cuda_array_interface():
    t = tcli.arange(12.0, device="cuda").reshape(3, 4)
    face = t.__cuda_array_interface__
    assert face["typestr"] == "<f4" and face["shape"] == (3, 4) and face["strides"] is None and face["version"] == 2
    assert face["data"] == (t.data_ptr(), False)
    view = t.t()[1:]
    assert view.__cuda_array_interface__["strides"] == (4, 16)
    assert view.__cuda_array_interface__["data"][0] == t.data_ptr() + 4  # one float32 in
    assert not hasattr(tcli.ones(2), "__cuda_array_interface__")  # CPU tensors do not offer it
    with pytest.raises(RuntimeError, match="requires grad"):
        _ = tcli.ones(2, device="cuda", requires_grad=True).__cuda_array_interface__



def _scaled(out, x, n, scale, flip, offsets):
    i = cuda.grid(1)
    if i < n:
        v = x[i] * scale + offsets[0] - offsets[1]
        out[i] = -v if flip else v


def test_kernel_launches_pass_every_kind_of_argument():
    """On a GPU the second launch of a kernel with the same argument layout packs the arguments itself instead
    of going through numba; every argument kind must arrive as numba would pass it, and fresh values each time."""
    backend = tcli.cuda.backend()
    launch = backend.launch
    kernel = launch.jit(_scaled)
    x = backend.from_host(np.arange(8, dtype=np.float32))
    out = backend.alloc(8, np.float32)
    for scale, flip, offsets in [(2.0, False, (1, 0)), (0.5, True, (0, 3)), (-1.0, False, (2, 2))]:
        kernel[1, 32](out.array, x.array, 6, np.float32(scale), flip, offsets)
        got = backend.to_host(out)[:6]
        want = np.arange(6, dtype=np.float32) * np.float32(scale) + offsets[0] - offsets[1]
        np.testing.assert_array_equal(got, -want if flip else want)
    assert isinstance(kernel, launch.FastKernel) is not launch.SIMULATOR
    if not launch.SIMULATOR:
        assert all(plan for plan in kernel._plans.values())  # the fast path was taken, not numba's fallback


def _store(out, value):
    if cuda.grid(1) == 0:
        out[0] = value


def _add_pair(out, pair):
    if cuda.grid(1) == 0:
        out[0] = pair[0] + pair[1]


def test_launches_tell_apart_arguments_numba_types_differently():
    """An int numba types as uint64, and tuples whose elements differ in type, get launches of their own."""
    backend = tcli.cuda.backend()
    store, add_pair = backend.launch.jit(_store), backend.launch.jit(_add_pair)
    out = backend.alloc(1, np.uint64)
    for value in [5, 2 ** 64 - 1, 7, 2 ** 63]:
        store[1, 32](out.array, value)
        assert int(backend.to_host(out)[0]) == value
    total = backend.alloc(1, np.float64)
    for pair, want in [((1, 2), 3.0), ((1, 2.5), 3.5), ((1.5, 2), 3.5), ((4, 4), 8.0)]:
        add_pair[1, 32](total.array, pair)
        assert backend.to_host(total)[0] == want


@pytest.mark.skipif(not config.ENABLE_CUDASIM, reason="the simulator's shared arrays: a GPU has real ones")
def test_simulator_gives_a_block_one_shared_array_per_line():
    """numba's simulator finds a block's shared array by the calling line with a check-then-create that threads
    could interleave, giving two threads arrays of their own (flaky sums); tcli's compat module locks it."""
    import sys
    import threading

    from numba.cuda.simulator import kernelapi

    import tcli.kernels.cuda  # noqa: F401 - tcli's CUDA backend, whose compat module fixes the lookup

    def distinct_arrays():
        shared, seen, start = kernelapi.FakeCUDAShared(0), [], threading.Barrier(16)

        def thread():
            start.wait()
            seen.append(id(shared.array(32, np.float64)))

        threads = [threading.Thread(target=thread) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return len(set(seen))

    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, inside the lookup too
    try:
        assert max(distinct_arrays() for _ in range(50)) == 1
    finally:
        sys.setswitchinterval(before)

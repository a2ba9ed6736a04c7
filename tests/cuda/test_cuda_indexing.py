"""Indexing on the device: tensor and mask keys, index_put (with repeated indices), gather/scatter, embedding,
and the ops that run on the host for now (sort, topk, unique, cumsum, flip), all against the CPU's results."""

import pytest

import tcli
import tcli.nn.functional as F

# the host fallback's first-use warnings are tested in test_cuda_device.py
pytestmark = pytest.mark.filterwarnings("ignore::tcli.kernels.cuda.fallback.HostFallbackWarning")


def same(dev, ref):
    assert dev.device.type == "cuda" and dev.dtype is ref.dtype and dev.shape == ref.shape
    assert dev.cpu().tolist() == ref.tolist()


X = tcli.arange(24.0).reshape(4, 6) - 7
I = tcli.tensor([2, 0, 2, -1])


@pytest.mark.parametrize("key", [
    lambda i, x: i, lambda i, x: (slice(None), i), lambda i, x: (i, i), lambda i, x: x > 3,
    lambda i, x: (x[:, 0] > 0,), lambda i, x: (slice(1, 3), i[:2]), lambda i, x: (i[:, None], i[None, :2]),
], ids=["rows", "cols", "pairs", "mask", "row_mask", "slice_and_index", "broadcast"])
def test_getitem(key):
    x, i = X.cuda(), I.cuda()
    same(x[key(i, x)], X[key(I, X)])


def test_repeated_index_writes_keep_the_last_value_as_on_the_cpu():
    """GPU threads writing one place race; the scatter skips all but the last write to each place."""
    import numpy as np
    last_writes = tcli.cuda.backend().index._last_writes
    assert last_writes(np.array([5, 3, 5, 7, 3])).tolist() == [-1, -1, 5, 7, 3]
    unique = np.array([4, 0, 8])
    assert last_writes(unique) is unique
    x = tcli.zeros(3, device="cuda")
    x[tcli.tensor([1, 1, 1, 1], device="cuda")] = tcli.tensor([1.0, 2.0, 3.0, 4.0], device="cuda")
    assert x.cpu().tolist() == [0.0, 4.0, 0.0]


def test_setitem_and_index_put_with_repeated_indices():
    x, ref = X.cuda(), X.clone()
    x[I.cuda()] = 0.5
    ref[I] = 0.5
    x[x > 10] = tcli.tensor(-1.0)
    ref[ref > 10] = tcli.tensor(-1.0)
    x[:, I.cuda()] = tcli.arange(16.0).reshape(4, 4).cuda()
    ref[:, I] = tcli.arange(16.0).reshape(4, 4)
    same(x, ref)
    for dtype in (tcli.float32, tcli.float64, tcli.int64, tcli.int16):  # int16 has no atomic add: on the host
        a, b = tcli.zeros(5, dtype=dtype), tcli.zeros(5, dtype=dtype, device="cuda")
        idx = tcli.tensor([1, 3, 1, 1, 4])
        a.index_put_((idx,), tcli.tensor([1, 2, 3, 4, 5]).to(dtype), accumulate=True)
        b.index_put_((idx.cuda(),), tcli.tensor([1, 2, 3, 4, 5]).to(dtype).cuda(), accumulate=True)
        same(b, a)


@pytest.mark.parametrize("dtype", [tcli.int8, tcli.uint8, tcli.int16, tcli.bool])
def test_narrow_accumulating_scatters_run_on_the_device(dtype):
    """CUDA has no 8- or 16-bit atomic add: each add swaps the 32-bit word holding its element (compare-and-swap),
    so neighbours in one word, repeats of one index and wrapping sums all come out as on the CPU."""
    import warnings

    import numpy as np

    from tcli.kernels.cuda.fallback import HostFallbackWarning
    rng = np.random.default_rng(5)
    idx = tcli.tensor(rng.integers(0, 6, 200))  # 200 adds into 6 neighbours: two or three 32-bit words
    values = tcli.tensor(rng.integers(-128 if dtype is not tcli.uint8 else 0, 128, 200)).to(dtype)
    base = tcli.tensor(rng.integers(0, 100, 9)).to(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error", HostFallbackWarning)
        for op in (lambda x, i, v: x.index_put_((i,), v, accumulate=True),
                   lambda x, i, v: x.scatter_add_(0, i, v),
                   lambda x, i, v: x.index_add_(0, i, v),
                   lambda x, i, v: x[2:].index_put_((i,), v, accumulate=True)):  # a view: an offset into a word
            same(op(base.cuda(), idx.cuda(), values.cuda()), op(base.clone(), idx, values))


def test_out_of_range_indices_are_refused_before_any_kernel():
    x = X.cuda()
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension 0 with size 4"):
        x[tcli.tensor([0, 4]).cuda()]
    with pytest.raises(RuntimeError, match="out of bounds"):
        x.gather(1, tcli.tensor([[6]] * 4).cuda())


def test_indices_and_masks_stay_on_the_device(monkeypatch):
    """Offsets are computed and bounds-checked on the device: what comes back to the host is the first bad
    position, a mask's per-chunk counts and a repeat flag, never the indices (300 of them here)."""
    import warnings

    from tcli.kernels.cuda.fallback import HostFallbackWarning
    x = tcli.arange(600.0).reshape(300, 2)
    rows = tcli.arange(299, -1, -1)
    xd, rows_d = x.cuda(), rows.cuda()
    array_type = type(xd._buf.array)
    sizes = []
    original = array_type.copy_to_host
    monkeypatch.setattr(array_type, "copy_to_host", lambda self, *a, **k: sizes.append(self.size) or original(
        self, *a, **k))
    with warnings.catch_warnings():
        warnings.simplefilter("error", HostFallbackWarning)
        got = [xd[rows_d], xd[rows_d, rows_d % 2], xd[xd > 100.0], xd[:, 0][xd[:, 1] > 0]]
        xd[xd > 500.0] = -1.0  # increasing offsets: no repeat can hide in them, so they stay on the device
        xd[tcli.arange(0, 300, 2, device="cuda"), 1] = 0.5
    assert max(sizes) < 150
    want = [x[rows], x[rows, rows % 2], x[x > 100.0], x[:, 0][x[:, 1] > 0]]
    x[x > 500.0] = -1.0
    x[tcli.arange(0, 300, 2), 1] = 0.5
    for g, w in zip(got + [xd], want + [x]):
        same(g, w)


def test_bad_indices_name_the_first_as_the_cpu_does():
    x = X.cuda()
    keys = [(tcli.tensor([0, 1, 2]), tcli.tensor([9, 1, -8])), (tcli.tensor([[0, -5], [7, 0]]),),
            (tcli.tensor([1, 5]), tcli.tensor([7, 0]))]
    for key in keys:
        with pytest.raises(IndexError) as on_cpu:
            X[key]
        with pytest.raises(IndexError, match=str(on_cpu.value).splitlines()[0]):
            x[tuple(k.cuda() for k in key)]
        with pytest.raises(IndexError, match=str(on_cpu.value).splitlines()[0]):
            x[key]  # host indices for a device tensor, as PyTorch allows


def test_gather_scatter_index_select_and_their_gradients():
    idx = tcli.tensor([[0, 5], [1, 1], [2, 0], [5, 4]])
    x, w = X.clone().requires_grad_(), X.cuda().requires_grad_()
    for op in (lambda t, i: t.gather(1, i), lambda t, i: t.index_select(1, i[0]),
               lambda t, i: t[i[:, 0] % 4], lambda t, i: t.scatter(1, i, 0.0),
               lambda t, i: t.scatter_add(1, i, t[:, :2])):
        ref, got = op(x, idx), op(w, idx.cuda())
        same(got.detach(), ref.detach())
        ref.square().sum().backward()
        got.square().sum().backward()
        same(w.grad, x.grad)


def test_embedding_and_one_hot():
    tcli.manual_seed(0)
    cpu = tcli.nn.Embedding(6, 3, padding_idx=0)
    gpu = tcli.nn.Embedding(6, 3, padding_idx=0)
    gpu.load_state_dict(cpu.state_dict())
    gpu.cuda()
    tokens = tcli.tensor([[1, 4, 0], [4, 4, 2]])
    out, out_d = cpu(tokens), gpu(tokens.cuda())
    same(out_d.detach(), out.detach())
    (out * 2).sum().backward()
    (out_d * 2).sum().backward()
    same(gpu.weight.grad, cpu.weight.grad)
    same(F.one_hot(tokens.cuda(), 6), F.one_hot(tokens, 6))


@pytest.mark.parametrize("op", [
    lambda t: t.sort(dim=1, descending=True).values, lambda t: t.sort(dim=0).indices, lambda t: t.argsort(1),
    lambda t: t.topk(2).values, lambda t: t.topk(3, dim=0, largest=False).indices, lambda t: t.unique(),
    lambda t: t.cumsum(1), lambda t: t.cumprod(0), lambda t: t.flip(1), lambda t: t.roll(2, 1),
    lambda t: t.nonzero(), lambda t: F.pad(t, (1, 2)), lambda t: t.tril(), lambda t: t.repeat(2, 1),
    lambda t: tcli.cat([t, t], 1), lambda t: tcli.stack([t, t]), lambda t: t.masked_fill(t > 0, 0.0),
    lambda t: t.median(), lambda t: t.kthvalue(2, 1).values,
], ids=["sort", "sort_idx", "argsort", "topk", "topk_small", "unique", "cumsum", "cumprod", "flip", "roll",
        "nonzero", "pad", "tril", "repeat", "cat", "stack", "masked_fill", "median", "kthvalue"])
def test_other_ops_give_the_cpus_answer(op):
    same(op(X.cuda()), op(X))


@pytest.mark.parametrize("descending", [False, True])
def test_sort_keeps_the_cpus_order_for_ties_and_nan(descending):
    """The device sort breaks ties by index, so it gives the CPU's stable order; NaN is the largest value."""
    nan = float("nan")
    x = tcli.tensor([[3.0, 1.0, nan, 2.0, 1.0, -0.5, nan, 1.0], [0.0, 0.0, 5.0, -1.0, 2.0, 2.0, 9.0, -0.0]])
    want, got = x.sort(1, descending=descending), x.cuda().sort(1, descending=descending)
    assert got.indices.cpu().tolist() == want.indices.tolist()
    assert str(got.values.cpu().tolist()) == str(want.values.tolist())  # NaN compares unequal: compare the text
    ints = tcli.tensor([5, 3, 3, 1, 5, -2])
    same(ints.cuda().sort(descending=descending).indices, ints.sort(descending=descending).indices)


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("shape", [(3, 37), (2, 9), (1, 64), (4, 5), (2, 13), (2, 3)])
def test_rows_longer_than_a_run_merge_on_the_device(monkeypatch, shape, descending):
    """Rows longer than the shared-memory network's run merge sorted runs pass by pass (a run of 4 here, so
    short rows take several passes: an odd number of runs, a last run cut short, a power of two, three passes,
    no merge)."""
    import warnings

    import numpy as np

    from tcli.kernels.cuda import sort
    from tcli.kernels.cuda.fallback import HostFallbackWarning
    monkeypatch.setattr(sort, "RUN", 4)
    x = tcli.tensor(np.random.default_rng(sum(shape)).integers(-3, 3, shape)).float()
    x[0, 1] = x[-1, -1] = float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("error", HostFallbackWarning)
        got = x.cuda().sort(1, descending=descending)
    want = x.sort(1, descending=descending)
    assert got.indices.cpu().tolist() == want.indices.tolist()
    assert str(got.values.cpu().tolist()) == str(want.values.tolist())
    same(x.long().cuda().unique(return_counts=True)[1], x.long().unique(return_counts=True)[1])


def test_one_hot_runs_on_the_device():
    import warnings

    from tcli.kernels.cuda.fallback import HostFallbackWarning
    labels = tcli.tensor([[2, 0, 3], [1, 1, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", HostFallbackWarning)
        got = F.one_hot(labels.cuda()[:, 1:])  # a strided view: the op makes it dense first
    assert got.device.type == "cuda"
    same(got, F.one_hot(labels[:, 1:]))


def test_median_of_nan_or_nothing_stays_on_the_device():
    assert tcli.tensor([1.0, float("nan")], device="cuda").median().device.type == "cuda"


@pytest.mark.parametrize("shape, dtype", [((7,), tcli.float32), ((3, 5), tcli.int64), ((2, 3, 40), tcli.bool),
                                          ((9,), tcli.float16), ((0,), tcli.float32), ((4, 0), tcli.int64),
                                          ((300,), tcli.float32)])  # 300: more chunks than the simulator's blocks
def test_nonzero_and_masks_run_on_the_device(shape, dtype):
    """Stream compaction on the device (kernels/cuda/compact.py): several chunks per block when large, the
    CPU's row-major order, and no host fallback."""
    import warnings

    import numpy as np

    from tcli.kernels.cuda.fallback import HostFallbackWarning
    values = np.random.default_rng(sum(shape)).integers(-1, 2, shape)
    x = tcli.tensor(values).to(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error", HostFallbackWarning)
        same(tcli.nonzero(x.cuda()), tcli.nonzero(x))
        assert tcli.count_nonzero(x.cuda()).item() == tcli.count_nonzero(x).item()
        for got, want in zip(tcli.nonzero(x.cuda(), as_tuple=True), tcli.nonzero(x, as_tuple=True)):
            same(got, want)
        mask = x != 0
        same(x.cuda()[mask.cuda()], x[mask])


@pytest.mark.parametrize("values", [[3, 1, 2, 3, 1, 1], [5.0, float("nan"), 1.0, float("nan"), 5.0, -0.0, 0.0], [7],
                                    [], list(range(40)) * 5 + [-3]], ids=["ints", "nan_and_zeros", "one", "empty",
                                                                          "several_chunks"])
def test_unique_runs_on_the_device(values):
    """unique: the device sort, then the runs of equal values compacted on the device (NaNs stay apart, -0.0 and
    0.0 merge, as on the CPU); inverse and counts included."""
    import warnings

    import numpy as np

    from tcli.kernels.cuda.fallback import HostFallbackWarning
    x = tcli.tensor(values)
    with warnings.catch_warnings():
        warnings.simplefilter("error", HostFallbackWarning)
        got = x.cuda().unique(return_inverse=True, return_counts=True)
    for dev, ref in zip(got, x.unique(return_inverse=True, return_counts=True)):
        assert dev.device.type == "cuda" and dev.dtype is ref.dtype and dev.shape == ref.shape
        np.testing.assert_array_equal(dev.cpu().numpy(), ref.numpy())

"""CUDA kernels against the CPU's results (themselves checked against numpy and PyTorch in tests/): elementwise
ops over dense, broadcast and strided operands, reductions, matrix products, row ops, and gradients.

Sizes stay small: in the simulator every CUDA thread is a Python thread. Tolerances: float32 rtol 1e-5 (the
device's libm and summation order differ from the CPU's), float64 1e-12."""

import numpy as np
import pytest

import tcli
import tcli.nn.functional as F

RTOL = {tcli.float32: 1e-5, tcli.float64: 1e-12}


def both(make):
    """(cpu tensor, the same values on cuda)."""
    t = make()
    return t, t.cuda()


def close(dev, ref, rtol=1e-5, atol=1e-6):
    assert dev.device.type == "cuda", dev.device
    assert dev.dtype is ref.dtype and dev.shape == ref.shape
    got, want = np.asarray(dev.cpu().tolist(), dtype=np.float64), np.asarray(ref.tolist(), dtype=np.float64)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)


def sample(*shape, dtype=tcli.float32, seed=0, positive=False):
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.2, 2.0, shape) if positive else rng.standard_normal(shape)
    return tcli.tensor(values, dtype=dtype)


UNARY = {
    "neg": lambda x: -x, "abs": lambda x: x.abs(), "exp": lambda x: x.exp(), "relu": lambda x: x.relu(),
    "sigmoid": lambda x: x.sigmoid(), "tanh": lambda x: x.tanh(), "sin": lambda x: x.sin(),
    "square": lambda x: x.square(), "clamp": lambda x: x.clamp(-0.5, 0.5), "clamp_min": lambda x: x.clamp(min=0),
    "scalar_ops": lambda x: (2 - x) * 3 / 4 + 1, "pow2": lambda x: x ** 2, "rpow": lambda x: 2 ** x,
    "compare": lambda x: (x > 0.1) | (x <= -1), "floor": lambda x: x.floor(), "leaky": lambda x: F.leaky_relu(x, 0.1),
    "where": lambda x: tcli.where(x > 0, x, x * 0.5), "cast_int": lambda x: (x * 10).long(),
    "half_round_trip": lambda x: x.half().float(), "to_double": lambda x: x.double() * 2,
    "round": lambda x: (x * 4).round(), "ceil": lambda x: x.ceil(), "trunc": lambda x: (x * 3).trunc(),
    "frac": lambda x: (x * 3).frac(), "sign": lambda x: x.sign(), "expm1": lambda x: x.expm1(),
    "erf": lambda x: x.erf(), "atan": lambda x: x.atan(), "sinh": lambda x: x.sinh(), "tan": lambda x: x.tan(),
    "floordiv": lambda x: x // 0.3, "rfloordiv": lambda x: 2 // x, "rem": lambda x: x % -0.7,
    "trunc_div": lambda x: tcli.div(x, 0.3, rounding_mode="trunc"), "gelu": F.gelu, "silu": F.silu, "elu": F.elu,
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"), "atan2": lambda x: tcli.atan2(x, x * 0.5 + 0.1),
}
POSITIVE = {"log": lambda x: x.log(), "sqrt": lambda x: x.sqrt(), "rsqrt": lambda x: x.rsqrt(),
            "reciprocal": lambda x: x.reciprocal(), "log1p": lambda x: x.log1p(), "log2": lambda x: x.log2(),
            "log10": lambda x: x.log10(), "asin": lambda x: (x / 2).asin(), "acos": lambda x: (x / 2).acos(),
            "cosh": lambda x: x.cosh(), "exp2": lambda x: x.exp2()}


@pytest.mark.parametrize("dtype", [tcli.float32, tcli.float64])
@pytest.mark.parametrize("name", list(UNARY) + list(POSITIVE))
def test_unary(name, dtype):
    op = UNARY.get(name) or POSITIVE[name]
    x, xd = both(lambda: sample(5, 7, dtype=dtype, positive=name in POSITIVE))
    close(op(xd), op(x), rtol=RTOL[dtype])
    close(op(xd.t()), op(x.t()), rtol=RTOL[dtype])  # a strided (transposed) operand


SPECIAL = [float("nan"), float("inf"), -float("inf"), -0.0, 0.0, 2.5, -2.5, 0.5, 1.5, -7.25, 1e20]


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "round", "frac", "sign", "floordiv", "rfloordiv", "rem",
                                  "trunc_div", "exp", "log", "sqrt", "relu", "sigmoid", "clamp", "abs"])
def test_special_values_follow_the_cpu(name):
    op = UNARY.get(name) or POSITIVE[name]
    x, xd = both(lambda: tcli.tensor(SPECIAL))
    close(op(xd), op(x))


INTEGER = {"floordiv": lambda a, b: a // b, "rem": lambda a, b: a % b, "trunc": lambda a, b: tcli.div(
    a, b, rounding_mode="trunc"), "pow": lambda a, b: a ** b.abs(), "pow_negative": lambda a, b: a.sign() ** b,
           "scalars": lambda a, b: (a // 3) * (a % -4) + 2 ** b.abs() - 7 // b, "bits": lambda a, b: (a & b) | ~a ^ 5,
           "mul": lambda a, b: a * b - a, "true_div": lambda a, b: a / b}


@pytest.mark.parametrize("name", list(INTEGER))
def test_integer_ops(name):
    a, ad = both(lambda: tcli.tensor([-7, -3, 0, 2, 5, 9, 13]))
    b, bd = both(lambda: tcli.tensor([2, -2, 3, 3, -4, 2, 5]))
    want, got = INTEGER[name](a, b), INTEGER[name](ad, bd)
    assert got.dtype is want.dtype and got.cpu().tolist() == want.tolist()


BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "maximum": tcli.maximum, "minimum": tcli.minimum,
          "lt": lambda a, b: a < b, "eq": lambda a, b: a == b, "add_alpha": lambda a, b: tcli.add(a, b, alpha=2),
          "pow": lambda a, b: a.abs() ** b, "lerp": lambda a, b: tcli.lerp(a, b, 0.3)}


@pytest.mark.parametrize("layout", ["same", "broadcast_row", "broadcast_col", "sliced"])
@pytest.mark.parametrize("name", list(BINARY))
def test_binary(name, layout):
    op = BINARY[name]
    a, ad = both(lambda: sample(4, 6, seed=1))
    shape_b = {"same": (4, 6), "broadcast_row": (6,), "broadcast_col": (4, 1), "sliced": (4, 12)}[layout]
    b, bd = both(lambda: sample(*shape_b, seed=2))
    if layout == "sliced":
        b, bd = b[:, ::2], bd[:, ::2]
    close(op(ad, bd), op(a, b))
    close(op(bd[:1] if layout == "same" else bd, ad), op(b[:1] if layout == "same" else b, a))


@pytest.mark.parametrize("n", [1, 511, 513, 1000, 4099])  # around and past four elements per thread of a grid
def test_dense_kernels_cover_every_element(n):
    """The dense kernels take four elements a trip, then the rest one at a time: no element skipped or doubled,
    in place too."""
    a, ad = both(lambda: sample(n, seed=30))
    b, bd = both(lambda: sample(n, seed=31))
    close(ad * bd - ad, a * b - a)
    close(ad.exp(), a.exp())
    ad.add_(bd)
    a.add_(b)
    close(ad, a)


def test_in_place_ops_write_through_views():
    x, xd = both(lambda: sample(4, 5))
    y, yd = both(lambda: sample(4, 5, seed=3))
    for t, u in ((x, y), (xd, yd)):
        t += u
        t.mul_(2).sub_(1)
        t[:, 1:3] *= 10
        t[0].zero_()
        t.clamp_(min=-3)
        t.t()[2].fill_(7)
    close(xd, x)


REDUCTIONS = {"sum": lambda x, **k: x.sum(**k), "mean": lambda x, **k: x.mean(**k),
              "prod": lambda x, **k: (x * 0.5 + 1).prod(**k), "amax": lambda x, **k: x.amax(**k),
              "amin": lambda x, **k: x.amin(**k), "std": lambda x, **k: x.std(**k), "var": lambda x, **k: x.var(**k),
              "norm": lambda x, **k: x.norm(**k), "logsumexp": lambda x, **k: x.logsumexp(**k)}


@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reductions(name):
    op = REDUCTIONS[name]
    x, xd = both(lambda: sample(3, 5, 4, seed=4))
    if name not in ("logsumexp", "std", "var", "norm"):
        close(op(xd), op(x))
    for dim in (0, 1, -1, (0, 2)):
        if name == "logsumexp" and isinstance(dim, tuple):
            continue
        close(op(xd, dim=dim), op(x, dim=dim))
        close(op(xd, dim=dim, keepdim=True), op(x, dim=dim, keepdim=True))
    close(op(xd.transpose(0, 2), dim=1), op(x.transpose(0, 2), dim=1))


def test_long_reductions_use_the_block_kernel():
    x, xd = both(lambda: sample(2, 300, seed=5))
    close(xd.sum(), x.sum(), rtol=1e-5, atol=1e-4)
    close(xd.sum(dim=1), x.sum(dim=1), rtol=1e-5, atol=1e-4)
    close(xd.amax(dim=1), x.amax(dim=1))
    b, bd = both(lambda: tcli.tensor([True, False] * 150))
    assert bd.all().item() is False and bd.any().item() is True and int(bd.sum()) == int(b.sum()) == 150


def test_max_min_with_indices_and_argmax_follow_pytorch_ties_and_nan():
    x, xd = both(lambda: tcli.tensor([[1.0, 3.0, 3.0, -1.0], [2.0, float("nan"), 5.0, float("nan")]]))
    for which in ("max", "min"):
        got, want = getattr(xd, which)(dim=1), getattr(x, which)(dim=1)
        close(got.values, want.values)
        assert got.indices.device.type == "cuda" and got.indices.cpu().tolist() == want.indices.tolist()
    assert xd.argmax(dim=1).cpu().tolist() == x.argmax(dim=1).tolist() == [1, 1]
    assert xd[0].argmin().item() == 3


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_and_log_softmax_and_their_gradients(dim):
    x, xd = both(lambda: sample(3, 4, 5, dtype=tcli.float64, seed=6))
    x.requires_grad_()
    xd.requires_grad_()
    g = sample(3, 4, 5, dtype=tcli.float64, seed=7)
    for fn in (F.softmax, F.log_softmax):
        y, yd = fn(x, dim), fn(xd, dim)
        close(yd, y, rtol=1e-12)
        assert yd.grad_fn.name() == y.grad_fn.name()
        (gx,) = tcli.autograd.grad(y, x, g)
        (gxd,) = tcli.autograd.grad(yd, xd, g.cuda())
        close(gxd, gx, rtol=1e-12)
    masked = tcli.tensor([[0.0, float("-inf"), 1.0]]).cuda()
    assert F.softmax(masked, -1).cpu().tolist()[0][1] == 0.0  # a masked (-inf) entry, as attention masks do


def test_softmax_over_long_rows_takes_a_block_per_row():
    """Rows along the last dim at least a block wide: one block per row (reads coalesced), with -inf masking."""
    x, xd = both(lambda: sample(5, 70, dtype=tcli.float64, seed=40))
    x[1, 3] = xd[1, 3] = float("-inf")
    x.requires_grad_()
    xd.requires_grad_()
    g = sample(5, 70, dtype=tcli.float64, seed=41)
    for fn in (F.softmax, F.log_softmax):
        y, yd = fn(x, -1), fn(xd, -1)
        close(yd, y, rtol=1e-12, atol=1e-15)
        (gx,) = tcli.autograd.grad(y, x, g)
        (gxd,) = tcli.autograd.grad(yd, xd, g.cuda())
        close(gxd, gx, rtol=1e-10, atol=1e-14)
    logits, ld = both(lambda: sample(6, 40, seed=42))
    target = tcli.tensor([0, 39, 7, 7, 20, 1])
    close(F.cross_entropy(ld, target.cuda()), F.cross_entropy(logits, target))


@pytest.mark.parametrize("shapes", [((5, 7), (7, 3)), ((1, 16), (16, 17)), ((33, 20), (20, 18)), ((4, 0), (0, 3))])
def test_mm_and_matmul(shapes):
    (sa, sb) = shapes
    a, ad = both(lambda: sample(*sa, seed=8))
    b, bd = both(lambda: sample(*sb, seed=9))
    close(ad.mm(bd), a.mm(b), atol=1e-5)
    close(ad @ bd, a @ b, atol=1e-5)
    close(bd.t().t().mm(bd.t()) if sb[0] else bd.t().mm(bd), b.mm(b.t()) if sb[0] else b.t().mm(b), atol=1e-5)
    close(tcli.mm(bd.t().contiguous().t(), bd.t()), tcli.mm(b, b.t()), atol=1e-5)  # a transposed operand in place


@pytest.mark.parametrize("dtype", [tcli.float32, tcli.float64])
def test_register_blocked_gemm_for_whole_tiles(dtype):
    """Products with a whole 64 x 64 (or 128 x 128) output tile take a register-blocked kernel: edges,
    transposed operands, batches."""
    a, ad = both(lambda: sample(70, 9, dtype=dtype, seed=20))
    b, bd = both(lambda: sample(9, 66, dtype=dtype, seed=21))
    tol = dict(rtol=RTOL[dtype], atol=1e-5 if dtype is tcli.float32 else 1e-12)
    close(ad @ bd, a @ b, **tol)
    close(bd.t() @ ad.t(), b.t() @ a.t(), **tol)  # both operands read transposed, in place
    x, xd = both(lambda: sample(2, 64, 5, dtype=dtype, seed=22))
    close(xd @ xd.transpose(1, 2), x @ x.transpose(1, 2), **tol)
    c, cd = both(lambda: sample(130, 11, dtype=dtype, seed=23))  # 128 x 128 tiles (float32), with ragged edges
    e, ed = both(lambda: sample(11, 131, dtype=dtype, seed=24))
    close(cd @ ed, c @ e, **tol)


def test_weight_gradients_add_into_grad_on_the_device():
    """A second backward adds w's product gradient straight into the existing .grad on the device (gemm with
    beta = 1), through mm and through nn.Linear's w.t(); a .grad sharing its buffer with an operand, or a
    hooked leaf, takes the ordinary path. Values match the CPU's; the .grad object stays the same."""
    x, xd = both(lambda: sample(70, 9, dtype=tcli.float64, seed=25))
    w, wd = both(lambda: sample(9, 66, dtype=tcli.float64, seed=26))
    w.requires_grad_()
    wd.requires_grad_()
    lin = tcli.nn.Linear(9, 66).double()
    lin_d = tcli.nn.Linear(9, 66).double().cuda()
    lin_d.load_state_dict(lin.state_dict())
    for step in range(3):
        (x.mm(w) ** 2).sum().backward()
        (xd.mm(wd) ** 2).sum().backward()
        lin(x).sin().sum().backward()
        lin_d(xd).sin().sum().backward()
        if step == 0:
            grads = (wd.grad, lin_d.weight.grad)
    assert wd.grad is grads[0] and lin_d.weight.grad is grads[1]
    close(wd.grad, w.grad, rtol=1e-12, atol=1e-12)
    close(lin_d.weight.grad, lin.weight.grad, rtol=1e-12, atol=1e-12)
    close(lin_d.bias.grad, lin.bias.grad, rtol=1e-12, atol=1e-12)
    base = sample(9, 9, dtype=tcli.float64, seed=27)
    expected = base + base @ tcli.ones(9, 9, dtype=tcli.float64)
    v = tcli.ones(9, 9, dtype=tcli.float64, device="cuda", requires_grad=True)
    v.grad = base.cuda()
    v.grad.t().mm(v).sum().backward()  # v's gradient is v.grad @ ones: its own buffer is an operand
    close(v.grad, expected, rtol=1e-12, atol=1e-12)
    a, ad = both(lambda: sample(9, 9, dtype=tcli.float64, seed=28))  # x.grad is x: x's product must not feed w's
    a.requires_grad_()
    ad.requires_grad_()
    a.grad, ad.grad = a.detach(), ad.detach()
    u, ud = tcli.ones(9, 9, dtype=tcli.float64, requires_grad=True), tcli.ones(9, 9, dtype=tcli.float64,
                                                                            device="cuda", requires_grad=True)
    a.mm(u).sum().backward()
    ad.mm(ud).sum().backward()
    close(ud.grad, u.grad, rtol=1e-12, atol=1e-12)
    close(ad.grad, a.grad, rtol=1e-12, atol=1e-12)
    from tcli.kernels import cuda as gpu
    g, other = v.grad._buf, gpu.alloc(81, np.float64)
    assert not gpu.matmul_add(g, (g, 0, (0, 1, 9)), (other, 0, (0, 9, 1)), 9, 9, 9)  # out is an operand
    assert not gpu.matmul_add(g, (other, 0, (0, 9, 1)), (g, 0, (0, 9, 1)), 9, 9, 9)
    close(v.grad, expected, rtol=1e-12, atol=1e-12)  # untouched


@pytest.mark.parametrize("dtype", [tcli.float32, tcli.float64])
def test_addmm_bias_rides_in_the_gemm(dtype):
    """Linear's addmm(bias, x, w.t()) adds the bias in the GEMM's epilogue: both kernels (simple and register-
    blocked, ragged edges), an empty inner dimension, and the general alpha/beta form, all as on the CPU."""
    tol = dict(rtol=RTOL[dtype], atol=1e-5 if dtype is tcli.float32 else 1e-12)
    for m, k, n in ((5, 3, 4), (70, 9, 66), (130, 11, 131), (4, 0, 3)):
        x, w, b = sample(m, k, dtype=dtype, seed=m), sample(n, k, dtype=dtype, seed=n), sample(n, dtype=dtype, seed=k)
        xd, wd, bd = x.cuda(), w.cuda(), b.cuda()
        close(tcli.addmm(bd, xd, wd.t()), tcli.addmm(b, x, w.t()), **tol)
        close(tcli.nn.functional.linear(xd, wd, bd), tcli.nn.functional.linear(x, w, b), **tol)
    close(tcli.addmm(bd, xd, wd.t(), beta=0.5, alpha=2), tcli.addmm(b, x, w.t(), beta=0.5, alpha=2), **tol)
    col, cold = both(lambda: sample(4, 1, dtype=dtype, seed=3))
    close(tcli.addmm(cold, xd, wd.t()), tcli.addmm(col, x, w.t()), **tol)  # a column broadcast: not a row bias


def test_batched_matmul_and_vectors():
    a, ad = both(lambda: sample(3, 4, 5, seed=10))
    b, bd = both(lambda: sample(3, 5, 2, seed=11))
    close(tcli.bmm(ad, bd), tcli.bmm(a, b), atol=1e-5)
    close(ad @ bd[0], a @ b[0], atol=1e-5)  # broadcast over the batch
    v, vd = both(lambda: sample(5, seed=12))
    close(ad[0] @ vd, a[0] @ v, atol=1e-5)
    close(vd @ vd, v @ v, atol=1e-5)


def test_int_and_float64_products():
    a, ad = both(lambda: tcli.arange(12).reshape(3, 4))
    assert (ad @ ad.t()).cpu().tolist() == (a @ a.t()).tolist()
    x, xd = both(lambda: sample(6, 6, dtype=tcli.float64, seed=13))
    close(xd @ xd, x @ x, rtol=1e-12, atol=1e-12)


def test_gradients_match_finite_differences_on_the_device():
    """gradcheck in float64, every tensor on the GPU: the backward formulas run as CUDA kernels."""
    x = sample(3, 4, dtype=tcli.float64, seed=14).cuda().requires_grad_()
    w = sample(4, 2, dtype=tcli.float64, seed=15).cuda().requires_grad_()
    b = sample(2, dtype=tcli.float64, seed=16).cuda().requires_grad_()

    def f(x, w, b):
        h = (x @ w + b).tanh()
        return (F.log_softmax(h, -1) * h.sigmoid()).sum(0).clamp(min=-3) ** 2 / x.exp().mean()

    assert tcli.autograd.gradcheck(f, (x, w, b), eps=1e-6, atol=1e-6)


def test_cross_entropy_and_mse_match_the_cpu_with_gradients():
    logits, ld = both(lambda: sample(6, 4, seed=17))
    target = tcli.tensor([0, 3, 1, 1, 2, 0])
    weight = tcli.tensor([1.0, 2.0, 0.5, 1.5])
    for kwargs in ({}, {"reduction": "sum"}, {"reduction": "none"}, {"weight": weight}, {"ignore_index": 1},
                   {"label_smoothing": 0.1}):
        cpu_kwargs = dict(kwargs)
        dev_kwargs = {k: (v.cuda() if isinstance(v, tcli.Tensor) else v) for k, v in kwargs.items()}
        x, xd = logits.clone().requires_grad_(), ld.clone().requires_grad_()
        loss, loss_d = F.cross_entropy(x, target, **cpu_kwargs), F.cross_entropy(xd, target.cuda(), **dev_kwargs)
        close(loss_d, loss)
        assert loss_d.grad_fn.name() == loss.grad_fn.name()
        loss.sum().backward()
        loss_d.sum().backward()
        close(xd.grad, x.grad)
    with pytest.raises(IndexError, match="Target 4 is out of bounds"):
        F.cross_entropy(ld, tcli.tensor([0, 4, 1, 1, 2, 0], device="cuda"))
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        F.cross_entropy(ld, target.cuda(), weight=weight)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        F.cross_entropy(ld, target)  # a CPU target for CUDA scores
    every_row_ignored = F.cross_entropy(ld, tcli.full((6,), -100, dtype=tcli.int64, device="cuda"))
    assert np.isnan(every_row_ignored.item())  # 0 / 0, as on the CPU
    y, yd = both(lambda: sample(6, 4, seed=18))
    close(F.mse_loss(ld, yd), F.mse_loss(logits, y))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_nll_sums_over_several_blocks_and_zero_weight_match_the_cpu(reduction):
    """A batch longer than one block's share: partial sums per block, added up by a second kernel. Class weights
    that sum to 0 over the batch give IEEE's inf (or nan for 0 / 0) and the same gradients as the CPU."""
    logp, lpd = both(lambda: F.log_softmax(sample(700, 3, seed=23), 1))
    target = tcli.tensor(np.random.default_rng(5).integers(0, 3, 700))
    for weight, t in ((tcli.tensor([0.5, 2.0, 1.0]), target), (tcli.tensor([0.0, 0.0, 1.0]), target % 2)):
        x, xd = logp.clone().requires_grad_(), lpd.clone().requires_grad_()
        loss = F.nll_loss(x, t, weight=weight, reduction=reduction)
        loss_d = F.nll_loss(xd, t.cuda(), weight=weight.cuda(), reduction=reduction)
        close(loss_d, loss)
        loss.backward()
        loss_d.backward()
        close(xd.grad, x.grad)


def test_cross_entropy_double_backward_matches_the_cpu():
    logits, ld = both(lambda: sample(5, 3, seed=19))
    target = tcli.tensor([2, 0, 1, 1, 0])
    grads = []
    for x, t in ((logits.clone().requires_grad_(), target), (ld.clone().requires_grad_(), target.cuda())):
        (g,) = tcli.autograd.grad(F.cross_entropy(x, t), x, create_graph=True)
        (gg,) = tcli.autograd.grad(g.square().sum(), x)
        grads.append((g.detach(), gg))
    close(grads[1][0], grads[0][0])
    close(grads[1][1], grads[0][1])


def test_cross_entropy_reads_the_device_once_per_step(monkeypatch):
    """The targets are checked on the host (one copy); losses, their sums and the backward stay on the device, so
    a training step does not wait for the GPU in its loss."""
    ld = sample(8, 5, seed=20).cuda().requires_grad_()
    target = tcli.tensor([0, 4, 1, 3, 2, 0, 1, 4], device="cuda")
    array_type = type(target._buf.array)
    copies = []
    original = array_type.copy_to_host
    monkeypatch.setattr(array_type, "copy_to_host", lambda self, *a, **k: copies.append(1) or original(self, *a, **k))
    loss = F.cross_entropy(ld, target)
    assert len(copies) == 1
    loss.backward()
    assert len(copies) == 1 and ld.grad.device.type == "cuda"


def test_signed_zeros_and_integer_ranges_follow_the_cpu():
    x, xd = both(lambda: tcli.tensor([-0.0, 0.0, -0.0, 1.0]))
    y, yd = both(lambda: tcli.tensor([0.0, -0.0, -0.0, -1.0]))
    for op in (tcli.maximum, tcli.minimum, lambda a, b: a.clamp(min=0.0), lambda a, b: a.clamp(max=-0.0),
               lambda a, b: a.clamp(b, b + 1)):
        got, want = op(xd, yd).cpu(), op(x, y)
        assert (1 / got).tolist() == (1 / want).tolist()  # the sign of each zero, through its reciprocal
    big, bigd = both(lambda: tcli.tensor([2**53 + 1, -(2**62), 2**62 + 3]))
    for op in (lambda t: t.relu(), lambda t: t.clamp(min=-5), lambda t: t.abs(), lambda t: t.sign() * t, lambda t: -t):
        assert op(bigd).cpu().tolist() == op(big).tolist()  # integers never pass through float64


def test_tutorial_relu_and_square_gradients_match_the_cpu():
    """x.clamp(min=0) and ** 2 have one-kernel backwards (nonneg_grad, square_grad): zeros of either sign pass the
    gradient, NaN does not, in float32 and float64."""
    for dtype in (tcli.float32, tcli.float64):
        x = tcli.tensor([[-1.5, -0.0, 0.0], [2.0, float("nan"), 0.75]], dtype=dtype, requires_grad=True)
        xd = x.detach().cuda().requires_grad_()
        ((x.clamp(min=0) - 0.5) ** 2).sum().backward()
        ((xd.clamp(min=0) - 0.5) ** 2).sum().backward()
        assert xd.grad.device.type == "cuda"
        assert xd.grad.cpu().tolist() == x.grad.tolist()


def test_every_elementwise_op_has_a_cuda_form_or_runs_on_the_host():
    import numpy as np

    from tcli.kernels import cpu
    from tcli.kernels import cuda as gpu
    from tcli.kernels.cuda.fallback import HostFallbackWarning
    bits = np.array([0x3C00, 0xC000, 0x7E00], np.uint16)  # 1.0, -2.0 and NaN as float16 bits
    want = np.empty(3, np.uint32)
    cpu.unary("half_bits_to_float_bits", want, bits)
    out = gpu.alloc(3, np.uint32)
    with pytest.warns(HostFallbackWarning):
        gpu.unary("half_bits_to_float_bits", out, gpu.from_host(bits))
    assert gpu.to_host(out).tolist() == want.tolist()


def test_products_whose_grid_passes_cudas_limits(monkeypatch):
    """CUDA caps grid dims y and z at 65535 blocks; the GEMM kernels stride over what is left (here the cap is
    lowered to 1 so that the simulator shows it)."""
    from tcli.kernels.cuda import linalg
    monkeypatch.setattr(linalg, "_MAX_GRID_YZ", 1)
    a, ad = both(lambda: sample(3, 40, 5, seed=30))
    b, bd = both(lambda: sample(3, 5, 7, seed=31))
    close(tcli.bmm(ad, bd), tcli.bmm(a, b), atol=1e-5)
    c, cd = both(lambda: sample(130, 8, seed=32))
    d, dd = both(lambda: sample(8, 70, seed=33))
    close(cd @ dd, c @ d, atol=1e-5)  # the register-blocked kernel, three row tiles from one grid row

"""Tests for tcli's autograd engine: leaves, grad_fn graphs, backward/grad, grad modes, in-place rules,
custom Functions, hooks and deep graphs. Expected values are PyTorch 2.13's; a few tests compare with
PyTorch live when it is installed."""

import gc
import inspect
import os
import warnings
import weakref

import numpy as np
import pytest
from helpers import version

import tcli
from tcli.autograd import Function

THIS_FILE = os.path.basename(__file__)


def val(t):
    """The values of a tensor as a numpy array (detached copy)."""
    return np.array(t.detach().numpy())


def leaf(values, dtype=None):
    return tcli.tensor(values, dtype=dtype, requires_grad=True)


@pytest.fixture(autouse=True)
def grad_mode_restored():
    """Every test starts with grad mode on; a failing test must not leak a disabled mode into the next one."""
    tcli.set_grad_enabled(True)
    yield
    tcli.set_grad_enabled(True)


# ---- leaves, requires_grad, grad_fn ---------------------------------------------------------------------------

def test_leaf_and_non_leaf_flags():
    x = leaf([1.0, 2.0, 3.0])
    assert x.is_leaf and x.requires_grad and x.grad_fn is None and x.grad is None
    y = x * 2
    assert not y.is_leaf and y.requires_grad and y.grad_fn is not None
    c = tcli.tensor([1.0, 2.0])
    assert c.is_leaf and not c.requires_grad
    d = c * 2  # no input requires grad: still a leaf, no history
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    e = c + x[:2]
    assert not e.is_leaf and e.requires_grad


def test_requires_grad_factories_and_setter():
    assert tcli.zeros(2, requires_grad=True).requires_grad
    assert tcli.ones(2, 3, dtype=tcli.float64, requires_grad=True).requires_grad
    t = tcli.tensor([1.0, 2.0])
    assert t.requires_grad_() is t and t.requires_grad
    t.requires_grad = False
    assert not t.requires_grad
    t.requires_grad = True
    assert t.requires_grad and t.is_leaf


@pytest.mark.parametrize("make", [
    lambda: tcli.tensor([1, 2], requires_grad=True),
    lambda: tcli.arange(3).requires_grad_(),
    lambda: tcli.zeros(2, dtype=tcli.int32, requires_grad=True),
    lambda: tcli.tensor([True, False], requires_grad=True),
])
def test_requires_grad_rejects_integer_dtypes(make):
    # PyTorch spells it three ways ("Only ... and complex dtype", "only ... dtype", "only ... and complex dtype")
    with pytest.raises(RuntimeError, match="(?i)^only Tensors of floating point (and complex )?dtype can require "
                                           "gradients"):
        make()


def test_requires_grad_false_on_non_leaf_is_an_error():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf variables"):
        y.requires_grad = False
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf variables"):
        y.requires_grad_(False)
    assert y.requires_grad_(True) is y  # asking for what it already has is fine


def test_grad_fn_names_and_next_functions():
    x = leaf([1.0, 2.0, 3.0])
    c = tcli.tensor([4.0, 5.0, 6.0])
    y = x * c
    assert type(y.grad_fn).__name__ == "MulBackward0"
    assert y.grad_fn.name() == "MulBackward0"
    (acc, nr), (const, const_nr) = y.grad_fn.next_functions
    assert type(acc).__name__ == "AccumulateGrad" and nr == 0
    assert acc.variable is x
    assert const is None and const_nr == 0
    # one AccumulateGrad per leaf, shared by every op that uses it
    z = x + 1
    assert z.grad_fn.next_functions[0][0] is acc
    s = (y + z).sum()
    assert s.grad_fn.name() == "SumBackward0"
    add = s.grad_fn.next_functions[0][0]
    assert add.name() == "AddBackward0"
    assert add.next_functions[0][0] is y.grad_fn and add.next_functions[1][0] is z.grad_fn
    assert repr(y.grad_fn).startswith("<MulBackward0 object at 0x")
    assert (x.mean()).grad_fn.name() == "MeanBackward0"
    assert (x - 1).grad_fn.name() == "SubBackward0"
    assert (x / 2).grad_fn.name() == "DivBackward0"
    assert x.sin().grad_fn.name() == "SinBackward0"


def test_next_functions_of_python_scalar_operand():
    x = leaf([1.0, 2.0])
    # PyTorch keeps an edge for the scalar operand: ((AccumulateGrad, 0), (None, 0))
    nf = (x * 2).grad_fn.next_functions
    assert len(nf) == 2 and nf[0][0].variable is x and nf[1] == (None, 0)
    assert len((x + 1).grad_fn.next_functions) == 2
    assert len((2 * x).grad_fn.next_functions) == 2


def test_where_has_no_edge_for_the_condition():
    a, b = leaf([1.0, -1.0]), leaf([5.0, 6.0])
    nf = tcli.where(a > 0, a, b).grad_fn.next_functions  # PyTorch: edges to self and other only
    assert len(nf) == 2 and nf[0][0].variable is a and nf[1][0].variable is b


def test_next_functions_match_torch():
    torch = pytest.importorskip("torch")
    ops = [lambda m, a: a * 2, lambda m, a: 2 * a, lambda m, a: a + 1, lambda m, a: a - 1, lambda m, a: a / 2,
           lambda m, a: a ** 2, lambda m, a: 1 - a, lambda m, a: a.exp(), lambda m, a: a.sum(),
           lambda m, a: a * a.detach(), lambda m, a: a.clamp(min=0), lambda m, a: a[0], lambda m, a: a.view(2, 1),
           lambda m, a: m.where(a > 0, a, a.detach()), lambda m, a: m.where(a > 0, a, 0.0)]
    for op in ops:
        mine = op(tcli, tcli.ones(2, requires_grad=True)).grad_fn.next_functions
        theirs = op(torch, torch.ones(2, requires_grad=True)).grad_fn.next_functions
        assert [(type(n).__name__ if n is not None else None, nr) for n, nr in mine] == \
            [(type(n).__name__ if n is not None else None, nr) for n, nr in theirs]


def test_grad_fn_names_match_torch():
    torch = pytest.importorskip("torch")
    ops = [
        lambda m, a: a * 2, lambda m, a: a + a, lambda m, a: a - 1, lambda m, a: a / 3, lambda m, a: a ** 2,
        lambda m, a: a.exp(), lambda m, a: a.sum(), lambda m, a: a.mean(), lambda m, a: a.relu(),
        lambda m, a: a.t(), lambda m, a: a[0], lambda m, a: a.view(-1), lambda m, a: a @ a,
        lambda m, a: a.sigmoid(), lambda m, a: a.tanh(), lambda m, a: a.clone(),
    ]
    for op in ops:
        mine = op(tcli, tcli.ones(2, 2, requires_grad=True)).grad_fn.name()
        theirs = op(torch, torch.ones(2, 2, requires_grad=True)).grad_fn.name()
        assert mine == theirs


# ---- backward ------------------------------------------------------------------------------------------------

def test_backward_with_gradient_argument():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 3
    y.backward(tcli.tensor([1.0, 0.5, -1.0]))
    np.testing.assert_allclose(val(x.grad), [3.0, 1.5, -3.0])
    assert x.grad.dtype is tcli.float32 and x.grad.shape == (3,)
    x2 = leaf([[1.0, 2.0], [3.0, 4.0]])
    (x2 ** 2).backward(gradient=tcli.ones(2, 2))
    np.testing.assert_allclose(val(x2.grad), [[2.0, 4.0], [6.0, 8.0]])


def test_backward_gradient_shape_mismatch():
    y = leaf([1.0, 2.0, 3.0]) * 2
    with pytest.raises(RuntimeError, match=r"Mismatch in shape: grad_output\[0\] has a shape of torch.Size\(\[2\]\) "
                                           r"and output\[0\] has a shape of torch.Size\(\[3\]\)"):
        y.backward(tcli.ones(2))


def test_implicit_gradient_only_for_scalars():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()
    # one element that is not 0-d is fine, as in PyTorch
    z = leaf([3.0])
    (z * 2).backward()
    np.testing.assert_allclose(val(z.grad), [2.0])


def test_backward_without_grad_fn():
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad and does not have a grad_fn"):
        tcli.tensor(2.0).backward()
    x = leaf([1.0])
    with tcli.no_grad():
        y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
        y.backward()


def test_gradient_accumulates_in_place():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    g = x.grad
    np.testing.assert_allclose(val(g), [2.0, 4.0, 6.0])
    (x * x).sum().backward()
    assert x.grad is g  # PyTorch adds into the existing .grad
    np.testing.assert_allclose(val(g), [4.0, 8.0, 12.0])
    (3 * x).sum().backward()
    np.testing.assert_allclose(val(x.grad), [7.0, 11.0, 15.0])
    assert x.grad is g


# ---- a product's gradient added straight into an existing .grad ----------------------------------------------
# Where a leaf's dense .grad exists and one mm edge alone feeds it, BLAS adds the product into it in one pass
# (beta = 1) instead of making a temporary and adding that. What the user sees must not change.

def _mm_case(dt, seed, m=24, k=40, n=16):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, k)), rng.standard_normal((k, n)), rng.standard_normal((m, n))


@pytest.mark.parametrize("dt", [tcli.float32, tcli.float64])
def test_mm_gradients_accumulate_into_the_same_grad_objects(dt):
    a, b, g = _mm_case(dt, 1)
    x, w = leaf(a, dt), leaf(b, dt)
    up = tcli.tensor(g, dtype=dt)
    x.mm(w).backward(up)
    gx, gw = x.grad, w.grad
    versions = (version(gx), version(gw))
    for _ in range(2):
        x.mm(w).backward(up)
    assert x.grad is gx and w.grad is gw
    assert version(gx) > versions[0] and version(gw) > versions[1]  # changed in place, as add_ counts it
    rtol = 1e-5 if dt is tcli.float32 else 1e-12
    np.testing.assert_allclose(val(gw), 3 * a.T @ g, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(val(gx), 3 * g @ b.T, rtol=rtol, atol=rtol)
    gw.zero_()
    x.mm(w).backward(up)
    np.testing.assert_allclose(val(w.grad), a.T @ g, rtol=rtol, atol=rtol)


def test_mm_gradient_into_grad_keeps_hooks_shared_leaves_and_odd_grads_exact():
    a, b, g = _mm_case(tcli.float64, 2)
    up = tcli.tensor(g)
    # a hook on the leaf sees this backward's gradient alone, not the sum already in .grad
    w = leaf(b)
    seen = []
    w.register_hook(lambda grad: seen.append(val(grad)))
    for _ in range(2):
        tcli.tensor(a).mm(w).backward(up)
    np.testing.assert_allclose(seen[1], a.T @ g, rtol=1e-12)
    np.testing.assert_allclose(val(w.grad), 2 * a.T @ g, rtol=1e-12)
    # a leaf on both sides of the product: its two gradients are summed before they reach .grad
    sq, u = a[:, :24], g[:, :1] * g[:1, :1] + np.eye(24, 1)
    up_s = np.tile(u, (1, 24))
    s = leaf(sq)
    s.grad = tcli.ones(24, 24, dtype=tcli.float64)
    s.mm(s).backward(tcli.tensor(up_s))
    np.testing.assert_allclose(val(s.grad), 1 + up_s @ sq.T + sq.T @ up_s, rtol=1e-12)
    # a transposed .grad is added into through its own layout
    w = leaf(b)
    w.grad = tcli.ones(16, 40, dtype=tcli.float64).t()
    tcli.tensor(a).mm(w).backward(up)
    np.testing.assert_allclose(val(w.grad), 1 + a.T @ g, rtol=1e-12)
    # a .grad whose memory is an operand of its own gradient's product: BLAS must not write what it reads
    base = np.ascontiguousarray(a.T)  # (40, 24)
    up_w = g[:, :1] @ g[:1, :] @ np.ones((16, 24))  # (24, 24)
    expected = base + base @ up_w
    w = leaf(np.ones((40, 24)))
    w.grad = tcli.from_numpy(base)
    tcli.from_numpy(base).t().mm(w).backward(tcli.tensor(up_w))
    np.testing.assert_allclose(val(w.grad), expected, rtol=1e-12)


def test_linear_weight_gradient_reaches_grad_through_its_transpose():
    """F.linear is addmm(b, x, w.t()): w's gradient is added into w.grad through the transposed view."""
    a, b, g = _mm_case(tcli.float64, 4)  # x (24, 40), w.T (40, 16)
    w, bias = leaf(b.T.copy()), leaf(np.zeros(16))
    x = tcli.tensor(a)
    for _ in range(2):
        tcli.nn.functional.linear(x, w, bias).backward(tcli.tensor(g))
    grad = w.grad
    tcli.nn.functional.linear(x, w, bias).backward(tcli.tensor(g))
    assert w.grad is grad and w.grad.is_contiguous()
    np.testing.assert_allclose(val(w.grad), 3 * g.T @ a, rtol=1e-12)
    np.testing.assert_allclose(val(bias.grad), 3 * g.sum(0), rtol=1e-12)
    # the transposed view retains its own gradient, or has a hook: it must still see the gradient
    wt = w.t()
    wt.retain_grad()
    seen = []
    wt.register_hook(lambda grad: seen.append(val(grad)))
    x.mm(wt).backward(tcli.tensor(g))
    np.testing.assert_allclose(val(wt.grad), a.T @ g, rtol=1e-12)
    np.testing.assert_allclose(seen[0], a.T @ g, rtol=1e-12)
    np.testing.assert_allclose(val(w.grad), 4 * g.T @ a, rtol=1e-12)


def test_grad_aliasing_the_other_operand_or_of_a_stale_shape_takes_the_ordinary_path():
    """A node's first product must not change what its second reads: with x.grad = x.detach(), adding x's
    gradient into x.grad before w's gradient (x.T @ g) is computed would change w's. And a .grad left from before
    `w.data = ...` changed w's shape gets PyTorch's size error, not a product written past its end."""
    a, b, g = _mm_case(tcli.float64, 5, m=32, k=32, n=32)
    x, w = leaf(a), leaf(b)
    x.grad = x.detach()  # PyTorch allows it: the same memory
    x.mm(w).backward(tcli.tensor(g))
    np.testing.assert_allclose(val(w.grad), a.T @ g, rtol=1e-12)
    np.testing.assert_allclose(val(x.grad), a + g @ b.T, rtol=1e-12)
    x, w, bias = leaf(a[:, :8]), leaf(b[:4, :8]), leaf(np.zeros(4))
    x.grad = x.detach()
    tcli.nn.functional.linear(x, w, bias).backward(tcli.tensor(g[:, :4]))
    np.testing.assert_allclose(val(w.grad), g[:, :4].T @ a[:, :8], rtol=1e-12)
    w = leaf(b)
    w.grad = tcli.zeros(32, 32, dtype=tcli.float64)
    w.data = tcli.tensor(b[:, :24])
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(32\) must match the size of tensor b \(24\)"):
        tcli.tensor(a).mm(w).backward(tcli.tensor(g[:, :24]))


def test_mm_gradient_left_to_autograd_grad_and_create_graph():
    a, b, g = _mm_case(tcli.float64, 3)
    x, w = tcli.tensor(a), leaf(b)
    w.grad = tcli.ones(40, 16, dtype=tcli.float64)
    (gw,) = tcli.autograd.grad(x.mm(w), w, tcli.tensor(g))
    np.testing.assert_allclose(val(gw), a.T @ g, rtol=1e-12)
    np.testing.assert_array_equal(val(w.grad), np.ones((40, 16)))  # autograd.grad leaves .grad alone
    x.requires_grad_()
    with pytest.warns(UserWarning, match="reference cycle"):  # PyTorch warns here too
        x.mm(w).backward(tcli.tensor(g), create_graph=True)
    np.testing.assert_allclose(val(w.grad), 1 + a.T @ g, rtol=1e-12)
    assert w.grad.grad_fn is not None  # create_graph: the sum keeps its history (it depends on x)


def test_grad_zero_and_reset():
    x = leaf([1.0, 2.0])
    (x * 5).sum().backward()
    g = x.grad
    assert x.grad.zero_() is g
    np.testing.assert_array_equal(val(x.grad), [0.0, 0.0])
    (x * 2).sum().backward()
    assert x.grad is g
    np.testing.assert_allclose(val(x.grad), [2.0, 2.0])
    x.grad = None
    (x * 7).sum().backward()
    assert x.grad is not g
    np.testing.assert_allclose(val(x.grad), [7.0, 7.0])
    assert not x.grad.requires_grad and x.grad.grad_fn is None


def test_grad_not_aliased_with_user_gradient():
    x = leaf([1.0, 2.0])
    seed = tcli.tensor([1.0, 1.0])
    (x * 1).backward(seed)
    (x * 1).backward(seed)
    np.testing.assert_allclose(val(x.grad), [2.0, 2.0])
    np.testing.assert_allclose(val(seed), [1.0, 1.0])  # accumulating must not write into the user's tensor


def test_retain_grad():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    assert not y.retains_grad
    y.retain_grad()
    assert y.retains_grad
    x.retain_grad()  # no-op on a leaf
    assert not x.retains_grad
    (y * y).sum().backward()
    np.testing.assert_allclose(val(y.grad), [4.0, 8.0, 12.0])
    np.testing.assert_allclose(val(x.grad), [8.0, 16.0, 24.0])
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"):
        tcli.ones(2).retain_grad()


def test_reading_grad_of_non_leaf_warns():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.sum().backward()
    with pytest.warns(UserWarning, match="is not a leaf Tensor is being accessed"):
        assert y.grad is None
    z = x * 3
    z.retain_grad()
    z.sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert z.grad is not None  # a retained grad reads without a warning
        assert x.grad is not None


def test_backward_twice_needs_retain_graph():
    x = leaf([1.0, 2.0, 3.0])
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        loss.backward()
    x.grad = None
    loss = (x.exp() * 2).sum()
    loss.backward(retain_graph=True)
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(val(x.grad), 6 * np.exp([1.0, 2.0, 3.0]), rtol=1e-6)
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        loss.backward()


@pytest.mark.parametrize("op, slope", [
    (lambda x: x * 2, None), (lambda x: 2.5 * x, None), (lambda x: x / 2, None), (lambda x: x.mul(3), None),
    (lambda x: x[tcli.tensor([0, 1])], None), (lambda x: x + 2, 1.0), (lambda x: x - 2, 1.0), (lambda x: -x, -1.0),
], ids=["mul", "rmul", "div", "mul_method", "index", "add", "sub", "neg"])
def test_a_second_backward_through_a_number_operand_raises_as_in_pytorch(op, slope):
    """PyTorch saves a number operand of mul/div as a tensor, and an index's tensors, so a second backward fails
    there even though tcli's gradient needs neither saved; add/sub/neg save nothing and may run twice."""
    x = leaf([1.0, 2.0])
    loss = op(x).sum()
    loss.backward()
    if slope is None:
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
            loss.backward()
    else:
        loss.backward()
        assert val(x.grad).tolist() == [2 * slope, 2 * slope]  # both backwards added up


def test_saved_tensors_freed_after_backward():
    x = leaf([0.5, 1.0])
    h = x * 2
    y = h.sin().sum()  # sin saves its input h
    ref = weakref.ref(h)
    del h
    gc.collect()
    assert ref() is not None  # the graph keeps it until backward
    y.backward()
    gc.collect()
    assert ref() is None
    np.testing.assert_allclose(val(x.grad), 2 * np.cos([1.0, 2.0]), rtol=1e-6)


def test_saved_tensors_kept_with_retain_graph():
    x = leaf([0.5, 1.0])
    h = x * 2
    y = h.sin().sum()
    ref = weakref.ref(h)
    del h
    y.backward(retain_graph=True)
    gc.collect()
    assert ref() is not None
    y.backward()
    gc.collect()
    assert ref() is None
    np.testing.assert_allclose(val(x.grad), 4 * np.cos([1.0, 2.0]), rtol=1e-6)


def test_tcli_autograd_backward_function():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    tcli.autograd.backward([(a * b).sum(), a.sum()])
    np.testing.assert_allclose(val(a.grad), [4.0, 5.0])
    np.testing.assert_allclose(val(b.grad), [1.0, 2.0])


# ---- grad modes ------------------------------------------------------------------------------------------------

def test_no_grad_context():
    x = leaf([1.0, 2.0])
    with tcli.no_grad():
        assert not tcli.is_grad_enabled()
        y = x * 2
        with tcli.enable_grad():
            assert tcli.is_grad_enabled()
            z = x * 2
        assert not tcli.is_grad_enabled()
    assert tcli.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    assert z.requires_grad and z.grad_fn is not None


def test_no_grad_restores_on_exception():
    with pytest.raises(ValueError):
        with tcli.no_grad():
            raise ValueError("boom")
    assert tcli.is_grad_enabled()


def test_no_grad_and_enable_grad_as_decorators():
    x = leaf([1.0])

    @tcli.no_grad()
    def called():
        return x * 2, tcli.is_grad_enabled()

    @tcli.no_grad
    def bare():
        return x * 2

    @tcli.enable_grad()
    def enabled():
        return x * 2

    y, mode = called()
    assert not y.requires_grad and not mode
    assert not bare().requires_grad
    assert called.__name__ == "called"
    with tcli.no_grad():
        assert enabled().requires_grad
        assert not tcli.is_grad_enabled()
    assert tcli.is_grad_enabled()


def test_set_grad_enabled_as_context_function_and_decorator():
    x = leaf([1.0])
    with tcli.set_grad_enabled(False):
        assert not tcli.is_grad_enabled()
        assert not (x * 2).requires_grad
    assert tcli.is_grad_enabled()
    with tcli.no_grad():
        with tcli.set_grad_enabled(True):
            assert (x * 2).requires_grad
        assert not tcli.is_grad_enabled()
    # a plain call switches the mode until switched back
    tcli.set_grad_enabled(False)
    try:
        assert not tcli.is_grad_enabled()
        assert not (x * 2).requires_grad
    finally:
        tcli.set_grad_enabled(True)
    assert tcli.is_grad_enabled()


def test_set_grad_enabled_decorator_does_not_leak():
    @tcli.set_grad_enabled(False)
    def f():
        return tcli.is_grad_enabled()

    # PyTorch: decorating restores the mode that was on before set_grad_enabled(False) was built
    assert tcli.is_grad_enabled()
    assert f() is False
    assert tcli.is_grad_enabled()


def test_inference_mode_context_and_decorator():
    x = leaf([1.0, 2.0])
    with tcli.inference_mode():
        assert tcli.is_inference_mode_enabled() and not tcli.is_grad_enabled()
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert tcli.is_grad_enabled() and not tcli.is_inference_mode_enabled()
    with tcli.inference_mode(False):
        assert tcli.is_grad_enabled()
        assert (x * 2).requires_grad

    @tcli.inference_mode()
    def f():
        return x * 3

    @tcli.inference_mode
    def g():
        return x * 3

    assert not f().requires_grad and not g().requires_grad
    assert tcli.is_grad_enabled()


def test_grad_mode_decorators_on_generators():
    x = leaf([1.0])

    @tcli.inference_mode()
    def gen_inf(n):
        for _ in range(n):
            got = yield (x * 2).requires_grad, tcli.is_grad_enabled()
            assert got == "sent"

    @tcli.no_grad()
    def gen_nograd():
        yield tcli.is_grad_enabled()
        yield tcli.is_grad_enabled()

    assert inspect.isgeneratorfunction(gen_inf)
    it = gen_inf(3)
    assert next(it) == (False, False)
    assert tcli.is_grad_enabled()  # the mode applies only while the generator runs
    assert it.send("sent") == (False, False)
    assert tcli.is_grad_enabled()
    assert it.send("sent") == (False, False)
    with pytest.raises(StopIteration):
        it.send("sent")
    assert tcli.is_grad_enabled()
    assert list(gen_nograd()) == [False, False]
    assert tcli.is_grad_enabled()


# ---- detach, data ---------------------------------------------------------------------------------------------

def test_detach_shares_memory_without_history():
    x = leaf([1.0, 2.0])
    y = x * 2
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    with tcli.no_grad():
        d[0] = 10.0
    assert y[0].item() == 10.0  # same storage
    dx = x.detach()
    dx[1] = 5.0
    assert x[1].item() == 5.0


def test_detach_in_place():
    x = leaf([1.0, 2.0])
    y = x * 2
    assert y.detach_() is y
    assert y.is_leaf and not y.requires_grad and y.grad_fn is None


def test_data_attribute():
    x = leaf([1.0, 2.0])
    d = x.data
    assert not d.requires_grad and d.is_leaf
    d.mul_(3)  # allowed, and shares memory
    np.testing.assert_allclose(val(x), [3.0, 6.0])
    # changes through .data are not tracked by the version counter
    y = x.sin().sum()
    x.data.add_(1)
    y.backward()
    np.testing.assert_allclose(val(x.grad), np.cos([4.0, 7.0]), rtol=1e-6)
    x.data = tcli.tensor([0.0, 0.0])
    np.testing.assert_array_equal(val(x), [0.0, 0.0])
    assert x.requires_grad and x.is_leaf


# ---- in-place rules --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("op", [
    lambda x: x.add_(1), lambda x: x.mul_(2), lambda x: x.zero_(), lambda x: x.fill_(3.0),
    lambda x: x.copy_(tcli.ones(3)), lambda x: x.__iadd__(1),
])
def test_in_place_on_leaf_requiring_grad(op):
    x = leaf([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        op(x)
    np.testing.assert_array_equal(val(x), [1.0, 2.0, 3.0])
    with tcli.no_grad():
        op(x)  # fine without grad recording
    assert x.is_leaf and x.requires_grad


def test_in_place_on_view_of_leaf_requiring_grad():
    x = leaf([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is being used in an "
                                           "in-place operation."):
        x[0:2].mul_(2)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        x[0] = 1.0


def test_modified_saved_tensor_is_detected_with_source_hint():
    x = leaf([1.0, 2.0, 3.0])
    a = x.exp()  # exp saves its result
    a.add_(1)
    loss = a.sum()
    with pytest.raises(RuntimeError, match="modified by an inplace operation") as info:
        loss.backward()
    msg = str(info.value)
    assert "is at version 1; expected version 0 instead" in msg
    assert "hint:" in msg and THIS_FILE in msg and "a.add_(1)" in msg


def test_modified_saved_input_is_detected():
    x = leaf([1.0, 2.0])
    y = x * 1
    z = y.sin()  # saves y
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation") as info:
        z.sum().backward()
    assert THIS_FILE in str(info.value)


def test_in_place_on_non_leaf_rebases_history():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 1
    y.mul_(2)
    assert y.grad_fn.name() == "MulBackward0" and not y.is_leaf
    y.sum().backward()
    np.testing.assert_allclose(val(x.grad), [2.0, 2.0, 2.0])
    np.testing.assert_allclose(val(y), [2.0, 4.0, 6.0])


def test_in_place_chain_on_non_leaf():
    x = leaf([1.0, 2.0])
    y = x * 1
    y += 1
    y *= y.detach().clone()  # a constant copy of the current value (a bare detach() shares the version counter)
    y.exp_()
    y.sum().backward()
    v = np.array([2.0, 3.0])
    np.testing.assert_allclose(val(x.grad), np.exp(v * v) * v, rtol=1e-5)


def test_in_place_through_view_of_non_leaf():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 1
    y[0].mul_(3)
    assert type(y.grad_fn).__name__ == "CopySlices"
    np.testing.assert_allclose(val(y), [3.0, 2.0, 3.0])
    y.sum().backward()
    np.testing.assert_allclose(val(x.grad), [3.0, 1.0, 1.0])

    x = leaf([1.0, 2.0, 3.0])
    y = x * 1
    y[1:] += 1
    np.testing.assert_allclose(val(y), [1.0, 3.0, 4.0])
    (y * tcli.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(val(x.grad), [1.0, 2.0, 3.0])

    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    y[1:] = 0.0
    y.sum().backward()
    np.testing.assert_allclose(val(x.grad), [2.0, 0.0, 0.0])


def test_in_place_with_grad_requiring_operand():
    x = leaf([1.0, 2.0, 3.0])
    a = tcli.zeros(3)
    a.add_(x * 2)
    assert a.requires_grad and not a.is_leaf and a.grad_fn.name() == "AddBackward0"
    a.sum().backward()
    np.testing.assert_allclose(val(x.grad), [2.0, 2.0, 2.0])


def test_copy_into_non_leaf():
    x = leaf([1.0, 2.0])
    buf = tcli.zeros(2)
    buf.copy_(x * 3)
    (buf * tcli.tensor([1.0, 10.0])).sum().backward()
    np.testing.assert_allclose(val(x.grad), [3.0, 30.0])


def test_in_place_rebasing_matches_torch():
    torch = pytest.importorskip("torch")

    def run(m):
        x = m.tensor([1.0, -2.0, 3.0, 0.5], requires_grad=True)
        y = x * 1
        y[1:3].mul_(y[0:2].detach() + 1)
        y.sub_(0.5)
        y[0] = y[3] * 2
        (y * y).sum().backward()
        return y.detach().numpy().copy(), x.grad.numpy().copy()

    for a, b in zip(run(tcli), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


# ---- autograd.grad ---------------------------------------------------------------------------------------------

def test_autograd_grad_basic():
    x = leaf([1.0, 2.0, 3.0])
    y = (x ** 3).sum()
    (g,) = tcli.autograd.grad(y, x)
    np.testing.assert_allclose(val(g), [3.0, 12.0, 27.0])
    assert x.grad is None  # grad() does not touch .grad
    assert not g.requires_grad


def test_autograd_grad_second_derivative():
    x = leaf([1.0, 2.0, 3.0])
    y = (x ** 3).sum()
    (g,) = tcli.autograd.grad(y, x, create_graph=True)
    assert g.requires_grad
    np.testing.assert_allclose(val(g), [3.0, 12.0, 27.0])
    (g2,) = tcli.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(val(g2), [6.0, 12.0, 18.0])


def test_backward_create_graph_gives_differentiable_grad():
    x = leaf([1.0, 2.0])
    with pytest.warns(UserWarning, match="^Using backward.. with create_graph=True will create a reference") as seen:
        (x ** 3).sum().backward(create_graph=True)
    assert seen[0].filename == __file__  # PyTorch's warning, pointing at the user's line
    assert x.grad.requires_grad
    (g2,) = tcli.autograd.grad(x.grad.sum(), x)
    np.testing.assert_allclose(val(g2), [6.0, 12.0])


def test_autograd_grad_unused_and_errors():
    x, u = leaf([1.0, 2.0]), leaf([5.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        tcli.autograd.grad(y, [x, u], retain_graph=True)
    gx, gu = tcli.autograd.grad(y, [x, u], allow_unused=True, retain_graph=True)
    np.testing.assert_allclose(val(gx), [2.0, 2.0])
    assert gu is None
    with pytest.raises(RuntimeError, match="One of the differentiated Tensors does not require grad"):
        tcli.autograd.grad(y, tcli.ones(2))


def test_autograd_grad_with_grad_outputs_and_intermediate_inputs():
    x = leaf([1.0, 2.0])
    h = x * x
    y = h * 3
    gh, gx = tcli.autograd.grad(y, [h, x], grad_outputs=tcli.tensor([1.0, -1.0]))
    np.testing.assert_allclose(val(gh), [3.0, -3.0])
    np.testing.assert_allclose(val(gx), [6.0, -12.0])


# ---- gradcheck and custom Functions ------------------------------------------------------------------------------

class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x ** 2 * grad


TcliCube = Cube


class BadExp(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return 2 * y * grad  # wrong on purpose


class ScaleAdd(Function):
    """a * k + b, with a Python-number argument in the middle."""

    @staticmethod
    def forward(ctx, a, k, b):
        ctx.k = k
        ctx.seen = ctx.needs_input_grad
        ctx.grad_enabled_in_forward = tcli.is_grad_enabled()
        return a * k + b

    @staticmethod
    def backward(ctx, grad):
        ga = grad * ctx.k if ctx.needs_input_grad[0] else None
        gb = grad if ctx.needs_input_grad[2] else None
        return ga, None, gb


def test_gradcheck_on_correct_functions():
    a = tcli.tensor([0.3, -0.7, 1.1], dtype=tcli.float64, requires_grad=True)
    b = tcli.tensor([1.5, 0.2, -0.4], dtype=tcli.float64, requires_grad=True)
    assert tcli.autograd.gradcheck(lambda p, q: (p * q).sin() + p.exp() / (q * q + 1), (a, b))
    assert tcli.autograd.gradcheck(Cube.apply, (a,))


def test_gradcheck_on_wrong_function():
    a = tcli.tensor([0.3, -0.7], dtype=tcli.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        tcli.autograd.gradcheck(BadExp.apply, (a,))
    with pytest.raises(RuntimeError) as info:
        tcli.autograd.gradcheck(BadExp.apply, (a,))
    assert type(info.value).__name__ == "GradcheckError"
    assert tcli.autograd.gradcheck(BadExp.apply, (a,), raise_exception=False) is False


def test_gradgradcheck():
    a = tcli.tensor([0.3, -0.7], dtype=tcli.float64, requires_grad=True)
    assert tcli.autograd.gradgradcheck(lambda p: (p * p * p).sum(), (a,))


def test_custom_function():
    x = leaf([1.0, 2.0, 3.0])
    y = Cube.apply(x)
    np.testing.assert_allclose(val(y), [1.0, 8.0, 27.0])
    assert y.requires_grad and not y.is_leaf
    assert y.grad_fn.name() == "CubeBackward"
    assert "grad_fn=<CubeBackward>" in repr(y)
    assert "CubeBackward object at 0x" in repr(y.grad_fn)
    assert y.grad_fn.next_functions[0][0].variable is x
    y.sum().backward()
    np.testing.assert_allclose(val(x.grad), [3.0, 12.0, 27.0])


def test_custom_function_needs_input_grad_and_non_tensor_args():
    a = leaf([1.0, 2.0])
    b = tcli.tensor([10.0, 20.0])
    y = ScaleAdd.apply(a, 3.0, b)
    np.testing.assert_allclose(val(y), [13.0, 26.0])
    assert y.grad_fn.name() == "ScaleAddBackward"
    y.sum().backward()
    np.testing.assert_allclose(val(a.grad), [3.0, 3.0])

    b2 = leaf([10.0, 20.0])
    captured = {}

    class Spy(ScaleAdd):
        @staticmethod
        def forward(ctx, a, k, b):
            captured["needs"] = ctx.needs_input_grad
            captured["enabled"] = tcli.is_grad_enabled()
            return ScaleAdd.forward(ctx, a, k, b)

    out = Spy.apply(tcli.tensor([1.0, 2.0]), 2.0, b2)
    assert captured["needs"] == (False, False, True)
    assert captured["enabled"] is False  # forward runs without recording
    out.sum().backward()
    np.testing.assert_allclose(val(b2.grad), [1.0, 1.0])


def test_custom_function_without_grad_inputs():
    y = Cube.apply(tcli.tensor([2.0]))
    assert not y.requires_grad and y.grad_fn is None
    with tcli.no_grad():
        z = Cube.apply(leaf([2.0]))
    assert not z.requires_grad


def test_custom_function_matches_torch_names():
    torch = pytest.importorskip("torch")

    class Cube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * grad

    t = Cube.apply(torch.tensor([1.0, 2.0], requires_grad=True))
    m = TcliCube.apply(leaf([1.0, 2.0]))
    assert m.grad_fn.name() == t.grad_fn.name()
    assert repr(m) == repr(t)


# ---- hooks -------------------------------------------------------------------------------------------------------

def test_hook_on_leaf_modifies_gradient():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(val(g)))
    x.register_hook(lambda g: g * 2)
    (x * 3).sum().backward()
    np.testing.assert_allclose(seen[0], [3.0, 3.0])
    np.testing.assert_allclose(val(x.grad), [6.0, 6.0])


def test_hook_on_intermediate_and_remove():
    x = leaf([1.0, 2.0])
    y = x * 2
    handle = y.register_hook(lambda g: g * 10)
    (y * y).sum().backward(retain_graph=True)
    np.testing.assert_allclose(val(x.grad), [80.0, 160.0])
    handle.remove()
    x.grad = None
    (y * 1).sum().backward()
    np.testing.assert_allclose(val(x.grad), [2.0, 2.0])
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        tcli.ones(2).register_hook(lambda g: g)


# ---- graph shapes ------------------------------------------------------------------------------------------------

def test_very_deep_chain_has_no_recursion_limit():
    x = tcli.tensor(1.0, dtype=tcli.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 1.0001 ** 100_000, rtol=1e-9)
    del y
    gc.collect()


def test_very_deep_chain_with_autograd_grad():
    x = leaf([1.0, 2.0])
    y = x
    for _ in range(20_000):
        y = y + 1
    (g,) = tcli.autograd.grad(y.sum(), x)
    np.testing.assert_array_equal(val(g), [1.0, 1.0])


def test_diamond_graph():
    x = leaf([0.1, 0.7])
    a = x * 2
    d = (a.sin() + a.cos()).sum()
    d.backward()
    av = 2 * np.array([0.1, 0.7])
    np.testing.assert_allclose(val(x.grad), 2 * (np.cos(av) - np.sin(av)), rtol=1e-6)
    z = leaf([2.0, 3.0])
    (z * z + z).sum().backward()  # one leaf reached by three edges
    np.testing.assert_allclose(val(z.grad), [5.0, 7.0])


def test_broadcast_gradients_sum_back_to_input_shapes():
    a = tcli.tensor([[1.0], [2.0], [3.0]], requires_grad=True)   # (3, 1)
    b = tcli.tensor([[1.0, 10.0, 100.0, 1000.0]], requires_grad=True)  # (1, 4)
    s = tcli.tensor(2.0, requires_grad=True)  # 0-d
    bias = tcli.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)  # (4,)
    out = (a * b + bias) * s
    assert out.shape == (3, 4)
    out.sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (1, 4) and s.grad.shape == () and bias.grad.shape == (4,)
    np.testing.assert_allclose(val(a.grad), [[2222.0]] * 3)
    np.testing.assert_allclose(val(b.grad), [[12.0] * 4])
    np.testing.assert_allclose(val(bias.grad), [6.0] * 4)
    np.testing.assert_allclose(s.grad.item(), (val(a) * val(b) + val(bias)).sum())


def test_mixed_dtype_gradients_keep_input_dtypes():
    x32 = leaf([1.0, 2.0], dtype=tcli.float32)
    x64 = leaf([3.0, 4.0], dtype=tcli.float64)
    y = x32 * x64
    assert y.dtype is tcli.float64
    y.sum().backward()
    assert x32.grad.dtype is tcli.float32 and x64.grad.dtype is tcli.float64
    np.testing.assert_allclose(val(x32.grad), [3.0, 4.0])
    np.testing.assert_allclose(val(x64.grad), [1.0, 2.0])


# ---- tutorial flows -----------------------------------------------------------------------------------------------

def test_scalar_tutorial():
    x = tcli.tensor(1.0, requires_grad=True)
    w = tcli.tensor(2.0, requires_grad=True)
    b = tcli.tensor(3.0, requires_grad=True)
    y = w * x + b
    assert y.grad_fn.name() == "AddBackward0"
    y.backward()
    assert x.grad.item() == 2.0 and w.grad.item() == 1.0 and b.grad.item() == 1.0
    assert repr(w.grad) == "tensor(1.)"


def test_ones_tutorial():
    x = tcli.ones(2, 2, requires_grad=True)
    y = x + 2
    z = y * y * 3
    out = z.mean()
    assert repr(y) == "tensor([[3., 3.],\n        [3., 3.]], grad_fn=<AddBackward0>)"
    assert repr(out) == "tensor(27., grad_fn=<MeanBackward0>)"
    out.backward()
    np.testing.assert_allclose(val(x.grad), [[4.5, 4.5], [4.5, 4.5]])
    assert repr(x) == "tensor([[1., 1.],\n        [1., 1.]], requires_grad=True)"


def test_two_layer_network_step_matches_numpy():
    rng = np.random.default_rng(0)
    n, d_in, hidden, d_out = 16, 10, 12, 3
    xs, ys = rng.standard_normal((n, d_in)), rng.standard_normal((n, d_out))
    w1_np, w2_np = rng.standard_normal((d_in, hidden)), rng.standard_normal((hidden, d_out))
    x, y = tcli.tensor(xs), tcli.tensor(ys)
    assert x.dtype is tcli.float64
    w1 = tcli.tensor(w1_np, requires_grad=True)
    w2 = tcli.tensor(w2_np, requires_grad=True)
    lr = 1e-4

    losses = []
    for _ in range(3):
        h = x.mm(w1)
        h_relu = h.clamp(min=0)
        y_pred = h_relu.mm(w2)
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()

        # the same step by hand in numpy
        h_np = xs @ w1_np
        h_relu_np = np.maximum(h_np, 0)
        y_pred_np = h_relu_np @ w2_np
        np.testing.assert_allclose(loss.item(), ((y_pred_np - ys) ** 2).sum(), rtol=1e-12)
        grad_y_pred = 2.0 * (y_pred_np - ys)
        grad_w2 = h_relu_np.T @ grad_y_pred
        grad_h = (grad_y_pred @ w2_np.T) * (h_np > 0)
        grad_w1 = xs.T @ grad_h
        np.testing.assert_allclose(val(w1.grad), grad_w1, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(val(w2.grad), grad_w2, rtol=1e-10, atol=1e-12)

        w1_id, g1 = id(w1), w1.grad
        with tcli.no_grad():
            w1 -= lr * w1.grad
            w2 -= lr * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
        assert id(w1) == w1_id and w1.grad is g1
        assert w1.is_leaf and w1.requires_grad and w1.grad_fn is None
        w1_np = w1_np - lr * grad_w1
        w2_np = w2_np - lr * grad_w2
        np.testing.assert_allclose(val(w1), w1_np, rtol=1e-12)
    assert losses[2] < losses[1] < losses[0]


def test_two_layer_network_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    xs, ys = rng.standard_normal((8, 5)), rng.standard_normal((8, 2))
    w1_np, w2_np = rng.standard_normal((5, 6)), rng.standard_normal((6, 2))

    def run(m):
        x, y = m.tensor(xs), m.tensor(ys)
        w1 = m.tensor(w1_np, requires_grad=True)
        w2 = m.tensor(w2_np, requires_grad=True)
        loss = ((x @ w1).relu() @ w2 - y).pow(2).mean()
        loss.backward()
        return loss.item(), w1.grad.numpy().copy(), w2.grad.numpy().copy()

    mine, theirs = run(tcli), run(torch)
    np.testing.assert_allclose(mine[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(mine[1], theirs[1], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mine[2], theirs[2], rtol=1e-10, atol=1e-12)


def test_learner_mistakes_get_pytorchs_errors():
    x = leaf([1.0, 2.0])
    y = x * 2
    with pytest.raises(RuntimeError, match="^you can only change requires_grad flags of leaf variables"):
        y.requires_grad = True
    assert y.requires_grad_() is y  # the method lets an already-tracked tensor pass, as PyTorch's does
    with pytest.raises(RuntimeError, match="^Only Tensors of floating point and complex dtype can require gradients"):
        tcli.nn.Parameter(tcli.tensor([1, 2]))
    assert not tcli.nn.Parameter(tcli.tensor([1, 2]), requires_grad=False).requires_grad
    z = leaf([1.0, 2.0])
    z.register_hook(lambda g: tcli.ones(3))
    with pytest.raises(RuntimeError, match="^hook '<lambda>' has changed the size of value"):
        (z * 2).sum().backward()
    w = leaf([1.0, 2.0]) * 1
    s = w * w
    w.add_(1)
    with pytest.raises(RuntimeError, match=r"\[torch.FloatTensor \[2\]\], which is output 0 of Add, is at version 1.*"
                                           r"set_detect_anomaly\(True, check_nan=False\)"):
        s.sum().backward()
    for make, node in ((lambda t: t.exp(), "Exp"), (lambda t: t.sigmoid(), "Sigmoid"),
                       (lambda t: t.softmax(0), "Softmax")):
        out = make(leaf([1.0, 2.0]))
        out.mul_(2)  # an output its own node saved: PyTorch names that node
        with pytest.raises(RuntimeError, match=rf"\[2\]\], which is output 0 of {node}, is at version 1"):
            out.sum().backward()


def test_fill_with_a_tensor_that_requires_grad_passes_its_gradient():
    """fill_(v) with a 0-d v that requires grad: the filled tensor joins the graph and v gets the sum of the
    gradient (it once kept v's value and dropped its gradient). Node names are PyTorch's."""
    v = leaf(2.0)
    y = tcli.zeros(3).fill_(v)
    assert y.requires_grad and y.grad_fn.name() == "FillBackward3"
    (y * tcli.arange(3.0)).sum().backward()
    assert v.grad.item() == 3.0
    x = leaf([1.0, 2.0, 3.0])
    z = x * 1
    assert z.zero_().grad_fn.name() == "ZeroBackward0" and z.fill_(4.0).grad_fn.name() == "FillBackward2"
    z.sum().backward()
    assert val(x.grad).tolist() == [0.0, 0.0, 0.0]


def test_zero_gradients_are_positive_zeros_as_in_pytorch():
    """floor/sign/round pass zeros_like(grad) and max() shares its gradient with a where: a product with a mask
    printed -0. for a negative upstream gradient (and NaN for a NaN one)."""
    x = leaf([1.0, 2.0, 2.0])
    (x.max() * -1).backward()
    assert val(x.grad).tolist() == [0.0, -0.5, -0.5] and not np.signbit(val(x.grad)[0])
    for op in (lambda t: t.floor(), lambda t: t.sign(), lambda t: t.round()):
        y = leaf([1.5, -2.0])
        (op(y) * float("nan")).sum().backward()
        assert val(y.grad).tolist() == [0.0, 0.0] and not np.signbit(val(y.grad)).any()


def test_pre_0_4_variable_is_a_tensor():
    from tcli.autograd import Variable
    data = tcli.ones(2)
    v = Variable(data, requires_grad=True)
    assert isinstance(v, tcli.Tensor) and v.requires_grad and v.is_leaf and not data.requires_grad
    v.detach()[0] = 5.0
    assert data[0].item() == 5.0  # the same memory, as PyTorch's


def test_div_with_a_rounding_mode_has_a_zero_gradient_and_floor_divide_none():
    x, y = leaf([3.5, -2.5]), leaf([2.0, 2.0])
    for mode in ("floor", "trunc"):
        out = tcli.div(x, y, rounding_mode=mode)
        assert out.grad_fn.name() == "DivBackward2"
        out.sum().backward()
        assert val(x.grad).tolist() == [0.0, 0.0] and val(y.grad).tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="^derivative for aten::floor_divide is not implemented"):
        tcli.floor_divide(x, y).sum().backward()


def test_median_and_kthvalue_along_a_dim_have_pytorchs_nodes():
    """They were a select of a sort (SelectBackward0); now MedianBackward1/KthvalueBackward0, with the gradient on
    the index picked, checked by finite differences in float64."""
    rng = np.random.default_rng(11)
    base = rng.normal(size=(3, 5))
    w = rng.normal(size=(3,))
    for op, name in ((lambda t: t.median(1), "MedianBackward1"), (lambda t: t.kthvalue(2, 1), "KthvalueBackward0")):
        x = tcli.tensor(base, requires_grad=True)
        out = op(x)
        assert out.values.grad_fn.name() == name
        (out.values * tcli.tensor(w)).sum().backward()
        numeric = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            d = np.zeros_like(base)
            d[idx] = 1e-6
            hi = (op(tcli.tensor(base + d)).values * tcli.tensor(w)).sum().item()
            lo = (op(tcli.tensor(base - d)).values * tcli.tensor(w)).sum().item()
            numeric[idx] = (hi - lo) / 2e-6
        np.testing.assert_allclose(val(x.grad), numeric, rtol=1e-6, atol=1e-8)

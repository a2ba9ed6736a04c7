"""Tests for tcli.optim: each optimizer's trajectory against a float64 numpy reference (every option), param
groups, grads that are None, zero_grad, closures, state_dict round trips, errors, non-contiguous and float16
parameters, version counters. PyTorch-guarded tests at the end compare trajectories, repr, state_dict and
errors with torch.optim live."""

from collections import defaultdict

import numpy as np
import pytest
from helpers import assert_same_errors, rng_for, version

import tcli
import tcli.optim as optim

SHAPES = ((3, 4), (5,))
STEPS = 5
# (rtol, atol) of a tcli trajectory against the float64 reference: float64 differs from the textbook formulas
# only by rounding order; float32 by float32 rounding in each of the few ops of a step.
REF_TOL = {tcli.float64: (1e-12, 1e-13), tcli.float32: (2e-6, 1e-6)}


@pytest.fixture(autouse=True)
def grad_mode_restored():
    tcli.set_grad_enabled(True)
    yield
    tcli.set_grad_enabled(True)


def problem(key, dtype="float64", shapes=SHAPES, steps=STEPS):
    """Initial values and one gradient per step for each parameter (numpy arrays of ``dtype``)."""
    rng = rng_for(*key)
    values = [rng.uniform(-2, 2, s).astype(dtype) for s in shapes]
    grads = [[rng.uniform(-1, 1, s).astype(dtype) for s in shapes] for _ in range(steps)]
    return values, grads


def trajectory(mod, cls, kwargs, values, grads):
    """Parameter values (numpy) after each step of ``mod.optim.<cls>`` fed the given grads."""
    params = [mod.tensor(v, requires_grad=True) for v in values]
    opt = getattr(mod.optim, cls)(params, **kwargs)
    out = []
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = mod.tensor(g)
        opt.step()
        out.append([p.detach().numpy().copy() for p in params])
    return out


# ---- float64 numpy references (the textbook form of PyTorch's documented algorithms) ---------------------------

def sgd_ref(p, grads, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False):
    buf, out = None, []
    for g in grads:
        d = (-g if maximize else g) + weight_decay * p
        if momentum:
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        p = p - lr * d
        out.append(p)
    return out


def adam_ref(p, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, maximize=False,
             decoupled=False):
    (b1, b2), m, v, vmax, out = betas, 0.0, 0.0, 0.0, []
    for t, g in enumerate(grads, 1):
        d = -g if maximize else g
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            d = d + weight_decay * p
        m = b1 * m + (1 - b1) * d
        v = b2 * v + (1 - b2) * d * d
        vmax = np.maximum(vmax, v)
        denom = np.sqrt(vmax if amsgrad else v) / np.sqrt(1 - b2 ** t) + eps
        p = p - lr / (1 - b1 ** t) * m / denom
        out.append(p)
    return out


def rmsprop_ref(p, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                maximize=False):
    sq, ga, buf, out = 0.0, 0.0, 0.0, []
    for g in grads:
        d = (-g if maximize else g) + weight_decay * p
        sq = alpha * sq + (1 - alpha) * d * d
        if centered:
            ga = alpha * ga + (1 - alpha) * d
            avg = np.sqrt(sq - ga * ga) + eps
        else:
            avg = np.sqrt(sq) + eps
        if momentum > 0:
            buf = momentum * buf + d / avg
            p = p - lr * buf
        else:
            p = p - lr * d / avg
        out.append(p)
    return out


def adagrad_ref(p, grads, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                maximize=False):
    total, out = np.full_like(p, initial_accumulator_value), []
    for t, g in enumerate(grads, 1):
        d = (-g if maximize else g) + weight_decay * p
        total = total + d * d
        p = p - lr / (1 + (t - 1) * lr_decay) * d / (np.sqrt(total) + eps)
        out.append(p)
    return out


def adamw_ref(p, grads, weight_decay=1e-2, **kwargs):
    return adam_ref(p, grads, weight_decay=weight_decay, decoupled=True, **kwargs)


REFS = {"SGD": sgd_ref, "Adam": adam_ref, "AdamW": adamw_ref, "RMSprop": rmsprop_ref, "Adagrad": adagrad_ref}

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01, maximize=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.2, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True, maximize=True)),
    ("Adam", dict(lr=0.02, betas=(0.3, 0.5), amsgrad=True, weight_decay=0.05)),  # lerp's large-weight branch
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.5, amsgrad=True, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True, maximize=True)),
    ("RMSprop", dict(lr=0.005, alpha=0.3, centered=True, momentum=0.9, eps=1e-4)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.5, eps=1e-6)),
    ("Adagrad", dict(lr=0.1, maximize=True)),
]


def case_id(case):
    cls, kwargs = case
    return cls + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("case", CASES, ids=case_id)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_trajectory_matches_reference(case, dtype):
    cls, kwargs = case
    values, grads = problem(case_id(case), dtype)
    got = trajectory(tcli, cls, kwargs, values, grads)
    rtol, atol = REF_TOL[getattr(tcli, dtype)]
    for i, v in enumerate(values):
        ref = REFS[cls](v.astype(np.float64), [g[i].astype(np.float64) for g in grads], **kwargs)
        for step in range(STEPS):
            assert got[step][i].dtype == np.dtype(dtype)
            np.testing.assert_allclose(got[step][i], ref[step], rtol=rtol, atol=atol, err_msg=f"step {step + 1}")


@pytest.mark.parametrize("cls", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_large_parameter_uses_the_parallel_kernel(cls):
    """A parameter above the kernels' parallel threshold gets the same update as the reference."""
    from tcli.kernels.cpu.optim import PARALLEL_UPDATE_MIN
    kwargs = {"SGD": dict(lr=0.1, momentum=0.9, nesterov=True)}.get(cls, dict(lr=0.01))
    values, grads = problem(("large", cls), "float32", shapes=((PARALLEL_UPDATE_MIN + 3,),), steps=2)
    got = trajectory(tcli, cls, kwargs, values, grads)
    ref = REFS[cls](values[0].astype(np.float64), [g[0].astype(np.float64) for g in grads], **kwargs)
    np.testing.assert_allclose(got[-1][0], ref[-1], rtol=2e-6, atol=1e-6)


def test_one_thread_keeps_large_updates_serial():
    """With one thread no kernel may enter a parallel region (a forked DataLoader worker would abort)."""
    from tcli.kernels.cpu.optim import PARALLEL_UPDATE_MIN, _parallel
    threads = tcli.get_num_threads()
    tcli.set_num_threads(1)
    try:
        assert not _parallel(PARALLEL_UPDATE_MIN)
    finally:
        tcli.set_num_threads(threads)
    assert _parallel(PARALLEL_UPDATE_MIN) == (threads > 1)


def test_step_is_in_place_invisible_to_autograd_and_bumps_version():
    w = tcli.tensor([1.0, 2.0, 3.0], requires_grad=True)
    buf = w._buf
    w.grad = tcli.tensor([1.0, 1.0, 1.0])
    before = version(w)
    optim.SGD([w], lr=0.5).step()
    assert w._buf is buf and w.is_leaf and w.requires_grad and w.grad_fn is None
    assert version(w) == before + 1
    np.testing.assert_array_equal(w.detach().numpy(), [0.5, 1.5, 2.5])


@pytest.mark.parametrize("make", [lambda: tcli.tensor([1.0, 2.0, 3.0]).requires_grad_(),
                                  lambda: tcli.tensor([[1.0], [2.0], [3.0]]).t()[0].requires_grad_()],
                         ids=["dense", "view"])
def test_update_of_a_saved_parameter_breaks_a_later_backward(make):
    w = make()
    y = (w * w).sum()
    w.grad = tcli.ones(3)
    optim.Adam([w]).step()
    with pytest.raises(RuntimeError) as excinfo:
        y.backward()
    assert str(excinfo.value).startswith(
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        "[torch.FloatTensor [3]] is at version 1; expected version 0 instead.")


def test_adam_state_layout():
    w = tcli.zeros(2, 3, requires_grad=True)
    opt = optim.Adam([w], amsgrad=True)
    assert isinstance(opt.state, defaultdict) and len(opt.state) == 0
    w.grad = tcli.ones(2, 3)
    opt.step()
    opt.step()
    state = opt.state[w]
    assert list(state) == ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
    assert state["step"].dtype == tcli.float32 and state["step"].shape == () and state["step"].item() == 2.0
    for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
        assert state[key].shape == (2, 3) and state[key].dtype == tcli.float32 and not state[key].requires_grad
    np.testing.assert_allclose(state["exp_avg"].numpy(), 0.19, rtol=1e-6)


def test_step_counter_follows_the_default_dtype():
    tcli.set_default_dtype(tcli.float64)
    try:
        w = tcli.zeros(2, requires_grad=True)
        w.grad = tcli.ones(2)
        opt = optim.RMSprop([w])
        opt.step()
        assert opt.state[w]["step"].dtype == tcli.float64
    finally:
        tcli.set_default_dtype(tcli.float32)


# ---- groups, None grads, zero_grad, closures ---------------------------------------------------------------

def test_param_groups_with_their_own_lr_and_defaults():
    a, b = tcli.ones(2, requires_grad=True), tcli.ones(2, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[0]["momentum"] == 0 and opt.param_groups[1]["params"] == [b]
    a.grad, b.grad = tcli.ones(2), tcli.ones(2)
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), 0.9)
    np.testing.assert_allclose(b.detach().numpy(), 0.5)
    assert list(opt.state) == [b]  # no momentum, no state


def test_add_param_group_later():
    a, b = tcli.ones(2, requires_grad=True), tcli.ones(2, requires_grad=True)
    opt = optim.Adagrad([a], lr=0.1, initial_accumulator_value=1.0)
    opt.add_param_group({"params": [b], "lr": 1.0})
    assert opt.param_groups[1]["initial_accumulator_value"] == 1.0 and len(opt.state) == 1
    a.grad, b.grad = tcli.ones(2), tcli.ones(2)
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), 1 - 0.1 / np.sqrt(2), rtol=1e-6)
    np.testing.assert_allclose(b.detach().numpy(), 1 - 1.0 / np.sqrt(2), rtol=1e-6)  # starts from 1.0 too


def test_params_without_grad_are_skipped():
    a, b = tcli.ones(2, requires_grad=True), tcli.ones(2, requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = tcli.ones(2)
    v = version(b)
    opt.step()
    assert b not in opt.state and version(b) == v
    np.testing.assert_array_equal(b.detach().numpy(), [1.0, 1.0])
    np.testing.assert_allclose(a.detach().numpy(), 0.9, rtol=1e-6)


def test_zero_grad_to_none_and_in_place():
    w = tcli.ones(3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    opt.zero_grad()  # no grad yet: nothing to do
    (w * 2).sum().backward()
    opt.zero_grad()
    assert w.grad is None

    (w * 2).sum().backward()
    grad = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is grad
    np.testing.assert_array_equal(grad.numpy(), [0.0, 0.0, 0.0])

    x = tcli.ones(3, requires_grad=True)
    w.grad = x * 3  # a grad with history (as create_graph=True leaves): zero_grad detaches it
    assert w.grad.grad_fn is not None
    opt.zero_grad(set_to_none=False)
    assert w.grad.grad_fn is None and not w.grad.requires_grad
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 0.0, 0.0])


def test_closure_runs_with_grad_enabled_and_its_loss_is_returned():
    w = tcli.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with tcli.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 5.0
    np.testing.assert_array_equal(w.detach().numpy(), [0.5, -1.0])  # w - 0.25 * 2w
    assert opt.step() is None


# ---- state_dict ---------------------------------------------------------------------------------------------

def test_state_dict_layout():
    a, b, c = (tcli.ones(2, requires_grad=True) for _ in range(3))
    opt = optim.SGD([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1, momentum=0.9)
    for p in (a, c):
        p.grad = tcli.ones(2)
    opt.step()
    sd = opt.state_dict()
    assert list(sd) == ["state", "param_groups"]
    assert list(sd["state"]) == [0, 2] and list(sd["state"][0]) == ["momentum_buffer"]
    assert sd["state"][0]["momentum_buffer"] is opt.state[a]["momentum_buffer"]  # a view of the state, as PyTorch's
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert list(sd["param_groups"][0]) == ["lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize",
                                           "foreach", "differentiable", "fused", "params"]
    assert sd["param_groups"][1]["lr"] == 0.5


@pytest.mark.parametrize("case", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                  ("Adam", dict(lr=0.01, amsgrad=True)), ("AdamW", dict(lr=0.01)),
                                  ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
                                  ("Adagrad", dict(lr=0.1, lr_decay=0.01))], ids=case_id)
def test_state_dict_round_trip_continues_identically(case):
    cls, kwargs = case
    values, grads = problem(("round trip", cls), "float32", steps=6)
    params = [tcli.tensor(v, requires_grad=True) for v in values]
    opt = getattr(optim, cls)(params, **kwargs)

    def run(opt, params, step_grads):
        for gs in step_grads:
            for p, g in zip(params, gs):
                p.grad = tcli.tensor(g)
            opt.step()
        return [p.detach().numpy().copy() for p in params]

    run(opt, params, grads[:3])
    clones = [p.detach().clone().requires_grad_() for p in params]
    other = getattr(optim, cls)(clones, **kwargs)
    sd = opt.state_dict()
    other.load_state_dict(sd)
    for first, second in zip(run(opt, params, grads[3:]), run(other, clones, grads[3:])):
        np.testing.assert_array_equal(first, second)
    # the loaded state is the optimizer's own: stepping one optimizer left the other's state alone
    for key, value in other.state[clones[0]].items():
        assert value is not opt.state[params[0]][key]


def test_load_state_dict_casts_state_to_the_parameter_dtype_but_keeps_step():
    w64 = tcli.zeros(3, dtype=tcli.float64, requires_grad=True)
    opt64 = optim.Adam([w64])
    w64.grad = tcli.ones(3, dtype=tcli.float64)
    opt64.step()
    w32 = tcli.zeros(3, requires_grad=True)
    opt32 = optim.Adam([w32])
    opt32.load_state_dict(opt64.state_dict())
    state = opt32.state[w32]
    assert state["exp_avg"].dtype == tcli.float32 and state["step"].dtype == tcli.float32
    assert opt32.param_groups[0]["params"] == [w32]
    w32.grad = tcli.ones(3)
    opt32.step()
    assert state["step"].item() == 2.0


def test_load_state_dict_accepts_a_step_saved_as_a_number():
    w = tcli.zeros(2, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    sd = {"state": {0: {"step": 3, "exp_avg": tcli.zeros(2), "exp_avg_sq": tcli.zeros(2)}},
          "param_groups": opt.state_dict()["param_groups"]}
    opt.load_state_dict(sd)
    w.grad = tcli.ones(2)
    opt.step()
    step = opt.state[w]["step"]
    assert step.dtype == tcli.float32 and step.item() == 4.0


def test_optimizer_pickles_and_old_groups_get_defaults():
    import pickle
    w = tcli.ones(2, requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = tcli.ones(2)
    opt.step()
    copy = pickle.loads(pickle.dumps(opt))
    assert repr(copy) == repr(opt) and list(copy.state.values())[0]["momentum_buffer"].tolist() == [1.0, 1.0]
    sd = opt.state_dict()
    del sd["param_groups"][0]["maximize"]  # as saved by an older PyTorch
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["maximize"] is False
    opt.step()


def test_load_state_dict_errors():
    a, b = tcli.ones(2, requires_grad=True), tcli.ones(2, requires_grad=True)
    sd = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="^loaded state dict contains a parameter group that doesn't match the size "
                                         "of optimizer's group$"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="^loaded state dict has a different number of parameter groups$"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)


def test_state_of_another_shape_is_refused_before_the_kernel_runs():
    w5 = tcli.zeros(5, requires_grad=True)
    big = optim.Adam([w5])
    w5.grad = tcli.ones(5)
    big.step()
    w3 = tcli.zeros(3, requires_grad=True)
    small = optim.Adam([w3])
    small.load_state_dict(big.state_dict())
    w3.grad = tcli.ones(3)
    with pytest.raises(RuntimeError, match=r"^The size of tensor a \(3\) must match the size of tensor b \(5\) at "
                                           r"non-singleton dimension 0"):
        small.step()


# ---- layouts and dtypes ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_non_contiguous_parameter_and_grad(cls):
    """A transposed parameter and a transposed grad get the update the dense ones get, in their own memory."""
    kwargs = dict(lr=0.1, momentum=0.9) if cls == "SGD" else dict(lr=0.1)
    values, grads = problem(("strided", cls), "float32", shapes=((4, 3),), steps=3)
    dense = trajectory(tcli, cls, kwargs, values, grads)[-1][0]

    w = tcli.tensor(np.ascontiguousarray(values[0].T)).t().requires_grad_()
    assert not w.is_contiguous() and w.is_leaf
    buf = w._buf
    opt = getattr(optim, cls)([w], **kwargs)
    for step, gs in enumerate(grads):
        w.grad = tcli.tensor(np.ascontiguousarray(gs[0].T)).t() if step % 2 else tcli.tensor(gs[0])
        opt.step()
    assert w._buf is buf and version(w) == 3
    np.testing.assert_array_equal(w.detach().numpy(), dense)


def test_float16_parameter_computes_in_float32():
    values, grads = problem(("half",), "float16", shapes=((6,),), steps=3)
    got = trajectory(tcli, "Adam", dict(lr=0.01), values, grads)[-1][0]
    ref = adam_ref(values[0].astype(np.float64), [g[0].astype(np.float64) for g in grads], lr=0.01)[-1]
    assert got.dtype == np.float16
    np.testing.assert_allclose(got, ref, rtol=2e-3, atol=2e-3)


def test_integer_parameter_is_refused():
    w = tcli.tensor([1, 2, 3])
    w.grad = tcli.tensor([1, 1, 1])
    with pytest.raises(NotImplementedError, match="^\"SGD\" not implemented for 'Long'"):
        optim.SGD([w], lr=1).step()


# ---- errors and repr ------------------------------------------------------------------------------------------

def test_constructor_errors():
    w = tcli.ones(2, requires_grad=True)
    with pytest.raises(TypeError) as excinfo:
        optim.SGD(w, lr=0.1)
    assert str(excinfo.value).startswith("params argument given to the optimizer should be an iterable of Tensors or "
                                         "dicts, but got torch.FloatTensor")
    with pytest.raises(ValueError, match="^optimizer got an empty parameter list"):
        optim.Adam([])
    with pytest.raises(ValueError, match="^can't optimize a non-leaf Tensor"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="^some parameters appear in more than one parameter group$"):
        optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    with pytest.raises(TypeError, match="^optimizer can only optimize Tensors, but one of the params is int$"):
        optim.SGD([w, 3], lr=0.1)
    with pytest.raises(TypeError, match="^optimizer parameters need to be organized in ordered collections"):
        optim.SGD([{"params": {w}}], lr=0.1)
    with pytest.raises(ValueError, match="^Nesterov momentum requires a momentum and zero dampening$"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="^betas must be either both floats or both Tensors$"):
        optim.Adam([w], betas=(0, 0.9))
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([w, w], lr=0.1)


@pytest.mark.parametrize("make, message", [
    (lambda w: optim.SGD([w], lr=-1), "Invalid learning rate: -1"),
    (lambda w: optim.SGD([w], lr=0.1, momentum=-0.5), "Invalid momentum value: -0.5"),
    (lambda w: optim.SGD([w], lr=0.1, weight_decay=-1e-3), "Invalid weight_decay value: -0.001"),
    (lambda w: optim.Adam([w], lr=-0.1), "Invalid learning rate: -0.1"),
    (lambda w: optim.Adam([w], eps=-1.0), "Invalid epsilon value: -1.0"),
    (lambda w: optim.Adam([w], betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    (lambda w: optim.AdamW([w], betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (lambda w: optim.AdamW([w], weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda w: optim.RMSprop([w], alpha=-1), "Invalid alpha value: -1"),
    (lambda w: optim.Adagrad([w], lr_decay=-1), "Invalid lr_decay value: -1"),
    (lambda w: optim.Adagrad([w], initial_accumulator_value=-1), "Invalid initial_accumulator_value value: -1"),
])
def test_invalid_hyperparameters(make, message):
    with pytest.raises(ValueError) as excinfo:
        make(tcli.ones(2, requires_grad=True))
    assert str(excinfo.value) == message


def test_named_parameters_and_required_hyperparameters():
    w, b = tcli.ones(2, requires_grad=True), tcli.ones(1, requires_grad=True)
    opt = optim.SGD([("w", w), ("b", b)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["w", "b"] and opt.param_groups[0]["params"] == [w, b]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]
    with pytest.raises(ValueError, match="^all optimizer params should be with/without names"):
        optim.SGD([("w", w), b], lr=0.1)

    class Custom(optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": optim.optimizer.required})

    with pytest.raises(ValueError, match="^parameter group didn't specify a value of required optimization "
                                         "parameter lr$"):
        Custom([w])
    assert Custom([{"params": [w], "lr": 1.0}]).param_groups[0]["lr"] == 1.0


SGD_REPR = """SGD (
Parameter Group 0
    dampening: 0
    differentiable: False
    foreach: None
    fused: None
    lr: 0.1
    maximize: False
    momentum: 0.9
    nesterov: False
    weight_decay: 0
)"""

ADAM_REPR = """Adam (
Parameter Group 0
    amsgrad: False
    betas: (0.9, 0.999)
    capturable: False
    decoupled_weight_decay: False
    differentiable: False
    eps: 1e-08
    foreach: None
    fused: None
    lr: 0.001
    maximize: False
    weight_decay: 0

Parameter Group 1
    amsgrad: False
    betas: (0.9, 0.999)
    capturable: False
    decoupled_weight_decay: False
    differentiable: False
    eps: 1e-08
    foreach: None
    fused: None
    lr: 0.5
    maximize: False
    weight_decay: 0
)"""


def test_repr():
    a, b = tcli.ones(2, requires_grad=True), tcli.ones(2, requires_grad=True)
    assert repr(optim.SGD([a], lr=0.1, momentum=0.9)) == SGD_REPR
    assert repr(optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}])) == ADAM_REPR


# ---- against PyTorch --------------------------------------------------------------------------------------------

TORCH_TOL = {"float64": (1e-12, 0.0), "float32": (1e-6, 1e-7)}  # float32: PyTorch's vectorised sqrt is off by an ulp


@pytest.mark.parametrize("case", CASES, ids=case_id)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_trajectory_matches_torch(case, dtype):
    torch = pytest.importorskip("torch")
    cls, kwargs = case
    values, grads = problem(("torch", case_id(case)), dtype, shapes=((7, 9), (40,)))
    ours, theirs = trajectory(tcli, cls, kwargs, values, grads), trajectory(torch, cls, kwargs, values, grads)
    rtol, atol = (0.0, 0.0) if cls == "SGD" else TORCH_TOL[dtype]  # SGD has no sqrt: the same bits
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=f"step {step + 1}")


def test_repr_and_state_dict_match_torch():
    torch = pytest.importorskip("torch")
    for cls, kwargs in CASES:
        built = []
        for mod in (tcli, torch):
            a, b = mod.ones(3, requires_grad=True), mod.ones(2, requires_grad=True)
            opt = getattr(mod.optim, cls)([{"params": [a]}, {"params": [b], "lr": 0.5}], **kwargs)
            a.grad = mod.ones(3)
            opt.step()
            built.append((repr(opt), opt.state_dict()))
        (ours, sd), (theirs, tsd) = built
        assert ours == theirs
        assert sd["param_groups"] == tsd["param_groups"]
        assert sd["state"].keys() == tsd["state"].keys()
        for k in sd["state"]:
            assert list(sd["state"][k]) == list(tsd["state"][k])
            for key, value in sd["state"][k].items():
                expected = tsd["state"][k][key]
                assert str(value.dtype) == str(expected.dtype) and tuple(value.shape) == tuple(expected.shape)
                np.testing.assert_allclose(value.numpy(), expected.numpy(), rtol=1e-6)


def test_errors_match_torch():
    torch = pytest.importorskip("torch")

    def w(m):
        return m.ones(2, requires_grad=True)

    assert_same_errors(torch, [
        lambda m: m.optim.SGD(w(m)),
        lambda m: m.optim.SGD([]),
        lambda m: m.optim.Adam([w(m) * 2]),
        lambda m: m.optim.SGD([w(m), "x"]),
        lambda m: m.optim.SGD([{"params": {w(m)}}]),
        lambda m: (lambda p: m.optim.SGD([{"params": [p]}, {"params": [p]}]))(w(m)),
        lambda m: m.optim.SGD([w(m)], lr=-1),
        lambda m: m.optim.SGD([w(m)], momentum=-1),
        lambda m: m.optim.SGD([w(m)], nesterov=True, momentum=0.9, dampening=0.1),
        lambda m: m.optim.Adam([w(m)], lr=-1e-3),
        lambda m: m.optim.Adam([w(m)], betas=(0.9, 1.0)),
        lambda m: m.optim.Adam([w(m)], betas=(1, 0.9)),
        lambda m: m.optim.Adam([w(m)], eps=-1e-8),
        lambda m: m.optim.AdamW([w(m)], weight_decay=-0.1),
        lambda m: m.optim.RMSprop([w(m)], momentum=-1),
        lambda m: m.optim.RMSprop([w(m)], eps=-1),
        lambda m: m.optim.Adagrad([w(m)], eps=-1),
        lambda m: m.optim.Adagrad([w(m)], weight_decay=-1),
        lambda m: m.optim.SGD([w(m)], fused=True, foreach=True),
        lambda m: m.optim.SGD([w(m)]).add_param_group([w(m)]),
        lambda m: (lambda p: m.optim.SGD([p]).load_state_dict(m.optim.SGD([p, w(m)]).state_dict()))(w(m)),
    ])

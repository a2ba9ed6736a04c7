"""Tests for ``tcli.nn.init`` (gains, fans, the initialisers' distributions and PyTorch's random streams) and
``tcli.nn.utils`` gradient clipping. PyTorch itself is only used in the ``importorskip`` tests."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from helpers import to_numpy

import tcli
import tcli.nn as nn
from tcli.nn import init
from tcli.nn.utils import clip_grad_norm_, clip_grad_value_


@pytest.fixture(autouse=True)
def grad_mode_restored():
    tcli.set_grad_enabled(True)
    yield
    tcli.set_grad_enabled(True)


# ---- calculate_gain --------------------------------------------------------------------------------------------------

GAINS = [("linear", None, 1), ("conv1d", None, 1), ("conv2d", None, 1), ("conv3d", None, 1),
         ("conv_transpose1d", None, 1), ("conv_transpose2d", None, 1), ("conv_transpose3d", None, 1),
         ("sigmoid", None, 1), ("tanh", None, 5.0 / 3), ("relu", None, math.sqrt(2.0)), ("selu", None, 0.75),
         ("leaky_relu", None, math.sqrt(2.0 / (1 + 0.01 ** 2))), ("leaky_relu", 0.2, math.sqrt(2.0 / 1.04)),
         ("leaky_relu", 0, math.sqrt(2.0)), ("leaky_relu", 1, 1.0), ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
         ("relu", 0.3, math.sqrt(2.0))]


@pytest.mark.parametrize("nonlinearity, param, expected", GAINS)
def test_calculate_gain(nonlinearity, param, expected):
    gain = init.calculate_gain(nonlinearity, param)
    assert gain == pytest.approx(expected, rel=1e-15)
    if nonlinearity in ("linear", "sigmoid") or nonlinearity.startswith("conv"):
        assert type(gain) is int


@pytest.mark.parametrize("nonlinearity, param, message, hint", [
    ("swish", None, "Unsupported nonlinearity swish", True),
    ("leaky_relu", "x", "negative_slope x not a valid number", False),
    ("leaky_relu", True, "negative_slope True not a valid number", False),
])
def test_calculate_gain_errors(nonlinearity, param, message, hint):
    with pytest.raises(ValueError) as info:
        init.calculate_gain(nonlinearity, param)
    lines = str(info.value).split("\n")
    assert lines[0] == message
    assert (len(lines) > 1 and lines[1].startswith("hint: ")) == hint


def test_calculate_gain_matches_torch():
    torch = pytest.importorskip("torch")
    for nonlinearity, param, _ in GAINS:
        mine, theirs = init.calculate_gain(nonlinearity, param), torch.nn.init.calculate_gain(nonlinearity, param)
        assert mine == theirs and type(mine) is type(theirs)


# ---- fans ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, fans", [((3, 4), (4, 3)), ((5, 3, 2, 2), (12, 20)), ((2, 3, 4), (12, 8)),
                                         ((1, 1), (1, 1)), ((0, 3), (3, 0)), ((6, 2, 1, 1, 3), (6, 18))])
def test_fan_in_and_fan_out(shape, fans):
    assert init._calculate_fan_in_and_fan_out(tcli.empty(*shape)) == fans
    t = tcli.empty(*shape)
    assert init._calculate_correct_fan(t, "fan_in") == fans[0]
    assert init._calculate_correct_fan(t, "FAN_OUT") == fans[1]  # case-insensitive


def test_fan_errors():
    for fn in (init._calculate_fan_in_and_fan_out, init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_,
               init.kaiming_normal_):
        with pytest.raises(ValueError) as info:
            fn(tcli.empty(5))
        assert str(info.value).split("\n")[0] == ("Fan in and fan out can not be computed for tensor with fewer "
                                                  "than 2 dimensions")
    with pytest.raises(ValueError) as info:
        init.kaiming_normal_(tcli.empty(3, 4), mode="fan_avg")
    assert str(info.value) == "Mode fan_avg not supported, please use one of ['fan_in', 'fan_out']"
    with pytest.raises(ValueError, match="^Only tensors with 2 dimensions are supported$"):
        init.eye_(tcli.empty(2, 3, 4))


def test_fans_and_errors_match_torch():
    torch = pytest.importorskip("torch")
    from helpers import assert_same_errors
    for shape in [(3, 4), (5, 3, 2, 2), (2, 3, 4), (0, 3)]:
        assert init._calculate_fan_in_and_fan_out(tcli.empty(*shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    assert_same_errors(torch, [
        lambda m: m.nn.init._calculate_fan_in_and_fan_out(m.empty(5)),
        lambda m: m.nn.init.xavier_uniform_(m.empty(5)),
        lambda m: m.nn.init.kaiming_normal_(m.empty(3, 4), mode="fan_avg"),
        lambda m: m.nn.init.eye_(m.empty(3)),
        lambda m: m.nn.init.calculate_gain("swish"),
        lambda m: m.nn.init.calculate_gain("leaky_relu", "x"),
        lambda m: m.nn.init.calculate_gain("leaky_relu", True),
    ])


# ---- deterministic initialisers --------------------------------------------------------------------------------------

def test_constant_initialisers_work_in_place():
    t = tcli.empty(3, 4)
    assert init.ones_(t) is t and t.tolist() == [[1.0] * 4] * 3
    assert init.zeros_(t) is t and t.tolist() == [[0.0] * 4] * 3
    assert init.constant_(t, -2.5) is t and t.tolist() == [[-2.5] * 4] * 3
    assert init.eye_(t) is t and t.tolist() == [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]
    wide = init.eye_(tcli.empty(2, 3, dtype=tcli.float64))
    assert wide.dtype == tcli.float64 and wide.tolist() == [[1, 0, 0], [0, 1, 0]]
    view = tcli.zeros(4, 6)[:, ::2]  # a strided view is filled in place
    init.constant_(view, 7.0)
    assert view.tolist() == [[7.0] * 3] * 4


def test_initialisers_keep_parameters_leaves():
    p = nn.Parameter(tcli.ones(4, 5))
    for fn in (init.uniform_, init.normal_, init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_,
               init.kaiming_normal_, init.zeros_, init.ones_, init.eye_, lambda t: init.constant_(t, 0.3)):
        out = fn(p)
        assert out is p and type(p) is nn.Parameter
        assert p.is_leaf and p.requires_grad and p.grad_fn is None
    (p * 2).sum().backward()
    assert p.grad.tolist() == [[2.0] * 5] * 4


def test_zero_element_tensors_are_left_alone():
    for fn in (init.kaiming_uniform_, init.kaiming_normal_, init.uniform_, init.normal_):
        t = tcli.empty(0, 3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # kaiming_*_ warns that this is a no-op (tested below)
            assert fn(t) is t and t.shape == (0, 3)


def test_zero_element_kaiming_warns():
    with pytest.warns(UserWarning, match="^Initializing zero-element tensors is a no-op$"):
        init.kaiming_uniform_(tcli.empty(0, 3))


# ---- random initialisers: distributions ------------------------------------------------------------------------------
# Seeded draws of 200 x 300 = 60000 values: the sample std's standard error is ~0.3% (the tolerance is 1%), the
# mean's is 0.004 std (the tolerance is 0.02 std).

SHAPE = (200, 300)  # fan_in 300, fan_out 200


def _draw(fn, *args, dtype=tcli.float32, shape=SHAPE, **kwargs):
    tcli.manual_seed(1234)
    t = tcli.empty(*shape, dtype=dtype)
    assert fn(t, *args, **kwargs) is t
    return to_numpy(t).astype(np.float64)


def _assert_uniform(values, low, high):
    assert values.min() >= low and values.max() <= high
    span = high - low
    assert values.min() < low + 0.001 * span and values.max() > high - 0.001 * span
    assert values.mean() == pytest.approx((low + high) / 2, abs=0.01 * span)
    assert values.std() == pytest.approx(span / math.sqrt(12), rel=0.01)


def _assert_normal(values, mean, std):
    assert values.mean() == pytest.approx(mean, abs=0.02 * std)
    assert values.std() == pytest.approx(std, rel=0.01)
    within = np.mean(np.abs(values - mean) < std)
    assert within == pytest.approx(0.6827, abs=0.01)


def test_uniform_and_normal():
    _assert_uniform(_draw(init.uniform_), 0.0, 1.0)
    _assert_uniform(_draw(init.uniform_, -3.0, 2.0, dtype=tcli.float64), -3.0, 2.0)
    _assert_normal(_draw(init.normal_), 0.0, 1.0)
    _assert_normal(_draw(init.normal_, mean=2.0, std=0.5, dtype=tcli.float64), 2.0, 0.5)


@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_xavier(gain):
    bound = gain * math.sqrt(6.0 / (300 + 200))
    _assert_uniform(_draw(init.xavier_uniform_, gain=gain), -bound, bound)
    _assert_normal(_draw(init.xavier_normal_, gain=gain), 0.0, gain * math.sqrt(2.0 / 500))
    conv = _draw(init.xavier_uniform_, shape=(40, 30, 5, 5))  # fans count the receptive field
    b = math.sqrt(6.0 / (30 * 25 + 40 * 25))
    _assert_uniform(conv, -b, b)


@pytest.mark.parametrize("a, mode, nonlinearity, fan, gain", [
    (0, "fan_in", "leaky_relu", 300, math.sqrt(2.0)),
    (math.sqrt(5), "fan_in", "leaky_relu", 300, math.sqrt(1 / 3)),
    (0.1, "fan_out", "leaky_relu", 200, math.sqrt(2.0 / 1.01)),
    (0, "fan_out", "relu", 200, math.sqrt(2.0)),
    (0, "fan_in", "tanh", 300, 5.0 / 3),
    (0, "fan_in", "linear", 300, 1.0),
])
def test_kaiming(a, mode, nonlinearity, fan, gain):
    std = gain / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    _assert_uniform(_draw(init.kaiming_uniform_, a=a, mode=mode, nonlinearity=nonlinearity), -bound, bound)
    _assert_normal(_draw(init.kaiming_normal_, a=a, mode=mode, nonlinearity=nonlinearity), 0.0, std)


def test_linear_default_initialisation_distribution():
    tcli.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=sqrt(5)): gain sqrt(1/3), so sqrt(3) * gain / sqrt(fan_in)
    _assert_uniform(to_numpy(lin.weight).astype(np.float64), -bound, bound)
    b = to_numpy(lin.bias)
    assert np.abs(b).max() <= bound and b.std() == pytest.approx(bound / math.sqrt(3), rel=0.15)
    emb = nn.Embedding(300, 200)
    _assert_normal(to_numpy(emb.weight).astype(np.float64), 0.0, 1.0)


def test_generator_argument_and_reproducibility():
    tcli.manual_seed(5)
    a = init.normal_(tcli.empty(4, 5))
    tcli.manual_seed(5)
    b = init.normal_(tcli.empty(4, 5))
    assert tcli.equal(a, b)
    g1, g2 = tcli.Generator().manual_seed(3), tcli.Generator().manual_seed(3)
    tcli.manual_seed(0)
    x = init.uniform_(tcli.empty(6), -1, 2, generator=g1)
    y = init.xavier_uniform_(tcli.empty(3, 3), generator=g1)
    after = tcli.rand(3)
    tcli.manual_seed(0)
    assert tcli.equal(tcli.rand(3), after)  # the global generator was not used
    assert tcli.equal(init.uniform_(tcli.empty(6), -1, 2, generator=g2), x)
    assert tcli.equal(init.xavier_uniform_(tcli.empty(3, 3), generator=g2), y)


# ---- PyTorch's random streams ----------------------------------------------------------------------------------------

INIT_CALLS = [
    ("uniform_", {}), ("uniform_", {"a": -2.0, "b": 0.5}), ("normal_", {}), ("normal_", {"mean": 1.0, "std": 2.0}),
    ("xavier_uniform_", {}), ("xavier_uniform_", {"gain": 2.0}), ("xavier_normal_", {"gain": 0.5}),
    ("kaiming_uniform_", {}), ("kaiming_uniform_", {"a": math.sqrt(5)}),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}), ("kaiming_normal_", {"a": 0.2}),
]


@pytest.mark.parametrize("seed", [0, 1, 123])
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 2), (7, 5), (16, 33)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_initialisers_match_torch(seed, shape, dtype):
    torch = pytest.importorskip("torch")
    for name, kwargs in INIT_CALLS:
        got = []
        for m in (tcli, torch):
            m.manual_seed(seed)
            t = m.empty(*shape, dtype=getattr(m, dtype))
            getattr(m.nn.init, name)(t, **kwargs)
            second = getattr(m.nn.init, name)(m.empty(*shape, dtype=getattr(m, dtype)), **kwargs)  # the stream moves on
            got.append((to_numpy(t), to_numpy(second)))
        for mine, theirs in zip(*got):
            if dtype == "float32" and "normal" in name and mine.size >= 16:
                # PyTorch's vectorised float32 normal_ (16 or more values) rounds its Box-Muller intermediates in
                # float32; tcli computes them in float64: equal up to float32 rounding (see test_random.py)
                np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=2e-6 * kwargs.get("std", 1) * 3)
            else:
                np.testing.assert_array_equal(mine, theirs, err_msg=name)


def test_initialisers_with_a_generator_match_torch():
    torch = pytest.importorskip("torch")
    got = []
    for m in (tcli, torch):
        g = m.Generator().manual_seed(9)
        got.append([to_numpy(m.nn.init.uniform_(m.empty(5, 3, dtype=m.float64), generator=g)),
                    to_numpy(m.nn.init.kaiming_normal_(m.empty(4, 2, dtype=m.float64), generator=g)),
                    to_numpy(m.nn.init.xavier_uniform_(m.empty(3, 3), generator=g))])
    for mine, theirs in zip(*got):
        np.testing.assert_array_equal(mine, theirs)


# ---- clip_grad_norm_ / clip_grad_value_ ------------------------------------------------------------------------------

def _params(*grads, dtype=tcli.float32):
    out = []
    for g in grads:
        p = nn.Parameter(tcli.zeros(np.shape(g), dtype=dtype))
        if g is not None:
            p.grad = tcli.tensor(g, dtype=dtype)
        out.append(p)
    return out


def _np_norm(grads, p):
    flat = np.concatenate([np.ravel(g) for g in grads]).astype(np.float64)
    if math.isinf(p):
        return np.abs(flat).max()
    return (np.abs(flat) ** p).sum() ** (1 / p)


GRADS = ([3.0, 4.0], [[12.0]], [-1.0, 0.5, 2.0])


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.0, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1.0, 1000.0])
def test_clip_grad_norm(norm_type, max_norm):
    params = _params(*GRADS) + [nn.Parameter(tcli.ones(2))]  # a parameter without grad is skipped
    total = clip_grad_norm_(params, max_norm, norm_type=norm_type)
    expected = _np_norm(GRADS, float(norm_type))
    assert isinstance(total, tcli.Tensor) and total.shape == () and total.dtype == tcli.float32
    assert total.item() == pytest.approx(expected, rel=1e-6)
    coef = min(max_norm / (expected + 1e-6), 1.0)
    for p, g in zip(params, GRADS):
        np.testing.assert_allclose(to_numpy(p.grad), np.asarray(g) * coef, rtol=1e-6)
    assert params[-1].grad is None
    after = _np_norm([to_numpy(p.grad) for p in params[:3]], float(norm_type))
    assert after <= max_norm * (1 + 1e-5)


def test_clip_grad_norm_inputs():
    (p,) = _params([3.0, 4.0])
    assert clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)  # a single tensor
    np.testing.assert_allclose(to_numpy(p.grad), [0.6, 0.8], rtol=1e-6)
    (q,) = _params([3.0, 4.0])
    assert clip_grad_norm_(iter([q]), 10.0).item() == pytest.approx(5.0)  # any iterable; under max_norm: unchanged
    assert q.grad.tolist() == [3.0, 4.0]
    assert clip_grad_norm_([], 1.0).item() == 0.0
    assert clip_grad_norm_([nn.Parameter(tcli.ones(2))], 1.0).item() == 0.0
    lin = nn.Linear(3, 2)
    lin(tcli.ones(4, 3)).sum().backward()
    total = clip_grad_norm_(lin.parameters(), 0.1)
    assert total.item() > 0.1
    assert _np_norm([to_numpy(p.grad) for p in lin.parameters()], 2.0) == pytest.approx(0.1, rel=1e-4)


def test_clip_grad_norm_float64_and_mixed_dtypes():
    a, b = _params([3.0, 4.0], [0.0], dtype=tcli.float64)
    total = clip_grad_norm_([a, b], 1.0)
    assert total.dtype == tcli.float64 and total.item() == pytest.approx(5.0, rel=1e-12)
    assert a.grad.dtype == tcli.float64
    np.testing.assert_allclose(to_numpy(a.grad), [3 / (5 + 1e-6), 4 / (5 + 1e-6)], rtol=1e-12)


def test_clip_grad_norm_nonfinite():
    (p,) = _params([math.nan, 1.0])
    with pytest.raises(RuntimeError) as info:
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    assert str(info.value) == (
        "The total norm of order 2.0 for gradients from `parameters` is non-finite, so it cannot be clipped. To "
        "disable this error and scale the gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    assert p.grad.tolist()[1] == 1.0  # untouched on error
    (q,) = _params([math.inf, 1.0])
    with pytest.raises(RuntimeError, match="^The total norm of order inf for gradients"):
        clip_grad_norm_(q, 1.0, norm_type="inf", error_if_nonfinite=True)
    total = clip_grad_norm_(q, 1.0)  # without the check: scaled by the infinite norm anyway
    assert math.isinf(total.item())
    g = to_numpy(q.grad)
    assert math.isnan(g[0]) and g[1] == 0.0
    (r,) = _params([math.nan, 1.0])
    assert math.isnan(clip_grad_norm_(r, 1.0).item()) and np.isnan(to_numpy(r.grad)).all()


def test_clip_grad_value():
    a, b = _params([-3.0, 0.5, 2.0], [[0.25, -0.75]])
    assert clip_grad_value_([a, b], 1.0) is None
    assert a.grad.tolist() == [-1.0, 0.5, 1.0] and b.grad.tolist() == [[0.25, -0.75]]
    clip_grad_value_(b, 0.5)
    assert b.grad.tolist() == [[0.25, -0.5]]
    (c,) = _params([4.0, -4.0], dtype=tcli.float64)
    clip_grad_value_(iter([c, nn.Parameter(tcli.ones(1))]), 2)
    assert c.grad.tolist() == [2.0, -2.0] and c.grad.dtype == tcli.float64


def test_clipping_matches_torch():
    torch = pytest.importorskip("torch")

    def run(m, norm_type, max_norm, grads):
        params = []
        for g in grads:
            p = m.nn.Parameter(m.zeros(np.shape(g)))
            p.grad = m.tensor(g)
            params.append(p)
        total = m.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
        out = [to_numpy(total)] + [to_numpy(p.grad) for p in params]
        m.nn.utils.clip_grad_value_(params, 0.01)
        return out + [to_numpy(p.grad) for p in params]
    grads = [[3.0, -4.0, 0.1], [[12.0, 1e-3]], [0.0]]
    for norm_type in (2.0, 1.0, 0.5, 3, math.inf, "inf", 0):
        for max_norm in (0.1, 1.0, 100.0):
            for a, b in zip(run(tcli, norm_type, max_norm, grads), run(torch, norm_type, max_norm, grads)):
                np.testing.assert_allclose(a, b, rtol=1e-6, atol=0)


def test_no_warnings_from_clean_calls():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tcli.manual_seed(0)
        nn.Linear(3, 3)
        init.xavier_normal_(tcli.empty(3, 3))
        clip_grad_norm_(_params([1.0]), 1.0)

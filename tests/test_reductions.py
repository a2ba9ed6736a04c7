"""Reductions, scans and softmax: values against numpy, dtypes, empty and 0-d inputs, errors, gradients.

Every expectation is PyTorch 2.13's behaviour; tests marked by ``pytest.importorskip("torch")`` also compare
with a live PyTorch when one is installed.
"""

import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tcli as torch
import tcli.nn.functional as F
from tcli.autograd import gradcheck

# ---- helpers -------------------------------------------------------------------------------------------------


def npy(t):
    return t.detach().numpy()


def check(t, expected, rtol=1e-5, atol=1e-6):
    """t has expected's shape and values (NaN matches NaN)."""
    expected = np.asarray(expected)
    assert tuple(t.shape) == expected.shape, (tuple(t.shape), expected.shape)
    np.testing.assert_allclose(npy(t).astype(np.float64), expected.astype(np.float64), rtol=rtol, atol=atol,
                               equal_nan=True)


def make(layout, shape, dtype=np.float32, seed=0, low=-2.0, high=2.0):
    """A tcli tensor laid out as ``layout`` and the numpy array with the same values."""
    rng = np.random.default_rng(seed)
    if layout == "contiguous":
        a = rng.uniform(low, high, shape).astype(dtype)
        t = torch.tensor(a)
        assert t.is_contiguous()
        return t, a
    if layout == "transposed":
        base = rng.uniform(low, high, tuple(reversed(shape))).astype(dtype)
        t = torch.tensor(base).permute(*reversed(range(len(shape))))
        a = base.transpose()
    elif layout == "sliced":
        big = rng.uniform(low, high, tuple(2 * s + 1 for s in shape)).astype(dtype)
        key = tuple(slice(1, None, 2) for _ in shape)
        t = torch.tensor(big)[key]
        a = big[key]
    else:
        raise AssertionError(layout)
    assert tuple(t.shape) == tuple(shape)
    if len(shape) > 1:
        assert not t.is_contiguous()
    return t, a


def axis_of(dim):
    return dim if dim is None or isinstance(dim, int) else tuple(dim)


def np_logsumexp(a, axis, keepdims):
    m = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        out = np.squeeze(out, axis=axis) if axis is not None else out.reshape(())
    return out


def np_softmax(a, axis):
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


NUMPY_REDUCTIONS = {
    "sum": lambda a, ax, k: np.sum(a, axis=ax, keepdims=k),
    "mean": lambda a, ax, k: np.mean(a, axis=ax, keepdims=k),
    "prod": lambda a, ax, k: np.prod(a, axis=ax, keepdims=k),
    "amax": lambda a, ax, k: np.max(a, axis=ax, keepdims=k),
    "amin": lambda a, ax, k: np.min(a, axis=ax, keepdims=k),
    "std": lambda a, ax, k: np.std(a, axis=ax, keepdims=k, ddof=1),
    "var": lambda a, ax, k: np.var(a, axis=ax, keepdims=k, ddof=1),
    "logsumexp": np_logsumexp,
    "norm": lambda a, ax, k: np.sqrt(np.sum(a * a, axis=ax, keepdims=k)),
}


def reduce_tcli(op, t, dim, keepdim):
    if op == "norm":
        return t.norm(p=2, dim=dim, keepdim=keepdim)
    if op == "logsumexp":
        return t.logsumexp(tuple(range(t.dim())) if dim is None else dim, keepdim=keepdim)
    if dim is None:
        return getattr(t, op)() if not keepdim else getattr(t, op)(dim=tuple(range(t.dim())), keepdim=True)
    return getattr(t, op)(dim=dim, keepdim=keepdim)


DIMS_3D = [None, 0, 1, -1, (0, 2), (2, 0), (-1, 0), (1, 2), (0, 1, 2), [1]]
LAYOUTS = ["contiguous", "transposed", "sliced"]


# ---- values against numpy ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("keepdim", [False, True], ids=["drop", "keep"])
@pytest.mark.parametrize("dim", DIMS_3D, ids=str)
@pytest.mark.parametrize("op", list(NUMPY_REDUCTIONS))
def test_reduction_matches_numpy(op, dim, keepdim, layout):
    low, high = (0.5, 1.5) if op == "prod" else (-2.0, 2.0)
    t, a = make(layout, (3, 4, 5), np.float32, seed=1, low=low, high=high)
    out = reduce_tcli(op, t, dim, keepdim)
    expected = NUMPY_REDUCTIONS[op](a.astype(np.float64), axis_of(dim), keepdim)
    assert out.dtype == torch.float32
    check(out, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("op", list(NUMPY_REDUCTIONS))
@pytest.mark.parametrize("shape,dim", [((250, 200), None), ((250, 200), 0), ((250, 200), 1), ((250, 200), -1),
                                       ((60000,), None), ((60000,), 0), ((60000,), -1)], ids=str)
def test_large_reduction_matches_numpy(op, dim, shape):
    """Big enough (>= 40000 elements) for the parallel and chunked kernels."""
    low, high = (0.9995, 1.0005) if op == "prod" else (-2.0, 2.0)
    t, a = make("contiguous", shape, np.float32, seed=2, low=low, high=high)
    out = reduce_tcli(op, t, dim, False)
    check(out, NUMPY_REDUCTIONS[op](a.astype(np.float64), dim, False), rtol=2e-4, atol=1e-4)


@pytest.mark.parametrize("op", list(NUMPY_REDUCTIONS))
@pytest.mark.parametrize("dim", [0, 1, 2, (0, 2)])
def test_large_3d_reduction_with_inner_dims(op, dim):
    """(outer, red, inner) all > 1 with >= 40000 elements: the parallel strided-row kernels."""
    low, high = (0.99, 1.01) if op == "prod" else (-2.0, 2.0)
    t, a = make("contiguous", (50, 40, 30), np.float32, seed=3, low=low, high=high)
    out = reduce_tcli(op, t, dim, True)
    check(out, NUMPY_REDUCTIONS[op](a.astype(np.float64), axis_of(dim), True), rtol=2e-4, atol=1e-4)


def test_large_transposed_reduction():
    t, a = make("transposed", (300, 160), np.float64, seed=4)
    check(t.sum(0), a.sum(0))
    check(t.sum(1), a.sum(1))
    check(t.mean(), a.mean())
    check(t.amax(1), a.max(1))
    check(t.var(0), a.var(0, ddof=1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sum_mean_float64_and_float32(dtype):
    t, a = make("contiguous", (7, 9), dtype, seed=5)
    for dim in (None, 0, 1):
        s = t.sum() if dim is None else t.sum(dim)
        m = t.mean() if dim is None else t.mean(dim)
        assert s.dtype == m.dtype == t.dtype
        check(s, a.astype(np.float64).sum(axis=dim), rtol=1e-5)
        check(m, a.astype(np.float64).mean(axis=dim), rtol=1e-5)


def test_function_forms_match_methods():
    t, a = make("contiguous", (4, 6), np.float64, seed=6)
    for fn, ref in [(torch.sum, np.sum), (torch.mean, np.mean), (torch.prod, np.prod), (torch.amax, np.max),
                    (torch.amin, np.min)]:
        check(fn(t), ref(a))
        check(fn(t, 1), ref(a, axis=1))
        check(fn(t, 0, keepdim=True), ref(a, axis=0, keepdims=True))
    check(torch.std(t, 0), a.std(0, ddof=1))
    check(torch.var(t, 1, keepdim=True), a.var(1, ddof=1, keepdims=True))
    check(torch.logsumexp(t, 1), np_logsumexp(a, 1, False))
    check(torch.norm(t), np.linalg.norm(a))


def test_sum_dim_keyword_and_tuple_dims_with_duplicates_raise():
    t = torch.ones(2, 3)
    check(t.sum(dim=(0, 1)), 6.0)
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times in the list of dims"):
        t.sum((0, -2))


@pytest.mark.parametrize("fn", [
    lambda t: t.sum(2), lambda t: t.mean(-3), lambda t: t.amax(2), lambda t: t.max(2), lambda t: t.argmax(5),
    lambda t: t.std(2), lambda t: t.logsumexp(2), lambda t: t.cumsum(2), lambda t: t.softmax(2),
    lambda t: t.sum((0, 2)),
], ids=["sum", "mean", "amax", "max", "argmax", "std", "logsumexp", "cumsum", "softmax", "sum_tuple"])
def test_dimension_out_of_range(fn):
    t = torch.ones(2, 3)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got"):
        fn(t)


def test_dimension_out_of_range_exact_message():
    with pytest.raises(IndexError) as info:
        torch.ones(2, 3).sum(2)
    assert str(info.value).splitlines()[0] == "Dimension out of range (expected to be in range of [-2, 1], but got 2)"


# ---- max / min / argmax / argmin --------------------------------------------------------------------------------

def test_max_min_whole_tensor_are_0d():
    t, a = make("contiguous", (4, 5), np.float32, seed=7)
    for op, ref in [("max", np.max), ("min", np.min)]:
        r = getattr(t, op)()
        assert r.shape == () and r.dtype == torch.float32
        check(r, ref(a))
        check(getattr(torch, op)(t), ref(a))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2])
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_with_dim_values_and_indices(op, dim, keepdim, layout):
    t, a = make(layout, (3, 4, 5), np.float32, seed=8)
    r = getattr(t, op)(dim, keepdim=keepdim)
    values, indices = r
    ref = np.max if op == "max" else np.min
    arg = np.argmax if op == "max" else np.argmin
    check(values, ref(a, axis=dim, keepdims=keepdim))
    assert indices.dtype == torch.int64
    np.testing.assert_array_equal(npy(indices), arg(a, axis=dim, keepdims=keepdim))
    assert r.values is values and r.indices is indices
    assert r[0] is values and r[1] is indices
    assert isinstance(r, tuple) and len(r) == 2
    fr = getattr(torch, op)(t, dim, keepdim)
    check(fr.values, npy(values))


@pytest.mark.parametrize("dim", [0, 1])
def test_large_max_argmax_parallel(dim):
    t, a = make("contiguous", (250, 200), np.float32, seed=9)
    v, i = t.max(dim)
    check(v, a.max(dim))
    np.testing.assert_array_equal(npy(i), a.argmax(dim))
    np.testing.assert_array_equal(npy(t.argmin(dim)), a.argmin(dim))
    assert t.argmax().item() == a.argmax()
    assert t.argmin().item() == a.argmin()


def test_return_type_repr_is_pytorchs():
    x = torch.tensor([[1., 5., 3.], [4., 2., 6.]])
    r = x.max(1)
    assert repr(r) == "torch.return_types.max(\nvalues=tensor([5., 6.]),\nindices=tensor([1, 2]))"
    assert type(r).__name__ == "max"
    assert type(r).__module__ == "torch.return_types"
    r = x.min(0, keepdim=True)
    assert repr(r) == "torch.return_types.min(\nvalues=tensor([[1., 2., 3.]]),\nindices=tensor([[0, 1, 0]]))"
    assert type(r).__name__ == "min"
    xg = torch.tensor([[1., 5.], [4., 2.]], requires_grad=True)
    assert repr(xg.max(1)) == ("torch.return_types.max(\nvalues=tensor([5., 4.], grad_fn=<MaxBackward0>),\n"
                               "indices=tensor([1, 0]))")


def test_max_of_0d_tensor_with_dim():
    x = torch.tensor(3.5)
    v, i = x.max(0)
    assert v.shape == () and i.shape == ()
    assert v.item() == 3.5 and i.item() == 0
    v, i = x.min(-1, keepdim=True)
    assert v.shape == () and v.item() == 3.5
    assert x.argmax(0).item() == 0
    assert x.max().item() == 3.5


def test_argmax_argmin_first_index_of_ties():
    x = torch.tensor([2, 3, 3, 1, 3, 1])
    assert x.argmax().item() == 1
    assert x.argmin().item() == 3
    m = torch.tensor([[1., 1., 0.], [0., 2., 2.], [5., 5., 5.]])
    np.testing.assert_array_equal(npy(m.argmax(1)), [0, 1, 0])
    np.testing.assert_array_equal(npy(m.argmin(1)), [2, 0, 0])
    np.testing.assert_array_equal(npy(m.max(1).indices), [0, 1, 0])
    np.testing.assert_array_equal(npy(m.argmax(0)), [2, 2, 2])
    big = torch.zeros(50000)
    big[17] = 1.0
    big[40000] = 1.0
    assert big.argmax().item() == 17
    assert big.argmin().item() == 0
    rows = torch.zeros(400, 150)
    rows[:, 7] = 1.0
    rows[:, 100] = 1.0
    np.testing.assert_array_equal(npy(rows.argmax(1)), np.full(400, 7))


def test_nan_counts_as_max_and_min():
    nan = math.nan
    x = torch.tensor([1., nan, 3., nan])
    assert x.argmax().item() == 1
    assert x.argmin().item() == 1
    assert math.isnan(x.max().item()) and math.isnan(x.min().item())
    assert math.isnan(x.amax().item()) and math.isnan(x.amin().item())
    m = torch.tensor([[1., nan, 3.], [4., 5., 6.]])
    v, i = m.max(1)
    check(v, [nan, 6.])
    np.testing.assert_array_equal(npy(i), [1, 2])
    v, i = m.min(1)
    check(v, [nan, 4.])
    np.testing.assert_array_equal(npy(i), [1, 0])
    check(m.amax(0), [4., nan, 6.])


def test_argmax_keepdim_and_no_dim():
    t, a = make("contiguous", (3, 4), np.float32, seed=10)
    r = t.argmax()
    assert r.shape == () and r.dtype == torch.int64 and r.item() == a.argmax()
    r = t.argmax(dim=1, keepdim=True)
    assert r.shape == (3, 1)
    np.testing.assert_array_equal(npy(r), a.argmax(1)[:, None])
    r = torch.argmin(t, 0)
    np.testing.assert_array_equal(npy(r), a.argmin(0))
    tt, aa = make("transposed", (3, 4), np.float32, seed=10)
    np.testing.assert_array_equal(npy(tt.argmax(0)), aa.argmax(0))
    assert tt.argmax().item() == aa.argmax()


def test_max_of_integers_keeps_dtype():
    x = torch.tensor([[3, -1], [7, 2]], dtype=torch.int32)
    assert x.max().dtype == torch.int32 and x.max().item() == 7
    assert x.amin().dtype == torch.int32 and x.amin().item() == -1
    v, i = x.max(0)
    assert v.dtype == torch.int32 and i.dtype == torch.int64
    np.testing.assert_array_equal(npy(v), [7, 2])
    y = torch.tensor([5, 9, 9, 1])
    assert y.max().dtype == torch.int64
    np.testing.assert_array_equal(npy(torch.max(y.view(2, 2), 1).indices), [1, 0])


def test_argmax_of_bool_raises():
    with pytest.raises(RuntimeError, match="argmax\\(\\): does not support bool input"):
        torch.tensor([True, False]).argmax()


def test_max_with_tensor_argument_is_elementwise():
    a = torch.tensor([1., 5., 3.])
    b = torch.tensor([4., 2., 3.])
    check(torch.max(a, b), [4., 5., 3.])
    check(torch.min(a, b), [1., 2., 3.])


# ---- std / var / norm ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
def test_std_var_unbiased_default_and_corrections(layout):
    t, a = make(layout, (4, 6), np.float64, seed=11)
    check(t.var(), a.var(ddof=1))
    check(t.std(), a.std(ddof=1))
    check(t.var(unbiased=False), a.var())
    check(t.std(unbiased=False), a.std())
    check(t.var(False), a.var())
    check(t.var(correction=0), a.var())
    check(t.std(dim=1, correction=0), a.std(axis=1))
    check(t.var(0, correction=2), a.var(axis=0, ddof=2))
    check(t.var(1, False), a.var(axis=1))
    check(t.std(1, True, True), a.std(axis=1, ddof=1, keepdims=True))
    check(torch.var(t, dim=(0, 1), unbiased=False, keepdim=True), a.var(keepdims=True).reshape(1, 1))
    check(torch.std(t, -1, keepdim=True), a.std(axis=-1, ddof=1, keepdims=True))


def test_var_of_single_element_is_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert math.isnan(torch.tensor([3.]).var().item())
        assert math.isnan(torch.tensor([3.]).std().item())
        assert torch.tensor([3.]).var(correction=0).item() == 0.0


def test_std_var_of_integers_raise():
    with pytest.raises(RuntimeError, match="std and var only support floating point and complex dtypes"):
        torch.tensor([1, 2, 3]).std()
    with pytest.raises(RuntimeError, match="std and var only support floating point and complex dtypes"):
        torch.tensor([1, 2, 3]).var(0)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("p", [2, 1, math.inf, "fro"], ids=str)
@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)], ids=str)
def test_norm_matches_numpy(p, dim, layout):
    t, a = make(layout, (5, 7), np.float64, seed=12)
    out = t.norm(p=p) if dim is None else t.norm(p=p, dim=dim)
    q = 2 if p == "fro" else p
    ax = axis_of(dim)
    if q == 2:
        ref = np.sqrt(np.sum(a * a, axis=ax))
    elif q == 1:
        ref = np.sum(np.abs(a), axis=ax)
    else:
        ref = np.max(np.abs(a), axis=ax)
    check(out, ref)
    check(torch.norm(t, q, dim, keepdim=True), np.asarray(ref).reshape(
        (1, 1) if dim in (None, (0, 1)) else ((1, 7) if dim == 0 else (5, 1))))


def test_norm_of_integers_raises():
    with pytest.raises(RuntimeError, match="linalg.vector_norm: Expected a floating point or complex tensor as "
                                           "input. Got Long"):
        torch.tensor([3, 4]).norm()


def test_norm_values():
    x = torch.tensor([3., -4.])
    assert x.norm().item() == 5.0
    assert x.norm(1).item() == 7.0
    assert x.norm(float("inf")).item() == 4.0
    assert torch.zeros(3).norm().item() == 0.0


# ---- all / any -------------------------------------------------------------------------------------------------

def test_all_any():
    a = np.array([[True, False, True], [True, True, True]])
    t = torch.tensor(a)
    assert t.all().dtype == torch.bool and t.all().shape == ()
    assert t.all().item() is False and t.any().item() is True
    np.testing.assert_array_equal(npy(t.all(1)), a.all(1))
    np.testing.assert_array_equal(npy(t.any(0)), a.any(0))
    np.testing.assert_array_equal(npy(torch.all(t, dim=1, keepdim=True)), a.all(1, keepdims=True))
    np.testing.assert_array_equal(npy(t.t().all(0)), a.all(1))
    f = torch.tensor([[0., 1.5], [0., 0.]])
    assert f.any().item() is True and f.all().item() is False
    np.testing.assert_array_equal(npy(f.any(1)), [True, False])
    assert f.any(1).dtype == torch.bool
    i = torch.tensor([3, -1, 2])
    assert i.all().item() is True


def test_all_any_of_uint8_return_uint8():
    x = torch.tensor([1, 2, 3], dtype=torch.uint8)
    assert x.all().dtype == torch.uint8 and x.all().item() == 1
    assert x.any(0).dtype == torch.uint8


def test_large_all_any():
    x = torch.ones(60000, dtype=torch.bool)
    assert x.all().item() is True
    x[59999] = False
    assert x.all().item() is False and x.any().item() is True
    m = torch.zeros(300, 200, dtype=torch.bool)
    m[5, 7] = True
    r = m.any(1)
    assert r.sum().item() == 1 and r[5].item() is True


# ---- logsumexp -------------------------------------------------------------------------------------------------

def test_logsumexp_stable_and_infinities():
    x = torch.tensor([[1000., 1000.], [-1000., -1000.]])
    check(x.logsumexp(1), [1000. + math.log(2), -1000. + math.log(2)], rtol=1e-6)
    y = torch.tensor([[-math.inf, 0.], [-math.inf, -math.inf], [math.inf, 1.]])
    check(y.logsumexp(1), [0., -math.inf, math.inf])
    t, a = make("transposed", (4, 5), np.float64, seed=13)
    check(torch.logsumexp(t, dim=0, keepdim=True), np_logsumexp(a, 0, True))


def test_logsumexp_of_integers_is_float():
    x = torch.tensor([1, 2], dtype=torch.int64)
    r = x.logsumexp(0)
    assert r.dtype == torch.float32
    assert abs(r.item() - math.log(math.e + math.e ** 2)) < 1e-5


# ---- empty and 0-d inputs ---------------------------------------------------------------------------------------

def test_empty_reductions():
    e = torch.empty(0)
    assert e.sum().item() == 0.0 and e.sum().shape == ()
    assert e.prod().item() == 1.0
    assert math.isnan(e.mean().item())
    assert e.norm().item() == 0.0
    assert e.logsumexp(0).item() == -math.inf
    assert e.all().item() is True and e.any().item() is False
    assert torch.empty(0, dtype=torch.int64).sum().dtype == torch.int64
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert math.isnan(e.std().item())
    m = torch.empty(0, 3)
    check(m.sum(0), np.zeros(3))
    check(m.prod(0), np.ones(3))
    check(m.mean(0), np.full(3, np.nan))
    assert m.sum(1).shape == (0,)
    assert m.sum(1, keepdim=True).shape == (0, 1)
    assert m.amax(1).shape == (0,)
    v, i = m.max(1)
    assert v.shape == (0,) and i.shape == (0,) and i.dtype == torch.int64
    assert m.cumsum(0).shape == (0, 3)
    assert m.softmax(1).shape == (0, 3)


def test_empty_max_min_raise():
    msg = ("max(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with "
           "the 'dim' argument.")
    with pytest.raises(RuntimeError, match=re.escape(msg)):
        torch.empty(0).max()
    with pytest.raises(RuntimeError, match=re.escape(msg.replace("max", "min"))):
        torch.empty(0, 2).min()
    with pytest.raises(IndexError, match=re.escape("max(): Expected reduction dim 0 to have non-zero size.")):
        torch.empty(0, 3).max(0)
    with pytest.raises(IndexError, match=re.escape("min(): Expected reduction dim 1 to have non-zero size.")):
        torch.empty(3, 0).min(1)
    with pytest.raises(RuntimeError, match=re.escape(msg.replace("max", "amax"))):
        torch.empty(0).amax()
    with pytest.raises(IndexError, match=re.escape("amin(): Expected reduction dim 0 to have non-zero size.")):
        torch.empty(0, 3).amin(0)


def test_empty_argmax_raises_index_error():
    with pytest.raises(IndexError, match=re.escape("argmax(): Expected reduction dim to be specified for "
                                                   "input.numel() == 0.")):
        torch.empty(0).argmax()
    with pytest.raises(IndexError, match=re.escape("argmin(): Expected reduction dim to be specified for "
                                                   "input.numel() == 0.")):
        torch.empty(0, 2).argmin()
    with pytest.raises(IndexError, match=re.escape("argmax(): Expected reduction dim 0 to have non-zero size.")):
        torch.empty(0, 3).argmax(0)


def test_0d_reductions():
    x = torch.tensor(2.5)
    for r in (x.sum(), x.mean(), x.prod(), x.amax(), x.amin(), x.norm(), x.sum(0), x.mean(-1), x.logsumexp(0),
              x.cumsum(0), x.cumprod(0)):
        assert r.shape == ()
    assert x.sum(0).item() == 2.5 and x.sum(0, keepdim=True).shape == ()
    assert x.prod().item() == 2.5
    assert x.cumsum(0).item() == 2.5
    assert x.softmax(0).item() == 1.0
    assert x.log_softmax(0).item() == 0.0
    assert x.logsumexp(0).item() == 2.5
    assert torch.tensor(True).all().item() is True


# ---- dtypes ------------------------------------------------------------------------------------------------------

def test_sum_prod_of_integers_and_bool_accumulate_in_int64():
    i32 = torch.tensor([[1, 2], [3, 4]], dtype=torch.int32)
    assert i32.sum().dtype == torch.int64 and i32.sum().item() == 10
    assert i32.sum(0).dtype == torch.int64
    np.testing.assert_array_equal(npy(i32.sum(1)), [3, 7])
    assert i32.prod().dtype == torch.int64 and i32.prod().item() == 24
    b = torch.tensor([True, False, True])
    assert b.sum().dtype == torch.int64 and b.sum().item() == 2
    assert torch.tensor([10 ** 10, 10 ** 10]).sum().item() == 2 * 10 ** 10
    big = torch.ones(50000, dtype=torch.int32)
    assert big.sum().item() == 50000 and big.sum().dtype == torch.int64


def test_sum_dtype_argument():
    i32 = torch.tensor([1, 2], dtype=torch.int32)
    r = i32.sum(dtype=torch.float64)
    assert r.dtype == torch.float64 and r.item() == 3.0
    r = torch.tensor([0.5, 0.25]).sum(dtype=torch.float64)
    assert r.dtype == torch.float64 and r.item() == 0.75
    r = i32.prod(dtype=torch.float32)
    assert r.dtype == torch.float32 and r.item() == 2.0
    r = torch.sum(torch.tensor([[1, 2], [3, 4]]), 0, dtype=torch.float32)
    assert r.dtype == torch.float32
    check(r, [4., 6.])


def test_mean_of_integers_raises():
    with pytest.raises(RuntimeError, match="floating point") as info:
        torch.tensor([1, 2, 3]).mean()
    assert str(info.value).splitlines()[0] == (
        "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. "
        "Got: Long")
    with pytest.raises(RuntimeError, match="floating point"):
        torch.tensor([1, 2], dtype=torch.int32).mean(0)
    r = torch.tensor([1, 2], dtype=torch.int32).mean(dtype=torch.float64)
    assert r.dtype == torch.float64 and r.item() == 1.5


def test_float16_sum_and_mean_keep_float16():
    x = torch.tensor([0.5, 1.5, 2.0], dtype=torch.float16)
    assert x.sum().dtype == torch.float16 and x.sum().item() == 4.0
    assert x.mean().dtype == torch.float16
    assert abs(x.mean().item() - 4.0 / 3.0) < 1e-3


def test_cumsum_dtypes():
    i32 = torch.tensor([1, 2, 3], dtype=torch.int32)
    assert i32.cumsum(0).dtype == torch.int64
    assert i32.cumprod(0).dtype == torch.int64
    np.testing.assert_array_equal(npy(i32.cumprod(0)), [1, 2, 6])
    b = torch.tensor([True, True, False])
    assert b.cumsum(0).dtype == torch.int64
    np.testing.assert_array_equal(npy(b.cumsum(0)), [1, 2, 2])
    r = i32.cumsum(0, dtype=torch.float64)
    assert r.dtype == torch.float64
    check(r, [1., 3., 6.])


def test_argmax_and_all_result_dtypes():
    x = torch.tensor([[1., 2.], [3., 0.]])
    assert x.argmax().dtype == torch.int64
    assert x.argmin(1).dtype == torch.int64
    assert x.all().dtype == torch.bool
    assert x.any(0).dtype == torch.bool


# ---- scans ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
def test_scans_match_numpy(op, dim, layout):
    t, a = make(layout, (3, 4, 5), np.float64, seed=14, low=0.5, high=1.5)
    out = getattr(t, op)(dim)
    check(out, getattr(np, op)(a, axis=dim))
    check(getattr(torch, op)(t, dim=dim), getattr(np, op)(a, axis=dim))


def test_large_cumsum():
    t, a = make("contiguous", (300, 200), np.float64, seed=15)
    check(t.cumsum(1), np.cumsum(a, 1), atol=1e-9)
    check(t.cumsum(0), np.cumsum(a, 0), atol=1e-9)
    i = torch.arange(60000)
    assert i.cumsum(0)[-1].item() == 60000 * 59999 // 2


def test_cumsum_of_integers_exact():
    x = torch.tensor([[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(npy(x.cumsum(1)), [[1, 3, 6], [4, 9, 15]])
    np.testing.assert_array_equal(npy(x.cumsum(0)), [[1, 2, 3], [5, 7, 9]])
    np.testing.assert_array_equal(npy(x.cumprod(1)), [[1, 2, 6], [4, 20, 120]])


# ---- softmax / log_softmax ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2])
def test_softmax_log_softmax_match_numpy(dim, layout):
    t, a = make(layout, (3, 4, 5), np.float32, seed=16, low=-5, high=5)
    ref = np_softmax(a.astype(np.float64), dim)
    for out in (F.softmax(t, dim=dim), t.softmax(dim), torch.softmax(t, dim), t.softmax(dim=dim)):
        assert out.dtype == torch.float32
        check(out, ref, rtol=1e-5)
        check(out.sum(dim), np.ones(ref.sum(dim).shape), rtol=1e-5)
    for out in (F.log_softmax(t, dim=dim), t.log_softmax(dim), torch.log_softmax(t, dim)):
        check(out, np.log(ref), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dim", [0, 1])
def test_large_softmax(dim):
    t, a = make("contiguous", (250, 200), np.float32, seed=17, low=-10, high=10)
    ref = np_softmax(a.astype(np.float64), dim)
    check(t.softmax(dim), ref, rtol=1e-4, atol=1e-7)
    check(t.softmax(dim).sum(dim), np.ones(a.shape[1 - dim]), rtol=1e-4)
    check(t.log_softmax(dim), np.log(ref), rtol=1e-4, atol=1e-4)
    t3, a3 = make("contiguous", (50, 40, 30), np.float32, seed=17)
    check(t3.softmax(1), np_softmax(a3.astype(np.float64), 1), rtol=1e-4, atol=1e-7)


def test_softmax_is_stable():
    x = torch.tensor([[1000., 1000., -1000.], [-math.inf, 0., -math.inf]])
    check(x.softmax(1), [[0.5, 0.5, 0.], [0., 1., 0.]])
    check(torch.tensor([1000., 0.]).log_softmax(0), [0., -1000.])


def test_softmax_dtype_argument_and_integer_input():
    x = torch.tensor([1., 2., 3.])
    r = F.softmax(x, dim=0, dtype=torch.float64)
    assert r.dtype == torch.float64
    check(r, np_softmax(np.array([1., 2., 3.]), 0))
    with pytest.raises(NotImplementedError, match="\"softmax_lastdim_kernel_impl\" not implemented for 'Long'"):
        torch.tensor([1, 2]).softmax(0)


def test_softmax_implicit_dim_warns():
    x = torch.tensor([[1., 2.], [3., 4.]])
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been deprecated"):
        out = F.softmax(x)
    check(out, np_softmax(np.array([[1., 2.], [3., 4.]]), 1))


# ---- gradients ----------------------------------------------------------------------------------------------------

def f64(shape, seed=0, low=-1.0, high=1.0):
    rng = np.random.default_rng(seed)
    return torch.tensor(rng.uniform(low, high, shape), dtype=torch.float64, requires_grad=True)


GRAD_CASES = {
    "sum": lambda x: x.sum(),
    "sum_dim": lambda x: x.sum(1),
    "sum_dims_keep": lambda x: x.sum((0, 2), keepdim=True),
    "sum_neg": lambda x: x.sum(-1),
    "mean": lambda x: x.mean(),
    "mean_dim": lambda x: x.mean(0),
    "mean_dims_keep": lambda x: x.mean((2, 0), keepdim=True),
    "prod": lambda x: x.prod(),
    "prod_dim": lambda x: x.prod(1),
    "prod_dim_keep": lambda x: x.prod(-1, keepdim=True),
    "max": lambda x: x.max(),
    "min": lambda x: x.min(),
    "max_dim": lambda x: x.max(1)[0],
    "max_dim_keep": lambda x: x.max(2, keepdim=True).values,
    "min_dim": lambda x: x.min(0).values,
    "amax": lambda x: x.amax(),
    "amax_dims": lambda x: x.amax((0, 2)),
    "amin_keep": lambda x: x.amin(1, keepdim=True),
    "var": lambda x: x.var(),
    "var_dim": lambda x: x.var(1),
    "var_c0_keep": lambda x: x.var(0, keepdim=True, correction=0),
    "std": lambda x: x.std(),
    "std_dim": lambda x: x.std(2, unbiased=False),
    "std_dims_keep": lambda x: x.std((0, 1), keepdim=True),
    "norm": lambda x: x.norm(),
    "norm_dim": lambda x: x.norm(dim=1),
    "norm1": lambda x: x.norm(p=1, dim=0),
    "norm_inf": lambda x: x.norm(p=math.inf),
    "norm_inf_dim": lambda x: x.norm(p=math.inf, dim=2, keepdim=True),
    "logsumexp": lambda x: x.logsumexp(1),
    "logsumexp_all_keep": lambda x: x.logsumexp((0, 1, 2), keepdim=True),
    "softmax0": lambda x: x.softmax(0),
    "softmax1": lambda x: x.softmax(dim=1),
    "softmax_last": lambda x: x.softmax(-1),
    "log_softmax0": lambda x: x.log_softmax(0),
    "log_softmax1": lambda x: x.log_softmax(dim=1),
    "log_softmax_last": lambda x: x.log_softmax(-1),
    "cumsum0": lambda x: x.cumsum(0),
    "cumsum_last": lambda x: x.cumsum(-1),
    "cumprod1": lambda x: x.cumprod(1),
    "cumprod_last": lambda x: x.cumprod(-1),
}


@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_gradcheck_reductions(name):
    fn = GRAD_CASES[name]
    low, high = (0.5, 1.5) if name.startswith(("cumprod", "prod", "norm1")) else (-1.0, 1.0)
    x = f64((2, 3, 2), seed=len(name), low=low, high=high)
    assert gradcheck(fn, (x,), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("name", ["sum_dim", "mean", "max_dim", "softmax1", "var_dim", "cumsum0", "norm_dim"])
def test_gradcheck_reductions_on_transposed_input(name):
    fn = GRAD_CASES[name]
    base = f64((2, 3, 2), seed=3)
    assert gradcheck(lambda b: fn(b.transpose(0, 2)), (base,))


def test_gradcheck_prod_with_zeros():
    x = torch.tensor([[1.5, 0., 2.], [0.5, -1., 3.]], dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda t: t.prod(), (x,))
    assert gradcheck(lambda t: t.prod(1), (x,))
    assert gradcheck(lambda t: t.prod(0, keepdim=True), (x,))
    two = torch.tensor([[0., 0., 2.], [1., 0., 3.]], dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda t: t.prod(), (two,))
    assert gradcheck(lambda t: t.prod(1), (two,))


def test_prod_gradient_with_a_zero():
    x = torch.tensor([2., 0., 3.], requires_grad=True)
    x.prod().backward()
    check(x.grad, [0., 6., 0.])


def test_max_gradient_ties():
    x = torch.tensor([1., 3., 3.], requires_grad=True)
    x.max().backward()
    check(x.grad, [0., 0.5, 0.5])
    x = torch.tensor([1., 3., 3.], requires_grad=True)
    x.amax().backward()
    check(x.grad, [0., 0.5, 0.5])
    x = torch.tensor([1., 3., 3.], requires_grad=True)
    x.max(0).values.backward()
    check(x.grad, [0., 1., 0.])
    x = torch.tensor([[2., 2.], [1., 5.]], requires_grad=True)
    x.amin(1).sum().backward()
    check(x.grad, [[0.5, 0.5], [1., 0.]])


def test_softmax_gradients_match_formula():
    x = f64((3, 4), seed=5)
    w = torch.tensor(np.arange(12.).reshape(3, 4))
    (x.softmax(1) * w).sum().backward()
    s = npy(x.softmax(1))
    wn = np.arange(12.).reshape(3, 4)
    check(x.grad, s * (wn - (wn * s).sum(1, keepdims=True)))


GRAD_FN_NAMES = [
    ("sum", lambda x, F: x.sum(), "SumBackward0"),
    ("sum_dim", lambda x, F: x.sum(0), "SumBackward1"),
    ("sum_dims", lambda x, F: x.sum(dim=(0, 1)), "SumBackward1"),
    ("mean", lambda x, F: x.mean(), "MeanBackward0"),
    ("mean_dim", lambda x, F: x.mean(1), "MeanBackward1"),
    ("prod", lambda x, F: x.prod(), "ProdBackward0"),
    ("prod_dim", lambda x, F: x.prod(0), "ProdBackward1"),
    ("max", lambda x, F: x.max(), "MaxBackward1"),
    ("max_dim", lambda x, F: x.max(0)[0], "MaxBackward0"),
    ("min", lambda x, F: x.min(), "MinBackward1"),
    ("min_dim", lambda x, F: x.min(0).values, "MinBackward0"),
    ("amax", lambda x, F: x.amax(), "AmaxBackward0"),
    ("amax_dim", lambda x, F: x.amax(0), "AmaxBackward0"),
    ("amin", lambda x, F: x.amin(1), "AminBackward0"),
    ("var", lambda x, F: x.var(), "VarBackward0"),
    ("var_dim", lambda x, F: x.var(0), "VarBackward0"),
    ("std", lambda x, F: x.std(), "StdBackward0"),
    ("std_dim", lambda x, F: x.std(0), "StdBackward0"),
    ("norm", lambda x, F: x.norm(), "LinalgVectorNormBackward0"),
    ("norm1", lambda x, F: x.norm(p=1, dim=0), "LinalgVectorNormBackward0"),
    ("norminf", lambda x, F: x.norm(p=math.inf), "LinalgVectorNormBackward0"),
    ("logsumexp", lambda x, F: x.logsumexp(0), "LogsumexpBackward0"),
    ("softmax", lambda x, F: x.softmax(0), "SoftmaxBackward0"),
    ("F.softmax", lambda x, F: F.softmax(x, dim=1), "SoftmaxBackward0"),
    ("log_softmax", lambda x, F: F.log_softmax(x, 1), "LogSoftmaxBackward0"),
    ("log_softmax_m", lambda x, F: x.log_softmax(-1), "LogSoftmaxBackward0"),
    ("cumsum", lambda x, F: x.cumsum(0), "CumsumBackward0"),
    ("cumprod", lambda x, F: x.cumprod(1), "CumprodBackward0"),
]


@pytest.mark.parametrize("fn,expected", [(f, e) for _, f, e in GRAD_FN_NAMES], ids=[n for n, _, _ in GRAD_FN_NAMES])
def test_grad_fn_names(fn, expected):
    x = torch.rand(3, 4, dtype=torch.float64, requires_grad=True)
    y = fn(x, F)
    assert y.grad_fn is not None
    assert y.grad_fn.name() == expected
    assert f"grad_fn=<{expected}>" in repr(y)


def test_argmax_and_integer_results_have_no_grad_fn():
    x = torch.rand(3, 4, requires_grad=True)
    assert x.argmax().grad_fn is None and not x.argmax().requires_grad
    assert x.max(1).indices.grad_fn is None
    assert x.all().grad_fn is None
    with torch.no_grad():
        assert x.sum().grad_fn is None


# ---- hypothesis: random shapes, dims and keepdim -------------------------------------------------------------

@st.composite
def reduction_case(draw):
    ndim = draw(st.integers(1, 4))
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=ndim, max_size=ndim)))
    dims = draw(st.lists(st.integers(0, ndim - 1), unique=True, min_size=1, max_size=ndim))
    dims = tuple(d - ndim if draw(st.booleans()) else d for d in dims)
    dim = dims[0] if len(dims) == 1 and draw(st.booleans()) else dims
    keepdim = draw(st.booleans())
    op = draw(st.sampled_from(sorted(NUMPY_REDUCTIONS)))
    transpose = ndim > 1 and draw(st.booleans())
    seed = draw(st.integers(0, 2 ** 16))
    return shape, dim, keepdim, op, transpose, seed


@settings(max_examples=50, deadline=None)
@given(reduction_case())
def test_hypothesis_reductions_match_numpy(case):
    shape, dim, keepdim, op, transpose, seed = case
    rng = np.random.default_rng(seed)
    low, high = (0.5, 1.5) if op == "prod" else (-3.0, 3.0)
    a = rng.uniform(low, high, shape)
    t = torch.tensor(a)
    if transpose:
        t = t.transpose(0, -1)
        a = a.swapaxes(0, -1)
    out = reduce_tcli(op, t, dim, keepdim)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy's ddof warning for a single element
        expected = NUMPY_REDUCTIONS[op](a, axis_of(dim), keepdim)
    check(out, expected, rtol=1e-9, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 4).flatmap(lambda n: st.tuples(
    st.lists(st.integers(1, 5), min_size=n, max_size=n), st.integers(-n, n - 1), st.booleans(),
    st.integers(0, 2 ** 16))))
def test_hypothesis_max_argmax_cumsum_softmax(case):
    shape, dim, keepdim, seed = case
    a = np.random.default_rng(seed).integers(-4, 5, shape).astype(np.float64)  # many ties
    t = torch.tensor(a)
    v, i = t.max(dim, keepdim)
    check(v, a.max(dim, keepdims=keepdim))
    np.testing.assert_array_equal(npy(i), a.argmax(dim, keepdims=keepdim))
    np.testing.assert_array_equal(npy(t.argmin(dim, keepdim)), a.argmin(dim, keepdims=keepdim))
    check(t.cumsum(dim), np.cumsum(a, dim))
    check(t.softmax(dim), np_softmax(a, dim), rtol=1e-9, atol=1e-12)


# ---- live comparisons with PyTorch --------------------------------------------------------------------------------

@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2)], ids=str)
@pytest.mark.parametrize("op", list(NUMPY_REDUCTIONS))
def test_against_torch_reductions(op, dim, keepdim):
    T = pytest.importorskip("torch")
    if op == "prod" and (isinstance(dim, tuple) or (dim is None and keepdim)):
        pytest.skip("torch.prod takes a single dim")
    _, a = make("transposed", (3, 4, 5), np.float32, seed=20, low=0.5, high=1.5)
    ours = reduce_tcli(op, torch.tensor(a), dim, keepdim)
    theirs = reduce_tcli(op, T.tensor(a), dim, keepdim)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(npy(ours), theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_against_torch_result_dtypes():
    T = pytest.importorskip("torch")
    cases = [
        lambda m, x: x.sum(), lambda m, x: x.prod(), lambda m, x: x.cumsum(0), lambda m, x: x.amax(),
        lambda m, x: x.max(), lambda m, x: x.argmax(), lambda m, x: x.all(), lambda m, x: x.any(0),
        lambda m, x: x.sum(dtype=m.float64), lambda m, x: x.float().logsumexp(0),
    ]
    for dtype in ("int32", "int64", "bool", "float32"):
        a = np.array([1, 0, 3]).astype(dtype)
        for fn in cases:
            try:
                theirs = fn(T, T.tensor(a))
            except Exception as e:  # e.g. argmax of bool
                with pytest.raises(type(e)):
                    fn(torch, torch.tensor(a))
                continue
            ours = fn(torch, torch.tensor(a))
            assert str(ours.dtype) == str(theirs.dtype), (dtype, ours, theirs)
            np.testing.assert_allclose(npy(ours), theirs.numpy())


def test_against_torch_max_repr_and_errors():
    T = pytest.importorskip("torch")
    a = np.array([[1., 5., 3.], [4., 2., 6.]], dtype=np.float32)
    assert repr(torch.tensor(a).max(1)) == repr(T.tensor(a).max(1))
    assert repr(torch.tensor(a).min(0, keepdim=True)) == repr(T.tensor(a).min(0, keepdim=True))
    for fn in (lambda m: m.empty(0).max(), lambda m: m.empty(0, 3).max(0), lambda m: m.empty(0).argmax(),
               lambda m: m.empty(0, 3).argmin(0), lambda m: m.ones(2, 3).sum(2), lambda m: m.tensor([1, 2]).mean(),
               lambda m: m.empty(0).amax()):
        with pytest.raises(Exception) as theirs:
            fn(T)
        with pytest.raises(Exception) as ours:
            fn(torch)
        assert type(ours.value) is type(theirs.value)
        assert str(ours.value).splitlines()[0] == str(theirs.value).splitlines()[0]


def test_against_torch_grad_fn_names():
    T = pytest.importorskip("torch")
    import torch.nn.functional as TF

    a = np.random.default_rng(0).uniform(size=(3, 4))
    for name, fn, _ in GRAD_FN_NAMES:
        ours, theirs = fn(torch.tensor(a, requires_grad=True), F), fn(T.tensor(a, requires_grad=True), TF)
        assert ours.grad_fn.name() == theirs.grad_fn.name(), name


@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_against_torch_gradients(name):
    T = pytest.importorskip("torch")
    fn = GRAD_CASES[name]
    low, high = (0.5, 1.5) if name.startswith(("cumprod", "prod", "norm1")) else (-1.0, 1.0)
    a = np.random.default_rng(len(name)).uniform(low, high, (2, 3, 2))
    w = np.random.default_rng(1).uniform(size=64)
    xo, xt = torch.tensor(a, requires_grad=True), T.tensor(a, requires_grad=True)
    yo, yt = fn(xo), fn(xt)
    assert tuple(yo.shape) == tuple(yt.shape)
    n = int(np.prod(yt.shape))
    wo = torch.tensor(w[:n].reshape(tuple(yt.shape)))
    wt = T.tensor(w[:n].reshape(tuple(yt.shape)))
    (yo * wo).sum().backward()
    (yt * wt).sum().backward()
    np.testing.assert_allclose(npy(yo), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(npy(xo.grad), xt.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_float32_sums_and_means_do_not_drift_with_length():
    """float32 data summed in float64 accumulators: the mean of many equal values is that value (one float32 sum
    used to drift by ~n ulps: 0.1000 printed as 0.1001), along any dim, and a running sum passes 2**24."""
    col = torch.full((200_000, 3), 0.1).mean(0)
    np.testing.assert_array_equal(col.numpy(), np.full(3, np.float32(0.1)))
    assert torch.full((300, 2000), 0.3).mean().item() == float(np.float32(0.3))
    rows = torch.full((3, 100_000), 0.1).sum(1)
    np.testing.assert_array_equal(rows.numpy(), np.full(3, np.float32(np.float64(np.float32(0.1)) * 100_000)))
    n = 2**24 + 4
    assert torch.ones(n).cumsum(0)[-1].item() == n
    assert torch.ones(n // 2, 2).sum(0).tolist() == [n // 2, n // 2]


def test_aminmax_fields_and_median_ties_share_the_gradient():
    r = torch.tensor([[1.0, 5.0], [3.0, 2.0]]).aminmax(dim=1)
    assert r.min.tolist() == [1.0, 2.0] and r.max.tolist() == [5.0, 3.0]
    assert repr(torch.tensor([1.0, 3.0]).aminmax()).startswith("torch.return_types.aminmax(\nmin=tensor(1.)")
    x = torch.tensor([1.0, 3.0, 3.0], requires_grad=True)
    m = x.median()
    assert m.grad_fn.name() == "MedianBackward0"
    m.backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5]  # PyTorch splits the gradient between tied medians


def test_numpy_keyword_names_and_pytorchs_warnings():
    """axis= and keepdims= work as dim= and keepdim= (PyTorch's argument parser takes numpy's names); std/var with
    no degrees of freedom and float() of a tensor that requires grad warn as PyTorch does."""
    x = torch.arange(6.0).view(2, 3)
    assert torch.sum(x, axis=0).tolist() == [3.0, 5.0, 7.0]
    assert x.mean(axis=1, keepdims=True).shape == (2, 1)
    assert x.max(axis=0).values.tolist() == [3.0, 4.0, 5.0] and x.argmax(axis=1).tolist() == [2, 2]
    assert torch.cat([x, x], axis=0).shape == (4, 3) and torch.stack([x, x], axis=1).shape == (2, 2, 3)
    assert x.softmax(axis=1).shape == (2, 3) and x.sort(axis=0).values.shape == (2, 3)
    with pytest.warns(UserWarning, match=r"^std\(\): degrees of freedom is <= 0"):
        assert math.isnan(torch.ones(1).std().item())
    with pytest.warns(UserWarning, match=r"^var\(\): degrees of freedom is <= 0"):
        torch.ones(3, 1).var(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch.ones(2, 3).std(0)  # two values per column: no warning
    with pytest.warns(UserWarning, match="Converting a tensor with requires_grad=True to a scalar"):
        float(torch.ones(1, requires_grad=True))

"""Advanced indexing, __setitem__, gather/scatter, masks, sorting, topk, unique: values, errors and gradients.

Expectations are PyTorch 2.13's (which agree with numpy's except where noted); tests that compare with a live
PyTorch skip when it is not installed.
"""

import math
import re

import numpy as np
import pytest
from helpers import assert_same_errors
from hypothesis import given, settings
from hypothesis import strategies as st

import tcli as torch
import tcli.nn.functional as F
from tcli.autograd import gradcheck

# ---- helpers ----------------------------------------------------------------------------------------------------


def npy(t):
    return t.detach().numpy()


def check(t, expected, rtol=1e-7, atol=0.0):
    expected = np.asarray(expected)
    assert tuple(t.shape) == expected.shape, (tuple(t.shape), expected.shape)
    if expected.dtype.kind in "biu":
        np.testing.assert_array_equal(npy(t), expected)
    else:
        np.testing.assert_allclose(npy(t), expected, rtol=rtol, atol=atol, equal_nan=True)


def base():
    return torch.arange(60).reshape(3, 4, 5), np.arange(60).reshape(3, 4, 5)


def as_t(k):
    """Index components for tcli: numpy int/bool arrays become tensors, the rest stay as they are."""
    if isinstance(k, tuple):
        return tuple(as_t(c) for c in k)
    if isinstance(k, np.ndarray):
        return torch.tensor(k)
    return k


def f64(shape, seed=0, low=-1.0, high=1.0):
    rng = np.random.default_rng(seed)
    return torch.tensor(rng.uniform(low, high, shape), dtype=torch.float64, requires_grad=True)


A = np.array
M3 = A([True, False, True])
M4 = A([False, True, True, True])
M34 = A([[True, False, False, True], [False, False, False, False], [True, True, False, True]])

# (key for numpy, same key written with lists / tensors for tcli)
ADVANCED_KEYS = {
    "list": ([0, 2], [0, 2]),
    "tensor": (A([0, 2]), A([0, 2])),
    "negative": ([-1, 0, -3], [-1, 0, -3]),
    "repeated": ([1, 1, 1], [1, 1, 1]),
    "2d_index": (A([[0, 1], [2, 2]]), A([[0, 1], [2, 2]])),
    "two_adjacent": ((A([0, 2]), A([1, 3])), (A([0, 2]), A([1, 3]))),
    "slice_then_list": ((slice(None), [0, 3]), (slice(None), [0, 3])),
    "separated": (([0, 2], slice(None), [1, 4]), ([0, 2], slice(None), [1, 4])),
    "adjacent_after_slice": ((slice(None), [1, 2], [0, 4]), (slice(None), [1, 2], [0, 4])),
    "broadcast": ((A([[0], [2]]), A([1, 3, 0])), (A([[0], [2]]), A([1, 3, 0]))),
    "broadcast_3": ((A([[0], [2]]), A([1, 3, 0]), A([[4, 0, 1]])), (A([[0], [2]]), A([1, 3, 0]), A([[4, 0, 1]]))),
    "int_and_list": ((1, [0, 2]), (1, [0, 2])),
    "list_slice_int": (([0, 2], slice(None), 1), ([0, 2], slice(None), 1)),
    "ellipsis_list": ((Ellipsis, [0, 1]), (Ellipsis, [0, 1])),
    "none_list": ((None, [0, 2]), (None, [0, 2])),
    "list_none": (([0, 2], None), ([0, 2], None)),
    "slice_step_list": ((slice(None, None, 2), [3, 0], slice(1, None)), (slice(None, None, 2), [3, 0], slice(1, None))),
    "mask_full": (np.arange(60).reshape(3, 4, 5) % 7 == 0, np.arange(60).reshape(3, 4, 5) % 7 == 0),
    "mask_dim0": (M3, M3),
    "mask_dims01": (M34, M34),
    "mask_middle": ((slice(None), M4), (slice(None), M4)),
    "mask_and_list": ((M3, [1, 2]), (M3, [1, 2])),
    "mask_list_last": ((slice(None), M4, [0, 1, 4]), (slice(None), M4, [0, 1, 4])),
    "mask_ellipsis": ((Ellipsis, A([True, False, False, True, True])), (Ellipsis, A([True, False, False, True, True]))),
    "empty_list": (A([], dtype=np.int64), A([], dtype=np.int64)),
    "all_false": (A([False, False, False]), A([False, False, False])),
    "np_int_array": (A([2, 0]), A([2, 0])),
}


@pytest.mark.parametrize("name", list(ADVANCED_KEYS))
def test_advanced_getitem_matches_numpy(name):
    np_key, t_key = ADVANCED_KEYS[name]
    x, a = base()
    out = x[as_t(t_key)]
    expected = a[np_key]
    check(out, expected)
    assert out.dtype == torch.int64
    # advanced indexing copies
    if out.numel():
        out.fill_(-1)
        np.testing.assert_array_equal(npy(x), a)


@pytest.mark.parametrize("name", ["list", "separated", "broadcast", "mask_middle", "mask_and_list"])
def test_advanced_getitem_on_non_contiguous_input(name):
    np_key, t_key = ADVANCED_KEYS[name]
    big = np.arange(6 * 8 * 5).reshape(6, 8, 5)
    a = big[::2, ::2]
    x = torch.tensor(big)[::2, ::2]
    assert not x.is_contiguous()
    check(x[as_t(t_key)], a[np_key])


def test_index_with_int32_and_uint8_tensors():
    # (x[[[0, 1], [2, 0]]] is left out: PyTorch 2.13 still reads a list of lists as a tuple, with a deprecation
    # warning that announces numpy's meaning.)
    x, a = base()
    check(x[torch.tensor([[0, 1], [2, 0]])], a[np.array([[0, 1], [2, 0]])])
    check(x[torch.tensor([2, 0], dtype=torch.int32)], a[[2, 0]])
    check(x[torch.tensor([1, 0, 1], dtype=torch.uint8)], a[M3])


def test_int_slice_list_differs_from_numpy():
    """PyTorch applies the int first (a view), so x[0, :, [1, 2]] is (4, 2); numpy gives (2, 4)."""
    x, a = base()
    out = x[0, :, [1, 2]]
    assert out.shape == (4, 2)
    check(out, a[0][:, [1, 2]])


def test_scalar_bool_index():
    x, a = base()
    assert x[torch.tensor(True)].shape == (1, 3, 4, 5)
    assert x[torch.tensor(False)].shape == (0, 3, 4, 5)
    assert x[True].shape == (1, 3, 4, 5)
    s = torch.tensor(5.)
    assert s[s > 0].shape == (1,)
    assert s[None].shape == (1,)
    assert s[...].shape == ()


def test_advanced_index_out_of_range_raises_and_never_crashes():
    x, _ = base()
    with pytest.raises(IndexError) as info:
        x[[0, 5]]
    assert str(info.value).splitlines()[0] == "index 5 is out of bounds for dimension 0 with size 3"
    with pytest.raises(IndexError, match="index -4 is out of bounds for dimension 0 with size 3"):
        x[torch.tensor([0, -4])]
    with pytest.raises(IndexError, match="index 1000000000000 is out of bounds for dimension 0 with size 3"):
        x[[10 ** 12]]
    with pytest.raises(IndexError, match="index -1000000000000 is out of bounds for dimension 0 with size 3"):
        x[[-10 ** 12]]
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension"):
        x[:, [4]]
    with pytest.raises(IndexError, match="out of bounds"):
        x[[0, 1], [0, 2**40]]
    with pytest.raises(IndexError):
        torch.ones(50000)[torch.tensor([0, 49999, 50000])]


def test_index_errors():
    x, _ = base()
    with pytest.raises(IndexError, match=re.escape("The shape of the mask [2] at index 0 does not match the shape of "
                                                   "the indexed tensor [3, 4, 5] at index 0")):
        x[torch.tensor([True, False])]
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool tensors"):
        x[torch.tensor([0.])]
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 3"):
        x[[0], [0], [0], [0]]


# ---- __setitem__ ---------------------------------------------------------------------------------------------------

SET_CASES = {
    "int_scalar": (1, -1),
    "slice_scalar": ((slice(None), 1), -2),
    "ellipsis_step": ((Ellipsis, slice(None, None, 2)), 7),
    "row_broadcast": (0, np.arange(5) * 100),
    "col_tensor": ((slice(None), slice(None), 0), np.arange(12).reshape(3, 4) * 10),
    "list_scalar": ([0, 2], 9),
    "list_broadcast": ([0, 2], np.arange(5) + 500),
    "list_full": ([2, 0], np.arange(40).reshape(2, 4, 5) + 1000),
    "slice_list": ((slice(None), [0, 1]), np.arange(5) - 50),
    "separated": (([0, 2], slice(None), [1, 4]), np.arange(4) + 300),
    "separated_full": (([0, 2], slice(None), [1, 4]), np.arange(8).reshape(2, 4) + 300),
    "broadcast_index": ((np.array([[0], [2]]), np.array([1, 3])), np.array([[1], [2]]) * 11),
    "mask_full": (np.arange(60).reshape(3, 4, 5) % 3 == 0, 0),
    "mask_values": (np.arange(60).reshape(3, 4, 5) % 7 == 0, np.arange(9) * -1),
    "mask_dim0": (M3, np.arange(20).reshape(4, 5) + 2000),
    "mask_dim0_rows": (M3, np.arange(40).reshape(2, 4, 5) + 2000),
    "mask_middle": ((slice(None), M4), -8),
    "negative_list": ([-1], np.arange(20).reshape(1, 4, 5)),
    "none_key": ((None, 1), -3),
    "int_tensor_int": ((1, 2, 3), 12345),
}


@pytest.mark.parametrize("name", list(SET_CASES))
def test_setitem_matches_numpy(name):
    key, value = SET_CASES[name]
    x, a = base()
    tv = torch.tensor(value) if isinstance(value, np.ndarray) else value
    x[as_t(key)] = tv
    a[key] = value
    np.testing.assert_array_equal(npy(x), a)


def test_setitem_values_of_other_kinds():
    x = torch.zeros(2, 3)
    x[0] = [1, 2, 3]
    x[1, 1:] = torch.tensor([5, 6])  # int64 value into float32
    x[:, 0] += 10
    check(x, np.array([[11., 2., 3.], [10., 5., 6.]], dtype=np.float32))
    i = torch.zeros(3, dtype=torch.int64)
    i[0] = 2.7
    i[1] = -2.7
    check(i, [2, -2, 0])
    b = torch.zeros(3, dtype=torch.bool)
    b[1] = True
    check(b, [False, True, False])
    y = torch.zeros(2, 3)
    y[torch.tensor([True, False])] = torch.tensor([1., 2., 3.])
    check(y, np.array([[1., 2., 3.], [0., 0., 0.]], dtype=np.float32))
    z = torch.zeros(4)
    z[torch.tensor(2)] = 1.0
    check(z, np.array([0., 0., 1., 0.], dtype=np.float32))


def test_setitem_on_a_view_writes_the_base():
    x = torch.zeros(3, 4)
    v = x[1:]
    v[[0, 1], [3, 0]] = 5.
    v[v == 0] = 1.
    expected = np.zeros((3, 4), np.float32)
    expected[1:] = 1.
    expected[1, 3] = expected[2, 0] = 5.
    check(x, expected)
    t = torch.zeros(4, 3).t()
    t[0] = torch.tensor([1., 2., 3., 4.])
    check(t, np.array([[1., 2., 3., 4.], [0.] * 4, [0.] * 4], np.float32))


def test_setitem_out_of_range_raises_and_leaves_tensor_alone():
    x, a = base()
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        x[3] = 1
    with pytest.raises(IndexError, match="index 7 is out of bounds for dimension 0 with size 3"):
        x[[0, 7]] = 1
    with pytest.raises(IndexError, match="out of bounds"):
        x[[0, 1], [0, -5]] = 1
    with pytest.raises(IndexError):
        x[:, :, [10 ** 15]] = 1
    np.testing.assert_array_equal(npy(x), a)


def test_setitem_shape_mismatch_raises():
    x = torch.zeros(3, 4, 5)
    with pytest.raises(RuntimeError, match=re.escape(
            "The expanded size of the tensor (5) must match the existing size (3) at non-singleton dimension 1.  "
            "Target sizes: [4, 5].  Tensor sizes: [3]")):
        x[0] = torch.ones(3)
    with pytest.raises(RuntimeError):
        x[:, 1:3] = torch.ones(7)
    np.testing.assert_array_equal(npy(x), np.zeros((3, 4, 5)))


def test_advanced_setitem_shape_mismatch_raises():
    x = torch.zeros(3, 4, 5)
    with pytest.raises(RuntimeError, match=re.escape(
            "shape mismatch: value tensor of shape [3] cannot be broadcast to indexing result of shape [2, 4, 5]")):
        x[[0, 2]] = torch.ones(3)


def test_setitem_on_non_leaf_with_history():
    x = torch.ones(3, 2, requires_grad=True)
    y = x * 2
    y[0] = 0
    assert "grad_fn=<CopySlices>" in repr(y)
    y.sum().backward()
    check(x.grad, np.array([[0., 0.], [2., 2.], [2., 2.]], np.float32))
    x.grad = None
    y = x * 3
    y[[0, 2], 1] = 0
    (y * torch.tensor([1., 10.])).sum().backward()
    check(x.grad, np.array([[3., 0.], [3., 30.], [3., 0.]], np.float32))
    x.grad = None
    y = x * 1
    y[y > 0.5] = 0.
    y.sum().backward()
    check(x.grad, np.zeros((3, 2), np.float32))


def test_setitem_gradient_flows_to_the_value():
    x = torch.ones(3, 2, requires_grad=True)
    v = torch.tensor([5., 7.], requires_grad=True)
    y = x * 1
    y[1] = v * 2
    (y * torch.tensor([[1., 2.], [3., 4.], [5., 6.]])).sum().backward()
    check(v.grad, np.array([6., 8.], np.float32))
    check(x.grad, np.array([[1., 2.], [0., 0.], [5., 6.]], np.float32))
    w = torch.tensor(1., requires_grad=True)
    z = torch.zeros(4) * 1
    z[[0, 1, 3]] = w
    z.sum().backward()
    assert w.grad.item() == 3.0


def test_setitem_on_leaf_requiring_grad_raises():
    x = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad is being used in an in-place operation"):
        x[0] = 3.
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad is being used in an in-place operation"):
        x[[0, 1]] = 3.
    with torch.no_grad():
        x[0] = 3.
    assert x[0].item() == 3.


def test_gradcheck_setitem():
    def fn(x, v):
        y = x * 1
        y[1:, [0, 2]] = v
        return y

    assert gradcheck(fn, (f64((3, 4), seed=1), f64((2,), seed=2)))

    def fn2(x, v):
        y = x.clone()
        y[0] = v * v
        return y * y

    assert gradcheck(fn2, (f64((3, 4), seed=3), f64((4,), seed=4)))


# ---- gradients of getitem -------------------------------------------------------------------------------------

GETITEM_GRADS = {
    "list": lambda x: x[[0, 2]],
    "repeated": lambda x: x[[0, 0, 2]],
    "separated_repeated": lambda x: x[[1, 1], :, [1, 1]],
    "broadcast": lambda x: x[torch.tensor([[0], [1]]), torch.tensor([1, 1, 0])],
    "mask": lambda x: x[x.detach() > 0],
    "mask_dim0": lambda x: x[torch.tensor([True, False, True])],
    "slice_then_list": lambda x: x[:, [1, 0, 1]],
    "int_list": lambda x: x[1, [0, 0]],
}


@pytest.mark.parametrize("name", list(GETITEM_GRADS))
def test_gradcheck_advanced_getitem(name):
    x = f64((3, 2, 2), seed=5)
    assert gradcheck(GETITEM_GRADS[name], (x,))


def test_repeated_index_gradient_accumulates():
    x = torch.zeros(4, requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    check(x.grad, np.array([3., 0., 1., 0.], np.float32))
    assert x[[0]].grad_fn.name() == "IndexBackward0"


# ---- gather / scatter / scatter_add ------------------------------------------------------------------------------

def np_gather(a, dim, idx):
    out = np.empty(idx.shape, a.dtype)
    for p in np.ndindex(*idx.shape):
        q = list(p)
        q[dim] = idx[p]
        out[p] = a[tuple(q)]
    return out


def np_scatter(a, dim, idx, src, add=False):
    out = a.copy()
    for p in np.ndindex(*idx.shape):
        q = list(p)
        q[dim] = idx[p]
        v = src[p] if isinstance(src, np.ndarray) else src
        if add:
            out[tuple(q)] += v
        else:
            out[tuple(q)] = v
    return out


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_gather_matches_reference(dim):
    rng = np.random.default_rng(6)
    a = rng.standard_normal((3, 4, 5))
    shape = [2, 3, 4]
    shape[dim] = 6
    idx = rng.integers(0, a.shape[dim], shape)
    check(torch.tensor(a).gather(dim, torch.tensor(idx)), np_gather(a, dim % 3, idx))
    check(torch.gather(torch.tensor(a).transpose(0, 1).transpose(0, 1), dim, torch.tensor(idx)),
          np_gather(a, dim % 3, idx))
    full = rng.integers(0, a.shape[dim], a.shape)
    check(torch.tensor(a).gather(dim, torch.tensor(full)), np.take_along_axis(a, full, dim))


def test_gather_on_transposed_input_and_int32_index():
    a = np.arange(12.).reshape(3, 4)
    x = torch.tensor(a.T.copy()).t()
    idx = np.array([[0, 3], [1, 1], [2, 0]])
    check(x.gather(1, torch.tensor(idx)), np.take_along_axis(a, idx, 1))
    check(torch.tensor(a).gather(1, torch.tensor(idx, dtype=torch.int32)), np.take_along_axis(a, idx, 1))


def test_gather_errors():
    with pytest.raises(RuntimeError, match="index 5 is out of bounds for dimension 0 with size 3"):
        torch.ones(3).gather(0, torch.tensor([5]))
    with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 0 with size 3"):
        torch.ones(3).gather(0, torch.tensor([-1]))
    with pytest.raises(RuntimeError, match="Index tensor must have the same number of dimensions as input tensor"):
        torch.ones(3, 4).gather(1, torch.tensor([0]))
    with pytest.raises(RuntimeError, match="index 4 is out of bounds for dimension 1 with size 4"):
        torch.ones(3, 4).gather(1, torch.tensor([[0], [4], [1]]))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_scatter_and_scatter_add_match_reference(dim):
    rng = np.random.default_rng(7)
    a = rng.standard_normal((4, 5))
    src = rng.standard_normal((4, 5))
    d = dim % 2
    shape = [3, 4]
    idx_unique = np.stack([rng.permutation(a.shape[d])[:shape[d]] for _ in range(shape[1 - d])], axis=1 - d)
    x = torch.tensor(a)
    check(x.scatter(dim, torch.tensor(idx_unique), torch.tensor(src)), np_scatter(a, d, idx_unique, src))
    check(torch.scatter(x, dim, torch.tensor(idx_unique), 2.5), np_scatter(a, d, idx_unique, 2.5))
    idx_rep = rng.integers(0, a.shape[dim], (3, 4))
    check(x.scatter_add(dim, torch.tensor(idx_rep), torch.tensor(src)), np_scatter(a, d, idx_rep, src, True),
          rtol=1e-12)
    check(torch.scatter_add(x, dim, torch.tensor(idx_rep), torch.tensor(src)),
          np_scatter(a, d, idx_rep, src, True), rtol=1e-12)
    np.testing.assert_array_equal(npy(x), a)  # out of place


def test_scatter_inplace_and_reduce_add():
    x = torch.zeros(3)
    x.scatter_(0, torch.tensor([2, 0]), torch.tensor([5., 6.]))
    check(x, np.array([6., 0., 5.], np.float32))
    x.scatter_add_(0, torch.tensor([1, 1, 1]), torch.tensor([1., 2., 3.]))
    check(x, np.array([6., 6., 5.], np.float32))
    y = torch.zeros(3).scatter(0, torch.tensor([0, 0]), torch.tensor([1., 2.]), reduce="add")
    check(y, np.array([3., 0., 0.], np.float32))
    one_hot = torch.zeros(2, 4).scatter(1, torch.tensor([[1], [3]]), 1.0)
    check(one_hot, np.array([[0., 1., 0., 0.], [0., 0., 0., 1.]], np.float32))


def test_scatter_errors():
    with pytest.raises(RuntimeError, match="index 5 is out of bounds for dimension 0 with size 3"):
        torch.ones(3).scatter(0, torch.tensor([5]), 1.)
    with pytest.raises(RuntimeError, match="index 5 is out of bounds for dimension 0 with size 3"):
        torch.ones(3).scatter_add(0, torch.tensor([5]), torch.ones(1))
    with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 0 with size 3"):
        torch.ones(3).scatter_add(0, torch.tensor([-1]), torch.ones(1))
    x = torch.ones(3)
    with pytest.raises(RuntimeError):
        x.scatter_(0, torch.tensor([0, 10 ** 9]), 2.)
    check(x, np.ones(3, np.float32))


# ---- index_select / take / masked_select / nonzero ----------------------------------------------------------------

@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_index_select_matches_numpy(dim):
    x, a = base()
    idx = [0, 2, 2, 1, 0][: a.shape[dim] + 1]
    check(x.index_select(dim, torch.tensor(idx)), np.take(a, idx, axis=dim))
    check(torch.index_select(x.transpose(0, 2), dim, torch.tensor(idx)), np.take(a.transpose(2, 1, 0), idx, dim))
    check(x.index_select(dim, torch.tensor(idx, dtype=torch.int32)), np.take(a, idx, axis=dim))
    check(x.index_select(dim, torch.tensor([], dtype=torch.int64)), np.take(a, [], axis=dim).astype(np.int64))


def test_index_select_errors():
    with pytest.raises(IndexError):
        torch.ones(3).index_select(0, torch.tensor([5]))
    with pytest.raises(IndexError, match="index_select\\(\\): Index is supposed to be a vector"):
        torch.ones(3).index_select(0, torch.tensor([[0]]))


def test_take_matches_numpy():
    x, a = base()
    idx = np.array([[0, 59], [-1, 7]])
    check(x.take(torch.tensor(idx)), np.take(a, idx))
    check(torch.take(x.transpose(0, 2), torch.tensor(idx)), np.take(a.transpose(2, 1, 0), idx))
    with pytest.raises(IndexError):
        x.take(torch.tensor([60]))
    with pytest.raises(IndexError):
        x.take(torch.tensor([-61]))


def test_masked_select_matches_numpy():
    x, a = base()
    m = a % 4 == 1
    check(x.masked_select(torch.tensor(m)), a[m])
    row = np.array([True, False, True, False, True])
    check(torch.masked_select(x, torch.tensor(row)), a[np.broadcast_to(row, a.shape)])
    mt = m.transpose(2, 1, 0)
    check(x.transpose(0, 2).masked_select(torch.tensor(mt)), a.transpose(2, 1, 0)[mt])
    check(torch.ones(2, 3).masked_select(torch.tensor([True, False, True])), np.ones(4, np.float32))


def test_nonzero_matches_numpy():
    a = np.array([[0, 1, 0], [2, 0, 3]])
    x = torch.tensor(a)
    check(x.nonzero(), np.argwhere(a))
    assert x.nonzero().dtype == torch.int64
    tup = x.nonzero(as_tuple=True)
    assert isinstance(tup, tuple) and len(tup) == 2
    for t, r in zip(tup, np.nonzero(a)):
        check(t, r)
    check(torch.nonzero(x.t()), np.argwhere(a.T))
    check(torch.argwhere(x), np.argwhere(a))
    assert torch.zeros(2, 3).nonzero().shape == (0, 2)
    assert torch.tensor(5).nonzero().shape == (1, 0)
    big = np.zeros(50000)
    big[[3, 777, 49999]] = 1
    check(torch.tensor(big).nonzero(), np.argwhere(big))
    f = np.array([0., -0.5, np.nan, 0.])
    check(torch.tensor(f).nonzero(), np.argwhere(f))


def test_getitem_with_nonzero_tuple_roundtrip():
    x, a = base()
    m = a % 11 == 0
    check(x[torch.tensor(m).nonzero(as_tuple=True)], a[m])


# ---- one_hot ---------------------------------------------------------------------------------------------------

def test_one_hot():
    idx = np.array([[0, 2], [1, 0]])
    out = F.one_hot(torch.tensor(idx), 3)
    assert out.dtype == torch.int64
    check(out, np.eye(3, dtype=np.int64)[idx])
    check(F.one_hot(torch.tensor([0, 3, 1])), np.eye(4, dtype=np.int64)[[0, 3, 1]])
    assert F.one_hot(torch.tensor([], dtype=torch.int64), 3).shape == (0, 3)


def test_one_hot_errors():
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes."):
        F.one_hot(torch.tensor([0, 3]), 3)
    with pytest.raises(RuntimeError, match="Class values must be non-negative."):
        F.one_hot(torch.tensor([0, -1]), 3)
    with pytest.raises(RuntimeError, match="one_hot is only applicable to index tensor"):
        F.one_hot(torch.tensor([0, 1], dtype=torch.int32), 3)
    with pytest.raises(RuntimeError, match="Can not infer total number of classes from empty tensor."):
        F.one_hot(torch.tensor([], dtype=torch.int64))


# ---- sort / argsort / topk / unique -------------------------------------------------------------------------------

@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_matches_numpy(dim, descending):
    rng = np.random.default_rng(8)
    a = rng.integers(0, 4, (5, 6)).astype(np.float64)  # lots of ties
    x = torch.tensor(a)
    values, indices = x.sort(dim=dim, descending=descending, stable=True)
    order = np.argsort(-a if descending else a, dim, kind="stable")  # stable: ties keep their order
    np.testing.assert_array_equal(npy(indices), order)
    check(values, np.take_along_axis(a, order, dim))
    np.testing.assert_array_equal(npy(x.argsort(dim=dim, descending=descending, stable=True)), order)
    np.testing.assert_array_equal(npy(torch.argsort(x, dim=dim, descending=descending, stable=True)), order)
    v2, i2 = torch.sort(x.t().contiguous().t(), dim=dim, descending=descending, stable=True)
    np.testing.assert_array_equal(npy(i2), order)
    check(v2, np.take_along_axis(a, order, dim))


def test_sort_stable_ties_and_nan():
    x = torch.tensor([1, 2, 1, 2, 1])
    r = x.sort(descending=True, stable=True)
    np.testing.assert_array_equal(npy(r.indices), [1, 3, 0, 2, 4])
    np.testing.assert_array_equal(npy(x.sort(stable=True).indices), [0, 2, 4, 1, 3])
    assert repr(torch.tensor([3., 1., 2.]).sort(descending=True)) == (
        "torch.return_types.sort(\nvalues=tensor([3., 2., 1.]),\nindices=tensor([0, 2, 1]))")
    n = torch.tensor([1., math.nan, 0.])
    check(n.sort().values, [0., 1., math.nan])
    np.testing.assert_array_equal(npy(n.sort().indices), [2, 0, 1])
    check(n.sort(descending=True).values, [math.nan, 1., 0.])
    big = torch.tensor(np.random.default_rng(9).integers(0, 10, 50000))
    idx = big.sort(stable=True).indices
    np.testing.assert_array_equal(npy(idx), np.argsort(npy(big), kind="stable"))


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_topk_matches_numpy(dim, largest):
    a = np.random.default_rng(10).permutation(30).reshape(5, 6).astype(np.float32)
    x = torch.tensor(a)
    for k in (0, 1, 3, a.shape[dim]):
        r = x.topk(k, dim, largest=largest)
        order = np.argsort(-a if largest else a, axis=dim, kind="stable")
        order = np.take(order, range(k), axis=dim)
        np.testing.assert_array_equal(npy(r.indices), order)
        check(r.values, np.take_along_axis(a, order, dim))
        assert r.values.dtype == torch.float32 and r.indices.dtype == torch.int64
    r = torch.topk(x, 2, dim=dim, largest=largest)
    v, i = r
    assert v is r.values and i is r.indices


def test_topk_repr_and_errors():
    r = torch.tensor([3., 1., 2.]).topk(2)
    assert repr(r) == "torch.return_types.topk(\nvalues=tensor([3., 2.]),\nindices=tensor([0, 2]))"
    r = torch.tensor([3., 1., 2.]).topk(2, largest=False)
    assert repr(r) == "torch.return_types.topk(\nvalues=tensor([1., 2.]),\nindices=tensor([1, 2]))"
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        torch.ones(3).topk(4)
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        torch.ones(3).topk(-1)
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        torch.ones(3, 2).topk(3, dim=1)


def test_unique():
    a = np.array([[3, 1, 3], [2, 1, 7]])
    x = torch.tensor(a)
    check(x.unique(), np.unique(a))
    check(torch.unique(x), np.unique(a))
    values, inverse, counts = x.unique(return_inverse=True, return_counts=True)
    u, inv, cnt = np.unique(a, return_inverse=True, return_counts=True)
    check(values, u)
    check(inverse, inv.reshape(a.shape))
    check(counts, cnt)
    values, counts = torch.unique(x, return_counts=True)
    check(counts, cnt)
    values, inverse = x.t().unique(return_inverse=True)
    check(inverse, np.unique(a.T, return_inverse=True)[1].reshape(3, 2))
    f = torch.tensor([0.5, -1., 0.5, 2.])
    check(f.unique(), np.array([-1., 0.5, 2.], np.float32))
    assert torch.tensor([], dtype=torch.int64).unique().shape == (0,)
    h = np.array([[0.5, -1.0, 0.5], [np.nan, 2.0, -1.0]], np.float16)  # float16: found in float32, returned as float16
    values, inverse, counts = torch.tensor(h).unique(return_inverse=True, return_counts=True)
    assert values.dtype is torch.float16
    np.testing.assert_array_equal(values.numpy(), np.array([-1.0, 0.5, 2.0, np.nan], np.float16))
    check(inverse, np.array([[1, 0, 1], [3, 2, 0]]))
    check(counts, np.array([2, 2, 1, 1]))


# ---- gradients --------------------------------------------------------------------------------------------------

INDEX_OP_GRADS = {
    "gather": lambda x: x.gather(1, torch.tensor([[0, 0, 2], [1, 1, 1]])),
    "gather_dim0": lambda x: torch.gather(x, 0, torch.tensor([[1, 0, 0]])),
    "scatter_input": lambda x: x.scatter(1, torch.tensor([[0], [2]]), 0.0),
    "scatter_add_input": lambda x: x.scatter_add(0, torch.tensor([[0, 0, 1]]), torch.ones(1, 3).double()),
    "index_select": lambda x: x.index_select(1, torch.tensor([2, 0, 2, 2])),
    "index_select0": lambda x: torch.index_select(x, 0, torch.tensor([1, 1])),
    "take": lambda x: x.take(torch.tensor([[0, 5], [3, 0]])),
    "masked_select": lambda x: x.masked_select(torch.tensor([True, False, True])),
    "sort": lambda x: x.sort(1).values,
    "sort_desc_dim0": lambda x: x.sort(0, descending=True)[0],
    "topk": lambda x: x.topk(2).values,
    "topk_smallest_dim0": lambda x: x.topk(1, dim=0, largest=False)[0],
}


@pytest.mark.parametrize("name", list(INDEX_OP_GRADS))
def test_gradcheck_index_ops(name):
    assert gradcheck(INDEX_OP_GRADS[name], (f64((2, 3), seed=11),))


def test_gradcheck_scatter_src():
    idx = torch.tensor([[0, 1], [2, 0]])
    x, src = f64((3, 2), seed=12), f64((2, 2), seed=13)
    assert gradcheck(lambda a, b: a.scatter(0, idx, b), (x, src))
    rep = torch.tensor([[0, 0], [0, 0]])
    assert gradcheck(lambda a, b: a.scatter_add(0, rep, b), (x, src))
    assert gradcheck(lambda b: torch.zeros(3, 2, dtype=torch.float64).scatter_add(0, rep, b * b), (src,))


INDEX_NAMES = [
    ("adv", lambda x: x[[0, 2]], "IndexBackward0"),
    ("bool", lambda x: x[x > 0.5], "IndexBackward0"),
    ("gather", lambda x: x.gather(1, torch.tensor([[0], [1], [2]])), "GatherBackward0"),
    ("scatter_value", lambda x: x.scatter(1, torch.tensor([[0], [1], [2]]), 0.0), "ScatterBackward1"),
    ("scatter_src", lambda x: x.scatter(1, torch.tensor([[0], [1], [2]]), x[:, :1] * 1), "ScatterBackward0"),
    ("scatter_add", lambda x: x.scatter_add(1, torch.tensor([[0], [1], [2]]), x[:, :1]), "ScatterAddBackward0"),
    ("index_select", lambda x: x.index_select(0, torch.tensor([0, 0])), "IndexSelectBackward0"),
    ("take", lambda x: x.take(torch.tensor([0, 5])), "TakeBackward0"),
    ("masked_select", lambda x: x.masked_select(x > 0.5), "MaskedSelectBackward0"),
    ("sort", lambda x: x.sort(1)[0], "SortBackward0"),
    ("topk", lambda x: x.topk(2)[0], "TopkBackward0"),
]


@pytest.mark.parametrize("fn,expected", [(f, e) for _, f, e in INDEX_NAMES], ids=[n for n, _, _ in INDEX_NAMES])
def test_grad_fn_names(fn, expected):
    x = torch.rand(3, 4, dtype=torch.float64, requires_grad=True)
    assert fn(x).grad_fn.name() == expected


# ---- hypothesis -------------------------------------------------------------------------------------------------

@st.composite
def basic_index_case(draw):
    ndim = draw(st.integers(1, 4))
    shape = tuple(draw(st.lists(st.integers(0, 5), min_size=ndim, max_size=ndim)))
    n_used = draw(st.integers(0, ndim))
    use_ellipsis = draw(st.booleans())
    parts = []
    for d in range(n_used):
        size = shape[d] if not use_ellipsis else shape[ndim - n_used + d]
        kinds = ["slice"] + (["int"] if size else [])
        kind = draw(st.sampled_from(kinds))
        if kind == "int":
            parts.append(draw(st.integers(-size, size - 1)))
        else:
            bound = st.one_of(st.none(), st.integers(-size - 2, size + 2))
            parts.append(slice(draw(bound), draw(bound), draw(st.one_of(st.none(), st.integers(1, 3)))))
    if use_ellipsis:
        parts.insert(0, Ellipsis)
    for _ in range(draw(st.integers(0, 2))):
        parts.insert(draw(st.integers(0, len(parts))), None)
    return shape, tuple(parts)


@settings(max_examples=50, deadline=None)
@given(basic_index_case())
def test_hypothesis_basic_indexing_matches_numpy_and_shares_memory(case):
    shape, key = case
    a = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    x = torch.tensor(a)
    v = x[key]
    r = a[key if Ellipsis in key else key + (Ellipsis,)]
    assert tuple(v.shape) == r.shape
    np.testing.assert_array_equal(npy(v), r)
    if r.size:
        offset = (r.__array_interface__["data"][0] - a.__array_interface__["data"][0]) // 8
        assert v.storage_offset() == offset
        assert v.data_ptr() == x.data_ptr() + 8 * offset
        v.fill_(-1)
        a[key] = -1
        np.testing.assert_array_equal(npy(x), a)


@st.composite
def advanced_index_case(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    idx_shape = tuple(draw(st.lists(st.integers(0, 3), min_size=1, max_size=2)))
    key = []
    for d in range(ndim):
        if draw(st.booleans()) or (d == ndim - 1 and not any(isinstance(k, np.ndarray) for k in key)):
            # each index array takes a broadcast-compatible shape: idx_shape with some dims set to 1
            s = tuple(1 if draw(st.booleans()) else n for n in idx_shape)
            s = s[draw(st.integers(0, len(s) - 1)):]
            key.append(np.array(draw(st.lists(st.integers(-shape[d], shape[d] - 1), min_size=int(np.prod(s)),
                                              max_size=int(np.prod(s)))), dtype=np.int64).reshape(s))
        else:
            key.append(draw(st.sampled_from([slice(None), slice(1, None), slice(None, None, 2)])))
    return shape, tuple(key)


@settings(max_examples=50, deadline=None)
@given(advanced_index_case())
def test_hypothesis_advanced_indexing_matches_numpy(case):
    shape, key = case
    a = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    x = torch.tensor(a)
    check(x[as_t(key)], a[key])
    x[as_t(key)] = -7
    a[key] = -7
    np.testing.assert_array_equal(npy(x), a)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(0, 2 ** 16))
def test_hypothesis_bool_mask_matches_numpy(shape, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(-5, 5, shape)
    lead = rng.integers(1, len(shape) + 1)
    mask = rng.random(shape[:lead]) < 0.5
    x = torch.tensor(a)
    check(x[torch.tensor(mask)], a[mask])
    x[torch.tensor(mask)] = 100
    a[mask] = 100
    np.testing.assert_array_equal(npy(x), a)


# ---- live comparisons with PyTorch --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(ADVANCED_KEYS))
def test_against_torch_advanced_getitem(name):
    T = pytest.importorskip("torch")
    _, t_key = ADVANCED_KEYS[name]

    def conv(k, mod):
        if isinstance(k, tuple):
            return tuple(conv(c, mod) for c in k)
        return mod.tensor(k) if isinstance(k, np.ndarray) else k

    ours = torch.arange(60).reshape(3, 4, 5)[conv(t_key, torch)]
    theirs = T.arange(60).reshape(3, 4, 5)[conv(t_key, T)]
    np.testing.assert_array_equal(npy(ours), theirs.numpy())
    assert tuple(ours.shape) == tuple(theirs.shape)


def test_against_torch_errors():
    T = pytest.importorskip("torch")
    fns = [
        lambda m: m.arange(3)[[0, 5]], lambda m: m.arange(3)[m.tensor([0, -4])],
        lambda m: m.ones(3, 4)[m.tensor([True, False])], lambda m: m.ones(3)[m.tensor([0.])],
        lambda m: m.ones(3).gather(0, m.tensor([5])), lambda m: m.ones(3).scatter(0, m.tensor([5]), 1.),
        lambda m: m.ones(3).scatter_add(0, m.tensor([5]), m.ones(1)), lambda m: m.ones(3).topk(4),
        lambda m: m.ones(3, 4).gather(1, m.tensor([0])), lambda m: m.ones(3).index_select(0, m.tensor([[0]])),
        lambda m: m.nn.functional.one_hot(m.tensor([0, 3]), 3),
        lambda m: m.nn.functional.one_hot(m.tensor([0, -1]), 3),
        lambda m: m.nn.functional.one_hot(m.tensor([0, 1]).int(), 3),
        lambda m: m.zeros(3, 4, 5).__setitem__([0, 2], m.ones(3)),
        lambda m: m.zeros(3, 4, 5).__setitem__(0, m.ones(3)),
        lambda m: m.zeros(3).__setitem__([0, 7], 1.),
        lambda m: m.ones(3, requires_grad=True).__setitem__(0, 3.),
    ]
    assert_same_errors(T, fns)


def test_against_torch_grad_fn_names():
    T = pytest.importorskip("torch")
    a = np.random.default_rng(0).uniform(size=(3, 4))
    mismatches = []
    for name, fn, _ in INDEX_NAMES:
        if name in ("gather", "scatter_value", "scatter_src", "scatter_add", "index_select", "take"):
            continue  # these build index tensors with tcli
        ours, theirs = fn(torch.tensor(a, requires_grad=True)), fn(T.tensor(a, requires_grad=True))
        if ours.grad_fn.name() != theirs.grad_fn.name():
            mismatches.append((name, ours.grad_fn.name(), theirs.grad_fn.name()))
    xo, xt = torch.tensor(a, requires_grad=True), T.tensor(a, requires_grad=True)
    pairs = [
        (xo.scatter(1, torch.tensor([[0], [1], [2]]), 0.0), xt.scatter(1, T.tensor([[0], [1], [2]]), 0.0)),
        (xo.gather(1, torch.tensor([[0], [1], [2]])), xt.gather(1, T.tensor([[0], [1], [2]]))),
        (xo.take(torch.tensor([0, 5])), xt.take(T.tensor([0, 5]))),
    ]
    for i, (o, t) in enumerate(pairs):
        if o.grad_fn.name() != t.grad_fn.name():
            mismatches.append((i, o.grad_fn.name(), t.grad_fn.name()))
    yo, yt = xo * 2, xt * 2
    yo[0] = 0
    yt[0] = 0
    if repr(yo).split("grad_fn=")[1] != repr(yt).split("grad_fn=")[1]:
        mismatches.append(("setitem", repr(yo), repr(yt)))
    assert not mismatches


def test_against_torch_sort_topk_unique():
    T = pytest.importorskip("torch")
    a = np.random.default_rng(1).integers(0, 5, (4, 7))
    for fn in (lambda m, x: x.sort(dim=1, descending=True, stable=True), lambda m, x: x.sort(dim=0, stable=True),
               lambda m, x: x.float().topk(3, 1)[:1], lambda m, x: x.float().topk(2, 0, largest=False)[:1],
               lambda m, x: (x.float() + m.arange(7) * 0.01).topk(3, 1),
               lambda m, x: x.unique(return_inverse=True, return_counts=True)):
        # topk's order among ties is unspecified in PyTorch: compare its indices only without ties
        for o, t in zip(fn(torch, torch.tensor(a)), fn(T, T.tensor(a))):
            np.testing.assert_array_equal(npy(o), t.numpy())


def test_index_put_out_of_place_and_in_place_with_gradients():
    w = torch.ones(5, requires_grad=True)
    v = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    idx = (torch.tensor([1, 3, 1]),)
    added = (w * 1).index_put(idx, v, accumulate=True)  # repeated indices add up
    assert added.tolist() == [1.0, 5.0, 1.0, 3.0, 1.0] and added.grad_fn.name() == "IndexPutBackward0"
    (added * torch.arange(5.0)).sum().backward()
    assert v.grad.tolist() == [1.0, 3.0, 1.0] and w.grad.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    w.grad = v.grad = None
    put = (w * 1).index_put_(idx, v * 2)  # without accumulate the last write wins
    assert put.tolist() == [1.0, 6.0, 1.0, 4.0, 1.0]
    (put * torch.arange(5.0)).sum().backward()
    assert w.grad.tolist() == [0.0, 0.0, 2.0, 0.0, 4.0]  # overwritten elements get no gradient
    with pytest.raises(TypeError, match="index_put\\(\\): argument 'indices' must be tuple of Tensors"):
        torch.zeros(3).index_put(torch.tensor([0]), torch.tensor(1.0))


# ---- what learners write: values with leading size-1 dims, range indices, None ---------------------------------

def test_setitem_drops_a_values_leading_size_one_dims():
    """PyTorch strips leading 1s from the value first: preds[i] = model(x[i:i+1]) stores a (1, n) row."""
    preds = torch.zeros(3, 2)
    preds[1] = torch.tensor([[1.0, 2.0]])
    preds[0:1] = torch.ones(1, 1, 2) * 5
    preds[[2]] = torch.full((1, 1, 2), 7.0)  # advanced index
    np.testing.assert_array_equal(preds.numpy(), [[5, 5], [1, 2], [7, 7]])
    flat = torch.zeros(3)
    flat[0] = torch.tensor([4.0])
    assert flat.tolist() == [4.0, 0.0, 0.0]
    value = torch.tensor([[1.0, 2.0]], requires_grad=True)
    out = torch.zeros(3, 2)
    out[1] = value
    (out * torch.tensor([[1.0, 1.0], [3.0, 4.0], [1.0, 1.0]])).sum().backward()
    assert value.grad.shape == (1, 2) and value.grad.tolist() == [[3.0, 4.0]]


def test_range_indexes_like_a_list():
    logp = torch.arange(6.0).view(3, 2)
    target = torch.tensor([0, 1, 0])
    assert logp[range(3), target].tolist() == [0.0, 3.0, 4.0]  # a hand-written NLL
    assert logp[range(1, 3)].tolist() == [[2.0, 3.0], [4.0, 5.0]]


def test_assigning_none_or_indexing_a_0d_tensor_raises_pytorchs_errors():
    x = torch.zeros(3)
    with pytest.raises(TypeError, match="can't assign a NoneType to a torch.FloatTensor"):
        x[0] = None
    assert x.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(IndexError, match=re.escape("invalid index of a 0-dim tensor. Use `tensor.item()` in Python")):
        torch.tensor(3)[0]

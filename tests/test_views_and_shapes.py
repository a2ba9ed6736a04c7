"""Views (shared memory, strides, offsets, errors, gradients) and the shape ops that copy (cat, stack, flip, ...).

Expectations are PyTorch 2.13's; tests that compare with a live PyTorch skip when it is not installed.
"""

import re
import warnings

import numpy as np
import pytest
from helpers import assert_same_errors

import tcli as torch
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
        np.testing.assert_allclose(npy(t), expected, rtol=rtol, atol=atol)


def base_3d():
    """arange(120) as (4, 5, 6) int64, and the same numpy array."""
    return torch.arange(120).reshape(4, 5, 6), np.arange(120).reshape(4, 5, 6)


def np_offset(view, base):
    """Element offset of a numpy view into its base."""
    return (view.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // base.itemsize


def assert_view_of(v, base):
    """v shares base's memory: data_ptr lies inside base's elements, and a write through v shows in base."""
    lo = base.data_ptr()
    hi = lo + base.numel() * base.element_size()
    if v.numel():
        assert lo <= v.data_ptr() < hi
    before = npy(base).copy()
    marker = -12345 if not v.dtype.is_floating_point else -0.5
    with torch.no_grad():
        v.fill_(marker)
    if v.numel():
        assert (npy(base) == marker).sum() > 0
        assert (npy(base) != before).any()
        assert (npy(v) == marker).all()
    with torch.no_grad():
        base.copy_(torch.tensor(before))


def assert_copy_of(c, base):
    """c owns its memory: writing to c leaves base alone."""
    lo = base.data_ptr()
    hi = lo + base.numel() * base.element_size()
    assert not (lo <= c.data_ptr() < hi)
    before = npy(base).copy()
    with torch.no_grad():
        c.fill_(7)
    np.testing.assert_array_equal(npy(base), before)


def f64(shape, seed=0):
    rng = np.random.default_rng(seed)
    return torch.tensor(rng.uniform(-1, 1, shape), dtype=torch.float64, requires_grad=True)


# ---- basic indexing and slicing are views -------------------------------------------------------------------

E = Ellipsis
BASIC_KEYS = [
    1, -1, -4, (1, 2), (1, 2, 3), (-1, -2, -3), slice(1, 3), slice(None, None, 2), slice(-3, None),
    slice(None, -1, 3), (slice(None), 2), (E, 1), (1, E), (E, slice(None, None, 2)), None, (None, 1),
    (1, None, slice(1, 4)), (slice(1, None, 2), E, slice(None, None, 3)), (E, None), (None, E, None),
    (slice(None), None, slice(None), -1), (2, slice(10, 20)), slice(5, 1), slice(None), E, (),
    slice(-100, 100), (0, 0, slice(None, None, 4)), (slice(1, 3), slice(1, 4), slice(2, 5)), (E, 2, 3),
    (slice(None, None, 3), -2, slice(1, None, 2)), (None, None, 0, None),
]


@pytest.mark.parametrize("key", BASIC_KEYS, ids=repr)
def test_basic_index_is_a_view_matching_numpy(key):
    x, a = base_3d()
    v = x[key]
    k = key if isinstance(key, tuple) else (key,)
    r = a[k if E in k else k + (E,)]  # the trailing ... makes numpy return a 0-d view, not a scalar
    assert tuple(v.shape) == r.shape
    np.testing.assert_array_equal(npy(v), r)
    assert v.dtype == torch.int64
    if r.size:
        assert v.storage_offset() == np_offset(r, a)
        assert v.data_ptr() == x.data_ptr() + v.storage_offset() * 8
    for size, stride, np_stride in zip(v.shape, v.stride(), r.strides):
        if size > 1:
            assert stride == np_stride // 8
    assert_view_of(v, x)
    # a write to the base shows through the view
    x.add_(1000)
    np.testing.assert_array_equal(npy(v), r + 1000)


@pytest.mark.parametrize("key", [1, (slice(None), 2), (E, slice(1, None, 2)), (1, slice(None, None, 2), None)],
                         ids=repr)
def test_setitem_through_basic_view_matches_numpy(key):
    x, a = base_3d()
    x[key] = -1
    a[key] = -1
    np.testing.assert_array_equal(npy(x), a)
    v = x[key]
    v[...] = -2
    a[key] = -2
    np.testing.assert_array_equal(npy(x), a)


def test_views_of_views_chain():
    x, a = base_3d()
    v = x[1:][:, ::2][..., 3]
    r = a[1:][:, ::2][..., 3]
    np.testing.assert_array_equal(npy(v), r)
    assert v.storage_offset() == np_offset(r, a)
    assert v.stride() == tuple(s // 8 for s in r.strides)
    v[0, 0] = 999
    assert x[1, 0, 3].item() == 999


def test_0d_index_result_is_a_view():
    x, _ = base_3d()
    v = x[1, 2, 3]
    assert v.shape == () and v.item() == 1 * 30 + 2 * 6 + 3
    v.fill_(-5)
    assert x[1, 2, 3].item() == -5


def test_negative_step_raises():
    x, _ = base_3d()
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1]


def test_basic_index_errors():
    x, _ = base_3d()
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension 0 with size 4"):
        x[4]
    with pytest.raises(IndexError, match="index -5 is out of bounds for dimension 0 with size 4"):
        x[-5]
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 1 with size 5"):
        x[:, 5]
    with pytest.raises(IndexError, match="index 1000000000000 is out of bounds for dimension 0 with size 4"):
        x[10 ** 12]
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 3"):
        x[1, 2, 3, 4]
    with pytest.raises(IndexError, match=re.escape("an index can only have a single ellipsis ('...')")):
        x[..., 1, ...]
    with pytest.raises(IndexError):
        torch.tensor(3.)[0]


# ---- view / reshape / flatten ---------------------------------------------------------------------------------

def test_view_shares_memory():
    x = torch.arange(24.)
    for shape in [(4, 6), (-1,), (2, -1, 3), (24, 1), (1, 2, 3, 4)]:
        v = x.view(*shape)
        check(v, np.arange(24.).reshape(shape))
        assert v.data_ptr() == x.data_ptr() and v.is_contiguous()
        assert_view_of(v, x)
    v = x.view((4, 6))
    assert v.shape == (4, 6) and v.stride() == (6, 1)
    v = x.view(torch.Size([3, 8]))
    assert v.shape == (3, 8)
    v[1, 2] = 100.
    assert x[10].item() == 100.


def test_view_of_non_contiguous_when_compatible():
    x = torch.arange(24).view(2, 3, 4)
    y = x[:, :, :2]
    v = y.view(6, 2)
    check(v, np.arange(24).reshape(2, 3, 4)[:, :, :2].reshape(6, 2))
    assert v.stride() == (4, 1)
    assert_view_of(v, x)
    z = torch.arange(12).view(4, 3)[:, ::2]
    w = z.view(4, 2, 1)
    assert w.stride()[:2] == (3, 2)
    assert_view_of(w, z)
    s = torch.arange(6)[::2]
    assert s.view(3, 1).stride() == (2, 2)
    assert s.view(1, 3).stride() == (6, 2)


def test_view_incompatible_raises_pytorch_error():
    t = torch.arange(12.).view(3, 4).t()
    with pytest.raises(RuntimeError) as info:
        t.view(12)
    assert str(info.value).splitlines()[0] == (
        "view size is not compatible with input tensor's size and stride (at least one dimension spans across two "
        "contiguous subspaces). Use .reshape(...) instead.")
    with pytest.raises(RuntimeError, match=re.escape("Use .reshape(...) instead.")):
        torch.arange(12).view(4, 3)[:, ::2].view(8)


def test_invalid_shape_errors():
    x = torch.ones(10, 10)
    for fn in (lambda: x.view(-1, 784), lambda: x.reshape(-1, 784)):
        with pytest.raises(RuntimeError) as info:
            fn()
        assert str(info.value).splitlines()[0] == "shape '[-1, 784]' is invalid for input of size 100"
    with pytest.raises(RuntimeError, match=re.escape("shape '[7]' is invalid for input of size 6")):
        torch.ones(2, 3).view(7)
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        torch.ones(2, 3).view(-1, -1)


@pytest.mark.parametrize("shape", [(6, 4), (-1,), (2, 2, -1), (24,), (4, 3, 2)])
def test_reshape_contiguous_is_view(shape):
    x = torch.arange(24).reshape(4, 6)
    r = x.reshape(*shape)
    check(r, np.arange(24).reshape(shape))
    assert r.data_ptr() == x.data_ptr()
    assert_view_of(r, x)


def test_reshape_non_contiguous_copies():
    x = torch.arange(24).reshape(4, 6)
    t = x.t()
    r = t.reshape(-1)
    check(r, np.arange(24).reshape(4, 6).T.reshape(-1))
    assert r.is_contiguous()
    assert_copy_of(r, x)
    # when the strides allow it reshape is still a view
    y = x[:, :3]
    r = y.reshape(4, 3, 1)
    assert_view_of(r, x)
    r = x.t().reshape(6, 4)
    assert r.data_ptr() == x.data_ptr()
    r = torch.reshape(x, (2, 12))
    assert r.data_ptr() == x.data_ptr()


def test_reshape_0d_and_empty():
    s = torch.tensor(3.)
    assert s.reshape(-1).shape == (1,)
    assert s.view(1, 1).shape == (1, 1)
    assert s.flatten().shape == (1,)
    assert torch.ones(1).reshape(()).shape == ()
    e = torch.empty(0, 3)
    assert e.reshape(3, 0).shape == (3, 0)
    assert e.view(-1).shape == (0,)
    with pytest.raises(RuntimeError, match="cannot reshape tensor of 0 elements into shape"):
        e.reshape(-1, 0)


def test_flatten():
    x, a = base_3d()
    f = x.flatten()
    check(f, a.reshape(-1))
    assert_view_of(f, x)
    check(x.flatten(1), a.reshape(4, 30))
    check(x.flatten(0, 1), a.reshape(20, 6))
    check(torch.flatten(x, -2, -1), a.reshape(4, 30))
    assert x.flatten(1, 1).shape == (4, 5, 6)
    ft = x.transpose(0, 2).flatten()
    check(ft, a.transpose(2, 1, 0).reshape(-1))
    assert_copy_of(ft, x)
    with pytest.raises(RuntimeError, match="flatten\\(\\) has invalid args: start_dim cannot come after end_dim"):
        x.flatten(2, 1)


# ---- squeeze / unsqueeze ---------------------------------------------------------------------------------------

def test_squeeze_unsqueeze_views():
    x = torch.arange(6.).reshape(1, 2, 1, 3)
    a = np.arange(6.).reshape(1, 2, 1, 3)
    for v, r in [(x.squeeze(), a.squeeze()), (x.squeeze(0), a.squeeze(0)), (x.squeeze(2), a.squeeze(2)),
                 (x.squeeze(-2), a.squeeze(-2)), (x.squeeze(1), a), (x.squeeze((0, 2)), a.squeeze((0, 2))),
                 (torch.squeeze(x, 0), a.squeeze(0)), (x.unsqueeze(0), a[None]), (x.unsqueeze(-1), a[..., None]),
                 (x.unsqueeze(2), np.expand_dims(a, 2)), (torch.unsqueeze(x, 4), a[..., None])]:
        check(v, r)
        assert v.data_ptr() == x.data_ptr()
        assert_view_of(v, x)
    y = torch.ones(3, 4)
    assert y.unsqueeze(0).stride() == (12, 4, 1)
    assert y.unsqueeze(1).stride() == (4, 4, 1)
    assert y.unsqueeze(-1).stride() == (4, 1, 1)
    assert torch.tensor([3.]).squeeze().shape == ()
    assert torch.tensor(3.).unsqueeze(0).shape == (1,)


# ---- transpose / permute / t / T / mT ------------------------------------------------------------------------

def test_transpose_family_are_views():
    x, a = base_3d()
    cases = [
        (x.transpose(0, 1), a.transpose(1, 0, 2)), (x.transpose(-1, 0), a.transpose(2, 1, 0)),
        (torch.transpose(x, 1, 2), a.transpose(0, 2, 1)), (x.swapaxes(0, 2), a.swapaxes(0, 2)),
        (x.permute(2, 0, 1), a.transpose(2, 0, 1)), (x.permute((1, 2, 0)), a.transpose(1, 2, 0)),
        (torch.permute(x, (-1, -2, -3)), a.transpose(2, 1, 0)), (x.mT, a.swapaxes(-1, -2)),
        (x.movedim(0, -1), np.moveaxis(a, 0, -1)),
    ]
    for v, r in cases:
        check(v, r)
        assert v.stride() == tuple(s // 8 for s in r.strides)
        assert v.data_ptr() == x.data_ptr()
        assert not v.is_contiguous()
        assert_view_of(v, x)
    m = torch.arange(6).reshape(2, 3)
    for v in (m.t(), m.T, torch.t(m), m.mT):
        check(v, np.arange(6).reshape(2, 3).T)
        assert v.stride() == (1, 3)
        assert_view_of(v, m)
    v1 = torch.arange(3)
    assert v1.t().shape == (3,) and v1.t().data_ptr() == v1.data_ptr()
    assert x.transpose(1, 1).is_contiguous()


def test_T_on_non_2d_warns_and_reverses():
    x = torch.ones(2, 3, 4)
    with pytest.warns(UserWarning, match="The use of `x.T` on tensors of dimension other than 2"):
        assert x.T.shape == (4, 3, 2)


def test_transpose_errors():
    with pytest.raises(RuntimeError, match="t\\(\\) expects a tensor with <= 2 dimensions, but self is 3D"):
        torch.ones(2, 3, 4).t()
    with pytest.raises(RuntimeError, match="tensor.mT is only supported on matrices or batches of matrices. Got "
                                           "1-D tensor."):
        _ = torch.ones(3).mT
    with pytest.raises(RuntimeError, match="number of dimensions in the tensor input does not match the length of "
                                           "the desired ordering of dimensions"):
        torch.ones(2, 3).permute(0)


def test_permute_duplicate_dims_error():
    with pytest.raises(RuntimeError, match=re.escape("permute(): duplicate dims are not allowed.")):
        torch.ones(2, 3).permute(0, 0)


# ---- expand ---------------------------------------------------------------------------------------------------

def test_expand_has_zero_strides_and_shares_memory():
    v = torch.tensor([1., 2., 3.])
    e = v.expand(4, 3)
    check(e, np.broadcast_to([1., 2., 3.], (4, 3)))
    assert e.stride() == (0, 1)
    assert e.data_ptr() == v.data_ptr()
    assert not e.is_contiguous()
    v[0] = 10.
    assert (npy(e)[:, 0] == 10.).all()
    c = torch.ones(3, 1).expand(-1, 4)
    assert c.shape == (3, 4) and c.stride() == (1, 0)
    d = torch.ones(2, 1).expand(5, 2, 3)
    assert d.shape == (5, 2, 3) and d.stride() == (0, 1, 0)
    assert torch.ones(3).expand_as(torch.ones(2, 3)).shape == (2, 3)
    assert torch.broadcast_to(v, (2, 3)).stride() == (0, 1)
    assert torch.tensor(5.).expand(2, 2).stride() == (0, 0)


def test_expand_errors():
    with pytest.raises(RuntimeError) as info:
        torch.ones(3).expand(2, 4)
    assert str(info.value).splitlines()[0] == (
        "The expanded size of the tensor (4) must match the existing size (3) at non-singleton dimension 1.  "
        "Target sizes: [2, 4].  Tensor sizes: [3]")
    with pytest.raises(RuntimeError, match=re.escape(
            "The expanded size of the tensor (4) must match the existing size (3) at non-singleton dimension 1.  "
            "Target sizes: [2, 4].  Tensor sizes: [2, 3]")):
        torch.ones(2, 3).expand(2, 4)
    with pytest.raises(RuntimeError, match=re.escape(
            "expand(torch.FloatTensor{[2, 3]}, size=[3]): the number of sizes provided (1) must be greater or equal "
            "to the number of dimensions in the tensor (2)")):
        torch.ones(2, 3).expand(3)


# ---- narrow / unbind / chunk / split / select ----------------------------------------------------------------

def test_narrow_select_are_views():
    x, a = base_3d()
    n = x.narrow(1, 1, 3)
    check(n, a[:, 1:4])
    assert n.storage_offset() == 6
    assert_view_of(n, x)
    check(torch.narrow(x, -1, -2, 2), a[..., -2:])
    check(x.narrow(0, 0, 0), a[:0])
    s = x.select(2, -1)
    check(s, a[..., -1])
    assert_view_of(s, x)
    with pytest.raises(RuntimeError, match=re.escape("start (2) + length (2) exceeds dimension size (3).")):
        torch.ones(2, 3).narrow(1, 2, 2)
    with pytest.raises(IndexError):
        torch.ones(2, 3).select(1, 3)


def test_unbind_views():
    x, a = base_3d()
    parts = x.unbind(1)
    assert isinstance(parts, tuple) and len(parts) == 5
    for i, p in enumerate(parts):
        check(p, a[:, i])
        assert p.storage_offset() == i * 6
        assert_view_of(p, x)
    assert len(torch.unbind(x)) == 4
    assert [tuple(p.shape) for p in x.unbind(-1)] == [(4, 5)] * 6
    assert [r.tolist() for r in torch.tensor([[1, 2], [3, 4]])] == [[1, 2], [3, 4]]


def test_split_and_chunk_views():
    x, a = base_3d()
    parts = x.split(2, 1)
    assert [p.shape[1] for p in parts] == [2, 2, 1]
    for p, r in zip(parts, np.split(a, [2, 4], axis=1)):
        check(p, r)
        assert_view_of(p, x)
    parts = torch.split(x, [1, 3, 2], dim=-1)
    for p, r in zip(parts, np.split(a, [1, 4], axis=-1)):
        check(p, r)
        assert p.data_ptr() == x.data_ptr() + p.storage_offset() * 8
    assert [p.shape[0] for p in x.chunk(2)] == [2, 2]
    assert [p.shape[1] for p in x.chunk(3, 1)] == [2, 2, 1]
    assert [p.shape[0] for p in torch.ones(6, 1).chunk(4)] == [2, 2, 2]
    assert [p.shape[0] for p in torch.ones(5).chunk(3)] == [2, 2, 1]
    for p, r in zip(x.chunk(3, 2), np.split(a, 3, axis=2)):
        check(p, r)
        assert_view_of(p, x)
    with pytest.raises(RuntimeError, match="split_with_sizes expects split_sizes to sum exactly to 3"):
        torch.ones(2, 3).split([1, 1], 1)
    with pytest.raises(RuntimeError, match="chunk expects `chunks` to be greater than 0, got: 0"):
        torch.ones(2, 3).chunk(0)


def test_chunk_of_empty_dim():
    assert [tuple(p.shape) for p in torch.ones(0, 1).chunk(3)] == [(0, 1)] * 3


# ---- detach / contiguous / is_contiguous / stride / storage_offset ------------------------------------------------

def test_detach_shares_memory():
    x = torch.ones(2, 3, requires_grad=True)
    d = x.detach()
    assert d.data_ptr() == x.data_ptr()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    d[0, 0] = 5.
    assert x[0, 0].item() == 5.
    y = (x * 2)[1:]
    dy = y.detach()
    assert dy.data_ptr() == y.data_ptr() and dy.grad_fn is None


def test_contiguous():
    x = torch.arange(12.).reshape(3, 4)
    assert x.contiguous() is x
    t = x.t()
    c = t.contiguous()
    assert c is not t and c.is_contiguous() and c.stride() == (3, 1)
    check(c, np.arange(12.).reshape(3, 4).T)
    assert_copy_of(c, x)
    s = x[1]
    assert s.is_contiguous() and s.contiguous() is s


def test_is_contiguous_cases():
    x = torch.ones(3, 4)
    assert x.is_contiguous()
    assert not x[:, 1:3].is_contiguous()
    assert not x[:, :1].is_contiguous()
    assert x[1:2].is_contiguous()
    assert not x[::2].is_contiguous()
    assert x[1].is_contiguous()
    assert x.unsqueeze(1).is_contiguous()
    assert not x.t().is_contiguous()
    assert not torch.ones(3).expand(2, 3).is_contiguous()
    assert torch.ones(1).expand(3, 1).is_contiguous() is False
    assert torch.ones(3, 1).t().is_contiguous()
    assert torch.tensor(1.).is_contiguous()
    assert torch.ones(0, 3).t().is_contiguous()


def test_stride_and_storage_offset():
    x = torch.ones(3, 4)
    assert x.stride() == (4, 1) and x.stride(0) == 4 and x.stride(-1) == 1
    assert x[1:2].stride() == (4, 1)
    assert x[::2].storage_offset() == 0
    assert x[1:, 2:].storage_offset() == 6
    assert x[None].stride() == (12, 4, 1)
    assert x[:, None].stride() == (4, 4, 1)
    assert x[..., None].stride() == (4, 1, 1)
    assert torch.ones(3, 1, 4)[:, 0:0].stride() == (4, 4, 1)
    assert x.expand(2, 3, 4).stride() == (0, 4, 1)
    assert x.t().contiguous().stride() == (3, 1)
    assert torch.tensor(1.).stride() == ()
    assert x[2, 3].storage_offset() == 11
    with pytest.raises(IndexError, match=re.escape("Dimension out of range (expected to be in range of [-2, 1], "
                                                   "but got 2)")):
        x.stride(2)


@pytest.mark.parametrize("fn,rng,got", [
    (lambda x: x.transpose(0, 2), "[-2, 1]", 2),
    (lambda x: x.unsqueeze(3), "[-3, 2]", 3),
    (lambda x: x.unsqueeze(-4), "[-3, 2]", -4),
    (lambda x: x.squeeze(2), "[-2, 1]", 2),
    (lambda x: x.select(-3, 0), "[-2, 1]", -3),
    (lambda x: x.narrow(2, 0, 1), "[-2, 1]", 2),
    (lambda x: x.flatten(0, 2), "[-2, 1]", 2),
    (lambda x: x.size(2), "[-2, 1]", 2),
    (lambda x: x.unbind(2), "[-2, 1]", 2),
    (lambda x: x.split(1, 2), "[-2, 1]", 2),
    (lambda x: x.chunk(2, -3), "[-2, 1]", -3),
    (lambda x: x.flip(2), "[-2, 1]", 2),
    (lambda x: x.roll(1, 2), "[-2, 1]", 2),
    (lambda x: torch.cat([x, x], 2), "[-2, 1]", 2),
    (lambda x: torch.stack([x, x], 3), "[-3, 2]", 3),
    (lambda x: x.permute(0, 2), "[-2, 1]", 2),
])
def test_dimension_out_of_range_errors(fn, rng, got):
    x = torch.ones(2, 3)
    with pytest.raises(IndexError) as info:
        fn(x)
    assert str(info.value).splitlines()[0] == (
        f"Dimension out of range (expected to be in range of {rng}, but got {got})")


# ---- gradients through views ----------------------------------------------------------------------------------

VIEW_GRADS = {
    "slice": lambda x: x[1:, ::2],
    "slice_neg": lambda x: x[-2:, :, 1:],
    "select": lambda x: x[1],
    "select_neg": lambda x: x[:, -1],
    "none_ellipsis": lambda x: x[None, ..., 1],
    "view": lambda x: x.view(4, 6),
    "view_infer": lambda x: x.view(-1, 3),
    "reshape_transposed": lambda x: x.transpose(0, 2).reshape(-1),
    "flatten": lambda x: x.flatten(1),
    "flatten_transposed": lambda x: x.mT.flatten(),
    "squeeze_unsqueeze": lambda x: x.unsqueeze(1).squeeze(1).unsqueeze(-1),
    "transpose": lambda x: x.transpose(0, 1),
    "permute": lambda x: x.permute(2, 0, 1),
    "mT": lambda x: x.mT,
    "t": lambda x: x[0].t(),
    "T": lambda x: x[:, 0].T,
    "expand": lambda x: x[:, :1].expand(2, 5, 4),
    "expand_new_dims": lambda x: x[0, 0].expand(3, 2, 4),
    "narrow": lambda x: x.narrow(2, 1, 2),
    "unbind": lambda x: x.unbind(1)[2] * 2 + x.unbind(1)[0],
    "unbind_partial": lambda x: x.unbind(2)[1],
    "split": lambda x: x.split(2, 2)[1],
    "split_sizes": lambda x: x.split([1, 3], -1)[1] * 3,
    "chunk": lambda x: x.chunk(2, 1)[0],
    "chain": lambda x: x.transpose(0, 1)[1:].reshape(2, -1)[:, ::3],
}


@pytest.mark.parametrize("name", list(VIEW_GRADS))
def test_gradcheck_views(name):
    x = f64((2, 3, 4), seed=1)
    assert gradcheck(VIEW_GRADS[name], (x,))


@pytest.mark.parametrize("name", list(VIEW_GRADS))
def test_gradcheck_views_followed_by_an_op(name):
    """The same views with a pointwise op after them, so the output is a fresh tensor."""
    x = f64((2, 3, 4), seed=2)
    assert gradcheck(lambda t: VIEW_GRADS[name](t) * 1.5, (x,))


def test_gradient_of_a_view_accumulates_into_base():
    x = torch.zeros(3, 4, requires_grad=True)
    (x[1] * 2).sum().backward()
    check(x.grad, np.array([[0.] * 4, [2.] * 4, [0.] * 4]))
    x.grad = None
    a, b = x.unbind(0)[:2]
    (a * 1 + b * 3).sum().backward()
    check(x.grad, np.array([[1.] * 4, [3.] * 4, [0.] * 4]))
    x.grad = None
    x.expand(5, 3, 4).sum().backward()
    check(x.grad, np.full((3, 4), 5.))


def test_inplace_on_view_of_non_leaf():
    x = torch.ones(2, 3, requires_grad=True)
    y = x * 1
    y[:, 0].mul_(5)
    y.sum().backward()
    check(x.grad, np.array([[5., 1., 1.], [5., 1., 1.]]))


VIEW_NAMES = [
    ("view", lambda x: x.view(12), "ViewBackward0"),
    ("reshape", lambda x: x.reshape(12), "ViewBackward0"),
    ("reshape_t", lambda x: x.t().reshape(12), "UnsafeViewBackward0"),
    ("flatten", lambda x: x.flatten(), "ViewBackward0"),
    ("flatten_t", lambda x: x.t().flatten(), "UnsafeViewBackward0"),
    ("transpose", lambda x: x.transpose(0, 1), "TransposeBackward0"),
    ("t", lambda x: x.t(), "TBackward0"),
    ("T", lambda x: x.T, "PermuteBackward0"),
    ("mT", lambda x: x.mT, "TransposeBackward0"),
    ("permute", lambda x: x.permute(1, 0), "PermuteBackward0"),
    ("expand", lambda x: x.expand(2, 3, 4), "ExpandBackward0"),
    ("select", lambda x: x[1], "SelectBackward0"),
    ("select_fn", lambda x: x.select(1, 0), "SelectBackward0"),
    ("slice", lambda x: x[1:], "SliceBackward0"),
    ("slice_step", lambda x: x[:, ::2], "SliceBackward0"),
    ("narrow", lambda x: x.narrow(1, 1, 2), "SliceBackward0"),
    ("unbind", lambda x: x.unbind(0)[0], "UnbindBackward0"),
    ("split", lambda x: x.split(2)[0], "SplitBackward0"),
    ("split_sizes", lambda x: x.split([1, 2])[0], "SplitWithSizesBackward0"),
    ("chunk", lambda x: x.chunk(2, 1)[0], "SplitBackward0"),
    ("squeeze", lambda x: x[None].squeeze(), "SqueezeBackward0"),
    ("squeeze_dim", lambda x: x[None].squeeze(0), "SqueezeBackward1"),
    ("squeeze_dims", lambda x: x[None].squeeze((0,)), "SqueezeBackward2"),
    ("unsqueeze", lambda x: x.unsqueeze(0), "UnsqueezeBackward0"),
    ("none", lambda x: x[None], "UnsqueezeBackward0"),
    ("ellipsis", lambda x: x[...], "AliasBackward0"),
    ("contiguous", lambda x: x.t().contiguous(), "CloneBackward0"),
    ("clone", lambda x: x.clone(), "CloneBackward0"),
    ("cat", lambda x: torch.cat([x, x]), "CatBackward0"),
    ("stack", lambda x: torch.stack([x, x]), "StackBackward0"),
    ("flip", lambda x: x.flip(0), "FlipBackward0"),
    ("roll", lambda x: x.roll(1, 0), "RollBackward0"),
    ("roll_flat", lambda x: x.roll(1), "RollBackward0"),
    ("repeat", lambda x: x.repeat(2, 1), "RepeatBackward0"),
    ("tile", lambda x: x.tile((2,)), "RepeatBackward0"),
    ("tril", lambda x: x.tril(), "TrilBackward0"),
    ("triu", lambda x: x.triu(1), "TriuBackward0"),
]


@pytest.mark.parametrize("fn,expected", [(f, e) for _, f, e in VIEW_NAMES], ids=[n for n, _, _ in VIEW_NAMES])
def test_grad_fn_names(fn, expected):
    x = torch.rand(3, 4, dtype=torch.float64, requires_grad=True)
    y = fn(x)
    assert y.grad_fn.name() == expected


def test_reshape_copy_grad_fn_chain():
    x = torch.rand(3, 4, requires_grad=True)
    y = x.t().reshape(12)
    assert y.grad_fn.name() == "UnsafeViewBackward0"
    assert y.grad_fn.next_functions[0][0].name() == "CloneBackward0"


# ---- copying shape ops ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_cat_matches_numpy(dim):
    rng = np.random.default_rng(2)
    shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
    for s, n in zip(shapes, (1, 3, 2)):
        s[dim] = n
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    tensors = [torch.tensor(a) for a in arrays]
    tensors[1] = torch.tensor(np.ascontiguousarray(arrays[1].swapaxes(0, 2))).transpose(0, 2)  # non-contiguous
    out = torch.cat(tensors, dim)
    check(out, np.concatenate(arrays, dim))
    check(torch.cat(tuple(tensors), dim=dim), np.concatenate(arrays, dim))
    check(torch.concat(tensors, dim), np.concatenate(arrays, dim))
    for t in tensors:
        assert_copy_of(out, t)


def test_cat_dtype_promotion():
    f32 = torch.tensor([1.5])
    assert torch.cat([torch.tensor([1, 2]), f32]).dtype == torch.float32
    assert torch.cat([torch.tensor([1], dtype=torch.int32), torch.tensor([2])]).dtype == torch.int64
    assert torch.cat([torch.tensor([True]), torch.tensor([2])]).dtype == torch.int64
    r = torch.cat([f32, torch.tensor([2.], dtype=torch.float64)])
    assert r.dtype == torch.float64
    check(r, [1.5, 2.])
    check(torch.cat([torch.tensor([1, 2]), f32]), [1., 2., 1.5])


def test_cat_errors_and_legacy_empty():
    with pytest.raises(RuntimeError) as info:
        torch.cat([torch.ones(2, 3), torch.ones(2, 4)])
    assert str(info.value).splitlines()[0] == (
        "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 for tensor number 1 in the "
        "list.")
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 1"):
        torch.cat([torch.ones(2, 3), torch.ones(3, 3)], 1)
    with pytest.raises(RuntimeError, match="zero-dimensional tensor \\(at position 0\\) cannot be concatenated"):
        torch.cat([torch.tensor(1.), torch.tensor(2.)])
    with pytest.raises(RuntimeError, match="Tensors must have same number of dimensions: got 2 and 1"):
        torch.cat([torch.ones(2, 3), torch.ones(2)])
    assert torch.cat([torch.ones(2, 3), torch.ones(0)]).shape == (2, 3)


def test_cat_of_empty_list_raises_value_error():
    with pytest.raises(ValueError, match="expected a non-empty list of Tensors"):
        torch.cat([])


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack_matches_numpy(dim):
    arrays = [np.arange(6.).reshape(2, 3) + 10 * i for i in range(4)]
    tensors = [torch.tensor(a) for a in arrays]
    tensors[2] = torch.tensor(arrays[2].T.copy()).t()
    check(torch.stack(tensors, dim), np.stack(arrays, dim))
    check(torch.stack(tensors, dim=dim), np.stack(arrays, dim))


def test_stack_errors_and_promotion():
    with pytest.raises(RuntimeError) as info:
        torch.stack([torch.ones(2, 3), torch.ones(3, 3)])
    assert str(info.value).splitlines()[0] == (
        "stack expects each tensor to be equal size, but got [2, 3] at entry 0 and [3, 3] at entry 1")
    with pytest.raises(RuntimeError, match="stack expects a non-empty TensorList"):
        torch.stack([])
    r = torch.stack([torch.tensor([1, 2]), torch.tensor([0.5, 1.5])])
    assert r.dtype == torch.float32
    check(r, [[1., 2.], [0.5, 1.5]])
    assert torch.stack([torch.tensor(1.), torch.tensor(2.)]).shape == (2,)


@pytest.mark.parametrize("dims", [0, 1, -1, (0, 2), (2, 1, 0), [1]], ids=str)
def test_flip_matches_numpy(dims):
    x, a = base_3d()
    f = x.flip(dims)
    check(f, np.flip(a, dims if not isinstance(dims, list) else tuple(dims)))
    check(torch.flip(x.transpose(0, 2), dims), np.flip(a.transpose(2, 1, 0), tuple(np.atleast_1d(dims))))
    assert_copy_of(f, x)
    check(torch.fliplr(torch.tensor([[1, 2], [3, 4]])), [[2, 1], [4, 3]])
    check(torch.flipud(torch.tensor([[1, 2], [3, 4]])), [[3, 4], [1, 2]])


@pytest.mark.parametrize("shifts,dims", [(1, None), (-7, None), (2, 0), (-1, 1), (13, -1), ((1, 2), (0, 2)),
                                         ((-2, 1, 30), (1, 0, 2)), (0, 1)], ids=str)
def test_roll_matches_numpy(shifts, dims):
    x, a = base_3d()
    r = x.roll(shifts, dims) if dims is not None else x.roll(shifts)
    check(r, np.roll(a, shifts, dims))
    check(torch.roll(x[:, 1:, ::2], shifts, dims), np.roll(a[:, 1:, ::2], shifts, dims))
    assert_copy_of(r, x)
    with pytest.raises(RuntimeError, match="shifts and dimensions must align. shifts: 2, dims:1"):
        x.roll((1, 2), (0,))


@pytest.mark.parametrize("reps", [(2, 1), (1, 3), (2, 2), (2, 1, 1), (3, 2, 2), (1, 1)], ids=str)
def test_repeat_and_tile_match_numpy(reps):
    a = np.arange(6.).reshape(2, 3)
    x = torch.tensor(a)
    r = x.repeat(*reps)
    check(r, np.tile(a, reps))
    check(x.t().repeat(reps), np.tile(a.T, reps))
    assert_copy_of(r, x)
    check(x.tile(reps), np.tile(a, reps))
    check(torch.tile(x, reps), np.tile(a, reps))


def test_repeat_tile_edge_cases():
    a = np.arange(6.).reshape(2, 3)
    x = torch.tensor(a)
    check(x.tile((2,)), np.tile(a, (2,)))
    check(torch.tensor([1, 2]).repeat(3), [1, 2, 1, 2, 1, 2])
    check(torch.tensor(5).repeat(2, 2), [[5, 5], [5, 5]])
    check(x.repeat(0, 1), np.zeros((0, 3)))
    with pytest.raises(RuntimeError, match="Number of dimensions of repeat dims can not be smaller than number of "
                                           "dimensions of tensor"):
        x.repeat(2)


@pytest.mark.parametrize("diagonal", [-2, -1, 0, 1, 3])
@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3), (2, 3, 4)], ids=str)
def test_tril_triu_match_numpy(shape, diagonal):
    a = np.arange(np.prod(shape), dtype=np.float32).reshape(shape) + 1
    x = torch.tensor(a)
    check(x.tril(diagonal), np.tril(a, diagonal))
    check(torch.triu(x, diagonal), np.triu(a, diagonal))
    check(torch.tril(x, diagonal=diagonal), np.tril(a, diagonal))
    check(x.mT.triu(diagonal), np.triu(a.swapaxes(-1, -2), diagonal))
    i = torch.tensor(a.astype(np.int64))
    assert i.tril(diagonal).dtype == torch.int64
    check(i.triu(diagonal), np.triu(a.astype(np.int64), diagonal))


def test_tril_of_1d_raises():
    with pytest.raises(RuntimeError, match="tril: input tensor must have at least 2 dimensions"):
        torch.ones(3).tril()


def test_repeat_interleave_matches_numpy():
    a = np.arange(6).reshape(2, 3)
    x = torch.tensor(a)
    check(x.repeat_interleave(2), np.repeat(a, 2))
    check(x.repeat_interleave(2, dim=0), np.repeat(a, 2, axis=0))
    check(torch.repeat_interleave(x, 3, dim=1), np.repeat(a, 3, axis=1))
    check(x.repeat_interleave(torch.tensor([1, 2]), dim=0), np.repeat(a, [1, 2], axis=0))
    check(x.repeat_interleave(torch.tensor([0, 2, 1]), dim=-1), np.repeat(a, [0, 2, 1], axis=-1))
    check(x.t().repeat_interleave(2, dim=1), np.repeat(a.T, 2, axis=1))


COPY_GRADS = {
    "cat0": lambda x, y: torch.cat([x, y, x], 0),
    "cat_last": lambda x, y: torch.cat([x.transpose(0, 1), y.transpose(0, 1)], -1),
    "stack1": lambda x, y: torch.stack([x, y], 1),
    "stack_last": lambda x, y: torch.stack([x, y * 2], -1),
    "flip": lambda x, y: x.flip(0) + y.flip((1, 2)),
    "roll": lambda x, y: x.roll(1, 2) + y.roll((1, -1), (0, 1)),
    "roll_flat": lambda x, y: x.roll(5) - y,
    "repeat": lambda x, y: x.repeat(2, 1, 3) + y.repeat(2, 1, 3),
    "repeat_new_dim": lambda x, y: x.repeat(2, 1, 1, 1),
    "tile": lambda x, y: y.tile((2, 1)),
    "tril": lambda x, y: x.tril(1) + y.tril(-1),
    "triu": lambda x, y: x.triu() - y.triu(2),
    "repeat_interleave": lambda x, y: x.repeat_interleave(2, dim=1),
    "repeat_interleave_t": lambda x, y: y.repeat_interleave(torch.tensor([2, 0]), dim=1),
    "contiguous": lambda x, y: x.transpose(0, 2).contiguous() * 2,
}


@pytest.mark.parametrize("name", list(COPY_GRADS))
def test_gradcheck_copying_ops(name):
    x, y = f64((2, 2, 2), seed=3), f64((2, 2, 2), seed=4)
    assert gradcheck(COPY_GRADS[name], (x, y))


# ---- live comparisons with PyTorch --------------------------------------------------------------------------------

@pytest.mark.parametrize("key", BASIC_KEYS, ids=repr)
def test_against_torch_basic_index_strides(key):
    T = pytest.importorskip("torch")
    ours = torch.arange(120).reshape(4, 5, 6)[key]
    theirs = T.arange(120).reshape(4, 5, 6)[key]
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.stride() == theirs.stride()
    assert ours.storage_offset() == theirs.storage_offset()
    assert ours.is_contiguous() == theirs.is_contiguous()


def test_against_torch_view_layouts():
    T = pytest.importorskip("torch")
    fns = [
        lambda m: m.arange(24).view(2, 3, 4)[:, :, :2].view(6, 2),
        lambda m: m.arange(6)[::2].view(1, 3), lambda m: m.arange(6)[::2].view(3, 1),
        lambda m: m.ones(3, 4).unsqueeze(1), lambda m: m.ones(3, 4)[:, None],
        lambda m: m.ones(3, 1).expand(-1, 4), lambda m: m.ones(2, 3, 4).permute(2, 0, 1),
        lambda m: m.ones(2, 3, 4).transpose(0, 2).reshape(4, 6), lambda m: m.ones(2, 3, 4)[1].t(),
        lambda m: m.ones(2, 3, 4).narrow(2, 1, 2), lambda m: m.ones(1, 2, 1, 3).squeeze(),
        lambda m: m.ones(4, 6).split([1, 5], 1)[1], lambda m: m.ones(4, 6).chunk(3, 1)[2],
        lambda m: m.ones(4, 6).unbind(1)[3], lambda m: m.ones(4, 6)[::2, 1::3].t().contiguous(),
    ]
    for i, fn in enumerate(fns):
        ours, theirs = fn(torch), fn(T)
        assert tuple(ours.shape) == tuple(theirs.shape), i
        assert ours.stride() == theirs.stride(), i
        assert ours.storage_offset() == theirs.storage_offset(), i
        assert ours.is_contiguous() == theirs.is_contiguous(), i


def test_against_torch_grad_fn_names():
    T = pytest.importorskip("torch")
    a = np.random.default_rng(0).uniform(size=(3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mismatches = []
        for name, fn, _ in VIEW_NAMES:
            if name in ("cat", "stack"):
                continue
            ours, theirs = fn(torch.tensor(a, requires_grad=True)), fn(T.tensor(a, requires_grad=True))
            if ours.grad_fn.name() != theirs.grad_fn.name():
                mismatches.append((name, ours.grad_fn.name(), theirs.grad_fn.name()))
    ours = torch.tensor(a, requires_grad=True).repeat_interleave(2, 0)
    theirs = T.tensor(a, requires_grad=True).repeat_interleave(2, 0)
    if ours.grad_fn.name() != theirs.grad_fn.name():
        mismatches.append(("repeat_interleave", ours.grad_fn.name(), theirs.grad_fn.name()))
    assert not mismatches


def test_against_torch_error_messages():
    T = pytest.importorskip("torch")
    fns = [
        lambda m: m.arange(12.).view(3, 4).t().view(12), lambda m: m.ones(10, 10).view(-1, 784),
        lambda m: m.ones(3).expand(2, 4), lambda m: m.ones(2, 3).expand(3),
        lambda m: m.cat([m.ones(2, 3), m.ones(2, 4)]), lambda m: m.stack([m.ones(2, 3), m.ones(3, 3)]),
        lambda m: m.ones(2, 3).transpose(0, 2), lambda m: m.ones(2, 3).unsqueeze(3),
        lambda m: m.ones(2, 3, 4).t(), lambda m: m.ones(2, 3).permute(0, 0), lambda m: m.ones(2, 3).narrow(1, 2, 2),
        lambda m: m.ones(2, 3).view(-1, -1), lambda m: m.ones(2, 3)[2], lambda m: m.ones(2, 3)[:, 3],
        lambda m: m.ones(2, 3)[1, 2, 3], lambda m: m.ones(2, 3)[::-1], lambda m: m.cat([]),
        lambda m: m.ones(2, 3).split([1, 1], 1), lambda m: m.ones(3).tril(), lambda m: m.ones(3).mT,
        lambda m: m.ones(2, 3).roll((1, 2), (0,)), lambda m: m.ones(2, 3).repeat(2),
    ]
    assert_same_errors(T, fns)


def test_against_torch_copying_ops():
    T = pytest.importorskip("torch")
    a = np.arange(24.).reshape(2, 3, 4)
    fns = [
        lambda m, x: m.cat([x, x[:1]], 0), lambda m, x: m.stack([x, x], 2), lambda m, x: x.flip((0, 2)),
        lambda m, x: x.roll(3), lambda m, x: x.roll((1, -1), (1, 2)), lambda m, x: x.repeat(2, 1, 1, 2),
        lambda m, x: x.tile((2,)), lambda m, x: x.tril(-1), lambda m, x: x.triu(2),
        lambda m, x: x.repeat_interleave(2, 1), lambda m, x: x.repeat_interleave(m.tensor([2, 0]), 0),
    ]
    for i, fn in enumerate(fns):
        ours, theirs = fn(torch, torch.tensor(a)), fn(T, T.tensor(a))
        np.testing.assert_array_equal(npy(ours), theirs.numpy(), err_msg=str(i))
        assert ours.stride() == theirs.stride(), i

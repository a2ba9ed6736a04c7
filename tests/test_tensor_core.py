"""Tests for what a tcli tensor is: creation and dtype inference, dtypes and conversions, attributes,
Python and numpy protocols, devices, pickling, and copy_/fill_/zero_. Expected values are PyTorch 2.13's;
tests that compare with PyTorch live skip when it is not installed."""

import copy
import math
import pickle
import warnings

import numpy as np
import pytest

import tcli


@pytest.fixture(autouse=True)
def default_dtype_restored():
    before = tcli.get_default_dtype()
    yield
    tcli.set_default_dtype(before)


def as_np(t):
    return np.array(t.detach().numpy())


def check(t, values, dtype, shape=None):
    assert t.dtype is dtype
    expected = np.asarray(values)
    assert tuple(t.shape) == (expected.shape if shape is None else tuple(shape))
    np.testing.assert_array_equal(as_np(t), expected)


# ---- tensor(): data and dtype inference ------------------------------------------------------------------------

@pytest.mark.parametrize("data, dtype, shape", [
    (3, tcli.int64, ()),
    (3.5, tcli.float32, ()),
    (True, tcli.bool, ()),
    ([1, 2, 3], tcli.int64, (3,)),
    ([1.0, 2.0], tcli.float32, (2,)),
    ([1, 2.5], tcli.float32, (2,)),
    ([True, False], tcli.bool, (2,)),
    ([True, 2], tcli.int64, (2,)),
    ([True, 2.0], tcli.float32, (2,)),
    ([True, 2, 3.5], tcli.float32, (3,)),
    ([[1, 2], [3, 4]], tcli.int64, (2, 2)),
    (((1, 2), (3, 4)), tcli.int64, (2, 2)),
    ([(1.0,), [2.0]], tcli.float32, (2, 1)),
    ([], tcli.float32, (0,)),
    ([[]], tcli.float32, (1, 0)),
    ([[[1], [2]], [[3], [4]]], tcli.int64, (2, 2, 1)),
])
def test_tensor_infers_dtype_and_shape(data, dtype, shape):
    t = tcli.tensor(data)
    assert t.dtype is dtype
    assert t.shape == shape
    np.testing.assert_array_equal(as_np(t), np.array(data))


def test_tensor_from_nested_tuples_values():
    assert tcli.tensor(((1, 2), (3, 4))).tolist() == [[1, 2], [3, 4]]


@pytest.mark.parametrize("np_dtype, dtype", [
    (np.float16, tcli.float16), (np.float32, tcli.float32), (np.float64, tcli.float64), (np.int8, tcli.int8),
    (np.int16, tcli.int16), (np.int32, tcli.int32), (np.int64, tcli.int64), (np.uint8, tcli.uint8),
    (np.bool_, tcli.bool),
])
def test_tensor_from_numpy_keeps_dtype_and_copies(np_dtype, dtype):
    a = np.array([[1, 0, 1], [0, 1, 1]], dtype=np_dtype)
    t = tcli.tensor(a)
    check(t, a, dtype)
    a[0, 0] = 0
    assert t[0, 0].item() == 1  # tensor() copies


def test_tensor_from_numpy_scalars():
    assert tcli.tensor(np.float64(2.5)).dtype is tcli.float64
    assert tcli.tensor(np.float32(2.5)).dtype is tcli.float32
    assert tcli.tensor(np.int32(3)).dtype is tcli.int32
    assert tcli.tensor([np.float64(1.0), np.float64(2.0)]).dtype is tcli.float64
    assert tcli.tensor([np.float32(1.0), 2]).dtype is tcli.float32
    assert tcli.tensor([np.int16(1), np.int32(2)]).dtype is tcli.int32
    check(tcli.tensor(np.float64(2.5), dtype=tcli.int32), 2, tcli.int32)


def test_tensor_from_list_of_tensors():
    check(tcli.tensor([tcli.tensor(1.0), tcli.tensor(2.0)]), [1.0, 2.0], tcli.float32)
    check(tcli.tensor([tcli.tensor(1), tcli.tensor(2)]), [1, 2], tcli.int64)


def test_tensor_from_tensor_warns_and_copies():
    x = tcli.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="To copy construct from a tensor"):
        y = tcli.tensor(x)
    assert not y.requires_grad and y.is_leaf
    with tcli.no_grad():
        x[0] = 9.0
    assert y.tolist() == [1.0, 2.0]
    with pytest.warns(UserWarning, match="To copy construct from a tensor"):
        z = tcli.tensor(tcli.tensor([1, 2]), dtype=tcli.float64)
    check(z, [1.0, 2.0], tcli.float64)


@pytest.mark.parametrize("data, message", [
    ([[1, 2, 3], [4, 5]], r"expected sequence of length 3 at dim 1 \(got 2\)"),
    ([[1, 2], [3]], r"expected sequence of length 2 at dim 1 \(got 1\)"),
    ([[[1, 2], [3, 4]], [[5, 6], [7]]], r"expected sequence of length 2 at dim 2 \(got 1\)"),
])
def test_ragged_lists_are_rejected(data, message):
    with pytest.raises(ValueError, match=message):
        tcli.tensor(data)


@pytest.mark.parametrize("data, dtype, expected", [
    ([1.7, -1.7], tcli.int32, [1, -1]),
    ([1.5, 2.9], tcli.int64, [1, 2]),
    (1.7, tcli.int32, 1),
    ([0, 2, -1], tcli.bool, [False, True, True]),
    ([-0.5, 0.0], tcli.bool, [True, False]),
    ([1, 2], tcli.float64, [1.0, 2.0]),
    ([True, False], tcli.float32, [1.0, 0.0]),
    ([[1, 2]], tcli.float16, [[1.0, 2.0]]),
    ([1, 255], tcli.uint8, [1, 255]),
    ([1.5, 2.5], float, [1.5, 2.5]),
])
def test_tensor_dtype_argument_converts(data, dtype, expected):
    t = tcli.tensor(data, dtype=dtype)
    assert t.dtype is (tcli.float64 if dtype is float else dtype)
    assert t.tolist() == expected


def test_tensor_out_of_range_for_dtype():
    with pytest.raises(RuntimeError, match="value cannot be converted to type uint8 without overflow"):
        tcli.tensor([300], dtype=tcli.uint8)


def test_tensor_requires_grad_argument():
    t = tcli.tensor([1.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf


# ---- as_tensor / asarray / from_numpy --------------------------------------------------------------------------

def test_from_numpy_shares_memory_both_ways():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = tcli.from_numpy(a)
    check(t, a, tcli.float32)
    a[0, 1] = 100.0
    assert t[0, 1].item() == 100.0
    t[1, 2] = -5.0
    assert a[1, 2] == -5.0
    t.add_(1)
    assert a[0, 0] == 1.0


def test_from_numpy_non_contiguous():
    base = np.arange(12.0).reshape(3, 4)
    a = base[:, ::2]
    t = tcli.from_numpy(a)
    assert t.shape == (3, 2) and t.stride() == (4, 2) and not t.is_contiguous()
    assert t.tolist() == a.tolist()
    base[0, 0] = 100.0
    t[1, 1] = -1.0
    assert t[0, 0].item() == 100.0 and a[1, 1] == -1.0
    assert (t * 2).tolist() == (a * 2).tolist()
    tt = tcli.from_numpy(base.T)
    assert tt.stride() == (1, 4) and tt.tolist() == base.T.tolist()


def test_from_numpy_edge_cases():
    assert tcli.from_numpy(np.zeros((2, 0, 3))).shape == (2, 0, 3)
    check(tcli.from_numpy(np.array(3.0)), 3.0, tcli.float64)
    with pytest.raises(TypeError, match="expected np.ndarray"):
        tcli.from_numpy([1, 2])
    with pytest.raises(TypeError, match="can't convert np.ndarray of type numpy.complex64"):
        tcli.from_numpy(np.zeros(2, np.complex64))


def test_negative_strides_are_rejected():
    a = np.arange(4.0)
    for make in (tcli.from_numpy, tcli.as_tensor, tcli.tensor):
        with pytest.raises(ValueError, match="At least one stride in the given numpy array is negative"):
            make(a[::-1])
    check(tcli.tensor(a[::-1].copy()), [3.0, 2.0, 1.0, 0.0], tcli.float64)


def test_read_only_arrays_warn_when_shared():
    a = np.arange(3.0)
    a.flags.writeable = False
    with pytest.warns(UserWarning, match="The given NumPy array is not writable"):
        t = tcli.from_numpy(a)
    assert t.tolist() == [0.0, 1.0, 2.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch warns once per process, so a second warning is optional
        s = tcli.as_tensor(a)
    assert s.tolist() == [0.0, 1.0, 2.0]


def test_tensor_of_read_only_array_copies_without_warning():
    a = np.arange(3.0)
    a.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = tcli.tensor(a)  # a copy: PyTorch does not warn
    assert t.tolist() == [0.0, 1.0, 2.0]


def test_as_tensor_and_asarray():
    a = np.array([1.0, 2.0])
    t = tcli.as_tensor(a)
    a[0] = 7.0
    assert t[0].item() == 7.0  # shared
    u = tcli.as_tensor(a, dtype=tcli.float32)
    a[1] = 8.0
    assert u.dtype is tcli.float32 and u.tolist() == [7.0, 2.0]  # converted: a copy
    x = tcli.tensor([1, 2])
    assert tcli.as_tensor(x) is x and tcli.asarray(x) is x
    assert tcli.as_tensor(x, dtype=tcli.int64) is x
    check(tcli.as_tensor(x, dtype=tcli.float32), [1.0, 2.0], tcli.float32)
    check(tcli.as_tensor([1, 2], dtype=tcli.float32), [1.0, 2.0], tcli.float32)
    check(tcli.as_tensor(3), 3, tcli.int64)
    check(tcli.asarray([[1.0, 2.0]]), [[1.0, 2.0]], tcli.float32)
    b = np.arange(4, dtype=np.int32)
    s = tcli.asarray(b)
    b[3] = 40
    assert s.dtype is tcli.int32 and s[3].item() == 40


# ---- legacy constructors -----------------------------------------------------------------------------------------

def test_tensor_class_constructor():
    check(tcli.Tensor([1, 2]), [1.0, 2.0], tcli.float32)
    t = tcli.Tensor(2, 3)
    assert t.shape == (2, 3) and t.dtype is tcli.float32
    assert tcli.Tensor().shape == (0,)
    assert tcli.Tensor(tcli.Size([4])).shape == (4,)
    assert isinstance(tcli.ones(1), tcli.Tensor) and isinstance(tcli.tensor([1]), tcli.Tensor)
    tcli.set_default_dtype(tcli.float64)
    assert tcli.Tensor([1]).dtype is tcli.float64


@pytest.mark.parametrize("cls, dtype, data, expected", [
    ("FloatTensor", tcli.float32, [1, 2], [1.0, 2.0]),
    ("DoubleTensor", tcli.float64, [1], [1.0]),
    ("LongTensor", tcli.int64, [1.7, 2], [1, 2]),
    ("IntTensor", tcli.int32, [3, -4], [3, -4]),
    ("BoolTensor", tcli.bool, [1, 0], [True, False]),
    ("ByteTensor", tcli.uint8, [1, 255], [1, 255]),
])
def test_legacy_typed_constructors(cls, dtype, data, expected):
    ctor = getattr(tcli, cls)
    t = ctor(data)
    assert t.dtype is dtype and t.tolist() == expected
    assert isinstance(t, ctor) and isinstance(t, tcli.Tensor)
    sized = ctor(2, 3)
    assert sized.shape == (2, 3) and sized.dtype is dtype
    assert ctor(4).shape == (4,)
    assert t.type() == "torch." + cls


def test_legacy_isinstance_checks_dtype():
    assert isinstance(tcli.ones(1), tcli.FloatTensor)
    assert not isinstance(tcli.ones(1), tcli.DoubleTensor)
    assert isinstance(tcli.ones(1, dtype=tcli.float64), tcli.DoubleTensor)
    assert isinstance(tcli.tensor([1]), tcli.LongTensor)
    assert not isinstance(tcli.tensor([1]), tcli.IntTensor)
    assert isinstance(tcli.tensor([True]), tcli.BoolTensor)
    assert not isinstance([1.0], tcli.FloatTensor)


# ---- factories ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [(2, 3), ((2, 3),), ([2, 3],), (tcli.Size([2, 3]),)])
def test_zeros_ones_empty_size_forms(size):
    z, o, e = tcli.zeros(*size), tcli.ones(*size), tcli.empty(*size)
    for t in (z, o, e):
        assert t.shape == (2, 3) and t.dtype is tcli.float32
    assert z.tolist() == [[0.0] * 3] * 2 and o.tolist() == [[1.0] * 3] * 2


def test_factories_with_dtype_and_scalars():
    check(tcli.zeros(2, dtype=tcli.int64), [0, 0], tcli.int64)
    check(tcli.ones(2, dtype=tcli.bool), [True, True], tcli.bool)
    check(tcli.zeros(()), 0.0, tcli.float32)
    assert tcli.empty(0).shape == (0,) and tcli.empty(2, dtype=tcli.int8).dtype is tcli.int8
    assert tcli.zeros(2, 3, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match=r"Trying to create tensor with negative dimension -1: \[2, -1\]"):
        tcli.ones(2, -1)
    with pytest.raises(RuntimeError, match="negative dimension"):
        tcli.empty(-1)


@pytest.mark.parametrize("value, dtype", [(1.5, tcli.float32), (7, tcli.int64), (True, tcli.bool), (-1, tcli.int64)])
def test_full_infers_dtype_from_fill_value(value, dtype):
    t = tcli.full((2, 2), value)
    check(t, np.full((2, 2), value), dtype)


def test_full_with_dtype_and_0d():
    check(tcli.full((2,), -1.5, dtype=tcli.int32), [-1, -1], tcli.int32)
    check(tcli.full((2, 2), 3, dtype=tcli.float32), [[3.0, 3.0], [3.0, 3.0]], tcli.float32)
    check(tcli.full((), 4.0), 4.0, tcli.float32)
    check(tcli.full([3], tcli.tensor(2.0)), [2.0, 2.0, 2.0], tcli.float32)
    tcli.set_default_dtype(tcli.float64)
    assert tcli.full((1,), 0.5).dtype is tcli.float64


def test_like_factories():
    i = tcli.tensor([[1, 2, 3]])
    check(tcli.zeros_like(i), [[0, 0, 0]], tcli.int64)
    check(tcli.ones_like(i, dtype=tcli.float64), [[1.0, 1.0, 1.0]], tcli.float64)
    check(tcli.full_like(i, 2.7), [[2, 2, 2]], tcli.int64)  # keeps the input's dtype
    check(tcli.full_like(tcli.ones(2), 7), [7.0, 7.0], tcli.float32)
    e = tcli.empty_like(i, dtype=tcli.float64)
    assert e.shape == (1, 3) and e.dtype is tcli.float64
    x = tcli.ones(2, requires_grad=True)
    z = tcli.zeros_like(x)
    assert not z.requires_grad
    assert tcli.ones_like(x, requires_grad=True).requires_grad


@pytest.mark.parametrize("args, kwargs, expected, dtype", [
    ((5,), {}, [0, 1, 2, 3, 4], tcli.int64),
    ((2, 5), {}, [2, 3, 4], tcli.int64),
    ((0, 10, 3), {}, [0, 3, 6, 9], tcli.int64),
    ((5, 0, -1), {}, [5, 4, 3, 2, 1], tcli.int64),
    ((5, 0, -2), {}, [5, 3, 1], tcli.int64),
    ((0, 1, 0.25), {}, [0.0, 0.25, 0.5, 0.75], tcli.float32),
    ((1, 2.5, 0.5), {}, [1.0, 1.5, 2.0], tcli.float32),
    ((-1.0, 1.0, 0.5), {}, [-1.0, -0.5, 0.0, 0.5], tcli.float32),
    ((3.0,), {}, [0.0, 1.0, 2.0], tcli.float32),
    ((3,), {"dtype": tcli.float64}, [0.0, 1.0, 2.0], tcli.float64),
    ((3,), {"dtype": tcli.float16}, [0.0, 1.0, 2.0], tcli.float16),
    ((0,), {}, [], tcli.int64),
    ((tcli.tensor(3),), {}, [0, 1, 2], tcli.int64),
])
def test_arange(args, kwargs, expected, dtype):
    t = tcli.arange(*args, **kwargs)
    assert t.dtype is dtype and t.dim() == 1
    np.testing.assert_allclose(as_np(t).astype(np.float64), np.array(expected, dtype=np.float64), rtol=1e-6)


def test_arange_length_and_default_dtype():
    assert tcli.arange(0, 1, 0.1).shape == (10,)
    assert tcli.arange(0, 1, 0.3).shape == (4,)
    tcli.set_default_dtype(tcli.float64)
    assert tcli.arange(0.0, 2.0).dtype is tcli.float64
    assert tcli.arange(2).dtype is tcli.int64


def test_arange_errors():
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        tcli.arange(0, 5, 0)
    with pytest.raises(RuntimeError, match="unsupported range"):
        tcli.arange(math.inf)
    with pytest.raises(RuntimeError, match="bound inconsistent with step sign"):
        tcli.arange(0, 5, -1)
    with pytest.raises(RuntimeError, match="upper bound and lower bound inconsistent with step sign"):
        tcli.arange(5, 0)


def test_linspace_and_eye():
    check(tcli.linspace(0, 1, 5), [0.0, 0.25, 0.5, 0.75, 1.0], tcli.float32)
    check(tcli.linspace(-1, 1, 3, dtype=tcli.float64), [-1.0, 0.0, 1.0], tcli.float64)
    check(tcli.linspace(0, 10, 1), [0.0], tcli.float32)
    assert tcli.linspace(3, 3, 0).shape == (0,)
    check(tcli.linspace(0, 9, 10, dtype=tcli.int64), list(range(10)), tcli.int64)
    np.testing.assert_allclose(as_np(tcli.linspace(-2.0, 3.0, 101, dtype=tcli.float64)), np.linspace(-2, 3, 101),
                               rtol=0, atol=1e-14)
    with pytest.raises(RuntimeError, match="number of steps must be non-negative"):
        tcli.linspace(0, 1, -1)
    check(tcli.eye(3), np.eye(3), tcli.float32)
    check(tcli.eye(2, 3), np.eye(2, 3), tcli.float32)
    check(tcli.eye(3, 2, dtype=tcli.int64), np.eye(3, 2, dtype=np.int64), tcli.int64)
    assert tcli.eye(0).shape == (0, 0)
    with pytest.raises(RuntimeError, match="n must be greater or equal to 0, got -1"):
        tcli.eye(-1)


# ---- dtypes --------------------------------------------------------------------------------------------------------

def test_dtype_names_and_aliases():
    assert tcli.float is tcli.float32 and tcli.double is tcli.float64 and tcli.half is tcli.float16
    assert tcli.int is tcli.int32 and tcli.long is tcli.int64 and tcli.short is tcli.int16
    names = {tcli.bool: "torch.bool", tcli.uint8: "torch.uint8", tcli.int8: "torch.int8", tcli.int16: "torch.int16",
             tcli.int32: "torch.int32", tcli.int64: "torch.int64", tcli.float16: "torch.float16",
             tcli.float32: "torch.float32", tcli.float64: "torch.float64"}
    for dt, name in names.items():
        assert repr(dt) == name and str(dt) == name
        assert isinstance(dt, tcli.dtype)
    assert repr(tcli.float) == "torch.float32"
    assert tcli.float32.is_floating_point and tcli.float16.is_floating_point
    assert not tcli.int64.is_floating_point and not tcli.bool.is_floating_point
    assert tcli.float32.itemsize == 4 and tcli.float16.itemsize == 2 and tcli.int64.itemsize == 8
    assert tcli.float32.is_signed and tcli.int8.is_signed and not tcli.uint8.is_signed
    assert pickle.loads(pickle.dumps(tcli.float64)) is tcli.float64
    assert copy.deepcopy(tcli.int32) is tcli.int32


def test_is_floating_point():
    assert tcli.ones(1).is_floating_point() and tcli.is_floating_point(tcli.ones(1, dtype=tcli.float16))
    assert not tcli.tensor([1]).is_floating_point() and not tcli.tensor([True]).is_floating_point()


def test_default_dtype():
    assert tcli.get_default_dtype() is tcli.float32
    tcli.set_default_dtype(tcli.float64)
    assert tcli.get_default_dtype() is tcli.float64
    assert tcli.tensor([1.5]).dtype is tcli.float64 and tcli.tensor(1.5).dtype is tcli.float64
    assert tcli.zeros(2).dtype is tcli.float64 and tcli.tensor([1, 2]).dtype is tcli.int64
    assert tcli.tensor(np.array([1.5], dtype=np.float32)).dtype is tcli.float32
    tcli.set_default_dtype(tcli.float32)
    assert tcli.tensor([1.5]).dtype is tcli.float32
    with pytest.raises(TypeError, match="only floating-point types are supported as the default type"):
        tcli.set_default_dtype(tcli.int64)
    assert tcli.get_default_dtype() is tcli.float32


@pytest.mark.parametrize("dtype, name", [
    (tcli.float32, "torch.FloatTensor"), (tcli.float64, "torch.DoubleTensor"), (tcli.float16, "torch.HalfTensor"),
    (tcli.int64, "torch.LongTensor"), (tcli.int32, "torch.IntTensor"), (tcli.int16, "torch.ShortTensor"),
    (tcli.int8, "torch.CharTensor"), (tcli.uint8, "torch.ByteTensor"), (tcli.bool, "torch.BoolTensor"),
])
def test_type_strings(dtype, name):
    t = tcli.zeros(2, dtype=dtype)
    assert t.type() == name
    assert tcli.ones(2).type(name).dtype is dtype
    assert tcli.ones(2).type(dtype).dtype is dtype


def test_type_conversions():
    t = tcli.tensor([1.7, -2.2])
    d = t.type(tcli.float64)
    assert d.dtype is tcli.float64 and d.tolist() == pytest.approx([1.7, -2.2], rel=1e-6)
    assert t.type("torch.IntTensor").tolist() == [1, -2]
    assert t.type(tcli.DoubleTensor).dtype is tcli.float64
    assert t.type(tcli.float32) is t and t.type("torch.FloatTensor") is t
    with pytest.raises(ValueError, match="invalid type: 'Foo'"):
        t.type("Foo")


def test_to_returns_self_when_nothing_changes():
    t = tcli.ones(2)
    assert t.to(tcli.float32) is t
    assert t.to("cpu") is t and t.to(tcli.device("cpu")) is t and t.to(t.device) is t
    assert t.to(tcli.ones(3)) is t
    assert t.to("cpu", tcli.float32) is t and t.to(device="cpu", dtype=tcli.float32) is t
    assert t.cpu() is t
    c = t.to(tcli.float32, copy=True)
    assert c is not t and c.tolist() == [1.0, 1.0]
    assert t.to(tcli.float32, True) is t  # positional flags, as in PyTorch: non_blocking, then copy
    assert t.to(tcli.float32, False, True) is not t


def test_to_converts():
    t = tcli.tensor([1.5, -2.5])
    check(t.to(tcli.float64), [1.5, -2.5], tcli.float64)
    check(t.to(tcli.int64), [1, -2], tcli.int64)
    check(t.to("cpu", tcli.float64), [1.5, -2.5], tcli.float64)
    check(t.to(tcli.ones(1, dtype=tcli.int32)), [1, -2], tcli.int32)
    check(t.to(dtype=tcli.float16), [1.5, -2.5], tcli.float16)
    check(tcli.tensor([1, 300]).to(tcli.uint8), [1, 44], tcli.uint8)  # wraps like C, as PyTorch does


def test_to_keeps_autograd_for_float_targets():
    x = tcli.ones(2, requires_grad=True)
    d = x.double()
    assert d.requires_grad and d.grad_fn.name() == "ToCopyBackward0"
    (d * 3).sum().backward()
    assert x.grad.dtype is tcli.float32 and x.grad.tolist() == [3.0, 3.0]
    i = x.long()
    assert not i.requires_grad and i.dtype is tcli.int64


def test_dtype_shortcut_methods():
    f = tcli.ones(2)
    assert f.float() is f
    d = tcli.ones(2, dtype=tcli.float64)
    assert d.double() is d
    h = tcli.ones(2, dtype=tcli.float16)
    assert h.half() is h
    i = tcli.tensor([1, 2], dtype=tcli.int32)
    assert i.int() is i
    n = tcli.tensor([1, 2])
    assert n.long() is n
    b = tcli.tensor([True])
    assert b.bool() is b
    v = tcli.tensor([1.7, -1.7, 0.0])
    check(v.int(), [1, -1, 0], tcli.int32)
    check(v.long(), [1, -1, 0], tcli.int64)
    check(v.bool(), [True, True, False], tcli.bool)
    check(v.double(), as_np(v).astype(np.float64), tcli.float64)
    check(v.half(), as_np(v).astype(np.float16), tcli.float16)
    check(n.float(), [1.0, 2.0], tcli.float32)
    check(n.short(), [1, 2], tcli.int16)
    check(n.char(), [1, 2], tcli.int8)
    check(n.byte(), [1, 2], tcli.uint8)


# ---- attributes ------------------------------------------------------------------------------------------------

def test_shape_is_a_size():
    t = tcli.zeros(2, 3)
    s = t.shape
    assert isinstance(s, tcli.Size) and isinstance(s, tuple)
    assert s == (2, 3) and s == tcli.Size([2, 3]) and list(s) == [2, 3]
    assert repr(s) == "torch.Size([2, 3])" and str(s) == "torch.Size([2, 3])"
    assert isinstance(s[1:], tcli.Size) and s[1:] == (3,)
    assert s[0] == 2 and type(s[0]) is int
    assert s.numel() == 6
    assert isinstance(s + (4,), tcli.Size) and s + (4,) == (2, 3, 4)
    assert t.size() == s and t.size(1) == 3 and t.size(-1) == 3 and t.size(-2) == 2
    assert repr(tcli.tensor(1.0).shape) == "torch.Size([])"
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        t.size(2)
    assert pickle.loads(pickle.dumps(s)) == s and isinstance(pickle.loads(pickle.dumps(s)), tcli.Size)


def test_basic_attributes():
    t = tcli.zeros(2, 3, 4)
    assert t.dim() == 3 and t.ndim == 3 and t.numel() == 24 and tcli.numel(t) == 24
    assert t.dtype is tcli.float32 and t.stride() == (12, 4, 1)
    s = tcli.tensor(3.0)
    assert s.dim() == 0 and s.ndim == 0 and s.numel() == 1 and s.shape == ()
    assert not t.is_cuda and t.is_cpu
    assert tcli.is_tensor(t) and not tcli.is_tensor([1])


@pytest.mark.parametrize("dtype, size", [
    (tcli.float32, 4), (tcli.float64, 8), (tcli.float16, 2), (tcli.int64, 8), (tcli.int32, 4), (tcli.int16, 2),
    (tcli.int8, 1), (tcli.uint8, 1), (tcli.bool, 1),
])
def test_element_size(dtype, size):
    t = tcli.zeros(3, dtype=dtype)
    assert t.element_size() == size
    assert t.itemsize == size and t.nbytes == 3 * size


def test_device_attribute():
    t = tcli.ones(2)
    assert t.device == tcli.device("cpu")
    assert repr(t.device) == "device(type='cpu')" and str(t.device) == "cpu"
    assert t.device.type == "cpu" and t.device.index is None


def test_device_compared_with_strings_like_torch():
    # PyTorch's device does not compare equal to strings: torch.device("cpu") == "cpu" is False
    assert (tcli.device("cpu") == "cpu") is False
    assert (tcli.ones(1).device == "cpu") is False
    assert tcli.device("cpu") != "cpu"
    assert tcli.ones(1).device.type == "cpu"


def test_item_gives_python_types():
    assert tcli.tensor(2.5).item() == 2.5 and type(tcli.tensor(2.5).item()) is float
    assert type(tcli.tensor(3).item()) is int and tcli.tensor(3).item() == 3
    assert type(tcli.tensor([7], dtype=tcli.int8).item()) is int
    assert tcli.tensor(True).item() is True
    assert tcli.tensor([[4.0]]).item() == 4.0
    assert tcli.tensor(1.5, dtype=tcli.float64).item() == 1.5
    assert tcli.tensor([1.0, 2.0])[1].item() == 2.0
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"):
        tcli.tensor([1.0, 2.0]).item()
    with pytest.raises(RuntimeError, match="a Tensor with 0 elements cannot be converted to Scalar"):
        tcli.tensor([]).item()


def test_tolist():
    assert tcli.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    vals = tcli.tensor([1.0, 2.0]).tolist()
    assert vals == [1.0, 2.0] and all(type(v) is float for v in vals)
    assert tcli.tensor([[True, False]]).tolist() == [[True, False]]
    assert tcli.tensor(5).tolist() == 5
    assert tcli.arange(6).reshape(2, 3).t().tolist() == [[0, 3], [1, 4], [2, 5]]
    assert tcli.tensor([1, 2, 3])[1:].tolist() == [2, 3]


def test_numpy_shares_memory():
    t = tcli.tensor([1.0, 2.0, 3.0])
    a = t.numpy()
    assert a.dtype == np.float32 and a.tolist() == [1.0, 2.0, 3.0]
    a[0] = 10.0
    assert t[0].item() == 10.0
    t[1] = 20.0
    assert a[1] == 20.0
    m = tcli.arange(6).reshape(2, 3)
    col = m[:, 1].numpy()
    assert col.tolist() == [1, 4] and col.dtype == np.int64
    col[0] = 100
    assert m[0, 1].item() == 100
    assert tcli.tensor(2.0).numpy().shape == ()


def test_numpy_requires_grad_error():
    x = tcli.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad. Use "
                                           r"tensor.detach\(\).numpy\(\) instead."):
        x.numpy()
    assert x.detach().numpy().tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="Can't call numpy"):
        (x * 2).numpy()


def test_array_protocol():
    t = tcli.tensor([[1, 2], [3, 4]], dtype=tcli.int32)
    a = np.asarray(t)
    assert a.dtype == np.int32 and a.tolist() == [[1, 2], [3, 4]]
    a[0, 0] = 9
    assert t[0, 0].item() == 9  # np.asarray shares memory, as with PyTorch
    f = np.asarray(t, dtype=np.float64)
    assert f.dtype == np.float64 and f.tolist() == [[9.0, 2.0], [3.0, 4.0]]
    assert np.array(tcli.tensor([1.5])).tolist() == [1.5]
    assert np.add(np.asarray(tcli.ones(3)), 1).tolist() == [2.0, 2.0, 2.0]


def test_dlpack_with_numpy_is_zero_copy():
    t = tcli.arange(6.0).reshape(2, 3)
    a = np.from_dlpack(t)
    assert a.shape == (2, 3) and a.dtype == np.float32 and a.flags.writeable
    a[0, 0] = 42.0
    assert t[0, 0].item() == 42.0
    v = np.from_dlpack(t.t())
    assert v.tolist() == [[42.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    src = np.arange(4, dtype=np.int32)
    u = tcli.from_dlpack(src)
    assert u.dtype is tcli.int32 and u.tolist() == [0, 1, 2, 3]
    src[2] = 20
    assert u[2].item() == 20
    assert tuple(t.__dlpack_device__()) == (1, 0)
    assert tcli.from_dlpack(t) is t or tcli.from_dlpack(t).tolist() == t.tolist()


def test_dlpack_of_tensor_requiring_grad():
    with pytest.raises(BufferError, match="Can't export tensors that require gradient, use tensor.detach()"):
        tcli.ones(2, requires_grad=True).__dlpack__()


def test_dlpack_with_torch():
    torch = pytest.importorskip("torch")
    t = tcli.arange(6.0).reshape(2, 3)
    pt = torch.from_dlpack(t)
    assert pt.dtype == torch.float32 and pt.tolist() == t.tolist()
    pt[0, 0] = -1.0
    assert t[0, 0].item() == -1.0
    src = torch.arange(5, dtype=torch.int64)
    u = tcli.from_dlpack(src)
    assert u.dtype is tcli.int64 and u.tolist() == [0, 1, 2, 3, 4]
    src[1] = 100
    assert u[1].item() == 100
    nc = torch.arange(12.0, dtype=torch.float64).reshape(3, 4).t()
    w = tcli.from_dlpack(nc)
    assert w.tolist() == nc.tolist() and w.dtype is tcli.float64


# ---- Python protocols ---------------------------------------------------------------------------------------------

def test_len_and_iter():
    t = tcli.tensor([[1, 2], [3, 4], [5, 6]])
    assert len(t) == 3 and len(tcli.zeros(4, 2)) == 4
    rows = list(t)
    assert len(rows) == 3 and all(isinstance(r, tcli.Tensor) for r in rows)
    assert [r.tolist() for r in rows] == [[1, 2], [3, 4], [5, 6]]
    assert [x.item() for x in tcli.tensor([1.0, 2.0])] == [1.0, 2.0]
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(tcli.tensor(1.0))
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(tcli.tensor(1.0))


def test_bool():
    assert bool(tcli.tensor([1.0])) and not bool(tcli.tensor(0.0)) and bool(tcli.tensor(True))
    assert not bool(tcli.tensor([[0]]))
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"):
        bool(tcli.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"):
        if tcli.ones(2) > 0:
            pass
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with no values is ambiguous"):
        bool(tcli.tensor([]))


def test_index_and_number_conversions():
    items = [10, 20, 30]
    assert items[tcli.tensor(1)] == 20 and items[tcli.tensor([2])] == 30
    assert tcli.tensor(5).__index__() == 5 and range(10)[tcli.tensor(3, dtype=tcli.int32)] == 3
    with pytest.raises(TypeError, match="only integer tensors of a single element can be converted to an index"):
        items[tcli.tensor(1.0)]
    with pytest.raises(TypeError, match="only integer tensors of a single element can be converted to an index"):
        items[tcli.tensor([0, 1])]
    assert float(tcli.tensor(2.5)) == 2.5 and int(tcli.tensor(2.7)) == 2 and int(tcli.tensor([3])) == 3


def test_format():
    assert f"{tcli.tensor(3.0)}" == "3.0"
    assert f"{tcli.tensor(7)}" == "7"
    assert f"{tcli.tensor(True)}" == "True"
    assert f"{tcli.tensor(2.5):.3f}" == "2.500"
    assert f"{tcli.tensor(5):>4}" == "   5"
    assert f"{tcli.tensor([1.0, 2.0])}" == "tensor([1., 2.])"
    assert format(tcli.tensor([1, 2]), "") == "tensor([1, 2])"


def test_repr_suffixes():
    assert repr(tcli.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(tcli.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(tcli.tensor([1.0, 2.0], dtype=tcli.float64)) == "tensor([1., 2.], dtype=torch.float64)"
    assert repr(tcli.tensor([1, 2], dtype=tcli.int32)) == "tensor([1, 2], dtype=torch.int32)"
    x = tcli.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)" and str(x) == repr(x)
    assert repr(tcli.tensor(2.0, requires_grad=True)) == "tensor(2., requires_grad=True)"
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward0>)"
    assert repr(x.double() * 2) == "tensor([2., 4.], dtype=torch.float64, grad_fn=<MulBackward0>)"
    assert repr(x.sum()) == "tensor(3., grad_fn=<SumBackward0>)"
    assert repr(x.detach()) == "tensor([1., 2.])"
    with tcli.no_grad():
        assert repr(x * 2) == "tensor([2., 4.])"


def test_repr_matches_torch():
    torch = pytest.importorskip("torch")

    def make(m):
        x = m.tensor([[1.5, -2.0], [3.25, 4.0]], requires_grad=True)
        return [x, x * 2, x.sum(), x.double().mean(), m.tensor([1, 2], dtype=m.int8), m.tensor(3.0),
                m.zeros(2, 0), m.tensor([True, False]), x[0], x.t(), m.tensor([1.0], dtype=m.float16)]

    for mine, theirs in zip(make(tcli), make(torch)):
        assert repr(mine) == repr(theirs)


# ---- devices -------------------------------------------------------------------------------------------------------

def test_device_parsing():
    cpu = tcli.device("cpu")
    assert cpu.type == "cpu" and cpu.index is None and repr(cpu) == "device(type='cpu')" and str(cpu) == "cpu"
    c0 = tcli.device("cuda:0")
    assert c0.type == "cuda" and c0.index == 0
    assert repr(c0) == "device(type='cuda', index=0)" and str(c0) == "cuda:0"
    c1 = tcli.device("cuda", 1)
    assert c1.index == 1 and c1 == tcli.device("cuda:1") and c1 != c0
    assert tcli.device("cuda") != c0 and tcli.device("cuda").index is None
    assert tcli.device(c1) == c1
    assert hash(tcli.device("cpu")) == hash(tcli.device("cpu"))
    assert tcli.device("cpu:0").index == 0
    assert pickle.loads(pickle.dumps(c1)) == c1
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        tcli.device("tpu")
    with pytest.raises(RuntimeError, match="Invalid device string: 'cuda:x'"):
        tcli.device("cuda:x")
    with pytest.raises(RuntimeError, match="type \\(string\\) must not include an index because index was passed "
                                           "explicitly: cuda:1"):
        tcli.device("cuda:1", 1)


no_cuda = pytest.mark.skipif(tcli.cuda.is_available(), reason="a CUDA device is available (tests/cuda covers it)")


@no_cuda
def test_cuda_is_not_available():
    assert tcli.cuda.is_available() is False
    assert tcli.cuda.device_count() == 0
    tcli.cuda.manual_seed(0)  # a no-op without a GPU, as in PyTorch


@pytest.mark.parametrize("make", [
    lambda: tcli.ones(2).to("cuda"),
    lambda: tcli.ones(2).to(tcli.device("cuda:0")),
    lambda: tcli.ones(2).cuda(),
    lambda: tcli.tensor([1.0], device="cuda"),
    lambda: tcli.zeros(2, device="cuda"),
    lambda: tcli.ones(2).to("cuda", tcli.float64),
])
@no_cuda
def test_moving_to_cuda_raises_clear_error(make):
    with pytest.raises(RuntimeError, match="CUDA") as info:
        make()
    msg = str(info.value)
    assert msg.startswith("CUDA is not available: no NVIDIA driver was found") and "\nhint: " in msg


# ---- pickling and copying ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: tcli.tensor([[1.5, 2.0], [3.0, 4.0]]),
    lambda: tcli.arange(6).reshape(2, 3).t(),
    lambda: tcli.tensor([True, False]),
    lambda: tcli.tensor(3.0, dtype=tcli.float64),
    lambda: tcli.zeros(0, 2, dtype=tcli.int8),
    lambda: tcli.arange(10.0)[2:8:3],
])
def test_pickle_round_trip(make):
    t = make()
    u = pickle.loads(pickle.dumps(t))
    assert isinstance(u, tcli.Tensor) and u.dtype is t.dtype and u.shape == t.shape and u.tolist() == t.tolist()
    u.fill_(1)
    assert t.tolist() != u.tolist() or t.numel() == 0 or (t == 1).all().item()


def test_pickle_keeps_requires_grad():
    x = tcli.tensor([1.0, 2.0], requires_grad=True)
    y = pickle.loads(pickle.dumps(x))
    assert y.requires_grad and y.is_leaf and y.tolist() == [1.0, 2.0]


def test_deepcopy():
    x = tcli.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    d = copy.deepcopy(x)
    assert d is not x and d.requires_grad and d.is_leaf and d.tolist() == [1.0, 2.0]
    assert d.grad is not None and d.grad is not x.grad and d.grad.tolist() == [2.0, 2.0]
    with tcli.no_grad():
        d[0] = 5.0
    assert x[0].item() == 1.0
    t = tcli.arange(4)
    pair = copy.deepcopy([t, t])
    assert pair[0] is pair[1] and pair[0] is not t
    c = copy.copy(tcli.tensor([1, 2]))
    assert c.tolist() == [1, 2]


def test_deepcopy_of_non_leaf_is_an_error():
    y = tcli.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"Only Tensors created explicitly by the user \(graph leaves\) support "
                                           "the deepcopy protocol"):
        copy.deepcopy(y)


# ---- copy_, fill_, zero_ -------------------------------------------------------------------------------------------

def test_copy_broadcasts_and_casts():
    t = tcli.zeros(2, 3)
    assert t.copy_(tcli.tensor([1.0, 2.0, 3.0])) is t
    assert t.tolist() == [[1.0, 2.0, 3.0]] * 2
    i = tcli.zeros(2, 3, dtype=tcli.int32)
    i.copy_(tcli.tensor([1.7, -1.7, 2.2]))
    check(i, [[1, -1, 2]] * 2, tcli.int32)
    b = tcli.zeros(2, dtype=tcli.bool)
    b.copy_(tcli.tensor([0.0, 2.0]))
    check(b, [False, True], tcli.bool)
    f = tcli.zeros(2, dtype=tcli.float64)
    f.copy_(tcli.tensor([1, 2]))
    check(f, [1.0, 2.0], tcli.float64)
    v = tcli.zeros(3, 4)
    v[:, 1].copy_(tcli.tensor([1.0, 2.0, 3.0]))
    assert v[:, 1].tolist() == [1.0, 2.0, 3.0] and v.sum().item() == 6.0
    with pytest.raises(RuntimeError, match="The size of tensor a \\(3\\) must match the size of tensor b \\(4\\)"):
        tcli.zeros(2, 3).copy_(tcli.ones(4))


def test_fill_and_zero():
    t = tcli.ones(2, 2)
    assert t.fill_(2.5) is t and t.tolist() == [[2.5, 2.5]] * 2
    assert t.zero_() is t and t.tolist() == [[0.0, 0.0]] * 2
    i = tcli.zeros(3, dtype=tcli.int32)
    check(i.fill_(2.7), [2, 2, 2], tcli.int32)
    check(tcli.zeros(2, dtype=tcli.int64).fill_(True), [1, 1], tcli.int64)
    check(tcli.zeros(2).fill_(tcli.tensor(4.0)), [4.0, 4.0], tcli.float32)
    with pytest.raises(RuntimeError, match="fill_ only supports 0-dimension value tensor but got tensor with 1 "
                                           "dimensions."):
        tcli.zeros(3).fill_(tcli.tensor([1.0, 2.0]))
    m = tcli.arange(6.0).reshape(2, 3)
    m[0].fill_(-1)
    m[:, 2].zero_()
    assert m.tolist() == [[-1.0, -1.0, 0.0], [3.0, 4.0, 0.0]]


@pytest.mark.parametrize("modify", [
    lambda a: a.copy_(tcli.tensor([5.0, 6.0])),
    lambda a: a.fill_(3.0),
    lambda a: a.zero_(),
    lambda a: a.add_(1),
    lambda a: a.__setitem__(0, 7.0),
])
def test_in_place_writes_bump_the_version(modify):
    a = tcli.tensor([1.0, 2.0])
    w = tcli.ones(2, requires_grad=True)
    loss = (w * a).sum()  # mul saves a for the gradient of w
    modify(a)
    with pytest.raises(RuntimeError, match="modified by an inplace operation") as info:
        loss.backward()
    assert "is at version 1; expected version 0 instead" in str(info.value)


def test_version_shared_with_views():
    a = tcli.tensor([1.0, 2.0, 3.0])
    w = tcli.ones(3, requires_grad=True)
    loss = (w * a).sum()
    a[1:].mul_(2)  # a view of a: the base counts as modified too
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
    b = tcli.tensor([1.0, 2.0])
    loss = (w[:2] * b).sum()
    c = b.clone()
    c.add_(1)  # a clone is separate storage with its own counter
    loss.backward()
    assert w.grad.tolist() == [1.0, 2.0, 0.0]


def test_cpu_tensors_do_not_offer_the_cuda_array_interface():
    t = tcli.ones(2)
    assert not hasattr(t, "__cuda_array_interface__")
    with pytest.raises(AttributeError, match="Can't get __cuda_array_interface__ on non-CUDA tensor type: "
                                             "torch.FloatTensor"):
        _ = t.__cuda_array_interface__


def test_import_and_cuda_availability_do_not_import_numba_cuda():
    """numba.cuda costs ~0.3 s to import: tcli imports it with the first CUDA tensor, not before."""
    import subprocess
    import sys
    code = ("import sys, tcli; tcli.cuda.is_available(); tcli.ones(2) + 1; "
            "print('numba.cuda' in sys.modules)")
    env = {k: v for k, v in __import__("os").environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_learner_conversions_follow_pytorch():
    assert tcli.tensor(range(4)).tolist() == [0, 1, 2, 3] and tcli.tensor(range(4)).dtype == tcli.int64
    for convert in (float, int):
        with pytest.raises(ValueError, match="only one element tensors can be converted to Python scalars"):
            convert(tcli.tensor([1.0, 2.0]))
    assert float(tcli.tensor([2.5])) == 2.5 and int(tcli.tensor([[3]])) == 3
    with pytest.warns(UserWarning, match=r"recommended to use sourceTensor\.detach\(\)\.clone\(\)"):
        tcli.tensor(tcli.ones(2))


def test_device_selection_idioms_from_pytorchs_tutorials():
    """torch.accelerator (the quickstart's device line) and torch.backends flags, with CPU-only answers here."""
    device = tcli.accelerator.current_accelerator().type if tcli.accelerator.is_available() else "cpu"
    assert device == ("cuda" if tcli.cuda.is_available() else "cpu")
    assert tcli.accelerator.device_count() == tcli.cuda.device_count()
    device = "cuda" if tcli.cuda.is_available() else "mps" if tcli.backends.mps.is_available() else "cpu"
    assert device in ("cuda", "cpu") and not tcli.backends.mps.is_built()
    tcli.backends.cudnn.deterministic = True  # seeding recipes set these: they must stick
    assert tcli.backends.cudnn.deterministic and not tcli.backends.cudnn.is_available()
    tcli.backends.cudnn.deterministic = False

"""Tests for tcli.printing: literal PyTorch 2.13 output, plus live comparisons when torch is installed."""

import math

import numpy as np
import pytest

from tcli.printing import get_printoptions, printoptions, set_printoptions, tensor_repr

NAN, INF = math.nan, math.inf

DTYPE_NAMES = {
    np.dtype(np.bool_): "torch.bool",
    np.dtype(np.uint8): "torch.uint8",
    np.dtype(np.int8): "torch.int8",
    np.dtype(np.int16): "torch.int16",
    np.dtype(np.int32): "torch.int32",
    np.dtype(np.int64): "torch.int64",
    np.dtype(np.float16): "torch.float16",
    np.dtype(np.float32): "torch.float32",
    np.dtype(np.float64): "torch.float64",
}


@pytest.fixture(autouse=True)
def default_printoptions():
    set_printoptions(profile="default")
    yield
    set_printoptions(profile="default")


def render(values, **kwargs):
    values = np.asarray(values)
    return tensor_repr(values, dtype_name=DTYPE_NAMES[values.dtype], **kwargs)


def f32(values):
    return np.array(values, dtype=np.float32)


# (values, print options, expected repr), each expected text produced by PyTorch 2.13.
LITERAL_CASES = [
    (f32([1, 2, 3]), {}, "tensor([1., 2., 3.])"),
    (f32([1.5, -2.25]), {}, "tensor([ 1.5000, -2.2500])"),
    (f32([1e-5, 1]), {}, "tensor([1.0000e-05, 1.0000e+00])"),
    (f32([1e9, 1]), {}, "tensor([1.0000e+09, 1.0000e+00])"),
    (f32([0.5, 1000]), {}, "tensor([5.0000e-01, 1.0000e+03])"),
    (f32([0.5, 501]), {}, "tensor([5.0000e-01, 5.0100e+02])"),
    (f32([NAN, INF, -INF, -0.0, 2]), {}, "tensor([nan, inf, -inf, -0., 2.])"),
    (f32([NAN, -0.0, 0.5]), {}, "tensor([   nan, -0.0000, 0.5000])"),
    (f32([0, -0.0]), {}, "tensor([0., -0.])"),
    (np.array([True, False, True]), {}, "tensor([ True, False,  True])"),
    (np.array([-100, 5, 20]), {}, "tensor([-100,    5,   20])"),
    (np.array([1, 255], dtype=np.uint8), {}, "tensor([  1, 255], dtype=torch.uint8)"),
    (np.array([[-3, 4], [100, 0]], dtype=np.int16), {},
     "tensor([[ -3,   4],\n        [100,   0]], dtype=torch.int16)"),
    (np.array([0.1, 1], dtype=np.float16), {}, "tensor([0.1000, 1.0000], dtype=torch.float16)"),
    # float16's 0.1 is really 0.0999755859375, which more digits reveal.
    (np.array([0.1, 1000], dtype=np.float16), {"precision": 8},
     "tensor([9.99755859e-02, 1.00000000e+03], dtype=torch.float16)"),
    (np.array([1e200, -1e-200]), {}, "tensor([ 1.0000e+200, -1.0000e-200], dtype=torch.float64)"),
    (np.array(5), {}, "tensor(5)"),
    (f32(2.5), {}, "tensor(2.5000)"),
    (f32(NAN), {}, "tensor(nan)"),
    (np.arange(16).reshape(2, 2, 2, 2), {},
     "tensor([[[[ 0,  1],\n          [ 2,  3]],\n\n         [[ 4,  5],\n          [ 6,  7]]],\n\n\n"
     "        [[[ 8,  9],\n          [10, 11]],\n\n         [[12, 13],\n          [14, 15]]]])"),
    (np.arange(30, dtype=np.float32), {},
     "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n"
     "        14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,\n"
     "        28., 29.])"),
    (np.arange(2000), {}, "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"),
    (np.arange(1200, dtype=np.float32).reshape(40, 30) / np.float32(7), {},
     "tensor([[0.0000e+00, 1.4286e-01, 2.8571e-01,  ..., 3.8571e+00, 4.0000e+00,\n"
     "         4.1429e+00],\n"
     "        [4.2857e+00, 4.4286e+00, 4.5714e+00,  ..., 8.1429e+00, 8.2857e+00,\n"
     "         8.4286e+00],\n"
     "        [8.5714e+00, 8.7143e+00, 8.8571e+00,  ..., 1.2429e+01, 1.2571e+01,\n"
     "         1.2714e+01],\n"
     "        ...,\n"
     "        [1.5857e+02, 1.5871e+02, 1.5886e+02,  ..., 1.6243e+02, 1.6257e+02,\n"
     "         1.6271e+02],\n"
     "        [1.6286e+02, 1.6300e+02, 1.6314e+02,  ..., 1.6671e+02, 1.6686e+02,\n"
     "         1.6700e+02],\n"
     "        [1.6714e+02, 1.6729e+02, 1.6743e+02,  ..., 1.7100e+02, 1.7114e+02,\n"
     "         1.7129e+02]])"),
    (np.arange(60).reshape(5, 3, 4), {"threshold": 10, "edgeitems": 1},
     "tensor([[[ 0,  ...,  3],\n         ...,\n         [ 8,  ..., 11]],\n\n        ...,\n\n"
     "        [[48,  ..., 51],\n         ...,\n         [56,  ..., 59]]])"),
    # Widths come from the shown values only: -14.75 is shown, the hidden middle is not.
    (-np.arange(60, dtype=np.float32).reshape(3, 5, 4) / np.float32(4), {"threshold": 10, "edgeitems": 1},
     "tensor([[[ -0.0000,  ...,  -0.7500],\n         ...,\n         [ -4.0000,  ...,  -4.7500]],\n\n"
     "        ...,\n\n        [[-10.0000,  ..., -10.7500],\n         ...,\n"
     "         [-14.0000,  ..., -14.7500]]])"),
    (f32([1.23456, 2.5]), {"precision": 2}, "tensor([1.23, 2.50])"),
    (f32([[1, 2], [3, 4.5]]), {"precision": 1}, "tensor([[1.0, 2.0],\n        [3.0, 4.5]])"),
    (np.arange(10), {"threshold": 5}, "tensor([0, 1, 2,  ..., 7, 8, 9])"),
    (np.arange(10).reshape(5, 2), {"threshold": 5, "edgeitems": 1},
     "tensor([[0, 1],\n        ...,\n        [8, 9]])"),
    (np.arange(10, dtype=np.float32), {"threshold": 5, "edgeitems": 0}, "tensor([...], size=(10,))"),
    (np.arange(10).reshape(5, 2), {"threshold": 5, "edgeitems": 0}, "tensor([...], size=(5, 2))"),
    (np.array([1, 2]), {"edgeitems": 0}, "tensor([1, 2], size=(2,))"),
    (np.arange(10, dtype=np.float32), {"linewidth": 30},
     "tensor([0., 1., 2., 3., 4.,\n        5., 6., 7., 8., 9.])"),
    (f32([1, 2.5]), {"sci_mode": True}, "tensor([1.0000e+00, 2.5000e+00])"),
    (f32([1e-6, 1e9]), {"sci_mode": False}, "tensor([         0.0000, 1000000000.0000])"),
    (f32([-1e-5, 1]), {"sci_mode": False}, "tensor([-0.0000,  1.0000])"),
    # With no nonzero finite value there is nothing to put in scientific notation.
    (f32([0, 0]), {"sci_mode": True}, "tensor([0., 0.])"),
    (f32([1.23456, 2.5]), {"profile": "short"}, "tensor([1.23, 2.50])"),
    (np.arange(2000), {"profile": "short"}, "tensor([   0,    1,  ..., 1998, 1999])"),
    (np.zeros(0, dtype=np.float32), {}, "tensor([])"),
    (np.zeros((0, 3), dtype=np.float32), {}, "tensor([], size=(0, 3))"),
    (np.zeros(0, dtype=np.int64), {}, "tensor([], dtype=torch.int64)"),
    (np.zeros(0, dtype=np.bool_), {}, "tensor([], dtype=torch.bool)"),
    (np.zeros((2, 0, 3)), {}, "tensor([], size=(2, 0, 3), dtype=torch.float64)"),
]


@pytest.mark.parametrize(("values", "options", "expected"), LITERAL_CASES)
def test_matches_pytorch_text(values, options, expected):
    set_printoptions(**options)
    assert render(values) == expected


def test_requires_grad_suffix():
    assert (render(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
            == "tensor([[1., 2.],\n        [3., 4.]], dtype=torch.float64, requires_grad=True)")


def test_grad_fn_suffix_replaces_requires_grad():
    text = render(f32([2, 3]), requires_grad=True, grad_fn="AddBackward0")
    assert text == "tensor([2., 3.], grad_fn=<AddBackward0>)"


def test_device_suffix_comes_first():
    assert (render(np.array([1.0, 2.0]), device="cuda:0", requires_grad=True)
            == "tensor([1., 2.], device='cuda:0', dtype=torch.float64, requires_grad=True)")


def test_suffixes_wrap_past_the_line_width():
    values = np.arange(16) * 1.5
    row = ("tensor([ 0.0000,  1.5000,  3.0000,  4.5000,  6.0000,  7.5000,  9.0000, 10.5000,\n"
           "        12.0000, 13.5000, 15.0000, 16.5000, 18.0000, 19.5000, 21.0000, 22.5000]")
    assert render(values) == row + ",\n       dtype=torch.float64)"
    assert render(values, requires_grad=True) == row + ",\n       dtype=torch.float64, requires_grad=True)"


def test_default_dtype_decides_the_dtype_suffix():
    assert render(np.array([1.0, 2.0]), default_dtype_name="torch.float64") == "tensor([1., 2.])"
    assert render(f32([1, 2]), default_dtype_name="torch.float64") == "tensor([1., 2.], dtype=torch.float32)"
    empty = np.zeros(0, dtype=np.float32)
    assert render(empty, default_dtype_name="torch.float64") == "tensor([], dtype=torch.float32)"


def test_prefix_length_sets_the_indent():
    values = np.arange(12, dtype=np.float32).reshape(2, 6) / np.float32(3)
    assert (render(values, prefix="MyTensor(")
            == "MyTensor([[0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667],\n"
               "          [2.0000, 2.3333, 2.6667, 3.0000, 3.3333, 3.6667]])")


def test_broadcast_and_strided_views_print_their_logical_values():
    huge = np.broadcast_to(np.float32(1.5), (10**4, 10**4))
    row = "[1.5000, 1.5000, 1.5000,  ..., 1.5000, 1.5000, 1.5000]"
    rows = [row] * 3 + ["..."] + [row] * 3
    assert render(huge) == "tensor([" + ",\n        ".join(rows) + "])"
    assert render(np.arange(12).reshape(3, 4).T[::2]) == "tensor([[ 0,  4,  8],\n        [ 2,  6, 10]])"


def test_default_printoptions():
    expected = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}
    assert get_printoptions() == expected


@pytest.mark.parametrize(("profile", "expected"), [
    ("short", {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80, "sci_mode": None}),
    ("full", {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80, "sci_mode": None}),
])
def test_profiles(profile, expected):
    set_printoptions(profile=profile)
    assert get_printoptions() == expected


def test_explicit_options_override_the_profile():
    set_printoptions(profile="short", precision=6)
    assert get_printoptions()["precision"] == 6
    assert get_printoptions()["edgeitems"] == 2


def test_set_printoptions_resets_sci_mode_when_omitted():
    set_printoptions(sci_mode=True)
    set_printoptions(precision=3)
    assert get_printoptions()["sci_mode"] is None


def test_printoptions_restores_on_exit_even_after_an_error():
    set_printoptions(precision=6)
    with pytest.raises(RuntimeError), printoptions(precision=2, sci_mode=True):
        assert render(f32([1.5])) == "tensor([1.50e+00])"
        raise RuntimeError
    assert get_printoptions()["precision"] == 6
    assert get_printoptions()["sci_mode"] is None


def test_printoptions_works_as_a_decorator():
    @printoptions(threshold=2, edgeitems=1)
    def summarised():
        return render(np.arange(5))

    assert summarised() == "tensor([0,  ..., 4])"
    assert render(np.arange(5)) == "tensor([0, 1, 2, 3, 4])"


# ---- live comparison with PyTorch (skipped where torch is not installed) ----

OPTION_SETS = [
    {},
    {"precision": 2},
    {"precision": 0},
    {"precision": 7, "linewidth": 120},
    {"threshold": 20, "edgeitems": 2},
    {"threshold": 5, "edgeitems": 0},
    {"edgeitems": 1, "linewidth": 40},
    {"linewidth": 10},
    {"sci_mode": True},
    {"sci_mode": False},
    {"profile": "short"},
    {"profile": "full"},
    {"profile": "short", "precision": 6, "sci_mode": True},
]

# Largest axis length per rank: big enough that random shapes often exceed the threshold.
MAX_AXIS = {1: 2500, 2: 60, 3: 14, 4: 8}


@pytest.fixture
def torch():
    torch = pytest.importorskip("torch")
    yield torch
    torch.set_printoptions(profile="default")
    torch.set_default_dtype(torch.float32)


def random_shape(rng):
    ndim = int(rng.integers(0, 5))
    # Log-uniform lengths mix short rows with long, wrapping or summarised ones.
    shape = [int(math.exp(rng.uniform(0, math.log(MAX_AXIS[ndim] + 1)))) for _ in range(ndim)]
    if shape and rng.random() < 0.1:
        shape[int(rng.integers(ndim))] = 0
    return tuple(shape)


def random_floats(rng, size, dtype):
    kind = rng.integers(5)
    if kind == 0:
        values = rng.standard_normal(size) * 10.0 ** rng.integers(-3, 4)
    elif kind == 1:
        values = rng.integers(-1000, 1000, size).astype(np.float64)
    elif kind == 2:
        values = rng.standard_normal(size) * 10.0 ** rng.integers(-300, 300, size)
    elif kind == 3:
        values = rng.standard_normal(size) * 10.0 ** rng.integers(-8, 10)
    else:
        values = np.zeros(size)
    specials = rng.random(size) < 0.1
    values[specials] = rng.choice([NAN, INF, -INF, -0.0, 0.0, 1e-30, 1e30], specials.sum())
    with np.errstate(over="ignore"):
        return values.astype(dtype)


def random_values(rng, shape, dtype):
    size = math.prod(shape)
    if dtype.kind == "f":
        flat = random_floats(rng, size, dtype)
    elif dtype.kind == "b":
        flat = rng.random(size) < 0.5
    elif rng.random() < 0.5:
        flat = rng.integers(-50, 50, size).clip(np.iinfo(dtype).min).astype(dtype)
    else:
        flat = rng.integers(np.iinfo(dtype).min, np.iinfo(dtype).max, size, dtype=dtype, endpoint=True)
    return flat.reshape(shape)


def random_view(rng, values):
    """The same logical values, sometimes behind a transposed, strided or broadcast view."""
    kind = rng.integers(4)
    if kind == 1 and values.ndim >= 2:
        return np.ascontiguousarray(values.swapaxes(0, -1)).swapaxes(0, -1)
    if kind == 2 and values.ndim >= 1:
        return np.repeat(values, 2, axis=0)[::2]
    if kind == 3 and values.ndim >= 1:
        return np.broadcast_to(values[:1], values.shape)
    return values


def random_array(rng):
    dtypes = list(DTYPE_NAMES)
    dtype = dtypes[rng.integers(len(dtypes))]
    return random_view(rng, random_values(rng, random_shape(rng), dtype))


def assert_matches_torch(torch, values, **kwargs):
    tensor = torch.from_numpy(values.copy())
    if kwargs.get("requires_grad"):
        tensor.requires_grad_()
    if kwargs.get("grad_fn"):
        tensor = tensor.requires_grad_() * 1
        kwargs["grad_fn"] = type(tensor.grad_fn).__name__
    default = str(torch.get_default_dtype())
    ours = tensor_repr(values, dtype_name=str(tensor.dtype), default_dtype_name=default, **kwargs)
    assert ours == repr(tensor), f"shape {values.shape} {values.dtype}"


@pytest.mark.parametrize("options", OPTION_SETS, ids=str)
def test_random_tensors_match_torch(torch, options):
    set_printoptions(**options)
    torch.set_printoptions(**options)
    rng = np.random.default_rng(len(OPTION_SETS) * 1000 + OPTION_SETS.index(options))
    for _ in range(30):
        assert_matches_torch(torch, random_array(rng))


@pytest.mark.parametrize("suffix", [{"requires_grad": True}, {"requires_grad": True, "grad_fn": True}])
def test_autograd_suffixes_match_torch(torch, suffix):
    rng = np.random.default_rng(7)
    for _ in range(30):
        values = random_array(rng)
        if values.dtype.kind == "f":
            assert_matches_torch(torch, values, **suffix)


@pytest.mark.parametrize("default_dtype", ["float64", "float16"])
def test_non_default_default_dtype_matches_torch(torch, default_dtype):
    torch.set_default_dtype(getattr(torch, default_dtype))
    rng = np.random.default_rng(11)
    for _ in range(30):
        assert_matches_torch(torch, random_array(rng))


def test_subclass_prefix_matches_torch(torch):
    class LongTensorName(torch.Tensor):
        pass

    rng = np.random.default_rng(13)
    for _ in range(20):
        values = random_array(rng)
        tensor = torch.from_numpy(values.copy()).as_subclass(LongTensorName)
        ours = tensor_repr(values, dtype_name=str(tensor.dtype), prefix="LongTensorName(")
        assert ours == repr(tensor)

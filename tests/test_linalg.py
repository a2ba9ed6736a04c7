"""Matrix products: mm, matmul (every dim combination), bmm, mv, dot, outer, addmm: values, dtypes, errors, grads.

Expectations are PyTorch 2.13's; tests that compare with a live PyTorch skip when it is not installed.
"""

import re

import numpy as np
import pytest
from helpers import assert_same_errors

import tcli as torch
from tcli.autograd import gradcheck


def npy(t):
    return t.detach().numpy()


def check(t, expected, rtol=1e-5, atol=1e-6):
    expected = np.asarray(expected)
    assert tuple(t.shape) == expected.shape, (tuple(t.shape), expected.shape)
    if expected.dtype.kind in "biu":
        np.testing.assert_array_equal(npy(t), expected)
    else:
        np.testing.assert_allclose(npy(t).astype(np.float64), expected, rtol=rtol, atol=atol)


def rand(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def f64(shape, seed=0):
    return torch.tensor(rand(shape, seed, np.float64), requires_grad=True)


# ---- mm -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["contiguous", "transposed_a", "transposed_b", "sliced"])
def test_mm_matches_numpy(layout, dtype):
    a, b = rand((5, 3), 1, dtype), rand((3, 4), 2, dtype)
    if layout == "contiguous":
        x, y = torch.tensor(a), torch.tensor(b)
    elif layout == "transposed_a":
        x, y = torch.tensor(a.T.copy()).t(), torch.tensor(b)
    elif layout == "transposed_b":
        x, y = torch.tensor(a), torch.tensor(b.T.copy()).t()
    else:
        big = rand((10, 7), 3, dtype)
        a = big[::2, 1:4]
        x, y = torch.tensor(big)[::2, 1:4], torch.tensor(b)
    out = x.mm(y)
    assert out.dtype == x.dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    check(out, a.astype(np.float64) @ b, rtol=tol, atol=tol)
    check(torch.mm(x, y), a.astype(np.float64) @ b, rtol=tol, atol=tol)
    check(x @ y, a.astype(np.float64) @ b, rtol=tol, atol=tol)


def test_mm_large():
    a, b = rand((64, 128), 4), rand((128, 48), 5)
    check(torch.tensor(a) @ torch.tensor(b), a.astype(np.float64) @ b, rtol=1e-4, atol=1e-4)


def test_mm_empty():
    check(torch.ones(0, 3).mm(torch.ones(3, 4)), np.zeros((0, 4)))
    check(torch.ones(2, 0).mm(torch.ones(0, 3)), np.zeros((2, 3)))
    check(torch.ones(2, 0) @ torch.ones(0), np.zeros(2))


def test_mm_errors():
    with pytest.raises(RuntimeError, match="^self must be a matrix"):
        torch.ones(3).mm(torch.ones(3, 3))
    with pytest.raises(RuntimeError, match="^mat2 must be a matrix"):
        torch.ones(3, 3).mm(torch.ones(3))
    with pytest.raises(RuntimeError) as info:
        torch.ones(2, 3).mm(torch.ones(2, 3))
    assert str(info.value).splitlines()[0] == "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"
    with pytest.raises(RuntimeError, match=re.escape("mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)")):
        torch.ones(2, 3) @ torch.ones(2, 3)
    with pytest.raises(RuntimeError, match=re.escape("expected m1 and m2 to have the same dtype, but got: float != "
                                                     "double")):
        torch.ones(2, 3).mm(torch.ones(3, 2, dtype=torch.float64))
    with pytest.raises(RuntimeError, match="both arguments to matmul need to be at least 1D, but they are 1D and 0D"):
        torch.ones(3).matmul(torch.tensor(2.))
    with pytest.raises(RuntimeError, match="both arguments to matmul need to be at least 1D, but they are 0D and 1D"):
        torch.tensor(2.) @ torch.ones(3)


def test_mm_of_bool_is_not_implemented():
    with pytest.raises(NotImplementedError, match="\"addmm_impl_cpu_\" not implemented for 'Bool'"):
        torch.ones(2, 3, dtype=torch.bool).mm(torch.ones(3, 2, dtype=torch.bool))


# ---- matmul: every dim combination ---------------------------------------------------------------------------

MATMUL_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3,)),
    ((3,), (5, 3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((7, 1, 2, 3), (4, 3, 5)),
    ((1, 2, 3), (6, 3, 2)),
    ((2, 1, 4, 3), (1, 5, 3, 2)),
    ((2, 3, 4, 3), (3,)),
    ((3,), (2, 2, 3, 1)),
    ((4, 0, 3), (3, 2)),
    ((0, 2, 3), (1, 3, 2)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES, ids=[f"{a}@{b}" for a, b in MATMUL_SHAPES])
def test_matmul_matches_numpy(sa, sb):
    a, b = rand(sa, 6, np.float64), rand(sb, 7, np.float64)
    x, y = torch.tensor(a), torch.tensor(b)
    expected = np.matmul(a, b)
    for out in (x @ y, torch.matmul(x, y), x.matmul(y)):
        assert out.dtype == torch.float64
        check(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("sa,sb", [((5, 3, 2), (5, 3, 4)), ((7, 1, 3, 2), (4, 3, 5))], ids=str)
def test_matmul_of_transposed_batches(sa, sb):
    a, b = rand(sa, 8), rand(sb, 9)
    x = torch.tensor(a).mT  # (..., 2, 3)
    y = torch.tensor(b)
    check(x @ y, np.matmul(a.swapaxes(-1, -2).astype(np.float64), b), rtol=1e-5, atol=1e-5)
    check(x @ y[..., ::2], np.matmul(a.swapaxes(-1, -2).astype(np.float64), b[..., ::2]), rtol=1e-5, atol=1e-5)


def test_matmul_large_batched():
    a, b = rand((8, 40, 60), 10), rand((60, 30), 11)
    check(torch.tensor(a) @ torch.tensor(b), np.matmul(a.astype(np.float64), b), rtol=1e-4, atol=1e-4)


def test_matmul_errors():
    with pytest.raises(RuntimeError, match=re.escape("mat1 and mat2 shapes cannot be multiplied (4x3 and 2x3)")):
        torch.ones(2, 2, 3) @ torch.ones(2, 3)
    with pytest.raises(RuntimeError):
        torch.ones(2, 2, 3) @ torch.ones(2)
    with pytest.raises(RuntimeError):
        torch.ones(2, 2, 3) @ torch.ones(3, 3, 2)
    with pytest.raises(RuntimeError, match=re.escape("inconsistent tensor size, expected tensor [2] and src [3] to "
                                                     "have the same number of elements, but got 2 and 3 elements "
                                                     "respectively")):
        torch.ones(2) @ torch.ones(3)
    with pytest.raises(TypeError):
        torch.ones(2).matmul([1., 2.])


def test_batched_matmul_error_message():
    with pytest.raises(RuntimeError, match=re.escape(
            "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [2, 2].")):
        torch.ones(2, 2, 3) @ torch.ones(2, 2, 3)


# ---- bmm / mv / dot / outer / addmm ---------------------------------------------------------------------------

def test_bmm():
    a, b = rand((4, 2, 3), 12, np.float64), rand((4, 3, 5), 13, np.float64)
    check(torch.bmm(torch.tensor(a), torch.tensor(b)), np.matmul(a, b), rtol=1e-12)
    check(torch.tensor(a).bmm(torch.tensor(b.swapaxes(1, 2).copy()).mT), np.matmul(a, b), rtol=1e-12)
    with pytest.raises(RuntimeError, match="batch1 must be a 3D tensor"):
        torch.ones(2, 3).bmm(torch.ones(2, 3, 3))
    with pytest.raises(RuntimeError, match="batch2 must be a 3D tensor"):
        torch.ones(2, 2, 3).bmm(torch.ones(3, 3))
    with pytest.raises(RuntimeError, match=re.escape("Expected size for first two dimensions of batch2 tensor to be: "
                                                     "[2, 3] but got: [3, 3].")):
        torch.ones(2, 2, 3).bmm(torch.ones(3, 3, 3))


def test_mv_dot_outer():
    m, v, w = rand((4, 3), 14, np.float64), rand((3,), 15, np.float64), rand((4,), 16, np.float64)
    check(torch.mv(torch.tensor(m), torch.tensor(v)), m @ v, rtol=1e-12)
    check(torch.tensor(m.T.copy()).t().mv(torch.tensor(v)), m @ v, rtol=1e-12)
    d = torch.dot(torch.tensor(w), torch.tensor(w))
    assert d.shape == ()
    check(d, w @ w, rtol=1e-12)
    check(torch.tensor(w).dot(torch.tensor(w)), w @ w, rtol=1e-12)
    check(torch.tensor(m)[:, 1].dot(torch.tensor(w)), m[:, 1] @ w, rtol=1e-12)
    check(torch.outer(torch.tensor(w), torch.tensor(v)), np.outer(w, v), rtol=1e-12)
    check(torch.tensor(w).outer(torch.tensor(v)), np.outer(w, v), rtol=1e-12)
    check(torch.ger(torch.tensor(v), torch.tensor(w)), np.outer(v, w), rtol=1e-12)
    assert torch.outer(torch.ones(3), torch.ones(2, dtype=torch.float64)).dtype == torch.float64
    assert torch.dot(torch.tensor([1, 2]), torch.tensor([3, 4])).item() == 11


def test_mv_dot_errors():
    with pytest.raises(RuntimeError, match=re.escape("size mismatch, got input (4), mat (4x3), vec (2)")):
        torch.ones(4, 3).mv(torch.ones(2))
    with pytest.raises(RuntimeError, match="1D tensors expected, but got 2D and 1D tensors"):
        torch.dot(torch.ones(2, 2), torch.ones(2))
    with pytest.raises(RuntimeError, match="inconsistent tensor size"):
        torch.dot(torch.ones(2), torch.ones(3))


def test_dot_dtype_mismatch_message():
    with pytest.raises(RuntimeError, match=re.escape("dot : expected both vectors to have same dtype, but found Long "
                                                     "and Float")):
        torch.ones(3, dtype=torch.int64).dot(torch.ones(3))


@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, 2), (0, 1), (2, 0.25)])
@pytest.mark.parametrize("bias_shape", [(4,), (2, 4), (2, 1), (1, 4)], ids=str)
def test_addmm_matches_numpy(bias_shape, beta, alpha):
    bias, m1, m2 = rand(bias_shape, 17, np.float64), rand((2, 3), 18, np.float64), rand((3, 4), 19, np.float64)
    out = torch.addmm(torch.tensor(bias), torch.tensor(m1), torch.tensor(m2), beta=beta, alpha=alpha)
    check(out, beta * bias + alpha * (m1 @ m2), rtol=1e-12, atol=1e-12)
    out = torch.tensor(bias).addmm(torch.tensor(m1), torch.tensor(m2), beta=beta, alpha=alpha)
    check(out, np.broadcast_to(beta * bias, (2, 4)) + alpha * (m1 @ m2), rtol=1e-12, atol=1e-12)


def test_addmm_shape_error():
    with pytest.raises(RuntimeError, match=re.escape(
            "The expanded size of the tensor (2) must match the existing size (3) at non-singleton dimension 1.  "
            "Target sizes: [2, 2].  Tensor sizes: [3]")):
        torch.addmm(torch.ones(3), torch.ones(2, 3), torch.ones(3, 2))


# ---- dtypes: integer (Numba kernel) and float16 ------------------------------------------------------------------

def test_integer_matmul_is_exact():
    rng = np.random.default_rng(20)
    a, b = rng.integers(-1000, 1000, (6, 5)), rng.integers(-1000, 1000, (5, 7))
    out = torch.tensor(a) @ torch.tensor(b)
    assert out.dtype == torch.int64
    check(out, a @ b)
    check(torch.tensor(a).t().contiguous().t().mm(torch.tensor(b)), a @ b)
    ba, bb = rng.integers(-50, 50, (3, 4, 5)), rng.integers(-50, 50, (5, 2))
    check(torch.tensor(ba) @ torch.tensor(bb), ba @ bb)
    check(torch.tensor(ba) @ torch.tensor(bb[:, 0]), ba @ bb[:, 0])
    big = (torch.tensor([[2 ** 40]]) @ torch.tensor([[3]])).item()
    assert big == 3 * 2 ** 40
    check(torch.bmm(torch.tensor(ba), torch.tensor(ba).mT), np.matmul(ba, ba.swapaxes(1, 2)))


def test_int32_matmul_keeps_dtype():
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    out = torch.tensor(a) @ torch.tensor(a.T.copy())
    assert out.dtype == torch.int32
    check(out, a @ a.T)


def test_float16_matmul():
    a, b = rand((4, 8), 21, np.float16), rand((8, 3), 22, np.float16)
    out = torch.tensor(a) @ torch.tensor(b)
    assert out.dtype == torch.float16
    check(out, a.astype(np.float64) @ b.astype(np.float64), rtol=1e-2, atol=1e-2)
    v = torch.tensor(b[:, 0]) @ torch.tensor(b[:, 1])
    assert v.dtype == torch.float16 and v.shape == ()


# ---- gradients --------------------------------------------------------------------------------------------------

GRADS = {
    "mm": (lambda a, b: a.mm(b), (3, 4), (4, 2)),
    "mm_transposed": (lambda a, b: a.t().mm(b.t()), (4, 3), (2, 4)),
    "dot": (lambda a, b: a.dot(b), (4,), (4,)),
    "mv": (lambda a, b: a.mv(b), (3, 4), (4,)),
    "vec_mat": (lambda a, b: a @ b, (4,), (4, 3)),
    "mat_vec": (lambda a, b: a @ b, (3, 4), (4,)),
    "batched_vec": (lambda a, b: a @ b, (2, 3, 4), (4,)),
    "vec_batched": (lambda a, b: a @ b, (3,), (2, 3, 4)),
    "batched_mat": (lambda a, b: a @ b, (2, 3, 4), (4, 2)),
    "mat_batched": (lambda a, b: a @ b, (3, 4), (2, 4, 2)),
    "batched_broadcast": (lambda a, b: a @ b, (3, 1, 2, 3), (2, 3, 2)),
    "batched_same": (lambda a, b: torch.matmul(a, b), (2, 3, 4), (2, 4, 2)),
    "bmm": (lambda a, b: a.bmm(b), (2, 3, 4), (2, 4, 2)),
    "bmm_transposed": (lambda a, b: a.mT.bmm(b), (2, 4, 3), (2, 4, 2)),
    "outer": (lambda a, b: torch.outer(a, b), (3,), (4,)),
}


@pytest.mark.parametrize("name", list(GRADS))
def test_gradcheck_products(name):
    fn, sa, sb = GRADS[name]
    assert gradcheck(fn, (f64(sa, 1), f64(sb, 2)))


@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, -2)])
def test_gradcheck_addmm(beta, alpha):
    bias, m1, m2 = f64((4,), 3), f64((2, 3), 4), f64((3, 4), 5)
    assert gradcheck(lambda i, a, b: torch.addmm(i, a, b, beta=beta, alpha=alpha), (bias, m1, m2))
    bias2 = f64((2, 4), 6)
    assert gradcheck(lambda i, a, b: torch.addmm(i, a, b, beta=beta, alpha=alpha), (bias2, m1, m2))


def test_gradient_only_to_inputs_that_require_it():
    a = torch.ones(2, 3, requires_grad=True)
    b = torch.ones(3, 4)
    (a @ b).sum().backward()
    check(a.grad, np.full((2, 3), 4.))
    assert b.grad is None


def test_broadcast_matmul_gradient_sums_over_batch():
    a = torch.ones(5, 2, 3, requires_grad=True)
    b = torch.ones(3, 4, requires_grad=True)
    (a @ b).sum().backward()
    check(b.grad, np.full((3, 4), 10.))
    check(a.grad, np.full((5, 2, 3), 4.))


MATMUL_NAMES = [
    ("mm", lambda m, a, b, v: a.mm(b), "MmBackward0"),
    ("matmul_2d", lambda m, a, b, v: a @ b, "MmBackward0"),
    ("dot", lambda m, a, b, v: v.dot(v), "DotBackward0"),
    ("matmul_1d", lambda m, a, b, v: v @ v, "DotBackward0"),
    ("mv", lambda m, a, b, v: b.mv(v), "MvBackward0"),
    ("matmul_mv", lambda m, a, b, v: b @ v, "MvBackward0"),
    ("bmm", lambda m, a, b, v: m.stack([a, a]).bmm(m.stack([b, b])), "BmmBackward0"),
    ("batched_2d", lambda m, a, b, v: m.stack([a, a]) @ b, "UnsafeViewBackward0"),
    ("batched_3d", lambda m, a, b, v: m.stack([a, a]) @ m.stack([b, b]), "UnsafeViewBackward0"),
    ("batched_1d", lambda m, a, b, v: m.stack([b, b]) @ v, "UnsafeViewBackward0"),
    ("vec_mat", lambda m, a, b, v: v @ a, "SqueezeBackward4"),
    ("addmm", lambda m, a, b, v: m.addmm(v, b, a), "AddmmBackward0"),
    ("outer", lambda m, a, b, v: m.outer(v, v), "MulBackward0"),
]


@pytest.mark.parametrize("fn,expected", [(f, e) for _, f, e in MATMUL_NAMES], ids=[n for n, _, _ in MATMUL_NAMES])
def test_grad_fn_names(fn, expected):
    a = torch.rand(4, 4, dtype=torch.float64, requires_grad=True)
    b = torch.rand(4, 4, dtype=torch.float64, requires_grad=True)
    v = torch.rand(4, dtype=torch.float64, requires_grad=True)
    assert fn(torch, a, b, v).grad_fn.name() == expected


# ---- live comparisons with PyTorch --------------------------------------------------------------------------------

@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES, ids=[f"{a}@{b}" for a, b in MATMUL_SHAPES])
def test_against_torch_matmul(sa, sb):
    T = pytest.importorskip("torch")
    a, b = rand(sa, 6), rand(sb, 7)
    ours = torch.tensor(a) @ torch.tensor(b)
    theirs = T.tensor(a) @ T.tensor(b)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(npy(ours), theirs.numpy(), rtol=1e-5, atol=1e-5)


def test_against_torch_grad_fn_names():
    T = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = rng.uniform(size=(4, 4)), rng.uniform(size=(4, 4)), rng.uniform(size=4)
    mismatches = []
    for name, fn, _ in MATMUL_NAMES:
        ours = fn(torch, *[torch.tensor(x, requires_grad=True) for x in arrays])
        theirs = fn(T, *[T.tensor(x, requires_grad=True) for x in arrays])
        if ours.grad_fn.name() != theirs.grad_fn.name():
            mismatches.append((name, ours.grad_fn.name(), theirs.grad_fn.name()))
    assert not mismatches


def test_against_torch_errors():
    T = pytest.importorskip("torch")
    fns = [
        lambda m: m.ones(3).mm(m.ones(3, 3)), lambda m: m.ones(3, 3).mm(m.ones(3)),
        lambda m: m.ones(2, 3).mm(m.ones(2, 3)), lambda m: m.ones(2, 3).mm(m.ones(3, 2, dtype=m.float64)),
        lambda m: m.ones(2, 3) @ m.ones(2, 3), lambda m: m.ones(2, 2, 3) @ m.ones(2, 3),
        lambda m: m.ones(2, 2, 3) @ m.ones(2, 2, 3), lambda m: m.ones(2, 2, 3) @ m.ones(2),
        lambda m: m.ones(2) @ m.ones(3), lambda m: m.ones(2, 3).bmm(m.ones(2, 3, 3)),
        lambda m: m.ones(2, 2, 3).bmm(m.ones(3, 3, 3)), lambda m: m.ones(4, 3).mv(m.ones(2)),
        lambda m: m.ones(3).matmul(m.tensor(2.)), lambda m: m.ones(3, dtype=m.int64).dot(m.ones(3)),
        lambda m: m.ones(2, 3, dtype=m.bool).mm(m.ones(3, 2, dtype=m.bool)),
        lambda m: m.addmm(m.ones(3), m.ones(2, 3), m.ones(3, 2)),
    ]
    assert_same_errors(T, fns)


def test_against_torch_dtypes():
    T = pytest.importorskip("torch")
    for dtype in ("int64", "int32", "float16", "float32", "float64"):
        a = np.arange(6).reshape(2, 3).astype(dtype)
        ours = torch.tensor(a) @ torch.tensor(a.T.copy())
        theirs = T.tensor(a) @ T.tensor(a.T.copy())
        assert str(ours.dtype) == str(theirs.dtype)
        np.testing.assert_allclose(npy(ours).astype(np.float64), theirs.numpy().astype(np.float64))


def test_products_leave_numpys_blas_threads_as_they_were():
    """tcli runs BLAS single-threaded inside its own threads and puts the user's setting back after each product,
    serial or split over threads, plain or added into an existing buffer."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from tcli.kernels.cpu import linalg

    if not linalg._get_blas().gemm:
        pytest.skip("numpy has no OpenBLAS here; products use numba loops or numpy's matmul")

    def blas_threads():
        return [lib["num_threads"] for lib in threadpool_info() if lib["internal_api"] == "openblas"]

    rng = np.random.default_rng(7)
    small, big = rng.standard_normal((24, 24)), rng.standard_normal((256, 256))
    for limit in (2, 1):
        with threadpool_limits(limits=limit, user_api="blas"):
            before = blas_threads()
            out = np.zeros((256, 256))
            assert linalg.matmul_add(out, big, big.T)
            np.testing.assert_allclose(out, big @ big.T, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(torch.tensor(small).mm(torch.tensor(small)).numpy(), small @ small, rtol=1e-12)
            assert blas_threads() == before


@pytest.mark.parametrize("name", ["mm", "matmul", "addmm", "bmm", "mv", "dot"])
def test_products_write_into_out(name):
    """out= gets the product (an empty out is resized) and is what is returned; with an argument that requires
    grad, PyTorch's error: out= does not record a gradient."""
    rng = np.random.default_rng(11)
    a, b, v = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(4)
    call, expected = {
        "mm": (lambda x, out: torch.mm(x, torch.tensor(b), out=out), a @ b),
        "matmul": (lambda x, out: torch.matmul(x, torch.tensor(b), out=out), a @ b),
        "addmm": (lambda x, out: torch.addmm(torch.ones(2, dtype=torch.float64), x, torch.tensor(b), out=out),
                  1 + a @ b),
        "bmm": (lambda x, out: torch.bmm(x.unsqueeze(0), torch.tensor(b).unsqueeze(0), out=out), (a @ b)[None]),
        "mv": (lambda x, out: torch.mv(x, torch.tensor(v), out=out), a @ v),
        "dot": (lambda x, out: torch.dot(x[0], torch.tensor(v), out=out), a[0] @ v),
    }[name]
    out = torch.empty(expected.shape, dtype=torch.float64)
    assert call(torch.tensor(a), out) is out
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    empty = torch.empty(0, dtype=torch.float64)
    assert call(torch.tensor(a), empty) is empty and tuple(empty.shape) == expected.shape
    with pytest.raises(RuntimeError, match=rf"^{name}\(\): functions with out=\.\.\. arguments don't support "
                                           "automatic differentiation, but one of the arguments requires grad"):
        call(torch.tensor(a, requires_grad=True), out)
    with torch.no_grad():
        call(torch.tensor(a, requires_grad=True), out)  # nothing to record: allowed


def test_dtype_mismatch_errors_name_the_dtypes_as_pytorch_does():
    """float64 data (numpy's default) into a float32 model is the classic mistake; each op has its own words."""
    d, f = torch.ones(1, 2, dtype=torch.float64), torch.ones(2, 2)
    cases = [
        (lambda: torch.nn.Linear(2, 2)(d), "mat1 and mat2 must have the same dtype, but got Double and Float"),
        (lambda: torch.addmm(torch.ones(2, dtype=torch.float64), torch.ones(1, 2), f),
         "self and mat2 must have the same dtype, but got Double and Float"),
        (lambda: torch.mm(d, f), "expected m1 and m2 to have the same dtype, but got: double != float"),
        (lambda: torch.ones(2, 2, dtype=torch.float64) @ torch.ones(2),
         "addmv input tensors must have the same dtype, but got Float, Double, and Float"),
        (lambda: torch.bmm(d.unsqueeze(0), f.unsqueeze(0)), "expected scalar type Double but found Float"),
    ]
    for call, message in cases:
        with pytest.raises(RuntimeError, match=re.escape(message)) as info:
            call()
        assert "hint:" in str(info.value)

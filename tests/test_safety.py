"""Inputs that used to reach kernels unchecked, and autograd corner cases found in review.

Every case here once crashed, read or wrote outside a buffer, or gave a silently wrong answer.
"""

import numpy as np
import pytest

import tcli

# ---- shapes and strides are checked before any kernel runs -----------------------------------------------


def test_scatter_rejects_an_index_larger_than_src_or_self():
    with pytest.raises(RuntimeError, match="to be no larger than self"):
        tcli.zeros(3).scatter(0, tcli.tensor([0, 1, 2]), tcli.tensor([1.0]))
    with pytest.raises(RuntimeError, match="to be no larger than self"):
        tcli.zeros(2, 2).scatter(0, tcli.zeros(2, 3, dtype=tcli.int64), 1.0)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        tcli.zeros(2, 2).scatter(0, tcli.zeros(2, dtype=tcli.int64), 1.0)
    with pytest.raises(RuntimeError, match="to be no larger than self"):
        tcli.zeros(2, 2).scatter_add(0, tcli.zeros(2, 3, dtype=tcli.int64), tcli.ones(2, 3))


def test_scatter_with_a_smaller_index_still_works():
    out = tcli.zeros(3, 3).scatter(1, tcli.tensor([[2], [0]]), tcli.tensor([[5.0], [7.0]]))
    np.testing.assert_array_equal(out.numpy(), [[0, 0, 5], [7, 0, 0], [0, 0, 0]])


def test_as_strided_rejects_negative_strides_offsets_and_overruns():
    x = tcli.arange(4.0)
    with pytest.raises(RuntimeError, match="Negative strides"):
        x.as_strided((4,), (-1,), 1)
    with pytest.raises(RuntimeError, match="invalid storage offset"):
        x.as_strided((2,), (1,), -1)
    with pytest.raises(RuntimeError, match="out of bounds for the storage"):
        x.as_strided((3,), (2,), 0)


def test_as_strided_has_a_gradient_that_sums_repeated_reads():
    x = tcli.arange(4.0, dtype=tcli.float64, requires_grad=True)
    y = x.as_strided((3, 2), (1, 1))
    assert y.grad_fn.name() == "AsStridedBackward0"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 2, 2, 1])


def test_split_rejects_negative_sizes():
    with pytest.raises(RuntimeError, match="non-negative entries"):
        tcli.arange(3.0).split([5, -2])


def test_tensor_split_with_unordered_indices_takes_each_piece_from_its_bounds():
    pieces = tcli.arange(5.0).tensor_split([3, 1])
    assert [p.tolist() for p in pieces] == [[0.0, 1.0, 2.0], [], [1.0, 2.0, 3.0, 4.0]]


def test_expand_rejects_negative_sizes():
    with pytest.raises(RuntimeError):
        tcli.ones(1).expand(-2)


# ---- writes that overlap their source ------------------------------------------------------------------------


@pytest.mark.parametrize("statement", ["t[1:] = t[:-1]", "t[1:].add_(t[:-1])", "t[:-1].copy_(t[1:])"])
def test_overlapping_contiguous_writes_raise_pytorchs_error(statement):
    t = tcli.arange(5.0)
    with pytest.raises(RuntimeError, match="refer to a single memory location"):
        exec(statement, {"t": t})


def test_writing_into_an_expanded_tensor_raises():
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        tcli.zeros(1).expand(3).add_(tcli.tensor([1.0, 2.0, 3.0]))


@pytest.mark.parametrize("statement, expected", [
    ("t[::2] = t[1::2]", [1, 1, 3, 3, 5, 5]),   # interleaved: no element is both read and written
    ("t[:3] = t[3:]", [3, 4, 5, 3, 4, 5]),      # disjoint halves of one buffer
    ("t[:] = t", [0, 1, 2, 3, 4, 5]),
    ("t.add_(t)", [0, 2, 4, 6, 8, 10]),
])
def test_writes_pytorch_allows_give_its_results(statement, expected):
    t = tcli.arange(6.0)
    exec(statement, {"t": t})
    assert t.tolist() == expected


# ---- numbers out of range -------------------------------------------------------------------------------------


def test_integer_overflow_rules():
    assert (tcli.tensor([1], dtype=tcli.uint8) + 300).tolist() == [45]   # arithmetic wraps, as in PyTorch
    with pytest.raises(RuntimeError, match="Overflow when unpacking long"):
        tcli.tensor([1]) + 2 ** 70
    with pytest.raises(RuntimeError, match="int8_t without overflow"):
        tcli.zeros(1, dtype=tcli.int8).fill_(300)


def test_rejected_inputs():
    with pytest.raises(RuntimeError, match="out of range"):
        tcli.tensor([3.0, 1.0]).kthvalue(0)
    with pytest.raises(RuntimeError, match="non-negative"):
        tcli.bincount(tcli.tensor([-1, 0]))
    with pytest.raises(RuntimeError, match="can not be negative"):
        tcli.tensor([1, 2]).repeat_interleave(tcli.tensor([1, -1]))


def test_median_propagates_nan_and_empty_gives_nan():
    assert np.isnan(tcli.tensor([1.0, float("nan"), 2.0]).median().item())
    assert np.isnan(tcli.tensor([]).median().item())


def test_empty_operand_broadcast_with_a_one_element_view():
    assert (tcli.ones(1)[1:] + tcli.zeros(0)).shape == (0,)


def test_parallel_reduction_never_reads_past_its_input(monkeypatch):
    from tcli.kernels.cpu import _jit
    monkeypatch.setattr(_jit, "PARALLEL_MIN", 8)  # many tiny chunks: the last ones used to be empty
    x = tcli.arange(-30.0, -12.0)
    assert x.max().item() == -13.0 and x.sum().item() == float(np.arange(-30.0, -12.0).sum())


# ---- autograd ---------------------------------------------------------------------------------------------------


def test_other_views_follow_an_in_place_change_to_their_base():
    w = tcli.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    h = (w * 1).view(2, 2)
    h[0].mul_(10)
    h.sum().backward()
    assert w.grad.tolist() == [10.0, 10.0, 1.0, 1.0]

    x = tcli.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = x * 1
    column = b[:, 0]
    b[0].mul_(10)
    column.sum().backward()
    assert x.grad.tolist() == [[10.0, 0.0], [1.0, 0.0]]


def test_hooks_run_before_retain_grad_and_autograd_grad():
    x = tcli.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.register_hook(lambda g: g * 2)
    y.retain_grad()
    y.sum().backward()
    assert y.grad.tolist() == [2.0, 2.0]
    x = tcli.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 2)
    assert tcli.autograd.grad((x * x).sum(), x)[0].tolist() == [4.0, 8.0]


def test_index_add_gives_source_its_gradient():
    s = tcli.tensor([1.0, 2.0], requires_grad=True)
    z = tcli.zeros(3).index_add(0, tcli.tensor([0, 2]), s, alpha=3)
    assert z.requires_grad and z.grad_fn.name() == "IndexAddBackward0"
    (z * tcli.tensor([1.0, 5.0, 7.0])).sum().backward()
    assert s.grad.tolist() == [3.0, 21.0]


def test_cumprod_gradient_with_zeros_is_exact():
    x = tcli.tensor([[2.0, 0.0, 3.0, 4.0], [1.0, 2.0, 0.0, 0.0]], dtype=tcli.float64, requires_grad=True)
    assert tcli.autograd.gradcheck(lambda t: t.cumprod(1), (x,))


def test_zero_dim_softmax_and_cumsum_backward():
    s = tcli.tensor(2.0, requires_grad=True)
    s.softmax(0).backward()
    s.cumsum(0).backward()
    assert s.grad.item() == 1.0


def test_float16_advanced_indexing_and_its_gradient():
    h = tcli.tensor([1.0, 2.0, 3.0], dtype=tcli.float16, requires_grad=True)
    y = h[[0, 0, 2]]
    y.sum().backward()
    assert y.tolist() == [1.0, 1.0, 3.0] and h.grad.tolist() == [2.0, 0.0, 1.0]


def test_a_list_holding_sequences_is_a_tuple_of_indices():
    x = tcli.arange(6).view(2, 3)
    assert x[[[0, 1], [1, 2]]].tolist() == [1, 5]
    assert x[[tcli.tensor(0), tcli.tensor(1)]].item() == 1


def test_version_is_an_int_shared_with_views():
    x = tcli.ones(3)
    v = x[1:]
    v.add_(1)
    assert x._version == 1 and v._version == 1


def test_views_of_read_only_numpy_memory_are_not_dense():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        v = tcli.from_numpy(np.frombuffer(bytes(16), np.float32)).view(-1)
    assert not v._dense
    assert (v + 1).tolist() == [1.0, 1.0, 1.0, 1.0]


# ---- code PyTorch refuses is refused, with PyTorch's error ---------------------------------------------------

def _refusals():
    def augmented(m):
        x = m.ones(2)
        x += [1, 2]

    return [
        lambda m: m.ones(2) + [1, 2], lambda m: m.ones(2) - [1], lambda m: m.ones(2) / [1, 2],
        lambda m: m.ones(2) ** [2], lambda m: m.ones(2) @ [1.0, 2.0], lambda m: m.ones(2) < [1, 2],
        lambda m: m.ones(2, dtype=m.bool) & [True], lambda m: [1, 2] - m.ones(2), augmented,
        lambda m: m.add(m.ones(2), [1, 2]), lambda m: m.mul(m.ones(2), (1, 2)), lambda m: m.ones(2).add_([1, 2]),
        lambda m: m.zeros(2, dtype="float32"), lambda m: m.tensor([1], dtype="int64"),
        lambda m: m.randn(2, dtype="float32"), lambda m: m.ones(2).sum(dtype="float64"),
        lambda m: m.full((2,), [1, 2]), lambda m: m.full_like(m.ones(2), "a"),
        lambda m: m.maximum(2, m.ones(2)), lambda m: m.minimum(m.ones(2), 2),
    ]


def test_lists_as_operands_string_dtypes_and_list_fill_values_are_refused():
    """Each once ran: ``t + [1, 2]`` added the list as a tensor, ``dtype='float32'`` went through numpy,
    ``full((2,), [1, 2])`` leaked numba's TypingError and ``maximum(2, t)`` an AttributeError."""
    for fn in _refusals():
        with pytest.raises(TypeError):
            fn(tcli)
    with pytest.raises(TypeError, match=r"^unsupported operand type\(s\) for \+=: 'Tensor' and 'list'$"):
        _refusals()[8](tcli)
    with pytest.raises(TypeError, match=r"zeros\(\): argument 'dtype' must be torch.dtype, not str\nhint: .*float32"):
        tcli.zeros(2, dtype="float32")
    with pytest.raises(TypeError, match=r"full\(\): argument 'fill_value' \(position 2\) must be Number, not list"):
        tcli.full((2,), [1, 2])
    # what stays allowed: numpy arrays as operands, numbers and one-element tensors as fill values
    assert (tcli.ones(2) + np.array([1.0, 2.0])).tolist() == [2.0, 3.0]
    assert tcli.full((2,), tcli.tensor(3.0)).tolist() == [3.0, 3.0] and tcli.full((1,), np.int64(4)).tolist() == [4]
    assert (tcli.ones(2) == [1, 2]) is False  # Python's fallback comparison, as for torch.Tensor


def test_refusals_match_pytorchs_errors():
    torch = pytest.importorskip("torch")
    from helpers import assert_same_errors
    # randn/sum with a string dtype: PyTorch's overloads answer "received an invalid combination of arguments"
    assert_same_errors(torch, [fn for i, fn in enumerate(_refusals()) if i not in (14, 15)])


# ---- found by the second differential sweep ------------------------------------------------------------------

def test_an_empty_dim_list_reduces_every_dim_as_in_pytorch():
    """sum(dim=()) once returned its input: generic code (dims = tuple(range(1, x.dim()))) on 1-d input then
    computed a vector norm of the wrong thing. all/any keep PyTorch's other rule: nothing is reduced."""
    x = tcli.tensor([[3.0, 4.0], [1.0, 2.0]])
    for dims in ((), []):
        assert x.sum(dim=dims).item() == 10.0 and x.mean(dim=dims).item() == 2.5
        assert x.amax(dim=dims).item() == 4.0 and x.amin(dim=dims).item() == 1.0
        np.testing.assert_allclose(x.std(dim=dims).item(), np.std([3, 4, 1, 2], ddof=1), rtol=1e-6)
        assert x.all(dim=dims).shape == (2, 2) and x.any(dim=dims).shape == (2, 2)
    v = tcli.tensor([3.0, 4.0])
    assert v.pow(2).sum(dim=tuple(range(1, v.dim()))).sqrt().item() == 5.0


def test_integer_powers_with_a_negative_tensor_exponent_truncate():
    """0 ** tensor(-1) came out as the most negative int64 (1 / 0 cast); PyTorch truncates: 0 unless |base| is 1."""
    base = tcli.tensor([0, 1, -1, 2, -2, 3])
    assert (base ** tcli.tensor(-1)).tolist() == [0, 1, -1, 0, 0, 0]
    assert (base ** tcli.tensor(-2)).tolist() == [0, 1, 1, 0, 0, 0]
    assert (tcli.tensor(-1) ** tcli.tensor([0, 1, 2, -3])).tolist() == [1, -1, 1, -1]
    assert (tcli.tensor([True, False]) ** tcli.tensor(-2)).tolist() == [1, 0]


def test_round_with_decimals_rounds_in_the_tensors_dtype():
    """PyTorch scales in float32 for a float32 tensor (0.35 * 10 is 3.5 there, so it rounds to 0.4); tcli scaled
    in float64. Negative decimals divide first."""
    x = tcli.tensor([0.35, 2.675, 0.015, 1234.5, -1350.0])
    assert x.round(decimals=1).tolist() == pytest.approx([0.4, 2.7, 0.0, 1234.5, -1350.0])
    assert x.round(decimals=2).tolist() == pytest.approx([0.35, 2.68, 0.02, 1234.5, -1350.0])
    assert x.round(decimals=-2).tolist() == [0.0, 0.0, 0.0, 1200.0, -1400.0]
    grid = np.round(np.arange(-2, 2, 0.005), 3).astype(np.float32)
    scaled = np.rint(grid * np.float32(100)) / np.float32(100)  # numpy in float32 throughout: PyTorch's formula
    np.testing.assert_array_equal(tcli.tensor(grid).round(decimals=2).numpy(), scaled.astype(np.float32))


def test_an_index_out_of_range_names_its_position_in_the_key():
    x = tcli.zeros(2, 3, 4)
    for key, message in (((0, 5), "index 5 is out of bounds for dimension 1 with size 3"),
                         ((1, 2, 4), "index 4 is out of bounds for dimension 2 with size 4"),
                         ((None, 1, 5), "index 5 is out of bounds for dimension 2 with size 3"),
                         ((Ellipsis, 7), "index 7 is out of bounds for dimension 1 with size 4"),
                         ((slice(None), 0, 9), "index 9 is out of bounds for dimension 2 with size 4")):
        with pytest.raises(IndexError, match=f"^{message}"):
            x[key]
    with pytest.raises(IndexError, match="^index 3 is out of bounds for dimension 1 with size 3"):
        x[0, 3] = 1.0


def test_log_softmax_keeps_its_digits_for_large_logits():
    """(x - max) - log(sum), as PyTorch rounds it; x - (max + log(sum)) lost log(sum)'s digits at 1e4."""
    logits = tcli.tensor([[1e4, 1e4 + 1.0]])
    np.testing.assert_allclose(logits.log_softmax(1).numpy(), [[-1.3132616, -0.31326166]], rtol=1e-7)
    np.testing.assert_allclose(logits.t().log_softmax(0).t().numpy(), [[-1.3132616, -0.31326166]], rtol=1e-7)
    assert tcli.nn.functional.cross_entropy(logits, tcli.tensor([0])).item() == pytest.approx(1.3132616, rel=1e-7)


def test_one_samples_scores_take_a_one_element_target():
    scores = tcli.tensor([2.0, 1.0, 0.1])
    want = tcli.nn.functional.cross_entropy(scores, tcli.tensor(0)).item()
    assert tcli.nn.functional.cross_entropy(scores, tcli.tensor([0])).item() == want
    assert tcli.nn.CrossEntropyLoss()(scores, tcli.tensor([0])).item() == want
    assert tcli.nn.functional.nll_loss(scores.log_softmax(0), tcli.tensor([0])).item() == pytest.approx(want)
    with pytest.raises(ValueError, match="^For 1D input, 1D target must have size 1, but got target size: 2"):
        tcli.nn.functional.cross_entropy(scores, tcli.tensor([0, 1]))


def test_numbers_and_lists_where_a_tensor_belongs_get_pytorchs_type_error():
    F = tcli.nn.functional
    for call, message in ((lambda: tcli.exp(1.0), "exp(): argument 'input' (position 1) must be Tensor, not float"),
                          (lambda: tcli.sum([1, 2]), "sum(): argument 'input' (position 1) must be Tensor, not list"),
                          (lambda: F.relu([1.0]), "relu(): argument 'input' (position 1) must be Tensor, not list"),
                          (lambda: tcli.stack([1, 2]), "expected Tensor as element 0 in argument 0, but got int"),
                          (lambda: tcli.nn.Linear(2, 1)([1.0, 2.0]), "linear(): argument 'input' (position 1)"),
                          (lambda: F.embedding([0, 1], tcli.ones(3, 2)), "embedding(): argument 'indices'"),
                          (lambda: F.cross_entropy(tcli.ones(2, 3), [0, 1]), "cross_entropy_loss(): argument")):
        with pytest.raises(TypeError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
            call()


def test_linspace_rounds_as_pytorchs_float32_kernel():
    """A float32 step and one rounding per value: linspace(-1, 1, 11) has -1.49e-08 in the middle, as PyTorch
    prints it (tcli printed 0.0000); arange(-1, 1, 0.2) has 5.55e-17 (one fused multiply-add in float64)."""
    got = tcli.linspace(-1, 1, 11).numpy()
    step = np.float32(np.float32(2) / np.float32(10))
    i = np.arange(11)
    want = np.where(i < 5, -1 + i * np.float64(step), 1 - (10 - i) * np.float64(step)).astype(np.float32)
    np.testing.assert_array_equal(got, want)
    assert got[5] != 0 and "-1.4901e-08" in str(tcli.linspace(-1, 1, 11))
    assert tcli.arange(-1, 1, 0.2)[5].item() == pytest.approx(5.551115123125783e-17, rel=1e-6)


def test_sweep_fixes_match_pytorch():
    torch = pytest.importorskip("torch")
    for lib_call in (lambda m: m.linspace(-3.7, 2.2, 50), lambda m: m.linspace(0, 10, 101),
                     lambda m: m.tensor([0.35, 2.675, 0.015]).round(decimals=1),
                     lambda m: m.tensor([[1e4, 1e4 + 1.0, 9999.5]]).log_softmax(1),
                     lambda m: m.tensor([0, 1, -1, 2]) ** m.tensor(-1),
                     lambda m: m.tensor([[3.0, 4.0]]).norm(dim=())):
        np.testing.assert_array_equal(lib_call(tcli).numpy(), lib_call(torch).numpy())


def test_a_zero_dim_tensor_is_one_element_along_dim_0():
    """topk/kthvalue/median(dim)/flip/index_select/movedim on a 0-d tensor crashed with 'tuple index out of
    range'; PyTorch treats it as one element along dim 0 (or -1)."""
    x = tcli.tensor(2.0)
    for result in (x.topk(1), x.kthvalue(1), x.median(0), x.median(-1)):
        assert result.values.shape == () and result.values.item() == 2.0 and result.indices.item() == 0
    assert x.flip(0).item() == 2.0 and x.movedim(0, 0).item() == 2.0
    assert x.index_select(0, tcli.tensor([0])).shape == () and x.index_select(0, tcli.tensor([0])).item() == 2.0
    with pytest.raises(IndexError):
        x.topk(1, dim=1)
    for call, message in ((lambda: x.chunk(1), "chunk expects at least a 1-dimensional tensor"),
                          (lambda: x.split(1), "split expects at least a 1-dimensional tensor"),
                          (lambda: x.narrow(0, 0, 1), "narrow\\(\\) cannot be applied to a 0-dim tensor.")):
        with pytest.raises(RuntimeError, match="^" + message):
            call()
    with pytest.raises(TypeError, match="permute\\(\\) missing 1 required positional arguments"):
        x.permute()


def test_masked_fill_broadcasts_its_input_and_in_place_ops_cannot_grow():
    x = tcli.zeros(3, requires_grad=True)
    mask = tcli.tensor([[True, False, False], [False, True, False]])
    y = x.masked_fill(mask, 1.0)  # (3,) with a (2, 3) mask: (2, 3), as in PyTorch
    assert y.tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    (y * tcli.arange(6.0).view(2, 3)).sum().backward()
    assert x.grad.tolist() == [3.0, 1.0, 7.0]
    with pytest.raises(RuntimeError, match=r"^output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"):
        tcli.zeros(3).masked_fill_(mask, 1.0)
    with pytest.raises(RuntimeError, match=r"^The size of tensor a \(2\) must match the size of tensor b \(3\) "
                                           r"at non-singleton dimension 1"):
        tcli.zeros(2, 3).masked_fill(tcli.zeros(3, 2, dtype=tcli.bool), 1.0)
    with pytest.raises(RuntimeError, match=r"^The expanded size of the tensor \(2\) must match the existing size "
                                           r"\(3\) at non-singleton dimension 1"):
        tcli.ones(2, 3).expand_as(tcli.ones(3, 2))


def test_copy_copy_shares_memory_and_bad_data_gets_pytorchs_errors():
    import copy
    a = tcli.tensor([1.0, 2.0], requires_grad=True)
    b = copy.copy(a)
    assert b.requires_grad and b.is_leaf
    with tcli.no_grad():
        b[0] = 9.0
    assert a.tolist() == [9.0, 2.0]
    with pytest.raises(RuntimeError, match="^Could not infer dtype of NoneType"):
        tcli.tensor(None)
    with pytest.raises(ValueError, match="^too many dimensions 'str'"):
        tcli.tensor(["a"])
    with pytest.raises(RuntimeError, match="^Only Tensors of floating point and complex dtype can require"):
        tcli.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="^only Tensors of floating point dtype can require gradients"):
        tcli.tensor([1, 2]).requires_grad_()
    with pytest.raises(ValueError, match="^slice step cannot be zero"):
        tcli.ones(3)[::0]


def test_zero_dim_and_message_fixes_match_pytorch():
    torch = pytest.importorskip("torch")
    from helpers import assert_same_errors
    assert_same_errors(torch, [
        lambda m: m.tensor(2.0).chunk(1), lambda m: m.tensor(2.0).split(1), lambda m: m.tensor(2.0).narrow(0, 0, 1),
        lambda m: m.zeros(3).masked_fill_(m.zeros(2, 3, dtype=m.bool), 1.0),
        lambda m: m.ones(2, 3).expand_as(m.ones(3, 2)), lambda m: m.tensor(None), lambda m: m.tensor(["a"]),
        lambda m: m.tensor([1, 2], requires_grad=True), lambda m: m.tensor([1, 2]).requires_grad_(),
        lambda m: m.ones(3)[::0], lambda m: m.tensor([1, 2]).std(), lambda m: m.zeros(2, 3)[0, 5],
    ])


def test_a_loss_module_given_the_tensors_says_to_make_it_first():
    with pytest.raises(RuntimeError, match="^Boolean value of Tensor with more than one value is ambiguous\n"
                                           "hint: a loss module is made first"):
        tcli.nn.MSELoss(tcli.ones(3), tcli.ones(3))

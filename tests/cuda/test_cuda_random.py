"""Random numbers drawn on the device: Philox4x32-10 (Random123's known answers), PyTorch's CUDA layout of the
draws and offsets (checked against a numpy model of the scheme below), the CUDA generator's API, and the
distributions' ranges and moments."""

import contextlib

import numpy as np
import pytest
from numba import cuda

import tcli
import tcli.nn.functional as F
from tcli.kernels.cuda import random as R

CUDA = tcli.device("cuda", 0)


# ---- a numpy model of the scheme ---------------------------------------------------------------------------

def philox(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 over uint64 arrays holding 32-bit words (Salmon et al. 2011)."""
    mask = np.uint64(0xFFFFFFFF)
    c0, c1, c2, c3 = (np.asarray(c, np.uint64) for c in (c0, c1, c2, c3))
    k0, k1 = np.uint64(k0), np.uint64(k1)
    for _ in range(10):
        p0, p1 = np.uint64(0xD2511F53) * c0, np.uint64(0xCD9E8D57) * c2
        c0, c1, c2, c3 = (p1 >> np.uint64(32)) ^ c1 ^ k0, p1 & mask, (p0 >> np.uint64(32)) ^ c3 ^ k1, p0 & mask
        k0, k1 = (k0 + np.uint64(0x9E3779B9)) & mask, (k1 + np.uint64(0xBB67AE85)) & mask
    return np.stack([c0, c1, c2, c3])


def words(n, seed, offset, unroll, blocks):
    """For each of n elements, the four words of the Philox step it comes from and its place (0..unroll-1) in it,
    as PyTorch's grid-stride distribution kernel lays them out; and the offset increment."""
    threads = min(blocks, -(-n // 256)) * 256
    e = np.arange(n)
    step, place = divmod(e // threads, unroll)
    counter = np.uint64(offset // 4) + step.astype(np.uint64)
    thread = (e % threads).astype(np.uint64)
    w = philox(counter & np.uint64(0xFFFFFFFF), counter >> np.uint64(32), thread, np.zeros(n, np.uint64),
               seed & 0xFFFFFFFF, seed >> 32)
    return w, place, ((n - 1) // (threads * unroll) + 1) * 4


def uniform_f32(w):
    return w.astype(np.float32) * np.float32(2.0 ** -32) + np.float32(2.0 ** -33)


def uniform_f64(lo, hi):
    return (lo ^ (hi << np.uint64(21))).astype(np.float64) * 2.0 ** -53 + 2.0 ** -54


def model_rand_f32(n, seed, offset, blocks):
    w, place, step = words(n, seed, offset, 4, blocks)
    return uniform_f32(w[place, np.arange(n)]), step


def model_randn_f32(n, seed, offset, blocks):
    w, place, step = words(n, seed, offset, 4, blocks)
    cols = np.arange(n)
    first = 2 * (place // 2)  # places 0, 1 come from words 0, 1; places 2, 3 from words 2, 3
    u = uniform_f32(w[first, cols])
    v = w[first + 1, cols].astype(np.float32) * np.float32(np.float32(2.0 ** -32) * np.float32(2 * np.pi))
    v = (v + np.float32(np.float32(2.0 ** -32) * np.float32(2 * np.pi)) / np.float32(2)).astype(np.float32)
    s = np.sqrt(np.float32(-2.0) * np.log(u))
    return np.where(place % 2 == 0, np.sin(v) * s, np.cos(v) * s), step


def model_rand_f64(n, seed, offset, blocks):
    w, place, step = words(n, seed, offset, 2, blocks)
    cols = np.arange(n)
    return uniform_f64(w[2 * place, cols], w[2 * place + 1, cols]), step


def model_randint(n, seed, offset, blocks, low, high, wide=None):
    """random_(low, high) (64-bit words from a range of 2**28 on); random_() passes wide for its dtype."""
    span = high - low
    wide = span >= 1 << 28 if wide is None else wide
    w, place, step = words(n, seed, offset, 2 if wide else 4, blocks)
    cols = np.arange(n)
    if wide:
        draws = (w[2 * place, cols] << np.uint64(32)) | w[2 * place + 1, cols]
    else:
        draws = w[place, cols]
    return [int(d) % span + low for d in draws], step


@contextlib.contextmanager
def resident_blocks(count):
    """Pretend the GPU keeps ``count`` blocks resident, so that small draws take several steps per thread."""
    saved = list(R._resident)
    R._resident[:] = [count]
    try:
        yield
    finally:
        R._resident[:] = saved


# ---- Philox itself -------------------------------------------------------------------------------------------

@cuda.jit
def _philox_kernel(out, c, k):
    if cuda.grid(1) == 0:
        x0, x1, x2, x3 = R._philox(c[0], c[1], c[2], c[3], k[0], k[1])
        out[0], out[1], out[2], out[3] = x0, x1, x2, x3


@pytest.mark.parametrize("counter, key, expected", [  # Random123's kat_vectors for philox4x32-10
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
])
def test_philox_known_answers(counter, key, expected):
    out = cuda.device_array(4, np.uint64)
    _philox_kernel[1, 32](out, cuda.to_device(np.array(counter, np.uint64)), cuda.to_device(np.array(key, np.uint64)))
    assert [int(v) for v in out.copy_to_host()] == list(expected)
    assert [int(v) for v in philox(*[np.array([c], np.uint64) for c in counter], *key)[:, 0]] == list(expected)


# ---- the layout of draws: PyTorch's -------------------------------------------------------------------------

@pytest.mark.parametrize("blocks", [R.scheme_blocks(), 2], ids=["one-step", "several-steps"])
def test_rand_randn_and_randint_follow_pytorchs_layout(blocks):
    n, seed = 3000, 2024
    with resident_blocks(blocks):
        tcli.cuda.manual_seed(seed)
        got_rand = tcli.rand(n, device="cuda").cpu().numpy()
        got_randn = tcli.randn(n, device="cuda").cpu().numpy()
        got_int = tcli.randint(-3, 50, (n,), device="cuda").cpu().tolist()
        got_f64 = tcli.rand(n, dtype=tcli.float64, device="cuda").cpu().numpy()
        end = tcli.cuda.get_rng_state()
    want_rand, s1 = model_rand_f32(n, seed, 0, blocks)
    want_randn, s2 = model_randn_f32(n, seed, s1, blocks)
    want_int, s3 = model_randint(n, seed, s1 + s2, blocks, -3, 50)
    want_f64, s4 = model_rand_f64(n, seed, s1 + s2 + s3, blocks)
    np.testing.assert_array_equal(got_rand, want_rand)  # u = w * 2**-32 + 2**-33 is exact in float32
    np.testing.assert_allclose(got_randn, want_randn, rtol=1e-5, atol=2e-5)  # the GPU's sin.approx/cos.approx
    assert got_int == want_int
    np.testing.assert_array_equal(got_f64, want_f64)
    assert end.numpy().view(np.uint64).tolist() == [seed, s1 + s2 + s3 + s4]
    if blocks == 2:
        assert s1 == 4 * 2 and s4 == 4 * 3  # 512 threads: two steps of four floats, three of two doubles


def test_random_and_exponential_follow_pytorchs_layout():
    blocks = R.scheme_blocks()
    tcli.cuda.manual_seed(9)
    full = tcli.empty(600, dtype=tcli.int32, device="cuda").random_().cpu().tolist()
    up_to = tcli.empty(600, dtype=tcli.int64, device="cuda").random_(7).cpu().tolist()
    between = tcli.empty(600, dtype=tcli.float32, device="cuda").random_(-4, 4).cpu().tolist()
    rate = tcli.empty(600, device="cuda").exponential_(2.0).cpu().numpy()
    want_full, s1 = model_randint(600, 9, 0, blocks, 0, 2**31, wide=False)  # int32: a 32-bit word modulo 2**31
    want_up_to, s2 = model_randint(600, 9, s1, blocks, 0, 7)
    want_between, s3 = model_randint(600, 9, s1 + s2, blocks, -4, 4)
    u, _ = model_rand_f32(600, 9, s1 + s2 + s3, blocks)
    assert full == want_full and up_to == want_up_to and between == [float(v) for v in want_between]
    clamped = np.where(u >= np.float32(1 - 2.0 ** -24), np.float32(-(2.0 ** -24)), np.log(u))  # never a 0 draw
    # The GPU's log is __logf, as PyTorch's (test_draws_are_pytorchs_bit_for_bit): within 2**-21.41 of log u on
    # [0.5, 2] (CUDA's programming guide), so near u = 1 the bound is absolute, times the rate's 0.5.
    np.testing.assert_allclose(rate, np.float32(-0.5) * clamped, rtol=1e-6, atol=0.5 * 2**-21.41)
    int64_full = tcli.empty(300, dtype=tcli.int64, device="cuda").random_().cpu().numpy()
    assert int64_full.min() >= 0 and int64_full.max() > 2**40  # 64-bit draws modulo 2**63
    with pytest.raises(RuntimeError, match="exponential_ expects lambda > 0.0, but found lambda=0"):
        tcli.empty(3, device="cuda").exponential_(0.0)


@pytest.mark.parametrize("n", [10, 100_003])
def test_draws_are_pytorchs_bit_for_bit(n):
    """After the same manual_seed, each draw of a sequence (so the offsets advance alike) gives PyTorch's CUDA
    numbers exactly. Needs a GPU and a CUDA build of PyTorch; the model tests above cover the simulator."""
    torch = pytest.importorskip("torch")
    if R.SIMULATOR or not torch.cuda.is_available():
        pytest.skip("needs a GPU and PyTorch built for CUDA")

    def draws(lib):
        return [lambda: lib.rand(n, device="cuda"), lambda: lib.randn(n, device="cuda"),
                lambda: lib.randn(n, device="cuda", dtype=lib.float64),
                lambda: lib.randint(-3, 100, (n,), device="cuda"), lambda: lib.randint(0, 2**40, (n,), device="cuda"),
                lambda: lib.empty(n, device="cuda").uniform_(-2, 3), lambda: lib.empty(n, device="cuda").normal_(1, 2),
                lambda: lib.empty(n, device="cuda").exponential_(1.5),
                lambda: lib.empty(n, device="cuda", dtype=lib.float64).exponential_(0.5),
                lambda: lib.empty(n, device="cuda").bernoulli_(0.3),
                lambda: lib.empty(n, device="cuda", dtype=lib.int32).random_(0, 7)]

    torch.manual_seed(3)
    tcli.manual_seed(3)
    for number, (ours, theirs) in enumerate(zip(draws(tcli), draws(torch))):
        np.testing.assert_array_equal(ours().cpu().numpy(), theirs().cpu().numpy(), err_msg=f"draw {number}")


def test_float64_normals_and_bernoulli_follow_pytorchs_layout():
    blocks = R.scheme_blocks()
    tcli.cuda.manual_seed(21)
    z = tcli.randn(500, dtype=tcli.float64, device="cuda").cpu().numpy()
    coins = tcli.bernoulli(tcli.zeros(500, device="cuda"), 0.25).cpu().numpy()
    w, place, s1 = words(500, 21, 0, 2, blocks)
    cols = np.arange(500)
    u = uniform_f64(w[0, cols], w[1, cols])  # one Box-Muller pair per step: words 0, 1 radius, 2, 3 angle
    v = (w[2, cols] ^ (w[3, cols] << np.uint64(21))).astype(np.float64) * 2.0 ** -52 + 2.0 ** -53
    s = np.sqrt(-2.0 * np.log(u))
    np.testing.assert_allclose(z, np.where(place == 0, np.sin(np.pi * v) * s, np.cos(np.pi * v) * s), rtol=1e-12,
                               atol=1e-12)
    u32, _ = model_rand_f32(500, 21, s1, blocks)
    np.testing.assert_array_equal(coins, (u32 < np.float32(0.25)).astype(np.float32))


def test_strided_tensors_are_filled_in_memory_order():
    for fill in (lambda t: t.normal_(), lambda t: t.uniform_(), lambda t: t.random_(0, 50)):
        tcli.cuda.manual_seed(6)
        transposed = fill(tcli.empty(4, 70, device="cuda").t())
        tcli.cuda.manual_seed(6)
        assert transposed.t().cpu().tolist() == fill(tcli.empty(4, 70, device="cuda")).cpu().tolist()


def test_wide_randint_ranges_take_64_bit_draws():
    tcli.cuda.manual_seed(5)
    low, high = -(1 << 40), 1 << 40
    got = tcli.randint(low, high, (300,), device="cuda").cpu().tolist()
    want, _ = model_randint(300, 5, 0, R.scheme_blocks(), low, high)
    assert got == want and min(got) < 0 < max(got)


def test_uniform_bounds_scale_and_wrap():
    tcli.cuda.manual_seed(3)
    t = tcli.empty(4000, device="cuda").uniform_(-2.0, 3.0)
    values = t.cpu().numpy()
    want, _ = model_rand_f32(4000, 3, 0, R.scheme_blocks())
    np.testing.assert_allclose(values, want * np.float32(5) + np.float32(-2), rtol=1e-6, atol=1e-6)
    assert values.min() >= -2.0 and values.max() < 3.0
    half = tcli.rand(2000, dtype=tcli.float16, device="cuda").cpu().numpy()
    assert half.dtype == np.float16 and half.min() >= 0 and half.max() < 1  # 1.0 after rounding wraps to 0


# ---- the generator's API -------------------------------------------------------------------------------------

def test_seeding_and_state_round_trips():
    tcli.manual_seed(11)  # seeds the CPU generator and the CUDA one, as torch.manual_seed does
    first = tcli.randn(50, device="cuda").cpu().tolist()
    assert tcli.cuda.initial_seed() == 11
    state = tcli.cuda.get_rng_state()
    assert state.dtype is tcli.uint8 and state.shape == (16,)
    second = tcli.randn(50, device="cuda").cpu().tolist()
    assert second != first
    tcli.cuda.set_rng_state(state)
    assert tcli.randn(50, device="cuda").cpu().tolist() == second
    tcli.cuda.manual_seed(11)
    assert tcli.randn(50, device="cuda").cpu().tolist() == first
    cpu_before = tcli.get_rng_state()
    tcli.cuda.manual_seed_all(12)  # the CUDA generator only
    assert tcli.get_rng_state().tolist() == cpu_before.tolist()
    with pytest.raises(RuntimeError, match="RNG state is wrong size"):
        tcli.cuda.set_rng_state(tcli.zeros(3, dtype=tcli.uint8))


def test_state_sizes_and_offsets_as_pytorch_takes_them():
    g = tcli.Generator(device="cuda")
    g.set_state(tcli.tensor(np.array([77], np.uint64).view(np.uint8)))  # a seed alone: offset 0
    assert g.initial_seed() == 77 and g.get_state().numpy().view(np.uint64).tolist() == [77, 0]
    with pytest.raises(RuntimeError, match="offset must be a multiple of 4"):
        g.set_state(tcli.tensor(np.array([77, 6], np.uint64).view(np.uint8)))
    with pytest.raises(RuntimeError, match="RNG state is wrong size"):
        g.set_state(tcli.zeros(12, dtype=tcli.uint8))
    with pytest.raises(TypeError, match="RNG state must be a torch.ByteTensor"):
        g.set_state(tcli.zeros(16, dtype=tcli.uint8, device="cuda"))


def test_per_element_bernoulli_compares_device_draws_with_each_probability():
    tcli.cuda.manual_seed(3)
    p = tcli.tensor([0.0, 1.0, 0.25, 0.5, 0.75, 1.0, 0.0, 0.5], device="cuda")
    got = tcli.bernoulli(p)
    u, _ = model_rand_f32(8, 3, 0, R.scheme_blocks())
    assert got.dtype is tcli.float32 and got.cpu().tolist() == [float(a < b) for a, b in zip(u, p.cpu().tolist())]
    again = tcli.bernoulli(p, generator=tcli.Generator(device="cuda").manual_seed(3))
    assert again.cpu().tolist() == got.cpu().tolist()
    in_place = tcli.empty(8, device="cuda").bernoulli_(p).cpu().tolist()  # the in-place form too
    assert [in_place[i] for i in (0, 1, 5, 6)] == [0.0, 1.0, 1.0, 0.0]
    with pytest.raises(RuntimeError, match="Expected p_in >= 0 && p_in <= 1"):
        tcli.bernoulli(tcli.tensor([0.5, 1.5], device="cuda"))


@pytest.mark.parametrize("n", [0, 1, 37, 300])
def test_randperm_orders_random_keys_on_the_device(n):
    """randperm on the device: the stable order of n 63-bit Philox draws, so it follows the CUDA generator."""
    import warnings

    from tcli.kernels.cuda.fallback import HostFallbackWarning
    tcli.cuda.manual_seed(11)
    with warnings.catch_warnings():
        warnings.simplefilter("error", HostFallbackWarning)
        got = tcli.randperm(n, device="cuda")
        again = tcli.randperm(n, device="cuda", generator=tcli.Generator(device="cuda").manual_seed(11))
    keys, _ = model_randint(n, 11, 0, R.scheme_blocks(), 0, 1 << 63, wide=True) if n else ([], 0)
    assert got.device.type == "cuda" and got.dtype is tcli.int64
    assert got.cpu().tolist() == again.cpu().tolist() == np.argsort(np.array(keys, np.uint64), kind="stable").tolist()
    assert tcli.randperm(n, device="cuda", dtype=tcli.int32).dtype is tcli.int32
    with pytest.raises(RuntimeError, match="Expected a 'cuda' device type for generator but found 'cpu'"):
        tcli.randperm(4, device="cuda", generator=tcli.Generator())


def test_multinomial_samples_on_the_device():
    """With replacement: the first category whose normalised cumulative probability reaches a uniform draw, never
    one of probability 0; without: PyTorch's Gumbel top-k. Both follow the CUDA generator; bad rows raise
    PyTorch's errors."""
    import warnings

    from tcli.kernels.cuda.fallback import HostFallbackWarning
    probs = tcli.tensor([[0.0, 1.0, 0.0, 3.0, 0.0], [2.0, 0.0, 0.0, 0.0, 2.0], [0.0, 0.0, 5.0, 0.0, 0.0]])
    tcli.cuda.manual_seed(5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", HostFallbackWarning)
        with_replacement = tcli.multinomial(probs.cuda(), 400, replacement=True)
        unique = tcli.multinomial(probs[:2].cuda().double(), 2)
    assert with_replacement.device.type == "cuda" and with_replacement.shape == (3, 400)
    counts = [np.bincount(row, minlength=5).tolist() for row in with_replacement.cpu().numpy()]
    assert counts[0][0] == counts[0][2] == counts[0][4] == 0 and 60 < counts[0][1] < 140  # 100 expected
    assert counts[1][1:4] == [0, 0, 0] and 150 < counts[1][0] < 250 and counts[2] == [0, 0, 400, 0, 0]
    u = np.array(model_rand_f32(3 * 400, 5, 0, R.scheme_blocks())[0]).reshape(3, 400)
    cdf = np.cumsum(probs.numpy(), 1, dtype=np.float32)
    cdf /= cdf[:, -1:]
    assert with_replacement[0].cpu().tolist() == [int(np.searchsorted(cdf[0], v)) for v in u[0]]
    assert unique.cpu().sort(1).values.tolist() == [[1, 3], [0, 4]]
    tcli.cuda.manual_seed(5)
    assert tcli.multinomial(probs.cuda(), 400, replacement=True).cpu().tolist() == with_replacement.cpu().tolist()
    for bad, message in [([[1.0, -1.0]], "element < 0"), ([[1.0, float("nan")]], "element < 0"),
                         ([[0.0, 0.0]], "sum of probabilities <= 0")]:
        with pytest.raises(RuntimeError, match=message):
            tcli.multinomial(tcli.tensor(bad, device="cuda"), 1)
    with pytest.raises(RuntimeError, match="not enough non-negative category"):
        tcli.multinomial(probs.cuda(), 3)


def test_float_draws_refuse_integer_tensors():
    t = tcli.zeros(3, dtype=tcli.int64, device="cuda")
    with pytest.raises(NotImplementedError, match="\"check_uniform_bounds\" not implemented for 'Long'"):
        t.uniform_()
    with pytest.raises(NotImplementedError, match="\"normal_kernel_cuda\" not implemented for 'Long'"):
        t.normal_()
    with pytest.raises(RuntimeError, match="Exponential distribution is a continuous probability distribution"):
        t.exponential_()


def test_a_cuda_generator_of_its_own():
    g = tcli.Generator(device="cuda")
    assert isinstance(g, tcli.Generator) and g.device == CUDA and g.initial_seed() == 67280421310721
    g.manual_seed(4)
    tcli.cuda.manual_seed(4)
    mine = tcli.rand(20, device="cuda", generator=g).cpu().tolist()
    assert tcli.rand(20, device="cuda").cpu().tolist() == mine  # same seed, same stream, independent states
    assert tcli.rand(20, device="cuda", generator=g).cpu().tolist() != mine
    with pytest.raises(RuntimeError, match="Expected a 'cuda' device type for generator but found 'cpu'"):
        tcli.randn(3, device="cuda", generator=tcli.Generator())
    with pytest.raises(RuntimeError, match="Expected a 'cpu' device type for generator but found 'cuda'"):
        tcli.randn(3, generator=g)


# ---- distributions -------------------------------------------------------------------------------------------

def test_moments_of_the_distributions():
    tcli.manual_seed(0)
    u = tcli.rand(8192, device="cuda").cpu().numpy()
    z = tcli.randn(8192, device="cuda", dtype=tcli.float64).cpu().numpy()
    shifted = tcli.normal(3.0, 0.5, (8192,), device="cuda").cpu().numpy()
    assert 0 < u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.02 and abs(u.std() - 12 ** -0.5) < 0.01
    assert abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.03
    assert abs(shifted.mean() - 3) < 0.03 and abs(shifted.std() - 0.5) < 0.02
    counts = np.bincount(tcli.randint(0, 4, (8192,), device="cuda").cpu().numpy(), minlength=4)
    assert counts.min() > 1800  # each of four values about 2048 times


@pytest.mark.parametrize("dtype", [tcli.float32, tcli.float64, tcli.int32, tcli.bool])
def test_bernoulli_with_a_scalar_probability(dtype):
    tcli.manual_seed(0)
    draws = tcli.bernoulli(tcli.zeros(4000, dtype=dtype, device="cuda"), 0.3)
    assert draws.device == CUDA and draws.dtype is dtype
    values = draws.cpu().numpy().astype(np.float64)
    assert set(np.unique(values)) <= {0.0, 1.0} and abs(values.mean() - 0.3) < 0.03
    with pytest.raises(RuntimeError, match=r"bernoulli_ expects p to be in \[0, 1\], but got p=1.5"):
        tcli.bernoulli(tcli.zeros(3, device="cuda"), 1.5)


def test_dropout_masks_on_the_device_scale_and_backpropagate():
    tcli.manual_seed(0)
    x = tcli.ones(2000, device="cuda", requires_grad=True)
    y = F.dropout(x, p=0.25)
    kept = y.detach().cpu().numpy()
    assert set(np.unique(kept)) == {0.0, np.float32(1 / 0.75)} and abs((kept == 0).mean() - 0.25) < 0.03
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), kept)  # the gradient goes through the same mask

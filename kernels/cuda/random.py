"""Random numbers drawn on the device: PyTorch's CUDA scheme (Philox4x32-10, as cuRAND computes it).

PyTorch's CUDA generator is a (seed, offset) pair. A draw launches blocks of 256 threads, at most as many as
the GPU keeps resident (``scheme_blocks``); thread t starts a Philox counter at (offset / 4, t), takes four
32-bit words per step of a grid-stride loop that covers ``unroll`` elements (t, t + T, t + 2T, ...; T the
number of threads), and the generator's offset moves past every word any thread may have taken. The words
become numbers as cuRAND makes them: a float in (0, 1] is ``x * 2**-32 + 2**-33``; a normal pair is
Box-Muller on two words with the GPU's fast sine and cosine; a double takes two words.

The threads of that scheme are virtual here: the kernel loops over them, so the launch can be any size (the
simulator runs a small one) and the numbers stay where PyTorch puts them.
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda

from .launch import MAX_BLOCKS, SIMULATOR, THREADS, grid_for, jit

if SIMULATOR:  # C semantics for math under the simulator, as the GPU has them (see simmath.py)
    from .simmath import math  # noqa: F811

    def _sincos_fast(v):  # the GPU's sin.approx/cos.approx; the simulator has only the exact ones
        return math.sin(v), math.cos(v)

    def _sincospi(v):
        return math.sin(v * np.float64(math.pi)), math.cos(v * np.float64(math.pi))

    def _log_fast(v):  # the GPU's lg2.approx-based __logf; the simulator has only the exact log
        return math.log(v)
else:
    from numba.cuda import libdevice

    @cuda.jit(device=True, inline=True)
    def _sincos_fast(v):
        return libdevice.fast_sinf(v), libdevice.fast_cosf(v)

    @cuda.jit(device=True, inline=True)
    def _sincospi(v):
        return libdevice.sinpi(v), libdevice.cospi(v)

    @cuda.jit(device=True, inline=True)
    def _log_fast(v):  # __logf: PyTorch's float exponential_ rounds as this does (a GPU run: 80% of draws differ
        return libdevice.fast_logf(v)  # by an ulp with the exact logf)

BLOCK = 256  # PyTorch's threads per block for distributions

# 32-bit words live in uint64 variables: numba widens uint32 arithmetic, and uint64 mixed with a signed int
# becomes float64, so every constant here is a uint64.
_MASK, _SHIFT, _ONE_U = np.uint64(0xFFFFFFFF), np.uint64(32), np.uint64(1)
_MUL_A, _MUL_B = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_KEY_A, _KEY_B = np.uint64(0x9E3779B9), np.uint64(0xBB67AE85)
_HQ_SHIFT = np.uint64(21)  # a double's 53 bits: x ^ (y << 21)

_F_SCALE, _F_HALF = np.float32(2.0 ** -32), np.float32(2.0 ** -33)
_F_SCALE_2PI = np.float32(np.float32(2.0 ** -32) * np.float32(2 * math.pi))
_F_HALF_2PI = np.float32(_F_SCALE_2PI / np.float32(2))
_F_MINUS_TWO, _F_ZERO, _F_ONE = np.float32(-2.0), np.float32(0.0), np.float32(1.0)
_D_SCALE, _D_HALF = 2.0 ** -53, 2.0 ** -54

UNIFORM, NORMAL, BERNOULLI, EXPONENTIAL = 0, 1, 2, 3  # what a float draw makes


@cuda.jit(device=True, inline=True)
def _philox(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10: ten rounds over a 128-bit counter, the 64-bit key bumped between rounds."""
    for _ in range(10):
        p0 = _MUL_A * c0
        p1 = _MUL_B * c2
        c0, c1, c2, c3 = (p1 >> _SHIFT) ^ c1 ^ k0, p1 & _MASK, (p0 >> _SHIFT) ^ c3 ^ k1, p0 & _MASK
        k0 = (k0 + _KEY_A) & _MASK
        k1 = (k1 + _KEY_B) & _MASK
    return c0, c1, c2, c3


@cuda.jit(device=True, inline=True)
def _uniform_f32(x):
    return cuda.fma(np.float32(x), _F_SCALE, _F_HALF)


@cuda.jit(device=True, inline=True)
def _box_muller_f32(x, y):
    u = cuda.fma(np.float32(x), _F_SCALE, _F_HALF)
    v = cuda.fma(np.float32(y), _F_SCALE_2PI, _F_HALF_2PI)
    s = math.sqrt(_F_MINUS_TWO * math.log(u))
    sin_v, cos_v = _sincos_fast(v)
    return sin_v * s, cos_v * s


@cuda.jit(device=True, inline=True)
def _float_from(kind, x, a, b, c):
    """One float32 made from a uniform: a + b*u (u == c wraps to a), u < a as 0/1, or a * log(u)."""
    u = _uniform_f32(x)
    if kind == BERNOULLI:
        return _F_ONE if u < a else _F_ZERO
    if kind == EXPONENTIAL:  # b = eps/2: log(u) is at most -b (u can be 1), as PyTorch clamps it
        return a * (-b if u >= _F_ONE - b else _log_fast(u))
    value = cuda.fma(u, b, a)
    return a if value == c else value


@cuda.jit(device=True, inline=True)
def _uniform_f64(x, y):
    return np.float64(x ^ (y << _HQ_SHIFT)) * _D_SCALE + _D_HALF


@cuda.jit(device=True, inline=True)
def _store(out, i, n, value):
    if i < n:
        out[i] = value


@cuda.jit(device=True, inline=True)
def _start(seed, offset4, t):
    """A virtual thread's key and counter: (offset / 4, t) as cuRAND's curand_init(seed, t, offset) sets it."""
    tt = np.uint64(t)
    return seed & _MASK, seed >> _SHIFT, offset4 & _MASK, offset4 >> _SHIFT, tt & _MASK, tt >> _SHIFT


@cuda.jit(device=True, inline=True)
def _next(c0, c1):
    c0 = (c0 + _ONE_U) & _MASK
    return c0, (c1 + _ONE_U) & _MASK if c0 == 0 else c1


@jit
def _draw_f32(out, n, seed, offset4, threads, kind, a, b, c):
    """float32 draws, four per step: uniform (a + b*u), normal (a + b*z), bernoulli (u < a) or exponential."""
    t = cuda.grid(1)
    while t < min(threads, n):
        k0, k1, c0, c1, c2, c3 = _start(seed, offset4, t)
        i = t
        while i < n:
            x0, x1, x2, x3 = _philox(c0, c1, c2, c3, k0, k1)
            c0, c1 = _next(c0, c1)
            if kind == NORMAL:
                z0, z1 = _box_muller_f32(x0, x1)
                z2, z3 = _box_muller_f32(x2, x3)
                _store(out, i, n, cuda.fma(z0, b, a))
                _store(out, i + threads, n, cuda.fma(z1, b, a))
                _store(out, i + 2 * threads, n, cuda.fma(z2, b, a))
                _store(out, i + 3 * threads, n, cuda.fma(z3, b, a))
            else:
                _store(out, i, n, _float_from(kind, x0, a, b, c))
                _store(out, i + threads, n, _float_from(kind, x1, a, b, c))
                _store(out, i + 2 * threads, n, _float_from(kind, x2, a, b, c))
                _store(out, i + 3 * threads, n, _float_from(kind, x3, a, b, c))
            i += 4 * threads
        t += cuda.gridsize(1)


@jit
def _draw_f64(out, n, seed, offset4, threads, kind, a, b, c):
    """float64 draws, two per step (two words each): uniform, normal (Box-Muller on all four), bernoulli or
    exponential."""
    t = cuda.grid(1)
    while t < min(threads, n):
        k0, k1, c0, c1, c2, c3 = _start(seed, offset4, t)
        i = t
        while i < n:
            x0, x1, x2, x3 = _philox(c0, c1, c2, c3, k0, k1)
            c0, c1 = _next(c0, c1)
            if kind == NORMAL:
                u = _uniform_f64(x0, x1)
                v = np.float64(x2 ^ (x3 << _HQ_SHIFT)) * (2 * _D_SCALE) + _D_SCALE
                s = math.sqrt(-2.0 * math.log(u))
                sin_v, cos_v = _sincospi(v)
                first, second = cuda.fma(sin_v * s, b, a), cuda.fma(cos_v * s, b, a)
            else:
                u0, u1 = _uniform_f64(x0, x1), _uniform_f64(x2, x3)
                if kind == BERNOULLI:
                    first, second = 1.0 if u0 < a else 0.0, 1.0 if u1 < a else 0.0
                elif kind == EXPONENTIAL:
                    first = a * (-b if u0 >= 1.0 - b else math.log(u0))
                    second = a * (-b if u1 >= 1.0 - b else math.log(u1))
                else:
                    first, second = cuda.fma(u0, b, a), cuda.fma(u1, b, a)
                    first, second = a if first == c else first, a if second == c else second
            _store(out, i, n, first)
            _store(out, i + threads, n, second)
            i += 2 * threads
        t += cuda.gridsize(1)


@jit
def _draw_int(out, n, seed, offset4, threads, base, span, wide):
    """int64 draws base + w % span: four 32-bit words w per step, or (wide) two 64-bit ones."""
    t = cuda.grid(1)
    while t < min(threads, n):
        k0, k1, c0, c1, c2, c3 = _start(seed, offset4, t)
        i = t
        while i < n:
            x0, x1, x2, x3 = _philox(c0, c1, c2, c3, k0, k1)
            c0, c1 = _next(c0, c1)
            if wide:
                _store(out, i, n, np.int64(((x0 << _SHIFT) | x1) % span) + base)
                _store(out, i + threads, n, np.int64(((x2 << _SHIFT) | x3) % span) + base)
                i += 2 * threads
            else:
                _store(out, i, n, np.int64(x0 % span) + base)
                _store(out, i + threads, n, np.int64(x1 % span) + base)
                _store(out, i + 2 * threads, n, np.int64(x2 % span) + base)
                _store(out, i + 3 * threads, n, np.int64(x3 % span) + base)
                i += 4 * threads
        t += cuda.gridsize(1)


# ---- the contract ---------------------------------------------------------------------------------------------

_resident = []
# The device attributes the layout reads, by the names of the driver's CUdevice_attribute enum (less its
# CU_DEVICE_ATTRIBUTE_ prefix), which numba's Device looks up. The simulator answers none of them, so the offline
# check (check.py) confirms each name exists: a misspelt one broke every draw on the first real GPU.
RESIDENCY_ATTRIBUTES = ("MULTIPROCESSOR_COUNT", "MAX_THREADS_PER_MULTIPROCESSOR")


def scheme_blocks() -> int:
    """How many blocks of 256 threads PyTorch launches at most on this GPU: all it can keep resident."""
    if not _resident:
        if SIMULATOR:
            sms, per_sm = 132, 2048  # an H100's, so the simulator lays numbers out as that GPU does
        else:
            device = cuda.get_current_device()
            sms, per_sm = (getattr(device, name) for name in RESIDENCY_ATTRIBUTES)
        _resident.append(sms * (per_sm // BLOCK))
    return _resident[0]


def layout(n: int, unroll: int) -> tuple[int, int]:
    """(virtual threads, offset increment) of a draw of n values, unroll per step, as PyTorch computes them."""
    blocks = min(scheme_blocks(), (n + BLOCK - 1) // BLOCK)
    threads = blocks * BLOCK
    return threads, ((n - 1) // (threads * unroll) + 1) * 4


def _launch(kernel, out, n, virtual_threads, *args):
    """One real thread per virtual one on a GPU; the simulator's few threads loop over them."""
    blocks = (virtual_threads + THREADS - 1) // THREADS
    kernel[min(blocks, MAX_BLOCKS) if SIMULATOR else blocks, THREADS](out.array, n, *args)


def philox_floats(out, seed: int, offset: int, kind: int, a: float, b: float = 0.0, c: float = 0.0) -> int:
    """Fill a float32 or float64 buffer with draws of ``kind``; returns the generator's offset increment."""
    n = out.shape[0]
    wide = out.dtype == np.float64
    threads, step = layout(n, 2 if wide else 4)
    kernel, real = (_draw_f64, np.float64) if wide else (_draw_f32, np.float32)
    _launch(kernel, out, n, threads, np.uint64(seed), np.uint64(offset // 4), threads, kind, real(a), real(b), real(c))
    return step


def philox_ints(out, seed: int, offset: int, base: int, span: int, wide: bool) -> int:
    """Fill an int64 buffer with base + draw % span (64-bit draws when wide); returns the offset increment."""
    n = out.shape[0]
    threads, step = layout(n, 2 if wide else 4)
    _launch(_draw_int, out, n, threads, np.uint64(seed), np.uint64(offset // 4), threads,
            np.int64(base), np.uint64(span), bool(wide))
    return step


@jit
def _sample_cdf(out, cdf, weights, u, cats, samples):
    """Sampling with replacement, PyTorch's way: the first category whose normalised cumulative probability
    reaches the draw (the last one past rounding), moved back over categories of probability 0."""
    j = cuda.grid(1)
    while j < out.shape[0]:
        base = j // samples * cats
        lo, hi = 0, cats
        while lo < hi:
            mid = (lo + hi) // 2
            if cdf[base + mid] < u[j]:
                lo = mid + 1
            else:
                hi = mid
        if lo == cats:
            lo = cats - 1
        while lo >= 1 and weights[base + lo] == 0:
            lo -= 1
        out[j] = lo
        j += cuda.gridsize(1)


def sample_cdf(out, cdf, weights, u, cats: int, samples: int) -> None:
    """out[r, s] = the category of row r that draw u[r, s] falls in; cdf and weights are (rows, cats), dense."""
    if out.shape[0]:
        blocks, threads = grid_for(out.shape[0])
        _sample_cdf[blocks, threads](out.array, cdf.array, weights.array, u.array, cats, samples)


"""Random numbers from PyTorch's CPU generator: MT19937 with PyTorch's seeding and transformations.

The generator state is two arrays owned by the caller: ``state`` (624 uint32) and ``pos``
(int64 [left, next]), so kernels stay pure functions that advance the state in place. Seeding is
plain Python (tcli.ops.random), so making a generator compiles nothing.
"""

from __future__ import annotations

import math

import numpy as np
from numba.extending import intrinsic

from ._jit import jit

_N, _M = 624, 397
_MATRIX_A, _UMASK, _LMASK = 0x9908B0DF, 0x80000000, 0x7FFFFFFF


@jit(inline="always")
def _twist(u, v):
    mixed = (u & np.uint32(_UMASK)) | (v & np.uint32(_LMASK))
    return (mixed >> np.uint32(1)) ^ (np.uint32(_MATRIX_A) if (v & np.uint32(1)) else np.uint32(0))


@jit
def _next_state(state, pos):
    for k in range(_N - _M):
        state[k] = state[k + _M] ^ _twist(state[k], state[k + 1])
    for k in range(_N - _M, _N - 1):
        state[k] = state[k + _M - _N] ^ _twist(state[k], state[k + 1])
    state[_N - 1] = state[_M - 1] ^ _twist(state[_N - 1], state[0])
    pos[0] = _N
    pos[1] = 0


@jit(inline="always")
def random32(state, pos):
    pos[0] -= 1
    if pos[0] == 0:
        _next_state(state, pos)
    y = state[pos[1]]
    pos[1] += 1
    y ^= y >> np.uint32(11)
    y ^= (y << np.uint32(7)) & np.uint32(0x9D2C5680)
    y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
    y ^= y >> np.uint32(18)
    return y


@jit(inline="always")
def random64(state, pos):
    hi = np.uint64(random32(state, pos))
    lo = np.uint64(random32(state, pos))
    return (hi << np.uint64(32)) | lo


@jit(inline="always")
def _uniform_bits(state, pos, bits):
    """PyTorch's uniform_real: the low ``bits`` random bits (the dtype's mantissa digits) scaled to [0, 1)."""
    if bits > 32:
        return float(random64(state, pos) & ((np.uint64(1) << np.uint64(bits)) - np.uint64(1))) / float(1 << bits)
    return float(random32(state, pos) & ((np.uint32(1) << np.uint32(bits)) - np.uint32(1))) / float(1 << bits)


@jit(inline="always")
def _uniform53(state, pos):
    return float(random64(state, pos) & np.uint64(0x1FFFFFFFFFFFFF)) * (1.0 / 9007199254740992.0)


@intrinsic
def _fma(typingctx, a, b, c):
    """a * b + c rounded once, in a's float type: PyTorch's compiled kernels contract uniform's x * span + low."""
    def codegen(context, builder, signature, args):
        return builder.fma(*args)
    return a(a, a, a), codegen


@jit
def uniform(out, state, pos, low, high, bits):
    """out[i] = u * (high - low) + low (one rounding), u from ``bits`` random bits: 11 (float16), 24 (float32),
    53 (float64). float32 computes in float32 from float32 bounds, as PyTorch does, so the values match."""
    if bits > 24:
        span = high - low
        for i in range(out.shape[0]):
            out[i] = _fma(_uniform_bits(state, pos, bits), span, low)
    else:
        low32 = np.float32(low)
        span32 = np.float32(np.float32(high) - low32)
        for i in range(out.shape[0]):
            out[i] = _fma(np.float32(_uniform_bits(state, pos, bits)), span32, low32)


@jit
def randint(out, state, pos, low, span):
    """out[i] = low + r % span, r from 32 bits when span < 2**32, else 64 (as PyTorch's random_from_to)."""
    wide = span >= (1 << 32)
    for i in range(out.shape[0]):
        r = random64(state, pos) if wide else np.uint64(random32(state, pos))
        out[i] = np.int64(r % np.uint64(span)) + low


@jit
def randperm(out, state, pos):
    n = out.shape[0]
    for i in range(n):
        out[i] = i
    for i in range(n - 1):
        z = np.int64(np.uint64(random32(state, pos)) % np.uint64(n - i))
        tmp = out[i]
        out[i] = out[z + i]
        out[z + i] = tmp


@jit
def normal_fill(out, state, pos, mean, std, bits):
    """PyTorch's normal_fill for 16 or more values: uniforms first, then Box-Muller in blocks of 16."""
    n = out.shape[0]
    for i in range(n):
        out[i] = _uniform_bits(state, pos, bits)
    for start in range(0, n - 15, 16):
        _box_muller_16(out, start, mean, std)
    if n % 16 != 0:
        start = n - 16
        for i in range(start, n):
            out[i] = _uniform_bits(state, pos, bits)
        _box_muller_16(out, start, mean, std)


@jit(inline="always")
def _box_muller_16(out, start, mean, std):
    for j in range(8):
        u1 = 1.0 - out[start + j]
        u2 = out[start + j + 8]
        radius = math.sqrt(-2.0 * math.log(u1))
        theta = 2.0 * math.pi * u2
        out[start + j] = radius * math.cos(theta) * std + mean
        out[start + j + 8] = radius * math.sin(theta) * std + mean


@jit
def normal_scalar(out, state, pos, cache, mean, std):
    """PyTorch's scalar path (fewer than 16 values): Box-Muller on doubles, the spare sample cached.

    ``cache`` is a float64[2] array: [has_spare, spare].
    """
    for i in range(out.shape[0]):
        if cache[0] != 0:
            cache[0] = 0
            out[i] = cache[1] * std + mean
            continue
        u1 = _uniform53(state, pos)
        u2 = _uniform53(state, pos)
        r = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        cache[0] = 1
        cache[1] = r * math.sin(theta)
        out[i] = r * math.cos(theta) * std + mean


@jit
def bernoulli(out, state, pos, p):
    """out[i] = 1 with probability p[i] (p broadcast to out's length by the caller)."""
    for i in range(out.shape[0]):
        out[i] = 1 if _uniform53(state, pos) < p[i] else 0


@jit
def exponential(out, state, pos, lambd):
    for i in range(out.shape[0]):
        u = _uniform53(state, pos)
        out[i] = -math.log1p(-u) / lambd


@jit
def multinomial(out, state, pos, cdf, rows, cats, samples):
    """Sampling with replacement from each row's cumulative distribution."""
    for r in range(rows):
        total = cdf[r * cats + cats - 1]
        for s in range(samples):
            u = _uniform53(state, pos) * total
            lo, hi = 0, cats - 1
            while lo < hi:
                mid = (lo + hi) // 2
                if cdf[r * cats + mid] > u:
                    hi = mid
                else:
                    lo = mid + 1
            out[r * samples + s] = lo

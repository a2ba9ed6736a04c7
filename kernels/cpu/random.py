"""Random numbers from PyTorch's CPU generator: MT19937 with PyTorch's seeding and transformations.

The generator state is two arrays owned by the caller: ``state`` (624 uint32) and ``pos``
(int64 [left, next]), so kernels stay pure functions that advance the state in place. Seeding is
plain Python (tcli.ops.random), so making a generator compiles nothing.
"""

from __future__ import annotations

import math

import numpy as np
from numba.core import types
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
def _unit53(word64):
    """PyTorch's uniform_real for doubles: the low 53 bits of a 64-bit draw, scaled to [0, 1)."""
    return float(word64 & np.uint64(0x1FFFFFFFFFFFFF)) * (1.0 / 9007199254740992.0)


@jit(inline="always")
def _unit_bits(word, bits):
    """PyTorch's uniform_real for float32 (24 bits) and float16 (11): the low ``bits`` of a 32-bit draw, scaled to
    [0, 1), exactly, in float32."""
    return np.float32(word & ((np.uint32(1) << np.uint32(bits)) - np.uint32(1))) * np.float32(1.0 / (1 << bits))


@jit(inline="always")
def _uniform53(state, pos):
    return _unit53(random64(state, pos))


@intrinsic
def _fma(typingctx, a, b, c):
    """a * b + c rounded once, in a's float type: PyTorch's compiled kernels contract uniform's x * span + low."""
    def codegen(context, builder, signature, args):
        return builder.fma(*args)
    return a(a, a, a), codegen


@jit
def _words(state, pos, n):
    """The generator's next n tempered 32-bit outputs: the stream random32 gives, taken a run of state words at a
    time (a loop that vectorises) instead of one round trip through ``pos`` per draw."""
    words = np.empty(n, np.uint32)
    left, nxt = pos[0], pos[1]
    i = 0
    while i < n:
        if left == 1:  # this draw is the one that regenerates the state (random32's pos[0] reaching 0)
            _next_state(state, pos)
            left, nxt = pos[0] + 1, 0
        take = min(n - i, left - 1)
        for k in range(take):
            y = state[nxt + k]
            y ^= y >> np.uint32(11)
            y ^= (y << np.uint32(7)) & np.uint32(0x9D2C5680)
            y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
            y ^= y >> np.uint32(18)
            words[i + k] = y
        i += take
        nxt += take
        left -= take
    pos[0], pos[1] = left, nxt
    return words


@jit(inline="always")
def _word64(words, i):
    """random64's value from the i-th pair of words (high word first)."""
    return (np.uint64(words[2 * i]) << np.uint64(32)) | np.uint64(words[2 * i + 1])


@jit
def uniform(out, state, pos, low, high, bits):
    """out[i] = u * (high - low) + low (one rounding), u from ``bits`` random bits: 11 (float16), 24 (float32),
    53 (float64). float32 computes in float32 from float32 bounds, as PyTorch does, so the values match."""
    n = out.shape[0]
    if bits > 32:
        words = _words(state, pos, 2 * n)
        span = high - low
        for i in range(n):
            out[i] = _fma(_unit53(_word64(words, i)), span, low)
    else:
        words = _words(state, pos, n)
        low32 = np.float32(low)
        span32 = np.float32(np.float32(high) - low32)
        for i in range(n):
            out[i] = _fma(_unit_bits(words[i], bits), span32, low32)


@jit
def randint(out, state, pos, low, span, wide):
    """out[i] = low + r % span, r a 64-bit draw when ``wide`` else a 32-bit one (the caller applies PyTorch's rule:
    random_(from, to) draws 64 bits once the range reaches 2**28; random_() does for int64 and float64)."""
    n = out.shape[0]
    if wide:
        words = _words(state, pos, 2 * n)
        for i in range(n):
            out[i] = np.int64(_word64(words, i) % np.uint64(span)) + low
    else:
        words = _words(state, pos, n)
        d = np.int64(span)
        inverse = 1.0 / float(span)
        for i in range(n):
            # r % span through a double quotient (off by at most one for r < 2**32, then corrected):
            # the same remainder as an integer division, in a loop that vectorises
            r = np.int64(words[i])
            rem = r - np.int64(float(r) * inverse) * d
            rem = rem + d if rem < 0 else rem
            rem = rem - d if rem >= d else rem
            out[i] = rem + low


@jit
def random64_fill(out, state, pos):
    """out[i] = a whole 64-bit draw read as int64 (random_ over int64's full range)."""
    words = _words(state, pos, 2 * out.shape[0])
    for i in range(out.shape[0]):
        out[i] = np.int64(_word64(words, i))


@jit
def randperm(out, state, pos):
    n = out.shape[0]
    for i in range(n):
        out[i] = i
    words = _words(state, pos, max(n - 1, 0))
    for i in range(n - 1):
        left = n - i  # a 32-bit modulo where it fits: the same value as PyTorch's 64-bit one, in half the time
        z = np.int64(words[i] % np.uint32(left)) if left < (1 << 32) else np.int64(np.uint64(words[i]) % left)
        tmp = out[i]
        out[i] = out[z + i]
        out[z + i] = tmp


@jit
def normal_fill_f32(out, state, pos, mean, std, whole_blocks_first):
    """PyTorch's float32 normal_fill for 16 or more values: 24-bit uniforms first, then Box-Muller in blocks of 16
    with the float32 log/sincos of its AVX2 kernel; a ragged tail's last 16 values are drawn again.
    ``whole_blocks_first`` draws only the whole blocks' uniforms before the tail (PyTorch's float16 path)."""
    n = out.shape[0]
    first = (n // 16) * 16 if whole_blocks_first else n
    _uniforms24(out, 0, _words(state, pos, first))
    _box_muller_all_f32(out, n // 16, np.float32(mean), np.float32(std))
    if n % 16 != 0:
        _uniforms24(out, n - 16, _words(state, pos, 16))
        _box_muller_16_f32(out, n - 16, np.float32(mean), np.float32(std))


@jit(inline="always")
def _uniforms24(out, start, words):
    for i in range(words.shape[0]):
        out[start + i] = _unit_bits(words[i], 24)


@jit
def normal_fill_f64(out, state, pos, mean, std):
    """PyTorch's float64 normal_fill: 53-bit uniforms, then Box-Muller in double in blocks of 16."""
    n = out.shape[0]
    words = _words(state, pos, 2 * n)
    for i in range(n):
        out[i] = _unit53(_word64(words, i))
    for start in range(0, n - 15, 16):
        _box_muller_16(out, start, mean, std)
    if n % 16 != 0:
        start = n - 16
        for i in range(start, n):
            out[i] = _uniform53(state, pos)
        _box_muller_16(out, start, mean, std)


# avx_mathfun's Cephes constants (log256_ps, sincos256_ps), as float32
_F32 = np.float32
_ZERO, _ONE, _HALF, _MINUS_TWO, _TWO_PI = _F32(0.0), _F32(1.0), _F32(0.5), _F32(-2.0), _F32(2.0 * math.pi)
_MIN_NORM, _SQRTHF = _F32(1.17549435e-38), _F32(0.707106781186547524)
_LP0, _LP1, _LP2, _LP3, _LP4 = _F32(7.0376836292e-2), _F32(-1.1514610310e-1), _F32(1.1676998740e-1), \
    _F32(-1.2420140846e-1), _F32(1.4249322787e-1)
_LP5, _LP6, _LP7, _LP8 = _F32(-1.6668057665e-1), _F32(2.0000714765e-1), _F32(-2.4999993993e-1), \
    _F32(3.3333331174e-1)
_LQ1, _LQ2 = _F32(-2.12194440e-4), _F32(0.693359375)
_FOPI, _DP1, _DP2, _DP3 = _F32(1.27323954473516), _F32(-0.78515625), _F32(-2.4187564849853515625e-4), \
    _F32(-3.77489497744594108e-8)
_COS0, _COS1, _COS2 = _F32(2.443315711809948e-5), _F32(-1.388731625493765e-3), _F32(4.166664568298827e-2)
_SIN0, _SIN1, _SIN2 = _F32(-1.9515295891e-4), _F32(8.3321608736e-3), _F32(-1.6666654611e-1)


@intrinsic
def _bits(typingctx, x):
    """A float32's bit pattern as int32 (avx_mathfun works on the bits)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(signature.return_type))
    return types.int32(x), codegen


@intrinsic
def _from_bits(typingctx, i):
    """The float32 with these low 32 bits (numba widens int32 arithmetic to int64, so truncate first)."""
    def codegen(context, builder, signature, args):
        value = args[0]
        if signature.args[0].bitwidth != 32:
            value = builder.trunc(value, context.get_value_type(types.int32))
        return builder.bitcast(value, context.get_value_type(signature.return_type))
    return types.float32(i), codegen


@jit(inline="always")
def _log_f32(x):
    """log256_ps for one value, operation for operation (where PyTorch's build fuses a multiply-add, so do we).
    Branch-free, so that the 8 lanes of a block vectorise as PyTorch's AVX2 code does."""
    x = max(x, _MIN_NORM)
    bits = _bits(x)
    e = _F32((bits >> np.int32(23)) - np.int32(0x7F)) + _ONE
    x = _from_bits((bits & np.int32(~0x7F800000)) | np.int32(0x3F000000))  # the mantissa, in [0.5, 1)
    small = x < _SQRTHF
    tmp = x if small else _ZERO
    x = x - _ONE
    e = e - (_ONE if small else _ZERO)
    x = x + tmp
    z = x * x
    y = _LP0 * x + _LP1
    y = y * x + _LP2
    y = y * x + _LP3
    y = y * x + _LP4
    y = y * x + _LP5
    y = y * x + _LP6
    y = y * x + _LP7
    y = _fma(y, x, _LP8)
    y = y * x
    y = y * z
    y = y + e * _LQ1
    y = y - z * _HALF
    x = x + y
    return x + e * _LQ2


@jit(inline="always")
def _sincos_f32(x):
    """sincos256_ps for one value x >= 0 (Box-Muller's angle): Cephes' octant reduction and polynomials,
    branch-free (selects and sign-bit flips) like the vector code."""
    j = (np.int32(x * _FOPI) + np.int32(1)) & np.int32(-2)
    y = _F32(j)
    x = x + y * _DP1
    x = x + y * _DP2
    x = x + y * _DP3
    z = x * x
    c = _COS0 * z + _COS1
    c = c * z + _COS2
    c = c * z
    c = c * z
    c = c - z * _HALF
    c = c + _ONE
    s = _fma(_SIN0, z, _SIN1)
    s = _fma(s, z, _SIN2)
    s = s * z
    s = _fma(s, x, x)
    swap = (j & np.int32(2)) != 0  # the octant decides which polynomial gives sin and which cos
    sin = c if swap else s
    cos = s if swap else c
    sin = _from_bits(_bits(sin) ^ ((j & np.int32(4)) << np.int32(29)))
    cos = _from_bits(_bits(cos) ^ (((~(j - np.int32(2))) & np.int32(4)) << np.int32(29)))
    return sin, cos


@jit(inline="always")
def _box_muller_all_f32(out, blocks, mean, std):
    """Every whole block of 16: the block's first 8 uniforms give radii, the next 8 angles. The lanes are
    gathered into contiguous arrays first so that the math loop vectorises (as PyTorch's AVX2 loop is)."""
    m = blocks * 8
    u1 = np.empty(m, np.float32)
    u2 = np.empty(m, np.float32)
    for b in range(blocks):
        for j in range(8):
            u1[b * 8 + j] = out[b * 16 + j]
            u2[b * 8 + j] = out[b * 16 + 8 + j]
    for i in range(m):
        radius = np.sqrt(_MINUS_TWO * _log_f32(_ONE - u1[i]))
        s, c = _sincos_f32(_TWO_PI * u2[i])
        u1[i] = _fma(radius * c, std, mean)
        u2[i] = _fma(radius * s, std, mean)
    for b in range(blocks):
        for j in range(8):
            out[b * 16 + j] = u1[b * 8 + j]
            out[b * 16 + 8 + j] = u2[b * 8 + j]


@jit(inline="always")
def _box_muller_16_f32(out, start, mean, std):
    for j in range(8):
        u1 = _ONE - out[start + j]
        u2 = out[start + j + 8]
        radius = np.sqrt(_MINUS_TWO * _log_f32(u1))
        s, c = _sincos_f32(_TWO_PI * u2)
        out[start + j] = _fma(radius * c, std, mean)
        out[start + j + 8] = _fma(radius * s, std, mean)


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
def bernoulli(out, state, pos, p, bits):
    """out[i] = 1 with probability p[i] (p broadcast to out's length by the caller), comparing a uniform of
    ``bits`` random bits: PyTorch draws 53 for float64 (and number) probabilities, 24 for float32 ones."""
    n = out.shape[0]
    if bits > 32:
        words = _words(state, pos, 2 * n)
        for i in range(n):
            out[i] = 1 if _unit53(_word64(words, i)) < p[i] else 0
    else:
        words = _words(state, pos, n)
        for i in range(n):
            out[i] = 1 if _unit_bits(words[i], 24) < p[i] else 0


@jit
def exponential(out, state, pos, lambd):
    for i in range(out.shape[0]):
        u = _uniform53(state, pos)
        out[i] = -math.log1p(-u) / lambd


@jit
def multinomial(out, state, pos, cdf, rows, cats, samples):
    """Sampling with replacement, row by row as PyTorch does: the first category whose normalised cumulative
    probability reaches a 53-bit uniform."""
    for r in range(rows):
        for s in range(samples):
            u = _uniform53(state, pos)
            lo, hi = 0, cats
            while hi - lo > 0:
                mid = lo + (hi - lo) // 2
                if cdf[r * cats + mid] < u:
                    lo = mid + 1
                else:
                    hi = mid
            out[r * samples + s] = min(lo, cats - 1)

"""Vectorisable math for kernels. pip's llvmlite has no SVML, so ``math.exp`` is a scalar libm
call inside numba loops; ``fexp`` is a Cephes-style polynomial that LLVM vectorises for float32
(accurate to 1 ulp, with PyTorch's inf/NaN/underflow results) and falls back to libm otherwise."""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload


@intrinsic
def _f32_from_bits(typingctx, bits):
    """Reinterpret an int32 as the float32 with the same bits."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


@njit(inline="always")
def _exp_f32(v):
    v = min(max(v, np.float32(-104.0)), np.float32(89.0))  # below -104 it rounds to 0, above 88.73 to inf
    k = np.floor(v * np.float32(1.4426950408889634) + np.float32(0.5))  # np.floor keeps float32
    r = v - k * np.float32(0.693359375) + k * np.float32(2.12194440e-4)  # ln 2 split in two for accuracy
    p = np.float32(1.9875691500e-4)
    p = p * r + np.float32(1.3981999507e-3)
    p = p * r + np.float32(8.3334519073e-3)
    p = p * r + np.float32(4.1665795894e-2)
    p = p * r + np.float32(1.6666665459e-1)
    p = p * r + np.float32(5.0000001201e-1)
    p = p * (r * r) + r + np.float32(1.0)
    ki = np.int32(k)
    half = ki >> 1  # 2**k as two factors keeps subnormal results exact
    return p * _f32_from_bits((half + 127) << 23) * _f32_from_bits((ki - half + 127) << 23)


def fexp(x):
    """exp(x): vectorised for float32, libm for other types."""


@overload(fexp, inline="always")
def _fexp_impl(x):
    if x == types.float32:
        return lambda x: _exp_f32(x)
    return lambda x: math.exp(x)


@intrinsic
def fmaxnum(typingctx, a, b):
    """llvm.maxnum: the max LLVM turns into vector max instructions inside a reduction loop
    (numba's own max carries NaN checks that keep the loop scalar). A NaN operand is ignored."""
    if a != b or not isinstance(a, types.Float):
        return None

    def codegen(context, builder, signature, args):
        lty = context.get_value_type(signature.return_type)
        name = "llvm.maxnum.f32" if lty == ir.FloatType() else "llvm.maxnum.f64"
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(lty, [lty, lty]), name)
        return builder.call(fn, args)
    return a(a, b), codegen

"""``math`` for kernels run by numba's CUDA simulator.

The simulator runs device code as Python, where ``math.exp(1000.0)`` raises OverflowError, ``math.sqrt(-1.0)``
ValueError and ``math.floor(nan)`` ValueError; on a GPU those give inf and NaN as C does, and tcli's CPU kernels
agree with the GPU. Under the simulator the CUDA kernel modules bind ``math`` to this namespace instead: numpy's
functions, which follow C (and keep float32 in float32), with floating-point warnings silenced like a GPU's.
"""

from __future__ import annotations

import math as _math

import numpy as np


def _quiet(fn):
    def call(*args):
        with np.errstate(all="ignore"):
            return fn(*args)
    return call


class _NumpyMath:
    inf, nan, pi, e = _math.inf, _math.nan, _math.pi, _math.e
    @staticmethod
    def erf(x):  # numpy has no erf; Python's never raises but returns a Python float: keep x's type
        return type(x)(_math.erf(x)) if isinstance(x, np.generic) else _math.erf(x)
    isinf, isnan, isfinite = staticmethod(np.isinf), staticmethod(np.isnan), staticmethod(np.isfinite)


for _name, _fn in {"exp": np.exp, "expm1": np.expm1, "log": np.log, "log1p": np.log1p, "log2": np.log2,
                   "log10": np.log10, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos, "tan": np.tan,
                   "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan, "atan2": np.arctan2, "sinh": np.sinh,
                   "cosh": np.cosh, "tanh": np.tanh, "floor": np.floor, "ceil": np.ceil, "trunc": np.trunc,
                   "fmod": np.fmod, "copysign": np.copysign, "pow": np.power}.items():
    setattr(_NumpyMath, _name, staticmethod(_quiet(_fn)))

math = _NumpyMath()

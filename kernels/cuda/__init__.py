"""The CUDA kernel contract: the functions of ``kernels.cpu`` that tcli has CUDA kernels for, over
``DeviceBuffer``s. Importing this imports numba.cuda; tcli does so only when a CUDA tensor is first made.

A function of the CPU contract that is missing here raises a clear NotImplementedError when an op asks
for it, and a DeviceBuffer that reaches a CPU kernel does the same (see buffer.py).
"""

from __future__ import annotations

from .buffer import (  # noqa: F401
    DeviceBuffer,
    alloc,
    from_host,
    max_memory_allocated,
    memory_allocated,
    not_supported,
    reset_peak_memory_stats,
    to_host,
)
from .elementwise import binary, binary_strided, ternary, ternary_strided, unary, unary_strided  # noqa: F401
from .linalg import gemm  # noqa: F401
from .reduce import reduce  # noqa: F401
from .rows import (  # noqa: F401
    arg_reduce,
    logsumexp,
    nll_backward,
    nll_forward,
    softmax,
    softmax_backward,
    variance,
)


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise not_supported()

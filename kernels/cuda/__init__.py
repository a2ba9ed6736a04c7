"""The CUDA kernel contract: the functions of ``kernels.cpu``, over ``DeviceBuffer``s. Importing this imports
numba.cuda; tcli does so only when a CUDA tensor is first made.

A function of the CPU contract without a CUDA kernel yet runs its CPU kernel on host copies, with a warning the
first time (fallback.py). A DeviceBuffer that reaches a CPU kernel any other way raises a clear
NotImplementedError (buffer.py).
"""

from __future__ import annotations

from . import compat  # noqa: F401  (first: numba-cuda must compile under numpy 2.5)
from .buffer import (  # noqa: F401
    DeviceBuffer,
    alloc,
    empty_cache,
    external,
    from_host,
    is_pinned,
    make_stream_wait,
    max_memory_allocated,
    memory_allocated,
    memory_reserved,
    not_supported,
    overlap,
    pinned_copy,
    reset_peak_memory_stats,
    to_host,
)
from .compact import count_nonzero, nonzero, unique_sorted  # noqa: F401
from .elementwise import binary, binary_strided, ternary, ternary_strided, unary, unary_strided  # noqa: F401
from .index import check_range, gather_dim, gather_rows, index_offsets, one_hot, scatter_dim, scatter_rows  # noqa: F401
from .linalg import add_row, gemm, matmul_add  # noqa: F401
from .optim import adagrad_update, adam_update, rmsprop_update, sgd_update  # noqa: F401
from .random import philox_floats, philox_ints, sample_cdf  # noqa: F401  (CUDA's own generator: no CPU twin)
from .reduce import reduce, scan  # noqa: F401
from .rows import (  # noqa: F401
    arg_reduce,
    logsumexp,
    nll_grad,
    nll_reduce,
    nll_rows,
    softmax,
    softmax_backward,
    variance,
)
from .sort import sort_rows  # noqa: F401


def __getattr__(name):
    """A CPU-contract function without a CUDA kernel: the CPU kernel on host copies (see fallback.py)."""
    if name.startswith("__"):
        raise AttributeError(name)
    from .. import cpu
    from .fallback import on_host
    cpu_kernel = getattr(cpu, name, None)
    if not callable(cpu_kernel):
        raise not_supported()
    globals()[name] = run = on_host(name, cpu_kernel)
    return run

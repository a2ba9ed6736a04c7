"""Fixes to the numba-cuda tcli runs on, applied when the CUDA backend loads.

numpy 2.5: numba-cuda 0.30 registers an overload for ``np.row_stack`` when it first compiles a kernel; numpy 2.5
removed that alias of ``np.vstack`` (deprecated since 2.0), so every kernel compile failed with AttributeError.
Restoring the alias before numba-cuda looks it up costs nothing and changes no numpy behaviour a user relies on.

The simulator's shared arrays: numba's simulator runs a block's threads as Python threads and finds the block's
array for a ``cuda.shared.array`` call by the calling line, with a check-then-create that is not atomic. A thread
switch inside it leaves two threads of a block with arrays of their own, and a reduction then reads values that
were never written there: rare wrong results (the flaky simulator tests of stops 13 and 14 in sums, losses and
products). The same lookup under a lock makes the simulator deterministic again; nothing changes on a GPU.
"""

import sys
import threading

import numpy as np
from numba import config

if not hasattr(np, "row_stack"):
    np.row_stack = np.vstack


def _lock_shared_arrays():
    from numba.cuda.simulator import kernelapi
    from numba.np import numpy_support

    original = kernelapi.FakeCUDAShared.array
    lock = threading.Lock()

    def array(self, shape, dtype):
        if shape == 0:  # dynamic shared memory: one buffer, nothing to look up
            return original(self, shape, dtype)
        if isinstance(dtype, kernelapi.types.Type):
            dtype = numpy_support.as_dtype(dtype)
        caller = sys._getframe(1)
        key = (caller.f_code.co_filename, caller.f_lineno)  # the simulator's own key: the calling line
        with lock:
            found = self._allocations.get(key)
            if found is None:
                found = self._allocations[key] = np.empty(shape, dtype)
        return found

    kernelapi.FakeCUDAShared.array = array


if config.ENABLE_CUDASIM:
    _lock_shared_arrays()

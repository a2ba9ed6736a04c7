"""A caching allocator for large buffers.

A fresh 40 MB numpy buffer costs ~10 ms of page faults on this kind of machine, several times the
cost of the kernel that fills it. Training loops make the same sizes every step, so blocks of
1 MiB and more are kept when their array dies and handed out again, already mapped.
"""

from __future__ import annotations

import os
import weakref

import numpy as np

POOL_MIN_BYTES = 1 << 17
POOL_MAX_BYTES = int(os.environ.get("TCLI_POOL_BYTES", str(2 << 30)))

_free: dict = {}    # nbytes -> [blocks]
_pooled = [0]       # bytes held in _free


def alloc(n: int, np_dtype) -> np.ndarray:
    """An uninitialised 1-D array of n elements; large ones come from (and return to) the pool."""
    dtype = np.dtype(np_dtype)
    nbytes = n * dtype.itemsize
    if nbytes < POOL_MIN_BYTES:
        return np.empty(n, dtype)
    blocks = _free.get(nbytes)
    if blocks:
        block = blocks.pop()
        _pooled[0] -= nbytes
    else:
        block = np.empty(nbytes, np.uint8)
    # The array must own the block's lifetime: numpy collapses the base of every view of a view down
    # to the first array that owns its memory (block.view() would make views point at block itself,
    # and block would go back to the pool while they still used it). A memoryview in between stops
    # the collapse, so every view keeps `array` alive and its death means the memory is free.
    array = np.frombuffer(memoryview(block), dtype, n)
    weakref.finalize(array, _release, block)
    return array


def _release(block):
    nbytes = block.nbytes
    if _pooled[0] + nbytes > POOL_MAX_BYTES:
        return  # over the cap: let it go back to the system
    _free.setdefault(nbytes, []).append(block)
    _pooled[0] += nbytes


def overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two buffers may share memory (their extents meet)."""
    return np.may_share_memory(a, b)


def pooled_bytes() -> int:
    return _pooled[0]


def empty_cache() -> None:
    _free.clear()
    _pooled[0] = 0

"""Launch geometry. Grid-stride loops let a kernel cover any size with a capped grid; the simulator runs
each thread as a Python thread, so there the grid stays tiny."""

from __future__ import annotations

from numba import config

SIMULATOR = bool(config.ENABLE_CUDASIM)
THREADS = 32 if SIMULATOR else 256
MAX_BLOCKS = 4 if SIMULATOR else 1024


def grid_for(n: int) -> tuple[int, int]:
    """(blocks, threads per block) for n independent elements."""
    return max(1, min(MAX_BLOCKS, (n + THREADS - 1) // THREADS)), THREADS

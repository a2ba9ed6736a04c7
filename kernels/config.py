"""Kernel settings shared by every backend; importing this module imports no numba."""

import os

# Work below this many elements runs on one thread: starting a parallel region costs ~1-6 us.
PARALLEL_MIN = int(os.environ.get("TCLI_PARALLEL_MIN", "32768"))

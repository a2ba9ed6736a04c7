"""Under numba's simulator, kernels run as numpy scalar code, which warns where a GPU silently gives inf or NaN;
and each block's threads are Python threads, which meet at every syncthreads: with Python's default 5 ms switch
interval a block-wide barrier costs up to a switch per thread, so the simulator's shared-memory kernels (GEMM
tiles, row trees, scans) ran about 7x slower than with a 0.1 ms interval."""

import sys

import numba

if numba.config.ENABLE_CUDASIM:
    sys.setswitchinterval(1e-4)


def pytest_configure(config):
    if numba.config.ENABLE_CUDASIM:
        config.addinivalue_line("filterwarnings", "ignore::RuntimeWarning:tcli.kernels.cuda")

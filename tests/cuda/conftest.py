"""Under numba's simulator, kernels run as numpy scalar code, which warns where a GPU silently gives inf or NaN."""

import numba


def pytest_configure(config):
    if numba.config.ENABLE_CUDASIM:
        config.addinivalue_line("filterwarnings", "ignore::RuntimeWarning:tcli.kernels.cuda")

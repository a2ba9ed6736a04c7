"""``tcli info``: what tcli runs on."""

from __future__ import annotations

import os
import platform


def collect() -> dict:
    import numba
    import numpy

    import tcli
    from tcli.kernels.cpu import num_threads
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet in this process
        layer = f"not started (configured: {numba.config.THREADING_LAYER})"
    return {
        "tcli": tcli.__version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "numba": numba.__version__,
        "threading layer": layer,
        "threads": num_threads(),
        "cpu cores": os.cpu_count(),
        "cuda available": tcli.cuda.is_available(),
        "kernel cache": kernel_cache_dir(),
    }


def kernel_cache_dir() -> str:
    """Where numba stores tcli's compiled kernels (NUMBA_CACHE_DIR, else next to the kernel sources)."""
    import numba
    configured = numba.config.CACHE_DIR
    if configured:
        return configured
    import tcli.kernels.cpu as cpu
    return os.path.join(os.path.dirname(cpu.__file__), "__pycache__")


def render(facts: dict) -> None:
    from rich.console import Console
    from rich.table import Table
    table = Table(show_header=False, box=None, padding=(0, 2))
    for key, value in facts.items():
        table.add_row(key, str(value))
    Console().print(table)

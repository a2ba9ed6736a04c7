"""Runs the CUDA suite under numba's CUDA simulator in a pytest process of its own: the simulator must be
chosen before numba.cuda is first imported, and this process runs on the CPU alone."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import tcli


def test_cuda_suite_passes_in_the_simulator():
    if tcli.cuda.is_available():
        pytest.skip("a CUDA device is available: tests/cuda runs in this process")
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    here = Path(__file__).parent
    result = subprocess.run([sys.executable, "-m", "pytest", "-o", "addopts=", "-q", "-p", "no:cacheprovider",
                             str(here / "cuda")],
                            cwd=here.parent, env=env, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert " passed" in result.stdout and " failed" not in result.stdout

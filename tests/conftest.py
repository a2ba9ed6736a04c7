"""The CUDA suite (tests/cuda) runs where tcli sees a CUDA device: a real GPU, or numba's simulator
(NUMBA_ENABLE_CUDASIM=1, which test_cuda_simulator.py sets for a pytest process of its own)."""

import tcli

collect_ignore = [] if tcli.cuda.is_available() else ["cuda"]

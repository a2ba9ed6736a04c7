"""``tcli.cuda``: device queries, and the CUDA kernels' backend for ops.

numba.cuda is imported on first need, never by ``import tcli``: ``is_available()`` first looks for the
NVIDIA driver library without importing numba, so it answers in microseconds on a machine without one.
Under numba's simulator (``NUMBA_ENABLE_CUDASIM=1``, how CI tests the CUDA code) one simulated device
is available.
"""

from __future__ import annotations

import ctypes
import os

from .errors import hint

_state: dict = {}


def _numba_cuda():
    from numba import cuda
    return cuda


def _simulated() -> bool:
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


def _driver_present() -> bool:
    for name in ("libcuda.so.1", "libcuda.so", "nvcuda.dll"):
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            continue
    return False


def is_available() -> bool:
    available = _state.get("available")
    if available is None:
        if _simulated():
            available = True
        elif not _driver_present():
            available, _state["why"] = False, "no NVIDIA driver was found (libcuda could not be loaded)"
        else:
            try:
                available = bool(_numba_cuda().is_available())
                if not available:
                    _state["why"] = "the NVIDIA driver reports no usable GPU"
            except Exception as error:  # noqa: BLE001 - any driver failure means no CUDA here
                available, _state["why"] = False, f"the CUDA driver failed to start ({error})"
        _state["available"] = available
    return available


def device_count() -> int:
    return len(_numba_cuda().gpus) if is_available() else 0


def is_initialized() -> bool:
    return "backend" in _state


def current_device() -> int:
    _require()
    return 0


def get_device_name(device=None) -> str:
    _require()
    if _simulated():
        return "numba CUDA simulator"
    name = _numba_cuda().get_current_device().name
    return name.decode() if isinstance(name, bytes) else str(name)


def synchronize(device=None) -> None:
    _require()
    _numba_cuda().synchronize()


# ---- the CUDA generator (tcli/ops/random.py's cuda_generator: a seed and an offset, no GPU needed to set it)

def _generator():
    from .ops.random import cuda_generator
    return cuda_generator


def manual_seed(seed) -> None:
    _generator().manual_seed(seed)


manual_seed_all = manual_seed


def seed() -> None:
    _generator().seed()


seed_all = seed


def initial_seed() -> int:
    return _generator().initial_seed()


def get_rng_state(device="cuda"):
    return _generator().get_state()


def set_rng_state(new_state, device="cuda") -> None:
    _generator().set_state(new_state)


def memory_allocated(device=None) -> int:
    return backend().memory_allocated() if is_initialized() else 0


def max_memory_allocated(device=None) -> int:
    return backend().max_memory_allocated() if is_initialized() else 0


def reset_peak_memory_stats(device=None) -> None:
    if is_initialized():
        backend().reset_peak_memory_stats()


def memory_reserved(device=None) -> int:
    """Bytes held on the device: blocks of live tensors plus the cache of freed blocks."""
    return backend().memory_reserved() if is_initialized() else 0


def empty_cache() -> None:
    """Gives the cached blocks of dead tensors back to the device (live tensors keep theirs)."""
    if is_initialized():
        backend().empty_cache()


def _require():
    if not is_available():
        raise RuntimeError(
            f"CUDA is not available: {_state.get('why', 'no GPU')}."
            + hint("use device='cpu', or pick the device with "
                   "tcli.device('cuda' if tcli.cuda.is_available() else 'cpu')."))


def check_device(device):
    """The device tensors will live on: a cuda device is checked and given its index (cuda -> cuda:0)."""
    if device.type == "cuda":
        _require()
        index = 0 if device.index is None else device.index
        if index >= device_count():
            raise RuntimeError("CUDA error: invalid device ordinal"
                               + hint(f"this machine has {device_count()} CUDA device(s); use 'cuda:0'."))
        from .device import device as make
        return make("cuda", index)
    return device


def backend():
    """tcli.kernels.cuda (imported, with numba.cuda, on first use)."""
    module = _state.get("backend")
    if module is None:
        _require()
        from .kernels import cuda as module
        _state["backend"] = module
    return module

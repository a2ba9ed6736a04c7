"""``tcli.cuda``: device queries. tcli's CUDA kernels are not part of this release yet, so every
query answers as PyTorch does on a machine without a usable GPU, and moving a tensor to 'cuda'
raises a clear error instead of a Numba traceback."""

from __future__ import annotations

from .errors import hint


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def current_device() -> int:
    _unavailable()


def get_device_name(device=None) -> str:
    _unavailable()


def synchronize(device=None) -> None:
    _unavailable()


def manual_seed(seed) -> None:
    """Seeding CUDA without a GPU is a no-op, as in PyTorch."""


manual_seed_all = manual_seed


def memory_allocated(device=None) -> int:
    return 0


def max_memory_allocated(device=None) -> int:
    return 0


def empty_cache() -> None:
    pass


def _unavailable():
    raise RuntimeError(
        "CUDA support is not available in this version of tcli: tensors live on the CPU."
        + hint("use device='cpu' (or pick it with tcli.device('cuda' if tcli.cuda.is_available() else "
               "'cpu')); tcli.cuda.is_available() is False."))


def check_device(device):
    """Raise the clear CUDA error for a cuda device; return the device otherwise."""
    if device.type == "cuda":
        _unavailable()
    return device


def backend():
    _unavailable()

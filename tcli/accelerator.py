"""``tcli.accelerator``: PyTorch's device-agnostic questions, which its tutorials now ask first
(``torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"``). tcli's only
accelerator is CUDA."""

from __future__ import annotations

from . import cuda as _cuda
from .device import device as _device


def is_available() -> bool:
    return _cuda.is_available()


def current_accelerator(check_available: bool = False):
    """The accelerator's device type as a device (``device(type='cuda')``), or None without one."""
    return _device("cuda") if _cuda.is_available() else None


def device_count() -> int:
    return _cuda.device_count()


def current_device_index() -> int:
    return _cuda.current_device()


def synchronize(device=None) -> None:
    _cuda.synchronize(device)

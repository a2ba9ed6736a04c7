"""``tcli.backends``: the flags PyTorch scripts read or set (``torch.backends.mps.is_available()`` in device
selection, ``cudnn.benchmark``/``deterministic`` in seeding recipes). tcli has no MPS and no cuDNN: the
answers are PyTorch's on a CPU-only build, and the flags are kept so that setting them works."""

from __future__ import annotations

import types


class _Mps:
    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def is_built() -> bool:
        return False


class _Cudnn:
    enabled = True
    benchmark = False
    deterministic = False
    allow_tf32 = True

    @staticmethod
    def is_available() -> bool:
        return False


mps = _Mps()
cudnn = _Cudnn()
cuda = types.SimpleNamespace(matmul=types.SimpleNamespace(allow_tf32=False))

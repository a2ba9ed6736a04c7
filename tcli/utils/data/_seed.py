"""The seeds PyTorch's data utilities draw: ``torch.empty((), dtype=torch.int64).random_(generator=g).item()``."""

from __future__ import annotations


def draw_seed(generator=None) -> int:
    """A 63-bit seed from ``generator`` (the default generator when None), drawn as PyTorch draws it, so samplers
    and loaders consume exactly what PyTorch consumes and shuffle the same way."""
    from ... import int64
    from ...ops.creation import empty
    return int(empty((), dtype=int64).random_(generator=generator).item())

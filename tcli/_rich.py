"""``Tensor.__rich__``: PyTorch's text, coloured, under a one-line summary of the tensor."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"-?(?:nan|inf|\d+\.?\d*(?:e[+-]?\d+)?|\.\d+)|True|False")
_SUFFIX = re.compile(r"(dtype|device|requires_grad|grad_fn|size)=")


def _human_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def summary(t) -> str:
    """shape · dtype · device · numel · memory · min/max/mean · NaN/Inf flags · grad state."""
    from .autograd.grad_mode import no_grad
    count = f"{t.numel():,} element{'' if t.numel() == 1 else 's'}"
    parts = [f"shape {list(t.shape)}", str(t.dtype).replace("torch.", ""), str(t.device), count,
             _human_bytes(t.nbytes)]
    n = t.numel()
    stats = t if t.device.type == "cpu" else t.detach().cpu()  # the statistics are read on the host
    if n and t.dtype.is_floating_point:
        with no_grad():
            x = stats.detach()
            finite = x.isfinite()
            n_finite = int(finite.sum().item())
            if n_finite:
                values = x[finite] if n_finite != n else x
                parts.append(f"min {values.min().item():.4g} max {values.max().item():.4g} "
                             f"mean {values.float().mean().item():.4g}")
            if n_finite != n:
                nans = int(x.isnan().sum().item())
                infs = n - n_finite - nans
                parts.append(" ".join(f for f in (f"{nans} NaN" if nans else "", f"{infs} Inf" if infs else "") if f))
    elif n and t.dtype.name != "bool":
        with no_grad():
            parts.append(f"min {stats.min().item()} max {stats.max().item()}")
    elif n:
        parts.append(f"{int(stats.sum().item())} True")
    if t.grad_fn is not None:
        parts.append(f"grad_fn {t.grad_fn.name()}")
    elif t.requires_grad:
        parts.append("leaf, requires grad" + (", .grad set" if t._grad is not None else ""))
    return " · ".join(parts)


def render(t):
    from rich.console import Group
    from rich.text import Text
    body = Text(repr(t))
    body.highlight_regex(_NUMBER, "cyan")
    body.highlight_regex(_SUFFIX, "magenta")
    body.highlight_regex(r"grad_fn=<\w+>", "yellow")
    return Group(Text(summary(t), style="dim"), body)

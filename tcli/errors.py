"""Errors that teach: PyTorch's exception type and first line, then a ``hint:`` line with the fix."""

from __future__ import annotations


def hint(text: str) -> str:
    """The suffix tcli appends to PyTorch's message: a newline and ``hint: <text>``."""
    return "\nhint: " + text


def shape_str(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def by(shape) -> str:
    """PyTorch's '2x3' spelling of a matrix shape."""
    return "x".join(str(s) for s in shape)

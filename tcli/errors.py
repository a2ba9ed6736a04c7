"""Errors that teach: PyTorch's exception type and first line, then a ``hint:`` line with the fix."""

from __future__ import annotations

import sys


def hint(text: str) -> str:
    """The suffix tcli appends to PyTorch's message: a newline and ``hint: <text>``."""
    return "\nhint: " + text


def shape_str(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def by(shape) -> str:
    """PyTorch's '2x3' spelling of a matrix shape."""
    return "x".join(str(s) for s in shape)


_PLUMBING = ("tcli.ops.methods", "tcli.ops.inplace", "tcli.kernels")  # they route calls: never the API's name


def api_name(default: str = "tcli") -> str:
    """The tcli function the user called (the outermost public tcli function below the user's code), for
    PyTorch's "zeros(): argument ..." errors raised deep inside a helper. Only error paths call it: it walks the
    stack, and stops at the user's frame (a script under `tcli run` has tcli's CLI further out)."""
    name, frame = default, sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not module.startswith("tcli"):
            break
        code = frame.f_code.co_name
        if not module.startswith(_PLUMBING) and not code.startswith("_") and not code.startswith("<"):
            name = code
        frame = frame.f_back
    return name


def not_a_tensor(value, name: str, arg: str = "input", position: int = 1) -> TypeError:
    """PyTorch's TypeError for a non-tensor argument (its argument parser's words), with a hint."""
    return TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, not {type(value).__name__}"
                     + hint("make it a tensor first: tcli.tensor(...)."))

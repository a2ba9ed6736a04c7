"""``tcli.linalg``: the vector and matrix norms (the rest of torch.linalg is not in tcli yet)."""

from __future__ import annotations

from .ops.linalg import matmul
from .ops.reduction import vector_norm

__all__ = ["vector_norm", "norm", "matrix_norm", "matmul"]


def norm(x, ord=None, dim=None, keepdim=False, *, dtype=None):
    if ord is None or dim is None or isinstance(dim, int):
        return vector_norm(x, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    return matrix_norm(x, ord, dim, keepdim)


def matrix_norm(x, ord="fro", dim=(-2, -1), keepdim=False):
    if ord != "fro":
        raise NotImplementedError("tcli.linalg.matrix_norm supports ord='fro' only")
    return vector_norm(x, 2, dim, keepdim)

"""Shape arithmetic shared by ops: dims, broadcasting, and layouts for strided kernels."""

from __future__ import annotations

import functools

from .._tensor import Tensor
from ..errors import hint, not_a_tensor, shape_str


def wrap_dim(dim, ndim: int) -> int:
    """A dim in [-ndim, ndim) as a non-negative index (0-d tensors accept -1 and 0)."""
    if not isinstance(dim, int):
        if hasattr(dim, "__index__") and not getattr(dim, "is_floating_point", lambda: False)():
            dim = dim.__index__()
        else:
            raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    n = ndim if ndim > 0 else 1
    if dim < -n or dim >= n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
            + hint(f"the tensor has {ndim} dimension{'s' if ndim != 1 else ''}; valid dims are "
                   f"{-n}..{n - 1}."))
    return dim + n if dim < 0 else dim


def wrap_dims(dims, ndim: int) -> tuple:
    out = tuple(wrap_dim(d, ndim) for d in dims)
    if len(set(out)) != len(out):
        d = next(d for d in out if out.count(d) > 1)
        raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return out


def broadcast_shapes(a: tuple, b: tuple) -> tuple:
    if a == b:
        return a
    na, nb = len(a), len(b)
    n = max(na, nb)
    out = [0] * n
    for i in range(n - 1, -1, -1):  # from the right, so the error names the last mismatch as PyTorch does
        x = a[i - n + na] if i - n + na >= 0 else 1
        y = b[i - n + nb] if i - n + nb >= 0 else 1
        if x == y or y == 1:
            out[i] = x
        elif x == 1:
            out[i] = y
        else:
            dim = i
            raise RuntimeError(
                f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton "
                f"dimension {dim}"
                + hint(f"shapes {shape_str(a)} and {shape_str(b)} do not broadcast: sizes must be equal or 1 "
                       "when aligned from the right; insert a dim with .unsqueeze() or fix the shape with "
                       ".reshape()/.view()."))
    return tuple(out)


def broadcast_many(*shapes) -> tuple:
    out = shapes[0]
    for s in shapes[1:]:
        out = broadcast_shapes(out, s)
    return out


def expand_strides(shape, strides, target) -> tuple:
    """Strides of a tensor broadcast to ``target`` (0 where it is expanded)."""
    lead = len(target) - len(shape)
    out = [0] * lead
    for size, stride, t in zip(shape, strides, target[lead:]):
        out.append(stride if size == t else 0)
    return tuple(out)


def coalesce(shape, *stride_sets):
    """Merge dims that every operand walks contiguously and drop size-1 dims.

    Returns (shape, [strides...]) with at least one dim, so a kernel sees the fewest, longest rows.
    """
    dims = [i for i, s in enumerate(shape) if s != 1]
    if not dims:
        return (1,), [(0,) for _ in stride_sets]
    new_shape = [shape[dims[0]]]
    new_strides = [[st[dims[0]]] for st in stride_sets]
    for i in dims[1:]:
        size = shape[i]
        if all(ns[-1] == st[i] * size for ns, st in zip(new_strides, stride_sets)):
            new_shape[-1] *= size
            for ns, st in zip(new_strides, stride_sets):
                ns[-1] = st[i]
        else:
            new_shape.append(size)
            for ns, st in zip(new_strides, stride_sets):
                ns.append(st[i])
    return tuple(new_shape), [tuple(ns) for ns in new_strides]


def normalize_shape(args) -> tuple:
    """Accept f(2, 3), f((2, 3)), f([2, 3]) and f(torch.Size([2, 3])) as PyTorch does."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    if type(args) is tuple and all(type(a) is int for a in args):
        return args
    out = []
    for a in args:
        if isinstance(a, bool) or not hasattr(a, "__index__"):
            raise TypeError(f"expected a sequence of integers for the size, but got {type(a).__name__}"
                            + hint("sizes are ints, e.g. tcli.zeros(2, 3) or tcli.zeros((2, 3))."))
        out.append(a.__index__())
    return tuple(out)


def check_sizes_nonnegative(shape):
    for s in shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(shape)}")


def numpy_names(fn):
    """fn that also takes numpy's axis= and keepdims= for dim= and keepdim=, as PyTorch's argument parser does."""
    def _call(*args, **kwargs):  # private: errors name the op (errors.api_name), not this wrapper
        if "axis" in kwargs:
            kwargs["dim"] = kwargs.pop("axis")
        if "keepdims" in kwargs:
            kwargs["keepdim"] = kwargs.pop("keepdims")
        try:
            return fn(*args, **kwargs)
        except AttributeError:
            if args and not isinstance(args[0], Tensor):  # torch.sum([1, 2]): PyTorch's TypeError, not ours
                raise not_a_tensor(args[0], fn.__name__) from None
            raise

    return functools.wraps(fn)(_call)

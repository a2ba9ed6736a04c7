"""In-place ops (``x.add_(y)``, ``x -= y``, ``x[i] = v``, ``copy_``, ``zero_``) with PyTorch's autograd rules.

Without autograd involvement an in-place op writes straight into x's memory and bumps its version
counter. When the graph must record it, x's old value is kept as a clone, the op runs out of place
on it, and x takes over the result's history ("rebasing"). When x is a view, the base's history
becomes "base with this region replaced", so gradients reach both the old base and the new values.
"""

from __future__ import annotations

from .. import dtypes as _dt
from .._tensor import Tensor
from ..autograd.grad_mode import STATE
from ..autograd.graph import Node, attach
from ..device import CPU
from ..errors import hint
from . import _dispatch as D
from .pointwise import _scalar_result, _tensor_result, is_number


def check_inplace(x: Tensor, *others) -> bool:
    """PyTorch's errors for in-place ops on leaves; True if the op must be recorded in the graph."""
    if not STATE.enabled:
        return False
    if x._requires_grad and x._grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation."
                           + hint("update parameters inside `with tcli.no_grad():`, or use an out-of-place op "
                                  "(w = w - lr * g)."))
    base = x._base
    if base is not None and base._requires_grad and base._grad_fn is None and x._requires_grad:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation."
                           + hint("do it inside `with tcli.no_grad():`, or clone() the leaf first."))
    if x._requires_grad:
        return True
    return any(isinstance(o, Tensor) and o._requires_grad for o in others)


def mark_modified(x: Tensor):
    x._vc.bump()


def _stand_in(x: Tensor) -> Tensor:
    """A tensor object carrying x's current history (its edge), for use as a node input."""
    t = x._detached()
    t._grad_fn = x._grad_fn
    t._output_nr = x._output_nr
    t._requires_grad = x._requires_grad
    return t


class CopySlices(Node):
    """base_new = base_old with a view's region replaced by new values (an in-place op on a view)."""

    def backward(self, g):
        shape, strides, offset = self.ctx
        g_base = D.contiguous_copy(g)
        region = g_base._view_of(shape, strides, offset)
        g_new = D.contiguous_copy(region)
        D.fill(region, 0)
        return g_base, g_new


class AsStridedBackward0(Node):
    """A view of a base whose history was rebased: the gradient lands in the view's region."""

    def backward(self, g):
        base_shape, shape, strides, offset = self.ctx
        z = D.empty(base_shape, g._dtype, g._device)
        D.fill(z, 0)
        D.map1_into("copy", z._view_of(shape, strides, offset), g)
        return (z,)


def rebase_history(x: Tensor, new_values: Tensor):
    """x's values were just replaced in place by ``new_values`` (a tensor with a grad_fn): take its history."""
    mark_modified(x)
    base = x._base
    if base is None:
        x._grad_fn = new_values._grad_fn
        x._output_nr = new_values._output_nr
        x._requires_grad = True
        return
    if not base._dense:
        raise NotImplementedError("in-place ops with autograd on views of non-contiguous tensors are not supported"
                                  + hint("clone() the base first, or work on a contiguous tensor."))
    geometry = (x._shape, x._strides, x._offset)
    copy_slices = CopySlices()
    copy_slices.ctx = geometry
    attach(copy_slices, base, _stand_in(base), new_values)
    refresh_view(x)


def refresh_view(view: Tensor):
    """Give a view the history 'this region of its base as it is now' (the base was changed in place)."""
    base = view._base
    view._base_fn = base._grad_fn
    if not base._requires_grad:
        return
    if base._dense:
        node = AsStridedBackward0()
        node.ctx = (base._shape, view._shape, view._strides, view._offset)
    else:
        from .shape import AsStridedBackward0 as GeneralAsStrided
        node = GeneralAsStrided()
        node.ctx = (base._shape, base._strides, base._offset, view._shape, view._strides, view._offset)
    view._output_nr = 0
    attach(node, view, base)


def record_inplace(x: Tensor, node: Node, *inputs):
    """Record that x now holds ``node(*inputs)`` (inputs hold x's *old* history where they refer to x)."""
    new_values = x._detached()
    attach(node, new_values, *inputs)
    rebase_history(x, new_values)


def _can_cast(src, dst) -> bool:
    """PyTorch's canCast: no float -> integer and no integer/float -> bool."""
    if dst is _dt.bool_:
        return src is _dt.bool_
    if not dst.is_floating_point:
        return not src.is_floating_point
    return True


def _cast_error(result, dst, cpp_names=False):
    target = _dt.cpp_name(dst) if cpp_names else _dt.scalar_name(dst)
    return RuntimeError(f"result type {_dt.scalar_name(result)} can't be cast to the desired output type {target}"
                        + hint("an in-place op keeps the tensor's dtype; use the out-of-place form (x = x + y) or "
                               "convert first (x = x.float())."))


# ---- the generic in-place step ------------------------------------------------------------------------------

def apply(x: Tensor, fn, *args, **kwargs) -> Tensor:
    """x = fn(x, *args, **kwargs), in place, with PyTorch's autograd rules."""
    if check_inplace(x, *args, *kwargs.values()):
        old = _stand_in(x)
        from .shape import clone
        result = fn(clone(old), *args, **kwargs)
        if not _can_cast(result._dtype, x._dtype):
            raise _cast_error(result._dtype, x._dtype)
        _check_fits(x, result)
        D.map1_into("copy", x, result.detach())
        rebase_history(x, result)
        return x
    result = fn(x, *args, **kwargs)
    if not _can_cast(result._dtype, x._dtype):
        raise _cast_error(result._dtype, x._dtype)
    _check_fits(x, result)
    D.map1_into("copy", x, result)
    mark_modified(x)
    return x


def _check_fits(x, result):
    """An in-place op cannot grow x: PyTorch's error when broadcasting made the result larger."""
    if result._shape != x._shape:
        raise RuntimeError(f"output with shape {list(x._shape)} doesn't match the broadcast shape "
                           f"{list(result._shape)}"
                           + hint("an in-place op keeps the tensor's shape; use the out-of-place form (y = x + z)."))


# ---- fast paths for arithmetic without autograd ---------------------------------------------------------------

_DIRECT = (_dt.float32, _dt.float64)


def binary(x: Tensor, kernel, other, fn, **kwargs):
    """x op= other: straight into x's memory when nothing needs recording."""
    if STATE.enabled and (x._requires_grad or (isinstance(other, Tensor) and other._requires_grad)):
        return apply(x, fn, other, **kwargs)
    dt = x._dtype
    if (isinstance(other, Tensor) and other._dtype is dt and dt in _DIRECT and other._shape == x._shape
            and x._dense and other._dense and not kwargs and other._device is x._device):
        # An optimizer step's `w -= lr * g` and the engine's `grad += g`: the checks below, decided up front.
        (D.K if x._device is CPU else D.kernels(x)).binary(kernel, x._buf, x._buf, other._buf)
        x._vc.bump()
        return x
    if is_number(other) and not kwargs:
        value = other.item() if hasattr(other, "item") else other
        compute = _scalar_result(dt, value)
        if compute is dt and dt is not _dt.float16:
            if x._dense:
                D.kernels(x).unary(kernel + "_s", x._buf, x._buf, D.scalar_of(value, dt), D.scalar_of(0, dt))
            else:
                D.map1_into(kernel + "_s", x, x, D.scalar_of(value, dt), D.scalar_of(0, dt))
            mark_modified(x)
            return x
    elif isinstance(other, Tensor) and not kwargs and dt is not _dt.float16:
        if _tensor_result(x, other) is dt and other._dtype is dt:
            from ._util import broadcast_shapes
            if other._shape != x._shape and broadcast_shapes(x._shape, other._shape) != x._shape:
                raise RuntimeError(f"output with shape {list(x._shape)} doesn't match the broadcast shape "
                                   f"{list(broadcast_shapes(x._shape, other._shape))}")
            D.map2_into(kernel, x, x, other)
            mark_modified(x)
            return x
    return apply(x, fn, other, **kwargs)


# ---- copy_, fill_, zero_ --------------------------------------------------------------------------------------

class CopyBackwards(Node):
    """x.copy_(src): the old x gets no gradient, src gets g summed to its shape (and cast back)."""

    def backward(self, g):
        nf = self.next_functions
        g_src = g if nf[1][0] is not None else None
        return (g.new_zeros(()).expand(g._shape) if nf[0][0] is not None else None), g_src


def copy_(x: Tensor, src, non_blocking=False) -> Tensor:
    if not isinstance(src, Tensor):
        from .creation import tensor
        src = tensor(src, dtype=x._dtype, device=x._device)
    from ._util import broadcast_shapes
    if broadcast_shapes(x._shape, src._shape) != x._shape:
        raise RuntimeError(f"output with shape {list(x._shape)} doesn't match the broadcast shape "
                           f"{list(broadcast_shapes(x._shape, src._shape))}")
    if src._device is not x._device:
        src = src.to(x._device)  # a copy across devices: its gradient goes back the same way
    if check_inplace(x, src):
        old = _stand_in(x)
        D.map1_into("copy", x, src.detach())
        record_inplace(x, CopyBackwards(), old, src)
        return x
    D.map1_into("copy", x, src)
    mark_modified(x)
    return x


class FillBackward(Node):
    """fill_/zero_: the old values get no gradient; a 0-d tensor value gets the sum of it (FillBackward3)."""

    def backward(self, g):
        nf = self.next_functions
        g_old = g.new_zeros(()).expand(g._shape) if nf[0][0] is not None else None
        if len(nf) == 1:
            return (g_old,)
        return g_old, (g.sum() if nf[1][0] is not None else None)

    def name(self):
        return self.ctx  # FillBackward2 (a number), FillBackward3 (a tensor) or ZeroBackward0, as PyTorch names them


def fill_(x: Tensor, value) -> Tensor:
    return _fill(x, value, "FillBackward2")


def _fill(x: Tensor, value, name) -> Tensor:
    source = None
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.dim()} "
                               "dimensions.")
        source, value, name = value, value.item(), "FillBackward3"
    if check_inplace(x, source):  # x in a graph, or a value that requires grad (then x does afterwards)
        old = _stand_in(x)
        D.fill(x, value)
        n = FillBackward()
        n.ctx = name
        record_inplace(x, n, old, *(() if source is None else (source,)))
        return x
    D.fill(x, value)
    mark_modified(x)
    return x


def zero_(x: Tensor) -> Tensor:
    zero = _ZEROS.get(x._dtype)
    if zero is not None and x._dense and not (STATE.enabled and x._requires_grad):
        # a gradient's zero_(), every training step
        (D.K if x._device is CPU else D.kernels(x)).unary("fill", x._buf, x._buf, zero, zero)
        x._vc.bump()
        return x
    return _fill(x, 0, "ZeroBackward0")


_ZEROS = {t: D.scalar_of(0, t) for t in _DIRECT}

"""Custom autograd Functions: ``class F(tcli.autograd.Function)`` with static forward/backward, used as F.apply."""

from __future__ import annotations

from . import grad_mode
from .graph import Node, attach


class FunctionCtx:
    """The ``ctx`` a custom Function's forward and backward share."""

    def __init__(self):
        self._saved = ()
        self.needs_input_grad = ()
        self._node = None

    def save_for_backward(self, *tensors):
        self._saved = tensors

    @property
    def saved_tensors(self):
        if self._node is not None:
            return self._node.saved_tensors
        return self._saved

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable = tensors

    def mark_dirty(self, *tensors):
        pass

    def set_materialize_grads(self, value):
        pass


class _CustomNode(Node):
    __slots__ = ("fn", "ctx", "tensor_positions")

    def backward(self, *grads):
        with grad_mode.no_grad() if not grad_mode.STATE.enabled else grad_mode.enable_grad():
            result = self.fn.backward(self.ctx, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        return tuple(result[i] if i < len(result) else None for i in self.tensor_positions)

    def name(self):
        return self.fn.__name__ + "Backward"


class Function:
    """Subclass with ``forward(ctx, *args)`` and ``backward(ctx, *grads)`` staticmethods; call ``apply``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        from .._tensor import Tensor
        ctx = FunctionCtx()
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        with grad_mode.no_grad():
            out = cls.forward(ctx, *args, **kwargs)
        tensors = [args[i] for i in positions]
        if grad_mode.STATE.enabled and any(t._requires_grad for t in tensors):
            outputs = out if isinstance(out, tuple) else (out,)
            node = _CustomNode()
            node.fn = cls
            node.ctx = ctx
            node.tensor_positions = positions
            node.save(*[t for t in ctx._saved])
            ctx._node = node
            skip = {id(t) for t in getattr(ctx, "_non_differentiable", ())}
            first = next(o for o in outputs if isinstance(o, Tensor) and id(o) not in skip)
            attach(node, first, *tensors)
        return out

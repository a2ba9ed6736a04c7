"""``nn.Parameter``: a Tensor that a Module registers as a learnable parameter."""

from __future__ import annotations

from .._tensor import Tensor
from ..errors import hint


class Parameter(Tensor):
    """An alias of ``data`` (same storage and version counter) that requires grad by default.

    Ops on a Parameter return plain Tensors, as in PyTorch; assigning one to a Module attribute registers it.
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from ..ops.creation import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter data must be a Tensor, got {type(data).__name__}")
        p = Tensor._make.__func__(cls, data._buf, data._shape, data._strides, data._offset, data._dtype,
                                  data._vc, data._dense, data._device)
        if requires_grad and not data._dtype.is_floating_point:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients"
                               + hint(f"the data is {data._dtype}: make it floating point, nn.Parameter(t.float())."))
        p._requires_grad = bool(requires_grad)
        return p

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.detach(), self._requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        p = Parameter(self.detach().clone(), self._requires_grad)  # PyTorch's copy has no .grad
        memo[id(self)] = p
        return p


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


class Buffer:
    """Marks a tensor assigned to a Module attribute as a buffer (``self.x = nn.Buffer(t)``)."""

    def __init__(self, data, *, persistent=True):
        self.data, self.persistent = data, persistent

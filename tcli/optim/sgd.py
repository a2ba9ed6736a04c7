"""SGD with momentum, dampening, Nesterov momentum, weight decay and maximize (PyTorch's torch.optim.SGD)."""

from __future__ import annotations

from .._tensor import Tensor
from ..ops._dispatch import K
from .optimizer import Optimizer, check_fused_foreach, new_state, number

__all__ = ["SGD"]


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False,
                 foreach=None, differentiable=False, fused=None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize, "foreach": foreach, "differentiable": differentiable,
                    "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        check_fused_foreach(fused, foreach)

    def _group_scalars(self, group, step):
        return (-1.0 if group["maximize"] else 1.0, group["weight_decay"], group["momentum"],
                1 - group["dampening"], -number(group["lr"]))

    def _update(self, p, grad, group, scalars):
        sc = self._scalars(group, scalars)
        if group["momentum"] == 0:
            self._launch(K.sgd_update, p, grad, (None,), sc, False, False, False)
            return
        state = self.state[p]
        buf = state.get("momentum_buffer")
        first = buf is None
        if first:  # PyTorch's first momentum buffer is the (decayed) gradient itself
            buf = state["momentum_buffer"] = new_state(p)
        self._launch(K.sgd_update, p, grad, (buf,), sc, True, first, bool(group["nesterov"]))

"""RMSprop with momentum, centering, weight decay and maximize (PyTorch's torch.optim.RMSprop)."""

from __future__ import annotations

from .._tensor import Tensor
from ..ops._dispatch import K
from .optimizer import Optimizer, bump_step, new_state, number, step_tensor

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _group_scalars(self, group, step):
        alpha = group["alpha"]
        return (-1.0 if group["maximize"] else 1.0, group["weight_decay"], alpha, 1 - alpha, 1.0, group["eps"],
                group["momentum"], -number(group["lr"]))

    def _update(self, p, grad, group, scalars):
        state = self.state[p]
        momentum, centered = group["momentum"], bool(group["centered"])
        if len(state) == 0:
            state["step"] = step_tensor()
            state["square_avg"] = new_state(p)
            if momentum > 0:
                state["momentum_buffer"] = new_state(p)
            if centered:
                state["grad_avg"] = new_state(p)
        bump_step(state["step"])
        self._launch(K.rmsprop_update, p, grad,
                     (state["square_avg"], state["grad_avg"] if centered else None,
                      state["momentum_buffer"] if momentum > 0 else None),
                     self._scalars(group, scalars), centered, momentum > 0)

"""Adagrad with learning-rate decay, weight decay and maximize (PyTorch's torch.optim.Adagrad)."""

from __future__ import annotations

from .._tensor import Tensor
from ..ops._dispatch import K
from .optimizer import Optimizer, bump_step, check_fused_foreach, new_state, number, step_tensor

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        check_fused_foreach(fused, foreach)
        # PyTorch creates Adagrad's state eagerly, with the constructor's accumulator value for every group
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p].update(step=step_tensor(), sum=new_state(p, initial_accumulator_value))

    def _group_scalars(self, group, step):
        clr = number(group["lr"]) / (1 + (step - 1) * group["lr_decay"])
        return (-1.0 if group["maximize"] else 1.0, group["weight_decay"], group["eps"], -clr)

    def _update(self, p, grad, group, scalars):
        state = self.state[p]
        if len(state) == 0:  # a group added later starts from the default accumulator value
            state.update(step=step_tensor(), sum=new_state(p, self.defaults["initial_accumulator_value"]))
        sc = self._scalars(group, scalars, bump_step(state["step"]))
        self._launch(K.adagrad_update, p, grad, (state["sum"],), sc)

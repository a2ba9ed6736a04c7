"""Adam and AdamW (PyTorch's torch.optim.Adam / AdamW): AdamW is Adam with decoupled weight decay."""

from __future__ import annotations

from .._tensor import Tensor
from ..ops._dispatch import K
from .optimizer import Optimizer, bump_step, check_fused_foreach, new_state, number, step_tensor

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False) -> None:
        if isinstance(lr, Tensor):
            if foreach and not capturable:
                raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
            if lr.numel() != 1:
                raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)
        check_fused_foreach(fused, foreach)

    def _group_scalars(self, group, step):
        beta1, beta2 = (number(b) for b in group["betas"])
        lr, weight_decay = number(group["lr"]), group["weight_decay"]
        return (-1.0 if group["maximize"] else 1.0, weight_decay, 1 - lr * weight_decay, 1 - beta1, 1.0, beta2,
                1 - beta2, (1 - beta2 ** step) ** 0.5, group["eps"], -(lr / (1 - beta1 ** step)))

    def _update(self, p, grad, group, scalars):
        state = self.state[p]
        amsgrad = bool(group["amsgrad"])
        if len(state) == 0:
            state["step"] = step_tensor()
            state["exp_avg"] = new_state(p)
            state["exp_avg_sq"] = new_state(p)
            if amsgrad:
                state["max_exp_avg_sq"] = new_state(p)
        sc = self._scalars(group, scalars, bump_step(state["step"]))
        decoupled = bool(group["decoupled_weight_decay"]) and group["weight_decay"] != 0
        self._launch(K.adam_update, p, grad,
                     (state["exp_avg"], state["exp_avg_sq"], state["max_exp_avg_sq"] if amsgrad else None),
                     sc, amsgrad, decoupled)


class AdamW(Adam):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

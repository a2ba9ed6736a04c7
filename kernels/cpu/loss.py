"""Loss kernels: nll_loss over rows of log-probabilities with class-index targets (cross_entropy's second half).

``logp`` is a flat C-contiguous (rows, classes) buffer; ``weight`` is float64 of length classes, or empty for
all-ones. Targets equal to ``ignore_index`` contribute nothing. The kernels trust their caller for the buffer
sizes, but check every target against the class count, because a target indexes memory.
"""

from __future__ import annotations

from ._jit import jit


@jit
def nll_forward(logp, classes, target, weight, ignore_index, losses):
    """losses[i] = -weight[t_i] * logp[i, t_i]; returns (sum of losses, sum of weights, first bad row or -1)."""
    total_loss = 0.0
    total_weight = 0.0
    weighted = weight.shape[0] > 0
    for i in range(target.shape[0]):
        t = target[i]
        if t == ignore_index:
            losses[i] = 0
            continue
        if t < 0 or t >= classes:
            return total_loss, total_weight, i
        w = weight[t] if weighted else 1.0
        value = -w * logp[i * classes + t]
        losses[i] = value
        total_loss += value
        total_weight += w
    return total_loss, total_weight, -1


@jit
def nll_backward(grad, classes, target, weight, ignore_index, scale):
    """grad (zero-filled, rows x classes) gets -weight[t_i] * scale[i] at each row's target."""
    weighted = weight.shape[0] > 0
    for i in range(target.shape[0]):
        t = target[i]
        if t != ignore_index:
            grad[i * classes + t] = -(weight[t] if weighted else 1.0) * scale[i]

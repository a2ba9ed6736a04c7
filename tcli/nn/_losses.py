"""The loss functions of ``nn.functional``: forward values, PyTorch's graph nodes and checks, backward formulas.

Each loss is computed under no_grad and recorded as one node with PyTorch's name (``MseLossBackward0``, ...),
so a printed loss shows PyTorch's ``grad_fn``; backward formulas are tcli ops, so double backward works.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import dtypes as _dt
from .._tensor import Tensor
from ..autograd.grad_mode import STATE, is_grad_enabled, no_grad
from ..errors import hint, not_a_tensor
from ..ops import _dispatch as D
from ..ops import pointwise as _pw
from ..ops.creation import zeros
from ..ops.reduction import log_softmax
from ._formula import record as _record


def _check_weight(weight, function):
    """PyTorch has no derivative for a loss's class/element weights."""
    if weight is not None and weight.requires_grad and is_grad_enabled():
        raise RuntimeError(f"The function '{function}' is not differentiable with respect to argument 'weight'. "
                           "This input cannot have requires_grad True."
                           + hint("pass weight.detach() (weights are constants of the loss)."))


def _reduction(reduction, size_average=None, reduce=None):
    """The reduction, from PyTorch's legacy size_average/reduce flags when given."""
    if isinstance(size_average, Tensor) and size_average.numel() > 1:  # nn.MSELoss(pred, target): a learner's slip
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous"
                           + hint("a loss module is made first, then called: loss_fn = nn.MSELoss(); "
                                  "loss = loss_fn(pred, target) (or F.mse_loss(pred, target))."))
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else ("mean" if size_average else "sum")
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' "
                      "instead.", UserWarning, stacklevel=3)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction"
                         + hint("reduction is 'mean' (default), 'sum' or 'none'."))
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _reduced_grad(g, reduction, numel):
    """The gradient of the reduction, as a factor that broadcasts over the unreduced loss."""
    return _pw.div(g, numel) if reduction == "mean" else g


def _warn_size(input, target):
    if target.shape != input.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). This will "
            "likely lead to incorrect results due to broadcasting. Please ensure they have the same size."
            + hint("make them match, e.g. target.view_as(input) or output.squeeze(-1)."), UserWarning, stacklevel=3)


def _pointwise_loss(name, value, slope, input, target, reduction):
    """A loss that is a pointwise function of d = input - target, then reduced."""
    _warn_size(input, target)
    with no_grad():
        diff = _pw.sub(input, target)
        out = _reduce(value(diff), reduction)

    def formula(g, node):  # tcli ops: under create_graph they record, so double backward works
        x, t = node.saved_tensors
        d = _pw.sub(x, t)
        gi = _pw.mul(slope(d), _reduced_grad(g, reduction, d.numel()))
        return gi, _pw.neg(gi)
    return _record(name, formula, out, (input, target), (input, target))


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _reduction(reduction, size_average, reduce)
    return _pointwise_loss("MseLossBackward0", lambda d: _pw.mul(d, d), lambda d: _pw.mul(d, 2.0),
                           input, target, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _reduction(reduction, size_average, reduce)
    _warn_size(input, target)
    return _reduce(_pw.abs(_pw.sub(input, target)), reduction)  # PyTorch composes this one too


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    reduction = _reduction(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)

    def value(d):
        a = _pw.abs(d)
        return _pw.where(a < beta, _pw.mul(_pw.mul(d, d), 0.5 / beta), _pw.sub(a, 0.5 * beta))

    def slope(d):
        return _pw.where(_pw.abs(d) < beta, _pw.div(d, beta), _pw.sign(d))
    return _pointwise_loss("SmoothL1LossBackward0", value, slope, input, target, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    reduction = _reduction(reduction)

    def value(d):
        a = _pw.abs(d)
        return _pw.where(a < delta, _pw.mul(_pw.mul(d, d), 0.5), _pw.mul(_pw.sub(a, 0.5 * delta), delta))

    def slope(d):
        return _pw.where(_pw.abs(d) < delta, d, _pw.mul(_pw.sign(d), delta))
    return _pointwise_loss("HuberLossBackward0", value, slope, input, target, reduction)


# ---- classification ------------------------------------------------------------------------------------

def _one_sample(input, target, name):
    """A single sample's class scores (C,) with a one-element target (1,): the target as 0-d, as PyTorch takes it."""
    if not isinstance(target, Tensor):
        raise not_a_tensor(target, name, "target", 2)
    if input.dim() == 1 and target.dim() == 1 and not target.dtype.is_floating_point:
        if target.shape[0] != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target.shape[0]}"
                             + hint("one sample's scores take one class index: target of shape (1,) or ()."))
        return target.reshape(())
    return target


def _check_target(input, target):
    if target.dtype not in (_dt.int64, _dt.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_dt.scalar_name(target.dtype)}"
                           + hint("class-index targets are integers: pass target.long()."))
    if input.dim() == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    if input.dim() == 1:
        if target.dim() != 0:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        return
    if input.shape[0] != target.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                         f"({target.shape[0]})." + hint("input is (N, C) scores, target is (N,) class indices."))
    if input.dim() == 2 and target.dim() != 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported"
                           + hint("target holds one class index per row: shape (N,), e.g. target.view(-1)."))
    if input.dim() > 2 and target.shape != input.shape[:1] + input.shape[2:]:
        raise RuntimeError(f"Expected target size {list(input.shape[:1] + input.shape[2:])}, got "
                           f"{list(target.shape)}")


def _rows(input):
    """input as (M, C) rows with classes last, and how to put an (M, C) gradient back."""
    if input.dim() == 1:
        return input.unsqueeze(0), lambda g2: g2.reshape(input.shape)
    if input.dim() == 2:
        return input, lambda g2: g2
    moved = input.movedim(1, -1)
    shape = moved.shape
    return moved.reshape(-1, input.shape[1]), lambda g2: g2.reshape(shape).movedim(-1, 1)


def _first_bad_target(t, classes, ignore_index) -> int:
    """The first row whose target is out of range, or -1: read on the host, as every index is checked before a
    kernel uses it (the one look at the targets a CUDA loss takes)."""
    host = t._host_np()
    bad = np.flatnonzero((host != ignore_index) & ((host < 0) | (host >= classes)))
    return int(bad[0]) if bad.size else -1


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    reduction = _reduction(reduction, size_average, reduce)
    _check_weight(weight, "nll_loss_forward")
    target = _one_sample(input, target, "nll_loss_nd")
    _check_target(input, target)
    classes = input.shape[1] if input.dim() > 1 else input.shape[0]
    if weight is not None and weight.shape != (classes,):
        raise RuntimeError(f"weight tensor should be defined either for all {classes} classes or no classes but "
                           f"got weight tensor of shape: {list(weight.shape)}")
    with no_grad():
        rows, unrows = _rows(input)
        compute = _dt.float32 if rows.dtype is _dt.float16 else rows.dtype
        rows = D.contiguous_copy(D.cast(rows, compute)) if rows.dtype is not compute or not rows._dense else rows
        t = target.reshape(-1)
        t = D.contiguous_copy(D.cast(t, _dt.int64)) if t.dtype is not _dt.int64 or not t._dense else t
        D.check_same_device(rows, t)
        if weight is not None:
            D.check_same_device(rows, weight)
        w = np.empty(0) if weight is None else D.contiguous_copy(D.cast(weight.detach(), _dt.float64))._buf
        losses = D.empty((t.shape[0],), compute, rows._device)
        on_cpu = rows._device.type == "cpu"
        if on_cpu:
            total_loss, total_weight, bad = D.K.nll_forward(rows._buf, classes, t._buf, w, ignore_index, losses._buf)
        else:  # the loss and its total weight stay on the device
            bad, total_weight = _first_bad_target(t, classes, ignore_index), D.empty((1,), _dt.float64, rows._device)
        if bad >= 0:
            raise IndexError(f"Target {t._host_np()[bad]} is out of bounds."
                             + hint(f"class indices run from 0 to {classes - 1} (C = input.shape[1])."))
        if not on_cpu:
            kernels = D.kernels(rows)
            if reduction == "none":
                kernels.nll_rows(rows._buf, classes, t._buf, w, ignore_index, losses._buf)
                out = losses.reshape(target.shape)
            else:
                out = D.empty((), compute, rows._device)
                kernels.nll_reduce(rows._buf, classes, t._buf, w, ignore_index, reduction == "mean", out._buf,
                                   total_weight._buf)
        elif reduction == "none":
            out = losses.reshape(target.shape)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 is nan and x/0 is inf, as in PyTorch
                value = total_loss if reduction == "sum" else float(np.float64(total_loss) / total_weight)
            out = D.filled((), compute, value, rows._device)
        out = out if out.dtype is input.dtype else D.cast(out, input.dtype)

    def formula(g, node):
        if STATE.enabled:  # create_graph: the same gradient in tcli ops, differentiable in g
            keep = t != ignore_index
            safe = t.masked_fill(~keep, 0)
            coef = keep.to(g.dtype) if weight is None else _pw.mul(keep.to(g.dtype), weight.to(g.dtype)[safe])
            scale = g.reshape(-1) if reduction == "none" else g
            if reduction == "mean":  # (on a GPU a read of the total weight: create_graph is rare)
                scale = _pw.div(g, total_weight if on_cpu else total_weight.item())
            grad_rows = zeros(rows.shape, dtype=g.dtype, device=rows.device).scatter(1, safe.unsqueeze(1),
                                                                 _pw.neg(_pw.mul(coef, scale)).unsqueeze(1))
            return (unrows(grad_rows),)
        if not on_cpu:  # one kernel writes every element; the scale is found on the device, in float64
            grad_rows = D.empty(rows.shape, compute, rows._device)
            scale = g.reshape(-1)
            scale = scale if scale._dense and scale.dtype is compute else D.contiguous_copy(D.cast(scale, compute))
            D.kernels(rows).nll_grad(grad_rows._buf, classes, t._buf, w, ignore_index, scale._buf, total_weight._buf,
                                     reduction == "mean")
        else:
            grad_rows = zeros(rows.shape, dtype=compute, device=rows.device)
            if reduction == "none":
                scale = D.contiguous_copy(D.cast(g.reshape(-1), compute))._buf
            else:
                with np.errstate(divide="ignore", invalid="ignore"):  # IEEE, as the forward's mean
                    factor = np.float64(g.item()) / total_weight if reduction == "mean" else g.item()
                scale = np.full(t.shape[0], factor, compute.np)
            D.K.nll_backward(grad_rows._buf, classes, t._buf, w, ignore_index, scale)
        return (unrows(grad_rows if compute is input.dtype else D.cast(grad_rows, input.dtype)),)
    name = "NllLoss2DBackward0" if input.dim() > 2 else "NllLossBackward0"
    return _record(name, formula, out, (input,))


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    reduction = _reduction(reduction, size_average, reduce)
    _check_weight(weight, "nll_loss_forward")
    target = _one_sample(input, target, "cross_entropy_loss")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 1 if input.dim() >= 2 else 0
    if input.dim() == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    classes = input.shape[class_dim]
    logp = log_softmax(input, class_dim)
    wshape = [1] * input.dim()
    wshape[class_dim] = classes
    if target.shape == input.shape:  # class probabilities
        if not target.dtype.is_floating_point:
            raise RuntimeError(f"Expected floating point type for target with class probabilities, got "
                               f"{_dt.scalar_name(target.dtype)}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        if label_smoothing > 0:
            target = _pw.add(_pw.mul(target, 1 - label_smoothing), label_smoothing / classes)
        terms = _pw.mul(logp, target)
        if weight is not None:
            terms = _pw.mul(terms, weight.view(wshape))
        if reduction == "none":
            return _pw.neg(terms.sum(class_dim))
        total = _pw.neg(terms.sum())
        return _pw.div(total, input.numel() // classes) if reduction == "mean" else total
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0:
        return nll
    ignored = target == ignore_index
    smooth = _pw.neg((logp if weight is None else _pw.mul(logp, weight.view(wshape))).sum(class_dim))
    smooth = smooth.masked_fill(ignored, 0.0)
    if reduction == "mean":
        norm = (~ignored).sum() if weight is None else weight[target[~ignored].reshape(-1)].sum()
        smooth = _pw.div(smooth.sum(), norm)
    elif reduction == "sum":
        smooth = smooth.sum()
    return _pw.add(_pw.mul(nll, 1 - label_smoothing), _pw.mul(smooth, label_smoothing / classes))


# ---- binary ----------------------------------------------------------------------------------------------

def _weighted(values, w):
    return values if w is None else _pw.mul(values, w)


def _expand_weight(weight, shape):
    return None if weight is None else weight.expand(_broadcast(weight.shape, shape))


def _broadcast(a, b):
    from ..ops._util import broadcast_shapes
    return broadcast_shapes(tuple(a), tuple(b))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(reduction, size_average, reduce)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}) "
                         "is deprecated. Please ensure they have the same size."
                         + hint("make them match, e.g. target.view_as(input) or output.squeeze(-1)."))
    _check_weight(weight, "binary_cross_entropy")
    if target.dtype != input.dtype:
        raise RuntimeError(f"Found dtype {_dt.scalar_name(target.dtype)} but expected {_dt.scalar_name(input.dtype)}"
                           + hint("the target holds probabilities of the input's dtype: target.float()."))
    with no_grad():
        if ((input < 0) | (input > 1)).any():
            raise RuntimeError("all elements of input should be between 0 and 1"
                               + hint("binary_cross_entropy takes probabilities: apply sigmoid first, or use "
                                      "binary_cross_entropy_with_logits (BCEWithLogitsLoss) on raw scores."))
        w = _expand_weight(weight, input.shape)
        log_x = _pw.clamp(_pw.log(input), min=-100)
        log_1mx = _pw.clamp(_pw.log(_pw.rsub(input, 1)), min=-100)
        loss = _pw.sub(_pw.mul(_pw.sub(target, 1), log_1mx), _pw.mul(target, log_x))  # PyTorch's order: +0 at 0
        out = _reduce(_weighted(loss, w), reduction)

    def formula(g, node):
        x, t = node.saved_tensors
        scale = _weighted(_reduced_grad(g, reduction, x.numel()), w)
        gx = _pw.mul(scale, _pw.div(_pw.sub(x, t), _pw.clamp(_pw.mul(_pw.rsub(x, 1), x), min=1e-12)))
        gt = _pw.mul(scale, _pw.sub(_pw.clamp(_pw.log(_pw.rsub(x, 1)), min=-100), _pw.clamp(_pw.log(x), min=-100)))
        return gx, gt
    return _record("BinaryCrossEntropyBackward0", formula, out, (input, target), (input, target))


def _softplus_neg(x):
    """log(1 + exp(-x)), computed without overflow."""
    return _pw.add(_pw.log1p(_pw.exp(_pw.neg(_pw.abs(x)))), _pw.clamp(_pw.neg(x), min=0))


def _log_weight(pos_weight, t):
    return _pw.add(_pw.mul(_pw.sub(pos_weight, 1), t), 1)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    reduction = _reduction(reduction, size_average, reduce)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})"
                         + hint("make them match, e.g. target.view_as(logits) or logits.squeeze(-1)."))
    _check_weight(weight, "binary_cross_entropy_with_logits")
    if not target.dtype.is_floating_point and input.dtype.is_floating_point:
        raise RuntimeError(f"result type {_dt.scalar_name(input.dtype)} can't be cast to the desired output type "
                           f"{_dt.scalar_name(target.dtype)}" + hint("make the target floating point: target.float()."))
    with no_grad():
        w = _expand_weight(weight, input.shape)
        softplus_neg = _softplus_neg(input)
        lw = None if pos_weight is None else _log_weight(pos_weight, target)
        loss = _pw.add(_pw.mul(_pw.rsub(target, 1), input), softplus_neg if lw is None else _pw.mul(lw, softplus_neg))
        out = _reduce(_weighted(loss, w), reduction)

    def formula(g, node):
        x, t = node.saved_tensors
        scale = _weighted(_reduced_grad(g, reduction, x.numel()), w)
        s = _pw.sigmoid(x)
        if pos_weight is None:
            gx = _pw.sub(s, t)
            gt = _pw.neg(x)
        else:  # recomputed from x and t in tcli ops, so that double backward sees them
            gx = _pw.sub(_pw.mul(s, _log_weight(pos_weight, t)), _pw.mul(pos_weight, t))
            gt = _pw.add(_pw.neg(x), _pw.mul(_pw.sub(pos_weight, 1), _softplus_neg(x)))
        return _pw.mul(scale, gx), _pw.mul(scale, gt)
    return _record("BinaryCrossEntropyWithLogitsBackward0", formula, out, (input, target), (input, target))

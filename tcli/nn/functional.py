"""``tcli.nn.functional`` (``F``): activations, linear, dropout, normalisation, embedding, padding, losses.

Ops whose graph node PyTorch names (``NativeLayerNormBackward0``, ``EmbeddingBackward0``, ...) get a node of that
name with its backward formula written in tcli ops, so double backward works; the rest compose tcli ops.
"""

from __future__ import annotations

from .. import dtypes as _dt
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..errors import hint, not_a_tensor
from ..ops import inplace as _inplace_ops
from ..ops import pointwise as _pw
from ..ops.creation import zeros
from ..ops.indexing import index_select, one_hot  # noqa: F401
from ..ops.linalg import addmm, matmul
from ..ops.random import bernoulli
from ..ops.reduction import log_softmax as _log_softmax
from ..ops.reduction import softmax as _softmax
from ._formula import record as _record
from ._losses import (  # noqa: F401
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)

__all__ = ["relu", "relu_", "leaky_relu", "elu", "gelu", "silu", "sigmoid", "tanh", "softmax", "log_softmax",
           "one_hot", "linear", "dropout", "layer_norm", "batch_norm", "embedding", "pad", "mse_loss", "l1_loss",
           "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits"]


# ---- activations ----------------------------------------------------------------------------------------

def relu(input, inplace=False):
    return input.relu_() if inplace else _pw.relu(input)


def relu_(input):
    return input.relu_()


def leaky_relu(input, negative_slope=0.01, inplace=False):
    if inplace:
        return _inplace_ops.apply(input, lambda x: _pw.leaky_relu(x, negative_slope, node=_pw.LeakyReluBackward1))
    return _pw.leaky_relu(input, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    if inplace:
        return _inplace_ops.apply(input, lambda x: _pw.elu(x, alpha, node=_pw.EluBackward1))
    return _pw.elu(input, alpha)


def gelu(input, approximate="none"):
    return _pw.gelu(input, approximate)


def silu(input, inplace=False):
    return _inplace_ops.apply(input, _pw.silu) if inplace else _pw.silu(input)


def sigmoid(input):
    return _pw.sigmoid(input)


def tanh(input):
    return _pw.tanh(input)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _log_softmax(input, dim, dtype)


# ---- linear and dropout ---------------------------------------------------------------------------------

def linear(input, weight, bias=None):
    """input @ weight.T + bias, as PyTorch computes it: one addmm over the flattened leading dims."""
    if not isinstance(input, Tensor):
        raise not_a_tensor(input, "linear")
    if input.dim() == 2 and bias is not None:
        return addmm(bias, input, weight.t())
    if bias is None:
        return matmul(input, weight.t())
    if input.dim() == 0:
        raise RuntimeError("both arguments to linear need to be at least 1D, but they are 0D and 2D")
    rows = input.reshape(-1, input.shape[-1])
    return addmm(bias, rows, weight.t()).view(*input.shape[:-1], weight.shape[0])


def dropout(input, p=0.5, training=True, inplace=False):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}"
                         + hint("p is the probability of zeroing an element, e.g. nn.Dropout(p=0.2)."))
    if not training or p == 0.0:
        return input
    if p == 1.0:
        noise = 0.0
    else:
        with no_grad():
            like = zeros(input.shape, dtype=input.dtype, device=input.device)
            noise = bernoulli(like, 1 - p) if input.numel() else like
            noise.div_(1 - p)
    return _inplace_ops.apply(input, _pw.mul, noise) if inplace else _pw.mul(input, noise)


# ---- normalisation ----------------------------------------------------------------------------------------

def _normalize(x, dims, eps, mean=None, var=None):
    """(x - mean) * rstd over ``dims`` (batch statistics unless given), with the rstd used."""
    if mean is None:
        mean = x.mean(dims, keepdim=True)
        var = x.var(dims, keepdim=True, correction=0)
    rstd = _pw.rsqrt(_pw.add(var, eps))
    return _pw.mul(_pw.sub(x, mean), rstd), rstd


def _affine(xhat, weight, bias, shape):
    out = xhat
    if weight is not None:
        out = _pw.mul(out, weight.reshape(shape))
    if bias is not None:
        out = _pw.add(out, bias.reshape(shape))
    return out


def _norm_grads(g, xhat, rstd, weight, shape, dims, needs, stats_fixed=False):
    """Gradients of affine(normalize(x)) for x, weight, bias; ``dims`` are the normalised dims."""
    reduce_dims = tuple(d for d in range(g.dim()) if shape[d] == 1)
    gx = gw = gb = None
    if needs[1]:
        gw = _pw.mul(g, xhat).sum(reduce_dims).reshape(-1)
    if needs[2]:
        gb = g.sum(reduce_dims).reshape(-1)
    if needs[0]:
        gxhat = g if weight is None else _pw.mul(g, weight.reshape(shape))
        if stats_fixed:
            gx = _pw.mul(gxhat, rstd)
        else:
            n = 1
            for d in dims:
                n *= g.shape[d]
            mean_g = gxhat.mean(dims, keepdim=True)
            mean_gx = _pw.mul(gxhat, xhat).mean(dims, keepdim=True)
            gx = _pw.mul(_pw.sub(_pw.sub(gxhat, mean_g), _pw.mul(xhat, mean_gx)), rstd)
    return gx, gw, gb


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if k == 0 or tuple(input.shape[input.dim() - k:]) != normalized_shape or input.dim() < k:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape [*, "
            f"{', '.join(str(s) for s in normalized_shape)}], but got input of size{list(input.shape)}"
            + hint("normalized_shape is the trailing part of the input's shape, e.g. LayerNorm(x.shape[-1])."))
    dims = tuple(range(input.dim() - k, input.dim()))
    shape = (1,) * (input.dim() - k) + normalized_shape
    with no_grad():
        xhat, rstd = _normalize(input, dims, eps)
        out = _affine(xhat, weight, bias, shape)

    def formula(g, node):
        x_, w_ = node.saved_tensors
        needs = tuple(e[0] is not None for e in node.next_functions)
        xh, rs = _normalize(x_, dims, eps)
        gx, gw, gb = _norm_grads(g, xh, rs, w_, shape, dims, needs)
        if gw is not None:
            gw = gw.reshape(normalized_shape)
        if gb is not None:
            gb = gb.reshape(normalized_shape)
        return gx, gw, gb
    return _record("NativeLayerNormBackward0", formula, out, (input, weight, bias), (input, weight))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    if input.dim() < 2:
        raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")
    channels = input.shape[1]
    dims = (0,) + tuple(range(2, input.dim()))
    shape = (1, channels) + (1,) * (input.dim() - 2)
    count = input.numel() // max(channels, 1)
    if training and count <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}"
                         + hint("use a batch of more than one sample, or call model.eval() for inference."))
    use_batch = training or running_mean is None
    with no_grad():
        if use_batch:
            mean = input.mean(dims, keepdim=True)
            var = input.var(dims, keepdim=True, correction=0)
            if training and running_mean is not None:
                m = 0.1 if momentum is None else momentum
                running_mean.mul_(1 - m).add_(mean.reshape(-1), alpha=m)
                running_var.mul_(1 - m).add_(var.reshape(-1) * (count / (count - 1)), alpha=m)
        else:
            mean, var = running_mean.reshape(shape), running_var.reshape(shape)
        xhat, rstd = _normalize(input, dims, eps, mean, var)
        out = _affine(xhat, weight, bias, shape)
    mean, var = mean.detach(), var.detach()

    def formula(g, node):
        x_, w_ = node.saved_tensors
        needs = tuple(e[0] is not None for e in node.next_functions)
        if use_batch:
            xh, rs = _normalize(x_, dims, eps)
        else:
            xh, rs = _normalize(x_, dims, eps, mean, var)
        return _norm_grads(g, xh, rs, w_, shape, dims, needs, stats_fixed=not use_batch)
    return _record("NativeBatchNormBackward0", formula, out, (input, weight, bias), (input, weight))


# ---- embedding and padding ----------------------------------------------------------------------------

def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    if not isinstance(input, Tensor):
        raise not_a_tensor(input, "embedding", "indices", 2)
    if input.dtype not in (_dt.int64, _dt.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {input.type()} instead (while checking arguments for embedding)"
                           + hint("embedding indices are integers: pass x.long()."))
    rows = weight.shape[0]
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= rows
    flat = input.reshape(-1)
    if flat.numel() and (flat.min().item() < 0 or flat.max().item() >= rows):
        raise IndexError("index out of range in self"
                         + hint(f"embedding indices run from 0 to num_embeddings - 1 = {rows - 1}."))
    if max_norm is not None:
        with no_grad():
            _renorm_rows(weight, flat, max_norm, norm_type)
    with no_grad():
        out = index_select(weight, 0, flat).view(*input.shape, weight.shape[1])

    def formula(g, node):
        grad = zeros(weight.shape, dtype=g.dtype, device=g.device)
        g2 = g.reshape(-1, weight.shape[1])
        if padding_idx is not None:
            g2 = g2.masked_fill((flat == padding_idx).unsqueeze(1), 0.0)
        if scale_grad_by_freq:
            counts = flat.bincount(minlength=rows).to(g.dtype)
            g2 = _pw.div(g2, index_select(counts, 0, flat).unsqueeze(1))
        return (None, grad.index_add(0, flat, g2))
    return _record("EmbeddingBackward0", formula, out, (input, weight))


def _renorm_rows(weight, flat, max_norm, norm_type):
    rows = flat.unique()
    norms = index_select(weight, 0, rows).norm(norm_type, dim=1, keepdim=True)
    scale = _pw.where(norms > max_norm, _pw.div(max_norm, _pw.add(norms, 1e-7)), 1.0)
    weight[rows] = _pw.mul(index_select(weight, 0, rows), scale)


_PAD_MODES = ("reflect", "replicate", "circular")  # gathered by index (PyTorch names these nodes *PadNdBackward0)


def pad(input, pad, mode="constant", value=None):
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.dim():
        raise RuntimeError("Padding length must be divisible by 2" if len(pad) % 2 else
                           "Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {input.dim()}")
    pairs = [(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)]  # last dim first
    if mode == "constant":
        return _constant_pad(input, pairs, 0.0 if value is None else value)
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}"
                                  + hint("mode is one of 'constant', 'reflect', 'replicate', 'circular'."))
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    out = input
    for k, (before, after) in enumerate(pairs):
        dim = input.dim() - 1 - k
        start, stop = max(-before, 0), out.shape[dim] - max(-after, 0)  # a negative pad crops first
        out = out.narrow(dim, start, max(stop - start, 0))
        out = index_select(out, dim, _pad_index(out.shape[dim], max(before, 0), max(after, 0), mode))
    return out


def _pad_index(n, before, after, mode):
    from ..ops.creation import tensor
    idx = []
    for i in range(-before, n + after):
        if mode == "replicate":
            j = min(max(i, 0), n - 1)
        elif mode == "circular":
            j = i % n
        else:  # reflect, without repeating the edge
            if before >= n or after >= n:
                raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input "
                                   f"dimension, but got: padding ({before}, {after}) at dimension of input {n}")
            j = -i if i < 0 else (2 * (n - 1) - i if i >= n else i)
        idx.append(j)
    return tensor(idx, dtype=_dt.int64)


def _constant_pad(input, pairs, value):
    from ..ops.creation import full
    shape = list(input.shape)
    src = input
    for k, (before, after) in enumerate(pairs):
        dim = input.dim() - 1 - k
        shape[dim] += before + after
        if shape[dim] < 0:
            raise RuntimeError(f"The input size {input.shape[dim]}, plus negative padding {before} and {after} "
                               f"resulted in a negative output size, which is invalid. Check dimension {dim} of "
                               "your input.")
        start, stop = max(-before, 0), input.shape[dim] - max(-after, 0)  # negative padding crops
        src = src.narrow(dim, start, max(stop - start, 0))
    with no_grad():
        out = full(shape, value, dtype=input.dtype, device=input.device)
        out[_window(input, pairs)] = src.detach()

    def formula(g, node):  # the opposite padding: crops what was added, zero-fills what was cropped
        return (_constant_pad(g, [(-before, -after) for before, after in pairs], 0.0),)
    return _record("ConstantPadNdBackward0", formula, out, (input,))


def _window(input, pairs):
    """The slices of the padded output that hold (the kept part of) the input."""
    index = [slice(None)] * input.dim()
    for k, (before, after) in enumerate(pairs):
        dim = input.dim() - 1 - k
        start = max(before, 0)
        index[dim] = slice(start, start + max(input.shape[dim] - max(-before, 0) - max(-after, 0), 0))
    return tuple(index)

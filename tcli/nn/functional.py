"""``tcli.nn.functional`` (``F``): activations, softmax and one_hot."""

from __future__ import annotations

from ..ops import pointwise as _pw
from ..ops.indexing import one_hot
from ..ops.reduction import log_softmax as _log_softmax
from ..ops.reduction import softmax as _softmax

__all__ = ["relu", "relu_", "sigmoid", "tanh", "softmax", "log_softmax", "one_hot", "leaky_relu", "elu"]


def relu(input, inplace=False):
    return input.relu_() if inplace else _pw.relu(input)


def relu_(input):
    return input.relu_()


def sigmoid(input):
    return _pw.sigmoid(input)


def tanh(input):
    return _pw.tanh(input)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _log_softmax(input, dim, dtype)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _pw.leaky_relu(input, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    return _pw.elu(input, alpha)


__all__ += ["one_hot"]

"""``tcli.autograd``: backward, grad, gradcheck, custom Functions, and the grad-mode switches."""

from __future__ import annotations

import warnings

from .. import monitor
from ..errors import hint
from . import graph
from .function import Function, FunctionCtx
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["backward", "grad", "gradcheck", "gradgradcheck", "GradcheckError", "Function", "FunctionCtx",
           "no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled", "graph", "set_detect_anomaly", "detect_anomaly"]


def _as_list(x):
    if x is None:
        return None
    from .._tensor import Tensor
    return [x] if isinstance(x, Tensor) else list(x)


def _initial_grads(outputs, grad_outputs, create_graph):
    from ..ops._dispatch import filled
    grads = []
    for i, out in enumerate(outputs):
        g = grad_outputs[i] if grad_outputs is not None and i < len(grad_outputs) else None
        if g is None:
            if out.numel() != 1:
                raise RuntimeError(
                    "grad can be implicitly created only for scalar outputs"
                    + hint(f"the output has shape {list(out._shape)}; reduce it first (loss = out.sum() or "
                           ".mean()), or pass a gradient of the same shape: out.backward(tcli.ones_like(out))."))
            g = filled(out._shape, out._dtype, 1, out._device)
        else:
            if g._shape != out._shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] "
                                   f"has a shape of {out.shape}.")
            if not create_graph:
                g = g.detach()
        grads.append(g)
    return grads


def _check_outputs(outputs):
    for i, out in enumerate(outputs):
        if not out._requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
                + hint("nothing in this computation requires grad: create the leaf with requires_grad=True (or "
                       "call .requires_grad_()), and make sure it was not computed under tcli.no_grad() or "
                       "detached."))


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate gradients of ``tensors`` into the ``.grad`` of the leaves they depend on."""
    outputs = _as_list(tensors)
    _check_outputs(outputs)
    grads = _initial_grads(outputs, _as_list(grad_tensors), create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    if create_graph:
        warnings.warn(
            "Using backward() with create_graph=True will create a reference cycle between the parameter and its "
            "gradient which can cause a memory leak. We recommend using autograd.grad when creating the graph to "
            "avoid this. If you have to use this function, make sure to reset the .grad fields of your parameters "
            "to None after use to break the cycle and avoid the leak.", UserWarning, stacklevel=_user_level())
    if inputs is not None:
        wanted = _as_list(inputs)
        results = grad(outputs, wanted, grads, retain_graph=retain_graph, create_graph=create_graph,
                       allow_unused=True)
        for t, g in zip(wanted, results):
            if g is not None:
                graph.accumulate_into(t, g if create_graph else g.detach())
    else:
        graph.run_backward(outputs, grads, retain_graph, create_graph)
    watcher = monitor.WATCHER
    if watcher is not None and len(outputs) == 1 and not outputs[0]._shape:
        watcher.on_backward(outputs[0])


def Variable(data, requires_grad=False, volatile=False):  # noqa: N802 - PyTorch's name
    """The pre-0.4 wrapper old tutorials import (``from torch.autograd import Variable``): today just a tensor, a
    new leaf over data's memory that requires grad if asked."""
    return data.detach().requires_grad_(requires_grad)


def _user_level() -> int:
    """The warnings stack level of the user's call (loss.backward() or tcli.autograd.backward())."""
    import sys
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith("tcli"):
        frame, level = frame.f_back, level + 1
    return level


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned (``.grad`` is left alone)."""
    outputs = _as_list(outputs)
    inputs_list = _as_list(inputs)
    _check_outputs(outputs)
    for t in inputs_list:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _initial_grads(outputs, _as_list(grad_outputs), create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    capture = {}
    for i, t in enumerate(inputs_list):
        capture.setdefault(graph.edge(t), i)
    captured = graph.run_backward(outputs, grads, retain_graph, create_graph, capture=capture)
    results = []
    for t in inputs_list:
        g = captured[capture[graph.edge(t)]]
        if g is None:
            if materialize_grads:
                from ..ops.creation import zeros_like
                g = zeros_like(t)
            elif not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been used in the graph. "
                                   "Set allow_unused=True if this is the desired behavior.")
        results.append(g)
    return tuple(results)


class set_detect_anomaly:
    """Accepted for compatibility; tcli's errors already name the op and the line that modified a tensor."""

    def __init__(self, mode=True, check_nan=True):
        self.mode = mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


detect_anomaly = set_detect_anomaly

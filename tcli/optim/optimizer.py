"""The Optimizer base class: param groups, per-parameter state, state_dict, and the step loop.

Subclasses define the rule for one parameter: ``_update`` finds its state and hands its flat buffers to
a fused kernel through ``_launch``, with the scalars ``_group_scalars`` computes once per group and step.
The base class owns the loops over groups and parameters (parameters without a grad are skipped) and
PyTorch's bookkeeping around them.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from copy import deepcopy
from itertools import chain

import numpy as np

from .. import dtypes as _dt
from .. import monitor
from .._tensor import Tensor, contiguous_strides
from ..autograd.grad_mode import STATE, enable_grad
from ..device import CPU
from ..errors import hint, shape_str
from ..ops import _dispatch as D
from ..ops.creation import _wrap_numpy

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """The default of a hyperparameter that every param group must set."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def typename(obj) -> str:
    """torch.typename: a tensor's legacy type ('torch.FloatTensor'), else the qualified type name."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module, qualname = obj.__class__.__module__ or "", obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def number(value) -> float:
    """A hyperparameter as a Python float (PyTorch accepts 1-element tensors for lr and friends)."""
    return value.item() if isinstance(value, Tensor) else value


def check_fused_foreach(fused, foreach) -> None:
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def new_state(like: Tensor, fill=0.0) -> Tensor:
    """A dense state buffer with ``like``'s shape and dtype, filled with ``fill``."""
    shape, dt = like._shape, like._dtype
    if like._device is not CPU:  # on the parameter's device, as PyTorch keeps it (the step count stays on the CPU)
        return D.filled(shape, dt, fill, like._device)
    return Tensor._make(np.full(like.numel(), fill, dt.np), shape, contiguous_strides(shape), 0, dt)


def step_tensor(value=0.0) -> Tensor:
    """PyTorch's 0-d step counter: float32, or float64 when that is the default dtype."""
    dt = _dt.float64 if _dt.get_default_dtype() is _dt.float64 else _dt.float32
    return Tensor._make(np.array([value], dt.np), (), (), 0, dt)


def bump_step(step: Tensor) -> float:
    """``step += 1`` on the counter's memory; returns the new count."""
    buf, i = step._buf, step._offset
    buf[i] += 1
    return float(buf[i])


def _copy_state(value: Tensor, dtype, device=CPU) -> Tensor:
    """A dense copy of a loaded state tensor in ``dtype`` on ``device`` (the kernels read state buffers directly)."""
    data = np.array(value._host_np(), dtype=dtype.np, copy=True).reshape(-1)
    state = Tensor._make(data, value._shape, contiguous_strides(value._shape), 0, dtype)
    return state if device is CPU else state.to(device)


_KERNEL_DTYPES = (_dt.float32, _dt.float64)
_NO_BUFFER = {dt: np.empty(0, dt.np) for dt in _KERNEL_DTYPES}  # stands in for a state buffer a rule skips


class Scalars:
    """A kernel's scalar arguments: Python floats, rounded once to each dtype they are used in."""

    __slots__ = ("values", "arrays")

    def __init__(self, values: tuple):
        self.values = values
        self.arrays: dict = {}

    def of(self, dt) -> np.ndarray:
        array = self.arrays.get(dt)
        if array is None:
            array = self.arrays[dt] = np.array(self.values, dt.np)
        return array


class Optimizer:
    """Base class of all optimizers (PyTorch's torch.optim.Optimizer)."""

    def __init__(self, params, defaults: dict) -> None:
        if defaults.get("differentiable"):
            raise NotImplementedError("differentiable=True is not supported by tcli's optimizers"
                                      + hint("leave differentiable=False: updates run in fused kernels without "
                                             "autograd."))
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, but "
                            "got " + typename(params)
                            + hint("wrap a single tensor in a list: SGD([w], lr=0.1)."))
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list"
                             + hint("pass the tensors to optimize, e.g. model.parameters() or [w, b]."))
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def __getstate__(self) -> dict:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        for group in self.param_groups:  # groups saved before a hyperparameter existed get today's default
            for key, default in self.defaults.items():
                group.setdefault(key, default)

    def __repr__(self) -> str:
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # ---- param groups -------------------------------------------------------------------------------------

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters (a dict with 'params' and optional per-group hyperparameters)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        param_group["params"] = params
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names

        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + typename(param))
            if not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor"
                                 + hint("optimize the leaf tensors the result was computed from, or make this one a "
                                        "leaf: w = w.detach().requires_grad_()."))
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)

        if len(params) != len(set(params)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will cause "
                          "an error; see github.com/pytorch/pytorch/issues/40967 for more information", stacklevel=3)
        seen: set = set()
        for group in self.param_groups:
            seen.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not seen.isdisjoint(params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ---- stepping -------------------------------------------------------------------------------------------

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients: drop them (the default), or zero them in place."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p._grad = None
                    continue
                if g.grad_fn is not None:
                    g.detach_()
                else:
                    g.requires_grad_(False)
                g.zero_()

    def step(self, closure=None):
        """One update of every parameter that has a grad; ``closure`` re-evaluates the loss first."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        enabled = STATE.enabled
        STATE.enabled = False
        try:
            for group in self.param_groups:
                scalars: dict = {}  # this group's kernel scalars for this step, shared by its parameters
                for p in group["params"]:
                    g = p._grad
                    if g is not None:
                        self._update(p, g, group, scalars)
        finally:
            STATE.enabled = enabled
        if monitor.WATCHER is not None:
            monitor.WATCHER.on_optimizer_step()
        return loss

    def _update(self, p: Tensor, grad: Tensor, group: dict, scalars: dict) -> None:
        """Update one parameter in place from its gradient (each optimizer's rule)."""
        raise NotImplementedError

    def _group_scalars(self, group: dict, step) -> tuple:
        """The kernel's scalar arguments (Python floats) for a group, at a step count for rules that need it."""
        raise NotImplementedError

    def _scalars(self, group: dict, scalars: dict, step=None) -> Scalars:
        """This step's scalars for the group, computed for its first parameter and reused for the others."""
        sc = scalars.get(step)
        if sc is None:
            sc = scalars[step] = Scalars(self._group_scalars(group, step))
        return sc

    def _launch(self, kernel, p: Tensor, grad: Tensor, buffers, scalars: Scalars, *flags) -> None:
        """``kernel(p, grad, *buffers, scalars, *flags)`` over flat buffers, in place on p's memory.

        ``buffers`` are the state tensors the kernel updates (None for one it skips). Dense float32/float64
        operands go straight to the kernel; anything else runs on dense copies that are written back.
        """
        dt, shape = p._dtype, p._shape
        if grad._shape != shape:
            raise _shape_error(p, grad, "grad")
        none = _NO_BUFFER.get(dt)
        if p._device is not CPU:
            if self._launch_on_device(kernel, p, grad, buffers, scalars, flags):
                return
        elif none is not None and p._dense and grad._dense and grad._dtype is dt:
            arrays = []
            for b in buffers:
                if b is None:
                    arrays.append(none)
                elif b._dense and b._dtype is dt and b._shape == shape:
                    arrays.append(b._buf)
                else:
                    break
            else:
                kernel(p._buf, grad._buf, *arrays, scalars.of(dt), *flags)
                p._vc.bump()
                return
        self._launch_on_copies(kernel, p, grad, buffers, scalars, flags)
        p._vc.bump()

    @staticmethod
    def _launch_on_device(kernel, p: Tensor, grad: Tensor, buffers, scalars: Scalars, flags) -> bool:
        """The update as the device's kernel of the same name, when every operand is a dense buffer of p's dtype
        on p's device; False (nothing done) otherwise."""
        dt, shape = p._dtype, p._shape
        operands = [grad, *(b for b in buffers if b is not None)]
        if dt not in _KERNEL_DTYPES or not p._dense or not all(
                t._dense and t._dtype is dt and t._shape == shape and t._device is p._device for t in operands):
            return False
        device_kernel = getattr(D.kernels(p), kernel.__name__)
        device_kernel(p._buf, grad._buf, *[None if b is None else b._buf for b in buffers], scalars.of(dt), *flags)
        p._vc.bump()
        return True

    def _launch_on_copies(self, kernel, p, grad, buffers, scalars, flags) -> None:
        """The slow path: non-contiguous or float16 operands (on any device), on dense float32/float64 host
        copies."""
        dt = p._dtype
        if dt is _dt.float16:
            dt = _dt.float32
        elif dt not in _KERNEL_DTYPES:
            raise _dt.not_implemented(type(self).__name__, p._dtype)
        for b in buffers:
            if b is not None and b._shape != p._shape:
                raise _shape_error(p, b, "state buffer")
        targets = [p, *buffers]
        arrays = [np.array(t._host_np(), dtype=dt.np, copy=True).reshape(-1) if t is not None else _NO_BUFFER[dt]
                  for t in targets]
        g = np.array(grad._host_np(), dtype=dt.np, copy=True).reshape(-1)
        kernel(arrays[0], g, *arrays[1:], scalars.of(dt), *flags)
        for t, a in zip(targets, arrays):
            if t is None:
                continue
            if t._device is CPU:
                t._np()[...] = a.reshape(t._shape)
            else:
                D.map1_into("copy", t, _wrap_numpy(a.reshape(t._shape)).to(t._device))

    # ---- state_dict ------------------------------------------------------------------------------------------

    def state_dict(self) -> dict:
        """{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}, as PyTorch lays it out."""
        index: dict = {}
        start = 0

        def pack(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            index.update({id(p): i for i, p in enumerate(group["params"], start) if id(p) not in index})
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        param_groups = [pack(g) for g in self.param_groups]
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a state_dict() of an optimizer over parameters of the same shapes, group by group.

        State tensors are copied (dense, in the parameter's dtype; the step counter keeps its dtype), so
        the loaded optimizer shares no memory with the dict.
        """
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of optimizer's "
                             "group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        def cast(param, value, key=None):
            if key == "step" and isinstance(value, (int, float)):  # checkpoints from before step was a tensor
                return step_tensor(float(value))
            if isinstance(value, Tensor):
                keep = key == "step" or not param.is_floating_point()
                # state lives on its parameter's device, as in PyTorch; the step count stays on the CPU
                return _copy_state(value, value._dtype if keep else param._dtype,
                                   CPU if key == "step" else param._device)
            if isinstance(value, dict):
                return {k: cast(param, v, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v) for v in value)
            return value

        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                state[id_map[k]] = cast(id_map[k], v)
            else:
                state[k] = v
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.__setstate__({"state": state, "param_groups": saved_groups})


def _shape_error(p: Tensor, other: Tensor, what: str) -> RuntimeError:
    """PyTorch's broadcast error for the first mismatched dim from the right, else a plain shape error."""
    a, b = p._shape, other._shape
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    fix = hint(f"the {what} must have the parameter's shape {shape_str(p._shape)}, not {shape_str(other._shape)}.")
    for i in reversed(range(n)):
        if a[i] != b[i] and a[i] != 1 and b[i] != 1:
            return RuntimeError(f"The size of tensor a ({a[i]}) must match the size of tensor b ({b[i]}) at "
                                f"non-singleton dimension {i}" + fix)
    return RuntimeError(f"the {what} has shape {shape_str(other._shape)} but the parameter {shape_str(p._shape)}"
                        + fix)

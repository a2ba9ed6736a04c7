"""The autograd graph: nodes (``grad_fn``), saved tensors with version checks, and the engine.

A node is made by an op when grad mode is on and an input requires grad. It keeps edges to the
nodes that produced its inputs (``next_functions``), what its backward formula needs (saved
tensors, checked against their version counters when unpacked), and the shape and dtype of its
output, so the engine can sum broadcast gradients back to each input's shape. The engine is
iterative (graphs of any depth) and frees saved tensors after a backward pass unless told to keep
them.
"""

from __future__ import annotations

import linecache
import re
import sys
import weakref

from . import grad_mode

_RELEASED = object()


class Version:
    """A version counter shared by a tensor and its views; in-place ops bump it."""

    __slots__ = ("value", "saved", "where")

    def __init__(self):
        self.value = 0
        self.saved = False   # True once a node saved a tensor using this counter
        self.where = None    # the user's source line of the last in-place change, once saved

    def bump(self):
        self.value += 1
        if self.saved:
            self.where = user_location()


def user_location():
    """(file, line) of the innermost stack frame outside tcli: cheap to take, formatted on error."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if not name.startswith("tcli"):
            return frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back
    return None


def describe_location(where) -> str:
    filename, lineno = where
    return f"{filename}:{lineno}: {linecache.getline(filename, lineno).strip()}"


class Node:
    """Base of every ``grad_fn``. Subclasses implement ``backward(grad) -> tuple of input grads``.

    Fields are class-level defaults so that making a node sets only what it uses.
    """

    next_functions = ()
    _saved = None          # tensors backward needs (or _RELEASED after a backward without retain_graph)
    _versions = None       # their version counters' values when saved
    _out_shape = ()        # shape of the output (a list of shapes for multi-output nodes)
    _out_dtype = None
    _retained = None       # [(output_nr, weakref to tensor)] for retain_grad()
    _hooks = None
    ctx = None             # what an op's backward needs besides tensors (scalars, dims, shapes)
    # True for nodes with a backward_into(grad, sinks) that may add a result straight into the leaf .grad
    # sinks[i] (see _grad_sink) and return None for it; the engine then calls that instead of backward.
    adds_into_grads = False
    transposes_grad = False  # True for TBackward0 alone: its backward is t(grad)

    # -- what backward formulas use --
    def save(self, *tensors):
        """Keep tensors for backward; an in-place change to any of them is caught at unpack."""
        versions = []
        for t in tensors:
            if t is None:
                versions.append(0)
                continue
            v = t._vc
            v.saved = True
            versions.append(v.value)
        self._saved = tensors
        self._versions = versions

    def save_number(self):
        """For an op with a number operand: PyTorch saves the number as a tensor (a wrapped scalar), so a second
        backward through the node raises there; an empty save makes it raise here too."""
        self._saved, self._versions = (), ()

    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is _RELEASED:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved tensors after "
                "they have already been freed). Saved intermediate values of the graph are freed when you "
                "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
                "through the graph a second time or if you need to access saved tensors after calling "
                "backward.\nhint: call loss.backward(retain_graph=True) the first time, or recompute the "
                "forward pass before the second backward.")
        if saved is None:
            return ()
        for t, expected in zip(saved, self._versions):
            if t is not None and t._ver.value != expected:
                _raise_modified(t, expected, self)
        return saved

    def num_outputs(self) -> int:
        return len(self._out_shape) if type(self._out_shape) is list else 1

    def name(self) -> str:
        return type(self).__name__

    def release(self):
        if self._saved is not None:
            self._saved = _RELEASED

    def register_hook(self, fn):
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        return _Handle(self._hooks, fn)

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    def __call__(self, *grads):
        return self.backward(*grads)


class _Handle:
    def __init__(self, hooks, fn):
        self._hooks, self._fn = hooks, fn

    def remove(self):
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)


def _raise_modified(t, expected, node):
    from ..dtypes import legacy_type_name
    desc = f"[{legacy_type_name(t._dtype)} [{', '.join(str(s) for s in t._shape)}]]"
    producer = t._grad_fn if not t._own_output else node
    of = (f", which is output {t._output_nr} of {re.sub(r'Backward[0-9]*$', '', producer.name())},"
          if producer is not None else "")  # PyTorch's words: "output 0 of Add"
    where = t._vc.where
    hint = ("hint: a tensor that backward needs was changed in place after it was used"
            + (f", here:\n  {describe_location(where)}" if where else "")
            + "\n  Use the out-of-place form (x = x + 1, not x += 1 or x.add_(1)), or .clone() it before "
            "changing it.")
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"{desc}{of} is at version {t._vc.value}; expected version {expected} instead. Hint: enable "
        "anomaly detection to find the operation that failed to compute its gradient, with "
        f"torch.autograd.set_detect_anomaly(True, check_nan=False).\n{hint}")


class AccumulateGrad(Node):
    """The node behind a leaf tensor that requires grad: adds incoming gradients into ``.grad``.

    The leaf holds its node; the node holds the leaf weakly, so neither keeps the other alive
    in a cycle (a dead leaf's gradient could never be read anyway).
    """

    def __init__(self, variable):
        self._variable = weakref.ref(variable)
        self._out_shape = variable._shape
        self._out_dtype = variable._dtype

    @property
    def variable(self):
        return self._variable()

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def backward(self, grad):
        var = self._variable()
        if var is not None:
            accumulate_into(var, grad)
        return ()


def accumulate_into(var, grad):
    """var.grad += grad, in place when a gradient exists (PyTorch keeps the same .grad object)."""
    if grad_mode.STATE.enabled:  # create_graph: keep the new gradient's history
        var._grad = grad if var._grad is None else var._grad + grad
    elif var._grad is None:
        if not _owned_by_engine(grad):
            grad = grad.contiguous_copy()
        elif grad._base is not None:  # adopt the memory as a tensor of its own, not as a view
            grad = type(grad)._make(grad._buf, grad._shape, grad._strides, 0, grad._dtype, None, True, grad._device)
        var._grad = grad
    else:
        var._grad.add_(grad)


def _owned_by_engine(grad) -> bool:
    """True if nothing but the engine refers to this dense gradient or its memory, so .grad may adopt it.

    The references that remain are accumulate_into's caller and parameter, _owned_by_engine's
    parameter and getrefcount's argument; for the buffer, the tensor and getrefcount's argument. A
    dense view of a temporary (the gradient of ``w.t()`` transposed back) also counts when the
    temporary is held by the view alone.
    """
    if not grad._dense or sys.getrefcount(grad) > 4:
        return False
    base = grad._base
    if base is None:
        return sys.getrefcount(grad._buf) <= 2
    return sys.getrefcount(base) <= 3 and sys.getrefcount(grad._buf) <= 3  # base: the view, the local, the argument


def grad_accumulator(t) -> AccumulateGrad:
    """The AccumulateGrad node of a leaf that requires grad (made once per leaf)."""
    node = t._accumulator
    if node is None:
        node = t._accumulator = AccumulateGrad(t)
    return node


_NO_EDGE = (None, 0)


def edge(t):
    """The (node, output_nr) pair through which gradient flows back into tensor t."""
    if t._base is not None:
        t._sync_view_history()
    fn = t._grad_fn
    if fn is not None:
        return (fn, t._output_nr)
    if t._requires_grad:
        node = t._accumulator
        return (node if node is not None else grad_accumulator(t), 0)
    return _NO_EDGE


def attach(node, out, *inputs):
    """Record ``node`` as the grad_fn of ``out`` with edges to ``inputs`` (tensors or None)."""
    node.next_functions = tuple([_NO_EDGE if t is None else edge(t) for t in inputs])
    node._out_shape = out._shape
    node._out_dtype = out._dtype
    out._grad_fn = node
    out._requires_grad = True
    return out


def own_output(t):
    """A node's output as the node saves it for its backward: an alias without history (no reference cycle)
    that remembers whose output it is, so the in-place error names the node ("output 0 of Exp"), as PyTorch's
    SavedVariable for an output does."""
    alias = t._detached()
    alias._own_output = True
    return alias


def saved_output(node, t):
    """A node's own saved output, unpacked for a create_graph backward: an alias whose grad_fn is the node,
    so formulas written in terms of the output differentiate through it again (PyTorch's SavedVariable for
    outputs). Made only during that backward, so no reference cycle outlives it."""
    alias = t._detached()
    alias._grad_fn = node
    alias._requires_grad = True
    return alias


def attach_multi(node, outs, *inputs):
    """Like attach, for a node with several outputs (unbind, split, ...)."""
    node.next_functions = tuple([_NO_EDGE if t is None else edge(t) for t in inputs])
    node._out_shape = [o._shape for o in outs]
    node._out_dtype = [o._dtype for o in outs]
    for i, o in enumerate(outs):
        o._grad_fn = node
        o._output_nr = i
        o._requires_grad = True
    return outs


# ---- the engine -------------------------------------------------------------------------------------

def _dependencies(roots):
    """How many edges lead into each node reachable from ``roots`` (the roots themselves map to 0)."""
    deps = dict.fromkeys(roots, 0)
    stack = list(deps)
    while stack:
        for nxt, _ in stack.pop().next_functions:
            if nxt is not None:
                count = deps.get(nxt)
                if count is None:
                    deps[nxt] = 1
                    stack.append(nxt)
                else:
                    deps[nxt] = count + 1
    return deps


def _conform(grad, shape, dtype):
    """Sum a broadcast gradient back to ``shape`` and cast it to ``dtype``, as PyTorch's engine does."""
    if grad._shape != shape:
        from ..ops.reduction import sum_to
        grad = sum_to(grad, shape)
    if grad._dtype is not dtype:
        grad = grad.to(dtype)
    return grad


def run_backward(roots, grads, retain_graph, create_graph, capture=None):
    """Propagate ``grads`` from ``roots`` (tensors) through the graph.

    ``capture`` maps (node, output_nr) to a slot of the returned list: gradients reaching those
    edges are returned, and no ``.grad`` is touched (that is ``autograd.grad``).
    """
    buffers = {}
    for t, g in zip(roots, grads):
        node, nr = edge(t)
        if node is not None:
            _add_to_buffer(buffers, node, nr, g)
    grads = g = None
    deps = _dependencies(buffers)
    ready = [n for n in buffers if deps[n] == 0]
    captured = [None] * len(capture) if capture else None
    prev = grad_mode.STATE.enabled
    grad_mode.STATE.enabled = bool(create_graph)
    try:
        while ready:
            node = ready.pop()
            inputs = buffers.pop(node, None) or [None]
            if node._hooks is not None:  # hooks first: retain_grad and autograd.grad see what they return
                for hook in node._hooks:
                    hook(inputs)
            if capture:
                for nr, g in enumerate(inputs):
                    slot = capture.get((node, nr))
                    if slot is not None:
                        captured[slot] = g
            if node._retained is not None:
                _retain(node, inputs)
            if type(node) is AccumulateGrad:
                g = inputs.pop()
                if capture is None and g is not None:
                    var = node._variable()
                    if var is not None:
                        accumulate_into(var, g)
                continue
            if len(inputs) == 1:
                g = inputs.pop()
                if g is None:
                    out = []
                elif node.adds_into_grads and capture is None and not create_graph:
                    out = list(node.backward_into(g, [_grad_sink(nxt, deps, buffers) for nxt, _ in
                                                      node.next_functions]))
                else:
                    out = list(node.backward(g))
            else:
                out = list(node.backward(*inputs))
            inputs = g = None
            for i, (nxt, nr) in enumerate(node.next_functions):
                if nxt is None:
                    continue
                g = None
                if i < len(out):
                    g, out[i] = out[i], None  # the list lets go, so refcounts show who else holds g
                if g is not None:
                    shape = nxt._out_shape
                    if type(shape) is list:
                        shape, dtype = shape[nr], nxt._out_dtype[nr]
                    else:
                        dtype = nxt._out_dtype
                    if g._shape != shape or g._dtype is not dtype:
                        g = _conform(g, shape, dtype)
                left = deps[nxt] - 1
                deps[nxt] = left
                if (left == 0 and type(nxt) is AccumulateGrad and capture is None and nxt._hooks is None
                        and nxt not in buffers):
                    # A leaf reached by this edge only: accumulate now, no buffering round trip.
                    var = nxt._variable()
                    if g is not None and var is not None:
                        accumulate_into(var, g)
                    g = None
                    continue
                if g is not None:
                    slots = buffers.get(nxt)
                    if slots is None:
                        slots = buffers[nxt] = [None] * nxt.num_outputs()
                    prior = slots[nr]
                    slots[nr] = g if prior is None else prior + g
                    g = None
                if left == 0:
                    ready.append(nxt)
            out = None
    finally:
        grad_mode.STATE.enabled = prev
        if not retain_graph:
            for node in deps:
                if node._saved is not None:
                    node._saved = _RELEASED
    return captured


def _grad_sink(nxt, deps, buffers):
    """The ``.grad`` a gradient on an edge into ``nxt`` may be added into directly, or None.

    That is when nxt is a leaf's AccumulateGrad which this edge alone feeds (no other edge, no hook) and the
    leaf has a dense gradient of its own dtype already: adding straight into it is what accumulate_into
    would do a step later, less a temporary the size of the leaf and a pass over it. Through a ``w.t()``
    (nn.Linear's weight) that nothing else reads, the sink is the transpose of w's .grad.
    """
    if nxt is None or deps[nxt] != 1 or nxt._hooks is not None or nxt in buffers:
        return None
    through_t = nxt.transposes_grad
    if through_t:
        if nxt._retained is not None:
            return None
        nxt = nxt.next_functions[0][0]
        if nxt is None or deps[nxt] != 1 or nxt._hooks is not None or nxt in buffers:
            return None
    if type(nxt) is not AccumulateGrad:
        return None
    var = nxt._variable()
    grad = None if var is None else var._grad
    if (grad is None or not grad._dense or grad._requires_grad or grad._dtype is not var._dtype
            or grad._shape != var._shape):  # a .grad of another shape (w.data = ... since) gets PyTorch's error
        return None
    return grad.t() if through_t else grad


def _add_to_buffer(buffers, node, nr, g):
    slots = buffers.get(node)
    if slots is None:
        slots = buffers[node] = [None] * node.num_outputs()
    if g is not None:
        prev = slots[nr]
        slots[nr] = g if prev is None else prev + g


def _retain(node, inputs):
    for nr, ref in node._retained:
        t = ref()
        g = inputs[nr] if nr < len(inputs) else None
        if t is None or g is None:
            continue
        if t._grad is None:
            t._grad = g.detach().clone() if not grad_mode.STATE.enabled else g
        else:
            t._grad = t._grad + g

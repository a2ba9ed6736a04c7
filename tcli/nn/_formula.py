"""One graph node for the nn ops and losses: PyTorch's node name, a backward formula written in tcli ops (so a
create_graph backward records it again, and double backward works), and version-checked saved tensors."""

from __future__ import annotations

from .._tensor import Tensor
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.graph import Node, attach


class FormulaNode(Node):
    """A node whose backward is ``formula(g, node)``; the formula reads ``node.saved_tensors``."""

    node_name = formula = None

    def backward(self, g):
        return self.formula(g, self)

    def name(self):
        return self.node_name


def record(name, formula, out, inputs, saved=()):
    """Make ``formula`` the backward of ``out`` (with edges to ``inputs``) when grad mode is on and an input
    requires grad; ``out`` either way."""
    if not is_grad_enabled() or not any(isinstance(t, Tensor) and t._requires_grad for t in inputs):
        return out
    node = FormulaNode()
    node.node_name, node.formula = name, formula
    node.save(*saved)
    return attach(node, out, *inputs)

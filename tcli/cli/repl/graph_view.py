"""``%graph``: a tensor's autograd graph as a tree of grad_fn nodes, ending in the named leaves."""

from __future__ import annotations

from rich.text import Text
from rich.tree import Tree


def graph_tree(tensor, label: str, namespace: dict, depth: int = 12):
    """The graph behind ``tensor`` (shown as ``label``) as a rich Tree, at most ``depth`` nodes deep.

    A node reached a second time (a tensor used twice) is listed once and referred to after that, so
    graphs that share subgraphs stay readable. Nothing here runs backward or touches ``.grad``.
    """
    names = _names_by_identity(namespace)
    root = Tree(Text.assemble((label, "bold"), " ", _describe(tensor)))
    node = tensor.grad_fn
    if node is None:
        if tensor.requires_grad:
            root.add(_leaf(tensor, names))
        else:
            root.add(Text("no graph: requires_grad is False", style="yellow"))
        return root
    shared = _shared_nodes(node)  # nodes more than one edge leads to get a number to refer back to
    shown: dict = {}
    stack = [(root, node, 1)]
    while stack:
        parent, node, level = stack.pop()
        if node in shown:
            parent.add(Text(f"{node.name()} #{shown[node]} (shown above)", style="dim"))
            continue
        if node in shared:
            shown[node] = len(shown) + 1
        branch = parent.add(_node_text(node, shown.get(node), names))
        if type(node).__name__ == "AccumulateGrad":
            continue
        children = [n for n, _ in node.next_functions if n is not None]
        if level >= depth and children:
            branch.add(Text(f"... {len(children)} more below (raise --depth)", style="dim"))
            continue
        for child in reversed(children):  # the stack pops them in input order
            stack.append((branch, child, level + 1))
    return root


def _shared_nodes(root) -> set:
    """The non-leaf nodes reached by more than one edge."""
    incoming: dict = {root: 0}
    stack = [root]
    while stack:
        for child, _ in stack.pop().next_functions:
            if child is None:
                continue
            if child not in incoming:
                incoming[child] = 0
                stack.append(child)
            incoming[child] += 1
    return {n for n, count in incoming.items() if count > 1 and type(n).__name__ != "AccumulateGrad"}


def _names_by_identity(namespace: dict) -> dict:
    from ..._tensor import Tensor
    from ...nn.modules.module import Module
    names: dict = {}
    for name, value in namespace.items():
        if name.startswith("_"):
            continue
        if isinstance(value, Tensor):
            names.setdefault(id(value), name)
        elif isinstance(value, Module):
            for pname, p in value.named_parameters():
                names.setdefault(id(p), f"{name}.{pname}")
    return names


def _describe(t) -> str:
    shape = "x".join(str(s) for s in t.shape) or "scalar"
    return f"[{shape}] {str(t.dtype).replace('torch.', '')}"


def _node_text(node, number, names: dict) -> Text:
    if type(node).__name__ == "AccumulateGrad":
        var = node.variable
        return _leaf(var, names) if var is not None else Text("leaf (freed)", style="dim")
    text = Text(node.name(), style="bold cyan")
    if number is not None:
        text.append(f" #{number}", style="bold")
    saved = node._saved
    if saved is not None:
        if isinstance(saved, tuple):
            shapes = [_describe(t) for t in saved if t is not None]
            if shapes:
                text.append("  saved " + ", ".join(shapes), style="dim")
        else:
            text.append("  saved tensors freed by backward()", style="dim")
    return text


def _leaf(t, names: dict) -> Text:
    name = names.get(id(t), "(unnamed leaf)")
    grad = "grad filled" if t._grad is not None else "grad empty"
    return Text.assemble((name, "bold green"), f"  leaf {_describe(t)}  requires_grad  ", (grad, "italic"))

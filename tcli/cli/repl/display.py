"""How the REPL shows values: tensors with their rich view, models as PyTorch prints them plus a parameter table,
anything else with rich's pretty printer; and the %vars table."""

from __future__ import annotations


def render(value):
    from rich.pretty import Pretty

    from ..._tensor import Tensor
    if isinstance(value, Tensor):
        return value.__rich__()
    from ...nn.modules.module import Module
    if isinstance(value, Module):
        return _model(value)
    return Pretty(value)


class OutputShapes:
    """The shape of each module's latest output, recorded by a global forward hook while the session runs,
    so a model's table can show what each layer made the last time it ran."""

    def __init__(self):
        import weakref
        self.shapes = weakref.WeakKeyDictionary()
        self.handle = None

    def install(self):
        if self.handle is None:
            from ...nn.modules.module import register_module_forward_hook
            self.handle = register_module_forward_hook(self._record)

    def remove(self):
        if self.handle is not None:
            self.handle.remove()
            self.handle = None

    def _record(self, module, args, output):
        shape = getattr(output, "shape", None)
        if shape is not None:
            self.shapes[module] = tuple(shape)

    def of(self, module) -> str:
        shape = self.shapes.get(module)
        return "-" if shape is None else "[" + ", ".join(map(str, shape)) + "]"


OUTPUT_SHAPES = OutputShapes()


def _model(model):
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for column, justify in (("layer", "left"), ("type", "left"), ("output shape", "left"), ("parameters", "right"),
                            ("trainable", "right")):
        table.add_column(column, justify=justify)
    total = trainable = 0
    for name, module in model.named_modules():
        own = list(module.parameters(recurse=False))
        count = sum(p.numel() for p in own)
        train = sum(p.numel() for p in own if p.requires_grad)
        total, trainable = total + count, trainable + train
        if module._modules and not own:
            continue  # a container: its layers have rows of their own
        table.add_row(name or "(root)", type(module).__name__, OUTPUT_SHAPES.of(module), f"{count:,}", f"{train:,}")
    table.add_row("total", "", OUTPUT_SHAPES.of(model), f"{total:,}", f"{trainable:,}", style="bold")
    return Group(Text(repr(model)), table)


def vars_table(namespace):
    from rich.table import Table

    from ..._rich import _human_bytes
    from ..._tensor import Tensor
    from ...nn.modules.module import Module
    rows = []
    for name, value in namespace.items():
        if name.startswith("_"):
            continue
        if isinstance(value, Tensor):
            rows.append((value.nbytes, name, str(list(value.shape)), str(value.dtype).replace("torch.", ""),
                         str(value.device), str(value.requires_grad),
                         value.grad_fn.name() if value.grad_fn is not None else "-",
                         "yes" if value._grad is not None else "-"))
        elif isinstance(value, Module):
            params = list(value.parameters())
            rows.append((sum(p.nbytes for p in params), name, f"{type(value).__name__}, "
                         f"{sum(p.numel() for p in params):,} params", "", "", "", "-", "-"))
    table = Table(header_style="bold")
    for column in ("name", "shape", "dtype", "device", "requires_grad", "grad_fn", "grad", "memory"):
        table.add_column(column, justify="right" if column == "memory" else "left")
    for memory, *cells in sorted(rows, key=lambda r: -r[0]):
        table.add_row(*cells, _human_bytes(memory))
    if not rows:
        table.caption = "no tensors or models yet"
    return table

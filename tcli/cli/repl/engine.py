"""The REPL's engine: runs input statement by statement in one namespace, shows values, handles ``%`` commands.

It knows nothing about terminals: the interactive session and the non-interactive (piped) mode both feed it
source text and give it a rich Console to print to.
"""

from __future__ import annotations

import ast
import linecache
import statistics
import time

from ..tracebacks import user_traceback


def preloaded() -> dict:
    import numpy as np

    import tcli
    import tcli.nn as nn
    import tcli.nn.functional as F
    return {"__name__": "__main__", "tcli": tcli, "torch": tcli, "nn": nn, "F": F, "np": np}


class Engine:
    def __init__(self, console, namespace=None):
        self.console = console
        self.namespace = namespace if namespace is not None else preloaded()
        self.inputs: list[str] = []  # what ran, for %history and %save
        self.counter = 0
        from .display import OUTPUT_SHAPES
        OUTPUT_SHAPES.install()

    # ---- running code --------------------------------------------------------------------------------------

    def run(self, source: str) -> bool:
        """Run a block of input (Python and %-command lines); False if anything in it failed."""
        ok = True
        for kind, text in _segments(source):
            if not text.strip():
                continue
            ok = (self.command(text.strip()) if kind == "command" else self._python(text)) and ok
        return ok

    def _python(self, source: str) -> bool:
        self.counter += 1
        filename = f"<tcli repl {self.counter}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # tracebacks show lines
        self.inputs.append(source)
        try:
            tree = ast.parse(source, filename)
        except SyntaxError as error:
            self._error(error)
            return False
        for node in tree.body:
            try:
                if isinstance(node, ast.Expr):
                    value = eval(compile(ast.Expression(node.value), filename, "eval"), self.namespace)
                    self.show(value)
                else:
                    exec(compile(ast.Module([node], []), filename, "exec"), self.namespace)
            except KeyboardInterrupt:
                self.console.print("KeyboardInterrupt", style="red")
                return False
            except SystemExit:
                raise
            except BaseException as error:  # the session goes on after any error
                self._error(error)
                return False
        return True

    def _error(self, error: BaseException):
        self.console.print(user_traceback(error), style="red", markup=False, highlight=False)

    def show(self, value):
        if value is None:
            return
        self.namespace["___"], self.namespace["__"] = self.namespace.get("__"), self.namespace.get("_")
        self.namespace["_"] = value  # only the last three values live on, so output never hoards large tensors
        from .display import render
        self.console.print(render(value))

    # ---- % commands ----------------------------------------------------------------------------------------

    def command(self, line: str) -> bool:
        name, _, arg = line[1:].partition(" ")
        handler = getattr(self, f"cmd_{name}", None)
        if handler is None:
            self.console.print(f"unknown command %{name}: try %help", style="red", markup=False)
            return False
        self.inputs.append(line)
        try:
            result = handler(arg.strip())
        except BaseException as error:  # noqa: BLE001 - a failing command reports like failing code
            if isinstance(error, SystemExit):
                raise
            if _raised_by_command(error):
                # the command itself refused its argument: the message is the whole story
                self.console.print(f"{type(error).__name__}: {error}", style="red", markup=False, highlight=False)
            else:
                self._error(error)
            return False
        return result is not False

    def cmd_help(self, arg):
        """%help [NAME]: the commands, or a tcli function's signature and docstring."""
        import inspect
        if not arg:
            for name in sorted(n[4:] for n in dir(self) if n.startswith("cmd_")):
                doc = (getattr(self, f"cmd_{name}").__doc__ or "").strip().splitlines()[0]
                self.console.print(doc, markup=False, highlight=False)
            return
        obj = eval(arg, self.namespace)  # noqa: S307 - the user's own expression, as typed at the prompt
        try:
            signature = str(inspect.signature(obj))
        except (TypeError, ValueError):
            signature = ""
        self.console.print(f"{getattr(obj, '__name__', arg)}{signature}", style="bold", markup=False)
        self.console.print(inspect.getdoc(obj) or "(no docstring)", markup=False, highlight=False)

    def cmd_vars(self, arg):
        """%vars: the session's tensors and models (shape, dtype, device, grad state, memory), largest first."""
        from .display import vars_table
        self.console.print(vars_table(self.namespace))

    def cmd_graph(self, arg):
        """%graph EXPR [--depth N]: the autograd graph behind a tensor, down to its named leaves."""
        import shlex

        from ..._tensor import Tensor
        from .graph_view import graph_tree
        words, depth = shlex.split(arg), 12
        if "--depth" in words:
            at = words.index("--depth")
            if at + 1 >= len(words) or not words[at + 1].isdigit() or int(words[at + 1]) < 1:
                raise ValueError("%graph: --depth takes a positive whole number, e.g. %graph loss --depth 3")
            depth = int(words[at + 1])
            del words[at:at + 2]
        expr = " ".join(words)
        if not expr:
            raise ValueError("%graph needs a tensor, e.g. %graph loss")
        value = eval(expr, self.namespace)  # noqa: S307 - the user's own expression, as typed at the prompt
        if not isinstance(value, Tensor):
            raise TypeError(f"%graph shows a tensor's graph; {expr} is not a tensor but {type(value).__name__}")
        self.console.print(graph_tree(value, expr, self.namespace, depth))

    def cmd_who(self, arg):
        """%who: the names you defined."""
        names = sorted(k for k in self.namespace if not k.startswith("_") and k not in preloaded())
        self.console.print("  ".join(names) if names else "(nothing defined yet)", markup=False, highlight=False)

    def cmd_seed(self, arg):
        """%seed N: tcli.manual_seed(N)."""
        import tcli
        tcli.manual_seed(int(arg))

    def cmd_device(self, arg):
        """%device [cpu|cuda]: show or set the default device for new tensors."""
        import tcli
        if arg:
            tcli.set_default_device(arg)
        self.console.print(f"default device: {tcli.get_default_device()}", markup=False)

    def cmd_time(self, arg):
        """%time EXPR: run once and show the wall time."""
        start = time.perf_counter()
        value = eval(arg, self.namespace)  # noqa: S307
        elapsed = time.perf_counter() - start
        self.console.print(f"wall time: {_fmt(elapsed)}", markup=False)
        self.show(value)

    def cmd_timeit(self, arg):
        """%timeit EXPR: median and spread over repeats; the first call (JIT compile) reported on its own."""
        code = compile(arg, "<timeit>", "eval")
        start = time.perf_counter()
        eval(code, self.namespace)  # noqa: S307
        first = time.perf_counter() - start
        number = max(1, int(0.02 / max(first, 1e-7)))
        rounds = []
        for _ in range(7):
            start = time.perf_counter()
            for _ in range(number):
                eval(code, self.namespace)  # noqa: S307
            rounds.append((time.perf_counter() - start) / number)
        self.console.print(f"{_fmt(statistics.median(rounds))} median, {_fmt(min(rounds))} - {_fmt(max(rounds))} "
                           f"(7 rounds of {number}); first call {_fmt(first)}", markup=False)

    def cmd_reset(self, arg):
        """%reset: forget every name you defined."""
        self.namespace.clear()
        self.namespace.update(preloaded())

    def cmd_run(self, arg):
        """%run FILE: run a script into the session's namespace."""
        with open(arg, encoding="utf-8") as f:
            source = f.read()
        return self._python(source)

    def cmd_history(self, arg):
        """%history: the input of this session."""
        for text in self.inputs[:-1]:
            self.console.print(text.rstrip(), markup=False, highlight=False)

    def cmd_save(self, arg):
        """%save FILE: write this session's Python input to a script."""
        code = [t.rstrip() for t in self.inputs[:-1] if not t.lstrip().startswith("%")]
        with open(arg, "w", encoding="utf-8") as f:
            f.write("\n".join(code) + "\n")
        self.console.print(f"saved {len(code)} inputs to {arg}", markup=False)


def _raised_by_command(error: BaseException) -> bool:
    """True when a command refused its argument itself (its own raise, not the user's code it ran)."""
    tb = error.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_name.startswith("cmd_") and tb.tb_frame.f_code.co_filename == __file__


def _segments(source: str):
    """Split input into Python blocks and %-command lines (a line starting with % at column 0), in order."""
    python: list[str] = []
    for line in source.splitlines():
        if line.startswith("%"):
            if python:
                yield "python", "\n".join(python)
                python = []
            yield "command", line
        else:
            python.append(line)
    if python:
        yield "python", "\n".join(python)


def _fmt(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"

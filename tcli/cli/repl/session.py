"""The interactive session (prompt_toolkit) and the non-interactive mode (piped input, ``-c``)."""

from __future__ import annotations

import ast
import codeop
import os
import sys

from .completion import NamespaceCompleter
from .engine import Engine


def input_complete(text: str) -> bool:
    """Enter runs the input when it is a complete statement; a compound statement ends with an empty line."""
    if not text.strip() or text.lstrip().startswith("%"):
        return True
    try:
        code = codeop.compile_command(text, "<input>", "exec")
    except (SyntaxError, ValueError, OverflowError):
        return True  # the validator marks the error
    if code is None:
        return False
    lines = text.rstrip(" ").split("\n")
    opens_block = any(line.split("#")[0].rstrip().endswith(":") or line.startswith("@") for line in lines)
    return not opens_block or lines[-1].strip() == ""  # a block may grow until an empty line ends it


def _indent_after(text: str) -> str:
    last = text.split("\n")[-1]
    indent = last[:len(last) - len(last.lstrip())]
    return indent + "    " if last.rstrip().endswith(":") else indent


def syntax_error_of(text: str):
    """(message, offset in text) of the input's syntax error, or None; %-command lines are not Python."""
    source = "\n".join("" if line.startswith("%") else line for line in text.split("\n"))
    try:
        ast.parse(source)
    except SyntaxError as error:
        lines = text.split("\n")
        row = max(0, min((error.lineno or 1) - 1, len(lines) - 1))
        offset = sum(len(line) + 1 for line in lines[:row]) + max(0, (error.offset or 1) - 1)
        return f"SyntaxError: {error.msg} (line {error.lineno})", min(offset, len(text))
    return None


def history_path() -> str:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    folder = os.path.join(base, "tcli")
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, "repl_history")


def banner() -> str:
    import platform
    from importlib.metadata import version  # not `import numba`: that alone takes longer than the prompt may

    import numpy

    import tcli
    return (f"tcli {tcli.__version__} · Python {platform.python_version()} · numba {version('numba')} · numpy "
            f"{numpy.__version__} · {_threads()} CPU threads · CUDA "
            f"{'available' if tcli.cuda.is_available() else 'not available'}\n"
            "torch is tcli here (also preloaded: nn, F, np). %help lists the commands; Ctrl-D leaves.")


def _threads() -> int:
    """The threads tcli's kernels will use, without importing numba (numba's own default rule)."""
    if "NUMBA_NUM_THREADS" in os.environ:
        return int(os.environ["NUMBA_NUM_THREADS"])
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def toolbar_text(namespace) -> str:
    import tcli
    from tcli._rich import _human_bytes
    tensors = [v for k, v in namespace.items() if isinstance(v, tcli.Tensor) and not k.startswith("_")]
    memory = sum(t.nbytes for t in tensors)
    return (f" {len(tensors)} tensors, {_human_bytes(memory)} · device {tcli.get_default_device()} · grad "
            f"{'on' if tcli.is_grad_enabled() else 'off'} ")


def _prompt_toolkit_completer(namespace):
    from prompt_toolkit.completion import Completer, Completion, ThreadedCompleter

    completer = NamespaceCompleter(namespace)

    class _Completer(Completer):
        def get_completions(self, document, complete_event):
            for text, replaced in completer.complete(document.text_before_cursor):
                yield Completion(text, start_position=-replaced)

    return ThreadedCompleter(_Completer())


def interactive(engine: Engine, vi: bool = False, input=None, output=None) -> int:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
    from prompt_toolkit.history import FileHistory, InMemoryHistory
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.lexers import PygmentsLexer
    from prompt_toolkit.validation import ValidationError, Validator
    from pygments.lexers.python import PythonLexer

    class SyntaxCheck(Validator):
        def validate(self, document):
            error = syntax_error_of(document.text)
            if error is not None:
                raise ValidationError(cursor_position=error[1], message=error[0])

    keys = KeyBindings()

    @keys.add("enter")
    def _(event):
        buffer = event.current_buffer
        if buffer.complete_state is not None:
            buffer.apply_completion(buffer.complete_state.current_completion or buffer.complete_state.completions[0])
            return
        if input_complete(buffer.text):
            buffer.validate_and_handle()
        else:
            buffer.insert_text("\n" + _indent_after(buffer.text))

    try:
        history = FileHistory(history_path())
    except OSError:
        history = InMemoryHistory()
    session = PromptSession(
        message=">>> ", prompt_continuation="... ", multiline=True, key_bindings=keys, history=history,
        lexer=PygmentsLexer(PythonLexer), auto_suggest=AutoSuggestFromHistory(), enable_history_search=True,
        completer=_prompt_toolkit_completer(engine.namespace), complete_while_typing=False, validator=SyntaxCheck(),
        validate_while_typing=False, vi_mode=vi, bottom_toolbar=lambda: toolbar_text(engine.namespace),
        input=input, output=output)
    engine.console.print(banner(), markup=False, highlight=False)
    while True:
        try:
            text = session.prompt()
        except KeyboardInterrupt:
            continue  # Ctrl-C clears the line
        except EOFError:
            return 0
        if text.strip() in ("exit", "exit()", "quit", "quit()"):
            return 0
        try:
            engine.run(text)
        except SystemExit as exit_:
            return exit_.code if isinstance(exit_.code, int) else 0


def batch(engine: Engine, source: str, stop_on_error: bool = False) -> int:
    """Run input statement by statement as the REPL would, without prompts; 1 if any statement failed."""
    failed = False
    for block in _top_level_blocks(source):
        try:
            ok = engine.run(block)
        except SystemExit as exit_:
            return exit_.code if isinstance(exit_.code, int) else 1
        failed = failed or not ok
        if failed and stop_on_error:
            break
    return 1 if failed else 0


def _top_level_blocks(source: str):
    """Input cut at each top-level statement or %-command line, as a person would have typed it: a failing
    statement does not stop the ones after it."""
    block: list[str] = []
    for line in source.splitlines():
        starts_new = line and not line[0].isspace() and not line.startswith(("#", ")", "]", "}"))
        if starts_new and block and not _continues(block, line):
            yield "\n".join(block)
            block = []
        block.append(line)
    if block:
        yield "\n".join(block)


def _continues(block, line) -> bool:
    """True when ``line`` still belongs to the statement in ``block`` (elif/else/except/finally, or unclosed
    brackets)."""
    if line.split(None, 1)[0].rstrip(":") in ("elif", "else", "except", "finally", "case"):
        return True
    text = "\n".join(block)
    if text.lstrip().startswith("%"):
        return False
    try:  # still incomplete after a blank line: an open bracket or a decorator, not a finished block
        return codeop.compile_command(text + "\n\n", "<input>", "exec") is None
    except (SyntaxError, ValueError, OverflowError):
        return False


def main(code: str | None = None, stop_on_error: bool = False, vi: bool = False) -> int:
    from rich.console import Console
    interactive_terminal = code is None and sys.stdin.isatty()
    color = interactive_terminal and "NO_COLOR" not in os.environ
    console = Console(no_color=not color, force_terminal=color if interactive_terminal else False,
                      highlight=color, soft_wrap=not interactive_terminal)
    engine = Engine(console)
    if code is not None:
        return batch(engine, code, stop_on_error)
    if not interactive_terminal:
        return batch(engine, sys.stdin.read(), stop_on_error)
    return interactive(engine, vi=vi)

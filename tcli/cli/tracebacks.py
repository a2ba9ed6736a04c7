"""Tracebacks the user's way: their own frames, tcli's internals folded into one line, then PyTorch's message and
tcli's hint. Shared by ``tcli run`` and ``tcli repl``."""

from __future__ import annotations

import os
import runpy
import sys
import traceback


def user_traceback(error: BaseException) -> str:
    import tcli
    root = os.path.dirname(tcli.__file__)
    runner = os.path.dirname(runpy.__file__)
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if not f.filename.startswith(os.path.join(root, "cli")) and not f.filename.startswith(runner + os.sep)
              and f.filename != runpy.__file__ and not f.filename.startswith("<frozen runpy")]
    out = ["Traceback (most recent call last):"]
    folded = 0
    for frame in frames:
        if frame.filename.startswith(root + os.sep):
            folded += 1
            continue
        if folded:
            out.append(f"  [{folded} frame{'s' if folded > 1 else ''} inside tcli]")
            folded = 0
        out.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        if frame.line:
            out.append(f"    {frame.line}")
    if folded:
        out.append(f"  [{folded} frame{'s' if folded > 1 else ''} inside tcli]")
    out.extend(line.rstrip("\n") for line in traceback.format_exception_only(type(error), error))
    return "\n".join(out)


def print_user_error(error: BaseException, file=None) -> None:
    print(user_traceback(error), file=file or sys.stderr, flush=True)

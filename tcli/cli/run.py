"""``tcli run``: run a training script on tcli and report its loss every N steps.

The script runs as ``__main__`` with its own argv and its directory first on sys.path, as ``python script.py``
would; ``import torch`` resolves to tcli unless the alias is turned off. Exit codes: 0 done (or --max-steps
reached), 1 the script raised (or stopped at a non-finite loss), 2 usage errors, 130 interrupted.
"""

from __future__ import annotations

import importlib.util
import math
import os
import runpy
import sys
import time
from dataclasses import dataclass

from .tracebacks import print_user_error as print_script_error
from .watch import StopRun, TimeSampler, Watcher

EXIT_OK, EXIT_SCRIPT, EXIT_USAGE, EXIT_INTERRUPT = 0, 1, 2, 130


@dataclass
class Options:
    script: str | None
    module: str | None
    args: list
    every: str = "100"
    max_steps: int | None = None
    device: str | None = None
    seed: int | None = None
    threads: int | None = None
    plain: bool = False
    log: str | None = None
    as_json: bool = False
    stop_on_nan: bool = False
    torch_alias: bool = True


class UsageError(Exception):
    """A mistake in the command line: one line on stderr, exit 2."""


def check(opts: Options) -> None:
    if opts.every != "auto" and not (opts.every.isdigit() and int(opts.every) > 0):
        raise UsageError(f"--every takes a positive number of steps or 'auto', not {opts.every!r}")
    if opts.max_steps is not None and opts.max_steps < 1:
        raise UsageError("--max-steps must be at least 1")
    if opts.threads is not None and opts.threads < 1:
        raise UsageError("--threads must be at least 1")
    if opts.log and not opts.log.endswith((".jsonl", ".csv")):
        raise UsageError(f"--log writes .jsonl or .csv files, not {opts.log!r}")
    if opts.module:
        top = opts.module.partition(".")[0]
        sys.path.insert(0, os.getcwd())  # where _run_target looks too; only the top level: importing runs code
        try:
            found = importlib.util.find_spec(top) is not None
        except (ImportError, ValueError):
            found = False
        finally:
            del sys.path[0]
        if not found:
            raise UsageError(f"no module named {opts.module!r}")
        return
    if not opts.script:
        raise UsageError("missing the script to run: tcli run [OPTIONS] SCRIPT [ARGS]... (or -m MODULE)")
    path = opts.script
    if not os.path.exists(path):
        raise UsageError(f"no such script: {path}")
    if os.path.isdir(path):
        if not os.path.exists(os.path.join(path, "__main__.py")):
            raise UsageError(f"{path} is a directory without a __main__.py")
        return
    if not path.endswith((".py", ".pyw")):
        try:
            with open(path, encoding="utf-8") as f:
                compile(f.read(), path, "exec")
        except (UnicodeDecodeError, SyntaxError, ValueError):
            raise UsageError(f"{path} is not a Python script") from None


def _views(opts: Options):
    from .run_views import JsonView, LiveView, LogFile, PlainView
    if opts.as_json:
        views = [JsonView(sys.stdout)]
    elif opts.plain or not sys.stdout.isatty() or os.environ.get("TERM") == "dumb":
        views = [PlainView(sys.stdout)]
    else:
        views = [LiveView()]
    if opts.log:
        views.append(LogFile(opts.log))
    return views


def _banner(opts: Options) -> dict:
    import tcli
    target = f"-m {opts.module}" if opts.module else opts.script
    device = str(tcli.get_default_device())
    alias = "import torch → tcli" if opts.torch_alias else "torch alias off"
    parts = [f"tcli run {target}", alias, f"device {device}", f"threads {tcli.get_num_threads()}",
             "reports: about 20" if opts.every == "auto" else f"report every {int(opts.every)} steps"]
    if opts.seed is not None:
        parts.append(f"seed {opts.seed}")
    if opts.max_steps:
        parts.append(f"max {opts.max_steps} steps")
    return {"text": " · ".join(parts), "script": target, "torch_alias": opts.torch_alias, "device": device,
            "seed": opts.seed, "every": opts.every, "max_steps": opts.max_steps}


def _prepare(opts: Options) -> None:
    import tcli
    if opts.torch_alias:
        from .alias import install
        install()
    if opts.threads:
        tcli.set_num_threads(opts.threads)
    if opts.device:
        if opts.device.startswith("cuda") and not tcli.cuda.is_available():
            raise UsageError("--device cuda: CUDA is not available here (no NVIDIA GPU or driver); use --device cpu")
        try:
            tcli.set_default_device(opts.device)
        except (RuntimeError, ValueError) as error:
            raise UsageError(f"--device {opts.device}: {str(error).splitlines()[0]}") from None
    if opts.seed is not None:
        tcli.manual_seed(opts.seed)


def _run_target(opts: Options) -> None:
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    try:
        if opts.module:
            sys.argv = [opts.module, *opts.args]
            sys.path.insert(0, os.getcwd())
            runpy.run_module(opts.module, run_name="__main__", alter_sys=True)
        else:
            script = os.path.abspath(opts.script)
            sys.argv = [opts.script, *opts.args]
            sys.path.insert(0, script if os.path.isdir(script) else os.path.dirname(script))
            runpy.run_path(script, run_name="__main__")
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path


def _jit_listener():
    """Accumulates numba's compile time (not cache loads); None where numba's event API is missing."""
    try:
        from numba.core import event
    except ImportError:
        return None, None
    listener = event.TimingListener()
    event.register("numba:compile", listener)
    return listener, lambda: event.unregister("numba:compile", listener)


def summarize(watcher: Watcher, wall: float, sampler, jit, stopped) -> dict:
    losses = [v for v in watcher.losses if math.isfinite(v)]
    summary = {"steps": watcher.step, "wall_s": wall, "steps_per_s": watcher.step / wall if wall > 0 else 0.0,
               "first_loss": losses[0] if losses else None, "final_loss": losses[-1] if losses else None,
               "best_loss": None, "best_step": None, "samples": watcher.samples or None,
               "first_nonfinite_step": watcher.first_nonfinite[0] if watcher.first_nonfinite else None,
               "time_shares": sampler.shares() if sampler else None,
               "jit_compile_s": None if jit is None else (jit.duration if jit.done else 0.0),
               "stopped": stopped}
    if losses:
        best = min(range(len(watcher.losses)), key=lambda i: watcher.losses[i]
                   if math.isfinite(watcher.losses[i]) else math.inf)
        summary["best_loss"], summary["best_step"] = watcher.losses[best], watcher.loss_steps[best]
    return summary


def run(opts: Options) -> int:
    try:
        check(opts)
        _prepare(opts)
    except UsageError as error:
        print(f"tcli run: {error}", file=sys.stderr)
        return EXIT_USAGE
    from .. import monitor
    from .run_views import loss_curve
    try:
        views = _views(opts)
    except OSError as error:  # --log into a missing folder, or a file that cannot be written
        print(f"tcli run: --log {opts.log}: {error.strerror or error}", file=sys.stderr)
        return EXIT_USAGE
    watcher = Watcher(views, every=opts.every, max_steps=opts.max_steps, stop_on_nan=opts.stop_on_nan)
    jit, stop_jit = _jit_listener()
    sampler = TimeSampler()
    for view in views:
        view.start(_banner(opts))
    code, stopped = EXIT_OK, None
    stdout = sys.stdout
    if opts.as_json:
        sys.stdout = sys.stderr  # JSON owns stdout; the script's prints go to stderr
    monitor.install(watcher)
    sampler.start()
    start = time.perf_counter()
    watcher.start = watcher.last_time = watcher.clock()  # elapsed and steps/s count the script's time only
    try:
        _run_target(opts)
    except StopRun as stop:
        stopped = {"max_steps": f"--max-steps {opts.max_steps} reached",
                   "nonfinite": "--stop-on-nan: non-finite loss"}[stop.reason]
        code = EXIT_OK if stop.reason == "max_steps" else EXIT_SCRIPT
    except KeyboardInterrupt:
        stopped, code = "interrupted (Ctrl-C)", EXIT_INTERRUPT
    except SystemExit as exit_:
        if exit_.code not in (None, 0):
            code = exit_.code if isinstance(exit_.code, int) else EXIT_SCRIPT
            if not isinstance(exit_.code, int):
                print(exit_.code, file=sys.stderr)
            stopped = f"the script exited with status {code}"
    except BaseException as error:  # the script raised: show it the user's way, then the summary
        sys.stdout = stdout
        for view in views:  # a live view must stop before the traceback prints under it
            if hasattr(view, "live") and view.live is not None:
                view.live.stop()
                view.live = None
        print_script_error(error)
        stopped, code = f"the script raised {type(error).__name__}", EXIT_SCRIPT
    finally:
        wall = time.perf_counter() - start
        monitor.uninstall()
        sampler.stop()
        if stop_jit is not None:
            stop_jit()
        sys.stdout = stdout
    if watcher.step and (watcher.last_report is None or watcher.last_report.step != watcher.step):
        watcher.report()  # the last steps since the previous report
    summary = summarize(watcher, wall, sampler, jit, stopped)
    curve = loss_curve(watcher.loss_steps, watcher.losses)
    for view in views:
        view.finish(summary, curve)
    return code

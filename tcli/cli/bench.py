"""``tcli bench``: time tcli against a hand-written numpy equivalent and PyTorch, side by side.

Method, per workload:

1. ``setup`` builds the candidates (zero-arg callables) from the same seeded data: ``tcli``, ``numpy``
   (where meaningful) and ``torch`` (only when ``import torch`` works; it runs on 2 intra-op threads).
2. Every candidate is called once and that first call is timed on its own ("cold/first call": for tcli it
   compiles or loads the Numba kernels the workload needs).
3. Each candidate is calibrated to run in ``timeit`` blocks of about ``block_s`` seconds.
4. Candidates are interleaved round by round (tcli, numpy, torch, tcli, ...), sleeping before each block
   so the spinning BLAS/OpenMP threads of the previous candidate settle, then making one untimed call that
   wakes the candidate's own worker threads; the median per-call time of the rounds is reported, with the
   ratios tcli / torch and tcli / numpy (lower is better).

Workloads that start a subprocess (import time, ``tcli --help``, the 500-step tutorial) run one call per
round instead of calibrated blocks, and the tutorial starts no new round after a time budget. Targets are
informational: the exit code is 0 unless the bench itself crashes, and a candidate that raises is reported
as an error in its row.

Nothing heavy is imported at module level so ``tcli --help`` stays fast.
"""

from __future__ import annotations

import gc
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

CANDIDATES = ("tcli", "numpy", "torch")
TORCH_THREADS = 2
ROUNDS, QUICK_ROUNDS = 7, 3
BLOCK_S, QUICK_BLOCK_S = 0.020, 0.010
SETTLE_S = 0.25  # long enough for the previous candidate's spinning BLAS/OpenMP workers to sleep
LR = 1e-6
SUBPROCESS_TIMEOUT_S = 300.0

Clock = Callable[[], float]


# --------------------------------------------------------------------------------------------- description


@dataclass(frozen=True)
class Target:
    """``tcli / torch <= value`` (a ratio) or ``tcli < value`` seconds (absolute)."""

    value: float
    absolute: bool = False
    against: str = "torch"  # the candidate a ratio target divides by

    def describe(self) -> str:
        return f"< {format_time(self.value)}" if self.absolute else f"≤ {self.value:g}× {self.against}"

    def met(self, tcli_s: float | None, ratio: float | None) -> bool | None:
        if self.absolute:
            return None if tcli_s is None else tcli_s < self.value
        return None if ratio is None else ratio <= self.value


@dataclass
class Libs:
    """The libraries a setup builds candidates from; ``torch`` is None when it cannot be imported."""

    np: Any
    tcli: Any
    torch: Any | None

    def data(self, *shape: int, seed: int = 0):
        """Seeded float32 standard-normal data, the same for every candidate."""
        return self.np.random.default_rng(seed).standard_normal(shape, dtype=self.np.float32)

    def build(self, **makers: Callable[[], Callable[[], object]] | None) -> dict[str, Callable[[], object]]:
        """Call each maker to get its candidate; a maker that raises gives a candidate that re-raises.

        Makers set to None are left out, and so is ``torch`` when torch is not importable.
        """
        candidates: dict[str, Callable[[], object]] = {}
        for name, make in makers.items():
            if make is None or (name == "torch" and self.torch is None):
                continue
            try:
                candidates[name] = make()
            except Exception as exc:  # a broken op in one library must not hide the others' numbers
                candidates[name] = _Failed(exc)
        return candidates


class _Failed:
    """A candidate whose setup raised: calling it raises the same error."""

    def __init__(self, exc: BaseException):
        self.exc = exc

    def __call__(self):
        raise self.exc


@dataclass(frozen=True)
class Workload:
    name: str
    setup: Callable[[Libs], dict[str, Callable[[], object]]]
    target: Target | None = None
    quick: bool = True  # part of ``--quick``
    subprocess: bool = False  # one call per round (no calibration): each call is a fresh process
    rounds: tuple[int, int] | None = None  # (full, --quick) rounds; None: the run's default
    warmup: bool = True  # time a first call separately before the rounds
    flops: float | None = None  # floating-point operations per call, for GFLOP/s
    max_call_s: float | None = None  # skip a candidate whose warm call takes longer than this
    budget_s: float | None = None  # start no new round once the rounds so far took this long (at least one runs)
    note: str = ""


# --------------------------------------------------------------------------------------------- timing


@dataclass
class Timing:
    """One candidate's measurements: per-call seconds of each round, and how many calls a block made."""

    number: int
    rounds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float | None:
        return statistics.median(self.rounds) if self.rounds else None


def calibrate(fn: Callable[[], object], block_s: float, clock: Clock = time.perf_counter) -> tuple[int, float]:
    """(calls per block so a block lasts about ``block_s``, estimated seconds per call).

    Runs 1, 10, 100, ... calls until a run lasts at least a tenth of a block, then scales up.
    """
    timer = timeit.Timer(fn, timer=clock)
    n = 1
    while True:
        elapsed = timer.timeit(n)
        if elapsed >= block_s / 10 or n >= 10**7:
            break
        n *= 10
    per_call = elapsed / n
    number = max(1, round(block_s / per_call)) if per_call > 0 else n
    return number, per_call


def run_rounds(plan: dict[str, tuple[Callable[[], object], int]], rounds: int, *, settle_s: float = SETTLE_S,
               clock: Clock = time.perf_counter, sleep: Callable[[float], object] = time.sleep,
               errors: dict[str, str] | None = None, budget_s: float | None = None,
               rewarm: bool = False) -> dict[str, Timing]:
    """Time every candidate in ``plan`` (name -> (callable, calls per block)), interleaved, for ``rounds`` rounds.

    Each block is a ``timeit`` run (garbage collection off) preceded by a ``settle_s`` sleep and, with
    ``rewarm``, one untimed call: after the pause the candidate's parked worker threads must be woken, and on
    a VM waking an idle vCPU took 2-10 ms here, which would otherwise land in the first calls of every block
    (PyTorch and tcli alike) instead of the steady state the targets are about. A candidate that raises drops
    out; its error goes to ``errors``. With ``budget_s``, no round starts once the rounds so far have taken
    that long.
    """
    timings = {name: Timing(number) for name, (_, number) in plan.items()}
    timers = {name: timeit.Timer(fn, timer=clock) for name, (fn, _) in plan.items()}
    live = list(plan)
    start = clock()
    for index in range(rounds):
        if index and budget_s is not None and clock() - start >= budget_s:
            break
        for name in list(live):
            sleep(settle_s)
            try:
                if rewarm:
                    plan[name][0]()
                elapsed = timers[name].timeit(timings[name].number)
            except Exception as exc:
                live.remove(name)
                if errors is not None:
                    errors[name] = _describe(exc)
                continue
            timings[name].rounds.append(elapsed / timings[name].number)
    return timings


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[-1] if text else ''}"[:300]


# --------------------------------------------------------------------------------------------- one workload


@dataclass
class Row:
    name: str
    target: Target | None = None
    note: str = ""
    median_s: dict[str, float] = field(default_factory=dict)
    first_call_s: dict[str, float] = field(default_factory=dict)
    rounds_s: dict[str, list[float]] = field(default_factory=dict)
    number: dict[str, int] = field(default_factory=dict)
    gflops: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def ratio(self, other: str) -> float | None:
        tcli, base = self.median_s.get("tcli"), self.median_s.get(other)
        return tcli / base if tcli is not None and base else None

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        return self.target.met(self.median_s.get("tcli"), self.ratio(self.target.against))

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "target": None if self.target is None else {
                "value": self.target.value, "kind": "seconds" if self.target.absolute else "ratio_torch"},
            "met": self.met,
            "median_s": self.median_s,
            "ratio_torch": self.ratio("torch"),
            "ratio_numpy": self.ratio("numpy"),
            "ratio_target": None if self.target is None or self.target.absolute else self.ratio(self.target.against),
            "first_call_s": self.first_call_s,
            "rounds_s": self.rounds_s,
            "number": self.number,
            "gflops": self.gflops,
            "errors": self.errors,
            "skipped": self.skipped,
            "note": self.note,
        }


@dataclass(frozen=True)
class Config:
    quick: bool = False
    rounds: int = ROUNDS
    repeats_given: bool = False
    block_s: float = BLOCK_S
    settle_s: float = SETTLE_S

    @classmethod
    def make(cls, quick: bool, repeats: int | None) -> Config:
        rounds = repeats if repeats is not None else (QUICK_ROUNDS if quick else ROUNDS)
        return cls(quick=quick, rounds=max(1, rounds), repeats_given=repeats is not None,
                   block_s=QUICK_BLOCK_S if quick else BLOCK_S)

    def rounds_for(self, workload: Workload) -> int:
        if workload.rounds is None:
            return self.rounds
        own = workload.rounds[1] if self.quick else workload.rounds[0]
        return min(own, self.rounds) if self.repeats_given else own


def measure(workload: Workload, libs: Libs, config: Config, clock: Clock = time.perf_counter,
            sleep: Callable[[float], object] = time.sleep) -> Row:
    """Set up, warm up, calibrate and time one workload's candidates."""
    row = Row(workload.name, workload.target, workload.note)
    try:
        candidates = workload.setup(libs)
    except Exception as exc:
        row.errors["setup"] = _describe(exc)
        return row
    plan: dict[str, tuple[Callable[[], object], int]] = {}
    for name, fn in candidates.items():
        try:
            if workload.warmup:
                start = clock()
                fn()
                row.first_call_s[name] = clock() - start
            if workload.subprocess:
                number, per_call = 1, None
            else:
                number, per_call = calibrate(fn, config.block_s, clock)
        except Exception as exc:
            row.errors[name] = _describe(exc)
            continue
        if workload.max_call_s is not None and per_call is not None and per_call > workload.max_call_s:
            row.skipped[name] = f"{format_time(per_call)} per call > {format_time(workload.max_call_s)}"
            continue
        plan[name] = (fn, number)
    timings = run_rounds(plan, config.rounds_for(workload), settle_s=config.settle_s, clock=clock, sleep=sleep,
                         errors=row.errors, budget_s=workload.budget_s, rewarm=not workload.subprocess)
    for name, timing in timings.items():
        if timing.median is None:
            continue
        row.median_s[name] = timing.median
        row.rounds_s[name] = timing.rounds
        row.number[name] = timing.number
        if workload.flops:
            row.gflops[name] = workload.flops / timing.median / 1e9
    return row


# --------------------------------------------------------------------------------------------- workloads


def _same_op(shapes: list[tuple[int, ...]], make: Callable[..., Callable[[], object]],
             make_numpy: Callable[..., Callable[[], object]] | None = None, seed: int = 0):
    """A setup where tcli and torch run ``make(module, *tensors)`` and numpy ``make_numpy(np, *arrays)``."""

    def setup(libs: Libs):
        arrays = [libs.data(*shape, seed=seed + i) for i, shape in enumerate(shapes)]

        def with_module(mod):
            return lambda: make(mod, *[mod.from_numpy(a.copy()) for a in arrays])

        return libs.build(
            tcli=with_module(libs.tcli),
            numpy=None if make_numpy is None else (lambda: make_numpy(libs.np, *[a.copy() for a in arrays])),
            torch=with_module(libs.torch),
        )

    return setup


def _random(name: str, make, make_numpy) -> Workload:
    """Seeded random numbers: tcli and torch draw the same values (PyTorch's generator); numpy its own PCG64."""
    def setup(libs: Libs):
        def seeded(mod):
            mod.manual_seed(0)
            return lambda: make(mod)

        rng = libs.np.random.default_rng(0)
        return libs.build(tcli=lambda: seeded(libs.tcli), numpy=lambda: (lambda: make_numpy(libs.np, rng)),
                          torch=lambda: seeded(libs.torch))

    return Workload(name, setup, Target(1.0))


def _two_layer_step(libs: Libs):
    x, y = libs.data(64, 1000, seed=1), libs.data(64, 10, seed=2)
    w1, w2 = libs.data(1000, 100, seed=3), libs.data(100, 10, seed=4)

    def tensors(mod):
        x_, y_ = mod.from_numpy(x.copy()), mod.from_numpy(y.copy())
        w1_ = mod.from_numpy(w1.copy()).requires_grad_()
        w2_ = mod.from_numpy(w2.copy()).requires_grad_()
        return x_, y_, w1_, w2_

    def autograd_step(mod):
        x, y, w1, w2 = tensors(mod)

        def step():
            nonlocal w1, w2
            y_pred = x.mm(w1).clamp(min=0).mm(w2)
            loss = (y_pred - y).pow(2).sum()
            loss.backward()
            with mod.no_grad():
                w1 -= LR * w1.grad
                w2 -= LR * w2.grad
                w1.grad.zero_()
                w2.grad.zero_()

        return step

    def numpy_step():
        np = libs.np
        x_, y_, w1_, w2_ = x.copy(), y.copy(), w1.copy(), w2.copy()

        def step():
            nonlocal w1_, w2_
            h = x_ @ w1_
            h_relu = np.maximum(h, 0)
            y_pred = h_relu @ w2_
            diff = y_pred - y_
            np.square(diff).sum()
            grad_y_pred = 2.0 * diff
            grad_w2 = h_relu.T @ grad_y_pred
            grad_h = grad_y_pred @ w2_.T
            grad_h[h < 0] = 0
            grad_w1 = x_.T @ grad_h
            w1_ -= LR * grad_w1
            w2_ -= LR * grad_w2

        return step

    return libs.build(tcli=lambda: autograd_step(libs.tcli), numpy=numpy_step,
                      torch=lambda: autograd_step(libs.torch))


def _scalar_autograd(libs: Libs):
    def make(mod):
        w = mod.tensor(2.0, requires_grad=True)
        b = mod.tensor(0.5, requires_grad=True)
        x = mod.tensor(3.0)

        def step():
            w.grad = None
            b.grad = None
            y = w * x + b
            y.backward()

        return step

    return libs.build(tcli=lambda: make(libs.tcli), torch=lambda: make(libs.torch))


def _numpy_softmax(np, x):
    def call():
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    return call


def _numba_matmul(n: int):
    def setup(libs: Libs):
        np = libs.np
        a, b = libs.data(n, n, seed=1), libs.data(n, n, seed=2)

        def numba_kernel():
            from tcli.kernels.cpu.linalg import matmul_loops
            c = np.empty((n, n), np.float32)
            return lambda: matmul_loops(c, a, b)

        def blas():
            c = np.empty((n, n), np.float32)
            return lambda: np.matmul(a, b, out=c)

        return libs.build(tcli=numba_kernel, numpy=blas)

    return setup


def _python_c(code: str, env: dict | None = None) -> Callable[[], None]:
    return _command([sys.executable, "-c", code], env)


def _command(args: list[str], env: dict | None = None) -> Callable[[], None]:
    def run():
        proc = subprocess.run(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, timeout=SUBPROCESS_TIMEOUT_S)
        if proc.returncode != 0:
            tail = proc.stderr.strip().splitlines()
            raise RuntimeError(f"exit {proc.returncode}: {tail[-1] if tail else ''}")

    return run


def _import_times(libs: Libs):
    return libs.build(tcli=lambda: _python_c("import tcli"), numpy=lambda: _python_c("import numpy"),
                      torch=lambda: _python_c("import torch"))


def _tcli_command() -> list[str]:
    script = os.path.join(os.path.dirname(sys.executable), "tcli")
    if os.path.exists(script):
        return [script]
    found = shutil.which("tcli")
    return [found] if found else [sys.executable, "-m", "tcli.cli.app"]


def _cli_help(libs: Libs):
    return libs.build(tcli=lambda: _command([*_tcli_command(), "--help"]))


TUTORIAL = """\
import {module} as torch
{threads}
torch.manual_seed(0)
x = torch.randn(64, 1000)
y = torch.randn(64, 10)
w1 = torch.randn(1000, 100, requires_grad=True)
w2 = torch.randn(100, 10, requires_grad=True)
learning_rate = 1e-6
for t in range({steps}):
    y_pred = x.mm(w1).clamp(min=0).mm(w2)
    loss = (y_pred - y).pow(2).sum()
    loss.backward()
    with torch.no_grad():
        w1 -= learning_rate * w1.grad
        w2 -= learning_rate * w2.grad
        w1.grad.zero_()
        w2.grad.zero_()
"""


def tutorial_script(module: str, steps: int = 500) -> str:
    threads = f"torch.set_num_threads({TORCH_THREADS})" if module == "torch" else ""
    return TUTORIAL.format(module=module, threads=threads, steps=steps)


def _tutorial_warm(libs: Libs):
    def primed():
        _python_c(tutorial_script("tcli", steps=1))()  # compiles or loads every kernel the loop needs
        return _python_c(tutorial_script("tcli"))

    return libs.build(tcli=primed, torch=lambda: _python_c(tutorial_script("torch")))


def _tutorial_cold(libs: Libs):
    def fresh_cache():
        code = tutorial_script("tcli")

        def run():
            with tempfile.TemporaryDirectory(prefix="tcli-bench-cache-") as cache:
                _python_c(code, {**os.environ, "NUMBA_CACHE_DIR": cache})()

        return run

    return libs.build(tcli=fresh_cache)


def _matmul(n: int) -> Workload:
    return Workload(f"matmul_{n}", _same_op([(n, n), (n, n)], lambda m, a, b: lambda: a @ b,
                                             lambda np, a, b: lambda: a @ b),
                    Target(1.0), quick=n <= 1024, flops=2.0 * n**3)


def _matmul_numba(n: int) -> Workload:
    return Workload(f"matmul_{n}_numba_kernel", _numba_matmul(n), None, quick=n <= 1024, flops=2.0 * n**3,
                    max_call_s=2.0, note="tcli column: Numba matmul_loops; numpy column: numpy's BLAS")


def workloads() -> list[Workload]:
    """The whole suite, in the order it runs."""
    from .bench_training import workloads as training_workloads
    return [
        Workload("two_layer_step", _two_layer_step, Target(0.8)),
        Workload("add_tiny", _same_op([(3,), (3,)], lambda m, a, b: lambda: a + b, lambda np, a, b: lambda: a + b),
                 Target(0.8)),
        Workload("scalar_autograd", _scalar_autograd, Target(0.5)),
        Workload("relu_fma_1e6", _same_op([(10**6,)] * 3, lambda m, a, b, c: lambda: m.relu(a * b + c),
                                          lambda np, a, b, c: lambda: np.maximum(a * b + c, 0)), Target(1.0)),
        Workload("add_1e7_fresh", _same_op([(10**7,), (10**7,)], lambda m, a, b: lambda: a + b,
                                           lambda np, a, b: lambda: a + b), Target(0.5)),
        Workload("sum_4096x4096", _same_op([(4096, 4096)], lambda m, x: lambda: x.sum(),
                                           lambda np, x: lambda: x.sum()), Target(1.0)),
        Workload("softmax_4096x1024", _same_op([(4096, 1024)], lambda m, x: lambda: m.softmax(x, dim=-1),
                                               _numpy_softmax), Target(1.0)),
        _random("rand_1e6", lambda m: m.rand(10**6), lambda np, g: g.random(10**6, dtype=np.float32)),
        _random("randn_1e6", lambda m: m.randn(10**6), lambda np, g: g.standard_normal(10**6, dtype=np.float32)),
        _random("randint_1e6", lambda m: m.randint(0, 1000, (10**6,)), lambda np, g: g.integers(0, 1000, 10**6)),
        _random("randperm_1e5", lambda m: m.randperm(10**5), lambda np, g: g.permutation(10**5)),
        _matmul(1024),
        _matmul_numba(1024),
        _matmul(2048),
        _matmul_numba(2048),
        *training_workloads(),
        Workload("import", _import_times, Target(0.4), subprocess=True, rounds=(5, 3),
                 note="python -c 'import X' wall time"),
        Workload("cli_help", _cli_help, Target(0.3, absolute=True), subprocess=True, rounds=(5, 3)),
        Workload("tutorial_500_steps_warm", _tutorial_warm, Target(1.5, absolute=True), subprocess=True,
                 rounds=(3, 1), warmup=False, budget_s=20.0,
                 note="subprocess; kernel cache primed by a 1-step run"),
        Workload("tutorial_500_steps_cold", _tutorial_cold, Target(10.0, absolute=True), quick=False,
                 subprocess=True, rounds=(1, 1), warmup=False, note="subprocess, empty NUMBA_CACHE_DIR"),
    ]


def select(suite: list[Workload], quick: bool, name_filter: str | None) -> list[Workload]:
    return [w for w in suite if (w.quick or not quick) and (not name_filter or name_filter in w.name)]


# --------------------------------------------------------------------------------------------- run and report


def load_torch():
    """torch set to ``TORCH_THREADS`` intra-op threads, or None when it cannot be imported."""
    try:
        import torch
    except Exception:  # ImportError, or a broken install (OSError from a missing shared library)
        return None
    torch.set_num_threads(TORCH_THREADS)
    return torch


def _load_average() -> list[float] | None:
    """1, 5 and 15-minute load averages: on a shared machine they say how much to trust the numbers."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):  # not on Windows
        return None


def machine_info(torch) -> dict:
    import platform

    import numba
    import numpy

    import tcli
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel region has run in this process
        layer = None
    return {
        "cpu_count": os.cpu_count(),
        "load_average": _load_average(),
        "numba_threading_layer": layer,
        "numba_threads": numba.get_num_threads(),
        "torch": None if torch is None else torch.__version__,
        "torch_threads": None if torch is None else torch.get_num_threads(),
        "tcli": getattr(tcli, "__version__", None),
        "numpy": numpy.__version__,
        "numba": numba.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def run(selected: list[Workload], config: Config, progress: Callable[[str], object] | None = None) -> tuple[
        list[Row], dict]:
    import numpy

    import tcli
    load_before = _load_average()
    libs = Libs(numpy, tcli, load_torch())
    rows = []
    for workload in selected:
        if progress is not None:
            progress(workload.name)
        rows.append(measure(workload, libs, config))
        gc.collect()  # free the workload's buffers before the next one
    info = machine_info(libs.torch)
    info["load_average_before"] = load_before
    return rows, info


def format_time(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "–"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _format_ratio(ratio: float | None) -> str:
    return "–" if ratio is None else f"{ratio:.2f}"


def _notes(row: Row) -> str:
    parts = []
    if row.gflops:
        parts.append("GFLOP/s " + " · ".join(f"{k} {v:.0f}" for k, v in row.gflops.items()))
    for name, seconds in row.median_s.items():  # a baseline outside the table's columns
        if name not in CANDIDATES:
            parts.append(f"{name} {format_time(seconds)} (tcli÷{name} {_format_ratio(row.ratio(name))})")
    if row.errors or row.skipped:
        parts.append("[red]" + ", ".join([f"{k} failed" for k in row.errors] + [f"{k} skipped" for k in row.skipped])
                     + "[/] (below)")
    if row.note:
        parts.append(row.note)
    return "; ".join(parts)


def render(rows: list[Row], info: dict, config: Config, console=None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    if console is None:
        console = Console()
        if not console.is_terminal:  # piped or redirected: do not squeeze the table into 80 columns
            console = Console(width=max(console.width, 200))
    torch_text = f"torch {info['torch']} ({info['torch_threads']} threads)" if info["torch"] else "torch not installed"
    load = info.get("load_average")
    load_text = f" (load average {load[0]:g})" if load else ""
    caption = (f"{info['cpu_count']} CPUs{load_text} · numba {info['numba']}, threading layer "
               f"{info['numba_threading_layer'] or 'not started'}, {info['numba_threads']} threads · {torch_text}\n"
               f"median per call of {config.rounds} interleaved rounds of ~{config.block_s * 1e3:.0f} ms blocks "
               "(subprocess rows: one call per round, fewer rounds) · ratios: lower is better")
    table = Table(title="tcli bench", caption=caption, caption_justify="left")
    for header in ("workload", "tcli", "numpy", "torch"):
        table.add_column(header, justify="left" if header == "workload" else "right", no_wrap=True)
    for header in ("tcli÷torch", "tcli÷numpy"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("target", no_wrap=True)
    table.add_column("met?", justify="center", no_wrap=True)
    table.add_column("cold/first call", justify="right", no_wrap=True)
    table.add_column("notes")
    for row in rows:
        met = {True: "[green]yes[/]", False: "[red]no[/]", None: "–"}[row.met]
        table.add_row(row.name, *(format_time(row.median_s.get(c)) for c in CANDIDATES),
                      _format_ratio(row.ratio("torch")), _format_ratio(row.ratio("numpy")),
                      row.target.describe() if row.target else "–", met,
                      format_time(row.first_call_s.get("tcli")), _notes(row))
    console.print(table)
    for row in rows:
        for name, message in row.errors.items():
            console.print(f"[red]{row.name}: {name} failed:[/] {escape(message)}")
        for name, message in row.skipped.items():
            console.print(f"{row.name}: {name} skipped: {escape(message)}")


def main(quick: bool = False, as_json: bool = False, name_filter: str | None = None,
         repeats: int | None = None, device: str = "cpu") -> int:
    import json

    from rich.console import Console

    err = Console(stderr=True)
    if device not in ("cpu", "cuda"):
        err.print(f"tcli bench: --device takes cpu or cuda, not {device!r}")
        return 2
    if device == "cuda":
        import tcli
        if not tcli.cuda.is_available():
            err.print("tcli bench --device cuda: CUDA is not available here (no NVIDIA driver or GPU)")
            return 2
        from .bench_cuda import cuda_workloads
        suite = cuda_workloads()
    else:
        suite = workloads()
    config = Config.make(quick, repeats)
    selected = select(suite, quick, name_filter)
    if not selected:
        err.print(f"tcli bench: no workload name contains {name_filter!r}; names: "
                  + ", ".join(w.name for w in suite))
    if err.is_terminal:
        with err.status("tcli bench") as status:
            rows, info = run(selected, config, lambda name: status.update(f"tcli bench: {name}"))
    else:
        rows, info = run(selected, config)
    if as_json:
        print(json.dumps({
            "machine": info,
            "config": {"quick": config.quick, "rounds": config.rounds, "block_s": config.block_s,
                       "settle_s": config.settle_s, "filter": name_filter},
            "rows": [row.as_dict() for row in rows],
        }, indent=2))
    else:
        render(rows, info, config)
    return 0

"""The watcher ``tcli run`` installs (see ``tcli.monitor``): it counts steps, reads losses, and hands reports to views.

Per step it does a few attribute reads and one float read of the loss's memory (a CPU scalar), so watching
costs well under 2% of a training step. Everything else happens once every ``every`` steps.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from array import array
from dataclasses import dataclass, field


class StopRun(BaseException):
    """Raised from a hook to end the script early (max steps, first non-finite loss); BaseException so that a
    script's ``except Exception`` does not swallow it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Report:
    step: int
    loss: float | None
    mean_loss: float | None
    steps_per_s: float
    samples_per_s: float | None
    elapsed_s: float
    total_steps: int | None
    eta_s: float | None
    metrics: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        out = {"step": self.step, "loss": self.loss, "mean_loss": self.mean_loss, "steps_per_s": self.steps_per_s,
               "samples_per_s": self.samples_per_s, "elapsed_s": self.elapsed_s, "total_steps": self.total_steps,
               "eta_s": self.eta_s}
        out.update(self.metrics)
        return out


def batch_size(data) -> int | None:
    """Samples in a batch: the length of its first tensor (batches are tensors, or containers of them)."""
    from .._tensor import Tensor
    while True:
        if isinstance(data, Tensor):
            return data.shape[0] if data.dim() else 1
        if isinstance(data, (list, tuple)) and data:
            data = data[0]
        elif isinstance(data, dict) and data:
            data = next(iter(data.values()))
        else:
            return None


class Watcher:
    def __init__(self, views, every="100", max_steps=None, stop_on_nan=False, clock=time.perf_counter):
        self.views, self.max_steps, self.stop_on_nan, self.clock = views, max_steps, stop_on_nan, clock
        self.auto = every == "auto"
        self.every = (max(1, max_steps // 20) if max_steps else 100) if self.auto else int(every)
        self.step = 0
        self.saw_backward = False
        self.losses = array("d")          # every step's loss, for the summary and the curve
        self.loss_steps = array("q")
        self.window = [0.0, 0]            # loss sum and count since the last report
        self.samples = self.window_samples = 0
        self.epochs = 0
        self.loader_len = None
        self.metrics: dict = {}
        self.first_nonfinite = None
        self.last_report: Report | None = None
        self.start = self.last_time = clock()
        self.last_step = 0

    # ---- hooks (tcli.monitor) --------------------------------------------------------------------------

    def on_backward(self, loss):
        self.saw_backward = True
        self._step(float(loss._buf[loss._offset]) if loss._device.type == "cpu" else float(loss.item()))

    def on_optimizer_step(self):
        if not self.saw_backward:
            self._step(None)

    def on_epoch(self, loader):
        self.epochs += 1
        try:
            self.loader_len = len(loader)
        except TypeError:  # an IterableDataset without __len__
            self.loader_len = None
        if self.auto and not self.max_steps and self.loader_len:
            self.every = max(1, self.loader_len // 20)

    def on_batch(self, data):
        n = batch_size(data)
        if n:
            self.samples += n
            self.window_samples += n

    def on_report(self, metrics, step=None):
        self.metrics.update(metrics)
        for view in self.views:
            view.metrics(self.step if step is None else step, metrics)

    # ---- steps and reports -----------------------------------------------------------------------------

    def _step(self, value):
        self.step += 1
        if value is not None:
            self.losses.append(value)
            self.loss_steps.append(self.step)
            self.window[0] += value
            self.window[1] += 1
            if not math.isfinite(value) and self.first_nonfinite is None:
                self.first_nonfinite = (self.step, value)
                for view in self.views:
                    view.nonfinite(self.step, value)
                if self.stop_on_nan:
                    raise StopRun("nonfinite")
        if self.step % self.every == 0:
            self.report()
        if self.max_steps and self.step >= self.max_steps:
            raise StopRun("max_steps")

    @property
    def total_steps(self) -> int | None:
        if self.max_steps:
            return self.max_steps
        return self.loader_len * self.epochs if self.loader_len else None

    def report(self):
        now = self.clock()
        span = max(now - self.last_time, 1e-9)
        total, elapsed = self.total_steps, now - self.start
        total_sum, count = self.window
        rate = (self.step - self.last_step) / span
        overall = self.step / max(elapsed, 1e-9)
        report = Report(
            step=self.step, loss=self.losses[-1] if self.losses else None,
            mean_loss=total_sum / count if count else None, steps_per_s=rate,
            samples_per_s=self.window_samples / span if self.window_samples else None, elapsed_s=elapsed,
            total_steps=total, eta_s=(total - self.step) / overall if total and total >= self.step else None,
            metrics=dict(self.metrics))
        self.window = [0.0, 0]
        self.window_samples = 0
        self.last_time, self.last_step, self.last_report = now, self.step, report
        for view in self.views:
            view.report(report)


class TimeSampler(threading.Thread):
    """Samples where the main thread is, 100 times a second: in tcli's kernels (compiled code is entered from
    tcli.kernels and tcli.ops._dispatch frames), elsewhere in tcli's Python, or in the script's own Python."""

    def __init__(self, interval=0.01):
        super().__init__(daemon=True, name="tcli-run-sampler")
        self.interval, self.counts = interval, {"kernels": 0, "tcli": 0, "script": 0}
        self.main_id = threading.main_thread().ident
        self.halt = threading.Event()
        import tcli
        root = tcli.__path__[0]
        import tcli.kernels
        self.tcli_root, self.kernel_roots = root, (tcli.kernels.__path__[0], root + "/ops/_dispatch.py")

    def run(self):
        while not self.halt.wait(self.interval):
            frame = sys._current_frames().get(self.main_id)
            if frame is None:
                continue
            name = frame.f_code.co_filename
            if name.startswith(self.kernel_roots):
                self.counts["kernels"] += 1
            elif name.startswith(self.tcli_root):
                self.counts["tcli"] += 1
            else:
                self.counts["script"] += 1

    def stop(self):
        self.halt.set()

    def shares(self) -> dict | None:
        total = sum(self.counts.values())
        return {k: v / total for k, v in self.counts.items()} if total else None

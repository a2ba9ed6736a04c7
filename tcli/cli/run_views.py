"""How ``tcli run`` shows a run: plain lines, JSON lines, a live rich view, log files, and the final summary."""

from __future__ import annotations

import csv
import json
import math
import sys

SPARK = "▁▂▃▄▅▆▇█"


def fmt_duration(seconds) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def fmt_loss(value) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 or not math.isfinite(value) else f"{value:.3e}"


def report_line(r) -> str:
    parts = [f"step {r.step}", f"loss {fmt_loss(r.loss)}"]
    if r.mean_loss is not None:
        parts.append(f"mean {fmt_loss(r.mean_loss)}")
    parts.append(f"{r.steps_per_s:.1f} steps/s")
    if r.samples_per_s is not None:
        parts.append(f"{r.samples_per_s:.0f} samples/s")
    parts.append(f"elapsed {fmt_duration(r.elapsed_s)}")
    if r.eta_s is not None:
        parts.append(f"eta {fmt_duration(r.eta_s)}")
    parts += [f"{k}={_short(v)}" for k, v in r.metrics.items()]
    return "  ".join(parts)


def _short(v):
    if hasattr(v, "item") and not isinstance(v, (int, float)):  # a one-element tensor or numpy scalar
        try:
            v = v.item()
        except (ValueError, RuntimeError):
            pass
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def sparkline(values, width=40) -> str:
    values = [v for v in values[-width:] if math.isfinite(v)]
    if not values:
        return ""
    lo, hi = min(values), max(values)
    span = hi - lo or 1.0
    return "".join(SPARK[min(len(SPARK) - 1, int((v - lo) / span * len(SPARK)))] for v in values)


def loss_curve(steps, losses, width=60, height=10) -> list[str]:
    """The loss over the run as rows of text: one column per bucket of steps (its mean), min..max vertically."""
    points = [(s, v) for s, v in zip(steps, losses) if math.isfinite(v)]
    if len(points) < 2:
        return []
    width = min(width, len(points))
    buckets = []
    for b in range(width):
        chunk = points[b * len(points) // width:(b + 1) * len(points) // width]
        buckets.append(sum(v for _, v in chunk) / len(chunk))
    lo, hi = min(buckets), max(buckets)
    log = lo > 0 and hi / lo > 50  # losses spanning decades: a log scale shows the whole descent
    scaled = [math.log10(v) for v in buckets] if log else buckets
    s_lo, s_hi = min(scaled), max(scaled)
    span = s_hi - s_lo or 1.0
    levels = [round((v - s_lo) / span * (height - 1)) for v in scaled]
    label_hi, label_lo = fmt_loss(hi), fmt_loss(lo) + (" (log)" if log else "")
    pad = max(len(label_hi), len(label_lo))
    rows = []
    for row in range(height - 1, -1, -1):
        label = label_hi if row == height - 1 else (label_lo if row == 0 else "")
        rows.append(f"{label:>{pad}} │" + "".join("•" if level == row else " " for level in levels))
    rows.append(" " * pad + " └" + "─" * width)
    first, last = points[0][0], points[-1][0]
    first_label, last_label = f"step {first}", f"step {last}"
    rows.append(" " * pad + "  " + first_label + last_label.rjust(max(len(last_label) + 1, width - len(first_label))))
    return rows


def summary_lines(s: dict) -> list[str]:
    lines = [f"steps {s['steps']}  wall {fmt_duration(s['wall_s'])} ({s['wall_s']:.2f} s)  "
             f"{s['steps_per_s']:.1f} steps/s"]
    if s.get("first_loss") is not None:
        lines.append(f"loss  first {fmt_loss(s['first_loss'])}  best {fmt_loss(s['best_loss'])} (step "
                     f"{s['best_step']})  final {fmt_loss(s['final_loss'])}")
    if s.get("first_nonfinite_step") is not None:
        lines.append(f"first non-finite loss at step {s['first_nonfinite_step']}")
    shares = s.get("time_shares")
    if shares:
        lines.append(f"time  tcli kernels {shares['kernels']:.0%}  tcli Python {shares['tcli']:.0%}  "
                     f"script Python {shares['script']:.0%} (sampled)")
    if s.get("jit_compile_s") is not None:
        lines.append(f"JIT compile {s['jit_compile_s']:.2f} s")
    if s.get("stopped"):
        lines.append(f"stopped: {s['stopped']}")
    return lines


# ---- views -------------------------------------------------------------------------------------------------

class View:
    """What every view receives; all methods default to doing nothing."""

    def start(self, banner: dict): ...

    def report(self, r): ...

    def metrics(self, step, metrics): ...

    def nonfinite(self, step, value): ...

    def finish(self, summary: dict, curve: list[str]): ...


class PlainView(View):
    """One line per report: no colour, no control codes (for pipes, logs and --plain)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def _line(self, text):
        print(text, file=self.stream, flush=True)

    def start(self, banner):
        self._line(banner["text"])

    def report(self, r):
        self._line(report_line(r))

    def metrics(self, step, metrics):
        self._line(f"step {step}  " + "  ".join(f"{k}={_short(v)}" for k, v in metrics.items()))

    def nonfinite(self, step, value):
        self._line(f"non-finite loss {value} at step {step}")

    def finish(self, summary, curve):
        for line in summary_lines(summary) + curve:
            self._line(line)


class JsonView(View):
    """JSON lines on stdout: start, report, metrics, nonfinite and summary events."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def _emit(self, event, **fields):
        print(json_line({"event": event, **fields}), file=self.stream, flush=True)

    def start(self, banner):
        self._emit("start", **{k: v for k, v in banner.items() if k != "text"})

    def report(self, r):
        self._emit("report", **r.as_dict())

    def metrics(self, step, metrics):
        self._emit("metrics", step=step, **metrics)

    def nonfinite(self, step, value):
        self._emit("nonfinite", step=step, loss=value)

    def finish(self, summary, curve):
        self._emit("summary", **summary)


def _json_value(v):
    if hasattr(v, "tolist"):  # tensors and numpy values: a number, or nested lists of them
        return _finite(v.tolist())
    if hasattr(v, "item"):
        return _finite(v.item())
    return str(v)


def _finite(v):
    """NaN and infinities as the strings "nan", "inf", "-inf": JSON has no spelling for them."""
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    return v


def json_line(record: dict) -> str:
    return json.dumps(_finite(record), default=_json_value, allow_nan=False)


class LogFile(View):
    """--log FILE.jsonl or FILE.csv: every reported step (and script metrics), written as they come."""

    COLUMNS = ["step", "loss", "mean_loss", "steps_per_s", "samples_per_s", "elapsed_s", "total_steps", "eta_s"]

    def __init__(self, path: str):
        self.path = path
        self.csv = path.endswith(".csv")
        self.file = open(path, "w", newline="" if self.csv else None, encoding="utf-8")  # noqa: SIM115
        if self.csv:
            self.writer = csv.writer(self.file)
            self.writer.writerow(self.COLUMNS + ["metrics"])

    def _write(self, record: dict):
        if self.csv:
            extra = {k: v for k, v in record.items() if k not in self.COLUMNS and k != "event"}
            self.writer.writerow([_csv(record.get(c)) for c in self.COLUMNS]
                                 + [";".join(f"{k}={_short(v)}" for k, v in extra.items())])
        else:
            self.file.write(json_line(record) + "\n")
        self.file.flush()

    def report(self, r):
        self._write({"event": "report", **r.as_dict()})

    def metrics(self, step, metrics):
        self._write({"event": "metrics", "step": step, **metrics})

    def finish(self, summary, curve):
        if not self.csv:
            self._write({"event": "summary", **summary})
        self.file.close()


def _csv(v):
    return "" if v is None else v


class LiveView(View):
    """On a terminal: a live panel (progress bar when the total is known, latest metrics, loss sparkline) under
    the scrolling report lines; the script's own prints appear above it."""

    def __init__(self, console=None):
        from rich.console import Console
        self.console = console or Console()
        self.live = None
        self.last = None
        self.losses: list[float] = []

    def start(self, banner):
        from rich.live import Live
        self.console.print(banner["text"], style="bold", markup=False, highlight=False)
        self.live = Live(self._panel(), console=self.console, refresh_per_second=4, transient=True,
                         redirect_stdout=True, redirect_stderr=True)
        self.live.start()

    def _panel(self):
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text
        r = self.last
        if r is None:
            return Text("waiting for the first report…", style="dim")
        table = Table.grid(padding=(0, 2))
        table.add_row("step", f"{r.step}" + (f" / {r.total_steps}" if r.total_steps else ""),
                      "loss", fmt_loss(r.loss), "mean", fmt_loss(r.mean_loss))
        table.add_row("steps/s", f"{r.steps_per_s:.1f}", "samples/s",
                      "-" if r.samples_per_s is None else f"{r.samples_per_s:.0f}",
                      "eta", fmt_duration(r.eta_s) if r.eta_s is not None else "-")
        for k, v in r.metrics.items():
            table.add_row(k, _short(v), "", "", "", "")
        parts = [table, Text(sparkline(self.losses), style="cyan")]
        if r.total_steps:
            parts.insert(0, ProgressBar(total=r.total_steps, completed=min(r.step, r.total_steps), width=50))
        return Group(*parts)

    def report(self, r):
        self.last = r
        if r.loss is not None:
            self.losses.append(r.loss)
        self.console.print(report_line(r), style="green", highlight=False)
        if self.live is not None:
            self.live.update(self._panel())

    def metrics(self, step, metrics):
        self.console.print(f"step {step}  " + "  ".join(f"{k}={_short(v)}" for k, v in metrics.items()),
                           style="magenta", highlight=False)

    def nonfinite(self, step, value):
        self.console.print(f"non-finite loss {value} at step {step}", style="bold red")

    def finish(self, summary, curve):
        if self.live is not None:
            self.live.stop()
        for line in summary_lines(summary):
            self.console.print(line, highlight=False)
        for line in curve:
            self.console.print(line, style="cyan", highlight=False)

"""What ``tcli run`` watches in a training script: its steps, the batches it loads and the metrics it reports.

A watcher is installed only by ``tcli run``; until then each hook site costs one global lookup. Steps are
``backward()`` on a scalar loss, or ``optimizer.step()`` in a script that never calls backward on a scalar.
"""

from __future__ import annotations

WATCHER = None  # the active watcher (tcli.cli.run_watch.Watcher), or None


def install(watcher) -> None:
    global WATCHER
    WATCHER = watcher


def uninstall() -> None:
    global WATCHER
    WATCHER = None


def report(step=None, **metrics) -> None:
    """Report a script's own metrics, e.g. ``tcli.report(accuracy=0.93)``: shown and logged by ``tcli run``
    next to the loss; printed as one line when the script runs without it."""
    if WATCHER is not None:
        WATCHER.on_report(metrics, step)
        return
    where = "" if step is None else f"step {step}: "
    print(where + ", ".join(f"{k}={v}" for k, v in metrics.items()))

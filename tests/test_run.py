"""Tests for ``tcli run``: reports, logs, JSON output, max steps, NaN detection, exit codes, usage errors, the
torch alias, argument passing, -m, --seed, script metrics, folded tracebacks and the live view on a terminal.

Most runs go through typer's CliRunner in this process (its stdout is not a terminal, so the plain view
answers); exit codes, signals and the terminal run in a subprocess. The training scripts are tiny: the loss of
``(w * w).sum()`` with ``w = ones(3)`` under SGD(lr=0.1) is exactly ``3 * 0.64 ** (step - 1)``.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import os
import pty
import re
import select
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import tcli
from tcli import monitor
from tcli.cli.app import app
from tcli.cli.run_views import fmt_loss

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "scripts"
REPORT = re.compile(r"^step (\d+)  loss ", re.M)
FOLDED = re.compile(r"^  \[(\d+) frames? inside tcli\]$", re.M)
ANSI = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|\][^\x07]*\x07|[()][A-Za-z0-9])")

runner = CliRunner()


def loss_at(step: int) -> float:
    return 3 * 0.64 ** (step - 1)


TRAIN = """
import torch
w = torch.ones(3, requires_grad=True)
opt = torch.optim.SGD([w], lr=0.1)
for i in range({steps}):
    opt.zero_grad()
    loss = (w * w).sum()
    loss.backward()
    opt.step()
{after}
"""


def write(tmp_path: Path, body: str, name: str = "train.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def train(tmp_path: Path, steps: int = 12, after: str = "", name: str = "train.py") -> Path:
    return write(tmp_path, TRAIN.format(steps=steps, after=textwrap.dedent(after)), name)


def invoke(*args):
    """``tcli run ARGS`` in this process; the watcher must be gone afterwards, whatever happened."""
    result = runner.invoke(app, ["run", *map(str, args)])
    assert monitor.WATCHER is None
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"tcli run raised {result.exception!r}\n{result.output}") from result.exception
    return result


def run_cli(*args, cwd=None, timeout=120):
    """``tcli run ARGS`` in a fresh interpreter, stdout and stderr on pipes."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return subprocess.run([sys.executable, "-m", "tcli.cli.app", "run", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout, env=env)


def reported_steps(text: str) -> list[int]:
    return [int(s) for s in REPORT.findall(text)]


def strict_json(line: str):
    """json.loads that refuses NaN and Infinity, which are not JSON."""
    def refuse(token):
        raise ValueError(f"not JSON: {token}")
    return json.loads(line, parse_constant=refuse)


def json_events(text: str) -> list[dict]:
    return [strict_json(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(autouse=True)
def isolated():
    """The run command installs the torch alias, seeds, sets threads and the device in this process: undo it."""
    meta_path, path, argv = sys.meta_path[:], sys.path[:], sys.argv[:]
    torch_modules = {k: v for k, v in sys.modules.items() if k == "torch" or k.startswith("torch.")}
    threads, device, rng = tcli.get_num_threads(), tcli.get_default_device(), tcli.get_rng_state()
    yield
    watcher = monitor.WATCHER
    monitor.uninstall()
    sys.meta_path[:] = meta_path
    for name in [k for k in sys.modules if k == "torch" or k.startswith("torch.")]:
        del sys.modules[name]
    sys.modules.update(torch_modules)
    sys.path[:], sys.argv[:] = path, argv
    tcli.set_num_threads(threads)
    tcli.set_default_device(device)
    tcli.set_rng_state(rng)
    assert watcher is None, "tcli.monitor.WATCHER was left installed"


# ---- plain output ---------------------------------------------------------------------------------------------

def test_plain_reports_summary_and_curve(tmp_path):
    script = train(tmp_path, steps=25, after='print("script done")')
    result = invoke("--every", "10", script)
    assert result.exit_code == 0, result.output
    out = result.stdout
    lines = out.splitlines()
    assert lines[0].startswith(f"tcli run {script}")
    assert "import torch → tcli" in lines[0] and "report every 10 steps" in lines[0] and "device cpu" in lines[0]
    assert reported_steps(out) == [10, 20, 25]  # the last steps since the previous report get their own line
    step10 = next(line for line in lines if line.startswith("step 10  "))
    assert f"loss {fmt_loss(loss_at(10))}" in step10
    assert f"mean {fmt_loss(sum(loss_at(s) for s in range(1, 11)) / 10)}" in step10
    assert "steps/s" in step10 and "elapsed 0:0" in step10
    assert "samples/s" not in step10 and "eta" not in step10  # no DataLoader, no --max-steps: no total
    assert "script done" in out
    assert "steps 25  wall " in out
    assert f"loss  first 3  best {fmt_loss(loss_at(25))} (step 25)  final {fmt_loss(loss_at(25))}" in out
    assert "JIT compile" in out
    assert "stopped:" not in out
    curve = [line for line in lines if "│" in line]
    assert len(curve) == 10 and curve[0].lstrip().startswith("3 │")
    assert any(line.strip().startswith("└") for line in lines)
    assert re.search(r"step 1 +step 25$", out, re.M)
    assert "\x1b" not in result.output  # not a terminal: no colour, no control codes
    assert result.stderr == ""


def test_plain_flag_and_default_every(tmp_path):
    result = invoke("--plain", train(tmp_path, steps=5))
    assert result.exit_code == 0, result.output
    assert "report every 100 steps" in result.stdout.splitlines()[0]
    assert reported_steps(result.stdout) == [5]  # only the final report
    assert "\x1b" not in result.output


def test_every_auto_with_max_steps(tmp_path):
    result = invoke("--every", "auto", "--max-steps", "40", train(tmp_path, steps=1000, after='print("not here")'))
    assert result.exit_code == 0, result.output
    assert reported_steps(result.stdout) == list(range(2, 41, 2))  # about 20 reports
    assert "max 40 steps" in result.stdout.splitlines()[0]
    reports = [line for line in result.stdout.splitlines() if REPORT.match(line)]
    assert all(" eta " in line for line in reports)  # the total is known from --max-steps
    assert "steps 40  wall" in result.stdout
    assert "stopped: --max-steps 40 reached" in result.stdout
    assert "not here" not in result.stdout


def test_max_steps_exact_even_through_except_exception(tmp_path):
    script = write(tmp_path, """
        import torch
        w = torch.ones(3, requires_grad=True)
        opt = torch.optim.SGD([w], lr=0.1)
        for i in range(100):
            try:  # a script's own `except Exception` must not swallow the stop
                opt.zero_grad()
                loss = (w * w).sum()
                loss.backward()
                opt.step()
            except Exception:
                print("swallowed")
        print("after the loop")
        """)
    result = invoke("--max-steps", "7", "--every", "3", "--json", script)
    assert result.exit_code == 0, result.output
    events = json_events(result.stdout)
    assert [e["step"] for e in events if e["event"] == "report"] == [3, 6, 7]
    summary = events[-1]
    assert summary["event"] == "summary" and summary["steps"] == 7
    assert summary["final_loss"] == pytest.approx(loss_at(7))
    assert summary["stopped"] == "--max-steps 7 reached"
    assert "swallowed" not in result.output and "after the loop" not in result.output


# ---- logs and JSON --------------------------------------------------------------------------------------------

METRICS_AT_6 = """
import torch
import tcli
w = torch.ones(3, requires_grad=True)
opt = torch.optim.SGD([w], lr=0.1)
for i in range(12):
    opt.zero_grad()
    loss = (w * w).sum()
    loss.backward()
    opt.step()
    if i == 5:
        tcli.report(accuracy=0.5, lr=torch.tensor(0.25))
print("hello from the script")
"""

REPORT_FIELDS = {"step", "loss", "mean_loss", "steps_per_s", "samples_per_s", "elapsed_s", "total_steps", "eta_s"}


def test_jsonl_log(tmp_path):
    log = tmp_path / "run.jsonl"
    result = invoke("--every", "5", "--log", log, write(tmp_path, METRICS_AT_6))
    assert result.exit_code == 0, result.output
    records = [strict_json(line) for line in log.read_text().splitlines()]
    reports = [r for r in records if r["event"] == "report"]
    assert [r["step"] for r in reports] == [5, 10, 12]  # one record per report
    assert all(REPORT_FIELDS <= set(r) for r in reports)
    first = reports[0]
    assert first["loss"] == pytest.approx(loss_at(5))
    assert first["mean_loss"] == pytest.approx(sum(loss_at(s) for s in range(1, 6)) / 5)
    assert first["steps_per_s"] > 0 and first["elapsed_s"] >= 0
    assert first["samples_per_s"] is None and first["total_steps"] is None and first["eta_s"] is None
    assert "accuracy" not in first
    assert reports[1]["accuracy"] == 0.5 and reports[1]["lr"] == 0.25  # script metrics join later reports
    assert reports[2]["mean_loss"] == pytest.approx((loss_at(11) + loss_at(12)) / 2)
    metrics = [r for r in records if r["event"] == "metrics"]
    assert metrics == [{"event": "metrics", "step": 6, "accuracy": 0.5, "lr": 0.25}]
    summary = records[-1]
    assert summary["event"] == "summary" and summary["steps"] == 12
    assert summary["first_loss"] == 3.0 and summary["best_step"] == 12
    assert summary["final_loss"] == pytest.approx(loss_at(12)) and summary["wall_s"] > 0
    assert "report every 5 steps" in result.stdout  # the log comes on top of the usual view


def test_csv_log(tmp_path):
    log = tmp_path / "run.csv"
    result = invoke("--every", "5", "--log", log, write(tmp_path, METRICS_AT_6))
    assert result.exit_code == 0, result.output
    with open(log, newline="") as f:
        rows = list(csv.DictReader(f))
    with open(log, newline="") as f:
        header = next(csv.reader(f))
    assert header == ["step", "loss", "mean_loss", "steps_per_s", "samples_per_s", "elapsed_s", "total_steps",
                      "eta_s", "metrics"]
    reports = [r for r in rows if r["loss"]]
    assert [int(r["step"]) for r in reports] == [5, 10, 12]
    assert float(reports[0]["loss"]) == pytest.approx(loss_at(5))
    assert reports[0]["samples_per_s"] == "" and reports[0]["metrics"] == ""
    assert reports[1]["metrics"] == "accuracy=0.5;lr=0.25"
    assert [r["metrics"] for r in rows if not r["loss"]] == ["accuracy=0.5;lr=0.25"]


def test_json_stdout_is_pure_json_lines(tmp_path):
    result = invoke("--json", "--every", "5", write(tmp_path, METRICS_AT_6))
    assert result.exit_code == 0, result.output
    events = json_events(result.stdout)  # every stdout line is JSON
    assert [e["event"] for e in events] == ["start", "report", "metrics", "report", "report", "summary"]
    start = events[0]
    assert start["torch_alias"] is True and start["device"] == "cpu" and start["every"] == "5"
    assert start["script"].endswith("train.py")
    assert events[2] == {"event": "metrics", "step": 6, "accuracy": 0.5, "lr": 0.25}
    assert REPORT_FIELDS <= set(events[1])
    summary = events[-1]
    for key in ("steps", "wall_s", "steps_per_s", "first_loss", "best_loss", "best_step", "final_loss",
                "time_shares", "jit_compile_s", "stopped"):
        assert key in summary
    assert summary["steps"] == 12
    assert "hello from the script" in result.stderr  # the script's prints move to stderr
    assert "hello from the script" not in result.stdout


def test_json_in_a_real_process(tmp_path):
    """Through real pipes: stdout holds only JSON; report times count from the script's start (not before)."""
    script = train(tmp_path, steps=20, after='print("script print")')
    result = run_cli("--json", "--every", "10", script)
    assert result.returncode == 0, result.stderr
    events = json_events(result.stdout)
    assert [e["event"] for e in events] == ["start", "report", "report", "summary"]
    assert "script print" in result.stderr and "script print" not in result.stdout
    last, summary = events[-2], events[-1]
    assert last["step"] == 20 and summary["steps"] == 20
    assert last["elapsed_s"] <= summary["wall_s"] + 0.05


# ---- non-finite losses ----------------------------------------------------------------------------------------

NAN_AT_7 = """
import torch
w = torch.ones(3, requires_grad=True)
for i in range(10):
    loss = (w * w).sum()
    if i == 6:
        loss = loss * float("nan")
    loss.backward()
    print("after step", i + 1)
"""


def test_nan_reported_at_its_step(tmp_path):
    result = invoke("--every", "100", write(tmp_path, NAN_AT_7))
    assert result.exit_code == 0, result.output
    out = result.stdout
    lines = out.splitlines()
    flagged = lines.index("non-finite loss nan at step 7")
    assert lines[flagged + 1] == "after step 7"  # at once, not at the next report
    assert "first non-finite loss at step 7" in out
    assert "steps 10  wall" in out and "after step 10" in out  # the run goes on without --stop-on-nan
    assert "loss  first 3  best 3 (step 1)  final 3" in out  # finite losses only


def test_stop_on_nan(tmp_path):
    result = invoke("--stop-on-nan", write(tmp_path, NAN_AT_7))
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "non-finite loss nan at step 7" in out
    assert "after step 6" in out and "after step 7" not in out
    assert "steps 7  wall" in out
    assert "stopped: --stop-on-nan: non-finite loss" in out
    assert re.search(r"step 1 +step 6$", out, re.M)  # the curve's axis labels stay apart on short runs
    assert "Traceback" not in result.output


def test_nan_in_json_and_log_is_valid_json(tmp_path):
    log = tmp_path / "nan.jsonl"
    result = invoke("--json", "--every", "7", "--log", log, write(tmp_path, NAN_AT_7))
    assert result.exit_code == 0, result.output
    events = json_events(result.stdout)  # NaN is not JSON: it must not appear bare
    nonfinite = [e for e in events if e["event"] == "nonfinite"]
    assert len(nonfinite) == 1 and nonfinite[0]["step"] == 7 and math.isnan(float(nonfinite[0]["loss"]))
    report7 = next(e for e in events if e["event"] == "report" and e["step"] == 7)
    assert math.isnan(float(report7["loss"]))
    assert events[-1]["first_nonfinite_step"] == 7
    assert [strict_json(line)["event"] for line in log.read_text().splitlines()] == ["report", "report", "summary"]


# ---- exit codes -----------------------------------------------------------------------------------------------

EXIT_SCRIPTS = {
    "ok": TRAIN.format(steps=5, after=""),
    "raises": TRAIN.format(steps=5, after='raise ValueError("boom")'),
    "sigint": TRAIN.format(steps=5, after="""
import os, signal
signal.signal(signal.SIGINT, signal.default_int_handler)  # as on a terminal, even if the test runs in background
os.kill(os.getpid(), signal.SIGINT)
time_to_stop = 1
"""),
    "keyboardinterrupt": TRAIN.format(steps=5, after="raise KeyboardInterrupt"),
}


@pytest.mark.parametrize("case, code", [("ok", 0), ("raises", 1), ("missing", 2), ("sigint", 130),
                                        ("keyboardinterrupt", 130)])
def test_exit_codes(tmp_path, case, code):
    script = tmp_path / "missing.py"
    if case != "missing":
        script = write(tmp_path, EXIT_SCRIPTS[case], f"{case}.py")
    result = run_cli("--every", "2", script)
    assert result.returncode == code, result.stdout + result.stderr
    if case == "missing":
        assert result.stdout == "" and result.stderr.strip() == f"tcli run: no such script: {script}"
        return
    assert reported_steps(result.stdout) == [2, 4, 5]
    assert "steps 5  wall" in result.stdout  # the summary so far, whatever the ending
    if code == 130:
        assert "stopped: interrupted (Ctrl-C)" in result.stdout
        assert "Traceback" not in result.stderr
    if case == "raises":
        assert "ValueError: boom" in result.stderr
        assert "stopped: the script raised ValueError" in result.stdout


@pytest.mark.parametrize("call, code, stderr", [("sys.exit(0)", 0, ""), ("sys.exit()", 0, ""),
                                                ("sys.exit(3)", 3, ""), ('sys.exit("bye")', 1, "bye")])
def test_system_exit(tmp_path, call, code, stderr):
    result = invoke(train(tmp_path, steps=3, after=f"import sys\n{call}\nprint('unreachable')"))
    assert result.exit_code == code, result.output
    assert result.stderr.strip() == stderr
    assert "unreachable" not in result.output
    assert "steps 3  wall" in result.stdout
    assert ("stopped: the script exited with status" in result.stdout) == (code != 0)
    if code:
        assert f"stopped: the script exited with status {code}" in result.stdout


# ---- usage errors ---------------------------------------------------------------------------------------------

def _usage_case(tmp_path, case):
    script = train(tmp_path, steps=2)
    if case == "missing":
        return [tmp_path / "nope.py"], "no such script"
    if case == "directory":
        (tmp_path / "adir").mkdir()
        return [tmp_path / "adir"], "is a directory without a __main__.py"
    if case == "not-python":
        (tmp_path / "notes.txt").write_text("these are notes, not a program\n")
        return [tmp_path / "notes.txt"], "is not a Python script"
    if case == "binary":
        (tmp_path / "data.bin").write_bytes(bytes(range(256)))
        return [tmp_path / "data.bin"], "is not a Python script"
    if case == "no-script":
        return [], "missing the script to run"
    if case == "no-module":
        return ["-m", "tcli_no_such_module_xyz"], "no module named 'tcli_no_such_module_xyz'"
    if case.startswith("every="):
        return ["--every", case[6:], script], "--every takes a positive number of steps or 'auto'"
    if case == "max-steps":
        return ["--max-steps", "0", script], "--max-steps must be at least 1"
    if case == "threads":
        return ["--threads", "0", script], "--threads must be at least 1"
    if case == "log-extension":
        return ["--log", tmp_path / "run.txt", script], "--log writes .jsonl or .csv files"
    if case == "log-folder":
        return ["--log", tmp_path / "no" / "such" / "run.jsonl", script], "No such file or directory"
    if case == "device-cuda":
        if tcli.cuda.is_available():
            pytest.skip("CUDA is available here")
        return ["--device", "cuda", script], "--device cuda: CUDA is not available"
    if case == "device-bad":
        return ["--device", "tpu", script], "--device tpu:"
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["missing", "directory", "not-python", "binary", "no-script", "no-module",
                                  "every=0", "every=abc", "every=-3", "every=2.5", "max-steps", "threads",
                                  "log-extension", "log-folder", "device-cuda", "device-bad"])
def test_usage_errors(tmp_path, case):
    args, message = _usage_case(tmp_path, case)
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""  # nothing ran: no banner, no summary
    assert result.stderr.startswith("tcli run: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_directory_with_main_and_python_without_extension(tmp_path):
    package = tmp_path / "app"
    package.mkdir()
    (package / "__main__.py").write_text("import sys\nprint('MAIN', sys.argv[1:])\n")
    result = invoke(package, "x", "y")
    assert result.exit_code == 0, result.output
    assert "MAIN ['x', 'y']" in result.stdout
    result = invoke(write(tmp_path, "print('no extension needed')\n", "trainer"))
    assert result.exit_code == 0, result.output
    assert "no extension needed" in result.stdout


# ---- the torch alias ------------------------------------------------------------------------------------------

ALIAS_SCRIPT = """
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
import tcli

print("TORCH", torch.__name__, torch is tcli, nn is tcli.nn, F is tcli.nn.functional)
torch.manual_seed(0)
X = torch.randn(64, 4)
y = torch.randint(0, 3, (64,))
loader = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(3):
    for xb, yb in loader:
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
"""


def test_torch_alias_with_dataloader(tmp_path):
    script = write(tmp_path, ALIAS_SCRIPT)
    result = invoke("--every", "4", script)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "import torch → tcli" in out.splitlines()[0]
    assert "TORCH tcli True True True" in out
    assert reported_steps(out) == list(range(4, 25, 4))  # 8 batches x 3 epochs
    reports = [line for line in out.splitlines() if REPORT.match(line)]
    assert all(re.search(r"  \d+ samples/s  ", line) and " eta " in line for line in reports)
    assert "steps 24  wall" in out

    log = tmp_path / "alias.jsonl"
    result = invoke("--every", "4", "--log", log, script)
    assert result.exit_code == 0, result.output
    records = [strict_json(line) for line in log.read_text().splitlines()]
    reports = [r for r in records if r["event"] == "report"]
    assert all(r["samples_per_s"] > 0 for r in reports)
    assert [r["total_steps"] for r in reports] == [8, 8, 16, 16, 24, 24]  # len(loader) x epochs seen so far
    assert records[-1]["samples"] == 3 * 64


def test_unsupported_torch_submodule(tmp_path):
    result = invoke(write(tmp_path, "import torch\nimport torch.distributed\n"))
    assert result.exit_code == 1, result.output
    assert "ModuleNotFoundError: No module named 'torch.distributed'" in result.stderr
    assert "tcli run --no-torch-alias" in result.stderr


def test_no_torch_alias(tmp_path):
    script = write(tmp_path, "import torch\nprint('TORCH', torch.__name__)\n")
    result = run_cli("--no-torch-alias", script)  # a subprocess: real torch stays out of this process
    if importlib.util.find_spec("torch") is not None:
        assert result.returncode == 0, result.stderr
        assert "TORCH torch" in result.stdout
    else:
        assert result.returncode == 1
        assert "ModuleNotFoundError: No module named 'torch'" in result.stderr
    assert "torch alias off" in result.stdout.splitlines()[0]


# ---- arguments, -m, --seed, --threads, --device ----------------------------------------------------------------

def test_arguments_go_to_the_script(tmp_path):
    (tmp_path / "tcli_run_helper_mod.py").write_text("VALUE = 41\n")
    script = write(tmp_path, """
        import json, sys
        import tcli_run_helper_mod
        print("ARGV", json.dumps(sys.argv))
        print("PATH0", sys.path[0])
        print("NAME", __name__, tcli_run_helper_mod.VALUE + 1)
        """, "show_argv.py")
    try:
        result = invoke("--every", "7", script, "--epochs", "3", "--every", "5", "--plain", "-m", "x", "--help")
    finally:
        sys.modules.pop("tcli_run_helper_mod", None)
    assert result.exit_code == 0, result.output
    argv = json.loads(result.stdout.split("ARGV ", 1)[1].splitlines()[0])
    assert Path(argv[0]).name == "show_argv.py"
    assert argv[1:] == ["--epochs", "3", "--every", "5", "--plain", "-m", "x", "--help"]
    assert f"PATH0 {tmp_path}" in result.stdout  # the script's folder comes first on sys.path
    assert "NAME __main__ 42" in result.stdout
    assert "report every 7 steps" in result.stdout  # tcli's options are those before the script


@pytest.mark.parametrize("args", [["a", "--flag"], ["--flag", "a"]])
def test_run_module(tmp_path, monkeypatch, args):
    name = "tcli_run_test_module"
    (tmp_path / f"{name}.py").write_text(TRAIN.format(steps=6, after="import sys\nprint('MOD', __name__, sys.argv)"))
    monkeypatch.chdir(tmp_path)
    result = invoke("--every", "3", "-m", name, *args)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith(f"tcli run -m {name} ·")
    assert f"MOD __main__ ['{tmp_path / name}.py', {str(args)[1:-1]}]" in result.stdout
    assert reported_steps(result.stdout) == [3, 6]
    assert name not in sys.modules


def test_seed(tmp_path):
    script = write(tmp_path, "import json, tcli\nprint('RAND', json.dumps(tcli.rand(2).tolist()))\n")
    result = invoke("--seed", "1234", script)
    assert result.exit_code == 0, result.output
    assert "seed 1234" in result.stdout.splitlines()[0]
    tcli.manual_seed(1234)
    expected = tcli.rand(2).tolist()
    assert json.loads(result.stdout.split("RAND ", 1)[1].splitlines()[0]) == expected
    other = invoke("--seed", "99", script)
    assert json.loads(other.stdout.split("RAND ", 1)[1].splitlines()[0]) != expected


def test_threads_and_device(tmp_path):
    script = write(tmp_path, "import tcli\nprint('THREADS', tcli.get_num_threads(), tcli.get_default_device())\n")
    result = invoke("--threads", "1", "--device", "cpu", script)
    assert result.exit_code == 0, result.output
    assert "device cpu · threads 1" in result.stdout.splitlines()[0]
    assert "THREADS 1 cpu" in result.stdout


# ---- script metrics -------------------------------------------------------------------------------------------

def test_report_metrics_plain(tmp_path):
    script = write(tmp_path, METRICS_AT_6.replace("print(", "tcli.report(step=123, val=1.5)\nprint("))
    result = invoke("--every", "5", script)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "step 6  accuracy=0.5  lr=0.25" in lines
    assert "step 123  val=1.5" in lines
    report10 = next(line for line in lines if line.startswith("step 10  loss"))
    assert report10.endswith("accuracy=0.5  lr=0.25")
    assert next(line for line in lines if line.startswith("step 5  loss")).count("=") == 0


def test_report_without_tcli_run_prints_a_line(capsys):
    tcli.report(accuracy=0.75)
    tcli.report(step=3, loss=0.5)
    assert capsys.readouterr().out == "accuracy=0.75\nstep 3: loss=0.5\n"


# ---- the script's exceptions ----------------------------------------------------------------------------------

def test_script_exception_folded_traceback(tmp_path):
    script = write(tmp_path, """
        import torch
        w = torch.ones(3, requires_grad=True)
        for i in range(3):
            (w * w).sum().backward()


        def project(a, b):
            return a @ b


        project(torch.randn(2, 3), torch.randn(4, 5))
        """, "broken.py")
    result = invoke("--every", "2", script)
    assert result.exit_code == 1, result.output
    err = result.stderr
    assert err.startswith("Traceback (most recent call last):\n")
    assert f'  File "{script}", line 12, in <module>\n    project(torch.randn(2, 3), torch.randn(4, 5))' in err
    assert f'  File "{script}", line 9, in project\n    return a @ b\n' in err
    assert FOLDED.search(err) and int(FOLDED.search(err).group(1)) >= 1
    assert "RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)" in err
    assert re.search(r"^hint: ", err, re.M)
    assert "runpy" not in err and os.sep + "cli" + os.sep not in err  # the runner's own frames are gone
    assert not re.search(r'File ".*[/\\]tcli[/\\]', err)  # tcli's frames are folded, not listed
    out = result.stdout
    assert reported_steps(out) == [2, 3] and "steps 3  wall" in out  # the summary so far
    assert "stopped: the script raised RuntimeError" in out


def test_script_exception_in_json_mode(tmp_path):
    result = invoke("--json", train(tmp_path, steps=4, after='raise RuntimeError("bad data")'))
    assert result.exit_code == 1, result.output
    events = json_events(result.stdout)
    assert events[-1]["event"] == "summary" and events[-1]["steps"] == 4
    assert events[-1]["stopped"] == "the script raised RuntimeError"
    assert "RuntimeError: bad data" in result.stderr


# ---- what a step is -------------------------------------------------------------------------------------------

OPTIMIZER_ONLY = """
import torch
w = torch.ones(3, requires_grad=True)
opt = torch.optim.SGD([w], lr=0.1)
for i in range(7):
    out = w * 2
    out.backward(torch.ones(3))  # not a scalar: not a step by itself
    opt.step()
    opt.zero_grad()
print("finished")
"""


def test_optimizer_only_steps(tmp_path):
    result = invoke("--every", "3", write(tmp_path, OPTIMIZER_ONLY))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert reported_steps(out) == [3, 6, 7]
    assert "step 3  loss -  " in out
    assert "steps 7  wall" in out and "finished" in out
    assert "loss  first" not in out and "│" not in out  # no losses: no loss line, no curve


def test_optimizer_only_max_steps(tmp_path):
    result = invoke("--max-steps", "4", "--json", write(tmp_path, OPTIMIZER_ONLY))
    assert result.exit_code == 0, result.output
    summary = json_events(result.stdout)[-1]
    assert summary["steps"] == 4 and summary["first_loss"] is None
    assert "finished" not in result.output


def test_autograd_backward_of_a_scalar_counts(tmp_path):
    script = write(tmp_path, """
        import torch
        w = torch.ones(3, requires_grad=True)
        for i in range(5):
            torch.autograd.backward((w * w).sum())
        """)
    summary = json_events(invoke("--json", script).stdout)[-1]
    assert summary["steps"] == 5 and summary["first_loss"] == 3.0


def test_backward_with_inputs_counts(tmp_path):
    script = write(tmp_path, """
        import torch
        w = torch.ones(3, requires_grad=True)
        for i in range(5):
            (w * w).sum().backward(inputs=[w])
        """)
    summary = json_events(invoke("--json", script).stdout)[-1]
    assert summary["steps"] == 5


# ---- the example scripts --------------------------------------------------------------------------------------

def test_example_two_layer_net(tmp_path):
    log = tmp_path / "two_layer.csv"
    result = invoke("--every", "10", "--max-steps", "30", "--log", log, SCRIPTS / "two_layer_net.py")
    assert result.exit_code == 0, result.output
    assert reported_steps(result.stdout) == [10, 20, 30]
    assert "steps 30  wall" in result.stdout and "stopped: --max-steps 30 reached" in result.stdout
    with open(log, newline="") as f:
        losses = [float(r["loss"]) for r in csv.DictReader(f)]
    assert len(losses) == 3 and losses[0] > losses[1] > losses[2]  # it learns


def test_example_mlp_with_script_arguments(tmp_path):
    result = invoke("--json", "--every", "3", "--max-steps", "6", SCRIPTS / "mlp_synthetic.py",
                    "--samples", "256", "--batch-size", "32", "--optimizer", "adam")
    assert result.exit_code == 0, result.output
    events = json_events(result.stdout)
    reports = [e for e in events if e["event"] == "report"]
    assert [r["step"] for r in reports] == [3, 6]
    assert all(r["samples_per_s"] > 0 and r["total_steps"] == 6 for r in reports)
    assert events[-1]["samples"] == 6 * 32 and events[-1]["steps"] == 6


# ---- on a terminal: the live view -----------------------------------------------------------------------------

def test_live_view_in_a_terminal(tmp_path):
    script = write(tmp_path, """
        import time
        import torch
        w = torch.ones(3, requires_grad=True)
        opt = torch.optim.SGD([w], lr=0.01)
        for i in range(300):
            opt.zero_grad()
            loss = (w * w).sum()
            loss.backward()
            opt.step()
            time.sleep(0.003)
            if i == 120:
                print("a line from the script")
        """, "live.py")
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "CI", "TERM")}
    env.update(TERM="xterm-256color", COLUMNS="100", LINES="40")
    master, slave = pty.openpty()
    try:
        process = subprocess.Popen([sys.executable, "-m", "tcli.cli.app", "run", "--every", "100", script],
                                   stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    finally:
        os.close(slave)
    chunks, deadline = [], time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    raw = b"".join(chunks).decode("utf-8", "replace")
    assert code == 0, raw
    assert "\x1b[" in raw and "\x1b[?25l" in raw  # colour, and the live display's cursor handling
    assert "\x1b[2K" in raw  # the live panel redrawn (lines erased)
    text = ANSI.sub("", raw).replace("\r\n", "\n").replace("\r", "\n")
    assert "tcli run" in text and "import torch → tcli" in text
    for step in (100, 200, 300):
        assert re.search(rf"^step {step}  loss \S+  mean \S+  [\d.]+ steps/s", text, re.M), text
    assert "a line from the script" in text
    assert "steps 300  wall" in text and "loss  first 3" in text


def test_errors_name_the_users_call_under_tcli_run(tmp_path):
    """PyTorch's "zeros(): argument 'dtype' ..." names the function the script called, not tcli run's own code
    further out on the stack (errors.api_name stops at the script's frame)."""
    script = write(tmp_path, """
        import torch
        try:
            torch.zeros(2, dtype="float32")
        except TypeError as error:
            print("caught:", str(error).splitlines()[0])
    """)
    result = invoke(script)
    assert "caught: zeros(): argument 'dtype' must be torch.dtype, not str" in result.output

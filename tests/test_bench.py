"""Tests for ``tcli bench`` (tcli/cli/bench.py): the real code on tiny configurations, and the timing
helpers on a fake clock. No timing thresholds: only structure, and arithmetic on deterministic clocks."""

import importlib.util
import json
import subprocess
import sys

import pytest

import tcli
from tcli.cli import bench

HAVE_TORCH = importlib.util.find_spec("torch") is not None


class FakeClock:
    """A clock that only moves when a fake workload advances it."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)


def run_json(capsys, **kwargs):
    assert bench.main(**{"quick": True, "as_json": True, "name_filter": "add_tiny", "repeats": 1, **kwargs}) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def no_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError


# --------------------------------------------------------------------------------------------- main, end to end


def test_json_add_tiny(capsys):
    data = run_json(capsys)
    assert [row["name"] for row in data["rows"]] == ["add_tiny"]
    row = data["rows"][0]
    expected = {"tcli", "numpy", "torch"} if HAVE_TORCH else {"tcli", "numpy"}
    assert set(row["median_s"]) == expected
    assert all(t > 0 for t in row["median_s"].values())
    assert all(len(r) == 1 for r in row["rounds_s"].values())  # repeats=1: one round each
    assert row["first_call_s"]["tcli"] > 0
    assert row["errors"] == {}
    assert row["ratio_numpy"] == pytest.approx(row["median_s"]["tcli"] / row["median_s"]["numpy"])
    assert row["target"] == {"value": 0.8, "kind": "ratio_torch"}
    machine = data["machine"]
    assert machine["cpu_count"] >= 1 and machine["numba_threads"] >= 1
    assert (machine["torch"] is not None) == HAVE_TORCH
    assert data["config"] == {"quick": True, "rounds": 1, "block_s": bench.QUICK_BLOCK_S,
                              "settle_s": bench.SETTLE_S, "filter": "add_tiny"}


@pytest.mark.skipif(not HAVE_TORCH, reason="torch not installed")
def test_json_with_torch_has_ratio(capsys):
    row = run_json(capsys)["rows"][0]
    assert row["ratio_torch"] == pytest.approx(row["median_s"]["tcli"] / row["median_s"]["torch"])
    assert row["met"] in (True, False)


def test_json_without_torch(capsys, no_torch):
    data = run_json(capsys, name_filter="scalar_autograd")
    assert data["machine"]["torch"] is None
    row = data["rows"][0]
    assert set(row["median_s"]) == {"tcli"}  # no numpy equivalent for scalar autograd
    assert row["ratio_torch"] is None and row["met"] is None
    assert row["errors"] == {}


def test_table_output(capsys, no_torch):
    assert bench.main(quick=True, as_json=False, name_filter="add_tiny", repeats=1) == 0
    out = capsys.readouterr().out
    for text in ("add_tiny", "tcli÷torch", "cold/first call", "torch not installed"):
        assert text in out


def test_filter_without_match(capsys):
    assert bench.main(quick=True, as_json=True, name_filter="no-such-workload", repeats=1) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["rows"] == []
    assert "no workload name contains" in captured.err


def test_cli_command(no_torch):
    from typer.testing import CliRunner

    from tcli.cli.app import app
    result = CliRunner().invoke(app, ["bench", "--quick", "--json", "--filter", "add_tiny", "--repeats", "1"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rows"][0]["name"] == "add_tiny"


def test_device_option(capsys):
    import tcli
    assert bench.main(device="tpu") == 2
    assert "--device takes cpu or cuda" in capsys.readouterr().err
    if not tcli.cuda.is_available():
        assert bench.main(device="cuda") == 2
        assert "CUDA is not available here" in capsys.readouterr().err


def test_cuda_suite_has_the_issues_targets():
    from tcli.cli.bench_cuda import cuda_workloads
    suite = {w.name: w for w in cuda_workloads()}
    targets = {name: w.target.value for name, w in suite.items() if w.target}
    assert targets == {"cuda_add_1e8": 1.43, "cuda_sgemm_4096": 2.5, "cuda_h2d_copy": 1.25} or _simulated()
    assert suite[[n for n in suite if n.startswith("cuda_sgemm")][0]].flops


def _simulated():
    import os
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


# --------------------------------------------------------------------------------------------- the suite


def names(workloads):
    return [w.name for w in workloads]


def test_suite_names_and_targets():
    suite = {w.name: w for w in bench.workloads()}
    assert set(suite) == {
        "two_layer_step", "add_tiny", "scalar_autograd", "relu_fma_1e6", "add_1e7_fresh", "sum_4096x4096",
        "softmax_4096x1024", "matmul_1024", "matmul_1024_numba_kernel", "matmul_2048", "matmul_2048_numba_kernel",
        "mlp_sgd_step", "mlp_adam_step", "dataloader_epoch", "run_overhead", "iris_script",
        "rand_1e6", "randn_1e6", "randint_1e6", "randperm_1e5",
        "import", "cli_help", "tutorial_500_steps_warm", "tutorial_500_steps_cold"}
    assert suite["scalar_autograd"].target == bench.Target(0.5)
    assert suite["mlp_sgd_step"].target == suite["mlp_adam_step"].target == bench.Target(1.0)
    assert suite["dataloader_epoch"].target == bench.Target(0.5)
    assert suite["iris_script"].target == bench.Target(3.0, absolute=True)
    assert suite["cli_help"].target == bench.Target(0.3, absolute=True)
    assert suite["tutorial_500_steps_cold"].target == bench.Target(10.0, absolute=True)
    assert suite["matmul_2048"].flops == 2.0 * 2048**3


def test_quick_drops_2048_and_cold_cache():
    full = names(bench.select(bench.workloads(), False, None))
    quick = names(bench.select(bench.workloads(), True, None))
    assert set(full) - set(quick) == {"matmul_2048", "matmul_2048_numba_kernel", "tutorial_500_steps_cold"}
    assert quick == [n for n in full if n in quick]  # same order


def test_filter_is_substring():
    assert names(bench.select(bench.workloads(), True, "matmul")) == ["matmul_1024", "matmul_1024_numba_kernel"]
    assert names(bench.select(bench.workloads(), False, "2048")) == ["matmul_2048", "matmul_2048_numba_kernel"]
    assert names(bench.select(bench.workloads(), False, "tutorial")) == [
        "tutorial_500_steps_warm", "tutorial_500_steps_cold"]


def test_rounds_config():
    assert bench.Config.make(False, None).rounds == 7
    assert bench.Config.make(True, None).rounds == 3
    assert bench.Config.make(True, 5).rounds == 5
    suite = {w.name: w for w in bench.workloads()}
    assert bench.Config.make(False, None).rounds_for(suite["import"]) == 5
    assert bench.Config.make(True, None).rounds_for(suite["import"]) == 3
    assert bench.Config.make(False, 2).rounds_for(suite["import"]) == 2  # --repeats caps subprocess rounds
    assert bench.Config.make(False, 9).rounds_for(suite["add_tiny"]) == 9


def test_tutorial_script_runs_with_tcli():
    proc = subprocess.run([sys.executable, "-c", bench.tutorial_script("tcli", steps=2)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "set_num_threads" in bench.tutorial_script("torch") and "set_num_threads" not in bench.tutorial_script(
        "tcli")


# --------------------------------------------------------------------------------------------- timing helpers


def test_run_rounds_reports_median_of_rounds():
    clock = FakeClock()
    per_call = iter([3.0, 3.0, 1.0, 1.0, 2.0, 2.0])  # round by round, 2 calls per block

    def work():
        clock.now += next(per_call)

    timings = bench.run_rounds({"tcli": (work, 2)}, 3, settle_s=0.004, clock=clock, sleep=clock.sleep)
    assert timings["tcli"].rounds == [3.0, 1.0, 2.0]
    assert timings["tcli"].median == 2.0
    assert timings["tcli"].number == 2
    assert clock.sleeps == [0.004] * 3  # a settle pause before every block


def test_run_rounds_interleaves_and_drops_failures():
    clock, calls, errors = FakeClock(), [], {}

    def make(name, seconds):
        def work():
            calls.append(name)
            clock.now += seconds
        return work

    def broken():
        calls.append("torch")
        raise ValueError("boom")

    plan = {"tcli": (make("tcli", 1.0), 1), "numpy": (make("numpy", 4.0), 1), "torch": (broken, 1)}
    timings = bench.run_rounds(plan, 2, clock=clock, sleep=clock.sleep, errors=errors)
    assert calls == ["tcli", "numpy", "torch", "tcli", "numpy"]
    assert timings["tcli"].median == 1.0 and timings["numpy"].median == 4.0
    assert timings["torch"].median is None
    assert errors == {"torch": "ValueError: boom"}


def test_run_rounds_rewarm_makes_one_untimed_call_per_block():
    clock, calls = FakeClock(), []

    def work():
        calls.append(clock.now)
        clock.now += 5.0 if len(calls) % 3 == 1 else 1.0  # the first call after each pause is slow

    timings = bench.run_rounds({"tcli": (work, 2)}, 2, clock=clock, sleep=clock.sleep, rewarm=True)
    assert len(calls) == 6  # 2 rounds x (1 untimed + 2 timed)
    assert timings["tcli"].rounds == [1.0, 1.0]


def test_run_rounds_stops_at_budget():
    clock = FakeClock()

    def work():
        clock.now += 4.0

    timings = bench.run_rounds({"tcli": (work, 1), "torch": (work, 1)}, 5, clock=clock, sleep=clock.sleep,
                               budget_s=10.0)
    assert timings["tcli"].rounds == [4.0, 4.0] and timings["torch"].rounds == [4.0, 4.0]  # 8 s < 10 s, 16 s >= 10 s
    one = bench.run_rounds({"tcli": (work, 1)}, 5, clock=clock, sleep=clock.sleep, budget_s=0.0)
    assert one["tcli"].rounds == [4.0]  # at least one round


def test_calibrate_scales_to_block():
    clock = FakeClock()

    def work():
        clock.now += 1e-4

    number, per_call = bench.calibrate(work, 0.02, clock)
    assert per_call == pytest.approx(1e-4)
    assert number == 200
    slow = bench.calibrate(lambda: setattr(clock, "now", clock.now + 0.5), 0.02, clock)
    assert slow == (1, pytest.approx(0.5))


def test_measure_first_call_errors_and_skips():
    clock = FakeClock()
    state = {"calls": 0}

    def tcli_work():  # the first call "compiles": 1 s; later calls take 1 ms
        state["calls"] += 1
        clock.now += 1.0 if state["calls"] == 1 else 1e-3

    def numpy_work():
        clock.now += 5e-4

    def slow():
        clock.now += 3.0

    def setup(libs):
        return libs.build(tcli=lambda: tcli_work, numpy=lambda: numpy_work, torch=lambda: slow,
                          extra=lambda: 1 / 0)

    libs = bench.Libs(np=None, tcli=None, torch=object())
    workload = bench.Workload("fake", setup, bench.Target(1.0), flops=1e6, max_call_s=2.0)
    config = bench.Config(rounds=3, block_s=0.01)
    row = bench.measure(workload, libs, config, clock=clock, sleep=clock.sleep)
    assert row.first_call_s["tcli"] == pytest.approx(1.0)
    assert row.median_s["tcli"] == pytest.approx(1e-3)
    assert row.number["tcli"] == 10
    assert row.median_s["numpy"] == pytest.approx(5e-4)
    assert row.ratio("numpy") == pytest.approx(2.0)
    assert row.gflops["tcli"] == pytest.approx(1.0)
    assert "torch" in row.skipped and "torch" not in row.median_s
    assert row.ratio("torch") is None and row.met is None
    assert row.errors == {"extra": "ZeroDivisionError: division by zero"}
    assert json.dumps(row.as_dict())  # serialisable


def test_libs_build_leaves_out_torch_when_missing():
    libs = bench.Libs(np=None, tcli=None, torch=None)
    assert set(libs.build(tcli=lambda: print, torch=lambda: print, numpy=None)) == {"tcli"}


def test_targets():
    ratio, absolute = bench.Target(0.8), bench.Target(1.5, absolute=True)
    assert ratio.met(1.0, 0.5) is True and ratio.met(1.0, 0.9) is False and ratio.met(1.0, None) is None
    assert absolute.met(1.0, None) is True and absolute.met(2.0, 0.1) is False
    assert ratio.describe() == "≤ 0.8× torch" and absolute.describe() == "< 1.5 s"


@pytest.mark.parametrize("seconds, text", [
    (2.5, "2.5 s"), (0.0123, "12.3 ms"), (4.56e-5, "45.6 µs"), (3.2e-7, "320 ns"), (None, "–")])
def test_format_time(seconds, text):
    assert bench.format_time(seconds) == text


def test_training_workloads_run_the_same_step_in_every_library():
    """Each candidate of the training workloads runs; the numpy MLP step is the SGD step tcli's nn + optim take."""
    import numpy as np

    from tcli.cli import bench_training
    libs = bench.Libs(np=np, tcli=tcli, torch=None)
    for name in ("mlp_sgd_step", "mlp_adam_step", "dataloader_epoch"):
        workload = next(w for w in bench_training.workloads() if w.name == name)
        for candidate in workload.setup(libs).values():
            candidate()
    x, y, params = bench_training._mlp_data(libs)
    model = tcli.nn.Sequential(tcli.nn.Linear(784, 256), tcli.nn.ReLU(), tcli.nn.Linear(256, 10))
    with tcli.no_grad():
        for p, value in zip(model.parameters(), params):
            p.copy_(tcli.from_numpy(value.copy()))
    loss = tcli.nn.functional.cross_entropy(model(tcli.from_numpy(x)), tcli.from_numpy(y))
    loss.backward()
    logits = np.maximum(x @ params[0].T + params[1], 0) @ params[2].T + params[3]
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    assert abs(loss.item() - (-np.log(p[np.arange(len(y)), y]).mean())) < 1e-5

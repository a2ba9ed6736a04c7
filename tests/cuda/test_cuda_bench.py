"""tcli bench --device cuda runs its workloads (shrunk to a smoke test under the simulator)."""

import json

from typer.testing import CliRunner

from tcli.cli.app import app


def test_bench_on_the_device_runs_every_workload():
    result = CliRunner().invoke(app, ["bench", "--device", "cuda", "--quick", "--repeats", "1", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    names = [row["name"] for row in report["rows"]]
    assert any(n.startswith("cuda_add") for n in names) and any(n.startswith("cuda_sgemm") for n in names)
    assert {"cuda_add_small", "cuda_h2d_copy", "cuda_randn", "cuda_mask_select", "cuda_sort", "cuda_two_layer_step",
            "cuda_mlp_sgd_step"} <= set(names)
    for row in report["rows"]:
        assert not row["errors"] and row["median_s"]["tcli"] > 0

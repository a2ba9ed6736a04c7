"""tcli bench --device cuda runs its workloads (shrunk to a smoke test under the simulator)."""

import json

from typer.testing import CliRunner

from tcli.cli.app import app


def test_bench_on_the_device_runs_every_workload():
    result = CliRunner().invoke(app, ["bench", "--device", "cuda", "--quick", "--repeats", "1", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    names = [row["name"] for row in report["rows"]]
    # On a GPU the sized rows carry their size in the name (cuda_randn_1e7); under the simulator they do not.
    for prefix in ("cuda_add_small", "cuda_sgemm", "cuda_h2d_copy", "cuda_randn", "cuda_mask_select", "cuda_sort",
                   "cuda_two_layer_step", "cuda_mlp_sgd_step"):
        assert any(n.startswith(prefix) for n in names), prefix
    for row in report["rows"]:
        assert not row["errors"] and row["median_s"]["tcli"] > 0

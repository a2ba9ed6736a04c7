"""tcli's random numbers against PyTorch 2.13's, recorded: ``tests/fixtures/rng_torch_2_13.npz``.

No torch import: the fixture holds PyTorch's results, so this runs everywhere (CI included). The cases live in
``tests/fixtures/rng_cases.py``, the table ``tests/fixtures/record_rng.py`` records them from (re-record with
``.venv/bin/python tests/fixtures/record_rng.py`` after changing a case). Each case runs ``tcli.manual_seed(seed)``
then its function, exactly as it ran on torch.

Comparison rules (a case's kind says which applies to each of its results):

* ``exact``: same dtype, same shape, bitwise-equal values. Uniform floats (rand, uniform_, uniform-based inits,
  Linear's init), integers (randint, random_, randperm, multinomial), bernoulli and dropout masks, sampler/loader
  orders and random_split indices, and get_rng_state bytes. A result larger than the fixture's FULL_MAX values
  (the 10**6 sizes) is compared by the SHA-256 of its bytes, after its recorded sample values.
* ``normal``: values computed through log/sin/cos (randn, normal, normal_, xavier_normal_, kaiming_normal_,
  Embedding, exponential_), so one rounding may differ from PyTorch's compiled code:
  float64 within rtol 1e-12 (atol 0); float32 within 1 ulp (``np.testing.assert_array_max_ulp(maxulp=1)``) and at
  least 99% of values bit-identical (PyTorch's AVX2 Box-Muller, float32 avx_mathfun, for 16 or more values);
  float16 within 1 float16 ulp. Large normal results (10**6) compare their recorded subsample under the same rules.

A case tcli does not meet is marked xfail(strict=True) in ``KNOWN_MISMATCHES`` with the measured discrepancy,
not compared more loosely.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import tcli

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE_FILE = FIXTURES / "rng_torch_2_13.npz"


def _load_cases():
    spec = importlib.util.spec_from_file_location("rng_cases", FIXTURES / "rng_cases.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("rng_cases", module)
    spec.loader.exec_module(module)
    return module


rng_cases = _load_cases()


def _load_fixture():
    with np.load(FIXTURE_FILE, allow_pickle=False) as npz:
        values = {name[len("values."):]: npz[name] for name in npz.files if name.startswith("values.")}
        index = json.loads(npz["index"].tobytes().decode())
    return index, values


INDEX, VALUES = _load_fixture()

# case name -> why tcli differs (measured against the recorded data; each one is an xfail(strict=True), so a fix
# turns it into an XPASS failure until its entry is removed)
KNOWN_MISMATCHES: dict[str, str] = {
    "init.kaiming_normal_.f32.30x20.generator": (
        "a float32 Box-Muller value 1 ulp off before scaling (the known AVX2 fma case) becomes 2 ulps after "
        "normal_'s fmadd with std=0.316: 1 of 600 values (index 289: tcli 0.4560136, torch 0.45601365). Repro: "
        "kaiming_normal_(empty(30, 20), generator=Generator().manual_seed(3)); the unscaled draw "
        "empty(600).normal_(generator=Generator().manual_seed(3))[289] is 1.4420416 vs 1.4420418 (1 ulp)"),
}


def _params():
    for case in rng_cases.CASES:
        reason = KNOWN_MISMATCHES.get(case.name)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        yield pytest.param(case, id=case.name, marks=marks)


def _recorded(entry):
    return VALUES[entry["dtype"]][entry["offset"]:entry["offset"] + entry["count"]]


def _bits(a: np.ndarray) -> np.ndarray:
    return a.view(f"u{a.dtype.itemsize}") if a.dtype.kind in "fb" else a


def _compare(kind: str, mine: np.ndarray, theirs: np.ndarray, what: str):
    """Assert ``mine`` (tcli) meets the ``kind`` rule against ``theirs`` (PyTorch), both flat, same dtype."""
    if kind == "exact" or mine.dtype.kind != "f":
        differ = np.flatnonzero(_bits(mine) != _bits(theirs))
        assert differ.size == 0, (f"{what}: {differ.size} of {mine.size} values differ, first at {differ[0]}: "
                                  f"tcli {mine[differ[:5]].tolist()} vs torch {theirs[differ[:5]].tolist()}")
    elif mine.dtype == np.float64:
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=0, err_msg=what)
    elif mine.dtype == np.float32:
        np.testing.assert_array_max_ulp(mine, theirs, maxulp=1)
        same = float((mine == theirs).mean()) if mine.size else 1.0
        assert same >= 0.99, f"{what}: only {same:.2%} of float32 normals bit-identical"
    else:
        np.testing.assert_array_max_ulp(mine, theirs, maxulp=1)


@pytest.mark.parametrize("case", list(_params()))
def test_matches_recorded_torch(case):
    recorded = INDEX["cases"].get(case.name)
    assert recorded is not None, f"{case.name} is not in {FIXTURE_FILE.name}: re-record (see record_rng.py)"
    assert recorded["seed"] == case.seed, f"{case.name}: seed changed since recording: re-record"
    results = rng_cases.run(tcli, case)
    assert len(results) == len(recorded["results"]), f"{case.name}: result count changed since recording"
    for i, ((kind, mine), entry) in enumerate(zip(results, recorded["results"])):
        what = f"{case.name}[{i}]"
        assert kind == entry["kind"], f"{what}: kind changed since recording: re-record"
        assert str(mine.dtype) == entry["dtype"], f"{what}: dtype {mine.dtype}, torch {entry['dtype']}"
        assert list(mine.shape) == entry["shape"], f"{what}: shape {list(mine.shape)}, torch {entry['shape']}"
        flat = mine.reshape(-1)
        theirs = _recorded(entry)
        if mine.size > INDEX["full_max"]:
            _compare(kind, flat[rng_cases.sample_indices(mine.size, kind)], theirs, what + " (samples)")
            if kind == "exact":
                assert rng_cases.sha256(mine) == entry["sha256"], f"{what}: SHA-256 of the values differs"
        else:
            _compare(kind, flat, theirs, what)


def test_fixture_matches_case_table():
    """Every case of the table is recorded, nothing else is, and the recording is PyTorch 2.13's on a CPU
    whose float32 normals come from the AVX2 kernel."""
    assert set(INDEX["cases"]) == {case.name for case in rng_cases.CASES}
    assert INDEX["torch"].startswith("2.13.")
    assert INDEX["cpu_capability"] in ("AVX2", "AVX512")


def test_known_mismatches_are_cases():
    assert set(KNOWN_MISMATCHES) <= {case.name for case in rng_cases.CASES}

"""The wheel ships every package and data file: pyproject lists packages by hand (kernels/ installs as tcli.kernels)."""

from __future__ import annotations

import pathlib

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+
ROOT = pathlib.Path(__file__).resolve().parents[1]


def _declared():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    return set(config["packages"]), config.get("package-data", {})


def test_every_package_is_declared():
    declared, _ = _declared()
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "tcli").rglob("__init__.py")}
    found |= {"tcli." + ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "kernels").rglob("__init__.py")}
    assert found - declared == set(), "add these packages to pyproject.toml [tool.setuptools] packages"


def test_every_data_file_is_declared():
    _, package_data = _declared()
    for data in (ROOT / "tcli").rglob("*.csv"):
        package = ".".join(data.parent.relative_to(ROOT).parts)
        assert package in package_data and any(data.match(pattern) for pattern in package_data[package])

"""Tests for the ``tcli`` command line: --version, --help, info and warmup (bench has its own tests)."""

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import tcli
from tcli.cli.app import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"tcli {tcli.__version__}"


def test_help_lists_commands():
    result = invoke("--help")
    assert result.exit_code == 0, result.output
    for command in ("info", "warmup", "bench", "run", "repl"):
        assert command in result.output
    assert "--version" in result.output


def test_no_arguments_shows_help():
    result = invoke()
    assert "Usage" in result.output and "info" in result.output


def test_unknown_command_fails():
    result = invoke("no-such-command")
    assert result.exit_code != 0


def test_info():
    result = invoke("info")
    assert result.exit_code == 0, result.output
    text = result.output
    import numba
    import numpy
    assert "numba" in text and numba.__version__ in text
    assert "numpy" in text and numpy.__version__ in text
    assert tcli.__version__ in text
    assert "threading layer" in text
    assert "kernel cache" in text
    assert "cuda available" in text and str(tcli.cuda.is_available()) in text


def test_info_facts():
    from tcli.cli.info import collect
    facts = collect()
    assert facts["tcli"] == tcli.__version__
    assert facts["cuda available"] is tcli.cuda.is_available()
    assert isinstance(facts["threads"], int) and facts["threads"] >= 1
    assert facts["kernel cache"]
    assert "threading layer" in facts


def test_warmup_help():
    result = invoke("warmup", "--help")
    assert result.exit_code == 0 and "--quiet" in result.output


def test_warmup_quiet():
    result = invoke("warmup", "--quiet")
    assert result.exit_code == 0, result.output
    # quiet prints only the total time, e.g. "0.42 s"
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].endswith(" s")
    float(lines[0][:-2])


def test_console_script_version():
    script = os.path.join(os.path.dirname(sys.executable), "tcli")
    if not os.path.exists(script):
        pytest.skip("the tcli console script is not installed next to this Python")
    proc = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"tcli {tcli.__version__}"

"""tcli repl: the engine (statements, values, errors, % commands), the piped and -c modes (subprocess, golden
output), and the prompt_toolkit session driven through a pipe input (Enter, multi-line input, validation)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
from rich.console import Console

import tcli
from tcli.cli.repl.completion import NamespaceCompleter
from tcli.cli.repl.engine import Engine
from tcli.cli.repl.session import _top_level_blocks, input_complete, syntax_error_of


@pytest.fixture
def engine():
    console = Console(record=True, no_color=True, width=120, force_terminal=False)
    state = tcli.get_rng_state()
    yield Engine(console)
    tcli.set_rng_state(state)


def text(engine) -> str:
    return engine.console.export_text(clear=False)


def test_expressions_show_values_and_set_underscore(engine):
    assert engine.run("x = torch.tensor([1., 2.])\nx * 2")
    out = text(engine)
    assert "tensor([2., 4.])" in out and "shape [2] · float32 · cpu · 2 elements" in out
    assert engine.run("_ + 1")
    assert engine.namespace["_"].tolist() == [3.0, 5.0]
    assert engine.namespace["__"].tolist() == [2.0, 4.0]


def test_only_the_last_three_values_are_kept(engine):
    for i in range(5):
        engine.run(f"torch.full((2,), {i}.)")
    kept = [engine.namespace[k] for k in ("_", "__", "___")]
    assert [t[0].item() for t in kept] == [4.0, 3.0, 2.0]


def test_models_print_as_pytorch_plus_a_parameter_table(engine):
    engine.run("m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))\nm")
    out = text(engine)
    assert "(0): Linear(in_features=3, out_features=4, bias=True)" in out
    assert "total" in out and "21" in out


def test_errors_show_the_users_line_and_the_session_goes_on(engine):
    assert not engine.run("torch.mm(torch.ones(2, 2), torch.ones(3, 3))")
    out = text(engine)
    assert 'File "<tcli repl 1>", line 1' in out and "frames inside tcli" in out
    assert "mat1 and mat2 shapes cannot be multiplied (2x2 and 3x3)" in out and "hint:" in out
    assert engine.run("1 + 1") and engine.namespace["_"] == 2


def test_a_statement_after_a_failing_one_in_the_same_block_does_not_run(engine):
    assert not engine.run("a = 1\nb = 1 / 0\nc = 3")
    assert engine.namespace["a"] == 1 and "c" not in engine.namespace


def test_syntax_errors_run_nothing(engine):
    assert not engine.run("y = 5\ndef f(:\n  pass")
    assert "y" not in engine.namespace and "SyntaxError" in text(engine)


def test_commands(engine, tmp_path):
    engine.run("x = torch.ones(4, 4, requires_grad=True)\ny = (x * 2).sum()")
    assert engine.run("%vars")
    out = text(engine)
    assert "SumBackward0" in out and "64 B" in out and "[4, 4]" in out
    assert engine.run("%who") and "x  y" in text(engine)
    assert engine.run("%seed 3\ntorch.rand(2)")
    tcli.manual_seed(3)
    assert engine.namespace["_"].tolist() == tcli.rand(2).tolist()
    assert engine.run("%timeit x + x") and "median" in text(engine) and "first call" in text(engine)
    assert engine.run("%time x.sum()") and "wall time" in text(engine)
    assert engine.run("%help torch.mm") and "mm(input, mat2" in text(engine)
    script = tmp_path / "s.py"
    script.write_text("z = 42\n")
    assert engine.run(f"%run {script}") and engine.namespace["z"] == 42
    saved = tmp_path / "out.py"
    assert engine.run(f"%save {saved}")
    assert "y = (x * 2).sum()" in saved.read_text() and "%" not in saved.read_text()
    assert engine.run("%reset") and "x" not in engine.namespace and "torch" in engine.namespace
    assert not engine.run("%nosuch") and "unknown command %nosuch" in text(engine)


def test_enter_runs_complete_input_and_continues_blocks():
    assert input_complete("x = 1")
    assert not input_complete("for i in range(3):")
    assert not input_complete("for i in range(3):\n    print(i)")
    assert input_complete("for i in range(3):\n    print(i)\n")
    assert not input_complete("f(1,")
    assert input_complete("def f(:")  # complete enough to be refused by the validator
    assert input_complete("%vars")
    assert input_complete("y = (\n)")  # a bracket closed on a later line is complete: no empty line needed


def test_syntax_errors_are_located():
    message, offset = syntax_error_of("x = 1\ny = (2 +")
    assert message.startswith("SyntaxError") and offset >= len("x = 1\n")
    assert syntax_error_of("x = 1\n%vars\ny = x") is None


def test_piped_input_is_cut_at_top_level_statements():
    source = "a = 1\nfor i in range(2):\n    a += i\nelse:\n    pass\nb = (1,\n2)\n%who\nc = a"
    assert list(_top_level_blocks(source)) == [
        "a = 1", "for i in range(2):\n    a += i\nelse:\n    pass", "b = (1,\n2)", "%who", "c = a"]


def test_completion_reads_names_and_attributes_without_running_properties():
    class Tricky:
        ran = False

        @property
        def boom(self):
            Tricky.ran = True
            return 1

    namespace = {"x": tcli.ones(2), "tricky": Tricky(), "torch": tcli}
    words = NamespaceCompleter(namespace)
    assert "x" in words.words("x")
    assert "sum" in words.words("x.su") and "softmax" in words.words("x.so")
    assert "boom" in words.words("tricky.bo") and not Tricky.ran
    assert "Linear" in words.words("torch.nn.Lin")
    assert words.words("x.sum.real") == []  # never follows a value's attributes (that could run code)


def test_completion_of_dict_keys_and_keyword_arguments():
    model = tcli.nn.Linear(2, 3)
    namespace = {"torch": tcli, "F": tcli.nn.functional, "nn": tcli.nn, "x": tcli.ones(2),
                 "d": {"alpha": 1, "beta": 2, 7: 0}, "sd": model.state_dict()}
    complete = NamespaceCompleter(namespace).complete
    assert complete('d["a') == [('"alpha"]', 2)]
    assert complete("d['") == [("'alpha']", 1), ("'beta']", 1)]
    assert ("7]", 0) in complete("d[")
    assert complete('sd["b') == [('"bias"]', 2)]  # an OrderedDict from state_dict()
    assert complete("F.softmax(x, d")[:2] == [("dim=", 1), ("dtype=", 1)]  # keywords first, then names
    assert ("dtype=", 2) in complete("torch.zeros(3, dt")
    assert ("requires_grad=", 8) in complete("torch.randn(2, (3), requires")  # the closed (3) is skipped
    assert ("dim=", 2) in complete("x.sum(di")  # a method, read statically from the class
    assert ("bias=", 2) in complete("nn.Linear(3, 4, bi")
    assert complete("F.softmax(x, _") == [] or all(not t.endswith("=") for t, _ in complete("F.softmax(x, _"))
    assert complete("x.sum()[") == [] and complete("print('(', d")[0][0] != "dim="


def test_graph_command_shows_nodes_saved_shapes_and_named_leaves(engine):
    engine.run("w = torch.randn(3, 2, requires_grad=True)\nx = torch.randn(4, 3)\ny = (x @ w).relu()\n"
               "loss = (y * y).sum() + y.mean()")
    assert engine.run("%graph loss")
    out = text(engine)
    for line in ("loss [scalar] float32", "AddBackward0", "MulBackward0  saved [4x2] float32, [4x2] float32",
                 "ReluBackward0 #1  saved [4x2] float32", "MmBackward0  saved [4x3] float32",
                 "w  leaf [3x2] float32  requires_grad  grad empty", "ReluBackward0 #1 (shown above)"):
        assert line in out, line
    assert out.count("MmBackward0") == 1  # a node used three times is drawn once
    engine.run("loss.backward()\n%graph loss --depth 2")
    out = text(engine)
    assert "more below (raise --depth)" in out
    engine.run("%graph loss")
    assert "saved tensors freed by backward()" in text(engine) and "grad filled" in text(engine)
    assert engine.run("m = nn.Linear(3, 1)\n%graph m(x).sum()")
    assert "m.weight  leaf [1x3] float32" in text(engine) and "m.bias  leaf [1]" in text(engine)
    assert engine.run("%graph x") and "no graph: requires_grad is False" in text(engine)
    assert not engine.run("%graph 3")
    assert "TypeError: %graph shows a tensor's graph; 3 is not a tensor but int" in text(engine)
    assert not engine.run("%graph loss --depth 0")


def test_model_table_shows_each_layers_output_shape_once_the_model_ran(engine):
    engine.run("m = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))\nm")
    rows = [line.split() for line in text(engine).splitlines() if line.startswith(("0 ", "1 ", "2 ", "total"))]
    assert [r[:3] for r in rows] == [["0", "Linear", "-"], ["1", "ReLU", "-"], ["2", "Linear", "-"],
                                     ["total", "-", "50"]]
    engine.console.export_text(clear=True)
    engine.run("_ = m(torch.randn(5, 3))\nm")
    lines = text(engine).splitlines()
    assert any(line.split()[:4] == ["0", "Linear", "[5,", "8]"] for line in lines)
    assert any(line.split()[:4] == ["2", "Linear", "[5,", "2]"] for line in lines)
    assert any(line.split()[:3] == ["total", "[5,", "2]"] for line in lines)


def _repl(*args, stdin=None):
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
    return subprocess.run([sys.executable, "-m", "tcli.cli.app", "repl", *args], input=stdin, capture_output=True,
                          text=True, env=env, timeout=120)


def test_piped_session_golden_output():
    result = _repl(stdin="x = torch.arange(6.).reshape(2, 3)\nx\nx.sum(dim=0)\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "shape [2, 3] · float32 · cpu · 6 elements · 24 B · min 0 max 5 mean 2.5\n"
        "tensor([[0., 1., 2.],\n        [3., 4., 5.]])\n"
        "shape [3] · float32 · cpu · 3 elements · 12 B · min 3 max 7 mean 5\n"
        "tensor([3., 5., 7.])\n")
    assert "\x1b[" not in result.stdout


def test_piped_errors_set_the_exit_status_and_stop_on_error_stops():
    result = _repl(stdin="1 / 0\nprint('after')\n")
    assert result.returncode == 1 and "ZeroDivisionError" in result.stdout and "after" in result.stdout
    result = _repl("--stop-on-error", stdin="1 / 0\nprint('after')\n")
    assert result.returncode == 1 and "after" not in result.stdout


def test_dash_c_runs_code_and_exits():
    result = _repl("-c", "a = torch.ones(2)\nprint((a * 3).tolist())")
    assert result.returncode == 0 and result.stdout == "[3.0, 3.0]\n"


def test_interactive_session_through_a_pipe_input(tmp_path, monkeypatch):
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from tcli.cli.repl.session import interactive
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    console = Console(record=True, no_color=True, width=120)
    engine = Engine(console)
    with create_pipe_input() as pipe:
        # a one-liner, a block finished by an empty line, a syntax error (refused: nothing runs), then Ctrl-D
        pipe.send_text("x = torch.ones(3)\r")
        pipe.send_text("for i in range(2):\r")
        pipe.send_text("x = x + 1\r\r")
        pipe.send_text("x.sum()\r")
        pipe.send_text("y = (\r)\r")
        pipe.send_text("z = 1 +\r")  # incomplete and invalid: refused by the validator, then Ctrl-C clears it
        pipe.send_text("\x03")
        pipe.send_text("z = x.sum(0, keepd\t")  # Tab completes the keyword argument (in a thread: wait for it)

        def rest():
            time.sleep(1.0)
            pipe.send_text("True)\r")
            pipe.send_text("%seed 5\r")
            pipe.send_text("\x04")

        typist = threading.Thread(target=rest)
        typist.start()
        assert interactive(engine, input=pipe, output=DummyOutput()) == 0
        typist.join()
    assert engine.namespace["x"].tolist() == [3.0, 3.0, 3.0]
    assert engine.namespace["_"].item() == 9.0
    assert engine.namespace["z"].item() == 9.0
    assert engine.inputs[-1] == "%seed 5" and tcli.initial_seed() == 5
    assert (tmp_path / "tcli" / "repl_history").exists()


def _controlling_terminal():
    """In the child: a session of its own with the pty (its stdin) as controlling terminal, so the Ctrl-C
    typed into the pty reaches it as SIGINT, as in a real terminal."""
    import fcntl
    import termios
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def test_session_in_a_real_terminal(tmp_path):
    """Type into tcli repl on a pseudo-terminal and read what a person would see: the banner, a coloured
    tensor view with its summary line, an error with the hint, the toolbar, Ctrl-C stopping a running loop, and a
    clean exit on Ctrl-D."""
    import pty
    import re
    import select
    import time
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30", "XDG_DATA_HOME": str(tmp_path)}
    env.pop("NO_COLOR", None)
    import fcntl
    import struct
    import termios
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))  # rows, columns: room for a toolbar
    try:
        process = subprocess.Popen([sys.executable, "-m", "tcli.cli.app", "repl"], stdin=slave, stdout=slave,
                                   stderr=slave, env=env, close_fds=True, preexec_fn=_controlling_terminal)
    finally:
        os.close(slave)
    screen = []

    def read_until(pattern, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", "".join(screen))
            if re.search(pattern, seen):
                return seen
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536).decode(errors="replace")
                except OSError:
                    break
                screen.append(chunk)
                if "\x1b[6n" in chunk:  # answer cursor-position requests as a terminal does
                    os.write(master, b"\x1b[1;1R")
        raise AssertionError(f"never saw {pattern!r}; the screen had:\n{''.join(screen)[-2000:]}")

    try:
        read_until(r"Ctrl-D leaves")
        read_until(r">>>")
        read_until(r"0 tensors, 0 B · device cpu · grad on")  # the bottom toolbar
        os.write(master, b"x = torch.arange(4.) * 2\r")
        os.write(master, b"x\r")
        seen = read_until(r"tensor\(\[0\., 2\., 4\., 6\.\]\)")
        assert "shape [4] · float32 · cpu · 4 elements" in seen
        read_until(r"1 tensors, 16 B")
        os.write(master, b"x.view(3)\r")
        seen = read_until(r"hint:")
        assert "RuntimeError: shape '[3]' is invalid for input of size 4" in seen
        assert "\x1b[" in "".join(screen)  # colour and cursor control: a real terminal session
        read_until(r">>>\s*$")  # the next prompt
        # Ctrl-C stops running code (a loop of kernel calls) and the session goes on
        screen.clear()
        os.write(master, b"while True: torch.ones(1000).sum()\r\r")
        time.sleep(1.0)
        os.write(master, b"\x03")
        read_until(r"KeyboardInterrupt")
        os.write(master, b"40 + 2\r")
        read_until(r"42")
        read_until(r">>>\s*$")
        os.write(master, b"\x04")
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:  # keep serving the terminal until it exits
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if b"\x1b[6n" in chunk:
                    os.write(master, b"\x1b[1;1R")
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)

"""The ``tcli`` command. Imports stay inside the commands so ``tcli --help`` answers at once."""

from __future__ import annotations

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  pretty_exceptions_show_locals=False,
                  help="tcli: PyTorch's tensor API on Numba kernels, from the terminal.")


def _version(value: bool):
    if value:
        from tcli import __version__
        typer.echo(f"tcli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print tcli's version and exit.")):
    """tcli: PyTorch's tensor API on Numba kernels, from the terminal."""


@app.command()
def info():
    """Versions, threading and where compiled kernels are cached."""
    from .info import collect, render
    render(collect())


@app.command()
def warmup(quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the total time.")):
    """Compile the common kernels ahead of time (they are cached on disk for later runs)."""
    from .warmup import run
    run(quiet=quiet)


@app.command()
def bench(
    quick: bool = typer.Option(False, "--quick", help="Fewer workloads and repeats: a short run."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    filter: str = typer.Option(None, "--filter", "-k", help="Only workloads whose name contains this text."),
    repeats: int = typer.Option(None, "--repeats", help="Timing rounds per workload (median is reported)."),
    device: str = typer.Option("cpu", "--device", help="cpu, or cuda: tcli's CUDA kernels against PyTorch's."),
):
    """Time tcli against numpy and PyTorch (when installed) side by side, with ratios."""
    from .bench import main as bench_main
    raise typer.Exit(bench_main(quick=quick, as_json=as_json, name_filter=filter, repeats=repeats, device=device))


_RUN_CONTEXT = {"allow_extra_args": True, "ignore_unknown_options": True, "allow_interspersed_args": False}


@app.command(context_settings=_RUN_CONTEXT)
def run(
    ctx: typer.Context,
    script: str = typer.Argument(None, help="The training script; everything after it is the script's own."),
    module: str = typer.Option(None, "-m", help="Run a module as __main__ instead of a script (like python -m)."),
    every: str = typer.Option("100", "--every", help="Report every N steps, or 'auto' for about 20 reports."),
    max_steps: int = typer.Option(None, "--max-steps", help="Stop cleanly after N steps."),
    device: str = typer.Option(None, "--device", help="Default device for new tensors: cpu or cuda."),
    seed: int = typer.Option(None, "--seed", help="Seed tcli's random number generator before the script."),
    threads: int = typer.Option(None, "--threads", help="Threads for tcli's parallel kernels."),
    plain: bool = typer.Option(False, "--plain", help="One line per report, no colour or live view."),
    log: str = typer.Option(None, "--log", help="Write every report to FILE.jsonl or FILE.csv."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON lines to stdout (script prints go to stderr)."),
    stop_on_nan: bool = typer.Option(False, "--stop-on-nan", help="Stop at the first non-finite loss."),
    no_torch_alias: bool = typer.Option(False, "--no-torch-alias", help="Do not make `import torch` import tcli."),
):
    """Run a PyTorch-style training script on tcli and report its loss every N steps."""
    from .run import Options
    from .run import run as run_script
    args = list(ctx.args)
    if module and script is not None:
        args.insert(0, script)
        script = None
    opts = Options(script=script, module=module, args=args, every=every, max_steps=max_steps, device=device,
                   seed=seed, threads=threads, plain=plain, log=log, as_json=as_json, stop_on_nan=stop_on_nan,
                   torch_alias=not no_torch_alias)
    raise typer.Exit(run_script(opts))


@app.command()
def repl(
    code: str = typer.Option(None, "-c", help="Run this code (as if typed) and exit."),
    stop_on_error: bool = typer.Option(False, "--stop-on-error", help="Stop at the first failing statement."),
    vi: bool = typer.Option(False, "--vi", help="Vi key bindings (Emacs by default)."),
):
    """The interactive tensor session; with piped input or -c, runs it statement by statement."""
    from .repl.session import main as repl_main
    raise typer.Exit(repl_main(code=code, stop_on_error=stop_on_error, vi=vi))


def main():
    app()


if __name__ == "__main__":
    main()

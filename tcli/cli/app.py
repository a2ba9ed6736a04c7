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
):
    """Time tcli against numpy and PyTorch (when installed) side by side, with ratios."""
    from .bench import main as bench_main
    raise typer.Exit(bench_main(quick=quick, as_json=as_json, name_filter=filter, repeats=repeats))


def main():
    app()


if __name__ == "__main__":
    main()

"""CLI: `gome exec`: run a solution folder in exactly the sandbox the agent uses.

So that a user can re-run any step's code (or their own) the same way and see the same outcome.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

DEFAULT_FULL_TIME_LIMIT = "10m"
DEFAULT_DEBUG_TIME_LIMIT = "60s"


def register(app: typer.Typer) -> None:
    """Add this module's commands to the gome app."""
    app.command("exec")(exec_solution)


def exec_solution(
    workspace: Path = typer.Argument(..., help="folder with main.py (a step's workspace)"),
    task: Path = typer.Option(..., "--task", help="competition folder; its public files "
                              "are mounted read-only at ./input"),
    debug: bool = typer.Option(False, "--debug", help="debug run: GOME_DEBUG=1, small "
                               "subsample, short time limit"),
    time_limit: str | None = typer.Option(
        None, "--time-limit",
        help=f"wall time, e.g. 90s, 10m, 1h (default {DEFAULT_FULL_TIME_LIMIT}, "
             f"{DEFAULT_DEBUG_TIME_LIMIT} with --debug)"),
    memory: str | None = typer.Option("8G", "--memory", help="memory limit, e.g. 512M, 4G"),
    threads: int = typer.Option(1, "--threads", min=1, help="OMP/MKL/OpenBLAS threads"),
    seed: int = typer.Option(0, "--seed", help="value of GOME_SEED"),
    isolation: str = typer.Option("auto", "--isolation", help="auto | bwrap | none"),
    python: str | None = typer.Option(None, "--python", help="solution interpreter "
                                      "(default: gome's own)"),
    as_json: bool = typer.Option(False, "--json", help="print the outcome as JSON"),
) -> None:
    """Run WORKSPACE/main.py in the sandbox and print the outcome (exit code 1 if not ok)."""
    from gome.errors import ConfigError
    from gome.sandbox.outcome import Limits
    from gome.sandbox.runner import Sandbox
    from gome.sandbox.units import parse_duration, parse_size_mb

    workspace = workspace.expanduser()
    if not workspace.is_dir():
        raise ConfigError(f"The workspace {workspace} is not a folder; give the folder "
                          "that holds main.py.")
    if not (workspace / "main.py").is_file():
        raise ConfigError(f"There is no main.py in {workspace}; give a folder with a main.py.")
    input_dir, note = _public_dir(task.expanduser())
    wall = parse_duration(time_limit or (DEFAULT_DEBUG_TIME_LIMIT if debug
                                         else DEFAULT_FULL_TIME_LIMIT))
    memory_mb = None if memory in (None, "", "none", "0") else parse_size_mb(memory)
    limits = Limits(wall_time_s=wall, memory_mb=memory_mb, threads=threads)
    sandbox = Sandbox(limits, python=python, isolation=isolation)
    if note and not as_json:
        typer.echo(f"gome: {note}", err=True)
    outcome = sandbox.run(workspace.resolve(), input_dir, debug=debug, seed=seed)
    if as_json:  # the isolation the run got, so a JSON reader knows whether it was contained
        typer.echo(json.dumps({**outcome.model_dump(mode="json"),
                               "isolation": sandbox.isolation}, indent=2))
    else:
        _print_outcome(outcome, sandbox.isolation)
    raise typer.Exit(0 if outcome.ok else 1)


def _public_dir(task: Path) -> tuple[Path, str]:
    """The folder mounted at ./input: the task's public files, or a plain data folder."""
    from gome.errors import ConfigError, GomeError

    if not task.is_dir():
        raise ConfigError(f"The task folder {task} does not exist; give a competition folder "
                          "with --task.")
    try:
        from gome.task.loader import load_task
    except ImportError:
        return task.resolve(), ""
    try:
        return Path(load_task(task).public_dir).resolve(), ""
    except GomeError as err:
        return task.resolve(), (f"{task} is not a competition folder ({err}); "
                                "mounting the folder itself at ./input.")


def _print_outcome(outcome, isolation: str) -> None:  # noqa: ANN001 - Outcome, imported late
    from rich.console import Console
    from rich.table import Table

    console = Console()
    colour = "green" if outcome.ok else "red"
    table = Table(show_header=False, box=None, padding=(0, 1))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("status", f"[{colour}]{outcome.status.value}[/]")
    table.add_row("what happened", outcome.message)
    table.add_row("exit code", str(outcome.exit_code))
    table.add_row("wall time", f"{outcome.wall_time_s:.2f} s (limit {outcome.time_limit_s:g} s)")
    table.add_row("CPU time", f"{outcome.cpu_time_s:.2f} s")
    if outcome.peak_memory_mb is not None:
        table.add_row("peak memory", f"{outcome.peak_memory_mb:.0f} MB")
    if outcome.scores:
        score = outcome.score
        metric = outcome.scores.get("metric", "?")
        table.add_row("score", f"{metric} = {score}" if score is not None else
                      f"{metric} = {outcome.scores.get('score')!r} (not a number)")
    else:
        table.add_row("score", "no scores.json")
    table.add_row("submission", "submission/submission.csv" if outcome.has_submission
                  else "[yellow]none[/]")
    table.add_row("isolation", isolation)
    table.add_row("log", outcome.log_path or "")
    console.print(table)
    if outcome.traceback:
        console.rule("traceback")
        console.print(outcome.traceback, markup=False, highlight=False)
    elif not outcome.ok and outcome.stderr_tail:
        console.rule("stderr (tail)")
        console.print(outcome.stderr_tail[-2000:], markup=False, highlight=False)

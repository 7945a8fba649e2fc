"""CLI: `gome tasks` - list, make and inspect competitions; list metrics."""

from __future__ import annotations

from pathlib import Path

import typer

tasks_app = typer.Typer(
    help="Practice competitions and what gome reads from a competition folder.",
    no_args_is_help=True,
)


@tasks_app.command("list")
def list_cmd() -> None:
    """Show the practice competitions `gome tasks make` can build."""
    from gome.task.practice import list_practice

    specs = list_practice()
    width = max(len(s.name) for s in specs)
    for s in specs:
        typer.echo(f"{s.name:<{width}}  {s.metric:<22} {s.summary}")


@tasks_app.command("make")
def make_cmd(
    name: str = typer.Argument(..., help="practice competition, see `gome tasks list`"),
    out: Path = typer.Option(..., "--out", "-o", help="folder to write (must not hold one)"),
    seed: int = typer.Option(0, "--seed", help="seed of the train/test split"),
    max_rows: int | None = typer.Option(None, "--max-rows", help="subsample the source rows"),
) -> None:
    """Write a practice competition in MLE-bench's layout: OUT/public, OUT/private."""
    from gome.task.loader import load_task
    from gome.task.practice import make_practice

    path = make_practice(name, out, seed=seed, max_rows=max_rows)
    task = load_task(path)
    typer.echo(f"wrote {task.id} to {path}: public/ (train.csv, test.csv, "
               f"{task.sample_submission.name}, description.md), private/answers.csv; "
               f"metric {task.metric} ({task.direction}).")


@tasks_app.command("show")
def show_cmd(
    path: Path = typer.Argument(..., help="competition folder"),
    metric: str | None = typer.Option(None, "--metric", help="metric name, if not in the folder"),
    json_out: bool = typer.Option(False, "--json", help="print the task as JSON"),
) -> None:
    """Show what gome found in a competition folder (files, columns, metric, direction)."""
    from gome.task.loader import load_task
    from gome.task.taskfile import TASK_FILE

    task = load_task(path, metric=metric, metric_required=False)
    if json_out:
        typer.echo(task.model_dump_json(indent=2, exclude={"description"}))
        return
    rows = [
        ("id", task.id), ("name", task.name), ("kind", task.kind),
        ("metric", f"{task.metric} ({task.direction})" if task.metric
         else f"unknown: pass --metric NAME (see `gome tasks metrics`) or add `metric: NAME` "
         f"to {TASK_FILE}"),
        ("public", str(task.public_dir)),
        ("private", str(task.private_dir) if task.private_dir else "- (validate only)"),
        ("sample submission", task.sample_submission.name),
        ("id columns", ", ".join(task.id_columns)),
        ("target columns", ", ".join(task.target_columns)),
        ("train files", ", ".join(p.name for p in task.train_files) or "-"),
        ("test files", ", ".join(p.name for p in task.test_files) or "-"),
        ("answers", str(task.answers) if task.answers else "-"),
        ("leaderboard", str(task.leaderboard) if task.leaderboard else "-"),
    ]
    for key, value in rows:
        typer.echo(f"{key:<18} {value}")


@tasks_app.command("metrics")
def metrics_cmd() -> None:
    """List the metric names --metric accepts, with their direction."""
    from gome.task.metrics import list_metrics

    for m in list_metrics():
        direction = "higher is better" if m.higher_is_better else "lower is better"
        typer.echo(f"{m.name:<24} {direction:<16}  {m.description}")


def register(app: typer.Typer) -> None:
    """Add `gome tasks` to the gome app."""
    app.add_typer(tasks_app, name="tasks")

"""CLI: `gome bench SUITE ...` runs a suite of (competition, seed) jobs; `gome bench report DIR`
prints and writes the MLE-bench table. Thin: the logic lives in gome.scale."""

from __future__ import annotations

import re
from pathlib import Path

import typer

_HELP = (
    "Run SUITE x seeds as gome runs (resumable), or `gome bench report BENCH_DIR`.\n\n"
    "SUITE: lite (low), medium, high, all, a file of competition ids, ids (comma-separated), "
    "a practice competition (see `gome tasks list`) or a competition folder.\n\n"
    "Running the same command again resumes: finished jobs are kept, failed and interrupted "
    "ones are redone."
)


def _default_out(suite: list[str]) -> Path:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", "-".join(Path(s).stem for s in suite)).strip("-")
    return Path(f"bench-{slug[:60] or 'suite'}")


def _job_ray_address(address: str | None) -> str | None:
    """Where a job's sandbox runs connect: the bench's cluster (``local`` means the one the
    bench started on this machine, which jobs find with ``auto``)."""
    return "auto" if address == "local" else address


def register(app: typer.Typer) -> None:
    """Add `bench` to the gome app."""

    @app.command("bench", help=_HELP)
    def bench_cmd(
        suite: list[str] = typer.Argument(..., help="SUITE items, or: report BENCH_DIR"),
        data_dir: Path | None = typer.Option(
            None, help="MLE-bench data dir (`mlebench prepare --data-dir`), seen by all nodes"),
        seeds: int = typer.Option(3, help="seeds per competition (MLE-bench asks for >= 3)"),
        time_limit: str = typer.Option("12h", help="wall time of each run, e.g. 12h, 30m"),
        optimizer: str = typer.Option("gradient", help="gradient | tree"),
        reasoner: str | None = typer.Option(
            None, help="heuristic | llm (default: llm with --model, else heuristic)"),
        model: str | None = typer.Option(None, help="LLM model name"),
        base_url: str | None = typer.Option(None, help="OpenAI-compatible endpoint URL"),
        traces: int | None = typer.Option(None, help="parallel traces per run"),
        steps: int | None = typer.Option(None, help="step limit per run"),
        full_time_limit: str | None = typer.Option(None, help="limit of one solution run"),
        executor: str = typer.Option(
            "local", help="where each run's sandbox runs go: local | ray"),
        gpus_per_run: float = typer.Option(
            0.0, help="with --executor ray: GPUs each sandbox run asks Ray for"),
        jobs: int | None = typer.Option(None, help="jobs at once (default: what fits)"),
        ray_address: str | None = typer.Option(
            None, help="run jobs on Ray: auto, HOST:PORT, ray://HOST:10001, or local"),
        cpus_per_job: float = typer.Option(1.0, help="CPUs each job asks for"),
        gpus_per_job: float = typer.Option(0.0, help="GPUs each job asks for"),
        out: Path | None = typer.Option(None, help="bench folder (default: ./bench-<suite>)"),
        practice_rows: int | None = typer.Option(
            None, help="subsample practice competitions to this many rows"),
        retries: int = typer.Option(1, help="extra attempts for a job that died"),
        split: list[str] = typer.Option(
            [], help="report: also show this MLE-bench split, padding what is missing"),
        as_json: bool = typer.Option(False, "--json", help="report: print JSON"),
    ) -> None:
        if suite and suite[0] == "report":
            _report(suite[1:], split, as_json)
            return
        from pydantic import ValidationError

        from gome.api import make_config
        from gome.errors import ConfigError
        from gome.scale.bench import BenchOptions, run_bench

        if optimizer not in ("gradient", "tree"):
            raise ConfigError(f"unknown optimizer '{optimizer}'; use gradient or tree.")
        if executor not in ("local", "ray"):
            raise ConfigError(f"unknown executor '{executor}'; use local or ray.")
        if jobs is not None and jobs < 1:
            raise ConfigError("--jobs must be at least 1.")
        template = make_config(
            ".", out=".", reasoner=reasoner or ("llm" if model else "heuristic"), model=model,
            base_url=base_url, traces=traces, time_limit=time_limit, steps=steps,
            optimizer=optimizer, full_time_limit=full_time_limit, executor=executor,
            ray_address=_job_ray_address(ray_address) if executor == "ray" else None,
            slots=max(1, int(cpus_per_job)), run_gpus=gpus_per_run or None,
        )
        run = template.model_dump(mode="json", exclude_unset=True,
                                  exclude={"task_dir", "out_dir", "seed"})
        try:
            options = BenchOptions(
                suite=suite, out=out or _default_out(suite), data_dir=data_dir, seeds=seeds,
                run=run, jobs=jobs, ray_address=ray_address, cpus_per_job=cpus_per_job,
                gpus_per_job=gpus_per_job, retries=retries, practice_rows=practice_rows,
            )
        except ValidationError as err:  # e.g. --seeds 0: one sentence, not a traceback
            raise ConfigError.from_validation(err, as_flag=True) from None
        typer.echo(f"gome: bench folder {options.out}", err=True)

        def say(text: str, job: object) -> None:
            del job
            typer.echo(f"gome bench: {text}", err=True)

        counts = run_bench(options, on_event=say)
        _report([str(options.out)], split, False)
        if counts.get("failed") or counts.get("pending") or counts.get("running"):
            raise typer.Exit(1)


def _report(args: list[str], split: list[str], as_json: bool) -> None:
    from gome.errors import ConfigError
    from gome.scale.mlebench_splits import canonical_split
    from gome.scale.report import build_report, print_report, write_report

    if len(args) != 1:
        raise ConfigError("usage: gome bench report BENCH_DIR (the --out folder of a bench).")
    forced = []
    for name in split:
        key = canonical_split(name)
        if key is None:
            raise ConfigError(f"unknown split '{name}'; use lite, medium, high or all.")
        forced.append(key)
    bench_dir = Path(args[0])
    report = build_report(bench_dir, forced)
    json_path, html_path = write_report(report, bench_dir)
    if as_json:
        typer.echo(report.summary.model_dump_json(indent=2))
        return
    print_report(report)
    typer.echo(f"wrote {json_path} and {html_path}")

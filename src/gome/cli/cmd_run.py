"""CLI: `gome run`, `gome resume` and `gome demo`. Thin: all logic lives in gome.api/optim."""

from __future__ import annotations

from pathlib import Path

import typer


def _summary(result, *, heading: str = "gome run") -> None:  # noqa: ANN001
    """A one-screen summary of a finished run, with its paths (never wrapped: copy them)."""
    from rich.console import Console
    from rich.markup import escape

    console = Console(soft_wrap=True)
    rows: list[tuple[str, str]] = [("status", result.status), ("steps", str(result.steps))]
    final = result.final
    if final is not None and final.step_id is not None:
        rows.append(("validation score", f"{final.score:g}"))
        if final.rerun_scores:
            rows.append(("rerun scores", ", ".join(f"{s:g}" for s in final.rerun_scores)))
        if final.heldout_score is not None:
            medal = f" ({final.medal})" if final.medal and final.medal != "none" else ""
            rows.append(("held-out score", f"{final.heldout_score:g}{medal}"))
        rows += [("submission", str(final.submission)), ("code", str(final.main_py))]
    llm = _llm_totals(Path(result.run_dir))
    if llm:
        rows.append(("LLM", llm))
    rows.append(("run folder", str(result.run_dir)))
    report = Path(result.run_dir) / "report.html"
    if report.exists():
        rows.append(("report", str(report)))
    rows.append(("message", result.message))
    style = "bold green" if result.status == "finished" else "bold red"
    console.print(f"[bold cyan]{heading}[/] [{style}]{result.status}[/]")
    for label, value in rows:
        console.print(f"  [bold]{label:<17}[/]{escape(value)}")


def _llm_totals(run_dir: Path) -> str | None:
    """The run's LLM spend, and each trace's, from the journal: the number a user checks first
    after an LLM run (None when the run made no LLM calls)."""
    from gome.errors import GomeError
    from gome.journal.db import Journal
    from gome.report.fmt import money, tokens

    try:
        journal = Journal.open(run_dir)
    except GomeError:
        return None
    try:
        totals = journal.llm_totals()  # one SQL aggregate; calls only for the per-trace split
        calls = journal.llm_call_summaries() if totals["calls"] else []
    finally:
        journal.close()
    if not totals["calls"]:
        return None
    per_trace: dict[int, float] = {}
    for c in calls:
        if c["trace"] is not None:
            trace = int(c["trace"])
            per_trace[trace] = per_trace.get(trace, 0.0) + float(c["cost_usd"] or 0.0)
    line = (f"{int(totals['calls'])} calls, {tokens(int(totals['tokens_in']))} in, "
            f"{tokens(int(totals['tokens_out']))} out, {money(float(totals['cost_usd']))}")
    if len(per_trace) > 1:
        line += " (" + ", ".join(f"trace {t} {money(v)}" for t, v in sorted(per_trace.items()))
        line += ")"
    return line


def _announce(run_dir: Path) -> None:
    typer.echo(f"gome: run folder {run_dir} (continue it with `gome resume {run_dir}` if it "
               "stops)", err=True)


def register(app: typer.Typer) -> None:
    """Add `run`, `resume` and `demo` to the gome app."""

    @app.command("run")
    def run_cmd(
        task_dir: Path = typer.Argument(..., help="competition folder (MLE-bench or plain)"),
        reasoner: str = typer.Option("heuristic", help="heuristic | llm | scripted:<mod>:<attr>"),
        model: str | None = typer.Option(None, help="LLM model name (with --reasoner llm)"),
        base_url: str | None = typer.Option(None, help="OpenAI-compatible endpoint URL"),
        traces: int = typer.Option(2, help="parallel traces"),
        time_limit: str = typer.Option("30m", help="total wall time, e.g. 30m, 2h"),
        steps: int | None = typer.Option(None, help="step limit over all traces"),
        seed: int = typer.Option(0, help="random seed"),
        out: Path | None = typer.Option(None, help="run folder (default runs/<task>-<time>)"),
        optimizer: str = typer.Option("gradient", help="gradient | tree"),
        metric: str | None = typer.Option(None, help="the competition's metric, if gome "
                                          "cannot find it (see `gome tasks metrics`)"),
        reasoning_noise: float = typer.Option(0.0, help="heuristic: share of wrong diagnoses"),
        no_momentum: bool = typer.Option(False, "--no-momentum", help="ablation: no memory"),
        undirected: bool = typer.Option(False, "--undirected", help="ablation: plain improve"),
        merge: bool = typer.Option(False, "--merge", help="merge phase near the end"),
        final_reruns: int = typer.Option(0, help="re-run the top k with other seeds"),
        noise_gate: float = typer.Option(
            1.0, help="accept a gain only if its paired per-fold gain is at least this many "
            "standard errors (when the solutions report per-fold scores); 0: off"),
        submission_out: Path | None = typer.Option(None, help="also copy the submission here"),
        executor: str = typer.Option("local", help="local | ray"),
        ray_address: str | None = typer.Option(None, help="Ray cluster address (--executor ray)"),
        max_cost: float | None = typer.Option(None, help="LLM spending cap in USD"),
        max_llm_calls: int | None = typer.Option(None, help="LLM call cap"),
        config: Path | None = typer.Option(
            None, "--config", help="gome.toml with the [llm] table (default ./gome.toml)"),
        debug_time_limit: str | None = typer.Option(None, help="debug run limit, e.g. 60s"),
        full_time_limit: str | None = typer.Option(None, help="full run limit, e.g. 10m"),
        slots: int | None = typer.Option(None, help="concurrent sandbox runs (default: cores)"),
        num_drafts: int = typer.Option(5, help="tree: roots to draft (AIDE's default 5)"),
        debug_prob: float = typer.Option(0.5, help="tree: chance to debug a failed leaf"),
        max_debug_depth: int = typer.Option(3, help="tree: debug steps in a row at most"),
        live: bool = typer.Option(True, "--live/--no-live", help="live terminal view"),
    ) -> None:
        """Optimize a solution for TASK_DIR until the budget is spent."""
        from gome.api import make_config, run_config
        from gome.errors import ConfigError

        if optimizer not in ("gradient", "tree"):
            raise ConfigError(f"unknown optimizer '{optimizer}'; use gradient or tree.")
        if executor not in ("local", "ray"):
            raise ConfigError(f"unknown executor '{executor}'; use local or ray.")
        if not task_dir.exists():
            raise ConfigError(f"{task_dir} does not exist; pass a competition folder.")
        config = make_config(
            task_dir, reasoner=reasoner, model=model, base_url=base_url, traces=traces,
            time_limit=time_limit, steps=steps, seed=seed, out=out, optimizer=optimizer,
            metric=metric,
            reasoning_noise=reasoning_noise, momentum=not no_momentum, undirected=undirected,
            merge=merge, final_reruns=final_reruns, noise_gate=noise_gate,
            submission_out=submission_out,
            executor=executor, ray_address=ray_address, max_cost=max_cost,
            max_llm_calls=max_llm_calls, config=config,
            debug_time_limit=debug_time_limit, full_time_limit=full_time_limit, slots=slots,
            tree={"num_drafts": num_drafts, "debug_prob": debug_prob,
                  "max_debug_depth": max_debug_depth},
        )
        result = run_config(config, live=live, on_start=_announce)
        _summary(result)
        if result.status != "finished":
            raise SystemExit(1)  # typer.Exit is swallowed in non-standalone mode

    @app.command("resume")
    def resume_cmd(
        run_dir: Path = typer.Argument(..., help="the run folder of a killed run"),
        time_limit: str | None = typer.Option(None, help="new total time budget, e.g. 2h"),
        live: bool = typer.Option(True, "--live/--no-live", help="live terminal view"),
    ) -> None:
        """Continue a run that was killed; finished steps are kept, the budget goes on."""
        from gome.api import duration_s, resume

        result = resume(run_dir, live=live, on_start=_announce,
                        time_limit_s=duration_s(time_limit) if time_limit else None)
        _summary(result, heading="gome resume")
        if result.status != "finished":
            raise SystemExit(1)  # typer.Exit is swallowed in non-standalone mode

    @app.command("demo")
    def demo_cmd(
        out: Path | None = typer.Option(None, help="folder for the demo (default: ./gome-demo)"),
        time_limit: str = typer.Option("3m", help="budget of the demo run"),
        live: bool = typer.Option(True, "--live/--no-live", help="live terminal view"),
    ) -> None:
        """Build a practice competition, optimize it offline and grade the result."""
        from gome.optim.demo import run_demo

        result = run_demo(out or Path("gome-demo"), time_limit=time_limit, live=live)
        _summary(result.run, heading="gome demo")
        typer.echo(result.line())
        if result.run.status != "finished":
            raise SystemExit(1)  # typer.Exit is swallowed in non-standalone mode

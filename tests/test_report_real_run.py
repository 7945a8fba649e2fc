"""The report, `gome show` and `gome export` on a real (short, scripted) run of the optimizer.

The run goes through the real loop (sandbox runs, journal, final selection), which writes
report.html at its end; the report must hold every step with the journal's numbers.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from markupsafe import escape
from rich.console import Console
from test_report_html import Page
from typer.testing import CliRunner

from gome.api import make_config, run_config
from gome.cli.app import app
from gome.journal.db import Journal
from gome.report import fmt
from gome.report.export import EXPORT_FORMAT, EXPORT_VERSION, RunExport
from gome.report.terminal import show_run
from gome.task.practice import make_practice


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    task = make_practice("penguins", tmp_path_factory.mktemp("task") / "penguins", seed=0)
    out = tmp_path_factory.mktemp("run") / "run"
    config = make_config(task, out=out, reasoner="scripted", traces=2, steps=6,
                         time_limit="120s", debug_time_limit="30s", full_time_limit="60s")
    result = run_config(config)
    assert result.status == "finished"
    return out


def test_report_written_by_the_run_holds_every_step_and_its_numbers(real_run: Path) -> None:
    report = real_run / "report.html"
    assert report.is_file(), "the run should write its report at the end"
    page = Page(report.read_text(encoding="utf-8"))
    journal = Journal.open(real_run)
    try:
        steps, run, totals = journal.steps(), journal.run(), journal.llm_totals()
    finally:
        journal.close()
    assert len(steps) == 6
    rows = {int(r["data-step-id"]): r for r in page.steps}
    assert sorted(rows) == [s.id for s in steps]
    for s in steps:
        assert rows[s.id]["data-decision"] == s.decision.value
        assert rows[s.id]["text:sc"] == fmt.score(s.score)
        assert rows[s.id]["data-trace"] == str(s.trace)
    assert run.final is not None and run.final.score is not None
    assert page.by_id["best-score"] == fmt.score(run.final.score)
    assert page.by_id["steps-total"] == "6"
    # the final pick is named by the step id every other part of the page uses
    assert f"final pick: step #{run.final.step_id} (trace {run.final.trace})" in \
        page.by_id["run-message"]
    assert page.by_id["llm-cost"] == fmt.money(totals["cost_usd"])
    final_step = next(s for s in steps if s.id == run.final.step_id)
    assert str(escape(final_step.code)) in report.read_text(encoding="utf-8")  # final main.py
    data = json.loads(next(t for a, t in page.scripts if a.get("id") == "gome-data"))
    by_id = {d["id"]: d for d in data["steps"]}
    assert all(by_id[s.id]["diff"] == s.diff for s in steps)


def test_show_prints_summary_and_the_best_steps_chain(real_run: Path) -> None:
    buf = io.StringIO()
    show_run(real_run, Console(file=buf, width=200))
    text = buf.getvalue()
    journal = Journal.open(real_run)
    run, steps = journal.run(), journal.steps()
    journal.close()
    assert run.task_id in text and fmt.score(run.final.score) in text
    best = next(s for s in steps if s.id == run.final.step_id)
    assert f"#{best.id}" in text
    first = next(s for s in steps if s.trace == best.trace and s.index == 0)
    assert f"#{first.id}" in text  # the chain goes back to the trace's draft


def test_export_is_the_whole_run_and_reads_back(real_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "run.json"
    result = CliRunner().invoke(app, ["export", str(real_run), "--json", str(out)])
    assert result.exit_code == 0, result.output
    raw = json.loads(out.read_text())
    assert raw["format"] == EXPORT_FORMAT and raw["version"] == EXPORT_VERSION
    doc = RunExport.model_validate(raw)
    journal = Journal.open(real_run)
    try:
        assert [s.model_dump() for s in doc.steps] == [s.model_dump() for s in journal.steps()]
        assert doc.run == journal.run()
        assert len(doc.llm_calls) == journal.llm_totals()["calls"]
        assert [m.id for m in doc.memory] == [m.id for m in journal.memory()]
    finally:
        journal.close()
    assert doc.run.config["traces"] == 2

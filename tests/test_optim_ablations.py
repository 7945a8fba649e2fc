"""The paper's ablation switches, the merge phase and the final reruns, checked in the journal.

Each switch must change what the run does, not only what its config says: a user comparing
`gome run` with `--no-momentum`, `--traces 1` or `--undirected` reads the difference in the
journal (which steps ran, what they saw and used). Scripted solutions keep every run seconds long.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gome.api import make_config, run_config
from gome.journal.db import Journal
from gome.journal.models import Decision, StepKind, StepRecord
from gome.reasoning.scripted import ScriptedReasoner
from gome.reasoning.types import CodeChange, Context
from gome.task.loader import load_task
from gome.task.practice import make_practice

GOME = [sys.executable, "-m", "gome.cli.app"]


@pytest.fixture(scope="module")
def penguins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_practice("penguins", tmp_path_factory.mktemp("task") / "penguins", seed=0)


def _journal(run_dir: Path) -> tuple[dict, list[StepRecord], list]:
    journal = Journal.open(run_dir)
    try:
        return journal.run().config, journal.steps(), journal.memory()
    finally:
        journal.close()


def _cli_run(task: Path, out: Path, *switches: str) -> tuple[dict, list[StepRecord], list]:
    res = subprocess.run([*GOME, "run", str(task), "--reasoner", "scripted", "--steps", "6",
                          "--time-limit", "3m", "--no-live", "--out", str(out), *switches],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return _journal(out)


def test_each_ablation_switch_changes_what_the_run_does(penguins: Path, tmp_path: Path) -> None:
    # the full method: two traces, diagnosed gradient steps that use the shared memory
    config, steps, memory = _cli_run(penguins, tmp_path / "full")
    assert config["traces"] == 2 and config["momentum"] and not config["undirected"]
    assert {s.trace for s in steps} == {0, 1}
    gradient = [s for s in steps if s.kind == StepKind.GRADIENT]
    assert gradient and all(s.gradient and s.hypotheses and s.selection for s in gradient)
    assert all(s.memory_used for s in gradient)
    assert any(m.trace != s.trace for s in gradient for m in memory if m.id in s.memory_used)

    # --traces 1: one chain of steps, each step after the draft built on the one best
    config, steps, _ = _cli_run(penguins, tmp_path / "one", "--traces", "1")
    assert config["traces"] == 1 and {s.trace for s in steps} == {0}
    assert [s.index for s in steps] == list(range(6))
    assert sum(s.kind == StepKind.DRAFT for s in steps) == 1

    # --no-momentum: still diagnosed and selected, but no step is shown or uses the memory
    config, steps, memory = _cli_run(penguins, tmp_path / "nomom", "--no-momentum")
    assert config["momentum"] is False
    gradient = [s for s in steps if s.kind == StepKind.GRADIENT]
    assert gradient and all(s.gradient and s.selection for s in gradient)
    assert all(s.memory_used == [] for s in steps)
    assert memory  # successes are still recorded (the report shows them), just not used

    # --undirected: plain "improve this solution" steps, no gradient, hypotheses or selection
    config, steps, _ = _cli_run(penguins, tmp_path / "undirected", "--undirected")
    assert config["undirected"] is True
    assert {s.kind for s in steps} == {StepKind.DRAFT, StepKind.UNDIRECTED}
    assert all(s.gradient is None and not s.hypotheses and s.selection is None for s in steps)
    assert any(s.decision == Decision.ACCEPTED for s in steps if s.kind == StepKind.UNDIRECTED)


def test_merge_phase_comes_near_the_end_of_a_step_limited_run(
    penguins: Path, tmp_path: Path
) -> None:
    """With --steps 8 and a long clock, the last steps (not the clock) are the end of the budget."""
    out = tmp_path / "run"
    config = make_config(penguins, out=out, reasoner="scripted", traces=2, steps=8,
                         time_limit="30m", merge=True)
    reasoner = ScriptedReasoner(load_task(penguins), plan=["ok", "better"], cycle=False)
    result = run_config(config, reasoner=reasoner)
    assert result.status == "finished"
    _, steps, memory = _journal(out)
    merges = [s for s in steps if s.kind == StepKind.MERGE]
    assert 1 <= len(merges) <= 2, [s.kind for s in steps]
    first_merge = steps.index(merges[0])
    assert first_merge >= 6  # 85% of 8 steps: only the 7th and 8th may merge
    trace_of = {m.id: m.trace for m in memory}
    for m in merges:
        assert m.memory_used and all(trace_of[i] != m.trace for i in m.memory_used)
        assert m.selection is not None and "other traces" in m.selection.hypothesis.statement


class LuckyReasoner(ScriptedReasoner):
    """Its third step is a lucky split: a high score with the seed it was searched with, a poor
    one with any other seed (what final reruns are there to catch)."""

    def _code(self, ctx: Context, move: str, summary: str) -> CodeChange:
        change = super()._code(ctx, move, summary)
        if ctx.trace_step == 2:
            searched = {str(ctx.run_seed), str(ctx.step_seed)}
            change.code = change.code.replace(
                "SCORE = ", f"SCORE = 0.0 if os.environ.get('GOME_SEED') not in {searched!r} "
                "else ", 1)
        return change


def test_final_reruns_pick_the_best_mean_not_the_lucky_best(
    penguins: Path, tmp_path: Path
) -> None:
    out, copy = tmp_path / "run", tmp_path / "home" / "submission" / "submission.csv"
    reasoner = LuckyReasoner(load_task(penguins), plan=["ok", "better", "better"], cycle=False)
    config = make_config(penguins, out=out, reasoner="scripted", traces=1, steps=3,
                         time_limit="3m", final_reruns=2, submission_out=copy)
    result = run_config(config, reasoner=reasoner)
    _, steps, _ = _journal(out)
    search = [s for s in steps if s.kind != StepKind.RERUN]
    assert [s.decision for s in search] == [Decision.ACCEPTED] * 3
    steady, lucky = search[1], search[2]
    assert lucky.score is not None and steady.score is not None and lucky.score > steady.score
    reruns = {s.parent_id: [] for s in steps if s.kind == StepKind.RERUN}
    for s in steps:
        if s.kind == StepKind.RERUN:
            reruns[s.parent_id].append(s.score)
    assert set(reruns) == {lucky.id, steady.id}  # the top 2 by validation, 2 seeds each
    assert reruns[lucky.id] == [0.0, 0.0] and reruns[steady.id] == [steady.score] * 2
    final = result.final
    assert final is not None and final.step_id == steady.id  # best mean, not best single run
    assert final.rerun_scores == [steady.score] * 2
    assert (out / "final" / "main.py").read_text() == steady.code
    scores = json.loads((out / "final" / "scores.json").read_text())
    assert scores["step_id"] == steady.id and scores["mean_score"] == pytest.approx(steady.score)
    assert copy.read_text() == (out / "final" / "submission.csv").read_text()


class SlowDrafts(ScriptedReasoner):
    """Drafts take a while (as an LLM call does), so traces that start together overlap."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.drafted: list[tuple[int, list[str], str]] = []

    def draft(self, ctx: Context) -> CodeChange:
        time.sleep(0.5)
        change = super().draft(ctx)
        with self._lock:
            self.drafted.append((ctx.trace, list(ctx.siblings), change.approach))
        return change


def test_each_trace_is_told_what_its_siblings_drafted(penguins: Path, tmp_path: Path) -> None:
    reasoner = SlowDrafts(load_task(penguins), plan=["ok"], cycle=False)
    config = make_config(penguins, out=tmp_path / "run", reasoner="scripted", traces=3, steps=3,
                         time_limit="3m")
    run_config(config, reasoner=reasoner)
    assert sorted(t for t, _, _ in reasoner.drafted) == [0, 1, 2]
    for i, (_, siblings, _) in enumerate(reasoner.drafted):  # in the order they were drafted
        assert siblings == [a for _, _, a in reasoner.drafted[:i]]
    _, steps, _ = _journal(tmp_path / "run")
    assert sorted(s.approach for s in steps) == sorted(a for _, _, a in reasoner.drafted)

"""The gradient optimizer end to end, with the scripted reasoner and real sandbox runs.

Scripted solutions copy the sample submission and report a scripted score, so each run takes
seconds while going through the real loop: journal, sandbox runs, format checks, final selection.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gome.api import RunResult, make_config, run_config
from gome.journal.db import Journal
from gome.journal.models import Decision, StepKind, StepRecord
from gome.reasoning.scripted import ScriptedReasoner
from gome.task.loader import load_task
from gome.task.practice import make_practice


@pytest.fixture(scope="module")
def penguins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny practice competition (accuracy: higher is better)."""
    return make_practice("penguins", tmp_path_factory.mktemp("task") / "penguins", seed=0)


@pytest.fixture(scope="module")
def ames(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small regression practice competition (RMSLE: lower is better)."""
    return make_practice("ames", tmp_path_factory.mktemp("task") / "ames", seed=0, max_rows=300)


def _run(task_dir: Path, out: Path, reasoner: ScriptedReasoner | None = None,
         **options: object) -> RunResult:
    options.setdefault("time_limit", "120s")
    options.setdefault("debug_time_limit", "30s")
    options.setdefault("full_time_limit", "60s")
    options.setdefault("traces", 1)
    config = make_config(task_dir, out=out, reasoner="scripted", **options)
    return run_config(config, reasoner=reasoner)


def _steps(run_dir: Path) -> list[StepRecord]:
    journal = Journal.open(run_dir)
    try:
        return journal.steps()
    finally:
        journal.close()


def _plan(task_dir: Path, plan: list[str], **kw: object) -> ScriptedReasoner:
    return ScriptedReasoner(load_task(task_dir), plan=plan, cycle=False, **kw)


def test_scripted_run_writes_final_submission_and_journal(penguins: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = _run(penguins, out, traces=2, steps=8)
    assert result.status == "finished"
    assert result.steps == 8
    steps = _steps(out)
    assert all(s.status == "done" for s in steps)
    assert {s.trace for s in steps} == {0, 1}
    accepted = [s for s in steps if s.decision == Decision.ACCEPTED]
    best = max(accepted, key=lambda s: s.score or 0)
    final = result.final
    assert final is not None and final.step_id == best.id and final.score == best.score
    assert (out / "final" / "main.py").read_text() == best.code
    sample = (penguins / "public" / "sample_submission.csv").read_text()
    assert (out / "final" / "submission.csv").read_text() == sample
    assert json.loads((out / "final" / "scores.json").read_text())["score"] == best.score
    journal = Journal.open(out)
    run = journal.run()
    journal.close()
    assert run.status == "finished" and run.final is not None and run.time_used_s > 0
    # every step keeps its evidence: code, a diff against its base, the run outcome
    gradient = [s for s in steps if s.kind == StepKind.GRADIENT]
    assert gradient and all(s.gradient and s.selection and s.diff.startswith("---")
                            for s in gradient)
    assert all((Path(s.workspace) / "main.py").read_text() == s.code for s in steps)


@pytest.mark.parametrize("task_name", ["penguins", "ames"])
def test_accept_only_better_in_the_tasks_direction(
    task_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    task_dir = request.getfixturevalue(task_name)
    task = load_task(task_dir)
    reasoner = _plan(task_dir, ["ok", "better", "worse", "same", "better"])
    result = _run(task_dir, tmp_path / "run", reasoner, steps=5)
    steps = _steps(tmp_path / "run")
    decisions = [s.decision for s in steps]
    assert decisions == [Decision.ACCEPTED, Decision.ACCEPTED, Decision.REJECTED,
                         Decision.REJECTED, Decision.ACCEPTED]
    scores = [s.score for s in steps]
    assert all(s is not None for s in scores)
    if task.higher_is_better:
        assert scores[1] > scores[0] and scores[2] < scores[1] and scores[4] > scores[1]
    else:
        assert scores[1] < scores[0] and scores[2] > scores[1] and scores[4] < scores[1]
    assert steps[2].gain is not None and steps[2].gain < 0  # gain is signed by direction
    assert steps[4].gain is not None and steps[4].gain > 0
    assert result.final is not None and result.final.step_id == steps[4].id
    # each step is written from the trace's best code: the rejected step's base is step 1
    assert steps[3].base_id == steps[1].id and steps[4].base_id == steps[1].id


@pytest.mark.parametrize("task_name", ["penguins", "ames"])
def test_a_gain_within_the_fold_noise_is_rejected_unless_the_gate_is_off(
    task_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A better overall score whose folds disagree about the sign is a near tie, not a gain."""
    task_dir = request.getfixturevalue(task_name)
    plan = ["ok", "lucky", "better"]
    _run(task_dir, tmp_path / "gated", _plan(task_dir, plan), steps=3)
    steps = _steps(tmp_path / "gated")
    assert [s.decision for s in steps] == [Decision.ACCEPTED, Decision.REJECTED,
                                           Decision.ACCEPTED]
    assert steps[1].gain is not None and steps[1].gain > 0  # better overall, yet rejected
    assert "within the validation noise" in steps[1].reason
    assert steps[2].base_id == steps[0].id  # the trace kept its best
    _run(task_dir, tmp_path / "plain", _plan(task_dir, plan), steps=3, noise_gate=0)
    assert [s.decision for s in _steps(tmp_path / "plain")] == [Decision.ACCEPTED] * 3


def test_when_every_trace_converges_the_run_ends_early_with_its_final(
    penguins: Path, tmp_path: Path
) -> None:
    """A trace whose reasoner has no untried change left ends; when all have, the run ends
    with the budget unspent (here 10 minutes) instead of waiting it out."""
    out = tmp_path / "run"
    result = _run(penguins, out, _plan(penguins, ["ok", "better", "worse", "done"]),
                  traces=2, time_limit="10m")
    assert result.status == "finished"
    assert "every trace converged" in result.message
    steps = _steps(out)
    # three real steps per trace; the step that found nothing to try left no trace behind
    assert sorted((s.trace, s.index) for s in steps) == [(t, i) for t in (0, 1) for i in range(3)]
    assert all(s.decision != Decision.FAILED for s in steps)
    assert (out / "final" / "submission.csv").exists()


def test_history_holds_accepted_steps_and_failures_since_last_acceptance(
    penguins: Path, tmp_path: Path
) -> None:
    plan = ["ok", "crash", "better", "crash", "bad", "noscore", "worse"]
    reasoner = _plan(penguins, plan)
    _run(penguins, tmp_path / "run", reasoner, steps=len(plan), max_fix_attempts=0)
    steps = _steps(tmp_path / "run")
    ids = [s.id for s in steps]
    assert [s.decision for s in steps][:6] == [
        Decision.ACCEPTED, Decision.FAILED, Decision.ACCEPTED, Decision.FAILED,
        Decision.FAILED, Decision.FAILED]
    seen = {step: hist for trace, step, hist in reasoner.seen_history}
    # at step 6: accepted 0 and 2, then the failures 3, 4, 5; the failure at 1 is forgotten
    assert seen[6] == [ids[0], ids[2], ids[3], ids[4], ids[5]]
    assert seen[2] == [ids[0], ids[1]]
    assert "invalid submission" in steps[4].reason
    assert "score" in steps[5].reason


def test_no_momentum_drops_successes_from_history_and_memory(
    penguins: Path, tmp_path: Path
) -> None:
    plan = ["ok", "better", "crash", "better", "worse"]
    reasoner = _plan(penguins, plan)
    _run(penguins, tmp_path / "run", reasoner, steps=len(plan), momentum=False,
         max_fix_attempts=0)
    steps = _steps(tmp_path / "run")
    seen = {step: hist for _, step, hist in reasoner.seen_history}
    assert seen[3] == [steps[2].id]  # only the failure since the last acceptance
    assert seen[4] == []
    assert all(memory == [] for _, memory in reasoner.seen_memory)
    # the trace still improves from its best code
    assert steps[3].decision == Decision.ACCEPTED and steps[3].base_id == steps[1].id


def test_momentum_is_shared_across_traces(penguins: Path, tmp_path: Path) -> None:
    reasoner = _plan(penguins, ["ok", "better", "better", "better", "better"])
    _run(penguins, tmp_path / "run", reasoner, traces=2, steps=10)
    steps = _steps(tmp_path / "run")
    trace_of = {s.id: s.trace for s in steps}
    journal = Journal.open(tmp_path / "run")
    memory = journal.memory()
    journal.close()
    assert {m.trace for m in memory} == {0, 1}
    mem_trace = {m.id: m.trace for m in memory}
    for trace in (0, 1):
        shown = [m for t, ms in reasoner.seen_memory if t == trace for m in ms]
        assert any(m.trace != trace for m in shown), f"trace {trace} never saw the other's memory"
    used = [(s.trace, mem_trace[m]) for s in steps for m in s.memory_used]
    assert any(t != mt for t, mt in used)
    # the globally best entry is always shown
    best_before = []
    for _, ms in reasoner.seen_memory:
        if ms:
            best_before.append(max(m.score for m in ms))
    assert best_before
    assert all(m.step_id in trace_of for m in memory)


def test_debug_failure_is_fixed_and_review_veto_blocks_acceptance(
    penguins: Path, tmp_path: Path
) -> None:
    reasoner = _plan(penguins, ["ok", "debugbug", "leak"])
    _run(penguins, tmp_path / "run", reasoner, steps=3)
    steps = _steps(tmp_path / "run")
    assert steps[1].fix_attempts == 1 and steps[1].debug_outcome is not None
    assert steps[1].decision == Decision.ACCEPTED
    assert "GOME_SCRIPTED_DEBUG_BUG" not in (steps[1].code or "")
    assert steps[2].decision == Decision.VETOED and steps[2].review is not None
    assert steps[2].review.veto


def test_invalid_reasoner_output_fails_the_step_only(penguins: Path, tmp_path: Path) -> None:
    reasoner = _plan(penguins, ["ok", "invalid", "better"])
    result = _run(penguins, tmp_path / "run", reasoner, steps=3)
    steps = _steps(tmp_path / "run")
    assert [s.decision for s in steps] == [Decision.ACCEPTED, Decision.FAILED, Decision.ACCEPTED]
    assert "reasoner" in steps[1].reason
    assert result.status == "finished"


def test_all_steps_fail_ends_with_a_clear_message_and_no_final(
    penguins: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    result = _run(penguins, out, _plan(penguins, ["crash"]), steps=3, max_fix_attempts=1)
    assert result.status == "failed"
    assert result.final is not None and result.final.step_id is None
    assert result.final.submission is None
    assert "no step produced a valid" in result.message
    assert not (out / "final" / "submission.csv").exists()
    assert all(s.decision == Decision.FAILED for s in _steps(out))


def test_a_trace_that_fails_the_same_way_again_and_again_stops(
    penguins: Path, tmp_path: Path
) -> None:
    from gome.optim.steps import MAX_SAME_FAILURES

    out = tmp_path / "run"
    result = _run(penguins, out, _plan(penguins, ["crash"]), time_limit="10m",
                  max_fix_attempts=0)
    steps = _steps(out)
    assert len(steps) == MAX_SAME_FAILURES  # it stopped long before its 10 minutes
    assert result.status == "failed" and "no step produced a valid" in result.message


def test_budget_end_with_a_run_in_flight_still_yields_the_final(
    penguins: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    reasoner = _plan(penguins, ["ok", "better"], sleep_s=120.0, sleep_drafts=False)
    result = _run(penguins, out, reasoner, time_limit="8s", full_time_limit="300s")
    steps = _steps(out)
    assert steps[0].decision == Decision.ACCEPTED
    assert steps[-1].decision == Decision.ABORTED  # the sleeping run was stopped
    assert result.status == "finished"
    assert result.final is not None and result.final.step_id == steps[0].id
    assert (out / "final" / "submission.csv").is_file()


def test_reasoner_budget_lets_runs_in_flight_finish(penguins: Path, tmp_path: Path) -> None:
    reasoner = _plan(penguins, ["ok", "better", "better", "better"], exhaust_after=3)
    result = _run(penguins, tmp_path / "run", reasoner, steps=20)
    steps = _steps(tmp_path / "run")
    assert len(steps) == 3
    assert all(s.decision == Decision.ACCEPTED for s in steps)
    assert "scripted reasoner's budget" in result.message


def test_undirected_ablation_uses_improve(penguins: Path, tmp_path: Path) -> None:
    reasoner = _plan(penguins, ["ok", "better", "worse"])
    _run(penguins, tmp_path / "run", reasoner, steps=3, undirected=True)
    ops = {op for op, _, _ in reasoner.calls}
    assert "improve" in ops and "diagnose" not in ops and "select" not in ops
    kinds = [s.kind for s in _steps(tmp_path / "run")]
    assert kinds == [StepKind.DRAFT, StepKind.UNDIRECTED, StepKind.UNDIRECTED]


def test_merge_phase_adopts_other_traces_successes(penguins: Path, tmp_path: Path) -> None:
    reasoner = _plan(penguins, ["ok", "better", "better", "better", "better"])
    _run(penguins, tmp_path / "run", reasoner, traces=2, steps=8, merge=True, merge_at_frac=0.0)
    merges = [s for s in _steps(tmp_path / "run") if s.kind == StepKind.MERGE]
    assert 1 <= len(merges) <= 2  # at most once per trace
    for m in merges:
        assert m.selection is not None and "other traces" in m.selection.hypothesis.statement
        assert m.memory_used


def test_final_reruns_rerun_top_candidates_with_other_seeds(
    penguins: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    reasoner = _plan(penguins, ["ok", "better", "better"])
    result = _run(penguins, out, reasoner, steps=3, final_reruns=2, seed=5)
    steps = _steps(out)
    # every search step ran with the run's seed, i.e. was validated on the same folds
    search = [s for s in steps if s.kind != StepKind.RERUN]
    assert [s.outcome.scores["seed"] for s in search] == ["5"] * 3
    reruns = [s for s in steps if s.kind == StepKind.RERUN]
    assert len(reruns) == 4 and {s.outcome.scores["seed"] for s in reruns}.isdisjoint({"5"})
    # both candidates are re-run on the same two new seeds, so their means stay comparable
    assert len({s.seed for s in reruns}) == 2
    assert result.final is not None and len(result.final.rerun_scores) == 2
    scores = json.loads((out / "final" / "scores.json").read_text())
    assert "mean_score" in scores

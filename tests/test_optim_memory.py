"""Success memory ranking (momentum) and the run budget, on a real journal."""

from __future__ import annotations

from pathlib import Path

import pytest

from gome.errors import BudgetExhausted
from gome.journal.db import Journal
from gome.journal.models import Decision, RunRecord, StepKind, StepRecord
from gome.optim.budget import Budget
from gome.optim.memory import SuccessMemory, similarity
from gome.reasoning.types import Hypothesis, HypothesisScores, Selection

SCORES = HypothesisScores(alignment=5, impact=5, novelty=5, feasibility=5, risk_reward=5)


def _journal(tmp_path: Path) -> Journal:
    run = RunRecord(id="r", task_id="t", task_dir=".", metric="rmse", higher_is_better=False,
                    optimizer="gradient", reasoner="scripted", config={})
    return Journal.create(tmp_path / "run", run)


def _hyp(statement: str, component: str) -> Hypothesis:
    return Hypothesis(problem=component, statement=statement, component=component, scores=SCORES)


def _accept(memory: SuccessMemory, step_id: int, trace: int, score: float, gain: float,
            statement: str, component: str) -> None:
    step = StepRecord(id=step_id, trace=trace, index=1, kind=StepKind.GRADIENT, score=score,
                      gain=gain, decision=Decision.ACCEPTED,
                      selection=Selection(hypothesis=_hyp(statement, component)))
    memory.remember(step)


def test_ranking_prefers_similar_and_gainful_entries_and_always_shows_the_best(
    tmp_path: Path,
) -> None:
    journal = _journal(tmp_path)
    memory = SuccessMemory(journal, higher_is_better=False)
    _accept(memory, 1, 0, 0.30, 0.20, "log-transform the skewed target", "features")
    _accept(memory, 2, 1, 0.50, 0.01, "add 5-fold cross validation", "validation")
    _accept(memory, 3, 1, 0.45, 0.02, "raise the number of boosting rounds", "model")
    _accept(memory, 4, 0, 0.48, 0.01, "drop constant columns", "data")
    candidates = [_hyp("tune the boosting rounds and learning rate", "model")]
    shown = memory.ranked(candidates, trace_best=0.50, steps_now=5, k=1)
    assert [e.id for e in shown] == [1]  # the big gain wins
    shown = memory.ranked(candidates, trace_best=0.50, steps_now=5, k=2)
    assert [e.id for e in shown] == [1, 3]  # then the similar idea, not the unrelated ones
    # for a weaker trace, a similar idea (entry 2) beats a larger but unrelated gain (entry 3)
    shown = memory.ranked([_hyp("add cross validation folds", "validation")],
                          trace_best=0.60, steps_now=5, k=2)
    assert [e.id for e in shown] == [1, 2]
    # the global best is appended when it did not make the cut
    shown = memory.ranked([_hyp("raise the number of boosting rounds", "model")],
                          trace_best=0.46, steps_now=5, k=1)
    assert [e.id for e in shown] == [3, 1]
    # the memory is in the journal: a resumed run sees the same entries
    again = SuccessMemory(journal, higher_is_better=False)
    assert [e.id for e in again.entries()] == [1, 2, 3, 4]
    journal.close()


def test_no_momentum_shows_nothing(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    memory = SuccessMemory(journal, higher_is_better=True, enabled=False)
    _accept(memory, 1, 0, 0.9, 0.1, "use target encoding", "features")
    assert memory.ranked([_hyp("x", "model")], trace_best=0.8, steps_now=2) == []
    assert len(memory.entries()) == 1  # still recorded for the report
    journal.close()


def test_similarity_is_token_overlap() -> None:
    assert similarity("the boosting rounds", "boosting rounds") == 1.0
    assert similarity("boosting rounds", "raise the boosting rounds") == pytest.approx(2 / 3)
    assert similarity("target encoding", "more trees") == 0.0


def test_budget_counts_steps_and_carries_time_over_resumes() -> None:
    beats: list[float] = []
    budget = Budget(100.0, max_steps=3, time_used_s=40.0, steps_done=2,
                    heartbeat=beats.append, heartbeat_every_s=0.05)
    assert budget.elapsed() >= 40.0 and budget.time_left() <= 60.0
    assert budget.stage() == "ensemble"  # 2 of 3 steps used, though 40% of the time
    budget.start_step()
    with pytest.raises(BudgetExhausted, match="step limit"):
        budget.start_step()
    budget.close()
    assert beats and beats[-1] >= 40.0


def test_stage_follows_the_step_limit_when_it_binds_first() -> None:
    budget = Budget(3600.0, max_steps=20)
    stages = []
    for _ in range(20):
        stages.append(budget.stage())
        budget.start_step()
    budget.close()
    assert stages[0] == "draft" and "improve" in stages and stages[-1] == "ensemble"
    assert stages == sorted(stages, key=["draft", "improve", "ensemble"].index)


def test_budget_time_out_cancels_runs_and_reasoner_budget_does_not() -> None:
    budget = Budget(0.2, reasoner_exhausted=lambda: None)
    assert budget.cancel.wait(5.0), "the clock running out must cancel runs in flight"
    with pytest.raises(BudgetExhausted, match="time"):
        budget.start_step()
    budget.close()
    spent = Budget(100.0, reasoner_exhausted=lambda: "the LLM budget is spent")
    with pytest.raises(BudgetExhausted, match="LLM budget"):
        spent.start_step()
    assert not spent.cancel.is_set()
    spent.close()

"""What the prompts hold: the context parts, the focused and bounded history, a cacheable prefix."""

from __future__ import annotations

import json

import pytest
from fake_openai import FakeOpenAI, Reply

from gome.llm.settings import LLMSettings
from gome.reasoning.llm import LLMReasoner
from gome.reasoning.llm.context import (
    describe_data,
    focus_history,
    history_text,
    task_weight,
)
from gome.reasoning.types import (
    BestSolution,
    Context,
    HistoryEntry,
    Hypothesis,
    HypothesisScores,
    MemoryEntry,
)
from gome.sandbox.outcome import Outcome, RunStatus
from gome.task.loader import load_task
from gome.task.practice import make_practice

DIAGNOSIS = {"problems": [{"caption": "c", "statement": "s", "category": "model"}]}


def entry(i: int, accepted: bool, error: str | None = None) -> HistoryEntry:
    return HistoryEntry(step_id=i, index=i, kind="gradient", accepted=accepted,
                        decision="accepted" if accepted else "failed", hypothesis=f"change {i}",
                        component="model", gain=0.01 if accepted else None, error=error,
                        score=0.8 + i / 1000)


@pytest.fixture(scope="module")
def task(tmp_path_factory: pytest.TempPathFactory):
    return load_task(make_practice("penguins", tmp_path_factory.mktemp("p") / "p", max_rows=60))


def test_history_shows_accepted_steps_and_only_the_latest_failures() -> None:
    hist = [entry(0, True), entry(1, False, "old error"), entry(2, True),
            entry(3, False, "KeyError: 'sex'"), entry(4, False, "MemoryError")]
    kept = [h.index for h in focus_history(hist)]
    assert kept == [0, 2, 3, 4]
    text = history_text(hist, 5000)
    assert "KeyError" in text and "old error" not in text


def test_long_history_is_summarised_within_its_budget() -> None:
    hist = [entry(i, i % 2 == 0, "Traceback ...\nValueError: bad" if i == 49 else None)
            for i in range(50)]
    text = history_text(hist, 1500)
    assert len(text) <= 1500
    assert "Summary of steps 0-" in text and "accepted changes (model x" in text  # a digest
    assert "step 48" in text and "ValueError" in text  # the latest in full


def test_task_weight_decays_as_the_trace_learns() -> None:
    assert task_weight([]) == 1.0
    weights = [task_weight([entry(i, True) for i in range(n)]) for n in (0, 3, 6, 9)]
    assert weights == sorted(weights, reverse=True) and weights[-1] == 0.0


def test_data_listing_previews_each_file(task) -> None:
    text = describe_data(task.public_dir)
    assert "input/train.csv" in text and "input/test.csv" in text
    assert "rows x" in text and "bill_length_mm" in text
    assert "description.md" not in text


def test_prompts_share_a_cacheable_prefix_and_carry_the_parts(task) -> None:
    best = BestSolution(step_id=3, code="import pandas\nprint('best')\n", score=0.9,
                        outcome=Outcome(status=RunStatus.OK, wall_time_s=12.0,
                                        scores={"metric": "accuracy", "score": 0.9,
                                                "train_score": 0.99}))
    ctx = Context(task=task, best=best, history=[entry(1, True), entry(2, False, "ZeroDivision")],
                  siblings=["xgboost on raw features"], runtime="Python 3.11 with lightgbm 4",
                  time_left_s=1800, time_used_frac=0.8, stage="ensemble")
    hyp = Hypothesis(problem="c", statement="average three seeds", component="ensemble",
                     scores=HypothesisScores(alignment=7, impact=7, novelty=7, feasibility=7,
                                             risk_reward=7))
    memory = [MemoryEntry(id=11, trace=1, step_id=5, problem="p", hypothesis="add ratio feature",
                          component="features", score=0.91, gain=0.02)]

    def respond(body: dict) -> Reply:
        user = body["messages"][1]["content"]
        if "# Operator: implement" in user:
            return Reply(content="SUMMARY: seeds\n```python\nprint('two')\n```")
        if "# Operator: select" in user:
            return Reply(content='{"choice": 2, "memory_used": [11, 99]}')
        return Reply(content=json.dumps(DIAGNOSIS))

    with FakeOpenAI(responder=respond) as fake:
        reasoner = LLMReasoner(task, LLMSettings(model="openai/m", base_url=fake.base_url))
        reasoner.diagnose(ctx)
        sel = reasoner.select(ctx, [hyp, hyp.model_copy(update={"statement": "5 folds"})],
                              memory)
        reasoner.implement(ctx, sel)
        diag, select, impl = (r["messages"] for r in fake.requests)
    assert sel.hypothesis.statement == "5 folds" and sel.memory_used == [11]
    assert diag[0] == impl[0]  # one system message for every operator
    d, i = diag[1]["content"], impl[1]["content"]
    prefix = d[: d.index("# Operator")]
    assert i.startswith(prefix) and len(prefix) > 3000
    for part in ("Palmer Penguins", "accuracy (maximize", "input/train.csv",
                 "Python 3.11 with lightgbm 4", "GOME_DEBUG", "print('best')", "train_score",
                 "ZeroDivision", "minutes left", "Ensemble stage"):
        assert part in d, part
    assert "add ratio feature" in select[1]["content"] and "[id 11]" in select[1]["content"]
    assert "5 folds" in i and "add ratio feature" in i  # the memory the choice relied on


def test_draft_prompt_carries_the_sibling_traces_ideas(task) -> None:
    ctx = Context(task=task, siblings=["gradient boosting on raw features", "k-nearest neighbours"],
                  runtime="Python 3.11", time_left_s=900, stage="draft")
    with FakeOpenAI() as fake:
        fake.add(Reply(content="SUMMARY: forest\nAPPROACH: random forest\n"
                               "```python\nprint('draft')\n```"))
        reasoner = LLMReasoner(task, LLMSettings(model="openai/m", base_url=fake.base_url))
        change = reasoner.draft(ctx)
        user = fake.requests[0]["messages"][1]["content"]
    assert change.code == "print('draft')\n"
    assert "Other traces are trying these approaches" in user
    assert "- gradient boosting on raw features" in user and "- k-nearest neighbours" in user
    assert "clearly different from the other traces" in user

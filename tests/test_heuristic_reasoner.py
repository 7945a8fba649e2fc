"""The heuristic reasoner on real (small) competitions: its main.py files run and follow the
solution contract, and its operators give sensible, typed, deterministic results."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from test_heuristic_helpers import context_for, run_main, split_comp

from gome.errors import GomeError, InvalidOutput
from gome.reasoning.base import Reasoner
from gome.reasoning.heuristic import HeuristicReasoner, recover_spec
from gome.reasoning.types import (
    Context,
    Gradient,
    HistoryEntry,
    Hypothesis,
    MemoryEntry,
    Selection,
)
from gome.sandbox.outcome import Outcome, RunStatus
from gome.task.grading import check_submission, grade_submission
from gome.task.loader import load_task
from gome.task.practice import make_practice

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def comps(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("heuristic-comps")
    sizes = {"wa-churn": 800, "hpc-jobs": 800, "ames": 600, "penguins": None}
    return {n: load_task(make_practice(n, root / n, seed=0, max_rows=rows))
            for n, rows in sizes.items()}


@pytest.fixture(scope="module")
def drafted(comps, tmp_path_factory) -> dict:
    """A first draft of every competition (each by another approach), run in debug mode."""
    out = {}
    ws = tmp_path_factory.mktemp("heuristic-ws")
    for trace, (name, task) in enumerate(comps.items()):
        r = HeuristicReasoner(task)
        change = r.draft(Context(task=task, trace=trace))
        outcome = run_main(change.code, task, ws / name)
        out[name] = (r, change, outcome, ws / name)
    return out


def test_non_tabular_tasks_need_an_llm_reasoner(comps) -> None:
    task = comps["penguins"]
    for bad in (task.model_copy(update={"kind": "image"}),
                task.model_copy(update={"train_files": [task.public_dir / "images.zip"]})):
        with pytest.raises(GomeError, match="--reasoner llm"):
            HeuristicReasoner(bad)


def test_implements_the_reasoner_protocol(comps) -> None:
    r = HeuristicReasoner(comps["penguins"])
    assert isinstance(r, Reasoner)
    assert r.name == "heuristic"


@pytest.mark.parametrize("name", ["wa-churn", "hpc-jobs", "ames", "penguins"])
def test_draft_follows_the_solution_contract(drafted, comps, name) -> None:
    _, change, outcome, ws = drafted[name]
    task = comps[name]
    assert outcome.ok, outcome.stderr_tail
    assert "import gome" not in change.code and "from gome" not in change.code
    sub = ws / "submission" / "submission.csv"
    check = check_submission(sub, task)
    assert check.valid, check.reason
    graded = grade_submission(sub, task).score
    assert graded is not None and math.isfinite(graded)
    s = outcome.scores
    assert s["metric"] == recover_spec(change.code).metric
    assert math.isfinite(s["score"]) and len(s["folds"]) >= 2
    for key in ("train_score", "fit_time_s", "predict_time_s", "feature_importance", "profile"):
        assert key in s
    assert s["profile"]["n_train"] <= 2000  # debug subsample


def test_traces_draft_different_approaches(drafted, comps, tmp_path) -> None:
    task = comps["penguins"]
    r = HeuristicReasoner(task)
    siblings: list[str] = []
    for trace in range(5):
        change = r.draft(Context(task=task, trace=trace, siblings=siblings))
        assert not any(change.approach == s for s in siblings)
        siblings.append(change.approach)
    assert len({s.split(":")[0] for s in siblings}) == 5
    # small data: the first traces start from distinct families (boosting, linear, bagging)
    assert [s.split(":")[0] for s in siblings[:3]] == ["lightgbm", "linear", "random_forest"]
    ran = {recover_spec(d[1].code).models[0].kind for d in drafted.values()}
    assert ran == {"lightgbm", "linear", "random_forest", "hgb"}  # each ran in the contract test
    outcome = run_main(change.code, task, tmp_path / "xgb")  # the fifth: XGBoost
    assert recover_spec(change.code).models[0].kind == "xgboost"
    assert outcome.ok, outcome.stderr_tail
    # a trace told that its sibling drafted LightGBM starts elsewhere
    other = r.draft(Context(task=task, trace=0, siblings=[siblings[0]]))
    assert other.approach.split(":")[0] != "lightgbm"
    # with many rows the second trace starts at the other booster
    from gome.reasoning.heuristic.drafts import APPROACHES, choose_approach
    assert [APPROACHES[choose_approach(t, [], 50_000)][0] for t in range(2)] == [
        "lightgbm", "xgboost"]


def test_a_gradient_step_from_a_real_run(drafted, comps, tmp_path) -> None:
    r, change, outcome, _ = drafted["ames"]
    task = comps["ames"]
    ctx = context_for(task, change.code, outcome)
    gradient = r.diagnose(ctx)
    assert gradient.problems and not gradient.noisy
    assert all(p.evidence for p in gradient.problems)
    assert gradient.task_weight == pytest.approx(1.0)  # first step: the task weighs most
    hyps = r.propose(ctx, gradient)
    assert hyps
    captions = {p.caption for p in gradient.problems}
    for h in hyps:
        assert h.problem in captions and h.detail["mutation"] and h.detail["set"]
    sel = r.select(ctx, hyps, [])
    assert sel.hypothesis in hyps
    new = r.implement(ctx, sel)
    before, after = recover_spec(change.code), recover_spec(new.code)
    assert before != after
    for key, value in sel.hypothesis.detail["set"].items():
        assert after.model_dump(mode="json")[key] == value
    result = run_main(new.code, task, tmp_path / "step")
    assert result.ok, result.stderr_tail


def test_diagnosis_quotes_the_evidence_it_rests_on(drafted, comps) -> None:
    r, change, outcome, _ = drafted["wa-churn"]
    scores = dict(outcome.scores, train_score=0.99, score=0.80, folds=[0.70, 0.85, 0.86])
    bad = outcome.model_copy(update={"scores": scores, "wall_time_s": 500.0,
                                     "time_limit_s": 600.0})
    history = [HistoryEntry(step_id=i, index=i, kind="gradient", decision="rejected",
                            status="ok") for i in range(1, 5)]
    ctx = context_for(comps["wa-churn"], change.code, bad, history=history)
    by = {p.caption: p for p in r.diagnose(ctx).problems}
    assert "0.9900" in by["overfitting"].evidence[0] and "0.8000" in by["overfitting"].evidence[0]
    assert by["overfitting"].source == "feedback"
    assert "500s of a 600s limit" in by["run near its time limit"].evidence[0]
    assert "unstable folds" in by and "plateau" in by
    # total_charges is missing for new customers, but LightGBM routes NaN itself: no problem
    assert "missing values" not in by
    linear = recover_spec(change.code).patched(
        {"models": [{"kind": "linear", "params": {"C": 1.0}}], "missing": "impute"})
    ctx_lin = context_for(comps["wa-churn"], r._render(linear), bad, history=history)
    missing = {p.caption: p for p in r.diagnose(ctx_lin).problems}["missing values"]
    assert missing.source == "task" and any("total_charges" in e for e in missing.evidence)
    # later in a trace the feedback weighs more than the task
    assert r.diagnose(ctx).task_weight < 1.0


def test_same_seed_same_results_and_noise(drafted, comps) -> None:
    _, change, outcome, _ = drafted["hpc-jobs"]
    task = comps["hpc-jobs"]

    def one(reasoner: HeuristicReasoner, step_seed: int = 3):
        ctx = context_for(task, change.code, outcome, step_seed=step_seed)
        g = reasoner.diagnose(ctx)
        hs = reasoner.propose(ctx, g)
        sel = reasoner.select(ctx, hs, [])
        return g, hs, sel, reasoner.implement(ctx, sel).code, reasoner.improve(ctx).code

    assert one(HeuristicReasoner(task, seed=1)) == one(HeuristicReasoner(task, seed=1))
    clean = one(HeuristicReasoner(task))[0]
    noisy = one(HeuristicReasoner(task, noise=1.0))[0]
    assert noisy.noisy and not clean.noisy
    assert not {p.caption for p in noisy.problems} & {p.caption for p in clean.problems}
    half = HeuristicReasoner(task, noise=0.5)
    flags = [half.diagnose(context_for(task, change.code, outcome, step_seed=s)).noisy
             for s in range(40)]
    assert 8 <= sum(flags) <= 32


def test_momentum_and_stage_steer_the_selection(drafted, comps) -> None:
    r, change, outcome, _ = drafted["wa-churn"]
    task = comps["wa-churn"]
    ctx = context_for(task, change.code, outcome)
    hyps = r.propose(ctx, r.diagnose(ctx))
    plain = r.select(ctx, hyps, [])
    other = next(h for h in hyps if h is not plain.hypothesis)
    memory = [MemoryEntry(id=7, trace=1, step_id=3, problem=other.problem,
                          hypothesis=other.statement, component=other.component, score=0.85,
                          gain=0.01, detail=dict(other.detail)),
              MemoryEntry(id=8, trace=1, step_id=4, problem=other.problem,
                          hypothesis=other.statement, component=other.component, score=0.86,
                          gain=0.01, detail=dict(other.detail))]
    pushed = r.select(ctx, hyps, memory)
    assert pushed.hypothesis.detail["mutation"] == other.detail["mutation"]
    assert set(pushed.memory_used) == {7, 8}
    late = context_for(task, change.code, outcome, stage="ensemble", time_used_frac=0.8)
    late_sel = r.select(late, r.propose(late, r.diagnose(late)), [])
    assert late_sel.hypothesis.component in ("ensemble", "validation")


def test_fix_swaps_a_model_whose_package_is_missing(drafted, comps, tmp_path) -> None:
    r, change, _, _ = drafted["wa-churn"]
    task = comps["wa-churn"]
    assert "import lightgbm" in change.code
    fake = tmp_path / "site"
    fake.mkdir()
    (fake / "lightgbm.py").write_text("raise ModuleNotFoundError(\"No module named 'lightgbm'\")\n")
    env = {"PYTHONPATH": str(fake)}
    broken = run_main(change.code, task, tmp_path / "broken", env=env)
    assert broken.status == RunStatus.ERROR and "lightgbm" in (broken.traceback or "")
    ctx = Context(task=task, trace_step=1)
    fixed = r.fix(ctx, change.code, broken)
    assert "lightgbm" in fixed.summary
    assert "import lightgbm" not in fixed.code
    again = run_main(fixed.code, task, tmp_path / "fixed", env=env)
    assert again.ok, again.stderr_tail


def test_fix_repairs_a_model_that_rejects_many_categories(tmp_path) -> None:
    rng = np.random.default_rng(0)
    n = 900
    frame = pd.DataFrame({"x": rng.normal(size=n),
                          "shop": [f"s{i}" for i in rng.integers(0, 400, n)]})
    frame["y"] = (frame["x"] + rng.normal(size=n) > 0).astype(int)
    task = split_comp(tmp_path / "comp", frame, "y", "auc-roc")
    r = HeuristicReasoner(task)
    spec = recover_spec(r.draft(Context(task=task, trace=3)).code)  # HistGradientBoosting
    assert spec.models[0].kind == "hgb"
    code = r._render(spec.patched({"high_card_encoding": "native"}))
    broken = run_main(code, task, tmp_path / "broken")
    assert not broken.ok
    fixed = r.fix(Context(task=task), code, broken)
    again = run_main(fixed.code, task, tmp_path / "fixed")
    assert again.ok, again.stderr_tail


def test_fix_a_timeout_makes_the_run_cheaper(drafted, comps) -> None:
    r, change, _, _ = drafted["wa-churn"]
    timeout = Outcome(status=RunStatus.TIMEOUT, wall_time_s=600, time_limit_s=600)
    fixed = recover_spec(r.fix(Context(task=comps["wa-churn"]), change.code, timeout).code)
    before = recover_spec(change.code)
    assert fixed.validation.n_splits < before.validation.n_splits
    assert fixed.models[0].params["n_estimators"] < before.models[0].params["n_estimators"]


def test_code_it_did_not_write_is_refused(comps) -> None:
    task = comps["penguins"]
    r = HeuristicReasoner(task)
    foreign = "import pandas as pd\nprint('hello')\n"
    ok = Outcome(status=RunStatus.OK, scores={"metric": "accuracy", "score": 0.5})
    ctx = context_for(task, foreign, ok)
    with pytest.raises(InvalidOutput, match="not written by the heuristic reasoner"):
        r.improve(ctx)
    with pytest.raises(InvalidOutput):
        r.fix(ctx, foreign, Outcome(status=RunStatus.ERROR))
    hyp = Hypothesis.model_validate({"problem": "x", "statement": "y", "component": "model",
                                     "scores": {k: 5 for k in ("alignment", "impact", "novelty",
                                                               "feasibility", "risk_reward")}})
    with pytest.raises(InvalidOutput):
        r.implement(ctx, Selection(hypothesis=hyp))


def test_review_vetoes_a_column_that_leaks_the_target(tmp_path) -> None:
    rng = np.random.default_rng(1)
    n = 800
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.choice(["u", "v", "w"], n)})
    frame["y"] = (frame["a"] + rng.normal(size=n) > 0).astype(int)
    frame["refund_flag"] = frame["y"] * 10 + rng.normal(scale=0.1, size=n)  # target-derived
    task = split_comp(tmp_path / "comp", frame, "y", "auc-roc")
    r = HeuristicReasoner(task)
    draft = r.draft(Context(task=task))
    outcome = run_main(draft.code, task, tmp_path / "draft")
    assert outcome.ok, outcome.stderr_tail
    verdict = r.review(Context(task=task), draft.code, outcome)
    assert verdict.veto and "refund_flag" in verdict.reason
    ctx = context_for(task, draft.code, outcome)
    gradient = r.diagnose(ctx)
    assert gradient.problems[0].caption == "leakage"
    sel = r.select(ctx, r.propose(ctx, gradient), [])
    assert sel.hypothesis.detail["mutation"] == "drop_leaky"
    fixed = r.implement(ctx, sel)
    clean = run_main(fixed.code, task, tmp_path / "clean")
    assert clean.ok and not r.review(Context(task=task), fixed.code, clean).veto
    assert clean.score < outcome.score  # the honest score is lower than the leaky one


def test_an_unknown_gradient_still_gives_single_change_hypotheses(drafted, comps) -> None:
    r, change, outcome, _ = drafted["penguins"]
    ctx = context_for(comps["penguins"], change.code, outcome)
    hyps = r.propose(ctx, Gradient(problems=[]))
    assert hyps and all(h.detail.get("mutation") for h in hyps)


def test_change_summaries_name_what_changed_in_words_a_reader_follows(comps) -> None:
    """A step's summary says which settings moved and how, not a dump of the solution spec."""
    from gome.reasoning.heuristic.drafts import draft_spec
    from gome.reasoning.heuristic.reasoner import describe_patch
    from gome.reasoning.heuristic.spec import ModelSpec

    r = HeuristicReasoner(comps["ames"])
    old = draft_spec(r.profile, 0, higher_is_better=False)
    tuned = old.models[0].model_copy(update={"seeds": 3, "params": {
        **old.models[0].params, "learning_rate": 0.025}})
    new = old.model_copy(update={
        "models": [tuned, ModelSpec(kind="xgboost", params={"max_depth": 6})],
        "ensemble": "blend"})
    text = describe_patch(old, new)
    assert "models[0].seeds 1 -> 3" in text
    assert "models[0].params.learning_rate 0.05 -> 0.025" in text
    assert "added models[1]: xgboost" in text and '"single" -> "blend"' in text
    assert "{" not in text  # no raw spec dump
    assert describe_patch(old, old) == "no change"


def test_a_change_already_run_from_the_best_is_not_proposed_again(drafted, comps) -> None:
    """Steps run on the same folds and seed, so the same change from the same best would only
    repeat a known score; once every change was run from the best, the trace has converged."""
    from gome.errors import Converged
    from gome.reasoning.heuristic.mutations import MUTATIONS

    r, change, outcome, _ = drafted["penguins"]
    task = comps["penguins"]

    def lost(step_id: int, name: str) -> HistoryEntry:
        return HistoryEntry(step_id=step_id, index=step_id, kind="gradient", decision="rejected",
                            status="ok", detail={"mutation": name})

    def proposed(history: list[HistoryEntry]) -> set[str]:
        ctx = context_for(task, change.code, outcome, history=history)
        ctx.best = ctx.best.model_copy(update={"step_id": 10})
        return {h.detail["mutation"] for h in r.propose(ctx, r.diagnose(ctx))}

    first = proposed([])
    assert first
    tried = sorted(first)[0]
    again = proposed([lost(11, tried)])
    assert tried not in again and again
    # a change that lost from an earlier best is a new experiment from this one
    assert proposed([lost(5, tried)]) == first
    # a run that crashed is not a result: it may be tried again
    crashed = lost(11, tried).model_copy(update={"status": "error", "decision": "failed"})
    assert tried in proposed([crashed])
    with pytest.raises(Converged, match="every change the heuristic reasoner knows"):
        proposed([lost(11 + i, name) for i, name in enumerate(MUTATIONS)])

"""A synthetic but realistic run journal, for the report's tests, its benchmark and demos.

It writes through the real :class:`~gome.journal.db.Journal` API exactly what an optimizer
writes (drafts, gradient steps accepted / rejected / vetoed / failed, success memory, LLM
calls, a final selection; or a tree-search run with debug nodes), deterministic for a seed,
so that the report can be built and checked without running any solution.
"""

from __future__ import annotations

import difflib
import random
import time
from pathlib import Path

from gome.journal.db import Journal
from gome.journal.models import Decision, FinalResult, RunRecord, StepKind, StepRecord
from gome.llm.records import LLMCall
from gome.reasoning.types import (
    Gradient,
    Hypothesis,
    HypothesisScores,
    MemoryEntry,
    Problem,
    Review,
    Selection,
)
from gome.sandbox.outcome import Outcome, RunStatus

_BASE_CODE = """import json
import numpy as np
import pandas as pd
from sklearn.model_selection import KFold
from lightgbm import LGBMRegressor

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
y = train.pop("target")
FEATURES = [c for c in train.columns if c != "id"]
PARAMS = dict(n_estimators=200, learning_rate=0.1, num_leaves=31)
folds = KFold(n_splits=5, shuffle=True, random_state=0)
scores = []
for tr, va in folds.split(train):
    model = LGBMRegressor(**PARAMS)
    model.fit(train.iloc[tr][FEATURES], y.iloc[tr])
    pred = model.predict(train.iloc[va][FEATURES])
    scores.append(float(np.sqrt(np.mean((pred - y.iloc[va]) ** 2))))
model = LGBMRegressor(**PARAMS).fit(train[FEATURES], y)
pd.DataFrame({"id": test["id"], "target": model.predict(test[FEATURES])}).to_csv(
    "submission/submission.csv", index=False)
json.dump({"metric": "rmse", "score": float(np.mean(scores)), "folds": scores},
          open("scores.json", "w"))
"""

_PROBLEMS = [
    ("overfitting", "model", "Train RMSE is far below validation RMSE: the trees memorise noise.",
     ["train_score=0.21 valid=0.48", "gap grows with n_estimators"]),
    ("raw skewed target", "data", "The target is right-skewed; RMSE is dominated by a few rows.",
     ["target skew=3.4", "top 1% rows hold 20% of squared error"]),
    ("no date features", "features", "The timestamp column is dropped although sales are seasonal.",
     ["column 'date' unused", "weekly periodicity in residuals"]),
    ("slow training", "efficiency", "Each fold takes most of the time budget.",
     ["fit_time_s=212 of 600"]),
    ("leaky fold split", "validation", "Rows of one store fall in both train and valid folds.",
     ["store_id shared across folds"]),
]
_CHANGES = [
    ("PARAMS = dict(n_estimators=200, learning_rate=0.1, num_leaves=31)",
     "PARAMS = dict(n_estimators=600, learning_rate=0.03, num_leaves=31, min_child_samples=40)",
     "lower learning rate, more trees, larger leaves"),
    ('y = train.pop("target")', 'y = np.log1p(train.pop("target"))', "train on log1p(target)"),
    ('FEATURES = [c for c in train.columns if c != "id"]',
     'train["dow"] = pd.to_datetime(train["date"]).dt.dayofweek\n'
     'test["dow"] = pd.to_datetime(test["date"]).dt.dayofweek\n'
     'FEATURES = [c for c in train.columns if c not in ("id", "date")]', "add day-of-week"),
    ("folds = KFold(n_splits=5, shuffle=True, random_state=0)",
     "folds = KFold(n_splits=3, shuffle=True, random_state=0)", "3 folds to save time"),
    ("from sklearn.model_selection import KFold",
     "from sklearn.model_selection import GroupKFold as KFold", "group folds by store"),
]
_TRACEBACK = """Traceback (most recent call last):
  File "main.py", line 14, in <module>
    model.fit(train.iloc[tr][FEATURES], y.iloc[tr])
ValueError: could not convert string to float: '2023-01-04'
"""


def _diff(before: str, after: str, parent: int | None, step: int) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True),
        fromfile=f"step {parent}/main.py" if parent is not None else "/dev/null",
        tofile=f"step {step}/main.py",
    )
    return "".join(lines)


def _calls(rng: random.Random, operators: list[str], model: str) -> list[LLMCall]:
    out = []
    for op in operators:
        tin, tout = rng.randint(2000, 9000), rng.randint(200, 2500)
        out.append(LLMCall(operator=op, model=model, prompt=f"<{op} prompt>", reply="{}",
                           tokens_in=tin, tokens_out=tout, latency_s=rng.uniform(2, 30),
                           cost_usd=round(tin * 1.25e-6 + tout * 1e-5, 6)))
    return out


def _outcome(rng: random.Random, status: RunStatus, score: float | None, t: float) -> Outcome:
    stdout = "\n".join(f"[LightGBM] [Info] fold {i} done" for i in range(5))
    if status != RunStatus.OK:
        return Outcome(status=status, exit_code=1, wall_time_s=t, stdout_tail=stdout,
                       stderr_tail=_TRACEBACK, traceback=_TRACEBACK,
                       message="main.py raised ValueError")
    return Outcome(status=status, exit_code=0, wall_time_s=t, stdout_tail=stdout,
                   scores={"metric": "rmse", "score": score,
                           "folds": [round(score + rng.uniform(-0.02, 0.02), 4) for _ in range(5)],
                           "train_score": round(score * 0.6, 4)},
                   has_submission=True, message=f"ok, score {score:.4f}")


def build_sample_run(run_dir: Path, steps: int = 24, traces: int = 3, optimizer: str = "gradient",
                     seed: int = 0, finished: bool = True, hostile_text: str = "") -> Path:
    """Write a synthetic run of ``steps`` steps into ``run_dir`` and return ``run_dir``.

    ``hostile_text`` is planted in model-written fields (summary, hypothesis, log tail) to test
    that the report escapes untrusted text.
    """
    rng = random.Random(seed)
    model = "gpt-5-mini"
    config = {"traces": traces, "time_limit_s": 43200.0, "max_steps": steps, "seed": seed,
              "optimizer": optimizer, "reasoner": "llm",
              "llm": {"model": model, "max_cost_usd": 50.0, "operator_models": {}}}
    run = RunRecord(id=f"sample-{seed}", task_id="store-sales-demo", task_dir="/data/store-sales",
                    metric="rmse", higher_is_better=False, optimizer=optimizer, reasoner="llm",
                    config=config, created_at=time.time() - 3600)
    journal = Journal.create(Path(run_dir), run)
    clock = 0.0
    per_trace: dict[int, dict] = {}
    tree = optimizer == "tree"
    trace_count = 1 if tree else traces
    nodes: list[StepRecord] = []
    for n in range(steps):
        trace = n % trace_count if n >= trace_count else n
        first = trace not in per_trace
        st = per_trace.setdefault(trace, {"best": None, "code": _BASE_CODE, "id": None, "i": 0,
                                          "prev": None})
        clock += rng.uniform(30, 400) / max(1, trace_count)
        kind = StepKind.DRAFT if first else StepKind.GRADIENT
        # as the gradient optimizer records it: base = the trace's best, parent = previous step
        parent_id, prev_id = st["id"], st["prev"]
        parent_code = st["code"]
        if tree and nodes:
            # as tree search does it: a debug node repairs a failed node, an improvement
            # starts from a valid one
            failed = [s for s in nodes if s.decision == Decision.FAILED]
            valid = [s for s in nodes if s.valid] or nodes
            kind = (StepKind.DRAFT if n < 3 else StepKind.DEBUG if failed and rng.random() < 0.35
                    else StepKind.UNDIRECTED)
            if kind == StepKind.DRAFT:
                parent_id, prev_id, parent_code = None, None, ""
            else:
                parent = rng.choice(failed if kind == StepKind.DEBUG else valid)
                parent_id, parent_code = parent.id, parent.code or _BASE_CODE
            prev_id = parent_id
        src = parent_code or _BASE_CODE
        fits = [c for c in _CHANGES if c[0] in src] or _CHANGES
        pid, (old, new, what) = n % len(_PROBLEMS), fits[rng.randrange(len(fits))]
        caption, category, statement, evidence = _PROBLEMS[pid]
        code = (parent_code or _BASE_CODE).replace(old, new) + f"# step {n}\n"
        step = StepRecord(trace=trace, index=st["i"], kind=kind, parent_id=prev_id,
                          base_id=parent_id, elapsed_start_s=clock, seed=seed + n)
        step = journal.add_step(step)
        if kind == StepKind.GRADIENT:
            problems = [Problem(caption=c, statement=s, evidence=e, category=cat)
                        for c, cat, s, e in (_PROBLEMS[pid], _PROBLEMS[(pid + 1) % len(_PROBLEMS)])]
            step.gradient = Gradient(problems=problems, analysis=f"Main issue: {caption}.")
            step.hypotheses = [
                Hypothesis(problem=p.caption, statement=f"Fix {p.caption}: {what}",
                           component=p.category,
                           scores=HypothesisScores(alignment=rng.randint(4, 10),
                                                   impact=rng.randint(3, 10), novelty=5,
                                                   feasibility=rng.randint(5, 10),
                                                   risk_reward=6))
                for p in problems]
            mem = journal.memory()
            used = [m.id for m in mem[-2:]] if mem and rng.random() < 0.6 else []
            pick = max(step.hypotheses, key=lambda h: h.scores.weighted)
            step.selection = Selection(hypothesis=pick, memory_used=used,
                                       reason=f"Highest weighted score; '{pick.problem}' is the "
                                              "main gap in the evidence.")
            step.memory_used = used
        step.code = code
        step.summary = (f"{what} ({caption})" if kind != StepKind.DRAFT
                        else "LightGBM baseline with 5-fold CV") + hostile_text
        step.approach = "gradient-boosted trees on raw features" if kind == StepKind.DRAFT else ""
        step.diff = _diff(parent_code, code, parent_id, step.id)
        roll = rng.random()
        base = st["best"] if st["best"] is not None else 0.55 + rng.uniform(0, 0.05)
        wall = rng.uniform(20, 300)
        if roll < 0.18 and not first:
            step.outcome = _outcome(rng, RunStatus.ERROR, None, wall)
            step.outcome.stderr_tail += hostile_text
            step.decision, step.valid = Decision.FAILED, False
            step.reason = "the run raised ValueError; no score"
            step.fix_attempts = 2
            step.fixes = ["cast date column to datetime", "drop date from FEATURES"]
        else:
            score = round(base * (1 + rng.uniform(-0.06, 0.05)), 5) if not first else round(base, 5)
            step.outcome = _outcome(rng, RunStatus.OK, score, wall)
            step.score, step.valid = score, True
            if first or score < base:
                if rng.random() < 0.08 and not first:
                    step.decision = Decision.VETOED
                    step.review = Review(veto=True, reason="target leakage",
                                         concerns=["uses the target to build a feature"])
                    step.reason = "vetoed by review: target leakage"
                else:
                    step.decision = Decision.ACCEPTED
                    step.gain = None if first else round(base - score, 5)
                    step.reason = "valid and better" if not first else "first valid solution"
            else:
                step.decision = Decision.REJECTED
                step.reason = f"{score:.5f} is not better than {base:.5f}"
        calls = _calls(rng, ["draft"] if kind == StepKind.DRAFT else
                       ["diagnose", "propose", "select", "implement", "review"], model)
        step.cost_usd = round(sum(c.cost_usd for c in calls), 6)
        step.tokens_in = sum(c.tokens_in for c in calls)
        step.tokens_out = sum(c.tokens_out for c in calls)
        clock += wall
        step.elapsed_end_s = clock
        step.finished_at = run.created_at + clock
        step.status = "done"
        if not finished and n == steps - 1:
            step.status, step.decision, step.elapsed_end_s = "running", None, None
            step.outcome, step.score = None, None
        journal.save_step(step)
        journal.add_llm_calls(step.id, trace, calls)
        nodes.append(step)
        st["i"] += 1
        st["prev"] = step.id
        if step.decision == Decision.ACCEPTED:
            st.update(best=step.score, code=code, id=step.id)
            if kind == StepKind.DRAFT:  # the optimizer remembers drafts too, with no gain
                journal.add_memory(MemoryEntry(
                    id=0, trace=trace, step_id=step.id, problem="draft",
                    hypothesis=step.summary, component="draft", score=step.score, gain=None))
            elif step.selection:
                journal.add_memory(MemoryEntry(
                    id=0, trace=trace, step_id=step.id, problem=step.selection.hypothesis.problem,
                    hypothesis=step.selection.hypothesis.statement + hostile_text,
                    component=step.selection.hypothesis.component, score=step.score,
                    gain=step.gain))
        elif first:
            st["id"] = step.id
    if clock > config["time_limit_s"]:  # long samples: a budget they fit in
        config["time_limit_s"] = float(3600 * (int(clock // 3600) + 1))
        journal.update_run(config=config)
    if finished:
        done = [s for s in journal.steps() if s.decision == Decision.ACCEPTED]
        best = min(done, key=lambda s: s.score) if done else None
        final = FinalResult(step_id=best.id if best else None, trace=best.trace if best else None,
                            score=best.score if best else None,
                            main_py=best.code if best else None,
                            heldout_score=round(best.score * 1.03, 5) if best else None,
                            medal="bronze" if best else None, message="selected the best trace")
        journal.update_run(status="finished", finished_at=run.created_at + clock,
                           time_used_s=clock, final=final)
    else:
        journal.update_run(time_used_s=clock)
    journal.close()
    return Path(run_dir)

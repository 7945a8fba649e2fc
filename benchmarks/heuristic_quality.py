"""Quality of the heuristic reasoner on the practice competitions (held-out scores).

For each practice competition: gome (heuristic reasoner, 2 traces, a wall-time budget), its first
draft, a default LightGBM fitted on the same training data, and FLAML (AutoML) with the same
budget. Every submission is graded against the private answers with
``gome.task.grading.grade_submission``; the agent never sees them during its run.

    python benchmarks/heuristic_quality.py --budget 600 --out /tmp/hq [--comps wa-churn,ames]

gome and FLAML run side by side (same wall time, same shared machine) so that one competition
costs one budget of wall time. Results go to OUT/results.json and a markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

FLAML_METRICS = {
    "auc-roc": "roc_auc", "log-loss": "log_loss", "multi-class-log-loss": "log_loss",
    "rmse": "rmse", "rmsle": "rmse", "mae": "mae", "r2": "r2", "accuracy": "accuracy",
    "f1": "f1", "f1-macro": "macro_f1", "f1-micro": "micro_f1",
}


def _frames(task):
    """Train/test feature tables for the baselines (no id columns, text as categories)."""
    from gome.reasoning.heuristic.profile import build_profile, read_table

    profile = build_profile(task)
    train = pd.concat([read_table(p) for p in task.train_files], ignore_index=True)
    test = pd.concat([read_table(p) for p in task.test_files], ignore_index=True)
    target = profile.targets[0]
    train = train.dropna(subset=[target.column]).reset_index(drop=True)
    skip = set(task.id_columns) | {target.column} | set(target.outputs)
    cols = [c for c in train.columns if c in test.columns and c not in skip]
    X, T = train[cols].copy(), test[cols].copy()
    for c in cols:
        if not (pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c])):
            cats = pd.concat([X[c], T[c]]).astype(str).dropna().unique()
            X[c] = pd.Categorical(X[c].astype(str), categories=cats)
            T[c] = pd.Categorical(T[c].astype(str), categories=cats)
    return profile, target, train, test, X, T


def _write(task, test, target, pred, classes, path: Path) -> Path:
    sample = pd.read_csv(task.sample_submission)
    sub = sample.copy()
    ids = [c for c in task.id_columns if c in test.columns]
    frame = test[ids].copy()
    if target.kind == "multiclass":
        for j, c in enumerate(target.outputs):
            frame[c] = pred[:, list(classes).index(target.classes[j])]
    elif target.kind == "binary":
        frame[target.outputs[0]] = pred[:, list(classes).index(1)]
    elif target.kind == "label":
        frame[target.outputs[0]] = pred
    else:
        frame[target.outputs[0]] = pred
    sub = sample[ids].merge(frame, on=ids, how="left")[sample.columns]
    path.parent.mkdir(parents=True, exist_ok=True)
    sub.to_csv(path, index=False)
    return path


def _y(train, target):
    y = train[target.column]
    if target.kind == "binary":
        return (y == target.classes[1]).astype(int)
    return y


def default_lightgbm(task, out: Path) -> Path:
    """LightGBM with library defaults on all columns: what a user would try first."""
    import lightgbm as lgb

    _, target, train, test, X, T = _frames(task)
    y = _y(train, target)
    if target.kind == "regression":
        model = lgb.LGBMRegressor(verbose=-1, n_jobs=2, random_state=0).fit(X, y)
        pred = model.predict(T)
        if task.metric in ("rmsle", "mean-column-wise-rmsle"):
            pred = np.clip(pred, 0, None)
        return _write(task, test, target, pred, None, out)
    model = lgb.LGBMClassifier(verbose=-1, n_jobs=2, random_state=0).fit(X, y)
    if target.kind == "label":
        return _write(task, test, target, model.predict(T), None, out)
    return _write(task, test, target, model.predict_proba(T), model.classes_, out)


def flaml_run(task_dir: str, budget: float, out: str, seed: int) -> None:
    """FLAML AutoML with the same wall-time budget (run in its own process)."""
    from flaml import AutoML

    from gome.task.loader import load_task

    task = load_task(task_dir)
    _, target, train, test, X, T = _frames(task)
    y = _y(train, target)
    metric = FLAML_METRICS.get(task.metric, "auto")
    log = task.metric == "rmsle"
    automl = AutoML()
    automl.fit(X, np.log1p(y) if log else y,
               task="regression" if target.kind == "regression" else "classification",
               metric=metric, time_budget=budget, n_jobs=2, seed=seed, verbose=0)
    if target.kind == "regression":
        pred = automl.predict(T)
        pred = np.expm1(pred) if log else pred
        _write(task, test, target, np.clip(pred, 0, None) if log else pred, None, Path(out))
    elif target.kind == "label":
        _write(task, test, target, automl.predict(T), None, Path(out))
    else:
        _write(task, test, target, automl.predict_proba(T), automl.classes_, Path(out))


def grade(path: Path | None, task) -> float | None:
    from gome.errors import GomeError
    from gome.task.grading import grade_submission

    if path is None or not Path(path).exists():
        return None
    try:
        return grade_submission(Path(path), task).score
    except GomeError:
        return None


def run_competition(name: str, out: Path, budget: float, traces: int, seed: int,
                    flaml: bool, max_rows: int | None, final_reruns: int = 0,
                    build: Callable[[Path], object] | None = None) -> dict:
    """One row: gome, its first draft, default LightGBM (and FLAML) graded on the held-out.

    ``build(task_dir)`` writes the competition; by default the practice competition ``name``.
    """
    from gome.api import make_config, run_config
    from gome.journal.db import Journal
    from gome.journal.models import StepKind
    from gome.task.loader import load_task
    from gome.task.practice import make_practice

    base = out / name
    task_dir = base / "task"
    if not task_dir.exists():
        if build is None:
            make_practice(name, task_dir, seed=seed, max_rows=max_rows)
        else:
            build(task_dir)
    task = load_task(task_dir)
    row: dict = {"competition": name, "metric": task.metric,
                 "higher_is_better": task.higher_is_better}
    proc = None
    if flaml:
        proc = mp.get_context("spawn").Process(
            target=flaml_run, args=(str(task_dir), budget, str(base / "flaml.csv"), seed))
        proc.start()
    started = time.time()
    run_dir = base / f"run-{int(started)}"
    result = run_config(make_config(task_dir, reasoner="heuristic", time_limit=budget,
                                    traces=traces, seed=seed, out=run_dir,
                                    final_reruns=final_reruns))
    row["gome_wall_s"] = round(time.time() - started, 1)
    row["gome_final"] = grade(result.final and Path(result.final.submission), task)
    row["gome_validation"] = result.final.score if result.final else None
    journal = Journal.open(result.run_dir)
    try:
        steps = journal.steps(status="done")
    finally:
        journal.close()
    drafts = sorted((s for s in steps if s.kind == StepKind.DRAFT and s.valid),
                    key=lambda s: (s.trace, s.index))
    row["steps"] = len(steps)
    row["accepted"] = sum(1 for s in steps if s.decision and s.decision.value == "accepted")
    if drafts:
        row["first_draft"] = grade(Path(drafts[0].workspace) / "submission" / "submission.csv",
                                   task)
        row["first_draft_validation"] = drafts[0].score
    row["default_lightgbm"] = grade(default_lightgbm(task, base / "lgbm_default.csv"), task)
    if proc is not None:
        proc.join(timeout=budget + 300)
        if proc.is_alive():
            proc.kill()
        row["flaml"] = grade(base / "flaml.csv", task)
    return row


def _fmt(v) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.5g}"


def table(rows: list[dict]) -> str:
    lines = ["| competition | metric | gome final | first draft | default LightGBM | FLAML | "
             "steps (accepted) |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['competition']} | {r['metric']} ({'max' if r['higher_is_better'] else 'min'})"
            f" | {_fmt(r.get('gome_final'))} | {_fmt(r.get('first_draft'))} | "
            f"{_fmt(r.get('default_lightgbm'))} | {_fmt(r.get('flaml'))} | "
            f"{r.get('steps', 0)} ({r.get('accepted', 0)}) |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--comps", default="wa-churn,ames,hpc-jobs,diamonds,titanic,penguins")
    ap.add_argument("--budget", type=float, default=600.0, help="seconds per competition")
    ap.add_argument("--traces", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-rows", type=int, default=None)
    ap.add_argument("--no-flaml", action="store_true")
    ap.add_argument("--final-reruns", type=int, default=0,
                    help="gome's --final-reruns (top k re-run on other folds)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/gome-heuristic-quality"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = run_rows(args.out, args.comps.split(","), lambda name: run_competition(
        name, args.out, args.budget, args.traces, args.seed, not args.no_flaml, args.max_rows,
        args.final_reruns))
    print(table(rows))


def run_rows(out: Path, names: list[str], run_one: Callable[[str], dict]) -> list[dict]:
    """Run each competition not yet in OUT/results.json, saving after each one (a rerun resumes);
    a failure becomes a row with its traceback and the next competition goes on."""
    results_path = out / "results.json"
    rows = json.loads(results_path.read_text()) if results_path.exists() else []
    done = {r["competition"] for r in rows}
    for name in names:
        if name in done:
            continue
        try:
            row = run_one(name)
        except Exception:  # noqa: BLE001 - a benchmark row records the failure and goes on
            row = {"competition": name, "metric": "?", "higher_is_better": True,
                   "error": traceback.format_exc()[-2000:]}
        rows.append(row)
        results_path.write_text(json.dumps(rows, indent=2))
        print(table([row]).splitlines()[-1], flush=True)
    return rows

if __name__ == "__main__":
    main()

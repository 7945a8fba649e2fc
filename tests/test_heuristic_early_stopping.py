"""A booster that stops early on its validation fold must not be scored at the round chosen on
that fold: the best of many rounds on the same rows flatters the score (most where the signal is
weak), and the line search would then accept changes for that flattery. Each fold is scored at
the median best round of the other folds; scores.json keeps the flattering number beside it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_heuristic_helpers import run_main, split_comp

from gome.reasoning.heuristic import HeuristicReasoner
from gome.reasoning.heuristic.drafts import default_params, draft_spec
from gome.reasoning.heuristic.render import render
from gome.reasoning.heuristic.spec import ModelSpec


def _noise_task(root, seed: int):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=1500) for i in range(5)})
    frame["target"] = rng.normal(size=1500)  # nothing to learn
    return split_comp(root, frame, "target", "rmse")


def _code(task, kind: str, **update) -> str:
    reasoner = HeuristicReasoner(task)
    spec = draft_spec(reasoner.profile, 0, higher_is_better=False)
    spec = spec.model_copy(update={
        "models": [ModelSpec(kind=kind, params=default_params(kind, False))], **update})
    return render(spec, task_name=task.name, metric_key=reasoner.profile.metric_key)


@pytest.mark.parametrize("kind", ["lightgbm", "xgboost"])
def test_each_fold_is_scored_at_rounds_the_other_folds_chose(kind: str, tmp_path) -> None:
    for seed in range(2):
        task = _noise_task(tmp_path / f"noise{seed}", seed)
        code = _code(task, kind)
        assert "boosters scored at the median best round of the other folds" in code
        outcome = run_main(code, task, tmp_path / f"ws{seed}", debug=False)
        assert outcome.ok, outcome.stderr_tail
        s = outcome.scores
        (model,) = s["models"]
        assert model["score"] == pytest.approx(s["score"])
        # each fold's own best round minimises the squared error on its rows, so the number
        # scored there is the flattering one; the reported score is the other
        assert model["score_at_own_best_rounds"] < s["score"], (seed, model)


def test_without_early_stopping_there_is_nothing_to_cross_fit(tmp_path) -> None:
    task = _noise_task(tmp_path / "noise", 0)
    code = _code(task, "lightgbm", early_stopping=False)
    assert "boosters scored at" not in code
    outcome = run_main(code, task, tmp_path / "ws")
    assert outcome.ok, outcome.stderr_tail
    assert outcome.scores["models"][0]["score_at_own_best_rounds"] is None

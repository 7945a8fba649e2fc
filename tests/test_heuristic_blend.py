"""A blend's validation score must not flatter it: the weights that blend a fold's out-of-fold
predictions are fitted on the other folds, never on the rows they are scored on."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pandas as pd
import pytest
from test_heuristic_helpers import run_main, split_comp

from gome.reasoning.heuristic import HeuristicReasoner, recover_spec
from gome.reasoning.heuristic.drafts import default_params, draft_spec
from gome.reasoning.heuristic.render import render
from gome.reasoning.heuristic.spec import ModelSpec


def _regression_comp(root, n: int = 400):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                          "c": rng.choice(["x", "y", "z"], n)})
    frame["target"] = 3 * frame["a"] - frame["b"] + (frame["c"] == "x") + rng.normal(0, 0.5, n)
    return split_comp(root, frame, "target", "rmse")


def _blend_code(task) -> str:
    r = HeuristicReasoner(task)
    spec = draft_spec(r.profile, 0, higher_is_better=False)
    spec = spec.model_copy(update={"models": [
        spec.models[0], ModelSpec(kind="linear", params=default_params("linear", False))],
        "ensemble": "blend"})
    return render(spec, task_name=task.name, metric_key=r.profile.metric_key)


def _load_module(code: str, path):
    path.write_text(code)
    module_spec = importlib.util.spec_from_file_location("blend_main", path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules.pop("blend_main", None)
    module_spec.loader.exec_module(module)  # defines functions only; main() is not called
    return module


def test_each_fold_is_blended_with_weights_fitted_elsewhere(tmp_path) -> None:
    """Two models, each right on one fold and 10 off on the other: weights fitted on all rows
    split the difference (RMSE 5), but weights fitted on the other fold pick the model that is
    wrong on this one (RMSE 10). The honest score is the second."""
    task = _regression_comp(tmp_path / "comp")
    main = _load_module(_blend_code(task), tmp_path / "main.py")
    y = np.linspace(0.0, 1.0, 20)
    fold_a, fold_b = np.arange(10), np.arange(10, 20)
    folds = [(fold_b, fold_a), (fold_a, fold_b)]
    right_on_a = np.where(np.arange(20) < 10, y, y + 10)[:, None]
    right_on_b = np.where(np.arange(20) < 10, y + 10, y)[:, None]
    results = [{"oof": [right_on_a]}, {"oof": [right_on_b]}]
    truth = [y[:, None]]
    everywhere = main.blend_weights(results, truth, np.arange(20))
    blended = sum(w * r["oof"][0] for w, r in zip(everywhere, results, strict=True))
    assert main.evaluate(truth, [blended]) == pytest.approx(5.0, abs=0.5)
    oof, fold_weights = main.cross_fitted_blend(results, truth, folds)
    assert main.evaluate(truth, oof) == pytest.approx(10.0)
    assert fold_weights == [[0.0, 1.0], [1.0, 0.0]]  # fold A weighted on B, and B on A


def test_a_blend_reports_its_cross_fitted_score(tmp_path) -> None:
    task = _regression_comp(tmp_path / "comp")
    code = _blend_code(task)
    assert "the blend of each fold weighted on the other folds" in code
    outcome = run_main(code, task, tmp_path / "ws")
    assert outcome.ok, outcome.stderr_tail
    s = outcome.scores
    blend = s["blend"]
    assert len(blend["weights_fitted_on_other_folds"]) == len(s["folds"])
    assert all(sum(w) == pytest.approx(1.0, abs=1e-3)
               for w in blend["weights_fitted_on_other_folds"])
    # the in-sample number is reported beside the honest one, and it is the flattering one
    assert blend["score_with_weights_fitted_on_scored_rows"] <= s["score"] + 1e-9
    assert recover_spec(code).ensemble == "blend"


def test_a_holdout_blend_is_cross_fitted_between_two_halves(tmp_path) -> None:
    task = _regression_comp(tmp_path / "comp")
    spec = recover_spec(_blend_code(task))
    spec = spec.model_copy(update={"validation": spec.validation.model_copy(
        update={"scheme": "holdout"})})
    code = render(spec, task_name=task.name, metric_key="rmse")
    assert "the blend of each half weighted on the other half" in code
    outcome = run_main(code, task, tmp_path / "ws")
    assert outcome.ok, outcome.stderr_tail
    assert len(outcome.scores["blend"]["weights_fitted_on_other_folds"]) == 2

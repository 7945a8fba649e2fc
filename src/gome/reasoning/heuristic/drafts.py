"""First solutions: one approach per trace, so that parallel traces start from different points."""

from __future__ import annotations

from typing import Any

from gome.reasoning.heuristic.profile import DataProfile
from gome.reasoning.heuristic.spec import ModelKind, ModelSpec, SolutionSpec, ValidationSpec

LARGE_DATA_ROWS = 200_000
HUGE_DATA_ROWS = 1_000_000
SMALL_DATA_ROWS = 3_000


def default_params(kind: ModelKind, classify: bool) -> dict[str, Any]:
    """Sound defaults per model family (boosters rely on early stopping for the round count)."""
    if kind == "lightgbm":
        return {"n_estimators": 2000, "learning_rate": 0.05, "num_leaves": 31,
                "min_child_samples": 20, "subsample": 0.8, "subsample_freq": 1,
                "colsample_bytree": 0.8, "reg_lambda": 1.0}
    if kind == "xgboost":
        return {"n_estimators": 2000, "learning_rate": 0.05, "max_depth": 6,
                "min_child_weight": 1.0, "subsample": 0.8, "colsample_bytree": 0.8,
                "reg_lambda": 1.0}
    if kind == "hgb":
        return {"max_iter": 1000, "learning_rate": 0.06, "max_leaf_nodes": 31,
                "min_samples_leaf": 20, "l2_regularization": 0.0}
    if kind == "random_forest":
        return {"n_estimators": 300, "min_samples_leaf": 1,
                "max_features": "sqrt" if classify else 0.5}
    return {"C": 1.0} if classify else {"alpha": 1.0}


APPROACHES: list[tuple[str, ModelKind, dict[str, Any], str]] = [
    ("lightgbm", "lightgbm", {"cat_encoding": "native", "high_card_encoding": "native"},
     "LightGBM with native categorical features, early stopping, fold-averaged test predictions"),
    ("xgboost", "xgboost", {"cat_encoding": "native", "high_card_encoding": "target"},
     "XGBoost (hist) with native low-cardinality categories and out-of-fold target encoding "
     "for high-cardinality ones"),
    ("hgb", "hgb", {"cat_encoding": "native", "high_card_encoding": "frequency",
                    "missing_indicators": True},
     "scikit-learn HistGradientBoosting with frequency-encoded high-cardinality categories and "
     "missing-value indicators"),
    ("linear", "linear", {"cat_encoding": "native", "high_card_encoding": "frequency",
                          "missing": "impute", "missing_indicators": True},
     "regularised linear/logistic model on imputed, scaled numbers and one-hot categories"),
    ("random_forest", "random_forest",
     {"cat_encoding": "ordinal", "high_card_encoding": "frequency"},
     "random forest on ordinal-coded categories"),
]


SMALL_DATA_ORDER = ["lightgbm", "linear", "random_forest", "hgb", "xgboost"]
"""On small data the traces start from the most different families first (boosting, a linear
model, bagging): with few rows a low-variance model is often as good as a booster, and two
boosters (LightGBM, XGBoost) are nearly the same starting point for two traces."""


def choose_approach(trace: int, siblings: list[str], n_train: int | None = None) -> int:
    """Trace i starts at the i-th approach of the order, skipping approaches a sibling already
    drafted; the order puts distinct families first when the data is small."""
    names = [name for name, *_rest in APPROACHES]
    ranked = SMALL_DATA_ORDER if n_train is not None and n_train < SMALL_DATA_ROWS else names
    taken = {i for i, name in enumerate(names) if any(s.lower().startswith(name)
                                                      for s in siblings)}
    order = [names.index(ranked[(trace + k) % len(ranked)]) for k in range(len(ranked))]
    for i in order:
        if i not in taken:
            return i
    return order[0]


def draft_spec(profile: DataProfile, approach: int, higher_is_better: bool,
               metric_name: str | None = None) -> SolutionSpec:
    name, kind, settings, text = APPROACHES[approach]
    classify = profile.is_classification
    t0 = profile.targets[0]
    drop = [c.name for c in profile.columns if c.role in ("id", "constant", "group")]
    if profile.group_column:
        validation = ValidationSpec(scheme="group", group_column=profile.group_column)
    elif profile.n_train > LARGE_DATA_ROWS:
        validation = ValidationSpec(scheme="holdout", holdout_frac=0.2)
    else:  # small data: more folds give a steadier estimate and more rows to learn from
        validation = ValidationSpec(scheme="stratified" if classify else "kfold",
                                    n_splits=10 if profile.n_train < SMALL_DATA_ROWS else 5)
    log_target = (profile.metric_key in ("rmsle", "mcrmsle") and t0.kind == "regression"
                  and (profile.target_min or 0) >= 0)
    return SolutionSpec(
        approach=f"{name}: {text}",
        train_files=profile.train_files,
        test_files=profile.test_files,
        sample_submission=profile.sample_submission,
        id_columns=profile.id_columns,
        targets=profile.targets,
        metric=metric_name or profile.metric_key,
        higher_is_better=higher_is_better,
        drop_columns=drop,
        date_columns=[c.name for c in profile.by_role("date")],
        text_columns=[c.name for c in profile.by_role("text")],
        target_transform="log1p" if log_target else "none",
        models=[ModelSpec(kind=kind, params=default_params(kind, classify))],
        validation=validation,
        max_train_rows=HUGE_DATA_ROWS if profile.n_train > HUGE_DATA_ROWS else None,
        **settings,
    )

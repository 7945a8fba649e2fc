"""Render a SolutionSpec into a standalone, readable main.py (Jinja2 templates in templates/)."""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from gome.reasoning.heuristic.spec import (
    MARKER,
    SPEC_BEGIN,
    SPEC_END,
    SolutionSpec,
    spec_literal,
)

MODEL_NAMES = {
    "lightgbm": "LightGBM",
    "xgboost": "XGBoost",
    "hgb": "HistGradientBoosting",
    "linear": "a linear model",
    "random_forest": "a random forest",
}


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("gome.reasoning.heuristic", "templates"),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )


def validation_text(spec: SolutionSpec) -> str:
    v = spec.validation
    if v.scheme == "holdout":
        text, part = f"a {v.holdout_frac:.0%} hold-out split", ("half", "half")
    else:
        kind = {"kfold": "", "stratified": "stratified ", "group": f"grouped ({v.group_column}) "}
        text = f"{v.n_splits}-fold {kind[v.scheme]}cross-validation (out-of-fold predictions)"
        part = ("fold", "folds")
    boosters = spec.early_stopping and any(m.kind in ("lightgbm", "xgboost") for m in spec.models)
    if boosters and v.scheme != "holdout":  # main.py cross-fits the rounds
        text += ", boosters scored at the median best round of the other folds"
    if spec.ensemble == "blend" and len(spec.models) > 1:  # main.py cross-fits the weights
        text += f", the blend of each {part[0]} weighted on the other {part[1]}"
    return text


def render(spec: SolutionSpec, *, task_name: str, metric_key: str) -> str:
    """The whole main.py for ``spec``; ``recover_spec`` reads the spec back from it."""
    env = _env()
    metric_code = env.get_template("metric.py.j2").render(key=metric_key).strip() + "\n"
    models = " + ".join(MODEL_NAMES[m.kind] for m in spec.models)
    code = env.get_template("main.py.j2").render(
        title=f"{task_name}: {models}",
        task_name=task_name,
        spec=spec,
        spec_text=spec_literal(spec),
        spec_begin=SPEC_BEGIN,
        spec_end=SPEC_END,
        marker=MARKER,
        metric_key=metric_key,
        metric_code=metric_code,
        validation_text=validation_text(spec),
        uses={k: spec.uses(k) for k in MODEL_NAMES},
    )
    compile(code, "main.py", "exec")  # a template bug must never reach the sandbox
    return code

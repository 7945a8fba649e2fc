"""Can validation on a small practice competition rank simple candidates the way held-out does?

For many random 80/20 splits of a practice competition's labelled rows (train + private
answers), each candidate is cross-validated on the 80% (10 stratified folds, test predictions
averaged over the folds, as gome's solutions do) and scored on the 20%. It prints, per
candidate, the mean CV and held-out accuracy, the held-out difference from LightGBM as drafted
(in rows, with its standard error over splits), and the correlation between a candidate's CV gain
and its held-out gain over the splits: near zero means validation cannot tell these candidates
apart on this data.

    python benchmarks/small_data_candidates.py --comp titanic --splits 20

Classification competitions with a label target only (titanic, penguins).
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

warnings.filterwarnings("ignore")
FOLDS = 10


def labelled_rows(comp: str, root: Path) -> tuple[pd.DataFrame, np.ndarray]:
    from gome.task.loader import load_task
    from gome.task.practice import make_practice

    task = load_task(make_practice(comp, root / comp, seed=0))
    target = task.target_columns[0]
    train = pd.read_csv(task.train_files[0])
    test = pd.read_csv(task.test_files[0]).merge(pd.read_csv(task.answers), on=task.id_columns)
    frame = pd.concat([train, test], ignore_index=True).drop(columns=task.id_columns)
    y = pd.Categorical(frame[target]).codes
    X = frame.drop(columns=target)
    for c in X.columns:
        if not pd.api.types.is_numeric_dtype(X[c]):
            X[c] = X[c].astype("category")
    return X, np.asarray(y)


def cross_fit(make, X, y, T, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold probabilities on X and fold-averaged probabilities on T."""
    k = len(np.unique(y))
    oof, test = np.zeros((len(X), k)), np.zeros((len(T), k))
    for f, (a, b) in enumerate(StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(X, y)):
        model = make(seed + f, X.iloc[a], y[a], X.iloc[b], y[b])
        oof[b] = model.predict_proba(X.iloc[b])
        test += model.predict_proba(T) / FOLDS
    return oof, test


def lightgbm(**params):
    def make(seed, X, y, Xv, yv):
        base = dict(n_estimators=2000, learning_rate=0.05, num_leaves=31, min_child_samples=20,
                    subsample=0.8, subsample_freq=1, colsample_bytree=0.8, reg_lambda=1.0)
        m = lgb.LGBMClassifier(**{**base, **params}, verbose=-1, random_state=seed)
        m.fit(X, y, eval_set=[(Xv, yv)], callbacks=[lgb.early_stopping(100, verbose=False)])
        return m
    return make


def sklearn(kind: str):
    def make(seed, X, y, _Xv, _yv):
        nums = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
        cats = [c for c in X.columns if c not in nums]
        onehot = make_pipeline(SimpleImputer(strategy="most_frequent"),
                               OneHotEncoder(handle_unknown="ignore"))
        if kind == "logistic":
            prep = ColumnTransformer([("n", make_pipeline(SimpleImputer(), StandardScaler()), nums),
                                      ("c", onehot, cats)])
            est = LogisticRegression(C=1.0, max_iter=2000)
        else:
            prep = ColumnTransformer([("n", SimpleImputer(strategy="median"), nums),
                                      ("c", onehot, cats)])
            est = RandomForestClassifier(300, min_samples_leaf=3, random_state=seed, n_jobs=1)
        return make_pipeline(prep, est).fit(X, y)
    return make


CANDIDATES = {
    "lightgbm (draft)": lightgbm(),
    "lightgbm regularised": lightgbm(num_leaves=15, min_child_samples=40, reg_lambda=5.0),
    "logistic": sklearn("logistic"),
    "random forest": sklearn("forest"),
}
AVERAGES = {"lightgbm + logistic": ("lightgbm (draft)", "logistic"),
            "lightgbm + forest": ("lightgbm (draft)", "random forest")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--comp", default="titanic")
    ap.add_argument("--splits", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        X, y = labelled_rows(args.comp, Path(tmp))
    scores: dict[str, list[tuple[float, float]]] = {}
    n_test = 0
    for s in range(args.splits):
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=100 + s,
                                              stratify=y)
        Xtr, Xte = Xtr.reset_index(drop=True), Xte.reset_index(drop=True)
        n_test = len(yte)
        preds = {name: cross_fit(make, Xtr, ytr, Xte, s) for name, make in CANDIDATES.items()}
        for name, (a, b) in AVERAGES.items():
            preds[name] = ((preds[a][0] + preds[b][0]) / 2, (preds[a][1] + preds[b][1]) / 2)
        for name, (oof, test) in preds.items():
            scores.setdefault(name, []).append(
                (float((oof.argmax(1) == ytr).mean()), float((test.argmax(1) == yte).mean())))
    base = np.array(scores["lightgbm (draft)"])
    print(f"{args.comp}: {args.splits} splits, {n_test} held-out rows each")
    print("| candidate | CV | held-out | held-out − draft (rows) | corr(CV gain, held-out gain) |")
    print("|---|---|---|---|---|")
    for name, values in scores.items():
        v = np.array(values)
        d = (v[:, 1] - base[:, 1]) * n_test
        corr = (np.corrcoef(v[:, 0] - base[:, 0], d)[0, 1]
                if name != "lightgbm (draft)" and d.std() > 0 else float("nan"))
        print(f"| {name} | {v[:, 0].mean():.4f} | {v[:, 1].mean():.4f} | {d.mean():+.2f} ± "
              f"{d.std(ddof=1) / np.sqrt(len(d)):.2f} | {corr:+.2f} |")


if __name__ == "__main__":
    main()

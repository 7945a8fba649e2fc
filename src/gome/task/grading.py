"""Checking and grading submissions: the format check the agent may use, and the real grade.

``check_submission`` compares a submission with the *sample* submission only (columns, row
count, ids, values): it never opens the private answers, so the agent can call it during a run
without ever seeing a test score. ``grade_submission`` is for after the run: it scores against
the answers (rounded to 5 decimals, as MLE-bench does) and, where a leaderboard exists, places
the score against the medal thresholds.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel

from gome.errors import TaskError
from gome.task.model import Task

VALID_REASON = "the submission matches the sample submission's format"


class SubmissionCheck(BaseModel):
    """Result of the format-only check."""

    valid: bool
    reason: str
    n_rows: int = 0


class GradeReport(BaseModel):
    """A graded submission, with MLE-bench's report fields (``valid`` = ``valid_submission``)."""

    competition_id: str
    submission_path: str
    submission_exists: bool
    valid: bool
    reason: str
    score: float | None
    metric: str
    higher_is_better: bool
    n_teams: int | None = None
    gold_threshold: float | None = None
    silver_threshold: float | None = None
    bronze_threshold: float | None = None
    median_threshold: float | None = None
    gold_medal: bool = False
    silver_medal: bool = False
    bronze_medal: bool = False
    any_medal: bool = False
    above_median: bool = False
    medal: str | None = None

    def to_mlebench_dict(self) -> dict:
        """The same facts under MLE-bench's ``CompetitionReport.to_dict`` keys."""
        return {
            "competition_id": self.competition_id,
            "score": self.score,
            "gold_threshold": self.gold_threshold,
            "silver_threshold": self.silver_threshold,
            "bronze_threshold": self.bronze_threshold,
            "median_threshold": self.median_threshold,
            "any_medal": self.any_medal,
            "gold_medal": self.gold_medal,
            "silver_medal": self.silver_medal,
            "bronze_medal": self.bronze_medal,
            "above_median": self.above_median,
            "submission_exists": self.submission_exists,
            "valid_submission": self.valid,
            "is_lower_better": not self.higher_is_better,
            "submission_path": self.submission_path,
        }


def _read_csv(path: Path, id_columns: list[str]) -> pd.DataFrame:
    return pd.read_csv(path, dtype={c: str for c in id_columns})


def _read_submission(path: Path, task: Task) -> tuple[pd.DataFrame | None, str]:
    if not path.exists():
        return None, f"no submission at {path}: write the predictions to that CSV file."
    if path.is_dir():
        return None, f"{path} is a folder: the submission must be a CSV file."
    try:
        return _read_csv(path, task.id_columns), ""
    except pd.errors.EmptyDataError:
        return None, f"{path} is empty: write a header row and one row per test id."
    except Exception as err:  # noqa: BLE001 - every unreadable file is the same verdict
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return None, f"cannot read {path} as CSV ({first}): write a plain comma-separated file."


def _numeric_expected(task: Task, sample: pd.DataFrame, column: str) -> bool:
    from gome.task.metrics import get_metric

    if get_metric(task.metric).prediction in ("probability", "value"):
        return True
    values = sample[column].dropna()
    return len(values) > 0 and pd.api.types.is_numeric_dtype(values)


def _keys(frame: pd.DataFrame, ids: list[str]) -> list[tuple[str, ...]]:
    """Row ids as tuples of stripped strings (plain Python: the check runs after every step)."""
    columns = [[str(v).strip() for v in frame[c].tolist()] for c in ids]
    return list(zip(*columns, strict=True))


def _check_frame(sub: pd.DataFrame, sample: pd.DataFrame, task: Task) -> str:
    """Empty string when ``sub`` has the sample's format, else the first problem and its fix."""
    sub_cols = [str(c) for c in sub.columns]
    want = [str(c) for c in sample.columns]
    missing = [c for c in want if c not in sub_cols]
    if missing:
        return f"missing column(s) {missing}: the submission needs exactly the columns {want}."
    extra = [c for c in sub_cols if c not in want]
    if extra:
        return f"extra column(s) {extra}: keep only the sample submission's columns {want}."
    if len(sub) != len(sample):
        return (f"{len(sub)} rows but the sample submission has {len(sample)}: write one row "
                "per test id.")
    ids = list(task.id_columns)
    if ids:
        sub_keys, sample_keys = _keys(sub, ids), set(_keys(sample, ids))
        seen: set[tuple[str, ...]] = set()
        for key in sub_keys:
            if key in seen:
                return f"the id {list(key)} appears more than once: write each test id once."
            seen.add(key)
        unknown = [key for key in sub_keys if key not in sample_keys]
        if unknown:
            return (f"{len(unknown)} id(s) differ from the sample submission's (e.g. "
                    f"{list(unknown[0])}): use the ids of the test set / sample submission.")
    for c in task.target_columns:
        col = sub[c]
        if col.isna().any():
            n = int(col.isna().sum())
            return f"{n} missing (NaN) value(s) in column {c!r}: predict every row."
        if _numeric_expected(task, sample, c):
            values = pd.to_numeric(col, errors="coerce")
            if values.isna().any():
                bad = col[values.isna()].iloc[0]
                return f"column {c!r} must hold numbers but has {bad!r}: write numeric predictions."
            if not np.isfinite(values.to_numpy(dtype=float)).all():
                return f"column {c!r} holds infinite values: write finite numbers."
    return ""


def _read_answers(path: Path, task: Task) -> pd.DataFrame:
    from gome.task.discovery import read_table

    try:
        if path.name.lower().endswith(".csv"):
            answers = pd.read_csv(path, dtype={c: str for c in task.id_columns})
        else:
            answers = read_table(path)
    except Exception as err:  # noqa: BLE001
        raise TaskError(f"cannot read the answers {path} ({err}): fix the private folder.") \
            from err
    missing = [c for c in task.id_columns if c not in answers.columns]
    if missing:
        raise TaskError(
            f"the answers {path} lack the id column(s) {missing}: they must share the sample "
            "submission's id columns."
        )
    return answers


def check_submission(path: Path, task: Task) -> SubmissionCheck:
    """Format check against the sample submission only; never reads the private answers."""
    path = Path(path)
    sub, problem = _read_submission(path, task)
    if sub is None:
        return SubmissionCheck(valid=False, reason=problem, n_rows=0)
    try:
        sample = _read_csv(task.sample_submission, task.id_columns)
    except Exception as err:  # noqa: BLE001
        raise TaskError(f"cannot read the sample submission {task.sample_submission} ({err}): "
                        "fix the competition folder.") from err
    problem = _check_frame(sub, sample, task)
    if problem:
        return SubmissionCheck(valid=False, reason=problem, n_rows=len(sub))
    return SubmissionCheck(valid=True, reason=VALID_REASON, n_rows=len(sub))


def grade_submission(path: Path, task: Task) -> GradeReport:
    """Score ``path`` against the task's answers and place it on the leaderboard, if any.

    Raises :class:`TaskError` when the task has no answers (a public-only folder); an invalid
    submission is not an error but a report with ``valid=False`` and the reason.
    """
    from gome.task.medals import rank_score, read_leaderboard, thresholds
    from gome.task.metrics import MetricError, get_metric

    path = Path(path)
    if task.answers is None or not Path(task.answers).is_file():
        raise TaskError(
            f"{task.id} has no private answers (looked in {task.private_dir or task.root}): "
            "grade against a folder with private/answers.csv, or use --validate-only."
        )
    report = GradeReport(
        competition_id=task.id,
        submission_path=str(path),
        submission_exists=path.is_file(),
        valid=False,
        reason="",
        score=None,
        metric=task.metric,
        higher_is_better=task.higher_is_better,
    )
    check = check_submission(path, task)
    score: float | None = None
    if not check.valid:
        report.reason = check.reason
    else:
        sub = _read_csv(path, task.id_columns)
        answers = _read_answers(Path(task.answers), task)
        try:
            raw = get_metric(task.metric).score(answers, sub, task.id_columns,
                                                task.target_columns)
        except MetricError as err:
            report.reason = str(err)
        except (KeyError, ValueError) as err:
            raise TaskError(
                f"cannot score against {task.answers} ({type(err).__name__}: {err}): the "
                "answers need the id column(s) and the target column(s) or one label column."
            ) from err
        else:
            if math.isnan(raw):
                report.reason = f"the metric {task.metric} is undefined for this submission."
            else:
                score = round(raw, 5)
                report.valid = True
                report.reason = VALID_REASON
    report.score = score

    if task.leaderboard is not None:
        th = thresholds(read_leaderboard(Path(task.leaderboard)), task.higher_is_better)
        result = rank_score(score, th)
        report.n_teams = th.n_teams
        report.gold_threshold = th.gold
        report.silver_threshold = th.silver
        report.bronze_threshold = th.bronze
        report.median_threshold = th.median
        report.gold_medal = result.gold_medal
        report.silver_medal = result.silver_medal
        report.bronze_medal = result.bronze_medal
        report.any_medal = result.any_medal
        report.above_median = result.above_median
        report.medal = result.medal
    return report

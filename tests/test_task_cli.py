"""`gome tasks` and `gome grade` as a user runs them: subprocesses, exit codes, messages."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest

GOME = shutil.which("gome")
BASE = [GOME] if GOME else [sys.executable, "-c", "from gome.cli.app import main; main()"]


def gome(*args, cwd=None):
    return subprocess.run([*BASE, *map(str, args)], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


@pytest.fixture(scope="module")
def comp(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "titanic"
    result = gome("tasks", "make", "titanic", "--out", out, "--seed", "1", "--max-rows", "150")
    assert result.returncode == 0, result.stderr
    assert "wrote titanic" in result.stdout
    return out


def test_tasks_list_shows_every_practice_competition():
    result = gome("tasks", "list")
    assert result.returncode == 0
    for name in ("wa-churn", "ames", "hpc-jobs", "diamonds", "titanic", "penguins"):
        assert name in result.stdout


def test_tasks_metrics_is_a_readable_table():
    result = gome("tasks", "metrics")
    assert result.returncode == 0
    rows = result.stdout.splitlines()
    assert any(r.startswith("quadratic-weighted-kappa") for r in rows)
    # direction and description each start in one column on every row
    directions = {r.index("higher is better" if "higher is" in r else "lower is better")
                  for r in rows}
    descriptions = {len(r) - len(r[r.index("is better") + 9:].lstrip()) for r in rows}
    assert len(directions) == 1 and len(descriptions) == 1, result.stdout


def test_tasks_make_writes_mlebench_layout(comp):
    assert (comp / "public" / "train.csv").is_file()
    assert (comp / "public" / "test.csv").is_file()
    assert (comp / "public" / "sample_submission.csv").is_file()
    assert (comp / "public" / "description.md").is_file()
    assert (comp / "private" / "answers.csv").is_file()
    assert len(pd.read_csv(comp / "public" / "test.csv")) == 30


def test_tasks_show_reports_what_the_loader_found(comp):
    result = gome("tasks", "show", comp)
    assert result.returncode == 0
    assert "accuracy (maximize)" in result.stdout
    assert "survived" in result.stdout
    data = json.loads(gome("tasks", "show", comp, "--json").stdout)
    assert data["metric"] == "accuracy" and data["target_columns"] == ["survived"]


def test_tasks_show_a_folder_with_no_known_metric_shows_the_rest(comp, tmp_path):
    plain = tmp_path / "plain"
    shutil.copytree(comp, plain)
    (plain / "gome-task.yaml").unlink(missing_ok=True)
    result = gome("tasks", "show", plain)
    assert result.returncode == 0, result.stderr
    assert "unknown: pass --metric NAME" in result.stdout
    assert "survived" in result.stdout and "train.csv" in result.stdout
    # running it still stops at once, with the same fix named
    run = gome("run", plain, "--steps", "1")
    assert run.returncode == 2 and "no metric known for plain: pass --metric" in run.stderr


def test_grade_valid_submission_json(comp, tmp_path):
    sub = tmp_path / "sub.csv"
    pd.read_csv(comp / "private" / "answers.csv").to_csv(sub, index=False)
    result = gome("grade", sub, "--task", comp, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["valid"] and report["score"] == 1.0 and report["competition_id"] == "titanic"


def test_grade_invalid_submission_exits_non_zero(comp, tmp_path):
    sub = tmp_path / "sub.csv"
    pd.read_csv(comp / "public" / "sample_submission.csv").iloc[:5].to_csv(sub, index=False)
    result = gome("grade", sub, "--task", comp)
    assert result.returncode == 1
    assert "invalid" in result.stdout and "rows" in result.stdout
    assert "Traceback" not in result.stderr


def test_validate_only_gives_no_score(comp):
    result = gome("grade", comp / "public" / "sample_submission.csv", "--task", comp,
                  "--validate-only", "--json")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["valid"] and "score" not in data
    bad = gome("grade", comp / "public" / "train.csv", "--task", comp, "--validate-only")
    assert bad.returncode == 1 and "extra column" in bad.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tasks", "make", "nope", "--out", "{tmp}/x"), "unknown practice competition"),
        (("tasks", "show", "{tmp}/missing"), "does not exist"),
        (("tasks", "show", "{tmp}"), "is empty"),
        (("grade", "{tmp}/s.csv", "--task", "{comp}", "--metric", "bleu"), "unknown metric"),
    ],
)
def test_bad_input_is_one_line_without_traceback(args, message, comp, tmp_path):
    result = gome(*[a.format(tmp=tmp_path, comp=comp) for a in args])
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr

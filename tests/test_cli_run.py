"""`gome run` / `gome resume` as a user calls them: exit codes, summary, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gome.task.practice import make_practice

GOME = [sys.executable, "-m", "gome.cli.app"]


@pytest.fixture(scope="module")
def penguins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_practice("penguins", tmp_path_factory.mktemp("task") / "penguins", seed=0)


def _gome(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GOME, *args], capture_output=True, text=True, timeout=timeout)


def _one_line_error(res: subprocess.CompletedProcess[str], *words: str) -> None:
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    lines = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("gome:"), res.stderr
    for w in words:
        assert w in lines[0], lines[0]


def test_run_prints_summary_and_copies_submission(penguins: Path, tmp_path: Path) -> None:
    out, copy = tmp_path / "run", tmp_path / "home" / "submission" / "submission.csv"
    res = _gome("run", str(penguins), "--reasoner", "scripted", "--traces", "2", "--steps", "5",
                "--time-limit", "2m", "--out", str(out), "--submission-out", str(copy))
    assert res.returncode == 0, res.stderr
    assert "doing" in res.stderr and "time left" in res.stderr  # the live view was drawn
    assert "finished" in res.stdout and "validation score" in res.stdout
    assert str(out / "final" / "submission.csv") in res.stdout.replace("\n", "")
    assert copy.read_text() == (out / "final" / "submission.csv").read_text()
    # the run cannot be started twice in the same folder, nor resumed once finished
    _one_line_error(_gome("run", str(penguins), "--reasoner", "scripted", "--out", str(out),
                          "--no-live"), "already holds a gome run")
    _one_line_error(_gome("resume", str(out), "--no-live"), "already finished")


def test_run_rejects_bad_input_in_one_sentence(penguins: Path, tmp_path: Path) -> None:
    _one_line_error(_gome("run", str(tmp_path / "nope"), "--no-live"), "does not exist")
    _one_line_error(_gome("run", str(penguins), "--time-limit", "soon", "--no-live",
                          "--out", str(tmp_path / "a")), "soon")
    _one_line_error(_gome("run", str(penguins), "--reasoner", "oracle", "--no-live",
                          "--out", str(tmp_path / "b")), "unknown reasoner")
    _one_line_error(_gome("resume", str(tmp_path), "--no-live"), "not a gome run folder")
    _one_line_error(_gome("run", str(penguins), "--metric", "nosuch", "--no-live",
                          "--out", str(tmp_path / "c")), "unknown metric")
    for option, value, field in (("--steps", "0", "max_steps"),
                                 ("--final-reruns", "-1", "final_reruns"),
                                 ("--slots", "0", "slots")):
        _one_line_error(_gome("run", str(penguins), option, value, "--no-live",
                              "--out", str(tmp_path / "b")), field)
    typo = _gome("run", str(penguins), "--metrc", "accuracy", "--no-live")
    assert typo.returncode == 2 and "Traceback" not in typo.stderr
    assert "No such option: --metrc" in typo.stderr
    assert not (tmp_path / "b").exists(), "a rejected run must not leave a run folder"


def test_run_where_every_step_fails_exits_nonzero(penguins: Path, tmp_path: Path) -> None:
    copy = tmp_path / "home" / "submission" / "submission.csv"
    res = _gome("run", str(penguins), "--reasoner", "scripted:gome.reasoning.scripted:all_fail",
                "--traces", "1", "--steps", "2", "--out", str(tmp_path / "run"), "--no-live",
                "--submission-out", str(copy))
    assert res.returncode == 1
    assert "no step produced a valid" in res.stdout.replace("\n", " ")
    rows = [ln.split(maxsplit=1) for ln in res.stdout.splitlines() if ln.strip()]
    assert not any(row[0] == "submission" for row in rows)  # the summary names no file
    assert not copy.exists() and not (tmp_path / "run" / "final").exists()
    assert "Traceback" not in res.stderr


def test_a_run_started_with_relative_paths_resumes_from_another_folder(
    penguins: Path, tmp_path: Path
) -> None:
    import shutil

    from gome.journal.db import Journal

    here = tmp_path / "here"
    shutil.copytree(penguins, here / "comp")
    res = subprocess.run([*GOME, "run", "comp", "--reasoner", "scripted", "--traces", "1",
                          "--steps", "1", "--out", "run", "--no-live"], cwd=here,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    journal = Journal.open(here / "run")
    config = journal.run().config
    assert config["task_dir"] == str(here / "comp") and config["out_dir"] == str(here / "run")
    journal.update_run(status="running")  # as a run killed before its end would be
    journal.close()
    res = subprocess.run([*GOME, "resume", str(here / "run"), "--no-live"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    journal = Journal.open(here / "run")
    journal.update_run(status="running")
    journal.close()
    shutil.rmtree(here / "comp")
    _one_line_error(_gome("resume", str(here / "run"), "--no-live"),
                    "competition folder of this run", str(here / "comp"))


def test_demo_grades_final_and_first_draft_against_private_answers(tmp_path: Path) -> None:
    from gome.optim.demo import run_demo

    demo = run_demo(tmp_path / "demo", time_limit="2m", traces=1, task="penguins",
                    max_rows=None, reasoner="scripted", steps=3)
    assert demo.run.status == "finished"
    assert demo.heldout_final is not None and demo.heldout_first_draft is not None
    assert demo.run.final is not None and demo.run.final.heldout_score == demo.heldout_final
    assert "first draft" in demo.line() and demo.metric in demo.line()
    # a second demo in the same folder reuses the task and starts a new run beside the first
    again = run_demo(tmp_path / "demo", time_limit="2m", traces=1, task="penguins",
                     reasoner="scripted", steps=1)
    assert again.run.run_dir != demo.run.run_dir


def test_tree_options_reach_the_run_and_are_checked(penguins: Path, tmp_path: Path) -> None:
    from gome.journal.db import Journal

    out = tmp_path / "tree"
    res = _gome("run", str(penguins), "--optimizer", "tree", "--reasoner", "scripted",
                "--steps", "3", "--num-drafts", "2", "--debug-prob", "0", "--no-live",
                "--out", str(out))
    assert res.returncode == 0, res.stderr
    journal = Journal.open(out)
    assert journal.run().config["tree"] == {"num_drafts": 2, "debug_prob": 0.0,
                                            "max_debug_depth": 3}
    kinds = [s.kind.value for s in journal.steps()]
    assert kinds[:2] == ["draft", "draft"] and "draft" not in kinds[2:]
    _one_line_error(_gome("run", str(penguins), "--optimizer", "tree", "--debug-prob", "3",
                          "--no-live", "--out", str(tmp_path / "bad")), "debug_prob")

"""`gome bench` on the local process pool: real gome runs, grading, resume, dying jobs, report."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gome.errors import ConfigError
from gome.scale.bench import BenchOptions, run_bench
from gome.scale.jobdb import BenchSettings, JobDB, JobStatus
from gome.scale.mlebench_splits import load_split
from gome.scale.report import build_report
from gome.scale.suite import resolve_suite

TINY_HEURISTIC = {"reasoner": "heuristic", "time_limit_s": 90.0, "max_steps": 1, "traces": 1,
                  "slots": 1}
SLOW_SCRIPTED = ["--reasoner", "scripted:gome.reasoning.scripted:slow", "--steps", "4",
                 "--traces", "1", "--time-limit", "120s"]


def _gome(*args: str, **kw) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "gome.cli.app", *args], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)


def _poll(predicate, timeout_s: float = 120.0) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _jobs(bench: Path):
    db = JobDB(bench)
    try:
        return db.jobs()
    finally:
        db.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_local_pool_bench_of_two_practice_competitions_and_two_seeds(tmp_path: Path):
    bench = tmp_path / "bench"
    options = BenchOptions(suite=["penguins", "titanic"], out=bench, seeds=2,
                           run=TINY_HEURISTIC, practice_rows=100, jobs=2)
    events: list[str] = []
    counts = run_bench(options, on_event=lambda text, job: events.append(text))
    assert counts["done"] == 4, events
    jobs = _jobs(bench)
    assert sorted((j.competition, j.seed) for j in jobs) == [
        ("penguins", 0), ("penguins", 1), ("titanic", 0), ("titanic", 1)]
    for job in jobs:
        assert job.grade is not None and job.grade["valid"], job.grade
        assert 0.0 <= job.grade["score"] <= 1.0  # accuracy on the private answers
        assert (Path(job.run_dir) / "journal.sqlite").is_file()
        assert (Path(job.run_dir) / "final" / "submission.csv").is_file()
        assert job.attempts == 1 and job.wall_s and job.wall_s > 0

    # the table, by hand: practice competitions have no leaderboard, so no medals; every
    # submission is valid
    report = build_report(bench)
    (row,) = report.summary.splits
    assert row.split == "suite" and row.missing == 0 and row.jobs == 4
    assert row.metrics["valid_submission"].mean == pytest.approx(100.0)
    assert row.metrics["any_medal"].mean == pytest.approx(0.0)

    # the same command again: nothing is redone
    before = {j.id: j.finished_at for j in jobs}
    again: list[str] = []
    assert run_bench(options, on_event=lambda text, job: again.append(text))["done"] == 4
    assert again[0].startswith("0 job(s) to run")
    assert {j.id: j.finished_at for j in _jobs(bench)} == before


def test_interrupting_the_bench_and_resuming_it(tmp_path: Path):
    bench = tmp_path / "bench"
    cmd = ["bench", "penguins", "titanic", "--seeds", "1", "--jobs", "1", "--practice-rows",
           "60", "--out", str(bench), *SLOW_SCRIPTED]
    proc = _gome(*cmd)
    try:
        # wait until the first job is done and the second one is running
        assert _poll(lambda: (bench / "bench.sqlite").exists() and any(
            j.status == JobStatus.DONE for j in _jobs(bench)) and any(
            j.status == JobStatus.RUNNING and j.pid for j in _jobs(bench)), 180)
        running = next(j for j in _jobs(bench) if j.status == JobStatus.RUNNING)
        # let the run write its journal, so that there is something to continue
        assert _poll(lambda: (Path(running.run_dir) / "journal.sqlite").exists(), 120)
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0, out
    after = {j.competition: j for j in _jobs(bench)}
    done = next(j for j in after.values() if j.status == JobStatus.DONE)
    stopped = after[running.competition]
    assert stopped.status == JobStatus.PENDING
    assert stopped.history[-1].endswith("interrupted")
    assert not _alive(running.pid)  # the job process went with the bench

    resumed = _gome(*cmd)
    out, _ = resumed.communicate(timeout=240)
    assert resumed.returncode == 0, out
    assert "1 job(s) to run" in out and "1 already done" in out
    final = {j.competition: j for j in _jobs(bench)}
    assert all(j.status == JobStatus.DONE for j in final.values())
    assert final[done.competition].finished_at == done.finished_at  # kept, not redone
    assert final[done.competition].attempts == 1
    # the interrupted run was continued in its own run folder, not started again
    assert final[running.competition].run_dir == running.run_dir
    assert final[running.competition].grade["valid"]


def test_a_job_that_dies_is_recorded_and_retried_once(tmp_path: Path):
    bench = tmp_path / "bench"
    proc = _gome("bench", "penguins", "--seeds", "1", "--practice-rows", "60", "--out",
                 str(bench), *SLOW_SCRIPTED)
    try:
        assert _poll(lambda: (bench / "bench.sqlite").exists() and any(
            j.pid for j in _jobs(bench)), 120)
        (job,) = _jobs(bench)
        time.sleep(1.0)
        os.kill(job.pid, signal.SIGKILL)  # what the OOM killer does
        out, _ = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    (job,) = _jobs(bench)
    assert job.status == JobStatus.DONE and job.attempts == 2
    assert "killed by SIGKILL" in job.history[0]
    assert "died, retrying" in out


def test_a_job_that_dies_twice_is_recorded_failed_and_not_retried_again(tmp_path: Path):
    """One retry, not more: the second death ends the attempt loop with both reasons kept;
    the next start of the bench redoes the failed job."""
    import threading

    bench = tmp_path / "bench"
    options = BenchOptions(suite=["penguins"], out=bench, seeds=1, practice_rows=60, jobs=1,
                           run={"reasoner": "scripted:gome.reasoning.scripted:slow",
                                "max_steps": 4, "traces": 1, "time_limit_s": 120.0,
                                "slots": 1})
    events: list[str] = []
    counts: dict[str, int] = {}
    runner = threading.Thread(
        target=lambda: counts.update(run_bench(options, on_event=lambda t, j: events.append(t))))
    runner.start()
    killed: list[int] = []
    try:
        for _ in range(2):
            assert _poll(lambda: (bench / "bench.sqlite").exists() and any(
                j.pid and j.pid not in killed for j in _jobs(bench)), 120), events
            (job,) = _jobs(bench)
            time.sleep(1.0)
            os.kill(job.pid, signal.SIGKILL)  # what the OOM killer does
            killed.append(job.pid)
        runner.join(timeout=120)
    finally:
        for job in _jobs(bench) if (bench / "bench.sqlite").exists() else []:
            if job.pid and job.pid not in killed and _alive(job.pid):
                os.kill(job.pid, signal.SIGKILL)
        runner.join(timeout=60)
    assert not runner.is_alive()
    assert counts["failed"] == 1 and counts["done"] == 0, events
    (job,) = _jobs(bench)
    assert job.status == JobStatus.FAILED and job.attempts == 2
    assert len(job.history) == 2 and all("killed by SIGKILL" in h for h in job.history)
    assert "killed by SIGKILL" in job.reason
    assert sum("died, retrying" in e for e in events) == 1
    assert sum(e.startswith("failed penguins") for e in events) == 1

    again: list[str] = []
    assert run_bench(options, on_event=lambda t, j: again.append(t))["done"] == 1, again
    (job,) = _jobs(bench)
    assert job.attempts == 3 and job.grade["valid"]
    assert any("killed by SIGKILL" in h for h in job.history)  # the deaths stay on record


def _hand_db(bench: Path) -> None:
    lite = load_split("lite")
    db = JobDB(bench)
    db.save_settings(BenchSettings(suite=["lite"], competitions=lite, seeds=[0, 1, 2]))
    for cid in lite:
        for seed in (0, 1, 2):
            db.add_job(cid, seed, f"/data/{cid}")
    grades = {
        (lite[0], 0): "gold", (lite[1], 0): "silver", (lite[2], 0): "bronze",
        (lite[0], 1): "gold", (lite[3], 1): "bronze", (lite[4], 1): None,
        (lite[0], 2): None,
    }
    for job in db.jobs():
        key = (job.competition, job.seed)
        if key in grades:
            medal = grades[key]
            db.mark_running(job.id, "/runs/x")
            db.mark_done(job.id, run_dir="/runs/x", run_status="finished", score=0.5, grade={
                "valid": True, "score": 0.5, "medal": medal,
                "gold_medal": medal == "gold", "silver_medal": medal == "silver",
                "bronze_medal": medal == "bronze", "any_medal": medal is not None,
                "above_median": medal is not None, "submission_exists": True})
        elif job.seed == 2 and job.competition == lite[1]:
            db.mark_running(job.id, "/runs/y")
            db.record_attempt_failure(job.id, "the job process was killed by SIGKILL",
                                      final=True)
    db.close()


def test_report_cli_matches_a_calculation_by_hand(tmp_path: Path):
    bench = tmp_path / "bench"
    _hand_db(bench)
    proc = subprocess.run([sys.executable, "-m", "gome.cli.app", "bench", "report", str(bench),
                           "--json"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    (low,) = summary["splits"]
    assert low["split"] == "low" and low["jobs"] == 66
    assert low["missing"] == 66 - 7  # the failed job counts as missing too
    # any medal: seed 0 has 3 of 22, seed 1 has 2 of 22, seed 2 has 0 of 22
    per_seed = [300 / 22, 200 / 22, 0.0]
    mean = sum(per_seed) / 3
    sem = math.sqrt(sum((x - mean) ** 2 for x in per_seed) / 2) / math.sqrt(3)
    assert low["metrics"]["any_medal"]["mean"] == pytest.approx(mean)  # 7.58
    assert low["metrics"]["any_medal"]["sem"] == pytest.approx(sem)  # 4.01
    # gold: 1, 1, 0 of 22; valid: 3, 3, 1 of 22
    assert low["metrics"]["gold_medal"]["mean"] == pytest.approx(200 / 66)
    assert low["metrics"]["valid_submission"]["mean"] == pytest.approx(700 / 66)
    assert (bench / "bench-report.json").is_file()
    html = (bench / "bench-report.html").read_text()
    assert "7.58 ± 4.01" in html and "killed by SIGKILL" in html

    text = subprocess.run([sys.executable, "-m", "gome.cli.app", "bench", "report", str(bench)],
                          capture_output=True, text=True, timeout=60).stdout
    assert "7.58 ± 4.01" in text and "59/66" in text


def test_bad_input_is_one_clear_sentence(tmp_path: Path):
    proc = subprocess.run([sys.executable, "-m", "gome.cli.app", "bench", "lite", "--out",
                           str(tmp_path / "b")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "--data-dir" in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "gome.cli.app", "bench", "report",
                           str(tmp_path / "nothing")], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and "not a bench folder" in proc.stderr
    for option, value in (("--seeds", "0"), ("--retries", "-1"), ("--practice-rows", "5")):
        proc = subprocess.run([sys.executable, "-m", "gome.cli.app", "bench", "penguins",
                               option, value, "--out", str(tmp_path / "c")],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]  # one line
        assert proc.stderr.startswith(f"gome: option {option}:"), proc.stderr
    assert not (tmp_path / "c").exists()
    with pytest.raises(ConfigError, match="not prepared"):
        resolve_suite(["lite"], bench_dir=tmp_path, data_dir=tmp_path)


def test_changing_run_settings_of_a_bench_is_refused(tmp_path: Path):
    db = JobDB(tmp_path)
    db.save_settings(BenchSettings(suite=["a"], competitions=["a"], seeds=[0],
                                   run={"reasoner": "heuristic"}))
    merged = db.save_settings(BenchSettings(suite=["b"], competitions=["b"], seeds=[0, 1],
                                            run={"reasoner": "heuristic"}))
    assert merged.competitions == ["a", "b"] and merged.seeds == [0, 1]
    # where runs execute may change between starts (a bigger cluster); what the agent does not
    db.save_settings(BenchSettings(suite=["a"], competitions=["a"], seeds=[0],
                                   run={"reasoner": "heuristic", "slots": 8}))
    with pytest.raises(ConfigError, match="reasoner"):
        db.save_settings(BenchSettings(suite=["a"], competitions=["a"], seeds=[0],
                                       run={"reasoner": "llm"}))
    db.close()


def test_mlebench_layout_is_graded_with_medals_and_padded_into_its_split(tmp_path: Path):
    import shutil

    from gome.task.practice import make_practice

    # an MLE-bench prepared folder (<data-dir>/<id>/prepared/{public,private}) with a
    # leaderboard; the data is a practice competition with the same metric (multi-class log loss)
    cid = "spooky-author-identification"
    src = make_practice("hpc-jobs", tmp_path / "src", max_rows=100)
    prepared = tmp_path / "data" / cid / "prepared"
    shutil.copytree(src / "public", prepared / "public")
    shutil.copytree(src / "private", prepared / "private")
    # 10 teams, log loss 5..14: a prior-probability submission (about 1.1) wins gold
    (tmp_path / "data" / cid / "leaderboard.csv").write_text(
        "teamName,score\n" + "".join(f"t{i},{5 + i}\n" for i in range(10)))
    bench = tmp_path / "bench"
    options = BenchOptions(suite=[cid], out=bench, seeds=2, data_dir=tmp_path / "data",
                           run={"reasoner": "scripted", "max_steps": 1, "traces": 1,
                                "time_limit_s": 60.0, "slots": 1})
    assert run_bench(options)["done"] == 2
    for job in _jobs(bench):
        assert job.grade["medal"] == "gold" and job.grade["above_median"], job.grade
    report = build_report(bench, forced_splits=["low"])
    suite, low = report.summary.splits
    assert suite.metrics["any_medal"].mean == pytest.approx(100.0)
    assert low.split == "low" and low.missing == 2 * 21
    assert low.metrics["any_medal"].mean == pytest.approx(100 / 22)  # 4.55 per medal
    assert low.metrics["any_medal"].sem == pytest.approx(0.0)


def test_suite_from_a_file_of_ids_and_names(tmp_path: Path):
    ids = tmp_path / "mine.txt"
    ids.write_text("# my subset\npenguins\n\npenguins  # twice\n", encoding="utf-8")
    folder = tmp_path / "own-comp"
    folder.mkdir()
    entries = resolve_suite([str(ids), str(folder)], bench_dir=tmp_path / "b", practice_rows=40)
    assert [e.competition for e in entries] == ["penguins", "own-comp"]
    assert entries[0].practice and (entries[0].task_dir / "public" / "train.csv").is_file()
    assert entries[1].task_dir == folder.resolve()


def test_bench_folders_are_absolute_for_jobs_on_other_nodes(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch):
    """A Ray worker's working folder is where `ray start` ran, not where `gome bench` runs."""
    monkeypatch.chdir(tmp_path)
    options = BenchOptions(suite=["penguins"], out=Path("bench"), data_dir=Path("data"))
    assert options.out == tmp_path / "bench" and options.data_dir == tmp_path / "data"

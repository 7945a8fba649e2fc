"""RayExecutor against a real Ray runtime: same results as the local sandbox, cancel, bad paths."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from gome.sandbox.outcome import Limits, RunStatus  # noqa: E402
from gome.sandbox.runner import Sandbox  # noqa: E402
from gome.scale.ray_executor import RayExecutor, pack_dir, sync_into  # noqa: E402

MAIN = """
import json, os
import pandas as pd
train = pd.read_csv("input/train.csv")
os.makedirs("submission", exist_ok=True)
pd.DataFrame({"id": train["id"], "y": train["x"] * 2}).to_csv(
    "submission/submission.csv", index=False)
rows = len(train) if os.environ.get("GOME_DEBUG") != "1" else 1
json.dump({"metric": "rmse", "score": float(train["x"].sum()) + rows,
           "seed": int(os.environ.get("GOME_SEED", "-1"))}, open("scores.json", "w"))
print("done", rows)
"""


@pytest.fixture(scope="module")
def ray_session():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture()
def task(tmp_path: Path) -> Path:
    data = tmp_path / "public"
    data.mkdir()
    (data / "train.csv").write_text("id,x\n1,1.5\n2,2.5\n3,4.0\n", encoding="utf-8")
    return data


def _workspace(root: Path, code: str) -> Path:
    root.mkdir(parents=True)
    (root / "main.py").write_text(code, encoding="utf-8")
    (root / "helper.txt").write_text("kept", encoding="utf-8")
    return root


def test_ray_run_matches_local_sandbox(ray_session, tmp_path: Path, task: Path):
    limits = Limits(wall_time_s=60, memory_mb=2048)
    local_ws = _workspace(tmp_path / "local", MAIN)
    ray_ws = _workspace(tmp_path / "ray", MAIN)
    local = Sandbox(isolation="none").run(local_ws, task, seed=7, limits=limits)
    executor = RayExecutor(isolation="none")
    try:
        remote = executor.run(ray_ws, task, seed=7, limits=limits)
    finally:
        executor.close()
    assert local.status == RunStatus.OK, local.message
    assert remote.status == local.status
    assert remote.scores == local.scores == {"metric": "rmse", "score": 11.0, "seed": 7}
    assert remote.has_submission
    assert (ray_ws / "submission" / "submission.csv").read_text() == (
        local_ws / "submission" / "submission.csv").read_text()
    assert "done 3" in remote.stdout_tail
    assert remote.log_path and Path(remote.log_path).parent == ray_ws
    assert Path(remote.log_path).is_file()
    assert (ray_ws / "helper.txt").read_text() == "kept"


def test_failed_ray_run_leaves_no_stale_results(ray_session, tmp_path: Path, task: Path):
    ws = _workspace(tmp_path / "ws", MAIN)
    executor = RayExecutor(isolation="none")
    first = executor.run(ws, task, debug=True, limits=Limits(wall_time_s=60))
    assert first.status == RunStatus.OK and first.debug
    assert first.scores and first.scores["score"] == 9.0  # 8.0 + 1 row in debug mode
    (ws / "main.py").write_text("raise ValueError('broken on purpose')\n", encoding="utf-8")
    second = executor.run(ws, task, limits=Limits(wall_time_s=60))
    assert second.status == RunStatus.ERROR
    assert "broken on purpose" in (second.traceback or "")
    assert not (ws / "scores.json").exists()
    assert not (ws / "submission" / "submission.csv").exists()


def test_cancel_kills_a_ray_run(ray_session, tmp_path: Path, task: Path):
    ws = _workspace(tmp_path / "ws", "import time\ntime.sleep(120)\n")
    cancel = threading.Event()
    threading.Timer(1.5, cancel.set).start()
    started = time.monotonic()
    outcome = RayExecutor(isolation="none").run(ws, task, limits=Limits(wall_time_s=100),
                                                cancel=cancel)
    assert outcome.status == RunStatus.KILLED
    assert time.monotonic() - started < 60  # not the 120 s the script wanted


def test_missing_data_on_the_node_is_a_sandbox_failure(ray_session, tmp_path: Path):
    ws = _workspace(tmp_path / "ws", MAIN)
    outcome = RayExecutor(isolation="none").run(ws, tmp_path / "not-there")
    assert outcome.status == RunStatus.SANDBOX_FAILURE
    assert "not-there" in outcome.message


def test_pack_and_sync_round_trip(tmp_path: Path):
    src = tmp_path / "src"
    (src / "submission").mkdir(parents=True)
    (src / "main.py").write_text("print(1)")
    (src / "submission" / "submission.csv").write_text("id,y\n")
    (src / "input").mkdir()
    (src / "input" / "big.csv").write_text("never shipped")
    archive, skipped = pack_dir(src)
    assert skipped == []
    dst = tmp_path / "dst"
    dst.mkdir()
    (dst / "scores.json").write_text(json.dumps({"score": 1}))  # stale: must go
    sync_into(archive, dst, keep=set())
    assert sorted(p.relative_to(dst).as_posix() for p in dst.rglob("*")) == [
        "main.py", "submission", "submission/submission.csv"]
    shutil.rmtree(dst)


def test_bench_through_ray_of_two_practice_competitions_and_two_seeds(ray_session,
                                                                        tmp_path: Path):
    """The heuristic reasoner's bench runs on the local pool (test_scale_bench); here the
    scripted reasoner keeps the Ray variant quick: the job process is the same."""
    from gome.scale.bench import BenchOptions, run_bench
    from gome.scale.jobdb import JobDB
    from gome.scale.report import build_report

    bench = tmp_path / "bench"
    options = BenchOptions(
        suite=["penguins", "titanic"], out=bench, seeds=2, practice_rows=100,
        ray_address="auto",  # the test's Ray session is reused
        run={"reasoner": "scripted", "time_limit_s": 90.0, "max_steps": 2, "traces": 1,
             "slots": 1},
    )
    events: list[str] = []
    counts = run_bench(options, on_event=lambda text, job: events.append(text))
    assert counts["done"] == 4, events
    assert events[0].startswith("4 job(s) to run on Ray")
    db = JobDB(bench)
    jobs = db.jobs()
    db.close()
    for job in jobs:
        assert job.grade is not None and job.grade["valid"], (job.reason, job.history)
        assert job.node  # the node the Ray task ran on
        assert (Path(job.run_dir) / "final" / "submission.csv").is_file()
    (row,) = build_report(bench).summary.splits
    assert row.missing == 0 and row.metrics["valid_submission"].mean == pytest.approx(100.0)


def test_gome_run_with_executor_ray_gives_the_local_result(ray_session, tmp_path: Path):
    from gome.api import run_config
    from gome.config import RunConfig
    from gome.task.practice import make_practice

    task_dir = make_practice("penguins", tmp_path / "penguins", max_rows=100)
    results = {}
    for executor in ("ray", "local"):
        config = RunConfig(task_dir=task_dir, out_dir=tmp_path / executor, reasoner="scripted",
                           executor=executor, max_steps=3, traces=1, time_limit_s=90.0,
                           slots=1)
        results[executor] = run_config(config)
    ray_run, local_run = results["ray"], results["local"]
    assert ray_run.status == local_run.status == "finished", ray_run.message
    assert ray_run.steps == local_run.steps == 3
    assert ray_run.final.score == local_run.final.score
    assert (Path(ray_run.run_dir) / "final" / "submission.csv").read_text() == (
        Path(local_run.run_dir) / "final" / "submission.csv").read_text()
    steps = _steps(Path(ray_run.run_dir))
    ran = [s for s in steps if s.outcome is not None]
    assert ran and ran[0].outcome.status == RunStatus.OK
    assert ran[0].outcome.log_path and Path(ran[0].outcome.log_path).is_file()
    assert [s.decision for s in steps] == [
        s.decision for s in _steps(Path(local_run.run_dir))]


def _steps(run_dir: Path):
    from gome.journal.db import Journal

    journal = Journal.open(run_dir)
    try:
        return journal.steps()
    finally:
        journal.close()


def test_stopping_a_ray_bench_requeues_its_jobs(ray_session, tmp_path: Path):
    from gome.scale.bench import BenchOptions, run_bench
    from gome.scale.jobdb import JobDB, JobStatus

    bench = tmp_path / "bench"
    options = BenchOptions(
        suite=["penguins"], out=bench, seeds=2, practice_rows=60, ray_address="auto",
        run={"reasoner": "scripted:gome.reasoning.scripted:slow", "time_limit_s": 90.0,
             "max_steps": 20, "traces": 1, "slots": 1},
    )
    stop = threading.Event()
    started: list[str] = []

    def on_event(text: str, job) -> None:
        if text.startswith("start"):
            started.append(text)
            if len(started) == 2:
                threading.Timer(3.0, stop.set).start()

    counts = run_bench(options, on_event=on_event, stop=stop)
    assert counts["pending"] == 2 and counts["done"] == 0, counts
    db = JobDB(bench)
    jobs = db.jobs()
    db.close()
    assert all(j.status == JobStatus.PENDING and j.history[-1].endswith("interrupted")
               for j in jobs)


def _job_processes(bench: Path) -> list[tuple[int, int]]:
    """(pid, parent pid) of the job processes this bench started (``python -m gome.scale.job``)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        if b"gome.scale.job" in cmd and any(str(bench).encode() in part for part in cmd):
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            found.append((int(proc.name), ppid))
    return found


def test_a_ray_job_whose_worker_dies_is_recorded_and_retried_once(ray_session, tmp_path: Path):
    """The Ray worker running the job is killed (as when its node is lost): Ray reports the
    death, the job records Ray's reason, runs again and finishes."""
    import os
    import signal

    from gome.scale.bench import BenchOptions, run_bench
    from gome.scale.jobdb import JobDB, JobStatus

    bench = tmp_path / "bench"
    options = BenchOptions(
        suite=["penguins"], out=bench, seeds=1, practice_rows=60, ray_address="auto",
        run={"reasoner": "scripted:gome.reasoning.scripted:slow", "time_limit_s": 120.0,
             "max_steps": 4, "traces": 1, "slots": 1},
    )
    events: list[str] = []
    counts: dict[str, int] = {}
    runner = threading.Thread(
        target=lambda: counts.update(run_bench(options, on_event=lambda t, j: events.append(t))))
    runner.start()
    try:
        deadline = time.monotonic() + 120
        while not (found := _job_processes(bench)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(found) == 1, events
        ((job_pid, worker_pid),) = found
        time.sleep(1.0)
        os.kill(worker_pid, signal.SIGKILL)  # the node (its worker) is gone
        runner.join(timeout=240)
    finally:
        if runner.is_alive():
            for pid, _ in _job_processes(bench):
                os.kill(pid, signal.SIGKILL)
            runner.join(timeout=60)
    assert not runner.is_alive() and counts["done"] == 1, events
    deadline = time.monotonic() + 30
    while Path(f"/proc/{job_pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)  # the orphaned job process goes with its worker
    assert not Path(f"/proc/{job_pid}").exists() or "Z" in Path(
        f"/proc/{job_pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    db = JobDB(bench)
    (job,) = db.jobs()
    db.close()
    assert job.status == JobStatus.DONE and job.attempts == 2 and job.grade["valid"]
    assert len(job.history) == 1 and job.history[0].startswith("attempt 1: Ray: "), job.history
    assert any(word in job.history[0] for word in ("Crashed", "died", "Died")), job.history
    assert sum("died, retrying" in e for e in events) == 1


OOM_SCRIPT = """
import json, sys
from pathlib import Path
import ray
from gome.sandbox.outcome import Limits
from gome.scale.ray_executor import RayExecutor
root = Path(sys.argv[1])
ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
outcome = RayExecutor(isolation="none").run(root / "ws", root / "public",
                                            limits=Limits(wall_time_s=100))
print(json.dumps({"status": outcome.status.value, "message": outcome.message}))
"""


def test_a_run_ray_kills_for_memory_is_an_out_of_memory_outcome(tmp_path: Path, task: Path):
    """Ray's memory monitor kills the run (its threshold set below what the node already uses,
    in a Ray instance of its own): the outcome says out of memory, which the reasoners' fixes
    recognise, instead of a generic sandbox failure."""
    import os
    import subprocess
    import sys

    _workspace(tmp_path / "ws", "import time\nblock = bytearray(200 * 2**20)\ntime.sleep(60)\n")
    env = {**os.environ, "RAY_memory_usage_threshold": "0.01",
           "RAY_memory_monitor_refresh_ms": "100", "RAY_ADDRESS": ""}
    done = subprocess.run([sys.executable, "-c", OOM_SCRIPT, str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["status"] == RunStatus.OUT_OF_MEMORY.value, outcome
    assert "OutOfMemoryError" in outcome["message"] and "memory" in outcome["message"].lower()

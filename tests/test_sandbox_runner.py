"""Well-behaved solutions: scores, submission, logs, environment, stale results, executor."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from test_sandbox_support import (
    FAST,
    ISOLATIONS,
    make_task,
    needs_bwrap,
    unique_seed,
    write_solution,
)

from gome.sandbox.executor import Executor
from gome.sandbox.local import LocalExecutor
from gome.sandbox.outcome import Limits, RunStatus
from gome.sandbox.runner import Sandbox

LIGHTGBM_SOLUTION = """
    import json, os
    import numpy as np
    import pandas as pd
    import lightgbm as lgb
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    debug = os.environ["GOME_DEBUG"] == "1"
    seed = int(os.environ["GOME_SEED"])
    train = pd.read_csv("input/train.csv")
    test = pd.read_csv("input/test.csv")
    if debug:
        train = train.sample(100, random_state=seed)
    for df in (train, test):
        df["colour"] = df["colour"].astype("category")
    features = ["a", "b", "colour"]
    X_tr, X_va, y_tr, y_va = train_test_split(train[features], train["y"], test_size=0.25,
                                              random_state=seed, stratify=train["y"])
    model = lgb.LGBMClassifier(n_estimators=30, num_leaves=8, min_child_samples=5,
                               random_state=seed, verbose=-1)
    model.fit(X_tr, y_tr)
    score = roc_auc_score(y_va, model.predict_proba(X_va)[:, 1])
    print(f"validation auc {score:.4f}")
    os.makedirs("submission", exist_ok=True)
    pd.DataFrame({"id": test["id"], "y": model.predict_proba(test[features])[:, 1]}).to_csv(
        "submission/submission.csv", index=False)
    json.dump({"metric": "auc", "score": float(score), "debug": debug}, open("scores.json", "w"))
"""


def _tabular_task(root: Path) -> Path:
    rng = __import__("random").Random(0)
    public = root / "task" / "public"
    public.mkdir(parents=True)
    rows = ["id,a,b,colour,y"]
    for i in range(400):
        a, b = rng.random(), rng.random()
        colour = rng.choice(["red", "green", "blue"])
        y = int(a + (0.3 if colour == "red" else 0) + rng.gauss(0, 0.2) > 0.7)
        rows.append(f"{i},{a:.4f},{b:.4f},{colour},{y}")
    (public / "train.csv").write_text("\n".join(rows) + "\n")
    test = ["id,a,b,colour"] + [f"{1000 + i},{rng.random():.4f},{rng.random():.4f},red"
                                for i in range(50)]
    (public / "test.csv").write_text("\n".join(test) + "\n")
    return public


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_lightgbm_solution_produces_scores_and_submission(tmp_path, isolation):
    public = _tabular_task(tmp_path)
    ws = write_solution(tmp_path / "ws", LIGHTGBM_SOLUTION)
    sb = Sandbox(Limits(wall_time_s=120, memory_mb=3072), isolation=isolation)
    out = sb.run(ws, public, seed=3)
    assert out.status == RunStatus.OK, (out.message, out.stderr_tail)
    assert out.exit_code == 0
    assert out.scores["metric"] == "auc" and 0.5 < out.score <= 1.0
    assert out.has_submission
    lines = (ws / "submission" / "submission.csv").read_text().splitlines()
    assert lines[0] == "id,y" and len(lines) == 51
    assert "validation auc" in out.stdout_tail
    assert "validation auc" in Path(out.log_path).read_text()
    assert out.log_path == str(ws / "run.log")
    assert out.cpu_time_s > 0 and out.peak_memory_mb and out.peak_memory_mb > 30
    assert out.traceback is None


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_output_is_in_the_log_while_the_run_goes_on(tmp_path, isolation):
    """A user can `tail -f run.log`: a line is there before the solution has finished."""
    public = make_task(tmp_path)
    ws = write_solution(tmp_path / "ws", """
        import os, time
        print("first line", flush=False)  # no flush: the sandbox must not wait for exit
        for _ in range(300):
            if os.path.exists("go"):
                break
            time.sleep(0.1)
        print("second line")
    """)
    result = {}
    runner = threading.Thread(target=lambda: result.update(
        out=Sandbox(FAST, isolation=isolation).run(ws, public, seed=unique_seed())))
    runner.start()
    log = ws / "run.log"
    seen = ""
    for _ in range(300):
        seen = log.read_text() if log.exists() else ""
        if "first line" in seen or not runner.is_alive():
            break
        threading.Event().wait(0.1)
    still_running = runner.is_alive()
    (ws / "go").write_text("")
    runner.join(60)
    assert still_running and "first line" in seen and "second line" not in seen
    assert result["out"].status == RunStatus.OK
    assert "second line" in log.read_text()


def test_debug_run_sets_env_and_writes_debug_log(tmp_path):
    public = make_task(tmp_path)
    ws = write_solution(tmp_path / "ws", """
        import json, os
        debug = os.environ["GOME_DEBUG"] == "1"
        print("debug mode" if debug else "full mode")
        json.dump({"metric": "acc", "score": 1.0, "debug": debug}, open("scores.json", "w"))
    """)
    out = Sandbox(FAST).run(ws, public, debug=True, seed=1)
    assert out.status == RunStatus.OK, out.message
    assert out.debug and out.scores["debug"] is True and "debug mode" in out.stdout_tail
    assert out.log_path == str(ws / "debug.log") and (ws / "debug.log").exists()


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_environment_is_clean(tmp_path, isolation, monkeypatch):
    monkeypatch.setenv("GOME_TEST_HOST_SECRET", "do-not-pass")
    public = make_task(tmp_path)
    ws = write_solution(tmp_path / "ws", """
        import json, os
        json.dump(dict(os.environ), open("env.json", "w"))
    """)
    sb = Sandbox(FAST.model_copy(update={"threads": 3}), isolation=isolation)
    out = sb.run(ws, public, seed=11)
    assert out.status == RunStatus.OK, out.message
    env = json.loads((ws / "env.json").read_text())
    assert "GOME_TEST_HOST_SECRET" not in env
    assert env["GOME_SEED"] == "11" and env["GOME_DEBUG"] == "0"
    assert env["HOME"] == str(ws)
    assert env["PYTHONUNBUFFERED"] == "1"
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        assert env[var] == "3"
    assert not any(k.endswith(("_KEY", "_TOKEN", "PROXY", "_proxy")) for k in env)


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_input_is_visible_and_read_only_in_bwrap(tmp_path, isolation):
    public = make_task(tmp_path)
    ws = write_solution(tmp_path / "ws", """
        import os
        print("files", sorted(os.listdir("input")))
        print(open("input/train.csv").read().splitlines()[0])
    """)
    out = Sandbox(FAST, isolation=isolation).run(ws, public)
    assert out.status == RunStatus.OK, out.message
    assert "files ['train.csv']" in out.stdout_tail
    assert "id,x,y" in out.stdout_tail
    assert not (ws / "input").exists()  # no mount point or symlink to the data left behind


def test_failed_run_cannot_show_previous_results(tmp_path):
    public = make_task(tmp_path)
    ws = write_solution(tmp_path / "ws", """
        import json, os
        os.makedirs("submission", exist_ok=True)
        open("submission/submission.csv", "w").write("id,y\\n1,0\\n")
        json.dump({"metric": "acc", "score": 0.9}, open("scores.json", "w"))
    """)
    sb = Sandbox(FAST)
    first = sb.run(ws, public)
    assert first.ok and first.has_submission and first.score == 0.9
    write_solution(ws, "raise SystemExit(3)\n")
    second = sb.run(ws, public)
    assert second.status == RunStatus.ERROR and second.exit_code == 3
    assert second.scores is None and second.score is None and not second.has_submission
    assert not (ws / "scores.json").exists()


def test_traceback_is_kept_whole_after_much_output(tmp_path):
    public = make_task(tmp_path)
    ws = write_solution(tmp_path / "ws", """
        import sys
        def load():
            raise KeyError("colour")
        for i in range(3000):
            print(f"noise line {i}", file=sys.stderr)
        try:
            load()
        except KeyError as err:
            raise ValueError("could not build features\\nsecond line of message") from err
    """)
    out = Sandbox(FAST).run(ws, public)
    assert out.status == RunStatus.ERROR
    tb = out.traceback
    assert tb.startswith("Traceback (most recent call last):")
    assert "KeyError: 'colour'" in tb
    assert "The above exception was the direct cause" in tb
    assert "ValueError: could not build features" in tb and "second line of message" in tb
    assert "noise line" not in tb
    assert "could not build features" in out.message
    assert len(out.stderr_tail) <= 9000 and out.stderr_tail.startswith("[...]")


def test_bad_scores_json_is_reported_not_raised(tmp_path):
    public = make_task(tmp_path)
    ws = write_solution(tmp_path / "ws", 'open("scores.json", "w").write("{not json")\n')
    out = Sandbox(FAST).run(ws, public)
    assert out.status == RunStatus.OK
    assert out.scores is None and "scores.json is not valid JSON" in out.message


def test_missing_main_py_and_missing_input(tmp_path):
    public = make_task(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    out = Sandbox(FAST).run(empty, public)
    assert out.status == RunStatus.ERROR and "no main.py" in out.message
    ws = write_solution(tmp_path / "ws", "print('hi')\n")
    out = Sandbox(FAST).run(ws, tmp_path / "nowhere")
    assert out.status == RunStatus.SANDBOX_FAILURE and "does not exist" in out.message


@needs_bwrap
def test_switching_isolation_on_same_workspace(tmp_path):
    public = make_task(tmp_path)
    ws = write_solution(tmp_path / "ws", "print(open('input/train.csv').read()[:4])\n")
    for isolation in ("bwrap", "none", "bwrap"):
        out = Sandbox(FAST, isolation=isolation).run(ws, public)
        assert out.status == RunStatus.OK, (isolation, out.message)
        assert "id,x" in out.stdout_tail


def test_local_executor_runs_in_parallel_slots_and_cancels(tmp_path):
    public = make_task(tmp_path)
    ex = LocalExecutor(Sandbox(FAST), slots=1)
    assert isinstance(ex, Executor)
    wss = [write_solution(tmp_path / f"ws{i}", f"""
        import json
        json.dump({{"metric": "acc", "score": {i}}}, open("scores.json", "w"))
    """) for i in range(3)]
    results: dict[int, float | None] = {}

    def go(i: int) -> None:
        results[i] = ex.run(wss[i], public, seed=unique_seed()).score

    threads = [threading.Thread(target=go, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {0: 0.0, 1: 1.0, 2: 2.0}

    sleeper = write_solution(tmp_path / "sleeper", "import time\ntime.sleep(120)\n")
    cancel = threading.Event()
    cancel.set()
    out = ex.run(sleeper, public, cancel=cancel)
    assert out.status == RunStatus.KILLED

    box: dict[str, object] = {}
    t = threading.Thread(target=lambda: box.update(out=ex.run(sleeper, public)))
    t.start()
    threading.Event().wait(1.0)
    ex.close()
    t.join(timeout=30)
    assert box["out"].status == RunStatus.KILLED


def test_fallback_warns_once_in_one_line(tmp_path):
    """Without bwrap on PATH, "auto" falls back with exactly one warning line."""
    public = make_task(tmp_path)
    ws = write_solution(tmp_path / "ws", "print('ran')\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    code = (
        "from pathlib import Path\n"
        "from gome.sandbox.runner import Sandbox\n"
        "from gome.sandbox.outcome import Limits\n"
        "sb = Sandbox(Limits(wall_time_s=30, memory_mb=400))\n"
        f"a = sb.run(Path({str(ws)!r}), Path({str(public)!r}))\n"
        f"b = sb.run(Path({str(ws)!r}), Path({str(public)!r}))\n"
        "print(sb.isolation, a.status.value, b.status.value, 'ran' in a.stdout_tail)\n"
    )
    env = {**os.environ, "PATH": str(bin_dir)}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["none", "ok", "ok", "True"]
    warning = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(warning) == 1 and "bubblewrap" in warning[0]


@needs_bwrap
def test_bubblewrap_setup_failure_is_a_sandbox_failure(tmp_path):
    """A sandbox that cannot be built is reported as such, never as the solution's error."""
    from gome.sandbox.isolation import Interpreter

    public = make_task(tmp_path)
    ws = write_solution(tmp_path / "ws", "print('never runs')\n")
    sb = Sandbox(FAST, isolation="bwrap")
    sb.interpreter = Interpreter(executable=sb.python, version="x",
                                 paths=(tmp_path / "vanished-venv",))  # bwrap cannot bind it
    out = sb.run(ws, public)
    assert out.status == RunStatus.SANDBOX_FAILURE, out
    assert "bwrap" in out.message and "vanished-venv" in out.message
    assert "never runs" not in out.stdout_tail


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_interpreter_in_a_venv_under_tmp_runs(tmp_path, isolation):
    """A user's virtual environment under /tmp must stay visible behind the private /tmp."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    public = make_task(tmp_path)
    ws = write_solution(tmp_path / "ws", """
        import json, sys
        json.dump({"metric": "none", "score": 1.0, "prefix": sys.prefix}, open("scores.json", "w"))
    """)
    out = Sandbox(FAST, python=str(venv / "bin" / "python"), isolation=isolation).run(
        ws, public, seed=unique_seed())
    assert out.status == RunStatus.OK, out.message + out.stderr_tail
    assert out.scores["prefix"] == str(venv)


def test_an_interpreter_that_cannot_start_is_the_sandboxs_failure():
    from gome.sandbox.classify import RunFacts, classify

    facts = RunFacts(exit_code=127, stderr_tail="prlimit: failed to execute /gone/bin/python: "
                     "No such file or directory\n")
    status, message = classify(facts, FAST)
    assert status == RunStatus.SANDBOX_FAILURE and "/gone/bin/python" in message
    # a solution's own exit code 127 (with its traceback) stays the solution's error
    own = RunFacts(exit_code=127, traceback="Traceback...\nSystemExit: 127",
                   stderr_tail="prlimit: failed to execute x")
    assert classify(own, FAST)[0] == RunStatus.ERROR

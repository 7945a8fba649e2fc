"""`gome run --reasoner llm` end to end: a real subprocess, the real openai SDK, a fake server.

The fake server answers each operator (read from the prompt's "# Operator:" line) with what a
well-behaved model would write, including real solution code that the sandbox runs on a tiny
practice competition. A second run caps the LLM spend and must still end with a submission.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, Reply

from gome.journal.db import Journal
from gome.task.practice import make_practice

SOLUTION = """import json
import os
from pathlib import Path

import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import cross_val_score

N_TREES = {trees}
train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
sample = pd.read_csv("input/sample_submission.csv")
target = [c for c in sample.columns if c != "id"][0]
if os.environ.get("GOME_DEBUG") == "1":
    train = train.head(60)
X = pd.get_dummies(train.drop(columns=["id", target]), dtype=float)
Xt = pd.get_dummies(test.drop(columns=["id"]), dtype=float).reindex(columns=X.columns,
                                                                    fill_value=0.0)
X = X.fillna(X.median())
Xt = Xt.fillna(X.median())
seed = int(os.environ.get("GOME_SEED", "0"))
model = RandomForestClassifier(n_estimators=N_TREES, max_depth={depth}, random_state=seed)
score = cross_val_score(model, X, train[target], cv=3, scoring="accuracy").mean()
model.fit(X, train[target])
Path("submission").mkdir(exist_ok=True)
pd.DataFrame({{"id": test["id"], target: model.predict(Xt)}}).to_csv(
    "submission/submission.csv", index=False)
Path("scores.json").write_text(json.dumps({{"metric": "accuracy", "score": float(score)}}))
print("validation accuracy", score)
"""

DIAGNOSIS = {"analysis": "a small forest", "problems": [
    {"caption": "shallow trees", "statement": "max_depth limits the fit",
     "evidence": ["score below 0.95"], "category": "model", "expected_impact": "high",
     "source": "feedback"}]}
PROPOSAL = {"hypotheses": [
    {"problem": "shallow trees", "statement": "raise max_depth and the number of trees",
     "component": "model", "scores": {"alignment": 9, "impact": 8, "novelty": 7,
                                      "feasibility": 9, "risk_reward": 8}},
    {"problem": "shallow trees", "statement": "add bill ratio feature", "component": "features",
     "scores": {"alignment": 6, "impact": 5, "novelty": 8, "feasibility": 9,
                "risk_reward": 6}}]}


def scripted_model():
    """A responder that plays a competent model, one operator at a time."""
    versions = itertools.count(1)

    def respond(body: dict) -> Reply:
        operator = re.search(r"^# Operator: (\w+)", body["messages"][1]["content"], re.M)[1]
        usage = {"tokens_in": 2000, "tokens_out": 400}
        if operator == "draft":
            code = SOLUTION.format(trees=10, depth=2)
            return Reply(content=f"SUMMARY: random forest baseline\nAPPROACH: random forest\n"
                                 f"```python\n{code}```", **usage)
        if operator in ("implement", "improve", "fix"):
            n = next(versions)
            if n == 1:  # a sloppy first answer: prose, no code block (re-asked)
                return Reply(content="I would make the forest deeper.", **usage)
            code = SOLUTION.format(trees=10 + 5 * n, depth=2 + n)
            return Reply(content=f"SUMMARY: deeper forest v{n}\n```python\n{code}```", **usage)
        answers = {"diagnose": DIAGNOSIS, "propose": PROPOSAL,
                   "select": {"choice": 1, "reason": "highest impact", "memory_used": []},
                   "review": {"veto": False, "reason": "validation is a clean CV"}}
        return Reply(content=json.dumps(answers[operator]), **usage)

    return respond


@pytest.fixture(scope="module")
def practice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_practice("penguins", tmp_path_factory.mktemp("llmrun") / "penguins",
                         max_rows=150)


def gome_run(
    workdir: Path, task_dir: Path, fake: FakeOpenAI, *extra: str
) -> subprocess.CompletedProcess:
    if "--config" not in extra:
        (workdir / "gome.toml").write_text(
            '[llm]\nretry_base_s = 0.01\n\n[llm.prices."fake-gpt"]\ninput = 100.0\n'
            'output = 500.0\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOME_", "OPENAI_"))}
    cmd = [sys.executable, "-m", "gome.cli.app", "run", str(task_dir), "--reasoner", "llm",
           "--model", "openai/fake-gpt", "--base-url", fake.base_url, "--traces", "1",
           "--time-limit", "4m", "--full-time-limit", "90s", "--debug-time-limit", "60s",
           "--out", str(workdir / "run"), "--no-live", *extra]
    return subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=420)


@pytest.mark.slow
def test_gome_run_with_the_llm_reasoner(practice: Path, tmp_path: Path):
    with FakeOpenAI(responder=scripted_model()) as fake:
        proc = gome_run(tmp_path, practice, fake, "--steps", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    run_dir = tmp_path / "run"
    assert (run_dir / "final" / "submission.csv").exists()
    journal = Journal.open(run_dir)
    try:
        run = journal.run()
        steps = journal.steps(status="done")
        calls = journal.llm_calls()
        totals = journal.llm_totals()
    finally:
        journal.close()
    assert run.status == "finished"
    assert steps[0].kind == "draft" and steps[0].approach == "random forest"
    operators = {c.operator for c in calls}
    assert {"draft", "diagnose", "propose", "select", "implement"} <= operators
    # every call is accounted for: tokens from the server, cost from gome.toml's price
    assert all(c.tokens_in == 2000 and c.tokens_out == 400 for c in calls)
    assert totals["cost_usd"] == pytest.approx(len(calls) * (0.2 + 0.2))
    gradient_steps = [s for s in steps if s.kind == "gradient"]
    assert gradient_steps and gradient_steps[0].gradient is not None
    assert gradient_steps[0].gradient.problems[0].caption == "shallow trees"
    assert gradient_steps[0].selection.hypothesis.statement.startswith("raise max_depth")
    assert steps[0].cost_usd > 0
    sloppy = [c for c in calls if not c.ok]
    assert len(sloppy) == 1 and "no ```python code block" in (sloppy[0].error or "")
    # the summary printed at the end carries the run's LLM totals
    assert f"{len(calls)} calls" in proc.stdout and f"${totals['cost_usd']:.2f}" in proc.stdout


def test_config_option_reads_a_gome_toml_from_elsewhere(practice: Path, tmp_path: Path):
    """--config PATH: the [llm] table (here a price) comes from that file, not ./gome.toml."""
    team = tmp_path / "team" / "llm.toml"
    team.parent.mkdir()
    team.write_text('[llm]\nretry_base_s = 0.01\n\n[llm.prices."fake-gpt"]\n'
                    'input = 10.0\noutput = 50.0\n')
    work = tmp_path / "work"
    work.mkdir()
    with FakeOpenAI(responder=scripted_model()) as fake:
        proc = gome_run(work, practice, fake, "--steps", "1", "--config", str(team))
        missing = gome_run(work, practice, fake, "--steps", "1", "--config", "nowhere.toml")
    assert proc.returncode == 0, proc.stderr[-3000:]
    journal = Journal.open(work / "run")
    try:
        calls, totals = journal.llm_calls(), journal.llm_totals()
    finally:
        journal.close()
    assert calls and totals["cost_usd"] == pytest.approx(len(calls) * (0.02 + 0.02))
    assert missing.returncode == 2
    assert missing.stderr.strip() == ("gome: The config file nowhere.toml does not exist: fix "
                                      "the path or drop --config.")


def test_bad_key_ends_the_run_with_one_sentence(practice: Path, tmp_path: Path):
    def reject(body: dict) -> Reply:
        return Reply(status=401, error_message="Incorrect API key provided.",
                     error_code="invalid_api_key")

    with FakeOpenAI(responder=reject) as fake:
        proc = gome_run(tmp_path, practice, fake, "--steps", "2")
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("gome: ") and "key" in last and "Traceback" not in proc.stderr
    journal = Journal.open(tmp_path / "run")
    try:
        calls = journal.llm_calls()
    finally:
        journal.close()
    assert calls and not calls[0].ok and "rejected the key" in (calls[0].error or "")


@pytest.mark.slow
def test_cost_cap_stops_the_run_with_a_final_submission(practice: Path, tmp_path: Path):
    # each call costs $0.40: the draft's call alone passes a $0.30 cap
    with FakeOpenAI(responder=scripted_model()) as fake:
        proc = gome_run(tmp_path, practice, fake, "--steps", "6", "--max-cost", "0.3")
        requests = len(fake.requests)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run_dir = tmp_path / "run"
    assert (run_dir / "final" / "submission.csv").exists()
    journal = Journal.open(run_dir)
    try:
        run = journal.run()
        steps = journal.steps(status="done")
    finally:
        journal.close()
    assert run.status == "finished"
    assert "cost cap" in run.message
    assert [s.kind for s in steps if s.kind != "rerun"] == ["draft"]
    assert requests == 2  # the draft, and the review of the first valid solution


@pytest.mark.slow
def test_call_cap_lets_the_step_in_flight_finish_and_submits(practice: Path, tmp_path: Path):
    # the draft and its review are 2 calls; the gradient step passes the cap of 3 at its
    # propose call, finishes (select, implement, review), and no further step starts
    with FakeOpenAI(responder=scripted_model()) as fake:
        proc = gome_run(tmp_path, practice, fake, "--steps", "6", "--max-llm-calls", "3")
        requests = len(fake.requests)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run_dir = tmp_path / "run"
    assert (run_dir / "final" / "submission.csv").exists()
    journal = Journal.open(run_dir)
    try:
        run = journal.run()
        steps = journal.steps(status="done")
        calls = journal.llm_calls()
    finally:
        journal.close()
    assert run.status == "finished"
    assert "call cap of 3" in run.message
    assert [s.kind for s in steps if s.kind != "rerun"] == ["draft", "gradient"]
    assert len(calls) == requests > 3  # every request is in the journal, the cap was passed
    assert f"{len(calls)} calls" in proc.stdout

"""Prompt size over a 50-step trace: does the LLM reasoner's prompt stay roughly flat?

A synthetic trace grows step by step (about 40% accepted steps, the rest rejected or failed with
tracebacks). At every step the reasoner's ``diagnose`` and ``implement`` prompts are sent to the
fake OpenAI server (the real SDK, the real templates), and the prompt tokens the server counts
(characters / 4) are recorded. For comparison, the "naive" column is the same prompt if every
earlier step were shown whole, as an agent without history summarising would do.

Run: python benchmarks/llm_prompt_size.py [--steps 50]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fake_openai import FakeOpenAI, Reply  # noqa: E402

from gome.llm.settings import LLMSettings  # noqa: E402
from gome.reasoning.llm import LLMReasoner  # noqa: E402
from gome.reasoning.llm.context import _entry_full, tokens  # noqa: E402
from gome.reasoning.types import (  # noqa: E402
    BestSolution,
    Context,
    HistoryEntry,
    Hypothesis,
    HypothesisScores,
    Selection,
)
from gome.sandbox.outcome import Outcome, RunStatus  # noqa: E402
from gome.task.loader import load_task  # noqa: E402
from gome.task.practice import make_practice  # noqa: E402

DIAGNOSIS = {"analysis": "ok", "problems": [
    {"caption": "weak model", "statement": "s", "evidence": ["e"], "category": "model",
     "expected_impact": "high", "source": "feedback"}]}
COMPONENTS = ["features", "model", "validation", "data", "ensemble"]
TRACEBACK = ("Traceback (most recent call last):\n  File \"main.py\", line 88, in <module>\n"
             "    model.fit(X_train, y_train, eval_set=[(X_valid, y_valid)])\n"
             "  File \"lightgbm/sklearn.py\", line 1187, in fit\n" * 3
             + "ValueError: pandas dtypes must be int, float or bool. Fields with bad pandas "
               "dtypes: island: str, sex: str")


def synthetic_history(n: int, rng: random.Random) -> list[HistoryEntry]:
    out, score = [], 0.80
    for i in range(n):
        roll = rng.random()
        comp = rng.choice(COMPONENTS)
        hyp = (f"Step {i}: in {comp}, replace the current setting with a specific alternative "
               f"(variant {rng.randint(1, 999)}) so that the validation gap narrows and the "
               "fold spread drops; keep the rest of the pipeline unchanged.")
        if roll < 0.4:
            gain = rng.uniform(0.001, 0.01)
            score += gain
            out.append(HistoryEntry(step_id=i + 1, index=i, kind="gradient", problem=f"p{i}",
                                    hypothesis=hyp, component=comp, accepted=True,
                                    decision="accepted", score=score, gain=gain,
                                    summary="Implemented the change; " + hyp[:120]))
        elif roll < 0.7:
            out.append(HistoryEntry(step_id=i + 1, index=i, kind="gradient", problem=f"p{i}",
                                    hypothesis=hyp, component=comp, decision="rejected",
                                    score=score - 0.002, gain=-0.002, summary=hyp[:150]))
        else:
            out.append(HistoryEntry(step_id=i + 1, index=i, kind="gradient", problem=f"p{i}",
                                    hypothesis=hyp, component=comp, decision="failed",
                                    status="error", error=TRACEBACK, summary=hyp[:150]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        task = load_task(make_practice("penguins", Path(tmp) / "p", max_rows=200))
        code = "\n".join(f"feature_{i} = frame['x'] * {i}  # engineered feature" for i in
                         range(150))
        best = BestSolution(step_id=1, code=code, score=0.85, summary="lightgbm",
                            outcome=Outcome(status=RunStatus.OK, wall_time_s=40.0,
                                            scores={"metric": "accuracy", "score": 0.85,
                                                    "folds": [0.84, 0.86, 0.85]},
                                            stdout_tail="fold 1 0.84\nfold 2 0.86\n" * 20))
        history = synthetic_history(args.steps, rng)
        sel = Selection(hypothesis=Hypothesis(
            problem="weak model", statement="use 5-fold CV", component="validation",
            scores=HypothesisScores(alignment=8, impact=8, novelty=8, feasibility=8,
                                    risk_reward=8)))
        new_code = code + "\nprint('changed')\n"

        def respond(body: dict) -> Reply:
            if "# Operator: implement" in body["messages"][1]["content"]:
                return Reply(content=f"SUMMARY: x\n```python\n{new_code}\n```")
            return Reply(content=json.dumps(DIAGNOSIS))

        rows = []
        with FakeOpenAI(responder=respond) as fake:
            reasoner = LLMReasoner(task, LLMSettings(model="openai/bench",
                                                     base_url=fake.base_url))
            for t in range(1, args.steps + 1):
                ctx = Context(task=task, best=best, history=history[:t], trace_step=t,
                              runtime="Python 3.11, 2 cores", time_left_s=3600, stage="improve")
                reasoner.diagnose(ctx)
                reasoner.implement(ctx, sel)
                diag, impl = ctx.llm_calls[0].tokens_in, ctx.llm_calls[1].tokens_in
                hist_now = tokens(ctx.llm_calls[0].prompt.split("## This trace's history")[1]
                                  .split("# Operator: diagnose")[0])
                naive_hist = tokens("\n".join(_entry_full(h) for h in history[:t]))
                rows.append((t, diag, impl, diag - hist_now + naive_hist))
    print(f"{'step':>4} {'diagnose':>9} {'implement':>10} {'naive diagnose':>15}")
    for t, d, i, n in rows:
        if t in (1, 2, 5) or t % 5 == 0:
            print(f"{t:>4} {d:>9} {i:>10} {n:>15}")
    first10 = sum(r[1] for r in rows[:10]) / min(10, len(rows))
    last10 = sum(r[1] for r in rows[-10:]) / min(10, len(rows))
    naive_last = sum(r[3] for r in rows[-10:]) / min(10, len(rows))
    n = len(rows)
    print(f"diagnose prompt, mean of steps {max(1, n - 9)}-{n} / mean of steps 1-{min(10, n)}: "
          f"{last10 / first10:.2f} "
          f"(naive: {naive_last / first10:.2f}); max {max(r[1] for r in rows)} tokens")


if __name__ == "__main__":
    main()

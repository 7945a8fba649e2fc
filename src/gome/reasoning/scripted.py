"""A small deterministic reasoner that follows a script, for tests and benchmarks.

Its solutions learn nothing: they copy the sample submission and report a score chosen by the
script, so the optimizer's rules (accept/reject in both directions, fixes, failures, budgets,
momentum) can be tested in seconds without LightGBM. Each trace follows the script by its step
index; a move says what the next solution does relative to the trace's best:

- ``ok`` (drafts): a valid solution scoring ``base``
- ``better`` / ``worse`` / ``same``: valid, ``delta`` better / worse / equal in the task's direction
- ``crash``: always raises (fixes cannot help); ``debugbug``: fails in debug mode only, one fix
  repairs it, then it is ``better``
- ``bad``: writes a submission in the wrong format; ``noscore``: writes no scores.json
- ``leak``: better, but the review vetoes it
- ``lucky``: ``delta`` better overall, but its per-fold scores swing both ways around the best's
  (a gain within the validation noise, which the noise gate rejects)
- ``done``: propose finds no untried change (``Converged``): the trace ends

Every scored solution also reports five per-fold scores (``folds`` in scores.json).

Use it from the CLI as ``--reasoner scripted`` or ``scripted:gome.reasoning.scripted:slow``.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from gome.errors import Converged, InvalidOutput
from gome.reasoning.types import (
    CodeChange,
    Context,
    Gradient,
    Hypothesis,
    HypothesisScores,
    MemoryEntry,
    Problem,
    Review,
    Selection,
)
from gome.sandbox.outcome import Outcome
from gome.task.model import Task

MOVES = ("ok", "better", "worse", "same", "crash", "debugbug", "bad", "noscore", "leak",
         "invalid", "lucky", "done")
LUCKY_SWINGS = (4.0, -6.0, 5.0, -5.0, 2.0)
"""Per-fold offsets (in units of ``delta``) of a ``lucky`` solution: they sum to zero, so its
mean per-fold gain is ``delta`` while the folds disagree about the sign."""
COMPONENTS = ("features", "model", "validation", "ensemble")


@lru_cache(maxsize=1)
def _template():  # noqa: ANN202
    env = Environment(loader=FileSystemLoader(Path(__file__).parent / "scripted_templates"),
                      undefined=StrictUndefined, keep_trailing_newline=True)
    return env.get_template("main.py.j2")


class ScriptedReasoner:
    """Plays ``plan[trace_step]`` (the last move repeats, or the plan cycles after the draft)."""

    name = "scripted"

    def __init__(
        self,
        task: Task,
        *,
        seed: int = 0,
        plan: list[str] | None = None,
        cycle: bool = True,
        base: float = 0.5,
        delta: float = 0.05,
        sleep_s: float = 0.0,
        busy_s: float = 0.0,
        sleep_drafts: bool = True,
        exhaust_after: int | None = None,
    ) -> None:
        self.task = task
        self.seed = seed
        self.plan = plan or ["ok", "better", "worse", "better", "same"]
        bad = [m for m in self.plan if m not in MOVES]
        if bad:
            raise ValueError(f"unknown scripted moves {bad}; use {MOVES}")
        self.cycle = cycle
        self.base = base
        self.delta = delta
        self.sleep_s = sleep_s
        self.busy_s = busy_s
        self.sleep_drafts = sleep_drafts
        self.exhaust_after = exhaust_after
        self.calls: list[tuple[str, int, int]] = []
        """(operator, trace, trace_step) of every call, for tests."""
        self.seen_memory: list[tuple[int, list[MemoryEntry]]] = []
        """(trace, memory shown to select) of every select call, for tests."""
        self.seen_history: list[tuple[int, int, list[int]]] = []
        """(trace, trace_step, history step ids) of every diagnose/improve call, for tests."""
        self._lock = threading.Lock()
        self._solutions = 0

    # -- the script ------------------------------------------------------------------------
    def move(self, ctx: Context) -> str:
        i = ctx.trace_step
        if i < len(self.plan):
            return self.plan[i]
        if self.cycle and len(self.plan) > 1:
            rest = self.plan[1:]
            return rest[(i - 1) % len(rest)]
        return self.plan[-1]

    def _note(self, op: str, ctx: Context) -> None:
        with self._lock:
            self.calls.append((op, ctx.trace, ctx.trace_step))

    def exhausted(self) -> str | None:
        if self.exhaust_after is not None and self._solutions >= self.exhaust_after:
            return f"the scripted reasoner's budget of {self.exhaust_after} solutions is spent"
        return None

    def _score(self, ctx: Context, move: str) -> float:
        sign = 1.0 if self.task.higher_is_better else -1.0
        if ctx.best is None:
            return round(self.base + 0.01 * ctx.trace, 6)
        step = {"better": 1, "debugbug": 1, "leak": 1, "lucky": 1, "worse": -1}.get(move, 0)
        return round(ctx.best.score + sign * step * self.delta, 6)

    def _folds(self, move: str, score: float) -> list[float]:
        sign = 1.0 if self.task.higher_is_better else -1.0
        swings = LUCKY_SWINGS if move == "lucky" else (0.0,) * len(LUCKY_SWINGS)
        return [round(score + sign * self.delta * o, 6) for o in swings]

    def _code(self, ctx: Context, move: str, summary: str) -> CodeChange:
        if move == "invalid":
            raise InvalidOutput("the script says this step yields no valid output")
        with self._lock:
            self._solutions += 1
        sample = self.task.sample_submission.relative_to(self.task.public_dir).as_posix()
        score = self._score(ctx, move)
        code = _template().render(
            summary=summary, move=move, score=score, folds=self._folds(move, score),
            crash=move == "crash", crash_in_debug=move == "debugbug",
            bad_submission=move == "bad", write_score=move != "noscore",
            sleep_s=self.sleep_s if (ctx.best is not None or self.sleep_drafts) else 0.0,
            busy_s=self.busy_s, sample=sample, metric=self.task.metric,
        )
        return CodeChange(code=code, summary=summary, approach=f"scripted approach {ctx.trace}")

    # -- operators -------------------------------------------------------------------------
    def draft(self, ctx: Context) -> CodeChange:
        self._note("draft", ctx)
        move = self.move(ctx)
        return self._code(ctx, move if move in ("crash", "bad", "noscore", "debugbug",
                                                "invalid") else "ok", f"draft ({move})")

    def diagnose(self, ctx: Context) -> Gradient:
        self._note("diagnose", ctx)
        with self._lock:
            self.seen_history.append((ctx.trace, ctx.trace_step, [h.step_id for h in ctx.history]))
        comp = COMPONENTS[ctx.trace_step % len(COMPONENTS)]
        return Gradient(problems=[Problem(
            caption=f"{comp} gap", statement=f"the {comp} can be better",
            evidence=[f"score {ctx.best.score if ctx.best else None}"], category="model",
        )], analysis="scripted")

    def propose(self, ctx: Context, gradient: Gradient) -> list[Hypothesis]:
        self._note("propose", ctx)
        move = self.move(ctx)
        if move == "done":
            raise Converged("the script has no change left to try")
        comp = COMPONENTS[ctx.trace_step % len(COMPONENTS)]
        return [Hypothesis(
            problem=p.caption, statement=f"tune the {comp} ({move})", component=comp,
            scores=HypothesisScores(alignment=5, impact=5, novelty=5, feasibility=5,
                                    risk_reward=5),
            detail={"move": move},
        ) for p in gradient.problems]

    def select(self, ctx: Context, hypotheses: list[Hypothesis],
               memory: list[MemoryEntry]) -> Selection:
        self._note("select", ctx)
        with self._lock:
            self.seen_memory.append((ctx.trace, list(memory)))
        return Selection(hypothesis=hypotheses[0], reason="scripted",
                         memory_used=[m.id for m in memory])

    def implement(self, ctx: Context, selection: Selection) -> CodeChange:
        self._note("implement", ctx)
        move = str(selection.hypothesis.detail.get("move") or self.move(ctx))
        return self._code(ctx, move, selection.hypothesis.statement)

    def improve(self, ctx: Context) -> CodeChange:
        self._note("improve", ctx)
        with self._lock:
            self.seen_history.append((ctx.trace, ctx.trace_step, [h.step_id for h in ctx.history]))
        move = self.move(ctx)
        return self._code(ctx, move, f"improve ({move})")

    def fix(self, ctx: Context, code: str, outcome: Outcome) -> CodeChange:
        self._note("fix", ctx)
        fixed = "\n".join(line for line in code.splitlines()
                          if "GOME_SCRIPTED_DEBUG_BUG" not in line)
        return CodeChange(code=fixed + "\n", summary="removed the debug-only bug")

    def review(self, ctx: Context, code: str, outcome: Outcome) -> Review:
        self._note("review", ctx)
        if 'MOVE = "leak"' in code:
            return Review(veto=True, reason="the validation leaks the target")
        return Review()


# -- presets usable as `--reasoner scripted:gome.reasoning.scripted:<name>` -----------------
def improving(task: Task, *, seed: int = 0) -> ScriptedReasoner:
    return ScriptedReasoner(task, seed=seed)


def all_fail(task: Task, *, seed: int = 0) -> ScriptedReasoner:
    return ScriptedReasoner(task, seed=seed, plan=["crash"], cycle=False)


def slow(task: Task, *, seed: int = 0) -> ScriptedReasoner:
    """Each full run sleeps 1.5 s (for kill -9 / resume tests)."""
    return ScriptedReasoner(task, seed=seed, sleep_s=1.5)


def busy(task: Task, *, seed: int = 0) -> ScriptedReasoner:
    """Each full run keeps one core busy for 2 s (trace-scaling benchmark)."""
    return ScriptedReasoner(task, seed=seed, plan=["ok", "better", "worse"], busy_s=2.0)


def instant(task: Task, *, seed: int = 0) -> ScriptedReasoner:
    return ScriptedReasoner(task, seed=seed, plan=["ok", "better", "worse"])

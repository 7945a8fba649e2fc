"""Executing one candidate solution: the part of a step every optimizer shares.

Given a ``main.py`` from a reasoner, :class:`StepRunner` writes it to the step's workspace
(``run_dir/workspaces/step-<id>/``), runs it in debug mode and asks the reasoner to fix it up to
``max_fix_attempts`` times, runs it in full, checks the submission's format and reads the
validation score. :func:`judge` then applies the line search: accept only a valid result that is
better in the task's direction and not vetoed by the review. Gradient steps, tree-search nodes and
the final reruns all go through here, so the rules are the same for every optimizer.
"""

from __future__ import annotations

import difflib
import math
import shutil
import statistics
import threading
from collections.abc import Callable
from pathlib import Path

from gome.config import RunConfig
from gome.errors import SandboxFailure
from gome.journal.models import Decision, StepRecord
from gome.reasoning.base import Reasoner
from gome.reasoning.types import CodeChange, Context, Review
from gome.sandbox.executor import Executor
from gome.sandbox.outcome import Limits, Outcome, RunStatus
from gome.task.model import Task

Phase = Callable[[str], None]


def unified_diff(parent: str | None, code: str) -> str:
    """The change from the code a step started from to the code it ran, as a unified diff."""
    lines = difflib.unified_diff(
        (parent or "").splitlines(keepends=True),
        code.splitlines(keepends=True),
        fromfile="a/main.py",
        tofile="b/main.py",
    )
    return "".join(lines)


def _no_phase(_: str) -> None:
    return None


class StepRunner:
    """Runs candidate solutions in their workspaces and fills in the step's evidence."""

    def __init__(
        self,
        *,
        task: Task,
        executor: Executor,
        reasoner: Reasoner,
        run_dir: Path,
        config: RunConfig,
        cancel: threading.Event,
    ) -> None:
        self.task = task
        self.executor = executor
        self.reasoner = reasoner
        self.run_dir = Path(run_dir)
        self.config = config
        self.cancel = cancel

    # -- workspaces ------------------------------------------------------------------------
    def workspace(self, step: StepRecord) -> Path:
        return self.run_dir / "workspaces" / f"step-{step.id}"

    def limits(self, *, debug: bool) -> Limits:
        wall = self.config.debug_time_limit_s if debug else self.config.full_time_limit_s
        return Limits(wall_time_s=wall, memory_mb=self.config.memory_mb)

    @staticmethod
    def _write(ws: Path, code: str) -> None:
        ws.mkdir(parents=True, exist_ok=True)
        for stale in ("submission", "scores.json"):
            p = ws / stale
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            elif p.exists():
                p.unlink()
        (ws / "main.py").write_text(code)

    def run_code(self, ws: Path, code: str, *, debug: bool, seed: int) -> Outcome:
        """Write ``code`` to ``ws`` and run it once; a broken sandbox raises SandboxFailure."""
        self._write(ws, code)
        outcome = self.executor.run(
            ws,
            self.task.public_dir,
            debug=debug,
            seed=seed,
            limits=self.limits(debug=debug),
            cancel=self.cancel,
        )
        if outcome.status == RunStatus.SANDBOX_FAILURE:
            raise SandboxFailure(outcome.message or "the sandbox could not run the solution")
        return outcome

    # -- one candidate ---------------------------------------------------------------------
    def execute(
        self,
        step: StepRecord,
        change: CodeChange,
        ctx: Context,
        *,
        parent_code: str | None,
        phase: Phase = _no_phase,
    ) -> None:
        """Debug run (+ fixes), full run, format check and score, written into ``step``."""
        ws = self.workspace(step)
        step.workspace = str(ws)
        code = change.code
        step.summary = step.summary or change.summary
        while True:
            step.code = code  # kept even if a later fix fails
            phase("debug run" if not step.fix_attempts else f"debug run (fix {step.fix_attempts})")
            debug = self.run_code(ws, code, debug=True, seed=step.seed)
            step.debug_outcome, step.outcome = debug, None
            outcome: Outcome = debug
            if debug.ok and not self.cancel.is_set():
                phase("full run")
                outcome = self.run_code(ws, code, debug=False, seed=step.seed)
                step.outcome = outcome
            if (outcome.ok and not self.cancel.is_set()) or not self._fixable(outcome, step):
                break
            phase(f"fixing ({step.fix_attempts + 1}/{self.config.max_fix_attempts})")
            fixed = self.reasoner.fix(ctx, code, outcome)
            step.fix_attempts += 1
            step.fixes.append(fixed.summary)
            code = fixed.code
        step.code = code
        step.diff = unified_diff(parent_code, code)
        self._validate(step, ws)

    def _fixable(self, outcome: Outcome, step: StepRecord) -> bool:
        if self.cancel.is_set() or step.fix_attempts >= self.config.max_fix_attempts:
            return False
        return outcome.status in (RunStatus.ERROR, RunStatus.TIMEOUT, RunStatus.OUT_OF_MEMORY)

    def _validate(self, step: StepRecord, ws: Path) -> None:
        """Fill ``valid``, ``score`` and ``validation_message`` from the full run's files."""
        from gome.task.grading import check_submission

        outcome = step.outcome
        step.valid, step.score = False, None
        if self.cancel.is_set() and (outcome is None or not outcome.ok):
            step.validation_message = "stopped: the budget ended while it ran"
            return
        if outcome is None:
            debug = step.debug_outcome
            step.validation_message = f"debug run failed: {_what(debug)}" if debug else "not run"
            return
        if not outcome.ok:
            step.validation_message = f"full run failed: {_what(outcome)}"
            return
        if outcome.score is None:
            step.validation_message = "scores.json holds no numeric validation 'score'"
            return
        sub = ws / "submission" / "submission.csv"
        if not sub.is_file():
            step.validation_message = "no ./submission/submission.csv was written"
            return
        check = check_submission(sub, self.task)
        if not check.valid:
            step.validation_message = f"invalid submission: {check.reason}"
            return
        step.valid, step.score = True, outcome.score
        step.validation_message = f"valid submission ({check.n_rows} rows), score {outcome.score:g}"


def _what(outcome: Outcome) -> str:
    if outcome.message:
        return outcome.message
    if outcome.traceback:
        return outcome.traceback.strip().splitlines()[-1]
    return outcome.status.value


def fold_scores(outcome: Outcome | None) -> list[float] | None:
    """The per-fold validation scores a solution reported (``"folds"`` in scores.json)."""
    folds = (outcome.scores or {}).get("folds") if outcome is not None else None
    if not isinstance(folds, list) or not folds:
        return None
    try:
        values = [float(x) for x in folds]
    except (TypeError, ValueError):
        return None
    return values if all(math.isfinite(v) for v in values) else None


def within_noise(step_folds: list[float] | None, best_folds: list[float] | None,
                 higher_is_better: bool, min_t: float) -> str | None:
    """Why a gain is not a gain, or None: the paired per-fold gain must be at least ``min_t``
    standard errors, when both solutions scored the same number of folds (every search step
    runs with the run's seed, so such folds are the same rows).

    A gain of a handful of rows on small data is as likely a lucky draw as a better model; over a
    hundred steps, accepting those walks the solution along the validation noise (the paper's
    judge settles such near ties on other grounds than the score, too). ``min_t`` 0 disables it.
    """
    if (min_t <= 0 or not step_folds or not best_folds or len(step_folds) != len(best_folds)
            or len(step_folds) < 3):
        return None
    sign = 1.0 if higher_is_better else -1.0
    diffs = [sign * (a - b) for a, b in zip(step_folds, best_folds, strict=True)]
    mean = statistics.fmean(diffs)
    se = statistics.stdev(diffs) / math.sqrt(len(diffs))
    if mean > 0 and (se == 0 or mean / se >= min_t):
        return None
    t = mean / se if se > 0 else 0.0
    return (f"the gain is within the validation noise: per-fold gain {mean:+.4g} ± {se:.2g} "
            f"over {len(diffs)} paired folds (t = {t:.2f} < {min_t:g})")


def judge(
    step: StepRecord,
    task: Task,
    best_score: float | None,
    review: Callable[[], Review] | None = None,
    *,
    cancelled: bool = False,
    best_outcome: Outcome | None = None,
    noise_gate: float = 0.0,
) -> None:
    """The line search: set ``decision``, ``reason`` and ``gain`` of an executed step.

    The direction comes from the task, never from a reasoner. A better score whose paired
    per-fold gain over ``best_outcome`` is below ``noise_gate`` standard errors is a near tie and
    rejected (see :func:`within_noise`). The review is only asked when the step would otherwise
    be accepted, so a veto is the only thing it can change.
    """
    if not step.valid or step.score is None:
        stopped = cancelled and (step.outcome is None or not step.outcome.ok)
        step.decision = Decision.ABORTED if stopped else Decision.FAILED
        step.reason = step.validation_message or "no valid result"
        return
    sign = 1.0 if task.higher_is_better else -1.0
    step.gain = None if best_score is None else sign * (step.score - best_score)
    if not task.better(step.score, best_score):
        step.decision = Decision.REJECTED
        step.reason = f"score {step.score:g} is not better than the best {best_score:g}"
        return
    if best_score is not None:
        noise = within_noise(fold_scores(step.outcome), fold_scores(best_outcome),
                             task.higher_is_better, noise_gate)
        if noise is not None:
            step.decision = Decision.REJECTED
            step.reason = f"score {step.score:g} beats {best_score:g}, but {noise}"
            return
    if review is not None:
        verdict = review()
        step.review = verdict
        if verdict.veto:
            step.decision = Decision.VETOED
            step.reason = f"review veto: {verdict.reason}"
            return
    step.decision = Decision.ACCEPTED
    if best_score is None:
        step.reason = f"first valid solution, score {step.score:g}"
    else:
        step.reason = f"score {step.score:g} beats {best_score:g} (gain {step.gain:+.4g})"


MAX_SAME_FAILURES = 10
"""Consecutive failed steps of one trace with the same reason after which that trace stops:
repeating a failure nobody can repair only burns the budget and floods the journal."""


def stuck_reason(steps: list[StepRecord]) -> str | None:
    """The reason shared by the trace's last MAX_SAME_FAILURES steps, if they all failed alike."""
    last = steps[-MAX_SAME_FAILURES:]
    if len(last) < MAX_SAME_FAILURES or any(s.decision != Decision.FAILED for s in last):
        return None
    reasons = {s.reason[:200] for s in last}
    return last[-1].reason if len(reasons) == 1 else None

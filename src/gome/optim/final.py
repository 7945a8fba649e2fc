"""The final answer: the best validated accepted solution over all traces.

Without reruns the best validation score wins. With ``final_reruns = k`` the top k candidates
are run again with other seeds and the best mean (original run included) wins, which guards
against a lucky split. The winner's ``main.py``, ``submission.csv`` and ``scores.json`` are copied
to ``run_dir/final/`` (and the submission to ``--submission-out``). When the task ships private
answers the final submission is graded for the record only: the held-out score never takes part
in any decision.
"""

from __future__ import annotations

import json
import logging
import shutil
import statistics
import threading
import time
from pathlib import Path

from gome.journal.models import Decision, FinalResult, StepKind, StepRecord
from gome.optim.session import Session
from gome.optim.steps import StepRunner

log = logging.getLogger("gome.optim")

RERUN_SEEDS = 2
"""How many extra seeds each of the top candidates is re-run with."""


def candidates(session: Session) -> list[StepRecord]:
    """Accepted, valid, scored steps whose submission is still on disk, best first."""
    task = session.task
    out = []
    for s in session.journal.steps(status="done"):
        if s.kind == StepKind.RERUN or s.decision != Decision.ACCEPTED or not s.valid:
            continue
        if s.score is None or not s.code:
            continue
        if not (Path(s.workspace) / "submission" / "submission.csv").is_file():
            continue
        out.append(s)
    sign = -1.0 if task.higher_is_better else 1.0
    return sorted(out, key=lambda s: (sign * float(s.score or 0.0), s.id))


def select_final(session: Session) -> FinalResult:
    """Pick the final solution, write ``run_dir/final/`` and return what was chosen."""
    cands = candidates(session)
    if not cands:
        return FinalResult(message="no step produced a valid, scored submission, so there is no "
                           "final submission; see the failed steps in the report or gome.log.")
    chosen, reruns = cands[0], []
    if session.config.final_reruns > 0:
        chosen, reruns = _rerun_top(session, cands[: session.config.final_reruns])
    final_dir = session.run_dir / "final"
    final_dir.mkdir(parents=True, exist_ok=True)
    ws = Path(chosen.workspace)
    (final_dir / "main.py").write_text(chosen.code or "")
    shutil.copyfile(ws / "submission" / "submission.csv", final_dir / "submission.csv")
    scores = chosen.outcome.scores if chosen.outcome and chosen.outcome.scores else {}
    scores = {**scores, "step_id": chosen.id, "trace": chosen.trace}
    if reruns:
        scores["rerun_scores"] = reruns
        scores["mean_score"] = statistics.fmean([float(chosen.score or 0.0), *reruns])
    (final_dir / "scores.json").write_text(json.dumps(scores, indent=2, default=str))
    result = FinalResult(
        step_id=chosen.id, trace=chosen.trace, score=chosen.score, rerun_scores=reruns,
        main_py=str(final_dir / "main.py"), submission=str(final_dir / "submission.csv"),
        scores_json=str(final_dir / "scores.json"),
        # the step's run-wide id (#N), the one the report, `gome show` and workspaces use
        message=f"final pick: step #{chosen.id} (trace {chosen.trace}), validation "
        f"{session.task.metric} {chosen.score:g}",
    )
    if session.config.submission_out:
        out = Path(session.config.submission_out)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(final_dir / "submission.csv", out)
    _grade_heldout(session, result)
    return result


def _grade_heldout(session: Session, result: FinalResult) -> None:
    """Grade against private answers for the record (never used to choose anything)."""
    if session.task.answers is None or result.submission is None:
        return
    try:
        from gome.task.grading import grade_submission

        report = grade_submission(Path(result.submission), session.task)
        result.heldout_score = report.score
        result.medal = getattr(report, "medal", None)
    except Exception as err:  # grading is a bonus; it must never lose the run
        log.warning("held-out grading failed: %s", err)


def _rerun_top(session: Session, top: list[StepRecord]) -> tuple[StepRecord, list[float]]:
    """Re-run each candidate with other seeds; the best mean score wins."""
    cfg, task = session.config, session.task
    cancel = threading.Event()
    left = max(0.0, cfg.time_limit_s - session.budget.elapsed())
    timer = threading.Timer(left, cancel.set)
    timer.daemon = True
    timer.start()
    runner = StepRunner(task=task, executor=session.executor, reasoner=session.reasoner,
                        run_dir=session.run_dir, config=cfg, cancel=cancel)
    sign = 1.0 if task.higher_is_better else -1.0
    best: tuple[float, StepRecord, list[float]] | None = None
    try:
        for cand in top:
            scores: list[float] = []
            for r in range(RERUN_SEEDS):
                if cancel.is_set():
                    break
                scores += _rerun_once(session, runner, cand, seed=cand.seed + 7919 * (r + 1))
            mean = statistics.fmean([float(cand.score or 0.0), *scores])
            if best is None or sign * mean > sign * best[0]:
                best = (mean, cand, scores)
    finally:
        timer.cancel()
    assert best is not None
    return best[1], best[2]


def _rerun_once(
    session: Session, runner: StepRunner, cand: StepRecord, *, seed: int
) -> list[float]:
    step = session.journal.add_step(StepRecord(
        trace=cand.trace, index=cand.index, kind=StepKind.RERUN, parent_id=cand.id,
        base_id=cand.id, seed=seed, summary=f"re-run of step {cand.id} with seed {seed}",
        elapsed_start_s=session.budget.elapsed(),
    ))
    ws = session.run_dir / "workspaces" / f"rerun-{step.id}"
    step.workspace, step.code = str(ws), cand.code
    try:
        outcome = runner.run_code(ws, cand.code or "", debug=False, seed=seed)
        step.outcome, step.score = outcome, outcome.score
        step.valid = outcome.ok and outcome.score is not None
        step.decision = None if step.valid else Decision.FAILED  # a rerun is not a new best
        step.reason = (f"rerun score {outcome.score}" if step.valid
                       else (outcome.message or "failed"))
    except Exception as err:  # a failed rerun only removes one sample
        step.decision, step.reason = Decision.FAILED, f"rerun failed: {err}"
    step.status, step.finished_at = "done", time.time()
    step.elapsed_end_s = session.budget.elapsed()
    session.journal.save_step(step)
    return [float(step.score)] if step.valid and step.score is not None else []

"""gome's optimizer: gradient steps with momentum over parallel traces.

Each trace is a chain of steps on one solution x_t (its best accepted ``main.py``):

1. no best yet: draft one (told what the sibling traces drafted);
2. diagnose x_t from its run and the trace's history (every accepted step plus the failures
   since the last acceptance) -> the gradient;
3. propose scored hypotheses and select one with momentum (the success memory of all traces);
4. implement it from x_t, debug-run and fix, full-run (:class:`gome.optim.steps.StepRunner`);
5. accept only a valid, better (in the task's direction), unvetoed result (line search);
6. record the step, then update the trace's best and the success memory.

K traces run as threads; the executor bounds concurrent sandbox runs by execution slots, so one
trace reasons while another runs. Control flow is by exceptions: ``BudgetExhausted`` ends a
trace, ``Converged`` (the reasoner has no untried change left from the trace's best) ends it
too, and ends the run once every trace has converged; ``InvalidOutput`` and ``SandboxFailure``
fail one step; ``FatalLLMError`` ends the run.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback

from gome.errors import BudgetExhausted, Converged, FatalLLMError, InvalidOutput, SandboxFailure
from gome.journal.models import Decision, StepKind, StepRecord
from gome.optim.session import Session
from gome.optim.steps import MAX_SAME_FAILURES, judge, stuck_reason
from gome.reasoning.types import (
    BestSolution,
    CodeChange,
    Context,
    HistoryEntry,
    Hypothesis,
    HypothesisScores,
    Selection,
)

log = logging.getLogger("gome.optim")

MAX_SANDBOX_FAILURES = 3
"""Consecutive sandbox failures (not the solution's fault) after which the run stops."""
MAX_INTERNAL_ERRORS = 5
"""Consecutive unexpected errors in one trace after which that trace stops."""
class Trace:
    """One trace's state, rebuilt from the journal on resume."""

    def __init__(self, trace: int, steps: list[StepRecord]) -> None:
        self.trace = trace
        self.steps = [s for s in steps if s.kind != StepKind.RERUN]
        self.best: BestSolution | None = None
        for s in self.steps:
            if s.decision == Decision.ACCEPTED and s.code and s.outcome and s.score is not None:
                self.best = BestSolution(step_id=int(s.id or 0), code=s.code, score=s.score,
                                         outcome=s.outcome, summary=s.summary)
        self.merged = any(s.kind == StepKind.MERGE for s in self.steps)
        self.internal_errors = 0

    @property
    def next_index(self) -> int:
        return len(self.steps)

    @property
    def approach(self) -> str:
        drafts = [s for s in self.steps if s.kind == StepKind.DRAFT and s.approach]
        accepted = [s for s in drafts if s.decision == Decision.ACCEPTED]
        return (accepted or drafts)[-1].approach if drafts else ""


def history(steps: list[StepRecord], *, momentum: bool = True) -> list[HistoryEntry]:
    """Every accepted step, then only the failures since the last acceptance (the paper).

    Without momentum (the ablation) the accepted steps are left out: only the failures remain.
    """
    last_ok = max((i for i, s in enumerate(steps) if s.decision == Decision.ACCEPTED), default=-1)
    keep = [s for i, s in enumerate(steps)
            if (s.decision == Decision.ACCEPTED and momentum) or i > last_ok]
    return [_history_entry(s) for s in keep]


def _history_entry(s: StepRecord) -> HistoryEntry:
    hyp = s.selection.hypothesis if s.selection else None
    out = s.outcome or s.debug_outcome
    error = None
    if s.decision != Decision.ACCEPTED:
        error = (out.traceback if out and out.traceback else None) or s.reason
    return HistoryEntry(
        step_id=int(s.id or 0), index=s.index, kind=s.kind.value,
        problem=hyp.problem if hyp else None, hypothesis=hyp.statement if hyp else s.approach,
        component=hyp.component if hyp else None, summary=s.summary,
        accepted=s.decision == Decision.ACCEPTED,
        decision=s.decision.value if s.decision else "", score=s.score, gain=s.gain,
        status=out.status.value if out else "", error=error,
        detail=dict(hyp.detail) if hyp else {},
    )


class GradientOptimizer:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.cfg = session.config
        self._lock = threading.Lock()
        self._sandbox_failures = 0
        done = session.journal.steps(status="done")
        self.traces = [Trace(k, [s for s in done if s.trace == k]) for k in range(self.cfg.traces)]
        self._drafting: dict[int, str] = {}
        self._converged: set[int] = set()
        self._draft_lock = threading.Lock()
        """One draft is reasoned at a time, so that each trace is told what its siblings drafted."""
        self._runtime_text = self._describe_runtime()  # once per session, not per step

    # -- the loop --------------------------------------------------------------------------
    def run(self) -> None:
        """Run all traces until the budget ends (or the run is stopped)."""
        threads = [threading.Thread(target=self._trace_loop, args=(tr,), name=f"trace-{tr.trace}",
                                    daemon=True) for tr in self.traces]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _trace_loop(self, tr: Trace) -> None:
        view = self.s.view
        view.set(tr.trace, step=tr.next_index, best=tr.best.score if tr.best else None)
        while True:
            try:
                self.s.budget.start_step()
            except BudgetExhausted as done:
                view.set(tr.trace, doing=f"done: {done}")
                return
            try:
                self._step(tr)
                tr.internal_errors = 0
                if (reason := stuck_reason(tr.steps)) is not None:
                    log.error("trace %d stopped: its last %d steps failed the same way: %s",
                              tr.trace, MAX_SAME_FAILURES, reason)
                    view.set(tr.trace, doing=f"stopped: {MAX_SAME_FAILURES} identical failures")
                    return
            except Converged as done:
                log.info("trace %d converged: %s", tr.trace, done)
                view.set(tr.trace, doing="converged: no untried change left")
                with self._lock:
                    self._converged.add(tr.trace)
                    everyone = len(self._converged) == len(self.traces)
                if everyone:  # nothing new would be tried: hand the rest of the budget back
                    self.s.budget.stop(f"every trace converged ({done})", cancel_runs=False)
                return
            except FatalLLMError as err:
                self.s.budget.stop(str(err), cancel_runs=False)
            except Exception:  # a bug must not take the run (and its best solution) down
                if self.s.closed.is_set():
                    return  # the run was interrupted and its journal closed under us
                tr.internal_errors += 1
                log.error("trace %d: unexpected error\n%s", tr.trace, traceback.format_exc())
                if tr.internal_errors >= MAX_INTERNAL_ERRORS:
                    view.set(tr.trace, doing="stopped after repeated internal errors")
                    return

    # -- one step --------------------------------------------------------------------------
    def _step(self, tr: Trace) -> None:
        best = tr.best
        if best is None:
            kind = StepKind.DRAFT
        elif self._merge_due(tr):
            kind = StepKind.MERGE
        else:
            kind = StepKind.UNDIRECTED if self.cfg.undirected else StepKind.GRADIENT
        step = self.s.journal.add_step(StepRecord(
            trace=tr.trace, index=tr.next_index, kind=kind,
            parent_id=tr.steps[-1].id if tr.steps else None,
            base_id=best.step_id if best else None,
            seed=self.cfg.seed,
            elapsed_start_s=self.s.budget.elapsed(),
        ))
        ctx = self._context(tr, step)
        phase = self._phase(tr, step)
        fatal: FatalLLMError | None = None
        try:
            phase("reasoning")
            change = self._reason(tr, step, ctx, kind)
            self.s.journal.save_step(step)
            self.s.runner.execute(step, change, ctx, parent_code=best.code if best else None,
                                  phase=phase)
            phase("reviewing")
            judge(step, self.s.task, best.score if best else None,
                  review=lambda: self.s.reasoner.review(ctx, step.code or "", step.outcome),
                  cancelled=self.s.budget.cancel.is_set(),
                  best_outcome=best.outcome if best else None, noise_gate=self.cfg.noise_gate)
            self._sandbox_failures = 0
        except InvalidOutput as err:
            step.decision = Decision.FAILED
            step.reason = f"the reasoner gave no valid result: {err}"
        except SandboxFailure as err:
            step.decision, step.reason = Decision.FAILED, f"sandbox failure: {err}"
            with self._lock:
                self._sandbox_failures += 1
                if self._sandbox_failures >= MAX_SANDBOX_FAILURES:
                    self.s.budget.stop(f"the sandbox failed {MAX_SANDBOX_FAILURES} times in a "
                                       f"row ({err}); check `gome exec` on this machine")
        except FatalLLMError as err:
            step.decision, step.reason, fatal = Decision.FAILED, str(err), err
        except Converged:  # nothing ran: the step never happened
            self.s.journal.discard_step(int(step.id or 0))
            raise
        except Exception as err:
            step.decision, step.reason = Decision.FAILED, f"internal error: {err!r}"
            step.extra["traceback"] = traceback.format_exc()
            self._record(tr, step, ctx)
            raise
        self._record(tr, step, ctx)
        if fatal is not None:
            raise fatal

    def _reason(self, tr: Trace, step: StepRecord, ctx: Context, kind: StepKind) -> CodeChange:
        """Ask the reasoner for the step's new main.py, recording its gradient and choice."""
        r = self.s.reasoner
        if kind == StepKind.DRAFT:
            # The traces start together: without the lock they would all draft blind. Only the
            # reasoning waits; the drafts' sandbox runs still overlap.
            with self._draft_lock:
                ctx.siblings = self._siblings(tr)
                change = r.draft(ctx)
                step.approach = change.approach or change.summary
                with self._lock:
                    self._drafting[tr.trace] = step.approach
            return change
        if kind == StepKind.UNDIRECTED:
            return r.improve(ctx)
        if kind == StepKind.MERGE:
            step.selection = self._merge_selection(tr)
            step.memory_used = list(step.selection.memory_used)
            tr.merged = True
            return r.implement(ctx, step.selection)
        step.gradient = r.diagnose(ctx)
        step.hypotheses = r.propose(ctx, step.gradient)
        if not step.hypotheses:
            raise InvalidOutput("no hypothesis was proposed")
        assert ctx.best is not None
        memory = self.s.memory.ranked(step.hypotheses, trace_best=ctx.best.score,
                                      steps_now=int(step.id or 0))
        step.selection = r.select(ctx, step.hypotheses, memory)
        step.memory_used = list(step.selection.memory_used) or [m.id for m in memory]
        return r.implement(ctx, step.selection)

    def _record(self, tr: Trace, step: StepRecord, ctx: Context) -> None:
        """Commit the finished step, then update the trace's best and the success memory."""
        step.status = "done"
        step.finished_at = time.time()
        step.elapsed_end_s = self.s.budget.elapsed()
        step.cost_usd = sum(c.cost_usd for c in ctx.llm_calls)
        step.tokens_in = sum(c.tokens_in for c in ctx.llm_calls)
        step.tokens_out = sum(c.tokens_out for c in ctx.llm_calls)
        self.s.journal.add_llm_calls(step.id, step.trace, ctx.llm_calls)
        self.s.journal.save_step(step)
        tr.steps.append(step)
        view = self.s.view
        tv = view.trace(tr.trace)
        if step.cost_usd:
            view.set(tr.trace, cost_usd=tv.cost_usd + step.cost_usd)
        accepted = step.decision == Decision.ACCEPTED
        if accepted and step.code and step.outcome and step.score is not None:
            tr.best = BestSolution(step_id=int(step.id or 0), code=step.code, score=step.score,
                                   outcome=step.outcome, summary=step.summary)
            self.s.memory.remember(step)
            view.set(tr.trace, best=step.score, accepted=tv.accepted + 1)
            view.last_accepted = (f"step #{step.id} (trace {tr.trace}): {step.summary} "
                                  f"({step.reason})")
        elif step.decision in (Decision.FAILED, Decision.ABORTED):
            view.set(tr.trace, failed=tv.failed + 1)
        view.set(tr.trace, step=tr.next_index,
                 doing=step.decision.value if step.decision else "?")
        view.steps += 1
        log.info("trace %d step %d (%s): %s - %s", tr.trace, step.index, step.kind.value,
                 step.decision.value if step.decision else "?", step.reason)

    # -- context ---------------------------------------------------------------------------
    def _context(self, tr: Trace, step: StepRecord) -> Context:
        b = self.s.budget
        return Context(
            task=self.s.task, run_seed=self.cfg.seed, trace=tr.trace, trace_step=tr.next_index,
            best=tr.best, history=history(tr.steps, momentum=self.cfg.momentum),
            siblings=self._siblings(tr), time_used_frac=b.frac_used(), time_left_s=b.time_left(),
            stage=b.stage(), runtime=self._runtime_text,
            debug_time_limit_s=self.cfg.debug_time_limit_s,
            full_time_limit_s=self.cfg.full_time_limit_s,
            step_seed=self.cfg.seed * 1_000_003 + tr.trace * 10_007 + tr.next_index,
        )

    def _siblings(self, tr: Trace) -> list[str]:
        """The approaches the other traces drafted (this session or, on resume, earlier)."""
        with self._lock:
            siblings = [a for k, a in self._drafting.items() if k != tr.trace and a]
        siblings += [t.approach for t in self.traces if t is not tr and t.approach
                     and t.approach not in siblings]
        return siblings

    def _describe_runtime(self) -> str:
        try:
            from gome.sandbox.runtime import describe_runtime

            return describe_runtime(self.cfg.python).to_prompt()
        except Exception:  # the runtime description is a hint, not a requirement
            return ""

    def _phase(self, tr: Trace, step: StepRecord):  # noqa: ANN202 - a small closure
        def phase(what: str) -> None:
            self.s.view.set(tr.trace, step=step.index, doing=f"{step.kind.value}: {what}")

        return phase

    # -- merge phase -----------------------------------------------------------------------
    def _merge_due(self, tr: Trace) -> bool:
        if not self.cfg.merge or tr.merged or len(self.traces) < 2:
            return False
        if self.s.budget.progress() < self.cfg.merge_at_frac:  # time or steps
            return False
        return any(e.trace != tr.trace for e in self.s.memory.entries())

    def _merge_selection(self, tr: Trace) -> Selection:
        """A fused hypothesis: adopt the best successes of the other traces into x_t."""
        others = [e for e in self.s.memory.entries() if e.trace != tr.trace]
        others.sort(key=lambda e: (-(e.gain or 0.0), -e.id))  # gain > 0 means better
        picked = others[:3]
        hyp = Hypothesis(
            problem="merge",
            statement="Adopt what succeeded on other traces: "
            + "; ".join(f"{e.hypothesis} (trace {e.trace})" for e in picked),
            component=picked[0].component if picked else "ensemble",
            scores=HypothesisScores(alignment=7, impact=7, novelty=6, feasibility=7,
                                    risk_reward=7),
            detail={"merge": [e.detail for e in picked], "memory_ids": [e.id for e in picked]},
        )
        return Selection(hypothesis=hyp, reason="merge phase near the end of the budget",
                         memory_used=[e.id for e in picked])


def run_gradient(session: Session) -> None:
    """Run gome's gradient optimizer on an opened session until its budget ends."""
    GradientOptimizer(session).run()

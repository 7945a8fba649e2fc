"""The tree-search baseline: AIDE's greedy search policy in gome's harness.

Every step expands one node of a tree of whole ``main.py`` solutions (AIDE, `aide/agent.py`):

1. while fewer than ``num_drafts`` roots exist, draft a new root;
2. otherwise, with probability ``debug_prob``, debug a failed leaf whose chain of debug steps is
   still shorter than ``max_debug_depth``;
3. otherwise improve the best valid node ("improve this solution", from its code and score);
4. draft again while no node is valid.

It is *undirected*: it uses the reasoner's ``draft``, ``improve`` and ``fix`` only, never the
diagnosis, selection or success memory. Everything else is gome's: the same step execution
(debug run with fixes, full run, submission check, score), the same line search and review
(:func:`gome.optim.steps.judge`, against the best node so far, so that the final selection's
"best accepted step" is the best node of the tree), the same budget, journal and final
selection. Each node is one journal step: ``kind`` DRAFT / DEBUG / UNDIRECTED, ``parent_id`` the
node it expanded, ``trace`` the root it descends from. Nodes are expanded one at a time, as AIDE
does; the policy's coin flips are seeded by (run seed, node count), so a resumed run and a rerun
with the same seed make the same choices.
"""

from __future__ import annotations

import logging
import random
import time
import traceback
from dataclasses import dataclass

from gome.errors import BudgetExhausted, FatalLLMError, InvalidOutput, SandboxFailure
from gome.journal.models import Decision, StepKind, StepRecord
from gome.optim.session import Session
from gome.optim.steps import MAX_SAME_FAILURES, judge, stuck_reason
from gome.reasoning.types import BestSolution, CodeChange, Context, HistoryEntry
from gome.sandbox.outcome import Outcome

log = logging.getLogger("gome.optim")

MAX_SANDBOX_FAILURES = 3
"""Consecutive sandbox failures (not the solution's fault) after which the run stops."""
MAX_INTERNAL_ERRORS = 5
"""Consecutive unexpected errors after which the search stops."""


@dataclass(frozen=True)
class Action:
    """What the policy chose for the next node."""

    kind: StepKind
    parent: StepRecord | None = None
    reason: str = ""


class Tree:
    """The nodes so far (finished journal steps) and the questions the policy asks of them."""

    def __init__(self, nodes: list[StepRecord], higher_is_better: bool) -> None:
        self.nodes = [n for n in nodes if n.kind != StepKind.RERUN and n.status == "done"]
        self.higher = higher_is_better
        self._by_id = {n.id: n for n in self.nodes}

    def add(self, node: StepRecord) -> None:
        self.nodes.append(node)
        self._by_id[node.id] = node

    @property
    def drafts(self) -> list[StepRecord]:
        return [n for n in self.nodes if n.kind == StepKind.DRAFT]

    def good(self) -> list[StepRecord]:
        """Valid, scored, unvetoed nodes (AIDE's 'good nodes')."""
        return [n for n in self.nodes if n.valid and n.score is not None and n.code
                and n.decision in (Decision.ACCEPTED, Decision.REJECTED)]

    def best(self) -> StepRecord | None:
        good = self.good()
        if not good:
            return None
        sign = 1.0 if self.higher else -1.0
        # The earliest of equal scores wins, so the choice does not depend on timing.
        return max(good, key=lambda n: (sign * float(n.score or 0.0), -(n.id or 0)))

    def is_leaf(self, node: StepRecord) -> bool:
        return not any(n.parent_id == node.id for n in self.nodes)

    def debug_depth(self, node: StepRecord) -> int:
        """How many debug steps in a row led to this node (0 for drafts and improvements)."""
        depth = 0
        while node is not None and node.kind == StepKind.DEBUG:
            depth += 1
            node = self._by_id.get(node.parent_id)  # type: ignore[assignment]
        return depth

    def root_of(self, node: StepRecord) -> int:
        return node.trace

    def debuggable(self, max_depth: int) -> list[StepRecord]:
        """Failed leaves with code whose debug chain may still grow."""
        return [n for n in self.nodes if n.decision == Decision.FAILED and n.code
                and self.is_leaf(n) and self.debug_depth(n) < max_depth]


def choose(tree: Tree, *, num_drafts: int, debug_prob: float, max_debug_depth: int,
           rng: random.Random) -> Action:
    """AIDE's search policy (one node at a time)."""
    if len(tree.drafts) < num_drafts:
        return Action(StepKind.DRAFT, reason=f"root {len(tree.drafts) + 1} of {num_drafts}")
    if rng.random() < debug_prob:
        buggy = tree.debuggable(max_debug_depth)
        if buggy:
            node = rng.choice(buggy)
            return Action(StepKind.DEBUG, node,
                          reason=f"debug failed leaf {node.id} (depth {tree.debug_depth(node)})")
    best = tree.best()
    if best is None:
        return Action(StepKind.DRAFT, reason="no valid node yet: draft again")
    return Action(StepKind.UNDIRECTED, best, reason=f"improve the best node {best.id}")


class TreeSearch:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.cfg = session.config
        self.settings = session.config.tree
        self.tree = Tree(session.journal.steps(status="done"), session.task.higher_is_better)
        self._sandbox_failures = 0
        self._internal_errors = 0

    def run(self) -> None:
        """Expand nodes until the budget ends (or the run is stopped)."""
        while True:
            try:
                self.s.budget.start_step()
            except BudgetExhausted as done:
                self.s.view.message = f"done: {done}"
                return
            try:
                self._step()
                self._internal_errors = 0
                ordered = sorted(self.tree.nodes, key=lambda x: x.id or 0)
                if (reason := stuck_reason(ordered)) is not None:
                    log.error("tree search stopped: its last %d nodes failed the same way: %s",
                              MAX_SAME_FAILURES, reason)
                    self.s.view.message = f"stopped: {MAX_SAME_FAILURES} identical failures"
                    return
            except FatalLLMError as err:
                self.s.budget.stop(str(err), cancel_runs=False)
            except Exception:  # a bug must not take the run (and its best solution) down
                self._internal_errors += 1
                log.error("tree search: unexpected error\n%s", traceback.format_exc())
                if self._internal_errors >= MAX_INTERNAL_ERRORS:
                    self.s.view.message = "stopped after repeated internal errors"
                    return

    # -- one node --------------------------------------------------------------------------
    def _step(self) -> None:
        n = len(self.tree.nodes)
        rng = random.Random(self.cfg.seed * 1_000_003 + n)
        action = choose(self.tree, num_drafts=self.settings.num_drafts,
                        debug_prob=self.settings.debug_prob,
                        max_debug_depth=self.settings.max_debug_depth, rng=rng)
        parent = action.parent
        trace = len(self.tree.drafts) if parent is None else self.tree.root_of(parent)
        index = sum(1 for x in self.tree.nodes if x.trace == trace)
        best = self.tree.best()
        step = self.s.journal.add_step(StepRecord(
            trace=trace, index=index, kind=action.kind,
            parent_id=parent.id if parent else None,
            base_id=parent.id if parent else None,
            seed=self.cfg.seed,
            elapsed_start_s=self.s.budget.elapsed(),
            extra={"tree": {"policy": action.reason,
                            "debug_depth": (self.tree.debug_depth(parent) + 1
                                            if action.kind == StepKind.DEBUG and parent else 0)}},
        ))
        ctx = self._context(step, action, step_seed=self.cfg.seed * 1_000_003 + n)
        phase = self._phase(step)
        fatal: FatalLLMError | None = None
        try:
            phase("reasoning")
            change = self._reason(step, ctx, action)
            self.s.journal.save_step(step)
            self.s.runner.execute(step, change, ctx, parent_code=parent.code if parent else None,
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
            self._sandbox_failures += 1
            if self._sandbox_failures >= MAX_SANDBOX_FAILURES:
                self.s.budget.stop(f"the sandbox failed {MAX_SANDBOX_FAILURES} times in a row "
                                   f"({err}); check `gome exec` on this machine")
        except FatalLLMError as err:
            step.decision, step.reason, fatal = Decision.FAILED, str(err), err
        except Exception as err:
            step.decision, step.reason = Decision.FAILED, f"internal error: {err!r}"
            step.extra["traceback"] = traceback.format_exc()
            self._record(step, ctx)
            raise
        self._record(step, ctx)
        if fatal is not None:
            raise fatal

    def _reason(self, step: StepRecord, ctx: Context, action: Action) -> CodeChange:
        r = self.s.reasoner
        if action.kind == StepKind.DRAFT:
            change = r.draft(ctx)
            step.approach = change.approach or change.summary
            return change
        assert action.parent is not None
        if action.kind == StepKind.DEBUG:
            return r.fix(ctx, action.parent.code or "", _failure_evidence(action.parent))
        return r.improve(ctx)

    def _record(self, step: StepRecord, ctx: Context) -> None:
        """Commit the finished node before the next one starts."""
        step.status = "done"
        step.finished_at = time.time()
        step.elapsed_end_s = self.s.budget.elapsed()
        step.cost_usd = sum(c.cost_usd for c in ctx.llm_calls)
        step.tokens_in = sum(c.tokens_in for c in ctx.llm_calls)
        step.tokens_out = sum(c.tokens_out for c in ctx.llm_calls)
        self.s.journal.add_llm_calls(step.id, step.trace, ctx.llm_calls)
        self.s.journal.save_step(step)
        self.tree.add(step)
        view = self.s.view
        tv = view.trace(step.trace)
        if step.decision == Decision.ACCEPTED:
            view.set(step.trace, best=step.score, accepted=tv.accepted + 1)
            view.last_accepted = f"node {step.id} ({step.kind.value}): {step.summary} " \
                                 f"({step.reason})"
        elif step.decision in (Decision.FAILED, Decision.ABORTED):
            view.set(step.trace, failed=tv.failed + 1)
        view.set(step.trace, step=step.index,
                 doing=step.decision.value if step.decision else "?")
        view.steps += 1
        log.info("tree node %d (%s, parent %s): %s - %s", step.id, step.kind.value,
                 step.parent_id, step.decision.value if step.decision else "?", step.reason)

    # -- context ---------------------------------------------------------------------------
    def _context(self, step: StepRecord, action: Action, *, step_seed: int) -> Context:
        """What the operator sees: for improve the node and its score, and (as AIDE's memory)
        a summary of the valid nodes so far; siblings are the other roots' approaches."""
        b = self.s.budget
        parent = action.parent
        best = None
        if action.kind == StepKind.UNDIRECTED and parent is not None and parent.outcome:
            best = BestSolution(step_id=int(parent.id or 0), code=parent.code or "",
                                score=float(parent.score or 0.0), outcome=parent.outcome,
                                summary=parent.summary)
        return Context(
            task=self.s.task, run_seed=self.cfg.seed, trace=step.trace, trace_step=step.index,
            best=best, history=[_entry(n) for n in self.tree.good()],
            siblings=[d.approach for d in self.tree.drafts if d.approach],
            time_used_frac=b.frac_used(), time_left_s=b.time_left(), stage=b.stage(),
            runtime=self._runtime(), debug_time_limit_s=self.cfg.debug_time_limit_s,
            full_time_limit_s=self.cfg.full_time_limit_s, step_seed=step_seed,
        )

    _runtime_text: str | None = None

    def _runtime(self) -> str:
        if self._runtime_text is None:
            try:
                from gome.sandbox.runtime import describe_runtime

                self._runtime_text = describe_runtime(self.cfg.python).to_prompt()
            except Exception:  # the runtime description is a hint, not a requirement
                self._runtime_text = ""
        return self._runtime_text

    def _phase(self, step: StepRecord):  # noqa: ANN202 - a small closure
        def phase(what: str) -> None:
            self.s.view.set(step.trace, step=step.index, doing=f"{step.kind.value}: {what}")

        return phase


def _failure_evidence(node: StepRecord) -> Outcome:
    """The failed node's run, with the reason it was not valid when the run itself was ok."""
    outcome = node.outcome or node.debug_outcome
    if outcome is None:
        from gome.sandbox.outcome import RunStatus

        return Outcome(status=RunStatus.ERROR, message=node.reason or node.validation_message)
    if outcome.ok and (node.validation_message or node.reason):
        return outcome.model_copy(update={"message": node.validation_message or node.reason})
    return outcome


def _entry(node: StepRecord) -> HistoryEntry:
    return HistoryEntry(
        step_id=int(node.id or 0), index=node.index, kind=node.kind.value,
        hypothesis=node.approach or None, summary=node.summary,
        accepted=node.decision == Decision.ACCEPTED,
        decision=node.decision.value if node.decision else "", score=node.score, gain=node.gain,
        status=node.outcome.status.value if node.outcome else "",
    )


def run_tree(session: Session) -> None:
    """Run the tree-search baseline on an opened session until its budget ends."""
    TreeSearch(session).run()

"""The run's budget: a wall clock that survives resumes, a step limit and the reasoner's own budget.

The clock is the sum of the time spent by earlier sessions of the run (``RunRecord.time_used_s``,
kept fresh by a heartbeat thread so that even ``kill -9`` loses at most a few seconds) and the
time spent since this session started. When the clock runs out, ``cancel`` is set so that the
sandbox runs in flight are stopped; when only the reasoner's budget is spent (LLM cost or calls),
no new step starts but runs in flight finish.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

from gome.errors import BudgetExhausted
from gome.reasoning.types import Stage

DRAFT_STAGE_FRAC = 0.10
"""Below this share of the time used, selection favours safe, high-impact fixes (the paper)."""
ENSEMBLE_STAGE_FRAC = 0.65
"""Above this share, selection favours ensembles, folds and seeds (the paper: 60-70%)."""


class Budget:
    """Thread-safe budget shared by all traces of one run session."""

    def __init__(
        self,
        time_limit_s: float,
        *,
        max_steps: int | None = None,
        time_used_s: float = 0.0,
        steps_done: int = 0,
        reasoner_exhausted: Callable[[], str | None] | None = None,
        heartbeat: Callable[[float], None] | None = None,
        heartbeat_every_s: float = 2.0,
    ) -> None:
        self.time_limit_s = float(time_limit_s)
        self.max_steps = max_steps
        self._base = float(time_used_s)
        self._t0 = time.monotonic()
        self._steps_started = steps_done
        self._lock = threading.Lock()
        self._reasoner_exhausted = reasoner_exhausted
        self._heartbeat = heartbeat
        self._heartbeat_every_s = heartbeat_every_s
        self._stop_reason: str | None = None
        self.cancel = threading.Event()
        """Set when the time is up or the run is stopped: kills runs in flight."""
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="gome-budget", daemon=True)
        self._thread.start()

    # -- clock -----------------------------------------------------------------------------
    def elapsed(self) -> float:
        """Run-clock seconds used, over all sessions of this run."""
        return self._base + (time.monotonic() - self._t0)

    def time_left(self) -> float:
        return max(0.0, self.time_limit_s - self.elapsed())

    def frac_used(self) -> float:
        return min(1.0, self.elapsed() / self.time_limit_s) if self.time_limit_s else 1.0

    def progress(self) -> float:
        """The share of the budget used: of the time or of the step limit, whichever is further.

        A run bounded by ``--steps`` with a generous clock is near its end when its steps are,
        so phases meant for the end of the budget (the merge phase) must look at both.
        """
        frac = self.frac_used()
        if self.max_steps:
            frac = max(frac, min(1.0, self._steps_started / self.max_steps))
        return frac

    def stage(self) -> Stage:
        """draft, improve or ensemble, by the share of the budget used (time or steps): a run
        bounded by ``--steps`` must reach its ensemble stage too."""
        frac = self.progress()
        if frac < DRAFT_STAGE_FRAC:
            return "draft"
        if frac > ENSEMBLE_STAGE_FRAC:
            return "ensemble"
        return "improve"

    @property
    def steps_started(self) -> int:
        return self._steps_started

    # -- stopping --------------------------------------------------------------------------
    def exhausted(self) -> str | None:
        """Why no new step may start, or None while there is budget left."""
        if self._stop_reason:
            return self._stop_reason
        if self.elapsed() >= self.time_limit_s:
            return "the time budget is spent"
        if self.max_steps is not None and self._steps_started >= self.max_steps:
            return f"the step limit ({self.max_steps}) is reached"
        if self._reasoner_exhausted is not None:
            reason = self._reasoner_exhausted()
            if reason:
                return reason
        return None

    def start_step(self) -> None:
        """Count one new step, or raise :class:`BudgetExhausted` if none may start."""
        with self._lock:
            reason = self.exhausted()
            if reason:
                raise BudgetExhausted(reason)
            self._steps_started += 1

    def stop(self, reason: str, *, cancel_runs: bool = True) -> None:
        """End the run early (fatal error, interrupt): no new step; optionally kill runs."""
        with self._lock:
            if not self._stop_reason:
                self._stop_reason = reason
        if cancel_runs:
            self.cancel.set()

    @property
    def stop_reason(self) -> str | None:
        return self._stop_reason

    def close(self) -> None:
        """Stop the watcher and write the clock one last time."""
        self._closed.set()
        self._thread.join(timeout=5)
        self._beat()

    def _beat(self) -> None:
        if self._heartbeat is not None:
            with contextlib.suppress(Exception):  # a heartbeat must never kill the run
                self._heartbeat(self.elapsed())

    def _watch(self) -> None:
        """Heartbeat, and cancel the runs in flight when the clock runs out."""
        last_beat = 0.0
        while not self._closed.is_set():
            now = time.monotonic()
            if now - last_beat >= self._heartbeat_every_s:
                self._beat()
                last_beat = now
            if self.elapsed() >= self.time_limit_s:
                self.cancel.set()
            wait = min(self._heartbeat_every_s, max(0.05, self.time_left()), 0.5)
            self._closed.wait(wait)

"""HeuristicReasoner: the offline, deterministic reasoner for tabular competitions.

It implements every operator of :class:`gome.reasoning.base.Reasoner` by rules over a data
profile and the evidence each run leaves in scores.json. Its solutions are described by a
``SolutionSpec`` embedded in the generated main.py, so every operator works from the code alone.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from typing import Any

from gome.errors import Converged, InvalidOutput
from gome.reasoning.heuristic import diagnosis as dx
from gome.reasoning.heuristic.drafts import choose_approach, draft_spec
from gome.reasoning.heuristic.fixes import repair
from gome.reasoning.heuristic.mutations import MUTATIONS, applicable
from gome.reasoning.heuristic.noise import wrong_gradient
from gome.reasoning.heuristic.profile import (
    DataProfile,
    build_profile,
    metric_key,
    require_tabular,
)
from gome.reasoning.heuristic.proposals import choose, hypotheses_for, tried_from_best
from gome.reasoning.heuristic.render import render
from gome.reasoning.heuristic.review import review_run
from gome.reasoning.heuristic.spec import SolutionSpec, recover_spec
from gome.reasoning.types import (
    CodeChange,
    Context,
    Gradient,
    Hypothesis,
    HypothesisScores,
    MemoryEntry,
    Review,
    Selection,
)
from gome.sandbox.outcome import Outcome
from gome.task.model import Task

FALLBACK_PROBLEM = "no clear problem"


class HeuristicReasoner:
    """Rule-based reasoner; same inputs and seed give the same outputs."""

    name = "heuristic"

    def __init__(self, task: Task, *, seed: int = 0, noise: float = 0.0) -> None:
        require_tabular(task)  # GomeError: needs an LLM reasoner
        metric_key(task.metric)  # GomeError: metric it cannot compute inside main.py
        if not 0.0 <= noise <= 1.0:
            raise ValueError("noise is a probability between 0 and 1")
        self.task = task
        self.seed = seed
        self.noise = noise
        self._profile: DataProfile | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ helpers
    @property
    def profile(self) -> DataProfile:
        """The data profile, read from the public files on first use (thread-safe)."""
        with self._lock:
            if self._profile is None:
                self._profile = build_profile(self.task)
            return self._profile

    def _rng(self, ctx: Context, op: str) -> random.Random:
        key = f"{self.seed}|{ctx.run_seed}|{ctx.trace}|{ctx.trace_step}|{ctx.step_seed}|{op}"
        return random.Random(int(hashlib.sha256(key.encode()).hexdigest()[:16], 16))

    def _render(self, spec: SolutionSpec) -> str:
        return render(spec, task_name=self.task.name, metric_key=self.profile.metric_key)

    def _best_spec(self, ctx: Context) -> SolutionSpec:
        if ctx.best is None:
            raise InvalidOutput("the trace has no best solution yet: draft one first")
        return recover_spec(ctx.best.code)

    # ------------------------------------------------------------------ operators
    def draft(self, ctx: Context) -> CodeChange:
        approach = choose_approach(ctx.trace, ctx.siblings, self.profile.n_train)
        spec = draft_spec(self.profile, approach, self.task.higher_is_better, self.task.metric)
        return CodeChange(code=self._render(spec), summary=f"first solution: {spec.approach}",
                          approach=spec.approach)

    def diagnose(self, ctx: Context) -> Gradient:
        spec = self._best_spec(ctx)
        weight = dx.task_weight(ctx.history)
        problems = dx.task_problems(spec, self.profile) + dx.feedback_problems(
            ctx, spec, self.profile)
        rank = {"high": 3, "medium": 2, "low": 1}
        problems.sort(key=lambda p: -rank[p.expected_impact]
                      * (weight if p.source == "task" else 1 - weight + 1e-3))
        gradient = Gradient(problems=problems, analysis=dx.analysis_text(problems, weight),
                            task_weight=weight)
        rng = self._rng(ctx, "noise")
        if self.noise > 0 and rng.random() < self.noise:
            return wrong_gradient(ctx, gradient, spec, self.profile, rng)
        return gradient

    def propose(self, ctx: Context, gradient: Gradient) -> list[Hypothesis]:
        spec = self._best_spec(ctx)
        tried = tried_from_best(ctx)
        out = hypotheses_for(ctx, gradient, spec, self.profile, tried)
        if out:
            return out
        # nothing the rules can address: offer generic, still single, changes
        for name in ("capacity", "add_model", "seed_average", "slower_learning", "swap_model"):
            m = MUTATIONS[name]
            if m.applies(spec, self.profile) and name not in tried:
                out.append(Hypothesis(
                    problem=FALLBACK_PROBLEM, statement=m.statement + ".", component=m.component,
                    scores=HypothesisScores(alignment=3, impact=4, novelty=5, feasibility=
                                            m.feasibility, risk_reward=m.risk_reward),
                    detail={"mutation": name, "set": m.patch(spec, self.profile),
                            "source": "feedback"}))
        if not out:
            assert ctx.best is not None
            raise Converged(
                f"every change the heuristic reasoner knows was run from step #{ctx.best.step_id} "
                f"({len(tried)} of them) and none beat it")
        return out

    def select(self, ctx: Context, hypotheses: list[Hypothesis],
               memory: list[MemoryEntry]) -> Selection:
        if not hypotheses:
            raise InvalidOutput("no hypothesis to select from")
        rng = self._rng(ctx, "select")
        jitter = [rng.random() * 1e-3 for _ in hypotheses]
        return choose(ctx, hypotheses, memory, dx.task_weight(ctx.history), jitter)

    def implement(self, ctx: Context, selection: Selection) -> CodeChange:
        spec = self._best_spec(ctx)
        h = selection.hypothesis
        name = h.detail.get("mutation")
        if name in MUTATIONS and MUTATIONS[name].applies(spec, self.profile):
            patch = MUTATIONS[name].patch(spec, self.profile)
        elif isinstance(h.detail.get("set"), dict):
            patch = h.detail["set"]
        else:
            raise InvalidOutput(f"hypothesis {h.statement[:80]!r} carries no change this "
                                "reasoner can apply (no known mutation or spec patch)")
        try:
            new = spec.patched(patch)
        except ValueError as exc:
            raise InvalidOutput(f"the spec patch is invalid: {exc}") from exc
        if new == spec:
            raise InvalidOutput(f"{name or 'the change'} makes no difference to this solution")
        return CodeChange(code=self._render(new),
                          summary=f"{h.statement} [{describe_patch(spec, new)}]")

    def improve(self, ctx: Context) -> CodeChange:
        spec = self._best_spec(ctx)
        names = applicable(spec, self.profile)
        rng = self._rng(ctx, "improve")
        rng.shuffle(names)
        for name in names:
            new = spec.patched(MUTATIONS[name].patch(spec, self.profile))
            if new != spec:
                return CodeChange(code=self._render(new),
                                  summary=f"{MUTATIONS[name].statement} "
                                  f"[{describe_patch(spec, new)}]")
        raise InvalidOutput("no applicable change left for this solution")

    def fix(self, ctx: Context, code: str, outcome: Outcome) -> CodeChange:
        spec = recover_spec(code)
        try:
            rep = repair(spec, self.profile, outcome)
        except ValueError as exc:
            raise InvalidOutput(str(exc)) from exc
        return CodeChange(code=self._render(rep.spec), summary=f"fix: {rep.summary}")

    def review(self, ctx: Context, code: str, outcome: Outcome) -> Review:
        try:
            spec: SolutionSpec | None = recover_spec(code)
        except InvalidOutput:
            spec = None
        return review_run(spec, self.profile, outcome, self.task.higher_is_better)


def _diff(a: Any, b: Any, path: str, out: list[str]) -> None:
    """Append ``path old -> new`` for every leaf that differs; list items of dicts (models)
    that appear or disappear are named once, by their ``kind``."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(b) + [k for k in a if k not in b]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in a:
                out.append(f"{sub} = {_short(b[key])}")
            elif key not in b:
                out.append(f"{sub} removed")
            else:
                _diff(a[key], b[key], sub, out)
    elif (isinstance(a, list) and isinstance(b, list)
          and all(isinstance(v, dict) for v in a + b) and (a or b)):
        for i in range(max(len(a), len(b))):
            item = f"{path}[{i}]"
            if i >= len(a):
                out.append(f"added {item}: {b[i].get('kind', _short(b[i]))}")
            elif i >= len(b):
                out.append(f"removed {item}: {a[i].get('kind', _short(a[i]))}")
            else:
                _diff(a[i], b[i], item, out)
    elif a != b:
        out.append(f"{path} {_short(a)} -> {_short(b)}")


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def describe_patch(old: SolutionSpec, new: SolutionSpec, *, limit: int = 6) -> str:
    """What a change did to the solution, as a reader wants it in a summary line:
    ``models[0].params.learning_rate 0.05 -> 0.025; added models[1]: xgboost``."""
    parts: list[str] = []
    _diff(old.model_dump(mode="json"), new.model_dump(mode="json"), "", parts)
    if len(parts) > limit:
        parts = parts[:limit] + [f"and {len(parts) - limit} more"]
    return "; ".join(parts) or "no change"

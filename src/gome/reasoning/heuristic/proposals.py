"""propose and select: problems -> scored single-change hypotheses -> one choice with momentum."""

from __future__ import annotations

from gome.reasoning.heuristic.diagnosis import REMEDIES, handles_missing_natively
from gome.reasoning.heuristic.mutations import MUTATIONS
from gome.reasoning.heuristic.profile import DataProfile
from gome.reasoning.heuristic.spec import SolutionSpec
from gome.reasoning.types import (
    Context,
    Gradient,
    Hypothesis,
    HypothesisScores,
    MemoryEntry,
    Problem,
    Selection,
)

IMPACT = {"high": 8, "medium": 6, "low": 4}
RECALL_METRICS = {"balanced_accuracy", "f1_binary", "f1_macro", "qwk"}
"""Metrics that reward getting rare classes right; class weights distort probabilities and
trade overall accuracy for minority recall, so they are a remedy only for these."""


def suits(name: str, spec: SolutionSpec, profile: DataProfile) -> bool:
    """Whether a remedy can fix its problem for this solution and metric (not just apply)."""
    if name == "class_weight":
        return profile.metric_key in RECALL_METRICS
    if name == "missing_indicators":
        return not handles_missing_natively(spec)
    return True


def expected_impact(problem: Problem, mutation: str) -> int:
    """Impact of a hypothesis = how much its problem matters, tempered by how often the change
    helps in general (its prior): a severe problem with an unreliable remedy is a weak bet."""
    return max(1, min(10, round((IMPACT[problem.expected_impact] + MUTATIONS[mutation].prior)
                                / 2)))


def novelty(ctx: Context, mutation: str) -> int:
    """The paper's rule: 1 for a change this trace already tried and lost with, unless that try
    crashed on a bug; a change that was accepted before may go further in the same direction."""
    statement = MUTATIONS[mutation].statement
    hits = [h for h in ctx.history if (h.detail or {}).get("mutation") == mutation
            or (h.hypothesis or "").startswith(statement)]
    if not hits:
        return 9
    lost = [h for h in hits if not h.accepted]
    if lost and all(h.status not in ("", "ok") for h in lost):
        return 6
    if lost:
        return 1
    return max(2, 5 - len(hits))


def tried_from_best(ctx: Context) -> set[str]:
    """Changes already run from the trace's current best (the steps after its last acceptance).

    Every step runs on the same folds with the same seed, so the same change from the same best
    gives the same score again: proposing it would spend a run to learn nothing. A change that
    lost from an *earlier* best is different: it is tried again, with low novelty. A run that
    crashed or timed out does not count as tried (a fix or a quieter machine may change it)."""
    if ctx.best is None:
        return set()
    return {str(h.detail["mutation"]) for h in ctx.history
            if h.step_id > ctx.best.step_id and h.detail.get("mutation")
            and h.decision not in ("aborted", "") and h.status in ("", "ok")}


def _affordable(ctx: Context, cost: float) -> bool:
    if ctx.best is None:
        return True
    wall = ctx.best.outcome.wall_time_s
    limit = ctx.best.outcome.time_limit_s or ctx.full_time_limit_s
    return wall * cost < 0.8 * limit and wall * cost < max(ctx.time_left_s, 1.0)


def hypotheses_for(ctx: Context, gradient: Gradient, spec: SolutionSpec,
                   profile: DataProfile, tried: set[str]) -> list[Hypothesis]:
    """Hypotheses for the gradient's problems, leaving out the changes in ``tried`` (already run
    from the current best, see :func:`tried_from_best`)."""
    out: list[Hypothesis] = []
    seen = set(tried)
    for problem in gradient.problems:
        for rank, name in enumerate(REMEDIES.get(problem.caption, [])):
            m = MUTATIONS[name]
            if name in seen or not m.applies(spec, profile) or not suits(name, spec, profile):
                continue
            seen.add(name)
            feasibility = m.feasibility if _affordable(ctx, m.cost) else max(1, m.feasibility - 5)
            scores = HypothesisScores(
                alignment=max(1, 9 - 2 * rank),
                impact=expected_impact(problem, name),
                novelty=novelty(ctx, name),
                feasibility=feasibility,
                risk_reward=m.risk_reward,
            )
            patch = m.patch(spec, profile)
            out.append(Hypothesis(
                problem=problem.caption,
                statement=f"{m.statement}, because {problem.statement[0].lower()}"
                f"{problem.statement[1:].rstrip('.')}.",
                component=m.component,
                scores=scores,
                detail={"mutation": name, "set": patch, "source": problem.source},
            ))
    if problems_exhausted(out) and gradient.problems:
        out.extend(diversify(ctx, gradient, spec, profile, seen))
    return out


def problems_exhausted(hyps: list[Hypothesis]) -> bool:
    """True when every remedy of the diagnosis was tried and lost already."""
    return all(h.scores.novelty <= 1 for h in hyps)


def diversify(ctx: Context, gradient: Gradient, spec: SolutionSpec, profile: DataProfile,
              seen: set[str]) -> list[Hypothesis]:
    """Untried changes, aimed at the plateau (or the main problem), when the direct remedies
    are exhausted: a stuck trace explores instead of repeating itself."""
    target = next((p for p in gradient.problems if p.caption == "plateau"), gradient.problems[0])
    out = []
    for name, m in MUTATIONS.items():
        if (name in seen or not m.applies(spec, profile) or not suits(name, spec, profile)
                or novelty(ctx, name) <= 1):
            continue
        feasibility = m.feasibility if _affordable(ctx, m.cost) else max(1, m.feasibility - 5)
        out.append(Hypothesis(
            problem=target.caption,
            statement=f"{m.statement}, to move off the plateau: the direct remedies of "
            f"'{target.caption}' were tried and lost.",
            component=m.component,
            scores=HypothesisScores(
                alignment=4, impact=max(1, min(10, (5 + m.prior) // 2)),
                novelty=novelty(ctx, name),
                feasibility=feasibility, risk_reward=m.risk_reward),
            detail={"mutation": name, "set": m.patch(spec, profile), "source": "feedback"},
        ))
    return out


def stage_bonus(ctx: Context, h: Hypothesis) -> float:
    """Early: safe, cheap fixes; late: ensembles, folds and seeds (the paper's stages).

    Averaging seeds or blending families counts as safe early too: it rarely hurts."""
    if ctx.stage == "draft":
        return 1.0 if h.scores.feasibility >= 8 or h.component == "ensemble" else 0.0
    if ctx.stage == "ensemble":
        return 2.0 if h.component in ("ensemble", "validation") else 0.0
    return 0.0


def momentum(ctx: Context, h: Hypothesis, memory: list[MemoryEntry]) -> tuple[float, list[int]]:
    """Changes of the same kind that gained on other traces rank higher.

    A success on this very trace counts less (its change is already in the best solution), and
    the bonus shrinks with the hypothesis' novelty, so momentum never repeats a change the
    trace has just tried and lost with.
    """
    bonus, used = 0.0, []
    name = h.detail.get("mutation")
    for e in memory:
        if e.gain is None or e.gain <= 0:
            continue
        same = bool(name) and ((e.detail or {}).get("mutation") == name or (
            name in MUTATIONS and e.hypothesis.startswith(MUTATIONS[name].statement)))
        if same:
            bonus += 1.5 if e.trace != ctx.trace else 0.5
            used.append(e.id)
        elif e.component == h.component:
            bonus += 0.2
            used.append(e.id)
    return min(bonus, 3.0) * h.scores.novelty / 9, used


def choose(ctx: Context, hypotheses: list[Hypothesis], memory: list[MemoryEntry],
           gradient_weight: float, tie_break: list[float]) -> Selection:
    best, best_total, best_used, parts = None, None, [], ""
    for h, jitter in zip(hypotheses, tie_break, strict=True):
        source = h.detail.get("source", "feedback")
        src = 2.0 * (gradient_weight if source == "task" else 1.0 - gradient_weight)
        src *= h.scores.novelty / 9  # a source's weight never revives a change that lost
        mom, used = momentum(ctx, h, memory)
        total = h.scores.weighted + src + stage_bonus(ctx, h) + mom + jitter
        if best_total is None or total > best_total:
            best, best_total, best_used = h, total, used
            parts = (f"weighted score {h.scores.weighted:.1f}, {source}-sourced bonus {src:.1f}, "
                     f"stage '{ctx.stage}' bonus {stage_bonus(ctx, h):.1f}, momentum {mom:.1f}")
    assert best is not None
    return Selection(hypothesis=best, reason=f"highest total ({parts})", memory_used=best_used)


def problem_by_caption(problems: list[Problem], caption: str) -> Problem | None:
    return next((p for p in problems if p.caption == caption), None)

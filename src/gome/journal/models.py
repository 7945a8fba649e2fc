"""What the journal stores: the run, its steps, the success memory and the LLM calls.

Every object here is a pydantic model stored as JSON in SQLite, so the report, the export and
a resumed run read back exactly what the optimizer wrote.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from gome.reasoning.types import Gradient, Hypothesis, Review, Selection
from gome.sandbox.outcome import Outcome


class StepKind(StrEnum):
    DRAFT = "draft"  # a first solution of a trace (tree: a root)
    GRADIENT = "gradient"  # diagnose -> propose -> select -> implement
    UNDIRECTED = "undirected"  # plain 'improve this' (ablation; tree search's improve)
    DEBUG = "debug"  # tree search: repair a failed leaf
    MERGE = "merge"  # adopt another trace's success
    RERUN = "rerun"  # final selection: re-run a candidate with another seed


class Decision(StrEnum):
    ACCEPTED = "accepted"  # valid, better, not vetoed: the trace's new best
    REJECTED = "rejected"  # valid but not better
    VETOED = "vetoed"  # better, but the review found leakage or misaligned validation
    FAILED = "failed"  # no valid result: crash, timeout, bad submission, no score
    ABORTED = "aborted"  # the budget ended while it ran


class StepRecord(BaseModel):
    id: int | None = None
    trace: int
    index: int = Field(description="position of the step within its trace, from 0")
    kind: StepKind
    status: str = Field(default="running", description="running | done")
    parent_id: int | None = Field(default=None, description="the node this step extends")
    base_id: int | None = Field(default=None, description="the best solution it was written from")
    gradient: Gradient | None = None
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    selection: Selection | None = None
    code: str | None = None
    summary: str = ""
    approach: str = ""
    diff: str = ""
    fix_attempts: int = 0
    fixes: list[str] = Field(default_factory=list, description="summaries of fixes applied")
    debug_outcome: Outcome | None = None
    outcome: Outcome | None = None
    score: float | None = None
    valid: bool = False
    validation_message: str = ""
    review: Review | None = None
    decision: Decision | None = None
    reason: str = ""
    gain: float | None = None
    started_at: float = 0.0
    finished_at: float | None = None
    elapsed_start_s: float = Field(default=0.0, description="run clock when the step began")
    elapsed_end_s: float | None = Field(default=None, description="run clock when it ended")
    cost_usd: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    memory_used: list[int] = Field(default_factory=list)
    workspace: str = ""
    seed: int = Field(default=0, description=(
        "GOME_SEED the solution ran with: the run's seed for every search step, so that all "
        "steps are validated on the same folds and the line search compares like with like; "
        "final re-runs use other seeds"))
    extra: dict[str, Any] = Field(default_factory=dict)


class FinalResult(BaseModel):
    step_id: int | None = None
    trace: int | None = None
    score: float | None = None
    rerun_scores: list[float] = Field(default_factory=list)
    main_py: str | None = None
    submission: str | None = None
    scores_json: str | None = None
    heldout_score: float | None = None
    medal: str | None = None
    message: str = ""


class RunRecord(BaseModel):
    id: str
    task_id: str
    task_dir: str
    metric: str
    higher_is_better: bool
    optimizer: str
    reasoner: str
    config: dict[str, Any]
    status: str = Field(default="running", description="running | finished | failed")
    created_at: float = 0.0
    finished_at: float | None = None
    time_used_s: float = Field(default=0.0, description="run clock spent, carried over resumes")
    resumes: int = 0
    final: FinalResult | None = None
    message: str = ""

"""The settings of one run, stored whole in the journal so that a run can be resumed and audited."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from gome.llm.settings import LLMSettings


class TreeSettings(BaseModel):
    """AIDE's defaults for the tree-search baseline."""

    num_drafts: int = Field(default=5, ge=1)
    debug_prob: float = Field(default=0.5, ge=0.0, le=1.0)
    max_debug_depth: int = Field(default=3, ge=0)


class RunConfig(BaseModel):
    task_dir: Path
    out_dir: Path
    optimizer: Literal["gradient", "tree"] = "gradient"
    reasoner: str = Field(default="heuristic", description="heuristic | llm | scripted:<module>")
    traces: int = Field(default=2, ge=1)
    time_limit_s: float = Field(default=1800.0, gt=0)
    max_steps: int | None = Field(default=None, ge=1, description="total steps over all traces")
    seed: int = 0
    debug_time_limit_s: float = 60.0
    full_time_limit_s: float = 600.0
    memory_mb: int | None = 8192
    max_fix_attempts: int = 2
    momentum: bool = True
    undirected: bool = False
    merge: bool = False
    merge_at_frac: float = 0.85
    final_reruns: int = Field(default=0, ge=0)
    noise_gate: float = Field(
        default=1.0, ge=0.0,
        description="accept a better score only if its paired per-fold gain is at least this many "
                    "standard errors (when both solutions report the same folds); 0: off")
    reasoning_noise: float = Field(default=0.0, ge=0.0, le=1.0)
    executor: Literal["local", "ray"] = "local"
    ray_address: str | None = None
    run_cpus: float | None = Field(
        default=None, description="executor ray: CPUs each sandbox run asks for (default: threads)"
    )
    run_gpus: float = Field(default=0.0, ge=0.0, description="executor ray: GPUs per sandbox run")
    slots: int | None = Field(default=None, ge=1,
                              description="concurrent sandbox runs; default: cores")
    isolation: Literal["auto", "bwrap", "none"] = "auto"
    python: str | None = Field(default=None, description="solution interpreter; default: ours")
    submission_out: Path | None = None
    metric: str | None = Field(default=None, description="override the task's metric")
    tree: TreeSettings = Field(default_factory=TreeSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)

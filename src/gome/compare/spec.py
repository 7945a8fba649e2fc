"""What a comparison is: optimizer variants x settings x seeds, all under one budget.

A *variant* is an optimizer with optional switches, written ``name[:switch[+switch...]]``:

- ``gradient``, ``tree``
- ``gradient:no-momentum``, ``gradient:undirected``, ``gradient:traces=1``
- ``tree:num-drafts=3+debug-prob=0.2`` (tree search's own settings)

A switch is ``key=value``, ``key`` (true) or ``no-key`` (false); keys are RunConfig fields (or,
for ``tree``, TreeSettings fields) with dashes for underscores. A *setting* is one point on the
paper's reasoner-strength axis: a model (with ``--reasoner llm``) and a reasoning-noise level
(the heuristic reasoner's offline stand-in for weaker models). Each (variant, setting, seed)
cell is one ordinary gome run in its own folder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from gome.config import RunConfig, TreeSettings
from gome.errors import ConfigError

OPTIMIZERS = ("gradient", "tree")

# RunConfig fields a variant may switch: the optimizer's own knobs, never the budget (a
# comparison is only fair when every cell has the same budget).
VARIANT_KEYS = {
    "traces": int,
    "momentum": bool,
    "undirected": bool,
    "merge": bool,
    "merge_at_frac": float,
    "final_reruns": int,
    "noise_gate": float,
    "max_fix_attempts": int,
}
TREE_KEYS = {name: field.annotation for name, field in TreeSettings.model_fields.items()}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class Variant(BaseModel):
    """One optimizer with its switches, e.g. ``gradient:no-momentum``."""

    label: str = Field(description="as the user wrote it, normalized")
    optimizer: str
    overrides: dict[str, Any] = Field(default_factory=dict, description="RunConfig fields")
    tree: dict[str, Any] = Field(default_factory=dict, description="TreeSettings fields")

    @property
    def slug(self) -> str:
        return _slug(self.label)


class Setting(BaseModel):
    """One point on the reasoner-strength axis: a model and a reasoning-noise level."""

    model: str | None = None
    noise: float = 0.0

    @property
    def label(self) -> str:
        noise = f"noise {self.noise:g}"
        return f"{self.model} · {noise}" if self.model else noise

    @property
    def slug(self) -> str:
        noise = f"noise{self.noise:g}"
        return f"{_slug(self.model)}__{noise}" if self.model else noise


class Cell(BaseModel):
    """One run of the grid."""

    variant: Variant
    setting: Setting
    seed: int

    @property
    def name(self) -> str:
        return f"{self.variant.slug}__{self.setting.slug}__s{self.seed}"


class CompareSpec(BaseModel):
    """The whole grid and its shared budget; stored as ``compare.json`` in the folder."""

    task_dir: Path
    out_dir: Path
    variants: list[Variant]
    settings: list[Setting]
    seeds: list[int]
    reasoner: str = "heuristic"
    time_limit_s: float | None = None
    max_steps: int | None = None
    traces: int = 2
    jobs: int = 1
    base: dict[str, Any] = Field(
        default_factory=dict, description="further RunConfig fields every cell shares"
    )

    def cells(self) -> list[Cell]:
        """Every (variant, setting, seed), seeds innermost so early results cover all variants."""
        return [
            Cell(variant=v, setting=s, seed=seed)
            for s in self.settings
            for seed in self.seeds
            for v in self.variants
        ]

    def budget(self) -> dict[str, Any]:
        """What must match between the runs of one comparison folder."""
        return {
            "task_dir": str(Path(self.task_dir).resolve()),
            "reasoner": self.reasoner,
            "time_limit_s": self.effective_time_limit_s,
            "max_steps": self.max_steps,
            "base": self.base,
        }

    @property
    def effective_time_limit_s(self) -> float:
        """A step budget alone still gets a generous wall-time cap, so no run can hang forever."""
        if self.time_limit_s is not None:
            return self.time_limit_s
        return 24 * 3600.0

    def run_dir(self, cell: Cell) -> Path:
        return Path(self.out_dir) / "runs" / cell.name

    def config_for(self, cell: Cell) -> RunConfig:
        """The ordinary RunConfig of one cell: same budget everywhere, the variant's switches."""
        data: dict[str, Any] = dict(self.base)
        data.update(
            task_dir=Path(self.task_dir),
            out_dir=self.run_dir(cell),
            optimizer=cell.variant.optimizer,
            reasoner=self.reasoner,
            traces=self.traces,
            time_limit_s=self.effective_time_limit_s,
            max_steps=self.max_steps,
            seed=cell.seed,
            reasoning_noise=cell.setting.noise,
        )
        data.update(cell.variant.overrides)
        config = RunConfig.model_validate(data)
        if cell.variant.tree:
            config.tree = config.tree.model_copy(update=cell.variant.tree)
        if cell.setting.model:
            config.llm = config.llm.model_copy(update={"model": cell.setting.model})
        return config


def _slug(text: str | None) -> str:
    text = (text or "").replace(":", "-").replace("+", "-").replace("=", "")
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "x"


def _convert(key: str, kind: Any, raw: str | None, variant: str) -> Any:
    """Turn a switch's text into the field's type, with a clear error naming the variant."""
    if kind is bool:
        if raw is None or raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
    else:
        if raw is None:
            raise ConfigError(
                f"variant '{variant}': '{key.replace('_', '-')}' needs a value, e.g. "
                f"'{key.replace('_', '-')}=1'."
            )
        try:
            return kind(raw)
        except (TypeError, ValueError):
            pass
    raise ConfigError(
        f"variant '{variant}': '{raw}' is not a valid value for '{key.replace('_', '-')}'."
    )


def parse_variant(text: str) -> Variant:
    """Parse ``name[:switch[+switch...]]``; errors name the bad part and the valid choices."""
    text = text.strip()
    name, _, rest = text.partition(":")
    name = name.strip().lower()
    if name not in OPTIMIZERS:
        raise ConfigError(
            f"unknown optimizer '{name}' in '{text}'; use one of {', '.join(OPTIMIZERS)}, "
            "optionally with switches, e.g. 'gradient:no-momentum' or 'gradient:traces=1'."
        )
    overrides: dict[str, Any] = {}
    tree: dict[str, Any] = {}
    parts = [p.strip() for p in rest.split("+")] if rest else []
    for part in parts:
        if not part:
            continue
        key, eq, raw = part.partition("=")
        key = key.strip().replace("-", "_")
        value: str | None = raw.strip() if eq else None
        negated = False
        if key.startswith("no_") and key[3:] in {**VARIANT_KEYS, **TREE_KEYS}:
            key, negated = key[3:], True
        if name == "tree" and key in TREE_KEYS:
            target, kind = tree, TREE_KEYS[key]
        elif key in VARIANT_KEYS:
            target, kind = overrides, VARIANT_KEYS[key]
        else:
            known = sorted(VARIANT_KEYS) + (sorted(TREE_KEYS) if name == "tree" else [])
            raise ConfigError(
                f"unknown switch '{part}' in variant '{text}'; known: "
                f"{', '.join(k.replace('_', '-') for k in known)} (prefix 'no-' to turn off)."
            )
        if negated:
            if kind is not bool or value is not None:
                raise ConfigError(
                    f"variant '{text}': 'no-' only applies to on/off switches such as "
                    "'no-momentum'."
                )
            target[key] = False
        else:
            target[key] = _convert(key, kind, value, text)
    label = name + (":" + "+".join(p for p in parts if p) if any(parts) else "")
    variant = Variant(label=label, optimizer=name, overrides=overrides, tree=tree)
    # Validate the values now, not an hour into the grid.
    bounds = {"num_drafts": (1, None), "debug_prob": (0.0, 1.0), "max_debug_depth": (0, None),
              "traces": (1, None)}
    for key, value in {**tree, **overrides}.items():
        lo, hi = bounds.get(key, (None, None))
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            span = f"at least {lo}" if hi is None else f"between {lo} and {hi}"
            raise ConfigError(f"variant '{text}' has an invalid value: "
                              f"{key.replace('_', '-')} must be {span}.")
    try:
        TreeSettings.model_validate({**TreeSettings().model_dump(), **tree})
        RunConfig.model_validate({"task_dir": ".", "out_dir": ".", **overrides})
    except Exception as err:  # pydantic.ValidationError
        raise ConfigError(f"variant '{text}' has an invalid value: {_first_error(err)}.") from err
    return variant


def parse_variants(text: str) -> list[Variant]:
    variants = [parse_variant(p) for p in text.split(",") if p.strip()]
    if not variants:
        raise ConfigError("--optimizers is empty; pass e.g. '--optimizers gradient,tree'.")
    labels = [v.label for v in variants]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"--optimizers lists a variant twice: {', '.join(labels)}.")
    return variants


def parse_floats(text: str, option: str) -> list[float]:
    try:
        values = [float(p) for p in text.split(",") if p.strip()]
    except ValueError as err:
        raise ConfigError(
            f"{option} takes comma-separated numbers such as '0,0.3,0.6', not '{text}'."
        ) from err
    if not values:
        raise ConfigError(f"{option} is empty; pass e.g. '0,0.3,0.6'.")
    return values


def parse_settings(noise: str | None, models: str | None) -> list[Setting]:
    noises = parse_floats(noise, "--reasoning-noise") if noise else [0.0]
    for n in noises:
        if not 0.0 <= n <= 1.0:
            raise ConfigError(f"--reasoning-noise values must lie in [0, 1]; got {n:g}.")
    model_list: list[str | None] = [m.strip() for m in models.split(",") if m.strip()] if models \
        else [None]
    return [Setting(model=m, noise=n) for m in model_list for n in noises]


def _first_error(err: Exception) -> str:
    errors = getattr(err, "errors", None)
    if callable(errors):
        first = errors()[0]
        loc = ".".join(str(x) for x in first.get("loc", ()))
        return f"{loc.replace('_', '-')}: {first.get('msg', '')}".strip(": ")
    return str(err)


def parse_duration(text: str, option: str = "--time-limit") -> float:
    """'90', '90s', '10m', '1.5h' -> seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text or "")
    if not m:
        raise ConfigError(f"{option} takes a duration such as '90s', '10m' or '2h', not '{text}'.")
    value = float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]
    if value <= 0:
        raise ConfigError(f"{option} must be positive; got '{text}'.")
    return value


def parse_seeds(text: str) -> list[int]:
    """'3' -> [0, 1, 2]; '0,5,7' -> [0, 5, 7]."""
    try:
        if "," in text:
            seeds = [int(p) for p in text.split(",") if p.strip()]
        else:
            seeds = list(range(int(text)))
    except ValueError as err:
        raise ConfigError(
            f"--seeds takes a count ('3') or a list ('0,5,7'), not '{text}'."
        ) from err
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise ConfigError(f"--seeds needs at least one distinct, non-negative seed; got '{text}'.")
    return seeds

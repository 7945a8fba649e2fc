"""What a call cost: a price table in $ per 1M tokens, extendable from gome.toml.

Prices change; the table holds list prices of common models and a user adds or overrides any
model with ``[llm.prices."my-model"] input = 1.0, output = 2.0, cached_input = 0.1`` in gome.toml.
Local providers (ollama/, vllm/...) cost nothing. An unknown model costs 0 and is reported once,
so that ``--max-cost`` is never silently meaningless.
"""

from __future__ import annotations

import logging
import threading

from pydantic import BaseModel

log = logging.getLogger(__name__)


class Price(BaseModel):
    input: float
    output: float
    cached_input: float | None = None


# $ per 1M tokens: input, output, cached input.
_TABLE: dict[str, tuple[float, float, float | None]] = {
    "gpt-5": (1.25, 10.0, 0.125),
    "gpt-5-mini": (0.25, 2.0, 0.025),
    "gpt-5-nano": (0.05, 0.40, 0.005),
    "gpt-5-codex": (1.25, 10.0, 0.125),
    "gpt-4.1": (2.0, 8.0, 0.50),
    "gpt-4.1-mini": (0.40, 1.60, 0.10),
    "gpt-4.1-nano": (0.10, 0.40, 0.025),
    "gpt-4o": (2.50, 10.0, 1.25),
    "gpt-4o-mini": (0.15, 0.60, 0.075),
    "o1": (15.0, 60.0, 7.50),
    "o3": (2.0, 8.0, 0.50),
    "o3-mini": (1.10, 4.40, 0.55),
    "o4-mini": (1.10, 4.40, 0.275),
    "deepseek-chat": (0.27, 1.10, 0.07),
    "deepseek-reasoner": (0.55, 2.19, 0.14),
    "claude-opus-4": (15.0, 75.0, 1.50),
    "claude-sonnet-4": (3.0, 15.0, 0.30),
    "claude-3-5-haiku": (0.80, 4.0, 0.08),
    "gemini-2.5-pro": (1.25, 10.0, 0.31),
    "gemini-2.5-flash": (0.30, 2.50, 0.075),
}
BUILTIN: dict[str, Price] = {
    k: Price(input=i, output=o, cached_input=c) for k, (i, o, c) in _TABLE.items()
}
FREE_PROVIDERS = {"ollama", "vllm", "lmstudio", "llamacpp", "sglang"}

_warned: set[str] = set()
_warn_lock = threading.Lock()


def price_for(model: str, extra: dict[str, dict[str, float]] | None = None) -> Price | None:
    """The price of ``model`` (user table first, then LiteLLM's map if installed, then ours)."""
    extra = extra or {}
    names = [model]
    if "/" in model:
        provider, _, bare = model.partition("/")
        if provider.lower() in FREE_PROVIDERS:
            return Price(input=0.0, output=0.0, cached_input=0.0)
        names.append(bare)
        names.append(bare.rsplit("/", 1)[-1])
    for name in names:
        if name in extra:
            return Price.model_validate(extra[name])
    for name in names:
        if name in BUILTIN:
            return BUILTIN[name]
    litellm_price = _litellm_price(names)
    if litellm_price is not None:
        return litellm_price
    # dated snapshots and variants: the longest known prefix ("gpt-4.1-2025-04-14" -> gpt-4.1)
    for name in names:
        best = max((k for k in BUILTIN if name.startswith(k)), key=len, default=None)
        if best:
            return BUILTIN[best]
    return None


def cost_usd(
    model: str,
    tokens_in: int,
    tokens_out: int,
    cached_tokens: int = 0,
    extra: dict[str, dict[str, float]] | None = None,
    *,
    local: bool = False,
) -> float:
    """Dollars for one call; cached prompt tokens at the cached rate when the model has one.

    A model on a local server costs nothing unless it has a price (a LiteLLM proxy on localhost
    may well forward to a paid API).
    """
    price = price_for(model, extra)
    if price is None:
        if local:
            return 0.0
        with _warn_lock:
            if model not in _warned:
                _warned.add(model)
                log.warning("no price known for model %r: its calls count as $0; add it under "
                            "[llm.prices] in gome.toml", model)
        return 0.0
    cached = min(max(cached_tokens, 0), tokens_in)
    cached_rate = price.cached_input if price.cached_input is not None else price.input
    dollars = ((tokens_in - cached) * price.input + cached * cached_rate
               + tokens_out * price.output)
    return dollars / 1_000_000


def _litellm_price(names: list[str]) -> Price | None:
    """LiteLLM's community price map, when the optional extra is installed."""
    from gome.errors import ConfigError
    from gome.llm.client import load_litellm

    try:
        litellm = load_litellm()  # its bundled map: no fetch from GitHub
    except (ConfigError, ImportError):
        return None
    table = getattr(litellm, "model_cost", {}) or {}
    for name in names:
        row = table.get(name)
        if row and row.get("input_cost_per_token") is not None:
            cached = row.get("cache_read_input_token_cost")
            return Price(
                input=float(row["input_cost_per_token"]) * 1e6,
                output=float(row.get("output_cost_per_token") or 0.0) * 1e6,
                cached_input=float(cached) * 1e6 if cached is not None else None,
            )
    return None

"""Effective LLM settings from the CLI, gome.toml and the environment, in that precedence.

Keys themselves never enter the settings (which the journal stores): only the name of the
environment variable holding them (``api_key_env``). ``masked_view`` renders the settings for
`gome config show` with anything secret-looking masked.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gome.errors import ConfigError
from gome.llm.settings import LLMSettings

DEFAULT_TOML = Path("gome.toml")

# environment variable -> settings field (first one set wins for a field)
ENV_VARS: list[tuple[str, str]] = [
    ("GOME_MODEL", "model"),
    ("GOME_BASE_URL", "base_url"),
    ("OPENAI_BASE_URL", "base_url"),
    ("GOME_API_KEY_ENV", "api_key_env"),
    ("OPENAI_ORG_ID", "organization"),
    ("OPENAI_ORGANIZATION", "organization"),
    ("GOME_LLM_BACKEND", "backend"),
    ("GOME_TEMPERATURE", "temperature"),
    ("GOME_REASONING_EFFORT", "reasoning_effort"),
    ("GOME_MAX_OUTPUT_TOKENS", "max_output_tokens"),
    ("GOME_LLM_TIMEOUT", "timeout_s"),
    ("GOME_MAX_COST", "max_cost_usd"),
    ("GOME_MAX_LLM_CALLS", "max_llm_calls"),
]

# CLI spellings that differ from field names
CLI_ALIASES = {"max_cost": "max_cost_usd", "timeout": "timeout_s", "llm_backend": "backend",
               "operator_model": "operator_models"}
SECRET_WORDS = ("key", "token", "secret", "authorization", "password", "cookie")


def resolve_settings(
    cli: dict[str, object],
    toml_path: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> LLMSettings:
    """Merge the three sources (CLI > gome.toml ``[llm]`` > environment) into LLMSettings."""
    env = os.environ if env is None else env
    merged: dict[str, Any] = {}
    merged.update(_from_env(env))
    merged.update(_from_toml(toml_path))
    merged.update(_from_cli(cli))
    try:
        return LLMSettings.model_validate(merged)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"The LLM setting '{field}' is invalid ({first['msg']}): fix it on the command line, "
            "in gome.toml [llm] or in the environment."
        ) from err


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for var, field in ENV_VARS:
        value = env.get(var)
        if value not in (None, "") and field not in out:
            out[field] = value
    models = env.get("GOME_OPERATOR_MODELS")  # e.g. "implement=gpt-4.1,fix=gpt-4.1-mini"
    if models:
        out["operator_models"] = _pairs(models.split(","), "GOME_OPERATOR_MODELS")
    return out


def _from_toml(toml_path: Path | None) -> dict[str, Any]:
    path = toml_path if toml_path is not None else DEFAULT_TOML
    if not path.exists():
        if toml_path is not None:
            raise ConfigError(f"The config file {path} does not exist: fix the path or drop it.")
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path} is not valid TOML ({err}): fix the file.") from err
    table = data.get("llm", {})
    if not isinstance(table, dict):
        raise ConfigError(f"In {path}, 'llm' must be a table ([llm]): fix the file.")
    if "api_key" in table:
        raise ConfigError(
            f"{path} holds an api_key: keep keys out of files; put the key in an environment "
            "variable and name it with api_key_env."
        )
    unknown = sorted(set(table) - set(LLMSettings.model_fields))
    if unknown:
        raise ConfigError(
            f"Unknown key '{unknown[0]}' in the [llm] table of {path}: the known keys are "
            + ", ".join(sorted(LLMSettings.model_fields)) + "."
        )
    return dict(table)


def _from_cli(cli: dict[str, object]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in cli.items():
        if value is None or value == () or value == []:
            continue
        field = CLI_ALIASES.get(key, key)
        if field not in LLMSettings.model_fields:
            raise ConfigError(f"Unknown LLM option '{key}': drop it or check `gome run --help`.")
        if field in ("operator_models", "headers") and isinstance(value, list | tuple):
            value = _pairs([str(v) for v in value], f"--{key.replace('_', '-')}")
        out[field] = value
    return out


def _pairs(items: list[str], where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ConfigError(
                f"'{item}' in {where} is not NAME=VALUE: write e.g. implement=gpt-4.1."
            )
        out[name.strip()] = value.strip()
    return out


def mask(value: str) -> str:
    """Show that a secret is set without showing it."""
    if not value:
        return "(not set)"
    if len(value) <= 8:
        return "****"
    return f"{value[:3]}…{value[-4:]}"


def masked_view(
    settings: LLMSettings, env: Mapping[str, str] | None = None
) -> list[tuple[str, str, str]]:
    """(setting, value, note) rows for `gome config show`, secrets masked, endpoint resolved."""
    from gome.llm.pricing import price_for
    from gome.llm.providers import resolve_endpoint

    env = os.environ if env is None else env
    rows: list[tuple[str, str, str]] = []
    for name, value in settings.model_dump().items():
        if name == "headers":
            value = {k: (mask(v) if any(w in k.lower() for w in SECRET_WORDS) else v)
                     for k, v in value.items()}
        rows.append((name, _show(value), ""))
    if settings.model:
        models = {"(default)": settings.model, **settings.operator_models}
        for op, model in models.items():
            try:
                ep = resolve_endpoint(model, settings)
            except ConfigError as err:
                rows.append((f"endpoint {op}", model, str(err)))
                continue
            key = env.get(ep.key_env, "") if ep.key_env else ""
            price = price_for(model, settings.prices)
            # the same rule as cost_usd: a known price counts even on a local URL (a LiteLLM
            # proxy on localhost may forward to a paid API); otherwise a local server is free
            if price is not None and (price.input or price.output):
                note = f"${price.input}/{price.output} per 1M in/out"
            elif price is not None or ep.local:
                note = "local, free" if ep.local else "free"
            else:
                note = "price unknown: add it under [llm.prices]"
            rows.append((f"endpoint {op}", f"{ep.model} @ {ep.base_url or 'api.openai.com'}",
                         note))
            if ep.key_env:
                rows.append((f"key {op}", f"{ep.key_env} = {mask(key)}", ""))
    return rows


def _show(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
    return str(value)

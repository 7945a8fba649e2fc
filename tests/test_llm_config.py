"""Settings precedence, model strings, prices, `gome config show` and clear config errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gome.errors import ConfigError
from gome.llm.config import resolve_settings
from gome.llm.pricing import cost_usd, price_for
from gome.llm.providers import NO_KEY, api_key_for, resolve_endpoint
from gome.llm.settings import LLMSettings


def test_precedence_cli_over_toml_over_env(tmp_path: Path) -> None:
    toml = tmp_path / "gome.toml"
    toml.write_text('[llm]\nmodel = "gpt-4.1"\nmax_cost_usd = 5.0\ntemperature = 0.3\n'
                    '[llm.operator_models]\nimplement = "gpt-4.1-mini"\n')
    env = {"GOME_MODEL": "gpt-5", "GOME_MAX_LLM_CALLS": "40", "GOME_MAX_COST": "9",
           "OPENAI_BASE_URL": "http://localhost:8000/v1"}
    s = resolve_settings({"model": "ollama/qwen2.5-coder", "max_cost": None}, toml, env)
    assert s.model == "ollama/qwen2.5-coder"  # CLI
    assert s.max_cost_usd == 5.0  # toml beats env
    assert s.max_llm_calls == 40  # env fills what nobody else set
    assert s.base_url == "http://localhost:8000/v1"
    assert s.operator_models == {"implement": "gpt-4.1-mini"}
    assert resolve_settings({}, None, {}).model is None  # nothing set, no ./gome.toml needed


def test_config_errors_are_one_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "gome.toml"
    bad.write_text('[llm]\nmodle = "gpt-5"\n')
    with pytest.raises(ConfigError, match="Unknown key 'modle'"):
        resolve_settings({}, bad, {})
    bad.write_text('[llm]\napi_key = "sk-secret"\n')
    with pytest.raises(ConfigError, match="api_key_env"):
        resolve_settings({}, bad, {})
    bad.write_text("[llm\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        resolve_settings({}, bad, {})
    with pytest.raises(ConfigError, match="max_cost_usd"):
        resolve_settings({}, None, {"GOME_MAX_COST": "lots"})
    with pytest.raises(ConfigError, match="NAME=VALUE"):
        resolve_settings({"operator_model": ["implement"]}, None, {})


@pytest.mark.parametrize(
    ("model", "base_url", "sent", "url", "key_env"),
    [
        ("gpt-5", None, "gpt-5", None, "OPENAI_API_KEY"),
        ("openai/gpt-4.1", "http://localhost:8000/v1", "gpt-4.1", "http://localhost:8000/v1",
         "OPENAI_API_KEY"),
        ("ollama/qwen2.5-coder", None, "qwen2.5-coder", "http://localhost:11434/v1", None),
        ("openrouter/deepseek/deepseek-r1", None, "deepseek/deepseek-r1",
         "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
        ("deepseek/deepseek-chat", None, "deepseek-chat", "https://api.deepseek.com/v1",
         "DEEPSEEK_API_KEY"),
        ("Qwen/Qwen2.5-Coder-7B", "http://gpu:8000/v1", "Qwen/Qwen2.5-Coder-7B",
         "http://gpu:8000/v1", "OPENAI_API_KEY"),
    ],
)
def test_model_strings(model, base_url, sent, url, key_env) -> None:
    ep = resolve_endpoint(model, LLMSettings(model=model, base_url=base_url))
    assert (ep.model, ep.base_url, ep.key_env) == (sent, url, key_env)


def test_keys() -> None:
    s = LLMSettings()
    assert api_key_for(resolve_endpoint("gpt-5", s), {"OPENAI_API_KEY": "sk-1"}) == "sk-1"
    assert api_key_for(resolve_endpoint("ollama/llama3", s), {}) == NO_KEY
    local = LLMSettings(base_url="http://127.0.0.1:9/v1")
    assert api_key_for(resolve_endpoint("openai/x", local), {}) == NO_KEY
    with pytest.raises(ConfigError, match="set the environment variable OPENAI_API_KEY"):
        api_key_for(resolve_endpoint("gpt-5", s), {})
    custom = LLMSettings(api_key_env="MY_KEY")
    assert api_key_for(resolve_endpoint("deepseek/deepseek-chat", custom), {"MY_KEY": "k"}) == "k"


def test_reasoner_without_a_model_or_key_says_what_to_do(tmp_path: Path) -> None:
    from gome.reasoning.llm import LLMReasoner
    from gome.task.loader import load_task
    from gome.task.practice import make_practice

    task = load_task(make_practice("penguins", tmp_path / "p", max_rows=40))
    with pytest.raises(ConfigError, match="--model"):
        LLMReasoner(task, LLMSettings())
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        LLMReasoner(task, LLMSettings(model="gpt-5"), env={})
    with pytest.raises(ConfigError, match="operator"):
        LLMReasoner(task, LLMSettings(model="ollama/x", operator_models={"code": "gpt-5"}))


def test_prices() -> None:
    assert price_for("gpt-5").input == 1.25
    assert price_for("openai/gpt-4.1-2025-04-14").output == 8.0  # dated snapshot
    assert price_for("gpt-4o-mini").input == 0.15  # not gpt-4o's price
    assert price_for("ollama/qwen2.5-coder").input == 0.0
    assert price_for("my-model") is None
    extra = {"my-model": {"input": 2.0, "output": 4.0, "cached_input": 1.0}}
    # 1M prompt tokens of which half cached, 1M completion tokens
    assert cost_usd("my-model", 1_000_000, 1_000_000, 500_000, extra) == pytest.approx(
        0.5 * 2.0 + 0.5 * 1.0 + 4.0)
    assert cost_usd("unknown-local", 10_000, 10_000, local=True) == 0.0


def test_config_show_masks_the_key(tmp_path: Path) -> None:
    (tmp_path / "gome.toml").write_text(
        '[llm]\nmax_cost_usd = 3.0\n[llm.headers]\nAuthorization = "Bearer sk-verysecret-1234"\n')
    env = {"PATH": "/usr/bin:/bin", "OPENAI_API_KEY": "sk-proj-abcdefghijklmnop1234",
           "GOME_MODEL": "gpt-5", "HOME": str(tmp_path), "COLUMNS": "160"}
    proc = subprocess.run([sys.executable, "-m", "gome.cli.app", "config", "show"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "gpt-5" in out and "3.0" in out
    assert "abcdefghijklmnop" not in out and "verysecret" not in out
    assert "sk-…1234" in out  # masked, still recognisable


def test_config_show_bad_file_is_one_line(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "gome.cli.app", "config", "show", "--config",
                           str(tmp_path / "nope.toml")], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "does not exist" in proc.stderr


def config_show(cwd: Path, *args: str, **env: str) -> str:
    base = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "COLUMNS": "160"}
    proc = subprocess.run([sys.executable, "-m", "gome.cli.app", "config", "show", *args],
                          cwd=cwd, env=base | env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def row(out: str, name: str) -> str:
    """The value and note cells of one row of the settings table."""
    line = next(x for x in out.splitlines() if x.startswith(f"│ {name} "))
    return " ".join(cell.strip() for cell in line.split("│")[2:] if cell.strip())


def test_config_show_applies_cli_over_toml_over_env(tmp_path: Path) -> None:
    (tmp_path / "gome.toml").write_text('[llm]\nmodel = "gpt-4.1"\nmax_cost_usd = 5.0\n'
                                        'max_llm_calls = 50\n')
    out = config_show(tmp_path, "--max-llm-calls", "7", GOME_MODEL="gpt-5", GOME_MAX_COST="9",
                      GOME_MAX_LLM_CALLS="40", GOME_TEMPERATURE="0.4")
    assert row(out, "model") == "gpt-4.1"  # gome.toml over the environment
    assert row(out, "max_cost_usd") == "5.0"  # gome.toml over the environment
    assert row(out, "max_llm_calls") == "7"  # the command line over both
    assert row(out, "temperature") == "0.4"  # the environment where nothing else is set


@pytest.mark.parametrize(
    ("args", "endpoint", "note", "key"),
    [
        (["--model", "gpt-5"], "gpt-5 @ api.openai.com", "$1.25/10.0 per 1M in/out",
         "OPENAI_API_KEY = sk-…5678"),
        (["--model", "openai/gpt-4.1", "--base-url", "http://localhost:8000/v1"],
         "gpt-4.1 @ http://localhost:8000/v1", "$2.0/8.0 per 1M in/out",
         "OPENAI_API_KEY = sk-…5678"),
        (["--model", "ollama/qwen2.5-coder"], "qwen2.5-coder @ http://localhost:11434/v1",
         "local, free", None),
    ],
)
def test_config_show_resolves_the_model_strings_users_type(
    tmp_path: Path, args: list[str], endpoint: str, note: str, key: str | None
) -> None:
    out = config_show(tmp_path, *args, OPENAI_API_KEY="sk-proj-abcdefghijk5678")
    assert row(out, "endpoint (default)") == f"{endpoint} {note}"
    if key is None:
        assert "key (default)" not in out  # a local server needs no key
    else:
        assert row(out, "key (default)") == key
    assert "abcdefghijk" not in out

"""The LiteLLM backend, through the real litellm library, against the fake OpenAI server.

``backend = "litellm"`` with an ``openai/...`` model and ``base_url`` on the fake server sends
every call through ``litellm.completion`` (LiteLLM's own OpenAI provider, its own exception
mapping and response objects), so these tests check what differs from the openai SDK path:
the structured reply, the tokens and cost in the journal record, a retried 429, and the failures
LiteLLM reports in its own way (a refusal in a provider field, missing usage reported as zeros,
a missing key reported as a server error).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

litellm = pytest.importorskip(
    "litellm", reason="the optional litellm extra is not installed (pip install 'gome[litellm]')"
)

from fake_openai import FakeOpenAI, Reply, error  # noqa: E402

from gome.errors import FatalLLMError  # noqa: E402
from gome.llm.client import (  # noqa: E402
    CallStats,
    ChatMessage,
    ChatRequest,
    LiteLLMChat,
    make_chat_model,
)
from gome.llm.settings import LLMSettings  # noqa: E402
from gome.reasoning.llm import LLMReasoner  # noqa: E402
from gome.reasoning.types import BestSolution, Context  # noqa: E402
from gome.sandbox.outcome import Outcome, RunStatus  # noqa: E402
from gome.task.loader import load_task  # noqa: E402
from gome.task.practice import make_practice  # noqa: E402

DIAGNOSIS = {
    "analysis": "plain baseline",
    "problems": [
        {"caption": "weak model", "statement": "a linear model underfits",
         "evidence": ["train 0.81"], "category": "model", "expected_impact": "high",
         "source": "feedback"},
    ],
}


# LiteLLM's own types trip a pydantic warning on import; it is not about gome
pytestmark = pytest.mark.filterwarnings("ignore:Item .* is using the `ReadOnly`:UserWarning")


@pytest.fixture(scope="module")
def task(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("litellm") / "penguins"
    return load_task(make_practice("penguins", Path(root), max_rows=60))


@pytest.fixture()
def fake():
    with FakeOpenAI() as server:
        yield server


def settings(fake: FakeOpenAI, **kw) -> LLMSettings:
    base = {"model": "openai/gpt-4.1-mini", "base_url": fake.base_url, "backend": "litellm",
            "retry_base_s": 0.01, "retry_max_s": 0.05, "timeout_s": 20.0}
    return LLMSettings(**(base | kw))


def context(task) -> Context:
    best = BestSolution(step_id=1, code="print('v1')\n", score=0.8, summary="baseline",
                        outcome=Outcome(status=RunStatus.OK, wall_time_s=1.0,
                                        scores={"metric": "accuracy", "score": 0.8},
                                        has_submission=True))
    return Context(task=task, best=best, trace_step=1, time_left_s=600, stage="improve",
                   runtime="Python 3.11, 2 CPU cores")


def test_litellm_is_imported_closed_world():
    # gome imports LiteLLM with its bundled price map: no fetch from GitHub at import time
    import os

    make_chat_model("openai/gpt-4.1-mini", LLMSettings(backend="litellm",
                                                       base_url="http://127.0.0.1:9/v1"))
    assert os.environ.get("LITELLM_LOCAL_MODEL_COST_MAP") == "True"
    assert len(litellm.model_cost) > 1000


def test_litellm_price_map_fills_gaps_in_the_price_table():
    from gome.llm.pricing import BUILTIN, cost_usd, price_for

    # not in gome's table (nor a prefix of one of its models): LiteLLM's map prices it
    assert "gpt-3.5-turbo" not in BUILTIN
    row = litellm.model_cost["gpt-3.5-turbo"]
    price = price_for("openai/gpt-3.5-turbo")
    assert price is not None and price.input == pytest.approx(row["input_cost_per_token"] * 1e6)
    assert cost_usd("gpt-3.5-turbo", 1_000_000, 0) == pytest.approx(price.input)
    # gome.toml's [llm.prices] still wins
    assert price_for("gpt-3.5-turbo", {"gpt-3.5-turbo": {"input": 9.0, "output": 9.0}}).input == 9


def test_structured_call_with_a_retried_rate_limit_is_accounted(task, fake):
    fake.add(error(429, "Rate limit reached for gpt-4.1-mini", code="rate_limit_exceeded",
                   headers={"retry-after": "0"}),
             Reply(content="Here you go:\n" + json.dumps(DIAGNOSIS), tokens_in=1000,
                   tokens_out=200, cached_tokens=400))
    reasoner = LLMReasoner(task, settings(fake, temperature=0.2))
    assert isinstance(reasoner._model("openai/gpt-4.1-mini"), LiteLLMChat)
    ctx = context(task)
    gradient = reasoner.diagnose(ctx)

    assert [p.caption for p in gradient.problems] == ["weak model"]
    # LiteLLM sent the JSON-schema response format and the model name without its prefix
    assert len(fake.requests) == 2
    sent = fake.requests[-1]
    assert sent["model"] == "gpt-4.1-mini"
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["temperature"] == 0.2
    # a local server needs no key: a placeholder, not LiteLLM's "missing credentials"
    assert fake.headers[-1]["Authorization"].startswith("Bearer sk-")
    # the journal record: tokens as the server reported them, cost from the price table
    (call,) = ctx.llm_calls
    assert call.ok and call.operator == "diagnose" and call.model == "openai/gpt-4.1-mini"
    assert call.attempts == 2
    assert (call.tokens_in, call.tokens_out, call.cached_tokens) == (1000, 200, 400)
    # gpt-4.1-mini: $0.40 in, $0.10 cached in, $1.60 out per 1M tokens
    assert call.cost_usd == pytest.approx((600 * 0.40 + 400 * 0.10 + 200 * 1.60) / 1e6)
    assert reasoner.usage()["cost_usd"] == pytest.approx(call.cost_usd)


def test_user_price_and_server_errors_then_success(task, fake):
    fake.add(*(error(500, "internal error") for _ in range(3)),
             Reply(content=json.dumps(DIAGNOSIS), tokens_in=1000, tokens_out=500))
    prices = {"my-model": {"input": 1000.0, "output": 2000.0}}
    ctx = context(task)
    LLMReasoner(task, settings(fake, model="openai/my-model", prices=prices)).diagnose(ctx)
    call = ctx.llm_calls[0]
    assert call.ok and call.attempts == 4
    assert call.cost_usd == pytest.approx(1.0 + 1.0)


def test_bad_key_is_fatal_without_retrying(task, fake):
    fake.add(error(401, "Incorrect API key provided: sk-abc.", code="invalid_api_key"))
    ctx = context(task)
    with pytest.raises(FatalLLMError) as info:
        LLMReasoner(task, settings(fake)).diagnose(ctx)
    message = str(info.value)
    assert "rejected the key" in message and "\n" not in message
    assert "litellm." not in message  # LiteLLM's class-name prefixes are stripped
    assert ctx.llm_calls[0].attempts == 1 and len(fake.requests) == 1


def test_refusal_is_fatal(task, fake):
    # LiteLLM moves the openai "refusal" field into provider_specific_fields
    fake.add(Reply(refusal="I'm sorry, I cannot help with that."))
    ctx = context(task)
    with pytest.raises(FatalLLMError, match="refused to answer"):
        LLMReasoner(task, settings(fake)).diagnose(ctx)
    assert "refused" in (ctx.llm_calls[0].error or "")


def test_missing_usage_is_estimated(fake):
    # LiteLLM reports a reply without usage as 0 tokens in and out: gome estimates instead
    fake.add(Reply(content="x" * 400, usage=False))
    model = make_chat_model("openai/gpt-4.1-mini", settings(fake), env={})
    stats = CallStats()
    model.complete(ChatRequest(messages=[ChatMessage(role="user", content="y" * 800)]), stats)
    assert (stats.tokens_in, stats.tokens_out, stats.usage_reported) == (200, 100, False)


def test_missing_key_is_fatal_with_one_sentence(monkeypatch):
    # no base URL and no key: LiteLLM raises "missing credentials" as an HTTP 500
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE"):
        monkeypatch.delenv(var, raising=False)  # LiteLLM reads these itself
    model = make_chat_model("gpt-5", LLMSettings(backend="litellm", retry_base_s=0.01), env={})
    stats = CallStats()
    with pytest.raises(FatalLLMError, match="No API key for model 'gpt-5'.*OPENAI_API_KEY"):
        model.complete(ChatRequest(messages=[ChatMessage(role="user", content="hi")]), stats)
    assert stats.attempts == 1


@pytest.mark.slow
def test_gome_run_through_litellm(tmp_path: Path):
    # the backend comes from the environment (GOME_LLM_BACKEND), the model and URL from the CLI
    import os
    import subprocess
    import sys

    from test_llm_run import scripted_model

    from gome.journal.db import Journal

    practice = make_practice("penguins", tmp_path / "penguins", max_rows=150)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOME_", "OPENAI_"))}
    env["GOME_LLM_BACKEND"] = "litellm"
    with FakeOpenAI(responder=scripted_model()) as fake:
        proc = subprocess.run(
            [sys.executable, "-m", "gome.cli.app", "run", str(practice), "--reasoner", "llm",
             "--model", "openai/gpt-4.1-mini", "--base-url", fake.base_url, "--traces", "1",
             "--steps", "1", "--time-limit", "3m", "--full-time-limit", "90s",
             "--debug-time-limit", "60s", "--out", str(tmp_path / "run"), "--no-live"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "run" / "final" / "submission.csv").exists()
    journal = Journal.open(tmp_path / "run")
    try:
        run = journal.run()
        calls = journal.llm_calls()
    finally:
        journal.close()
    assert run.config["llm"]["backend"] == "litellm"
    assert [c.operator for c in calls] == ["draft", "review"]
    assert all(c.ok and c.tokens_in == 2000 and c.tokens_out == 400 for c in calls)
    # gpt-4.1-mini's list price: 2000 x $0.40 + 400 x $1.60 per 1M tokens, per call
    assert sum(c.cost_usd for c in calls) == pytest.approx(2 * (2000 * 0.40 + 400 * 1.60) / 1e6)

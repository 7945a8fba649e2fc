"""Each failure a real model or API produces, against a fake OpenAI server and the real SDK.

Every test drives the LLM reasoner's operators through a scripted server and checks how the
call ends (a typed result, InvalidOutput for the step, FatalLLMError for the run) and what is
recorded in ``ctx.llm_calls`` (what the journal stores).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, Reply, context_length_error, error, prompt_text

from gome.errors import FatalLLMError, InvalidOutput
from gome.llm.settings import LLMSettings
from gome.reasoning.llm import LLMReasoner
from gome.reasoning.types import (
    BestSolution,
    Context,
    Gradient,
    Hypothesis,
    HypothesisScores,
    Problem,
)
from gome.sandbox.outcome import Outcome, RunStatus
from gome.task.loader import load_task
from gome.task.practice import make_practice

BEST_CODE = "import pandas as pd\n\nprint('version one')\n"
NEW_CODE = "import pandas as pd\n\nprint('version two')\n"
DIAGNOSIS = {
    "analysis": "plain baseline",
    "problems": [
        {"caption": "no feature scaling", "statement": "raw units", "evidence": ["score 0.8"],
         "category": "features", "expected_impact": "medium", "source": "task"},
        {"caption": "weak model", "statement": "linear model underfits",
         "evidence": ["train 0.81"], "category": "model", "expected_impact": "high",
         "source": "feedback"},
    ],
}


def code_reply(code: str = NEW_CODE, summary: str = "print version two") -> str:
    return f"SUMMARY: {summary}\n```python\n{code}```\n"


@pytest.fixture(scope="module")
def task(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("llm") / "penguins"
    return load_task(make_practice("penguins", Path(root), max_rows=60))


@pytest.fixture()
def fake():
    with FakeOpenAI() as server:
        yield server


def settings(fake: FakeOpenAI, **kw) -> LLMSettings:
    base = {"model": "openai/gpt-4.1-mini", "base_url": fake.base_url, "retry_base_s": 0.01,
            "retry_max_s": 0.05, "timeout_s": 20.0}
    return LLMSettings(**(base | kw))


def context(task, best: bool = True) -> Context:
    b = None
    if best:
        b = BestSolution(step_id=1, code=BEST_CODE, score=0.8, summary="baseline",
                         outcome=Outcome(status=RunStatus.OK, wall_time_s=1.5,
                                         scores={"metric": "accuracy", "score": 0.8},
                                         has_submission=True))
    return Context(task=task, best=b, trace_step=1, time_left_s=600, stage="improve",
                   runtime="Python 3.11, 2 CPU cores, pandas, scikit-learn, lightgbm")


def selection_for(task):
    from gome.reasoning.types import Selection

    h = Hypothesis(problem="weak model", statement="use gradient boosting", component="model",
                   scores=HypothesisScores(alignment=8, impact=8, novelty=7, feasibility=8,
                                           risk_reward=7))
    return Selection(hypothesis=h, reason="biggest gap")


# -- structured output ----------------------------------------------------------------------
def test_prose_around_json_gives_a_gradient(task, fake):
    fake.add("Sure! Here is my diagnosis of the solution:\n" + json.dumps(DIAGNOSIS)
             + "\nLet me know if you need anything else.")
    ctx = context(task)
    gradient = LLMReasoner(task, settings(fake)).diagnose(ctx)
    assert [p.caption for p in gradient.problems] == ["no feature scaling", "weak model"]
    assert gradient.problems[1].category == "model"
    assert len(ctx.llm_calls) == 1 and ctx.llm_calls[0].ok
    assert ctx.llm_calls[0].operator == "diagnose"
    # the JSON-schema response format was requested
    assert fake.requests[0]["response_format"]["type"] == "json_schema"


def test_trailing_commas_and_single_quotes_are_repaired(task, fake):
    fake.add("""```json
{'hypotheses': [
  {'problem': 'weak model', 'statement': 'use LightGBM with 300 trees',
   'component': 'model',
   'scores': {'alignment': 9, 'impact': '8', 'novelty': 7.4, 'feasibility': 9,
              'risk_reward': 8,},},
],}
```""")
    ctx = context(task)
    gradient = Gradient(problems=[Problem(**p) for p in DIAGNOSIS["problems"]])
    hyps = LLMReasoner(task, settings(fake)).propose(ctx, gradient)
    assert len(hyps) == 1
    assert hyps[0].problem == "weak model"
    assert (hyps[0].scores.impact, hyps[0].scores.novelty) == (8, 7)
    assert ctx.llm_calls[0].ok


def test_think_block_is_ignored(task, fake):
    candidates = [
        Hypothesis(problem="a", statement=f"change {i}", component="model",
                   scores=HypothesisScores(alignment=5, impact=5, novelty=5, feasibility=5,
                                           risk_reward=5))
        for i in range(3)
    ]
    fake.add('<think>The first looks good: {"choice": 1}. Hmm, no.</think>\n'
             '```json\n{"choice": 3, "reason": "fits the stage", "memory_used": []}\n```')
    ctx = context(task)
    sel = LLMReasoner(task, settings(fake)).select(ctx, candidates, [])
    assert sel.hypothesis.statement == "change 2"
    assert sel.reason == "fits the stage"


def test_missing_code_block_is_asked_again(task, fake):
    fake.add("I would switch to gradient boosting, which should help a lot.", code_reply())
    ctx = context(task)
    change = LLMReasoner(task, settings(fake)).implement(ctx, selection_for(task))
    assert change.code == NEW_CODE
    assert change.summary == "print version two"
    assert [c.ok for c in ctx.llm_calls] == [False, True]
    assert "no ```python code block" in (ctx.llm_calls[0].error or "")
    # the re-ask carries the model's reply and the reason
    second = fake.requests[1]["messages"]
    assert second[-2]["role"] == "assistant"
    assert "could not be used" in second[-1]["content"]


def test_code_identical_to_the_input_is_rejected(task, fake):
    fake.add(code_reply(BEST_CODE, "no change"), code_reply())
    ctx = context(task)
    change = LLMReasoner(task, settings(fake)).implement(ctx, selection_for(task))
    assert change.code == NEW_CODE
    assert "identical" in (ctx.llm_calls[0].error or "")
    assert "actually differs" in fake.requests[1]["messages"][-1]["content"]


def test_syntax_error_in_code_is_rejected(task, fake):
    broken = "import pandas as pd\n\ndef main(:\n    pass\n"
    fake.add(code_reply(broken, "fixed"), code_reply())
    ctx = context(task)
    failed = Outcome(status=RunStatus.ERROR, exit_code=1, traceback="Traceback...\nKeyError: 'x'")
    change = LLMReasoner(task, settings(fake)).fix(ctx, BEST_CODE, failed)
    assert change.code == NEW_CODE
    assert "does not parse as Python" in (ctx.llm_calls[0].error or "")
    assert "KeyError" in prompt_text(fake.requests[0])  # the evidence reached the prompt


def test_unusable_replies_end_the_step_after_the_bound(task, fake):
    fake.add("no code", "still no code", "nothing")
    ctx = context(task)
    with pytest.raises(InvalidOutput, match="no usable reply after 3 attempts"):
        LLMReasoner(task, settings(fake)).improve(ctx)
    assert len(ctx.llm_calls) == 3 and not any(c.ok for c in ctx.llm_calls)
    assert fake.remaining == 0


def test_invalid_json_fields_are_reasked_with_the_validation_error(task, fake):
    fake.add('{"analysis": "x", "problems": []}', json.dumps(DIAGNOSIS))
    ctx = context(task)
    gradient = LLMReasoner(task, settings(fake)).diagnose(ctx)
    assert len(gradient.problems) == 2
    assert "problems" in (ctx.llm_calls[0].error or "")
    assert "problems" in fake.requests[1]["messages"][-1]["content"]


def test_truncated_output_is_continued(task, fake):
    fake.add(Reply(content="SUMMARY: baseline\nAPPROACH: logistic regression\n```python\n"
                           "import pandas as pd\n\nprint('version", finish_reason="length",
                   tokens_in=100, tokens_out=50),
             Reply(content="```python\n two')\n```\n", tokens_in=130, tokens_out=10))
    ctx = context(task, best=False)
    change = LLMReasoner(task, settings(fake)).draft(ctx)
    assert change.code == NEW_CODE
    assert change.approach == "logistic regression"
    call = ctx.llm_calls[0]
    assert call.ok and (call.tokens_in, call.tokens_out) == (230, 60)
    cont = fake.requests[1]["messages"]
    assert cont[-2]["role"] == "assistant" and "Continue exactly" in cont[-1]["content"]


def test_truncated_json_is_repaired(task, fake):
    cut = json.dumps(DIAGNOSIS)[:-60]  # cut inside the second problem
    fake.add(Reply(content=cut, finish_reason="length"), Reply(content="", finish_reason="length"),
             Reply(content="", finish_reason="length"), Reply(content="", finish_reason="length"))
    ctx = context(task)
    gradient = LLMReasoner(task, settings(fake)).diagnose(ctx)
    assert gradient.problems[0].caption == "no feature scaling"


# -- transport ---------------------------------------------------------------------------
def test_rate_limit_then_success(task, fake):
    fake.add(error(429, "Rate limit reached", code="rate_limit_exceeded",
                   headers={"retry-after": "0"}), json.dumps(DIAGNOSIS))
    ctx = context(task)
    LLMReasoner(task, settings(fake)).diagnose(ctx)
    assert ctx.llm_calls[0].ok and ctx.llm_calls[0].attempts == 2


def test_server_error_three_times_then_success(task, fake):
    fake.add(*(error(500, "internal error") for _ in range(3)), json.dumps(DIAGNOSIS))
    ctx = context(task)
    LLMReasoner(task, settings(fake, max_retries=5)).diagnose(ctx)
    assert ctx.llm_calls[0].ok and ctx.llm_calls[0].attempts == 4


def test_server_errors_beyond_the_bound_fail_the_step(task, fake):
    fake.add(*(error(500, "internal error") for _ in range(3)), json.dumps(DIAGNOSIS))
    ctx = context(task)
    with pytest.raises(InvalidOutput, match="HTTP 500 after 3 attempt"):
        LLMReasoner(task, settings(fake, max_retries=2)).diagnose(ctx)
    assert len(ctx.llm_calls) == 1
    call = ctx.llm_calls[0]
    assert not call.ok and call.attempts == 3 and "500" in (call.error or "")
    assert fake.remaining == 1  # no fourth request


def test_timeout_is_retried(task, fake):
    fake.add(Reply(content=json.dumps(DIAGNOSIS), delay_s=2.0), json.dumps(DIAGNOSIS))
    ctx = context(task)
    LLMReasoner(task, settings(fake, timeout_s=0.5)).diagnose(ctx)
    assert ctx.llm_calls[0].ok and ctx.llm_calls[0].attempts == 2


def test_dropped_connection_is_retried(task, fake):
    fake.add(Reply(drop=True), json.dumps(DIAGNOSIS))
    ctx = context(task)
    LLMReasoner(task, settings(fake)).diagnose(ctx)
    assert ctx.llm_calls[0].ok and ctx.llm_calls[0].attempts == 2


def test_bad_key_is_fatal_with_one_sentence(task, fake):
    fake.add(error(401, "Incorrect API key provided: sk-abc.", code="invalid_api_key"))
    ctx = context(task)
    with pytest.raises(FatalLLMError) as info:
        LLMReasoner(task, settings(fake)).diagnose(ctx)
    message = str(info.value)
    assert "key" in message and "OPENAI_API_KEY" in message and "\n" not in message
    assert len(ctx.llm_calls) == 1 and not ctx.llm_calls[0].ok
    assert ctx.llm_calls[0].attempts == 1  # no retry on a bad key


def test_unknown_model_is_fatal(task, fake):
    fake.add(error(404, "The model `gpt-9` does not exist", code="model_not_found"))
    with pytest.raises(FatalLLMError, match="does not know model"):
        LLMReasoner(task, settings(fake)).diagnose(context(task))


def test_refusal_is_fatal(task, fake):
    fake.add(Reply(refusal="I'm sorry, I cannot help with that."))
    ctx = context(task)
    with pytest.raises(FatalLLMError, match="refused"):
        LLMReasoner(task, settings(fake)).diagnose(ctx)
    assert "refused" in (ctx.llm_calls[0].error or "")


def test_context_length_error_shrinks_the_prompt_once(task, fake):
    fake.add(context_length_error(), json.dumps(DIAGNOSIS))
    long_code = BEST_CODE + "".join(f"x{i} = {i}  # padding line\n" for i in range(3000))
    ctx = context(task)
    ctx.best = ctx.best.model_copy(update={"code": long_code})
    LLMReasoner(task, settings(fake)).diagnose(ctx)
    first, second = (len(prompt_text(r)) for r in fake.requests)
    assert second < 0.7 * first
    assert [c.ok for c in ctx.llm_calls] == [False, True]
    assert "context length" in (ctx.llm_calls[0].error or "")


def test_context_length_error_twice_fails_the_step(task, fake):
    fake.add(context_length_error(), context_length_error(), json.dumps(DIAGNOSIS))
    with pytest.raises(InvalidOutput, match="too long"):
        LLMReasoner(task, settings(fake)).diagnose(context(task))
    assert fake.remaining == 1


def test_server_without_json_schema_falls_back_to_fenced_json(task, fake):
    fake.add(error(400, "response_format json_schema is not supported by this server"),
             "```json\n" + json.dumps(DIAGNOSIS) + "\n```", json.dumps(DIAGNOSIS))
    reasoner = LLMReasoner(task, settings(fake))
    reasoner.diagnose(context(task))
    reasoner.diagnose(context(task))
    assert "response_format" in fake.requests[0]
    assert "response_format" not in fake.requests[1]
    assert "response_format" not in fake.requests[2]  # remembered


def test_rejected_temperature_is_dropped(task, fake):
    fake.add(error(400, "Unsupported value: 'temperature' does not support 0.2 with this "
                        "model. Only the default (1) value is supported."),
             json.dumps(DIAGNOSIS))
    LLMReasoner(task, settings(fake, temperature=0.2)).diagnose(context(task))
    assert fake.requests[0]["temperature"] == 0.2
    assert "temperature" not in fake.requests[1]


def test_unreadable_review_does_not_veto(task, fake):
    fake.add("looks fine to me", "really fine", "fine")
    review = LLMReasoner(task, settings(fake)).review(
        context(task), NEW_CODE, Outcome(status=RunStatus.OK, scores={"score": 0.9}))
    assert review.veto is False and "no usable verdict" in review.reason


def test_review_veto(task, fake):
    fake.add('{"veto": "yes", "reason": "target encoding fitted on all rows leaks", '
             '"concerns": "leakage"}')
    review = LLMReasoner(task, settings(fake)).review(
        context(task), NEW_CODE, Outcome(status=RunStatus.OK, scores={"score": 0.99}))
    assert review.veto is True and review.concerns == ["leakage"]


def test_search_replace_edits(task, fake):
    fake.add("SUMMARY: say two\n<<<<<<< SEARCH\nprint('version one')\n=======\n"
             "print('version two')\n>>>>>>> REPLACE\n")
    change = LLMReasoner(task, settings(fake, edit_format="search_replace")).implement(
        context(task), selection_for(task))
    assert change.code == NEW_CODE


# -- accounting and caps -----------------------------------------------------------------
def test_cost_is_counted_and_caps_are_reported(task, fake):
    prices = {"gpt-4.1-mini": {"input": 1000.0, "output": 2000.0}}
    fake.add(Reply(content=json.dumps(DIAGNOSIS), tokens_in=1000, tokens_out=500,
                   cached_tokens=0))
    reasoner = LLMReasoner(task, settings(fake, prices=prices, max_cost_usd=2.5))
    assert reasoner.exhausted() is None
    ctx = context(task)
    reasoner.diagnose(ctx)
    assert ctx.llm_calls[0].cost_usd == pytest.approx(1.0 + 1.0)  # 1k in + 0.5k out
    assert reasoner.exhausted() is None
    fake.add(Reply(content=json.dumps(DIAGNOSIS), tokens_in=1000, tokens_out=0))
    reasoner.diagnose(ctx)
    assert "cost cap" in (reasoner.exhausted() or "")


def test_call_cap(task, fake):
    fake.add(json.dumps(DIAGNOSIS), json.dumps(DIAGNOSIS))
    reasoner = LLMReasoner(task, settings(fake, max_llm_calls=2))
    reasoner.diagnose(context(task))
    assert reasoner.exhausted() is None
    reasoner.diagnose(context(task))
    assert "call cap of 2" in (reasoner.exhausted() or "")


def test_concurrent_traces_share_one_reasoner(task):
    with FakeOpenAI(responder=lambda body: Reply(content=json.dumps(DIAGNOSIS), tokens_in=10,
                                                 tokens_out=5)) as fake:
        reasoner = LLMReasoner(task, settings(fake))
        contexts = [context(task) for _ in range(8)]
        errors: list[BaseException] = []

        def work(ctx: Context) -> None:
            try:
                for _ in range(3):
                    reasoner.diagnose(ctx)
            except BaseException as err:  # noqa: BLE001 - reported below
                errors.append(err)

        threads = [threading.Thread(target=work, args=(c,)) for c in contexts]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert all(len(c.llm_calls) == 3 for c in contexts)
        usage = reasoner.usage()
        assert usage["calls"] == 24 and usage["tokens_in"] == 240


def test_per_operator_models(task, fake):
    fake.add(json.dumps(DIAGNOSIS), code_reply())
    reasoner = LLMReasoner(task, settings(fake, operator_models={"implement": "openai/cheap"}))
    ctx = context(task)
    reasoner.diagnose(ctx)
    reasoner.implement(ctx, selection_for(task))
    assert [r["model"] for r in fake.requests] == ["gpt-4.1-mini", "cheap"]
    assert [c.model for c in ctx.llm_calls] == ["openai/gpt-4.1-mini", "openai/cheap"]


def test_resumed_usage_counts_toward_the_caps(task, fake):
    reasoner = LLMReasoner(task, settings(fake, max_cost_usd=1.0, max_llm_calls=10))
    assert reasoner.exhausted() is None
    reasoner.restore_usage(calls=3, cost_usd=1.2)
    assert "cost cap" in (reasoner.exhausted() or "")
    assert reasoner.usage()["calls"] == 3


def test_rejected_token_parameter_is_swapped(task, fake):
    fake.add(error(400, "Unsupported parameter: 'max_tokens' is not supported with this model. "
                        "Use 'max_completion_tokens' instead."), json.dumps(DIAGNOSIS))
    LLMReasoner(task, settings(fake, max_output_tokens=2000)).diagnose(context(task))
    assert fake.requests[0]["max_tokens"] == 2000
    assert "max_tokens" not in fake.requests[1]
    assert fake.requests[1]["max_completion_tokens"] == 2000


def test_reply_without_choices_is_retried(task, fake):
    fake.add(Reply(content="x", empty_choices=True), json.dumps(DIAGNOSIS))
    ctx = context(task)
    LLMReasoner(task, settings(fake)).diagnose(ctx)
    assert ctx.llm_calls[0].ok and ctx.llm_calls[0].attempts == 2


def test_seed_is_sent_and_dropped_when_rejected(task, fake):
    fake.add(error(400, "Unrecognized request argument supplied: seed"), json.dumps(DIAGNOSIS))
    LLMReasoner(task, settings(fake), seed=3).diagnose(context(task))
    assert isinstance(fake.requests[0]["seed"], int)
    assert "seed" not in fake.requests[1]


def test_header_values_can_name_environment_variables(task, fake):
    fake.add(json.dumps(DIAGNOSIS))
    s = settings(fake, headers={"X-Team": "ml", "X-Token": "${GOME_TEST_TOKEN}"})
    LLMReasoner(task, s, env={"GOME_TEST_TOKEN": "tok-123"}).diagnose(context(task))
    assert fake.headers[0]["X-Token"] == "tok-123" and fake.headers[0]["X-Team"] == "ml"


def test_settings_reach_the_request(task, fake):
    fake.add(json.dumps(DIAGNOSIS))
    s = settings(fake, organization="org-gome", temperature=0.3, reasoning_effort="high",
                 max_output_tokens=3000)
    LLMReasoner(task, s).diagnose(context(task))
    sent = fake.requests[0]
    # a custom base URL: the widely supported max_tokens, not OpenAI's max_completion_tokens
    assert (sent["temperature"], sent["reasoning_effort"], sent["max_tokens"]) == (
        0.3, "high", 3000)
    headers = {k.lower(): v for k, v in fake.headers[0].items()}
    assert headers["openai-organization"] == "org-gome"


def test_backoff_doubles_with_jitter_up_to_the_cap_and_honours_retry_after(task, fake):
    from gome.llm.client import make_chat_model

    model = make_chat_model("openai/gpt-4.1-mini",
                            settings(fake, retry_base_s=1.0, retry_max_s=8.0), env={})
    delays = [model._backoff(n, RuntimeError()) for n in range(1, 7)]
    for n, delay in enumerate(delays, start=1):
        ceiling = min(8.0, 2.0 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling  # jitter takes off up to half
    assert len({round(d / min(8.0, 2.0 ** n), 6) for n, d in enumerate(delays)}) > 1
    # a 429's Retry-After is waited for, above the exponential delay (up to retry_max_s)
    fake.add(error(429, "Rate limit reached", headers={"retry-after": "1"}), json.dumps(DIAGNOSIS))
    ctx = context(task)
    reasoner = LLMReasoner(task, settings(fake, retry_base_s=0.01, retry_max_s=5.0))
    started = time.monotonic()
    reasoner.diagnose(ctx)
    assert time.monotonic() - started >= 1.0
    assert ctx.llm_calls[0].ok and ctx.llm_calls[0].attempts == 2

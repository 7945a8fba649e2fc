"""Chat models behind one small interface, with the retries real APIs need.

``OpenAIChat`` talks to any OpenAI-compatible server through the official SDK (OpenAI, vLLM,
Ollama, llama.cpp, OpenRouter, DeepSeek...); ``LiteLLMChat`` (optional extra) reaches providers
without such an endpoint. Both share one loop that:

- retries rate limits, server errors, timeouts and dropped connections with exponential backoff
  and jitter, a bounded number of times (``LLMSettings.max_retries``);
- drops request parameters a server rejects (temperature on reasoning models, the JSON-schema
  response format on servers without it) and tries again, remembering the lesson;
- continues a reply cut off by the token limit (finish reason "length") instead of losing it;
- turns what retrying cannot fix (bad key, unknown model, refusal) into ``FatalLLMError`` and a
  too-long prompt into ``ContextLengthExceeded`` so that the caller can shrink it.

Every attempt is counted in a ``CallStats`` the caller passes in, so that a failed call is still
accounted for in the journal.
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from gome.errors import FatalLLMError
from gome.llm.providers import NO_KEY, Endpoint, api_key_for, resolve_endpoint
from gome.llm.settings import LLMSettings

Role = Literal["system", "user", "assistant"]


class ChatMessage(BaseModel):
    role: Role
    content: str


class ChatRequest(BaseModel):
    messages: list[ChatMessage]
    temperature: float | None = None
    reasoning_effort: str | None = None
    max_output_tokens: int | None = None
    json_schema: dict[str, Any] | None = Field(
        default=None, description="ask for this JSON schema as the response format, if supported"
    )
    schema_name: str = "reply"
    seed: int | None = Field(default=None, description="sampling seed, where the server has one")


class ChatReply(BaseModel):
    text: str
    finish_reason: str = "stop"
    model: str = ""
    used_schema: bool = False
    continuations: int = 0


class CallStats(BaseModel):
    """Filled in while a call runs, so that even a failed call can be accounted for."""

    attempts: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cached_tokens: int = 0
    latency_s: float = 0.0
    usage_reported: bool = True


@runtime_checkable
class ChatModel(Protocol):
    """One model at one endpoint. Implementations are safe to call from several threads."""

    model: str  # the model string as the user typed it (for prices and the journal)
    local: bool  # a local server: calls cost nothing

    def complete(self, request: ChatRequest, stats: CallStats | None = None) -> ChatReply:
        """One logical call: retries, continuations and parameter fallbacks included."""
        ...


class LLMTransportError(Exception):
    """The call failed after the bounded retries (or on an error retrying cannot fix)."""


class ContextLengthExceeded(Exception):
    """The prompt is longer than the model's context: shrink it and try again."""


_CONTEXT_RE = re.compile(
    r"context[ _-]?(length|window)|maximum context|too many tokens|prompt is too long|"
    r"reduce the length|input is too long|exceeds the model",
    re.I,
)
_SCHEMA_RE = re.compile(r"response_format|json_schema|structured output|json schema", re.I)
_MODEL_RE = re.compile(r"model", re.I)
_MISSING_KEY_RE = re.compile(r"missing credentials|api_key client option must be set|"
                             r"missing \w+ api key|api key (is )?(not set|missing)", re.I)
# LiteLLM's exception messages repeat the class names: "litellm.AuthenticationError:
# AuthenticationError: OpenAIException - Incorrect API key provided"
_LITELLM_PREFIX_RE = re.compile(r"^(litellm\.\w+: )+(\w+Error: )?(\w+Exception - )?")


@lru_cache(maxsize=8)
def _template(name: str) -> str:
    return (Path(__file__).parent / "templates" / name).read_text(encoding="utf-8")


class _RetryingChat:
    """The retry / fallback / continuation loop shared by the clients."""

    model: str
    local: bool

    def __init__(self, endpoint: Endpoint, settings: LLMSettings, *, seed: int = 0) -> None:
        self.endpoint = endpoint
        self.model = endpoint.model_string
        self.local = endpoint.local
        self.settings = settings
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._dropped: set[str] = set()  # parameters this server rejected
        mode = settings.structured_output
        self._schema_ok: bool | None = {"json_schema": True, "prompt": False}.get(mode)
        self._token_param = "max_completion_tokens" if endpoint.is_openai else "max_tokens"

    # -- what subclasses provide -----------------------------------------------------------
    def _send(self, kwargs: dict[str, Any]) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _classify(self, err: Exception) -> str:
        """'retry' | 'context' | 'fatal' | 'bad_request' | 'raise' for an exception of _send."""
        import openai

        if isinstance(err, openai.APITimeoutError | openai.APIConnectionError):
            return "retry"
        if isinstance(err, openai.AuthenticationError | openai.PermissionDeniedError):
            return "fatal"
        if isinstance(err, openai.NotFoundError):
            return "fatal"
        if isinstance(err, openai.RateLimitError):
            return "context" if _CONTEXT_RE.search(_message(err)) else "retry"
        if isinstance(err, openai.APIStatusError):
            if err.status_code in (408, 409) or err.status_code >= 500:
                return "retry"
            if err.status_code in (400, 413, 422):
                return "context" if _is_context_error(err) else "bad_request"
            return "bad_request"
        return "raise"

    def _fatal_sentence(self, err: Exception) -> str:
        return _fatal_sentence(err, self.model)

    # -- the loop -----------------------------------------------------------------------
    def complete(self, request: ChatRequest, stats: CallStats | None = None) -> ChatReply:
        stats = stats if stats is not None else CallStats()
        started = time.monotonic()
        try:
            messages = [m.model_dump() for m in request.messages]
            use_schema = request.json_schema is not None and self._schema_ok is not False
            text, finish, model_name, used_schema = "", "stop", "", False
            continuations = 0
            while True:
                raw, used = self._attempts(request, messages, use_schema, stats)
                used_schema = used_schema or used
                choice = raw.choices[0]
                message = choice.message
                refusal = _refusal(message)
                finish = choice.finish_reason or "stop"
                if refusal or finish == "content_filter":
                    why = (refusal or "content filter").strip().splitlines()[0][:200]
                    raise FatalLLMError(
                        f"The model {self.model} refused to answer ({why}): use another model "
                        "with --model or check the competition description."
                    )
                part = message.content or ""
                text = _join_continuation(text, part) if continuations else part
                model_name = getattr(raw, "model", "") or model_name
                if finish != "length" or continuations >= self.settings.max_continuations:
                    break
                continuations += 1
                messages = messages + [
                    {"role": "assistant", "content": part},
                    {"role": "user", "content": _template("continue.j2").strip()},
                ]
                use_schema = False  # a continuation is not a whole JSON object
            return ChatReply(text=text, finish_reason=finish, model=model_name,
                             used_schema=used_schema, continuations=continuations)
        finally:
            stats.latency_s += time.monotonic() - started

    def _attempts(
        self, request: ChatRequest, messages: list[dict[str, str]], use_schema: bool,
        stats: CallStats,
    ) -> tuple[Any, bool]:
        """Send one request, retrying transient errors and dropping rejected parameters."""
        failures = 0
        fixes = 0
        while True:
            kwargs = self._kwargs(request, messages, use_schema)
            stats.attempts += 1
            try:
                raw = self._send(kwargs)
            except Exception as err:  # noqa: BLE001 - classified below
                kind = self._classify(err)
                if kind == "fatal":
                    raise FatalLLMError(self._fatal_sentence(err)) from err
                if kind == "context":
                    raise ContextLengthExceeded(_message(err)) from err
                if kind == "bad_request" and fixes < 4:
                    param = self._rejected_param(err, kwargs)
                    if param == "response_format":
                        self._schema_ok = False
                        use_schema = False
                        fixes += 1
                        continue
                    if param:
                        with self._lock:
                            self._dropped.add(param)
                        fixes += 1
                        continue
                if kind == "bad_request" and _MODEL_RE.search(_message(err)) and (
                    "not exist" in _message(err) or "not found" in _message(err)
                    or "unknown" in _message(err).lower() or "invalid model" in _message(err)
                ):
                    raise FatalLLMError(self._fatal_sentence(err)) from err
                if kind == "raise":  # not an API error we know: fail this call, not the run
                    raise LLMTransportError(f"{type(err).__name__}: {err}"[:300]) from err
                if kind != "retry" or failures >= self.settings.max_retries:
                    raise LLMTransportError(_short(err, failures + 1)) from err
                failures += 1
                time.sleep(self._backoff(failures, err))
                continue
            if not getattr(raw, "choices", None):
                if failures >= self.settings.max_retries:
                    raise LLMTransportError("the server returned no choices")
                failures += 1
                time.sleep(self._backoff(failures, RuntimeError()))
                continue
            self._account(raw, kwargs, stats)
            if use_schema and self._schema_ok is None:
                self._schema_ok = True
            return raw, use_schema and "response_format" in kwargs

    def _kwargs(
        self, request: ChatRequest, messages: list[dict[str, str]], use_schema: bool
    ) -> dict[str, Any]:
        with self._lock:
            dropped = set(self._dropped)
        kwargs: dict[str, Any] = {"model": self.endpoint.model, "messages": messages}
        if request.temperature is not None and "temperature" not in dropped:
            kwargs["temperature"] = request.temperature
        if request.reasoning_effort and "reasoning_effort" not in dropped:
            kwargs["reasoning_effort"] = request.reasoning_effort
        if request.max_output_tokens:
            param = self._token_param
            if param in dropped:
                other = {"max_tokens": "max_completion_tokens"}
                param = other.get(param, "max_tokens")
            if param not in dropped:
                kwargs[param] = request.max_output_tokens
        if request.seed is not None and "seed" not in dropped:
            kwargs["seed"] = request.seed
        if use_schema and request.json_schema is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": request.schema_name, "schema": request.json_schema,
                                "strict": False},
            }
        return kwargs

    def _rejected_param(self, err: Exception, sent: dict[str, Any]) -> str | None:
        """The parameter a 400 complains about, among those this request sent."""
        msg = _message(err)
        low = msg.lower()
        if "response_format" in sent and _SCHEMA_RE.search(msg):
            return "response_format"
        for param in ("temperature", "reasoning_effort", "seed", "max_completion_tokens",
                      "max_tokens"):
            if param in sent and param in low:
                return param
        return None

    def _backoff(self, failures: int, err: Exception) -> float:
        base = self.settings.retry_base_s * (2 ** (failures - 1))
        with self._lock:
            jitter = 0.5 + self._rng.random() / 2
        delay = min(self.settings.retry_max_s, base) * jitter
        retry_after = _retry_after(err)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.settings.retry_max_s))
        return delay

    def _account(self, raw: Any, kwargs: dict[str, Any], stats: CallStats) -> None:
        usage = getattr(raw, "usage", None)
        if usage is not None and (getattr(usage, "prompt_tokens", None) or
                                  getattr(usage, "completion_tokens", None)):
            stats.tokens_in += int(usage.prompt_tokens or 0)
            stats.tokens_out += int(getattr(usage, "completion_tokens", 0) or 0)
            details = getattr(usage, "prompt_tokens_details", None)
            cached = getattr(details, "cached_tokens", None) if details is not None else None
            stats.cached_tokens += int(cached or 0)
        else:  # some servers report nothing (LiteLLM then says 0 and 0): estimate, 4 chars a token
            stats.usage_reported = False
            prompt_chars = sum(len(m["content"]) for m in kwargs["messages"])
            reply = raw.choices[0].message.content or "" if raw.choices else ""
            stats.tokens_in += prompt_chars // 4
            stats.tokens_out += len(reply) // 4


class OpenAIChat(_RetryingChat):
    """A model behind an OpenAI-compatible API, through the official openai SDK."""

    def __init__(
        self, endpoint: Endpoint, settings: LLMSettings, *, seed: int = 0,
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(endpoint, settings, seed=seed)
        import openai

        self._client = openai.OpenAI(
            api_key=api_key_for(endpoint, env),
            base_url=endpoint.base_url,
            organization=settings.organization,
            default_headers=expand_headers(settings.headers, env) or None,
            timeout=settings.timeout_s,
            max_retries=0,  # our own loop retries, with jitter and accounting
        )

    def _send(self, kwargs: dict[str, Any]) -> Any:
        return self._client.chat.completions.create(**kwargs)


class LiteLLMChat(_RetryingChat):
    """A model reached through LiteLLM (the optional ``litellm`` extra)."""

    def __init__(
        self, endpoint: Endpoint, settings: LLMSettings, *, seed: int = 0,
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(endpoint, settings, seed=seed)
        load_litellm()
        self._env = env
        self._token_param = "max_tokens"

    def _send(self, kwargs: dict[str, Any]) -> Any:
        litellm = load_litellm()
        kwargs = dict(kwargs, model=self.endpoint.model_string, num_retries=0,
                      timeout=self.settings.timeout_s)
        if self.settings.base_url:
            kwargs["api_base"] = self.settings.base_url
        key = self._key()
        if key:
            kwargs["api_key"] = key
        if self.settings.headers:
            kwargs["extra_headers"] = expand_headers(self.settings.headers, self._env)
        return litellm.completion(**kwargs)

    def _classify(self, err: Exception) -> str:
        # LiteLLM reports a key it could not find as a server error (HTTP 500): retrying is futile.
        if _MISSING_KEY_RE.search(_message(err)):
            return "fatal"
        return super()._classify(err)

    def _fatal_sentence(self, err: Exception) -> str:
        if _MISSING_KEY_RE.search(_message(err)):
            var = self.endpoint.key_env or "the provider's key variable"
            return (f"No API key for model '{self.model}': set the environment variable {var} "
                    "(or point --base-url at a local OpenAI-compatible server).")
        return super()._fatal_sentence(err)

    def _key(self) -> str | None:
        """The key from the variable gome resolved, a placeholder for a server that needs none,
        or None: LiteLLM then finds the provider's own credentials (AWS, Vertex...)."""
        env = os.environ if self._env is None else self._env
        key = env.get(self.endpoint.key_env, "") if self.endpoint.key_env else ""
        if key:
            return key
        if self.endpoint.local or self.settings.base_url:
            return NO_KEY
        return None


def load_litellm() -> Any:
    """Import LiteLLM closed-world: its bundled price map, not one fetched from GitHub at import."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        import litellm  # type: ignore[import-not-found]
    except ImportError as err:
        from gome.errors import ConfigError

        raise ConfigError(
            "The litellm backend is not installed: pip install 'gome[litellm]' or use "
            "backend = \"openai\"."
        ) from err
    litellm.suppress_debug_info = True  # its "Give Feedback / Get Help" banner on every error
    return litellm


def make_chat_model(
    model_string: str, settings: LLMSettings, *, seed: int = 0, env: dict[str, str] | None = None
) -> ChatModel:
    """The client for one model string, by the configured backend."""
    endpoint = resolve_endpoint(model_string, settings)
    if settings.backend == "litellm":
        return LiteLLMChat(endpoint, settings, seed=seed, env=env)
    if settings.backend != "openai":
        from gome.errors import ConfigError

        raise ConfigError(
            f"Unknown LLM backend '{settings.backend}': use backend = \"openai\" or \"litellm\"."
        )
    return OpenAIChat(endpoint, settings, seed=seed, env=env)


# -- helpers -------------------------------------------------------------------------------
_ENV_REF = re.compile(r"\$\{(\w+)\}|^env:(\w+)$")


def expand_headers(
    headers: dict[str, str], env: dict[str, str] | None = None
) -> dict[str, str]:
    """Header values may name environment variables (``${TOKEN}`` or ``env:TOKEN``), so that
    secrets stay out of gome.toml and of the journal, which stores the settings."""
    source = os.environ if env is None else env

    def sub(match: re.Match[str]) -> str:
        return source.get(match.group(1) or match.group(2), "")

    return {k: _ENV_REF.sub(sub, v) for k, v in headers.items()}


def _message(err: Exception) -> str:
    body = getattr(err, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return _LITELLM_PREFIX_RE.sub("", str(getattr(err, "message", None) or err))


def _refusal(message: Any) -> str | None:
    """The refusal text: a field of the openai SDK's message, a provider field in LiteLLM's."""
    refusal = getattr(message, "refusal", None)
    if refusal is None:
        extra = getattr(message, "provider_specific_fields", None)
        if isinstance(extra, dict):
            refusal = extra.get("refusal")
    return str(refusal) if refusal else None


def _code(err: Exception) -> str:
    body = getattr(err, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            return str(inner.get("code") or "")
    return str(getattr(err, "code", "") or "")


def _is_context_error(err: Exception) -> bool:
    return _code(err) == "context_length_exceeded" or bool(_CONTEXT_RE.search(_message(err)))


def _retry_after(err: Exception) -> float | None:
    response = getattr(err, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _fatal_sentence(err: Exception, model: str) -> str:
    import openai

    msg = _message(err).strip().splitlines()[0][:160] if _message(err).strip() else ""
    if isinstance(err, openai.AuthenticationError):
        return (f"The API rejected the key for model {model} ({msg}): check the key in the "
                "environment variable named by api_key_env (default OPENAI_API_KEY).")
    if isinstance(err, openai.PermissionDeniedError):
        return (f"The API denied access to model {model} ({msg}): use a model your key may "
                "call, with --model.")
    return (f"The server does not know model {model} ({msg}): check the name given with --model "
            "(and --base-url for a local server).")


def _short(err: Exception, attempts: int) -> str:
    status = getattr(err, "status_code", None)
    what = f"HTTP {status}" if status else type(err).__name__
    return f"{what} after {attempts} attempt(s): {_message(err)[:200]}"


def _join_continuation(previous: str, more: str) -> str:
    """Glue a continuation to the cut-off text, dropping a code fence the model reopened."""
    if previous.count("```") % 2 == 1:
        stripped = more.lstrip()
        if stripped.startswith("```"):
            first_newline = stripped.find("\n")
            more = stripped[first_newline + 1:] if first_newline >= 0 else ""
    return previous + more

"""The few named exceptions that steer control flow across gome's parts.

``GomeError`` is for problems a user can cause and fix (a bad folder, an unknown metric, no
API key): its message is one sentence that names the problem and the fix, and the CLI prints it
without a traceback. The others are raised inside the agent loop and caught by the optimizer.
"""

from __future__ import annotations


class GomeError(Exception):
    """A problem the user can fix; ``str(err)`` is one clear sentence naming the fix."""


class TaskError(GomeError):
    """The competition folder, its metric or a submission is not usable as given."""


class ConfigError(GomeError):
    """A setting (CLI option, gome.toml, environment variable) is missing or invalid."""

    @classmethod
    def from_validation(cls, err: Exception, *, as_flag: bool = False) -> ConfigError:
        """One sentence for the first problem of a pydantic ``ValidationError``: the option
        (``--seeds`` with ``as_flag``, else the field path) and what is wrong with its value."""
        first = err.errors()[0]  # type: ignore[attr-defined]
        if as_flag:
            where = "--" + "-".join(str(p) for p in first["loc"]).replace("_", "-")
        else:
            where = ".".join(str(p) for p in first["loc"])
        return cls(f"option {where}: {first['msg']}; check its value.")


class BudgetExhausted(Exception):
    """The run's budget (time, steps, cost, LLM calls) is spent: start no new step."""


class InvalidOutput(Exception):
    """A reasoner could not produce a valid result (unparseable LLM output after retries...)."""


class Converged(Exception):
    """The reasoner has no untried change left from the trace's best solution: every change it
    knows was run from there and lost. The trace ends (re-running one would only repeat a known
    result: steps run on the same folds and seed)."""


class SandboxFailure(Exception):
    """The sandbox itself failed (not the solution): e.g. bubblewrap could not start."""


class FatalLLMError(GomeError):
    """An LLM error that retrying cannot fix (bad key, unknown model): the run ends cleanly."""

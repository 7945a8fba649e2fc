"""gome's Python API: run an optimizer on a competition folder and get the final answer back.

``run(task_dir, **options)`` builds a :class:`gome.config.RunConfig` from keyword options (the
CLI's options, e.g. ``time_limit="30m"``, ``traces=2``, ``reasoner="llm"``) and calls
``run_config``, which the CLI, the benchmark and the comparison tools all go through. The run
always ends with the final selection and a report, also when the budget ends mid-run or the
LLM fails for good; ``resume(run_dir)`` continues a run that was killed.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from gome.config import RunConfig
from gome.errors import ConfigError, GomeError
from gome.journal.models import FinalResult

log = logging.getLogger("gome.optim")


class RunResult(BaseModel):
    run_dir: Path
    status: str
    final: FinalResult | None = None
    message: str = ""
    steps: int = 0


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d)?\s*$", re.IGNORECASE)


def duration_s(value: str | float | int) -> float:
    """Seconds from 90, '90s', '10m', '1.5h' (uses the sandbox's parser when present)."""
    if isinstance(value, int | float):
        return float(value)
    try:
        from gome.sandbox.units import parse_duration

        return float(parse_duration(value))
    except ImportError:
        pass
    m = _DURATION.match(str(value))
    if not m:
        raise ConfigError(f"'{value}' is not a duration; write it like 90s, 30m or 2h.")
    unit = (m.group(2) or "s").lower()[0]
    return float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


def default_out_dir(task_dir: Path) -> Path:
    """runs/<task folder name>-<date-time> under the current directory."""
    return Path("runs") / f"{Path(task_dir).resolve().name}-{time.strftime('%Y%m%d-%H%M%S')}"


_ALIASES = {"time_limit": "time_limit_s", "debug_time_limit": "debug_time_limit_s",
            "full_time_limit": "full_time_limit_s", "steps": "max_steps", "out": "out_dir",
            "model": "llm.model", "base_url": "llm.base_url", "max_cost": "llm.max_cost_usd",
            "max_cost_usd": "llm.max_cost_usd", "max_llm_calls": "llm.max_llm_calls"}


def make_config(task_dir: str | Path, **options: Any) -> RunConfig:
    """A RunConfig from keyword options; durations may be strings like '30m'."""
    fields: dict[str, Any] = {"task_dir": Path(task_dir)}
    llm: dict[str, Any] = {}
    toml = options.pop("config", None)  # gome.toml holding the [llm] table (default ./gome.toml)
    if toml is not None and not Path(toml).expanduser().is_file():
        raise ConfigError(f"The config file {toml} does not exist: fix the path or drop --config.")
    for key, value in options.items():
        if value is None:
            continue
        name = _ALIASES.get(key, key)
        if name in ("time_limit_s", "debug_time_limit_s", "full_time_limit_s"):
            value = duration_s(value)
        if name.startswith("llm."):
            llm[name[4:]] = value
        else:
            fields[name] = value
    fields.setdefault("out_dir", default_out_dir(Path(task_dir)))
    for name in ("task_dir", "out_dir", "submission_out"):  # the journal keeps them for resume,
        if fields.get(name) is not None:  # which may be started from another folder
            fields[name] = Path(os.path.abspath(Path(fields[name]).expanduser()))
    try:
        config = RunConfig(**fields)
        if config.reasoner == "llm":  # CLI > gome.toml [llm] > environment (GOME_MODEL...)
            from gome.llm.config import resolve_settings

            config.llm = resolve_settings(llm, toml_path=Path(toml).expanduser() if toml else None)
        elif llm:
            config.llm = config.llm.model_copy(update=llm)
    except ValidationError as err:
        raise ConfigError.from_validation(err) from None
    return config


def run(task_dir: str | Path, **options: Any) -> RunResult:
    """Run gome on ``task_dir``; options are RunConfig fields or CLI names (time_limit='30m')."""
    live = bool(options.pop("live", False))
    return run_config(make_config(task_dir, **options), live=live)


def resume(run_dir: str | Path, *, live: bool = False,
           on_start: Callable[[Path], None] | None = None, **overrides: Any) -> RunResult:
    """Continue a killed run from its journal; the budget goes on from what was left."""
    from gome.journal.db import Journal

    run_dir = Path(run_dir)
    journal = Journal.open(run_dir)
    try:
        record = journal.run()
    finally:
        journal.close()
    config = RunConfig.model_validate(record.config)
    config.out_dir = run_dir
    if record.status != "finished" and not Path(config.task_dir).is_dir():
        raise ConfigError(
            f"the competition folder of this run, {config.task_dir}, is not there; put it back "
            "(a relative path counts from the folder the run was started in) to continue."
        )
    for key, value in overrides.items():
        if value is not None:
            setattr(config, _ALIASES.get(key, key), value)
    return run_config(config, live=live, resume=True, on_start=on_start)


def run_config(
    config: RunConfig,
    *,
    live: bool = False,
    resume: bool = False,
    reasoner: Any = None,
    executor: Any = None,
    on_start: Callable[[Path], None] | None = None,
) -> RunResult:
    """Run (or, with ``resume``, continue) the optimizer ``config`` asks for, to the end.

    ``reasoner`` and ``executor`` replace the ones the config names (tests, embedding);
    ``on_start`` is called with the run folder once the run is open (the CLI prints it).
    """
    from gome.optim.final import select_final
    from gome.optim.session import open_session

    session = open_session(config, resume=resume, reasoner=reasoner, executor=executor)
    status, message, final = "failed", "", None
    if on_start is not None:
        on_start(session.run_dir)
    try:
        try:
            if live:
                from gome.optim.live import live_view

                with live_view(session.view, session.budget.elapsed):
                    _optimize(session)
            else:
                _optimize(session)
        except KeyboardInterrupt:
            session.budget.stop("interrupted", cancel_runs=True)
            session.journal.update_run(message="interrupted; continue with `gome resume "
                                       f"{session.run_dir}`")
            raise
        final = select_final(session)
        why = session.budget.stop_reason or session.budget.exhausted() or "the budget is spent"
        if final.step_id is not None:
            status = "finished"
            message = f"{final.message} (stopped: {why})"
        else:
            message = f"{final.message} (stopped: {why})"
        session.journal.update_run(status=status, finished_at=time.time(), final=final,
                                   message=message)
    finally:
        steps = len(session.journal.steps(status="done"))
        session.close()
        session.journal.close()
    _write_report(session.run_dir)
    return RunResult(run_dir=session.run_dir, status=status, final=final, message=message,
                     steps=steps)


def _optimize(session: Any) -> None:
    if session.config.optimizer == "tree":
        try:
            from gome.optim.tree import run_tree
        except ImportError:
            raise GomeError("the tree-search optimizer is not available in this build yet; "
                            "use --optimizer gradient.") from None
        run_tree(session)
        return
    from gome.optim.gradient import run_gradient

    run_gradient(session)


def _write_report(run_dir: Path) -> None:
    try:
        from gome.report.html import write_report
    except ImportError:
        return
    try:
        write_report(run_dir)
    except Exception as err:  # a report bug must never lose a run
        log.warning("the HTML report could not be written: %s", err)
        import sys

        print(f"gome: the HTML report could not be written ({err}); the run itself is intact.",
              file=sys.stderr)

"""`report.html`: one self-contained file (inline CSS, JS and data; no network, no server).

The page is rendered by Jinja2 (autoescaped) for everything a reader sees first: summary,
per-trace tables, one collapsed row per step, the success memory. Step details (gradient,
hypotheses, diff, logs) are embedded once as JSON and built by the inline script only when a
step is expanded, so that a 1,000-step run still opens in a moment.

Model and code text is untrusted: Jinja escapes it in markup, the JSON is escaped so that it
cannot close its <script> element, the script only ever sets ``textContent``, and a
Content-Security-Policy lets only our own script (by its hash) run and forbids every request.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import time
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from gome.journal.models import StepRecord
from gome.report import fmt
from gome.report.data import RunData, decision_of, load_run, memory_users, step_diff

REPORT_NAME = "report.html"
_TEMPLATES = files("gome.report") / "templates"


@cache
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(_TEMPLATES)),
                      autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(score=fmt.score, gain=fmt.gain, duration=fmt.duration, money=fmt.money,
                       tokens=fmt.tokens)
    return env


def _asset(name: str) -> str:
    return (_TEMPLATES / name).read_text(encoding="utf-8")


def _clean(value: Any) -> Any:
    """Make a value strict JSON: NaN and infinities become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def script_json(value: Any) -> str:
    """JSON that is safe inside <script type="application/json">: no '<', '>' or '&' left."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:  # a NaN or infinity somewhere: rare, so only then walk the whole value
        text = json.dumps(_clean(value), ensure_ascii=False, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _step_payload(step: StepRecord, diff: str, calls: list[dict[str, Any]]) -> dict[str, Any]:
    d = step.model_dump(mode="json", exclude={"code", "diff", "workspace", "extra"})
    for h, model in zip(d.get("hypotheses") or [], step.hypotheses, strict=True):
        h["weighted"] = round(model.scores.weighted, 3)
        h.pop("detail", None)
    if d.get("selection"):  # the chosen hypothesis is also in the list: keep only its name
        hyp = d["selection"]["hypothesis"]
        d["selection"]["hypothesis"] = {"statement": hyp["statement"], "problem": hyp["problem"]}
    d["decision"] = decision_of(step)
    d["diff"] = diff
    # calls as compact rows: [operator, model, tokens_in, tokens_out, cost_usd, latency_s, error]
    d["calls"] = [[c.get("operator"), c.get("model"), c.get("tokens_in"), c.get("tokens_out"),
                   c.get("cost_usd"), round(float(c.get("latency_s") or 0.0), 1),
                   None if c.get("ok", True) else (c.get("error") or "failed")] for c in calls]
    return d


def page_data(data: RunData) -> dict[str, Any]:
    """What the inline script reads: the steps in detail, the memory and the plot's needs."""
    by_id = data.step_by_id()
    calls_by_step: dict[int, list[dict[str, Any]]] = {}
    for c in data.calls:
        if c.get("step_id") is not None:
            calls_by_step.setdefault(int(c["step_id"]), []).append(c)
    s = data.summary
    return {
        "run": {"id": s.run_id, "metric": s.metric, "higher_is_better": s.higher_is_better,
                "optimizer": s.optimizer, "time_used_s": s.time_used_s,
                "clock_hours": clock_hours(data),
                "best_step_id": s.best_step_id, "final_step_id": s.final_step_id},
        "steps": [_step_payload(st, step_diff(st, by_id), calls_by_step.get(st.id, []))
                  for st in data.steps],
        "memory": [m.model_dump(mode="json") for m in data.memory],
    }


def clock_hours(data: RunData) -> bool:
    """Whether the run's clock reached an hour: then every time on the page reads h:mm:ss."""
    ends = [st.elapsed_end_s or st.elapsed_start_s or 0.0 for st in data.steps]
    return max([data.summary.time_used_s or 0.0, *ends]) >= 3600


def render_report(data: RunData) -> str:
    """The whole page as a string."""
    script = _asset("report.js")
    if "</script" in script.lower():
        raise ValueError("report.js must not contain '</script'")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    csp = (f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; "
           "img-src data:; base-uri 'none'; form-action 'none'")
    by_trace: dict[int, list[StepRecord]] = {}
    for st in data.steps:
        by_trace.setdefault(st.trace, []).append(st)
    for steps in by_trace.values():
        steps.sort(key=lambda x: (x.index, x.id or 0))
    final = data.run.final
    final_step = data.step_by_id().get(final.step_id) if final and final.step_id else None
    final_code = final_step.code if final_step and final_step.code else None
    if final_code is None and final and final.main_py and "\n" in final.main_py:
        final_code = final.main_py  # some writers store the code itself, not its path
    page = page_data(data)
    template = _env().get_template("report.html.j2")
    return template.render(
        s=data.summary, run=data.run, final=final, final_code=final_code, by_trace=by_trace,
        clock_hours=page["run"]["clock_hours"],
        trace_summaries={t.trace: t for t in data.summary.per_trace},
        memory=data.memory, users=memory_users(data.steps), step_by_id=data.step_by_id(),
        decision_of=decision_of, config_json=json.dumps(_clean(data.run.config), indent=2,
                                                         sort_keys=True, default=str),
        generated_at=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        css=Markup(_asset("report.css")), script=Markup(script), csp=csp,
        data_json=Markup(script_json(page)),
    )


def write_report(run_dir: Path, out: Path | None = None) -> Path:
    """Write the run's HTML report (default ``run_dir/report.html``) and return its path.

    Works on a run in progress: it shows the steps committed so far. The file is written to a
    temporary name first and renamed, so a reader never sees half a report.
    """
    run_dir = Path(run_dir)
    out = Path(out) if out is not None else run_dir / REPORT_NAME
    html = render_report(load_run(run_dir))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, out)
    return out

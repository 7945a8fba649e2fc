"""The HTML report shows every step of a run with the journal's numbers, escapes untrusted
text, and stays self-contained (no request can leave the page)."""

from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from gome.journal.db import Journal
from gome.journal.models import Decision, StepKind, StepRecord
from gome.report import fmt
from gome.report.html import script_json, write_report
from gome.report.sample import build_sample_run

HOSTILE = '</script><script>window.PWN=1</script><img src=x onerror="window.PWN=2">'


class Page(HTMLParser):
    """Collects what the structure tests look at: step rows, element texts by id, scripts."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.steps: list[dict[str, str]] = []
        self.by_id: dict[str, str] = {}
        self.scripts: list[tuple[dict[str, str], str]] = []
        self.memory_rows: list[dict[str, str]] = []
        self.refs: list[str] = []
        self._open: list[tuple[str, str | None, str | None]] = []  # (tag, id, class)
        self._texts: dict[int, list[str]] = {}
        self._script: dict[str, str] | None = None
        self._step: dict[str, str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for key in ("src", "href", "action", "poster", "data"):
            if key in a and tag not in ("details", "tr"):
                self.refs.append(a[key])
        if tag == "script":
            self._script = a
            self._buf: list[str] = []
            return
        if tag == "details" and "step" in a.get("class", "").split():
            self._step = dict(a)
            self.steps.append(self._step)
        if tag == "tr" and "data-memory-id" in a:
            self.memory_rows.append({"id": a["data-memory-id"], "users": ""})
        if tag == "a" and self.memory_rows and self._in_class("users"):
            self.memory_rows[-1]["users"] += a.get("data-step", "") + " "
        if tag in ("br", "img", "meta", "link", "input", "hr"):
            return
        self._open.append((tag, a.get("id"), a.get("class")))
        self._texts[len(self._open)] = []

    def _in_class(self, cls: str) -> bool:
        return any(c and cls in c.split() for _, _, c in self._open)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._buf)))
            self._script = None
            return
        if not self._open:
            return
        depth = len(self._open)
        _, el_id, cls = self._open.pop()
        text = "".join(self._texts.pop(depth, []))
        if depth - 1 in self._texts:
            self._texts[depth - 1].append(text)
        if el_id:
            self.by_id[el_id] = text.strip()
        if self._step is not None and cls and self._in_class_of_summary():
            self._step.setdefault("text:" + cls.split()[0], text.strip())

    def _in_class_of_summary(self) -> bool:
        return any(tag == "summary" for tag, _, _ in self._open)

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._buf.append(data)
        elif self._open:
            self._texts[len(self._open)].append(data)


def _journal(run_dir: Path) -> tuple[list[StepRecord], Journal]:
    j = Journal.open(run_dir)
    return j.steps(), j


@pytest.fixture(scope="module")
def gradient_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sample_run(tmp_path_factory.mktemp("g") / "run", steps=40, traces=3, seed=1,
                            hostile_text=HOSTILE)


def test_every_step_is_present_with_the_journals_numbers(gradient_run: Path) -> None:
    page = Page(write_report(gradient_run).read_text(encoding="utf-8"))
    steps, j = _journal(gradient_run)
    try:
        totals, run, memory = j.llm_totals(), j.run(), j.memory()
    finally:
        j.close()
    rows = {int(r["data-step-id"]): r for r in page.steps}
    assert sorted(rows) == sorted(s.id for s in steps)
    for s in steps:
        row = rows[s.id]
        assert int(row["data-trace"]) == s.trace
        assert row["data-decision"] == s.decision.value
        assert row["text:kind"] == s.kind.value
        assert row["text:sc"] == fmt.score(s.score)
        if s.score is None:
            assert row["data-score"] == ""
        else:
            assert float(row["data-score"]) == s.score
        assert row["text:c"] == fmt.money(s.cost_usd)
    # summary cards
    accepted = [s for s in steps if s.decision == Decision.ACCEPTED]
    best = min(accepted, key=lambda s: s.score)  # rmse: lower is better
    assert page.by_id["best-score"] == fmt.score(best.score)
    assert page.by_id["steps-total"] == str(len(steps))
    assert page.by_id["n-accepted"] == f"{len(accepted)} accepted"
    n_failed = sum(s.decision in (Decision.FAILED, Decision.ABORTED) for s in steps)
    assert page.by_id["n-failed"] == f"{n_failed} failed"
    n_rejected = sum(s.decision in (Decision.REJECTED, Decision.VETOED) for s in steps)
    assert page.by_id["n-rejected"] == f"{n_rejected} rejected"
    assert page.by_id["llm-cost"] == fmt.money(totals["cost_usd"])
    assert page.by_id["llm-tokens"] == (f"{fmt.tokens(totals['tokens_in'])} in · "
                                        f"{fmt.tokens(totals['tokens_out'])} out")
    assert page.by_id["heldout-score"].startswith(fmt.score(run.final.heldout_score))
    assert "bronze" in page.by_id["heldout-score"]
    assert page.by_id["time-used"] == fmt.duration(run.time_used_s)
    # success memory: every entry, and which steps drew on it
    assert [int(r["id"]) for r in page.memory_rows] == [m.id for m in memory]
    for row in page.memory_rows:
        users = sorted(s.id for s in steps
                       if int(row["id"]) in s.memory_used + (s.selection.memory_used
                                                             if s.selection else []))
        assert sorted(int(u) for u in row["users"].split()) == users
    assert any(r["users"].strip() for r in page.memory_rows)


def test_a_run_over_an_hour_shows_every_clock_time_as_h_mm_ss(gradient_run: Path) -> None:
    """"16:46" (m:ss) beside an axis reading "1:30" (h:mm) was ambiguous: one format a page."""
    html = write_report(gradient_run).read_text(encoding="utf-8")
    page = Page(html)
    steps, j = _journal(gradient_run)
    run = j.run()
    j.close()
    assert run.time_used_s >= 3600
    rows = {int(r["data-step-id"]): r for r in page.steps}
    early = [s for s in steps if s.elapsed_end_s is not None and s.elapsed_end_s < 3600]
    assert early, "the sample run should have steps in its first hour"
    for s in steps:
        if s.elapsed_end_s is not None:
            assert rows[s.id]["text:t"] == fmt.duration(s.elapsed_end_s, hours=True)
            assert rows[s.id]["text:t"].count(":") == 2
    data = json.loads(next(t for a, t in page.scripts if a.get("id") == "gome-data"))
    assert data["run"]["clock_hours"] is True
    assert fmt.duration(61) == "1:01" and fmt.duration(61, hours=True) == "0:01:01"


def test_how_the_run_ended_is_labelled(gradient_run: Path) -> None:
    page = Page(write_report(gradient_run).read_text(encoding="utf-8"))
    j = Journal.open(gradient_run)
    run = j.run()
    j.close()
    assert page.by_id["run-message"].startswith("How the run ended")
    assert page.by_id["run-message"].endswith(run.message or run.final.message)


def test_embedded_data_holds_each_steps_details(gradient_run: Path) -> None:
    page = Page(write_report(gradient_run).read_text(encoding="utf-8"))
    (data_script,) = [text for attrs, text in page.scripts if attrs.get("id") == "gome-data"]
    data = json.loads(data_script)
    steps, j = _journal(gradient_run)
    j.close()
    by_id = {d["id"]: d for d in data["steps"]}
    for s in steps:
        d = by_id[s.id]
        assert d["diff"] == s.diff and d["summary"] == s.summary and d["score"] == s.score
        if s.gradient:
            assert [p["caption"] for p in d["gradient"]["problems"]] == [
                p.caption for p in s.gradient.problems]
            assert [p["evidence"] for p in d["gradient"]["problems"]] == [
                p.evidence for p in s.gradient.problems]
        if s.outcome:
            assert d["outcome"]["stderr_tail"] == s.outcome.stderr_tail
        assert "code" not in d  # whole files stay out: the diff is what the page shows
    assert any(d["calls"] for d in data["steps"])


def test_untrusted_text_cannot_inject_markup_or_script(gradient_run: Path) -> None:
    html = write_report(gradient_run).read_text(encoding="utf-8")
    page = Page(html)
    assert "window.PWN" not in "".join(text for attrs, text in page.scripts
                                       if attrs.get("id") != "gome-data")
    assert len(page.scripts) == 2  # the data block and our own script, nothing injected
    assert html.count("<script") == 2 and html.lower().count("</script") == 2
    assert "<img" not in html
    assert HOSTILE.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;") in html
    # the hostile text survives the JSON round trip intact, so the page can show it as text
    data = json.loads(next(t for a, t in page.scripts if a.get("id") == "gome-data"))
    assert any(d["summary"].endswith(HOSTILE) for d in data["steps"])
    # only our own script may run: the CSP pins it by hash and forbids any request
    csp = unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"',
                             html).group(1))
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


def test_page_references_nothing_outside_itself(gradient_run: Path) -> None:
    html = write_report(gradient_run).read_text(encoding="utf-8")
    page = Page(html)
    assert page.refs, "the parser should see the page's links"
    for ref in page.refs:
        assert ref.startswith("#") or ref.startswith("data:"), ref
    assert not re.search(r"@import|url\(|https?://(?!www\.w3\.org/2000/svg)", html)


def test_script_json_cannot_close_its_element() -> None:
    text = script_json({"a": "</script><!-- & \u2028", "n": float("nan")})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"a": "</script><!-- & \u2028", "n": None}


def test_tree_run_lists_every_node_with_its_parent(tmp_path: Path) -> None:
    run_dir = build_sample_run(tmp_path / "tree", steps=25, optimizer="tree", seed=2)
    html = write_report(run_dir).read_text(encoding="utf-8")
    page = Page(html)
    assert 'id="tree"' in html
    data = json.loads(next(t for a, t in page.scripts if a.get("id") == "gome-data"))
    steps, j = _journal(run_dir)
    j.close()
    assert {d["id"]: d["parent_id"] for d in data["steps"]} == {s.id: s.parent_id for s in steps}
    assert any(s.kind == StepKind.DEBUG for s in steps)
    by_id = {s.id: s for s in steps}
    assert all(by_id[s.parent_id].decision == Decision.FAILED
               for s in steps if s.kind == StepKind.DEBUG)  # debug nodes repair failed nodes
    assert len(page.steps) == len(steps)


def test_gradient_run_has_no_tree_section(gradient_run: Path) -> None:
    assert 'id="tree"' not in write_report(gradient_run).read_text(encoding="utf-8")


def test_run_in_progress_reports_steps_so_far(tmp_path: Path) -> None:
    run_dir = build_sample_run(tmp_path / "live", steps=9, traces=2, finished=False)
    out = write_report(run_dir, tmp_path / "elsewhere" / "r.html")
    assert out == tmp_path / "elsewhere" / "r.html"
    page = Page(out.read_text(encoding="utf-8"))
    assert len(page.steps) == 9
    running = [r for r in page.steps if r["data-decision"] == "running"]
    assert len(running) == 1 and running[0]["text:sc"] == "—"
    assert page.by_id["heldout-score"] == "—"
    assert "still in progress" in out.read_text(encoding="utf-8")


def test_empty_run_still_renders(tmp_path: Path) -> None:
    from gome.journal.models import RunRecord

    run = RunRecord(id="e", task_id="t", task_dir="/t", metric="auc", higher_is_better=True,
                    optimizer="gradient", reasoner="heuristic", config={})
    Journal.create(tmp_path, run).close()
    page = Page(write_report(tmp_path).read_text(encoding="utf-8"))
    assert page.steps == [] and page.by_id["best-score"] == "—"
    assert page.by_id["steps-total"] == "0"


def test_change_chain_is_the_accepted_lineage_of_the_best_step(gradient_run: Path) -> None:
    from gome.report.data import load_run
    from gome.report.terminal import change_chain

    data = load_run(gradient_run)
    chain = change_chain(data)
    assert chain[0].kind == StepKind.DRAFT and chain[-1].id == data.run.final.step_id
    assert all(s.decision == Decision.ACCEPTED for s in chain)
    assert all(b.base_id == a.id for a, b in zip(chain, chain[1:], strict=False))
    scores = [s.score for s in chain]
    assert scores == sorted(scores, reverse=True)  # rmse: each link is an improvement


def test_show_prints_journal_text_literally(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    from gome.report.terminal import show_run

    run_dir = build_sample_run(tmp_path / "run", steps=6, traces=1, hostile_text=" [red]x[/red]")
    buf = io.StringIO()
    show_run(run_dir, Console(file=buf, width=300, color_system=None))
    text = buf.getvalue()
    assert "[red]x[/red]" in text  # rich markup in model text is shown, not interpreted
    assert "how the best solution was built" in text and "store-sales-demo" in text


def test_report_while_the_run_writes_steps(tmp_path: Path) -> None:
    import threading

    run_dir = build_sample_run(tmp_path / "run", steps=4, traces=1, finished=False)
    writer = Journal.open(run_dir)
    done = threading.Event()

    def write() -> None:
        for i in range(150):
            s = writer.add_step(StepRecord(trace=0, index=10 + i, kind=StepKind.GRADIENT))
            s.status, s.decision, s.score, s.elapsed_end_s = "done", Decision.REJECTED, 1.0, i
            writer.save_step(s)
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    seen = []
    while not done.is_set() or len(seen) < 2:
        seen.append(len(Page(write_report(run_dir).read_text(encoding="utf-8")).steps))
    thread.join()
    seen.append(len(Page(write_report(run_dir).read_text(encoding="utf-8")).steps))
    writer.close()
    assert seen == sorted(seen) and seen[-1] == 154  # every report is whole, none went back

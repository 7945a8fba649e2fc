"""The report in a real browser (headless Chromium): it loads from disk with no console error
and no network request, draws the plot, opens a step's diff on click, filters by trace.

Screenshots land in test-artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gome.journal.db import Journal
from gome.journal.models import Decision, StepKind
from gome.report import browser
from gome.report.html import write_report
from gome.report.sample import build_sample_run

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
HOSTILE = '</script><script>window.PWN=1</script><img src=x onerror="window.PWN=2">'

pytestmark = pytest.mark.skipif(browser.available() is not None,
                                reason=str(browser.available()))


def _wait(driver, script: str, timeout: float = 10.0):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while True:
        value = driver.execute_script(script)
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def _open(driver, report: Path) -> list[str]:  # noqa: ANN001
    """Load the report on a clean log; return every URL requested while loading it."""
    driver.get("about:blank")
    browser.requested_urls(driver)  # drain what the browser did before our page
    driver.get_log("browser")
    driver.get(report.as_uri())
    assert _wait(driver, "return document.body.getAttribute('data-ready') === '1'")
    return browser.requested_urls(driver)


@pytest.fixture(scope="module")
def driver():  # noqa: ANN201
    with browser.chromium(1400, 1000) as d:
        yield d


def test_report_opens_clean_draws_plot_and_expands_a_step(driver, tmp_path: Path) -> None:  # noqa: ANN001
    run_dir = build_sample_run(tmp_path / "run", steps=30, traces=3, seed=4)
    report = write_report(run_dir)
    journal = Journal.open(run_dir)
    steps = journal.steps()
    journal.close()

    urls = _open(driver, report)
    assert [u for u in urls if u != report.as_uri() and not u.startswith("data:")] == []
    assert browser.console_errors(driver) == []

    # the plot: one best-so-far line per trace, one marker per finished step
    traces = {s.trace for s in steps if s.decision == Decision.ACCEPTED}
    lines = driver.execute_script(
        "return Array.from(document.querySelectorAll('#plot-svg path.best-line'))"
        ".map(p => p.getBBox().width)")
    assert len(lines) == len(traces) and all(w > 50 for w in lines)
    points = driver.execute_script("return document.querySelectorAll('#plot-svg .pt').length")
    assert points == len(steps)
    # the time axis reads like the step list's "ended at" (the sample run lasts two hours)
    ticks = driver.execute_script(
        "return Array.from(document.querySelectorAll('#plot-svg .axis text'))"
        ".map(t => t.textContent)")
    assert "run time (h:mm:ss)" in ticks and "1:00:00" in ticks
    # one ring, on the final pick, and the hint above the plot says what it means
    journal = Journal.open(run_dir)
    final_id = journal.run().final.step_id
    journal.close()
    ringed = driver.execute_script(
        "return Array.from(document.querySelectorAll('#plot-svg .best-ring'))"
        ".map(r => r.parentNode.querySelector('.pt[data-step]') && "
        "[r.getAttribute('cx'), r.getAttribute('cy')])")
    final_pt = driver.execute_script(
        f"var p = document.querySelector('#plot-svg .pt[data-step=\"{final_id}\"]');"
        "return [p.getAttribute('cx'), p.getAttribute('cy')]")
    assert ringed == [final_pt]
    assert "the ringed dot is the final pick" in driver.find_element(
        "css selector", "#plot-section .hint").text
    browser.full_screenshot(driver, ARTIFACTS / "report-overview.png", max_height=1400)

    # expanding a step builds its details, with the highlighted diff against its parent
    step = next(s for s in steps if s.kind == StepKind.GRADIENT and s.decision == Decision.ACCEPTED)
    added = next(line[1:] for line in step.diff.splitlines()
                 if line.startswith("+") and not line.startswith("+++") and line[1:].strip())
    row = driver.find_element("css selector", f"#step-{step.id} > summary")
    assert not driver.execute_script(f"return document.querySelector('#step-{step.id} .diff')")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", row)
    row.click()
    assert _wait(driver, f"return document.querySelector('#step-{step.id} pre.diff')")
    diff = driver.find_element("css selector", f"#step-{step.id} pre.diff")
    assert diff.is_displayed()
    adds = [e.text for e in diff.find_elements("css selector", "span.add")]
    assert any(added.strip() in a for a in adds)
    body = driver.find_element("css selector", f"#step-{step.id} .body").text
    assert step.gradient.problems[0].caption in body and step.selection.reason in body
    driver.execute_script("arguments[0].scrollIntoView({block: 'end'})", diff)
    driver.save_screenshot(str(ARTIFACTS / "report-step.png"))

    # memory a choice drew on reads "[id] change (gain +x)", or without a gain for a draft
    driver.execute_script("document.querySelectorAll('details.step').forEach(d => d.open = true)")
    assert _wait(driver, f"return document.querySelectorAll('.body[data-built]').length === "
                         f"{len(steps)}")
    drew = driver.execute_script(
        "return Array.from(document.querySelectorAll('.choice .muted'))"
        ".map(e => e.textContent).filter(t => t.startsWith('drew on'))")
    assert drew and all("()" not in t for t in drew)
    assert any("(gain " in t for t in drew)
    driver.execute_script("document.querySelectorAll('details.step').forEach(d => d.open = false)")

    # clicking a plot point opens that step
    other = next(s for s in steps if s.decision == Decision.FAILED)
    driver.execute_script(
        f"document.querySelector('#plot-svg .pt[data-step=\"{other.id}\"]')"
        ".dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    assert _wait(driver, f"return document.getElementById('step-{other.id}').open")
    assert "Traceback" in driver.find_element("css selector", f"#step-{other.id} .body").text

    # filtering by trace leaves only that trace's steps
    driver.execute_script("var f = document.getElementById('f-trace'); f.value = '1';"
                          "f.dispatchEvent(new Event('change'))")
    visible = driver.execute_script(
        "return Array.from(document.querySelectorAll('details.step'))"
        ".filter(d => !d.hidden).map(d => d.dataset.trace)")
    assert visible and set(visible) == {"1"}
    assert len(visible) == sum(s.trace == 1 for s in steps)

    # unticking "rejected" and "failed" (clicking as a user does) leaves trace 1's accepted steps
    for decision in ("rejected", "failed"):
        driver.find_element("css selector", f"#f-decisions input[value='{decision}']").click()
    visible = driver.execute_script(
        "return Array.from(document.querySelectorAll('details.step'))"
        ".filter(d => !d.hidden).map(d => [d.dataset.trace, d.dataset.decision])")
    expected = [s for s in steps if s.trace == 1 and s.decision == Decision.ACCEPTED]
    assert visible and len(visible) == len(expected)
    assert {tuple(v) for v in visible} == {("1", "accepted")}
    assert driver.find_element("css selector", "#f-count").text.startswith(str(len(expected)))
    assert browser.console_errors(driver) == []


def test_tree_run_draws_the_tree(driver, tmp_path: Path) -> None:  # noqa: ANN001
    run_dir = build_sample_run(tmp_path / "tree", steps=20, optimizer="tree", seed=5)
    report = write_report(run_dir)
    urls = _open(driver, report)
    assert [u for u in urls if u != report.as_uri() and not u.startswith("data:")] == []
    assert browser.console_errors(driver) == []
    nodes = driver.execute_script("return document.querySelectorAll('#tree .node').length")
    assert nodes == 20
    roots = driver.execute_script("return document.querySelectorAll('#tree > ul > li').length")
    journal = Journal.open(run_dir)
    assert roots == sum(s.parent_id is None for s in journal.steps())
    journal.close()
    driver.execute_script("document.getElementById('tree-section').scrollIntoView()")
    driver.save_screenshot(str(ARTIFACTS / "report-tree.png"))


def test_hostile_step_text_stays_text(driver, tmp_path: Path) -> None:  # noqa: ANN001
    run_dir = build_sample_run(tmp_path / "run", steps=8, traces=2, seed=6, hostile_text=HOSTILE)
    report = write_report(run_dir)
    urls = _open(driver, report)
    # expand every step: their details are built from the embedded data by the script
    driver.execute_script("document.querySelectorAll('details.step').forEach(d => d.open = true)")
    assert _wait(driver, "return document.querySelectorAll('.body[data-built]').length === 8")
    urls += browser.requested_urls(driver)
    assert [u for u in urls if u != report.as_uri() and not u.startswith("data:")] == []
    assert driver.execute_script("return window.PWN") is None
    assert driver.execute_script("return document.querySelectorAll('main img, main script')"
                                 ".length") == 0
    assert HOSTILE in driver.find_element("css selector", "details.step .body").text
    assert browser.console_errors(driver) == []

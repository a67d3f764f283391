"""The HTML sign-off as Chromium shows it: decision, totals, each test, criteria marks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sample_runs import HOSTILE_OUTPUT, Kind, expected_decision, sample_run

from runner.engine.results import Status
from runner.report import render_reports

MARK = {True: "✔", False: "✘", None: "–"}


def _open(browser: Any, html: Path, requests: list[str]) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("request", lambda request: requests.append(request.url))
    page.on("dialog", lambda dialog: pytest.fail(f"page opened a dialog: {dialog.message}"))
    page.goto(html.as_uri())
    return page


@pytest.mark.parametrize("kind", ["approved", "needs_work", "blocked"])
def test_page_shows_decision_totals_tests_and_marks(
    kind: Kind, chromium_browser: Any, tmp_path: Path, artifact_dir: Path
) -> None:
    run = sample_run(kind)
    html = tmp_path / "report.html"
    render_reports(run, html_path=html)
    requests: list[str] = []
    page = _open(chromium_browser, html, requests)

    assert page.inner_text("#decision") == expected_decision(kind).value
    totals = run.totals
    assert page.inner_text("#passed-count") == f"Tests passed: {totals['passed']} / 14"
    why = page.locator("#why li").all_inner_texts()
    failed = [t for t in run.tests if t.status is Status.FAILED]
    assert len(why) == (len(failed) + 1 if failed else 0)  # the causes + "All issues"
    for test, text in zip(failed, why, strict=False):
        assert text.startswith(f"{test.title}: ")
    for status in Status:
        shown = page.inner_text(f"[data-total={status.value}] b")
        assert int(shown) == totals[status.value], status
    sections = page.locator("section.test")
    assert sections.count() == 14
    for i, test in enumerate(run.tests):
        section = sections.nth(i)
        assert section.get_attribute("data-test") == test.id
        assert section.locator("h3").inner_text() == test.title
        assert section.locator("[data-role=status]").inner_text() == test.status.value.upper()
        marks = section.locator("ul.criteria li .box").all_inner_texts()
        assert marks == [MARK[c.passed] for c in test.criteria], test.id
    header = page.inner_text("#header")
    assert page.inner_text("[data-field=File]") == run.checklist_path  # wraps, copies whole
    for value in ("Priya Raman", "Staging", "stylematch-2.3.1", run.run_id, "us-east-1"):
        assert value in header
    # Self-contained: nothing but the file itself was requested.
    assert requests == [html.as_uri()]

    # Steps and evidence: open for a test that did not pass, one click away for one that did.
    for i, test in enumerate(run.tests):
        steps = sections.nth(i).locator("details.steps")
        if not test.steps:
            assert steps.count() == 0, test.id
            continue
        opened = test.status is not Status.PASSED
        assert (steps.get_attribute("open") is not None) is opened, test.id
        assert steps.locator(".step").first.is_visible() is opened, test.id

    page.screenshot(path=str(artifact_dir / f"signoff-{kind}.png"), full_page=True)
    pdf = artifact_dir / f"signoff-{kind}.pdf"
    page.emulate_media(media="print")
    # Print is compact: a passing test shows its criteria, not its steps.
    for i, test in enumerate(run.tests):
        section = sections.nth(i)
        assert section.locator("ul.criteria").is_visible() is bool(test.criteria), test.id
        if test.steps:
            printed = section.locator("details.steps").is_visible()
            assert printed is (test.status is not Status.PASSED), test.id
    page.pdf(path=str(pdf), format="A4", print_background=True)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = re.findall(rb"/MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]", data)
    assert pages, "no pages in the PDF"
    for width, height in pages:  # A4 is 595.92 x 842.88 pt
        assert round(float(width)) == 596 and round(float(height)) == 843
    # 14 tests with all their evidence printed to 15 pages; compact print needs far fewer.
    assert len(pages) <= 8, f"{len(pages)} pages"
    page.close()


def test_passing_evidence_opens_on_click(chromium_browser: Any, tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    render_reports(sample_run("approved"), html_path=html)
    page = _open(chromium_browser, html, [])
    wait = page.locator("section[data-test=wait-result]")
    evidence = wait.locator("table.evidence").first
    assert not evidence.is_visible()
    wait.locator("details.steps > summary").click()
    assert evidence.is_visible()
    assert "s3://checkrun-demo/async-inference-results/" in evidence.inner_text()
    page.close()


def test_model_output_is_text_not_markup(chromium_browser: Any, tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    render_reports(sample_run("approved"), html_path=html)
    page = _open(chromium_browser, html, [])
    assert page.evaluate("document.scripts.length") == 0
    assert page.locator("pre.output b").count() == 0
    outputs = page.locator("pre.output").all_text_contents()  # also in closed <details>
    assert any(HOSTILE_OUTPUT.replace('"', '\\"') in text for text in outputs)
    page.close()


def test_blocked_run_lists_issues_and_blockers(chromium_browser: Any, tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    render_reports(sample_run("blocked"), html_path=html)
    page = _open(chromium_browser, html, [])
    issues = page.locator("#issues li").all_inner_texts()
    assert any("Endpoint status is InService" in text for text in issues)
    assert sum("blocked by deploy" in text for text in issues) == 11
    assert sum("blocked by invoke" in text for text in issues) == 1
    wait = page.locator("section[data-test=wait-result] .reason").inner_text()
    assert wait == "needs invoke, which was blocked"
    deploy = page.locator("section[data-test=deploy]")
    assert "FileNotFoundError: model.pkl" in deploy.inner_text()
    page.close()

"""The HTML sign-off report: one self-contained file (inline CSS and SVG, no network).

`build_view()` turns a RunResult into the view-model of `runner.report.view` (every
decision about what to show, in which order, with which mark, colour and chart
geometry is made here);
`templates/signoff.html.j2` only formats it, with Jinja2 autoescaping on, so model
output such as ``<script>`` is shown as text.

Evidence keys the report understands (actions record them in StepResult.evidence;
any other key is shown as-is in the step's evidence table):

- ``inference_id``, ``request_id``; S3 URIs under any key (values starting ``s3://``)
- ``detected_by`` (``notification`` / ``s3-poll``), ``wait_seconds`` (submit -> result),
  ``requests`` (S3/SQS requests spent waiting): the "Waiting for results" table
- ``cold_start_seconds`` (first invocation after a deploy) and ``warm_seconds`` (an
  invocation on a warm endpoint): the cold-start vs warm chart
- ``diff``: the deepdiff text of a comparison, shown preformatted
- StepResult.latency (repeated/parallel steps) or a batch wait's ``since_submit_all``:
  the latency distribution charts
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from runner.engine.results import Decision, RunResult, Status, StepResult, TestResult
from runner.report import evidence
from runner.report.charts import (
    cold_warm_bars,
    latency_chart,
    timeline_chart,
)
from runner.report.junit import blocked_by, failure_message
from runner.report.signoff import tests_passed
from runner.report.view import (
    CriterionView,
    EvidenceItem,
    Issue,
    ReportView,
    StepView,
    TestView,
    WaitRow,
)

_TEMPLATES = Path(__file__).parent / "templates"
# Characters of a step's output shown inline (result.json has it all): a passing step's
# output is context, a failing step's output is the evidence.
OUTPUT_LIMIT = {Status.PASSED: 400, Status.FAILED: 3000}

DECISION_TEXT = {
    Decision.APPROVED: ("approved", "Ready for production"),
    Decision.NEEDS_WORK: ("needs-work", "Issues to resolve"),
    Decision.BLOCKED: ("blocked", "Critical issues"),
}
MARKS = {
    True: ("✔", "met", "criterion met"),
    False: ("✘", "unmet", "criterion not met"),
    None: ("–", "na", "not evaluated"),
}
STATUS_LABEL = {
    Status.PASSED: "PASSED",
    Status.FAILED: "FAILED",
    Status.BLOCKED: "BLOCKED",
    Status.SKIPPED: "SKIPPED",
}
SIGNOFF_FIELDS = (
    ("tester", "Tested by"),
    ("environment", "Environment"),
    ("model_version", "Model version"),
    ("date", "Date"),
)


def render_html(result: RunResult) -> str:
    """The complete HTML document for a run."""
    return _template().render(view=build_view(result))


@functools.lru_cache(maxsize=1)
def _template() -> Template:
    """The compiled template, once per process (compiling costs more than rendering)."""
    env = Environment(
        loader=FileSystemLoader(str(_TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("signoff.html.j2")


def build_view(result: RunResult) -> ReportView:
    """Everything the template shows, decided here."""
    cls, text = DECISION_TEXT[result.decision]
    totals = result.totals
    signoff = dict(result.signoff)
    date = signoff.get("date") or _date(result.started_at)
    return ReportView(
        title=result.checklist,
        description=result.description,
        decision=result.decision.value,
        decision_cls=cls,
        decision_text=text,
        header=[
            ("Checklist", result.checklist),
            ("File", result.checklist_path),
            ("Target", result.target),
            ("Profile", result.profile),
            ("Region", result.region or "—"),
            ("Environment", signoff.get("environment", "") or "—"),
            ("Model version", signoff.get("model_version", "") or "—"),
            ("Tester", signoff.get("tester", "") or "—"),
            ("Date", date),
            ("Run ID", result.run_id),
            *([("Build", signoff["build_url"])] if signoff.get("build_url") else []),
        ],
        totals=[
            ("Passed", totals["passed"], "passed"),
            ("Failed", totals["failed"], "failed"),
            ("Blocked", totals["blocked"], "blocked"),
            ("Skipped", totals["skipped"], "skipped"),
        ],
        tests_passed=tests_passed(result),
        why=_why(result),
        duration=_seconds(result.duration),
        interrupted=result.interrupted,
        tests=[_test_view(t) for t in result.tests],
        timeline=timeline_chart(result),
        latency=[
            latency_chart(f"{t.id} / {s.name}", lat)
            for t in result.tests
            for s in t.steps
            if (lat := evidence.step_latency(s)) is not None
        ],
        cold_warm=cold_warm_bars(result),
        waits=_waits(result),
        notes=signoff.get("notes", ""),
        issues=_issues(result),
        signoff=[
            (label, signoff.get(key, "") or ("" if key != "date" else date))
            for key, label in SIGNOFF_FIELDS
        ],
        decisions=[(d.value, d is result.decision, DECISION_TEXT[d][1]) for d in Decision],
        generated=_date(result.finished_at),
        environment=sorted((str(k), str(v)) for k, v in result.environment.items()),
        run_id=result.run_id,
    )


def _test_view(test: TestResult) -> TestView:
    reason = test.reason or ""
    if test.status is Status.FAILED and not reason:
        reason = failure_message(test)
    return TestView(
        id=test.id,
        anchor=f"test-{test.id}",
        title=test.title or test.id,
        status=STATUS_LABEL[test.status],
        cls=test.status.value,
        duration=_seconds(test.duration) if test.started_at else "not run",
        critical=test.critical,
        reason=reason,
        criteria=[
            _criterion(c.text, c.passed, c.expectation.message if c.expectation else "")
            for c in test.criteria
        ],
        steps=[_step_view(s) for s in test.steps],
        expanded=test.status is not Status.PASSED,
    )


def _criterion(text: str, passed: bool | None, detail: str) -> CriterionView:
    mark, cls, label = MARKS[passed]
    return CriterionView(text=text, mark=mark, cls=cls, label=label, detail=detail)


def _step_view(step: StepResult) -> StepView:
    latency = ""
    lat = evidence.step_latency(step)
    if lat is not None:
        latency = (
            f"{lat.count} calls ({lat.parallel} in parallel, {lat.failures} failed): "
            f"min {lat.min:.2f} s, p50 {lat.p50:.2f} s, p95 {lat.p95:.2f} s, "
            f"max {lat.max:.2f} s"
        )
    return StepView(
        name=step.name,
        action=step.action,
        status=STATUS_LABEL[step.status],
        cls=step.status.value,
        duration=_seconds(step.duration),
        attempts=step.attempts,
        timed_out=step.timed_out,
        evidence=[_evidence(str(k), v) for k, v in step.evidence.items()],
        expectations=[_criterion(e.message, e.passed, "") for e in step.expectations],
        error=(f"{step.error_code}: " if step.error_code else "") + (step.error or "")
        if step.error
        else "",
        output=_output(step.output, step.status),
        latency=latency,
        # Passing steps' logs stay in result.json and JUnit system-out.
        log=list(step.log) if step.status is Status.FAILED else [],
    )


def _evidence(key: str, value: Any) -> EvidenceItem:
    if key == "diff" or (isinstance(value, str) and "\n" in value):
        return EvidenceItem(key, value if isinstance(value, str) else _json(value), "block")
    if isinstance(value, (dict, list)):
        return EvidenceItem(key, _json(value), "block")
    if isinstance(value, float):
        unit = " s" if key.endswith("seconds") else ""
        return EvidenceItem(key, f"{value:.2f}{unit}", "text")
    text = str(value)
    if text.startswith(("s3://", "https://", "http://", "arn:")):
        return EvidenceItem(key, text, "uri")
    if key.endswith("_id"):
        return EvidenceItem(key, text, "code")
    return EvidenceItem(key, text, "text")


def _output(output: Any, status: Status) -> str:
    """A failing step's output pretty-printed; a passing step's compact, on one line."""
    if output is None:
        return ""
    limit = OUTPUT_LIMIT.get(status, OUTPUT_LIMIT[Status.PASSED])
    if isinstance(output, str):
        text = output
    elif status is Status.FAILED:
        text = _json(output)
    else:
        text = json.dumps(output, ensure_ascii=False, default=str)
    if len(text) > limit:
        text = text[:limit] + f"\n… ({len(text) - limit} more characters in result.json)"
    return text


def _waits(result: RunResult) -> list[WaitRow]:
    """One row per step that waited for an async result or timed a cold/warm invocation."""
    rows = []
    for test in result.tests:
        for step in test.steps:
            ev = step.evidence
            seconds = evidence.wait_seconds(ev)
            if seconds is None:
                seconds = evidence.number(ev.get(evidence.COLD_KEY, ev.get(evidence.WARM_KEY)))
            if "detected_by" not in ev and seconds is None:
                continue
            requests = evidence.request_count(ev)
            rows.append(
                WaitRow(
                    test=test.id,
                    step=step.name,
                    detected_by=str(ev.get("detected_by") or "—"),
                    wait=_seconds(seconds) if seconds is not None else "—",
                    requests=str(requests) if requests is not None else "—",
                    attempts=step.attempts,
                )
            )
    return rows


def _issues(result: RunResult) -> list[Issue]:
    """Every unmet criterion of a failed test (or its failure reason), and each blocked test."""
    issues: list[Issue] = []
    for test in result.tests:
        anchor = f"test-{test.id}"
        if test.status is Status.FAILED:
            unmet = [c for c in test.criteria if c.passed is False]
            # Criteria the failure left unproved share one cause: say it once.
            unproved = [c.text for c in unmet if c.unproved]
            texts = [
                c.text + (f" — {c.expectation.message}" if c.expectation else "")
                for c in unmet
                if not c.unproved
            ]
            if unproved:
                cause = test.reason or failure_message(test)
                texts.append(f"{cause} — leaves unproved: {'; '.join(unproved)}")
            issues.extend(
                Issue(test.id, anchor, test.title, t) for t in texts or [failure_message(test)]
            )
        elif test.status is Status.BLOCKED:
            issues.append(Issue(test.id, anchor, test.title, blocked_by(test, result)))
    return issues


def _why(result: RunResult, limit: int = 3) -> list[Issue]:
    """What the decision box says beside NEEDS WORK / BLOCKED: the failed tests' issues.

    Blocked tests follow from a failure and are listed under "Issues found"; the box
    names the causes (at most `limit`; the section has them all).
    """
    failed = {t.id for t in result.tests if t.status is Status.FAILED}
    return [i for i in _issues(result) if i.test_id in failed][:limit]


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _seconds(value: float) -> str:
    if value >= 120:
        return f"{int(value // 60)} min {value % 60:.0f} s"
    if value >= 10:
        return f"{value:.1f} s"
    return f"{value:.2f} s"


def _date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip()

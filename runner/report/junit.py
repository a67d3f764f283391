"""JUnit XML for CI: one testsuite per checklist, one testcase per test.

Built with junit-xml, then made valid for the JUnit XSD Jenkins uses: junit-xml 1.9
always writes attributes that XSD rejects (``disabled`` on testsuite(s), ``file``/
``line``/``assertions`` on testcase) and writes tiny times as ``1e-05``, which the
XSD's SUREFIRE_TIME pattern refuses (FACTS.md). We keep only the attributes the XSD
allows and format every time with three fixed decimals.

A failed test carries ``<failure message="<first unmet criterion>">`` with the step
details as text; a blocked test is ``<skipped message="blocked by <test>">``; step logs
go to ``system-out``; the suite's properties hold target, profile, region, run id and
decision, the "Tests passed: N / M" figure (``tests_passed``)
and the sign-off fields.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from junit_xml import TestCase, TestSuite, to_xml_report_string

from runner.engine.results import RunResult, Status, StepResult, TestResult
from runner.report.signoff import tests_passed

# Attributes the Jenkins JUnit XSD (junit-10.xsd) allows, per element.
_ALLOWED: dict[str, set[str]] = {
    "testsuites": {"name", "time", "tests", "failures", "errors"},
    "testsuite": {
        "name",
        "tests",
        "failures",
        "errors",
        "group",
        "time",
        "skipped",
        "timestamp",
        "hostname",
        "id",
        "package",
        "file",
        "log",
        "url",
    },
    "testcase": {"name", "time", "classname", "group"},
    "failure": {"type", "message"},
    "error": {"type", "message"},
    "skipped": {"type", "message"},
    "property": {"name", "value"},
}


def render_junit(result: RunResult) -> str:
    """The JUnit XML document (UTF-8 text) for a run."""
    suite = TestSuite(
        name=result.checklist,
        test_cases=[_case(result, t) for t in result.tests],
        hostname=result.environment.get("host") or None,
        id=result.run_id,
        package=_classname(result),
        timestamp=result.started_at.isoformat(timespec="seconds"),
        properties=_properties(result),
    )
    raw = to_xml_report_string([suite], prettyprint=False, encoding="utf-8")
    root = ET.fromstring(raw)
    _conform(root, result)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _classname(result: RunResult) -> str:
    # Jenkins splits classname on dots into package/class: keep the title in one piece.
    return result.checklist.replace(".", "_")


def _properties(result: RunResult) -> dict[str, str]:
    props = {
        "run_id": result.run_id,
        "decision": result.decision.value,
        "tests_passed": tests_passed(result),
        "target": result.target,
        "profile": result.profile,
        "region": result.region or "",
        "checklist_path": result.checklist_path,
    }
    props.update({f"signoff.{k}": str(v) for k, v in result.signoff.items()})
    return props


def _case(result: RunResult, test: TestResult) -> TestCase:
    case = TestCase(
        name=f"{test.id}: {test.title}" if test.title else test.id,
        classname=_classname(result),
        elapsed_sec=test.duration,
        stdout=_system_out(test) or None,
    )
    if test.status is Status.FAILED:
        case.add_failure_info(message=failure_message(test), output=_failure_text(test))
    elif test.status is Status.BLOCKED:
        case.add_skipped_info(message=blocked_by(test, result), output=test.reason or None)
    elif test.status is Status.SKIPPED:
        case.add_skipped_info(message=test.reason or "skipped")
    return case


def failure_message(test: TestResult) -> str:
    """The first unmet criterion; else the first failing expectation or step error.

    Criteria a failed step left unproved are skipped: the step's error is the cause.
    """
    for criterion in test.criteria:
        if criterion.passed is False and not criterion.unproved:
            return criterion.text
    for step in test.steps:
        for exp in step.expectations:
            if not exp.passed:
                return exp.message
        if step.status is Status.FAILED and step.error:
            return step.error
    return test.reason or "failed"


def blocked_by(test: TestResult, result: RunResult) -> str:
    """ "blocked by <test>": the first needed test that failed or was itself blocked."""
    status = {t.id: t.status for t in result.tests}
    for need in test.needs:
        if status.get(need) in (Status.FAILED, Status.BLOCKED):
            return f"blocked by {need}"
    return f"blocked by {', '.join(test.needs)}" if test.needs else test.reason or "blocked"


def _failure_text(test: TestResult) -> str:
    lines = []
    for criterion in test.criteria:
        mark = {True: "[x]", False: "[ ]", None: "[-]"}[criterion.passed]
        detail = f" ({criterion.expectation.message})" if criterion.expectation else ""
        lines.append(f"{mark} {criterion.text}{detail}")
    for step in test.steps:
        lines.append(_step_line(step))
        lines.extend(f"    {exp.message}" for exp in step.expectations if not exp.passed)
        if step.error:
            code = f"{step.error_code}: " if step.error_code else ""
            lines.append(f"    error: {code}{step.error}")
    return "\n".join(lines)


def _step_line(step: StepResult) -> str:
    attempts = f", {step.attempts} attempts" if step.attempts > 1 else ""
    timeout = ", timed out" if step.timed_out else ""
    return (
        f"{step.status.value.upper()} {step.name} ({step.action}) "
        f"{step.duration:.3f} s{attempts}{timeout}"
    )


def _system_out(test: TestResult) -> str:
    lines: list[str] = []
    for step in test.steps:
        lines.append(_step_line(step))
        lines.extend(f"    {line}" for line in step.log)
    return "\n".join(lines)


def _conform(root: ET.Element, result: RunResult) -> None:
    """Drop attributes the XSD refuses; fixed-decimal times; skipped count on the suite."""
    for el in root.iter():
        allowed = _ALLOWED.get(el.tag)
        if allowed is None:
            continue
        for name in list(el.attrib):
            if name not in allowed:
                del el.attrib[name]
        if "time" in el.attrib:
            el.attrib["time"] = f"{float(el.attrib['time'] or 0):.3f}"
    totals = result.totals
    for suite in root.iter("testsuite"):
        suite.set("time", f"{max(result.duration, 0.0):.3f}")
        suite.set("skipped", str(totals["blocked"] + totals["skipped"]))
    if root.tag == "testsuites":
        root.set("name", result.checklist)
        root.set("time", f"{max(result.duration, 0.0):.3f}")

"""Prometheus text exposition format for nightly dashboards (node_exporter textfile collector).

Every series carries ``checklist`` and ``profile`` labels so several checklists can
share one collector directory. Gauges only (a textfile is a snapshot of one run):

- ``checkrun_decision{decision}``: 1 for the decision reached, 0 for the other two
- ``checkrun_run_timestamp_seconds``, ``checkrun_run_duration_seconds``
- ``checkrun_tests{status}``: how many tests ended in each status
- ``checkrun_test_status{test,status}``: 1 for the test's status, 0 otherwise
- ``checkrun_test_duration_seconds{test}``
- ``checkrun_wait_seconds{test,step,detected_by}``: time to an async result
- ``checkrun_cold_start_seconds{test,step}``, ``checkrun_warm_seconds{test,step}``
- ``checkrun_step_latency_seconds{test,step,quantile}``: 0 (min), 0.5, 0.95, 1 (max)
  of repeated/parallel steps and batch waits
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from runner.engine.results import Decision, LatencySummary, RunResult, Status
from runner.report import evidence as keys

_HELP = {
    "checkrun_decision": "Decision of the run: 1 for the decision reached.",
    "checkrun_run_timestamp_seconds": "Unix time the run finished.",
    "checkrun_run_duration_seconds": "Wall time of the run.",
    "checkrun_tests": "Number of tests per final status.",
    "checkrun_test_status": "Status of each test: 1 for its status.",
    "checkrun_test_duration_seconds": "Duration of each test that ran.",
    "checkrun_wait_seconds": "Time from submitting an async inference to its result.",
    "checkrun_cold_start_seconds": "First invocation after a deploy (cold start).",
    "checkrun_warm_seconds": "Invocation on a warm endpoint.",
    "checkrun_step_latency_seconds": "Latency quantiles of repeated/parallel steps.",
}

Sample = tuple[str, dict[str, str], float]


def render_metrics(result: RunResult) -> str:
    """The run as Prometheus text format (HELP/TYPE once per metric, grouped)."""
    samples = list(_samples(result))
    lines: list[str] = []
    for metric, help_text in _HELP.items():
        rows = [s for s in samples if s[0] == metric]
        if not rows:
            continue
        lines.append(f"# HELP {metric} {help_text}")
        lines.append(f"# TYPE {metric} gauge")
        lines.extend(f"{metric}{_labels(labels)} {_number(value)}" for _, labels, value in rows)
    return "\n".join(lines) + "\n"


def _samples(result: RunResult) -> Iterable[Sample]:
    base = {"checklist": result.checklist, "profile": result.profile}
    for decision in Decision:
        yield (
            "checkrun_decision",
            {**base, "decision": decision.value},
            float(decision is result.decision),
        )
    yield "checkrun_run_timestamp_seconds", base, result.finished_at.timestamp()
    yield "checkrun_run_duration_seconds", base, result.duration
    totals = result.totals
    for status in Status:
        yield "checkrun_tests", {**base, "status": status.value}, float(totals[status.value])
    for test in result.tests:
        for status in Status:
            labels = {**base, "test": test.id, "status": status.value}
            yield "checkrun_test_status", labels, float(test.status is status)
        if test.started_at is not None:
            yield "checkrun_test_duration_seconds", {**base, "test": test.id}, test.duration
        for step in test.steps:
            where = {**base, "test": test.id, "step": step.name}
            yield from _step_samples(where, step.evidence, keys.step_latency(step))


def _step_samples(where: dict[str, str], evidence: object, latency: object) -> Iterable[Sample]:
    ev = evidence if isinstance(evidence, Mapping) else {}
    wait = keys.wait_seconds(ev)
    if wait is not None:
        by = str(ev.get("detected_by") or "unknown")
        yield "checkrun_wait_seconds", {**where, "detected_by": by}, wait
    for key, metric in (
        (keys.COLD_KEY, "checkrun_cold_start_seconds"),
        (keys.WARM_KEY, "checkrun_warm_seconds"),
    ):
        value = keys.number(ev.get(key))
        if value is not None:
            yield metric, where, value
    if isinstance(latency, LatencySummary):
        for q, value in (
            ("0", latency.min),
            ("0.5", latency.p50),
            ("0.95", latency.p95),
            ("1", latency.max),
        ):
            yield "checkrun_step_latency_seconds", {**where, "quantile": q}, value


def _labels(labels: dict[str, str]) -> str:
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
    return "{" + inner + "}" if inner else ""


def _escape(value: str) -> str:
    # Label values escape backslash, double quote and newline (exposition format spec).
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return repr(float(value)) if value == value else "NaN"

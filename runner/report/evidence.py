"""The StepResult.evidence keys the reports interpret, in one place (aliases included).

Actions record free-form evidence; these keys get charts, tables and metrics:

- wait time (submit -> result): ``wait_seconds`` or ``since_submit`` (sagemaker.wait_result)
- how the result was detected: ``detected_by`` (``notification`` / ``s3`` / ...)
- requests spent waiting: ``requests``, else ``s3_requests`` + ``sqs_requests``
- cold start / warm invocation: ``cold_start_seconds`` / ``warm_seconds`` (wait_result's
  ``report_as: cold_start_seconds`` records its since_submit under that name)
- ``diff``: a comparison's deepdiff (text or its JSON form)
- a batch wait's time to each result: ``since_submit_all`` (with ``failed``), charted
  and measured like a repeated/parallel step's StepResult.latency (`step_latency`)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner.engine.results import LatencySummary, StepResult
from runner.engine.step import _percentile  # batch waits get the p95 repeated steps get

WAIT_KEYS = ("wait_seconds", "since_submit")
BATCH_KEY = "since_submit_all"
COLD_KEY = "cold_start_seconds"
WARM_KEY = "warm_seconds"


def number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def wait_seconds(evidence: Mapping[str, Any]) -> float | None:
    """Seconds from submitting an async request to its result, if the step recorded it."""
    for key in WAIT_KEYS:
        value = number(evidence.get(key))
        if value is not None:
            return value
    return None


def request_count(evidence: Mapping[str, Any]) -> int | None:
    """Requests spent waiting (S3 + SQS), if recorded."""
    total = number(evidence.get("requests"))
    if total is None:
        parts = [number(evidence.get(k)) for k in ("s3_requests", "sqs_requests")]
        if all(p is None for p in parts):
            return None
        total = sum(p for p in parts if p is not None)
    return int(total)


def step_latency(step: StepResult) -> LatencySummary | None:
    """The latency distribution of a step that made several requests, if it has one.

    A repeated/parallel step has the engine's summary; a wait for a batch of async
    requests (``since_submit_all``, one time to result per request) gets one built
    the same way. A single request is no distribution: None.
    """
    if step.latency is not None:
        return step.latency
    raw = step.evidence.get(BATCH_KEY)
    values = [number(v) for v in raw] if isinstance(raw, list) else []
    samples = [v for v in values if v is not None]
    if len(samples) < 2:
        return None
    ordered = sorted(samples)
    return LatencySummary(
        count=len(samples),
        failures=int(number(step.evidence.get("failed")) or 0),
        parallel=len(samples),
        min=ordered[0],
        p50=_percentile(ordered, 50),
        p95=_percentile(ordered, 95),
        max=ordered[-1],
        samples=tuple(samples),
    )

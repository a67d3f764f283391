"""The StepResult.evidence keys the reports interpret, in one place (aliases included).

Actions record free-form evidence; these keys get charts, tables and metrics:

- wait time (submit -> result): ``wait_seconds`` or ``since_submit`` (sagemaker.wait_result)
- how the result was detected: ``detected_by`` (``notification`` / ``s3`` / ...)
- requests spent waiting: ``requests``, else ``s3_requests`` + ``sqs_requests``
- cold start / warm invocation: ``cold_start_seconds`` / ``warm_seconds`` (wait_result's
  ``report_as: cold_start_seconds`` records its since_submit under that name)
- ``diff``: a comparison's deepdiff (text or its JSON form)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

WAIT_KEYS = ("wait_seconds", "since_submit")
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

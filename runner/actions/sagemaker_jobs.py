"""What the result waiter tracks: its S3 fallback schedule, its jobs, the notifications.

Plain data and parsing, split from `waiter.py` (which holds the threads) so each
stays readable; `waiter` re-exports these names.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class FallbackPolicy:
    """The S3 fallback schedule: next check after clamp(age * factor, first, max_interval)."""

    first: float
    factor: float
    max_interval: float

    def interval(self, age: float) -> float:
        return min(max(age * self.factor, self.first), self.max_interval)


# Notifications on: S3 only as a safety net. Off: start fast, back off with age.
WITH_NOTIFICATIONS = FallbackPolicy(first=2.0, factor=0.5, max_interval=30.0)
# A job registered this much earlier than one just notified is checked on S3 at once.
NUDGE_GAP = 0.5
WITHOUT_NOTIFICATIONS = FallbackPolicy(first=0.1, factor=0.25, max_interval=5.0)


@dataclass
class Job:
    """One in-flight async inference the waiter is watching."""

    inference_id: str
    output_location: str | None
    failure_location: str | None
    queue_url: str | None
    registered: float  # clock.monotonic()
    policy: FallbackPolicy
    next_check: float = 0.0
    checks: int = 0
    s3_requests: int = 0
    sqs_rounds_at_start: int = 0
    sqs_rounds_at_end: int | None = None  # the shared queue reads made until it was detected
    done: threading.Event = field(default_factory=threading.Event)
    detected_by: str | None = None  # "notification" | "s3"
    status: str | None = None  # "Completed" | "Failed"
    notification: dict[str, Any] | None = None
    detected_at: float | None = None
    nudged: bool = False  # already pulled forward once because a younger job was notified


@dataclass
class Seen:
    """A notification as the runner received it."""

    message: dict[str, Any]
    received_at: datetime
    received_mono: float


def split_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def parse_notification(body: str) -> dict[str, Any] | None:
    """The SageMaker notification inside an SQS body (raw delivery or SNS envelope)."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if isinstance(data, dict) and data.get("Type") == "Notification" and "Message" in data:
        try:
            data = json.loads(data["Message"])
        except (TypeError, ValueError):
            return None
    return data if isinstance(data, dict) else None


def is_missing(exc: Exception) -> bool:
    code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")

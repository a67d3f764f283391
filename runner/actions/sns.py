"""SNS step types: `sns.expect_notification` (by inference id, status, within a time).

The run's SQS queue, subscribed to the endpoint's topics by `deploy_async`, is read
by the one `ResultWaiter`; this action asks it for the notification of one job, so
it never competes with `wait_result` for messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from runner.actions.aws import stop_event
from runner.actions.registry import ActionOutput, action
from runner.actions.sagemaker_runtime import get_waiter
from runner.engine.context import StepContext
from runner.errors import ActionError


class ExpectNotificationArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    job: dict[str, Any] | None = None  # what invoke_async returned
    inference_id: str | None = None
    queue_url: str | None = None
    endpoint: str | None = None  # finds the queue deploy_async made
    status: str | None = "Completed"  # "Completed" | "Failed" | null (any)
    within: float = Field(default=60.0, gt=0)  # max seconds from completion to arrival
    timeout: float | None = Field(default=None, gt=0)  # how long to wait; default `within`


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@action("sns.expect_notification", args=ExpectNotificationArgs)
def expect_notification(args: ExpectNotificationArgs, ctx: StepContext) -> ActionOutput:
    """Wait for a job's SageMaker notification; fails if none with `status` arrives in time."""
    job = args.job or {}
    inference_id = args.inference_id or job.get("InferenceId")
    endpoint = args.endpoint or job.get("EndpointName")
    info = ctx.run.shared.get("sagemaker.endpoints", {}).get(endpoint or "", {})
    queue_url = (
        args.queue_url or job.get("queue_url") or (info.get("async_config") or {}).get("queue_url")
    )
    if not inference_id or not queue_url:
        raise ActionError(
            "give `job` (from invoke_async) or `inference_id` plus `queue_url`/`endpoint` of an "
            "endpoint deployed with notifications",
            code="InvalidArguments",
        )
    timeout = args.timeout or args.within
    seen = get_waiter(ctx).wait_notification(
        str(inference_id), queue_url, timeout, args.status, cancel=stop_event(ctx)
    )
    if seen is None:
        raise ActionError(
            f"no {args.status or 'any'} notification for {inference_id} within {timeout:g}s",
            code="NotificationMissing",
            evidence={"inference_id": inference_id},
        )
    note = seen.message
    event_time = _parse_time(note.get("eventTime"))
    lag = (seen.received_at - event_time).total_seconds() if event_time else None
    response = note.get("responseParameters") or {}
    value = {
        "inference_id": inference_id,
        "status": note.get("invocationStatus"),
        "notification": note,
        "event_time": note.get("eventTime"),
        "received_at": seen.received_at.isoformat(),
        "lag_seconds": round(lag, 3) if lag is not None else None,
        "within_limit": lag is not None and lag <= args.within,
        "output_location": response.get("outputLocation"),
        "failure_reason": note.get("failureReason"),
    }
    evidence = {k: value[k] for k in ("inference_id", "status", "lag_seconds", "output_location")}
    return ActionOutput(value, evidence=evidence)

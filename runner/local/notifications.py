"""SageMaker Asynchronous Inference notifications, in SageMaker's own JSON (FACTS.md)."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

RESPONSE_BODY_LIMIT = 128 * 1024
SUCCESS_TOPIC = "SUCCESS_NOTIFICATION_TOPIC"
ERROR_TOPIC = "ERROR_NOTIFICATION_TOPIC"

TEST_NOTIFICATION = {
    "eventVersion": "1.0",
    "eventSource": "aws:sagemaker",
    "eventName": "TestNotification",
}


def timestamp(epoch: float) -> str:
    """'2022-01-25T22:46:00.608Z', the notifications' time format."""
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def inference_result(
    *,
    region: str,
    endpoint: str,
    inference_id: str,
    received: float,
    finished: float,
    content_type: str | None,
    accept: str | None,
    input_location: str | None,
    succeeded: bool,
    output_location: str | None = None,
    response_content_type: str | None = None,
    failure_reason: str | None = None,
    response_body: bytes | None = None,
) -> dict[str, Any]:
    """The InferenceResult message for a success (Completed) or a failure (Failed).

    `response_body` is included (base64) only when given and at most 128 KB, as
    IncludeInferenceResponseIn does.
    """
    request: dict[str, Any] = {"endpointName": endpoint}
    if accept:
        request["accept"] = accept
    if content_type:
        request["contentType"] = content_type
    if input_location:
        request["inputLocation"] = input_location
    message: dict[str, Any] = {
        "awsRegion": region,
        "eventTime": timestamp(finished),
        "receivedTime": timestamp(received),
        "invocationStatus": "Completed" if succeeded else "Failed",
        "requestParameters": request,
    }
    if succeeded:
        message["responseParameters"] = {
            "contentType": response_content_type,
            "outputLocation": output_location,
        }
    else:
        message["failureReason"] = failure_reason
    message["inferenceId"] = inference_id
    message["eventVersion"] = "1.0"
    message["eventSource"] = "aws:sagemaker"
    message["eventName"] = "InferenceResult"
    if response_body is not None and len(response_body) <= RESPONSE_BODY_LIMIT:
        message["responseBody"] = {
            "content": base64.b64encode(response_body).decode("ascii"),
            "message": "",
            "encoding": "BASE64",
        }
    return message


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))

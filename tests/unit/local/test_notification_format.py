"""Notification messages in SageMaker's JSON format (FACTS.md)."""

from __future__ import annotations

import base64

from runner.local import notifications


def _message(**kwargs: object) -> dict:
    base: dict = {
        "region": "us-east-1",
        "endpoint": "ep",
        "inference_id": "id-1",
        "received": 1_700_000_000.0,
        "finished": 1_700_000_000.25,
        "content_type": "application/json",
        "accept": None,
        "input_location": "s3://b/in.json",
    }
    base.update(kwargs)
    return notifications.inference_result(**base)


def test_success_message_shape() -> None:
    message = _message(
        succeeded=True, output_location="s3://b/out/x.out", response_content_type="text/csv"
    )
    assert message == {
        "awsRegion": "us-east-1",
        "eventTime": "2023-11-14T22:13:20.250Z",
        "receivedTime": "2023-11-14T22:13:20.000Z",
        "invocationStatus": "Completed",
        "requestParameters": {
            "endpointName": "ep",
            "contentType": "application/json",
            "inputLocation": "s3://b/in.json",
        },
        "responseParameters": {"contentType": "text/csv", "outputLocation": "s3://b/out/x.out"},
        "inferenceId": "id-1",
        "eventVersion": "1.0",
        "eventSource": "aws:sagemaker",
        "eventName": "InferenceResult",
    }


def test_failure_message_has_reason_and_no_response_parameters() -> None:
    message = _message(succeeded=False, failure_reason="ClientError: boom")
    assert message["invocationStatus"] == "Failed"
    assert message["failureReason"] == "ClientError: boom"
    assert "responseParameters" not in message


def test_response_body_included_only_up_to_128_kb() -> None:
    small = _message(succeeded=True, response_body=b"hello")
    assert base64.b64decode(small["responseBody"]["content"]) == b"hello"
    assert small["responseBody"]["encoding"] == "BASE64"
    edge = _message(succeeded=True, response_body=b"x" * (128 * 1024))
    assert len(base64.b64decode(edge["responseBody"]["content"])) == 128 * 1024
    big = _message(succeeded=True, response_body=b"x" * (128 * 1024 + 1))
    assert "responseBody" not in big

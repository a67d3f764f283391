"""InvokeEndpointAsync end to end: 202, S3 output and failure objects, SNS -> SQS notifications."""

from __future__ import annotations

import base64
import json
import re
import uuid

import pytest
from local_stack_kit import Clients, Deployed, Deployer


@pytest.fixture(scope="module")
def echo(deployer: Deployer) -> Deployed:
    return deployer.deploy(
        "echo",
        env={"ECHO_ENV": "from-model-environment"},
        include_response_in=["SUCCESS_NOTIFICATION_TOPIC", "ERROR_NOTIFICATION_TOPIC"],
    )


def _submit(clients: Clients, endpoint: Deployed, payload: object, **kwargs: object) -> dict:
    return clients.rt.invoke_endpoint_async(
        EndpointName=endpoint.name,
        Body=json.dumps(payload).encode(),
        ContentType="application/json",
        **kwargs,
    )


def test_describe_endpoint_carries_async_config(clients: Clients, echo: Deployed) -> None:
    described = clients.sm.describe_endpoint(EndpointName=echo.name)
    assert described["EndpointStatus"] == "InService"
    output = described["AsyncInferenceConfig"]["OutputConfig"]
    assert output["S3OutputPath"].endswith("/out/")


def test_accepted_with_locations_then_output_and_notification(
    clients: Clients, echo: Deployed
) -> None:
    answer = _submit(clients, echo, {"value": 41})
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
    output, failure = answer["OutputLocation"], answer["FailureLocation"]
    token = output.rsplit("/", 1)[1].removesuffix(".out")
    assert output == f"s3://{echo.bucket}/{echo.name}/out/{token}.out"
    assert failure == f"s3://{echo.bucket}/{echo.name}/failed/{token}-error.out"

    assert echo.notifications is not None
    message = echo.notifications.wait_for(answer["InferenceId"])
    body, content_type = echo.output(clients, output)
    result = json.loads(body)
    assert (result["echo"], result["env"], content_type) == (
        41,
        "from-model-environment",
        "application/json",
    )
    assert set(message) == {
        "awsRegion", "eventTime", "receivedTime", "invocationStatus", "requestParameters",
        "responseParameters", "inferenceId", "eventVersion", "eventSource", "eventName",
        "responseBody",
    }  # fmt: skip
    assert message["invocationStatus"] == "Completed"
    assert message["eventSource"] == "aws:sagemaker"
    assert message["eventName"] == "InferenceResult"
    assert message["requestParameters"]["endpointName"] == echo.name
    assert message["responseParameters"] == {
        "contentType": "application/json",
        "outputLocation": output,
    }
    assert message["responseBody"]["encoding"] == "BASE64"
    assert base64.b64decode(message["responseBody"]["content"]) == body


def test_failure_writes_error_object_and_error_notification(
    clients: Clients, echo: Deployed
) -> None:
    answer = _submit(clients, echo, {"fail": "boom from the handler"})
    assert echo.notifications is not None
    message = echo.notifications.wait_for(answer["InferenceId"])
    error_text, _ = echo.output(clients, answer["FailureLocation"])
    assert b"ValueError: boom from the handler" in error_text
    assert message["invocationStatus"] == "Failed"
    assert message["failureReason"].startswith(
        "ClientError: Received server error (500) from model"
    )
    assert "responseParameters" not in message
    assert base64.b64decode(message["responseBody"]["content"]) == error_text


def test_request_headers_reach_the_handler_and_the_notification(
    clients: Clients, echo: Deployed
) -> None:
    answer = _submit(
        clients, echo, {"value": 3}, Accept="application/json", CustomAttributes="trace=42"
    )
    headers = answer["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-sagemaker-outputlocation"] == answer["OutputLocation"]
    assert headers["x-amzn-sagemaker-failurelocation"] == answer["FailureLocation"]
    assert echo.notifications is not None
    message = echo.notifications.wait_for(answer["InferenceId"])
    # Inline Body: no inputLocation; every parameter the request carried is echoed back.
    assert message["requestParameters"] == {
        "accept": "application/json",
        "contentType": "application/json",
        "endpointName": echo.name,
    }
    result = json.loads(echo.output(clients, answer["OutputLocation"])[0])
    assert (result["accept"], result["custom_attributes"], result["content_type"]) == (
        "application/json",
        "trace=42",
        "application/json",
    )


def test_error_notification_field_by_field(clients: Clients, echo: Deployed) -> None:
    answer = _submit(clients, echo, {"fail": "exact"}, Accept="application/json")
    assert echo.notifications is not None
    message = echo.notifications.wait_for(answer["InferenceId"])
    assert set(message) == {
        "awsRegion", "eventTime", "receivedTime", "invocationStatus", "requestParameters",
        "inferenceId", "eventVersion", "eventSource", "eventName", "failureReason",
        "responseBody",
    }  # fmt: skip
    assert message["failureReason"] == (
        "ClientError: Received server error (500) from model. See the SageMaker Endpoint logs "
        "in your account for more information."
    )
    assert (message["awsRegion"], message["inferenceId"]) == ("us-east-1", answer["InferenceId"])
    assert (message["eventVersion"], message["eventSource"], message["eventName"]) == (
        "1.0",
        "aws:sagemaker",
        "InferenceResult",
    )
    assert message["requestParameters"] == {
        "accept": "application/json",
        "contentType": "application/json",
        "endpointName": echo.name,
    }
    assert message["responseBody"]["encoding"] == "BASE64"
    assert set(message["responseBody"]) == {"content", "message", "encoding"}
    for stamp in (message["eventTime"], message["receivedTime"]):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
    assert message["receivedTime"] <= message["eventTime"]


def test_response_body_only_in_the_topics_include_inference_response_in_names(
    clients: Clients, deployer: Deployer
) -> None:
    deployed = deployer.deploy("echo", include_response_in=["SUCCESS_NOTIFICATION_TOPIC"])
    ok = _submit(clients, deployed, {"value": 1})
    failed = _submit(clients, deployed, {"fail": "no body for me"})
    assert deployed.notifications is not None
    assert "responseBody" in deployed.notifications.wait_for(ok["InferenceId"])
    assert "responseBody" not in deployed.notifications.wait_for(failed["InferenceId"])


def test_client_inference_id_is_kept(clients: Clients, echo: Deployed) -> None:
    inference_id = f"my-id-{uuid.uuid4().hex}"
    answer = _submit(clients, echo, {"value": 1}, InferenceId=inference_id)
    assert answer["InferenceId"] == inference_id
    assert echo.notifications is not None
    assert echo.notifications.wait_for(inference_id)["inferenceId"] == inference_id


def test_input_location_uses_the_objects_content_type(clients: Clients, echo: Deployed) -> None:
    key = f"inputs/{uuid.uuid4().hex}.json"
    clients.s3.put_object(
        Bucket=echo.bucket, Key=key, Body=b'{"value": "from-s3"}', ContentType="application/json"
    )
    # No ContentType, as the SageMaker Python SDK's AsyncPredictor sends it (FACTS.md).
    answer = clients.rt.invoke_endpoint_async(
        EndpointName=echo.name, InputLocation=f"s3://{echo.bucket}/{key}"
    )
    assert echo.notifications is not None
    message = echo.notifications.wait_for(answer["InferenceId"])
    assert message["requestParameters"]["inputLocation"] == f"s3://{echo.bucket}/{key}"
    result = json.loads(echo.output(clients, answer["OutputLocation"])[0])
    assert (result["echo"], result["content_type"]) == ("from-s3", "application/json")


def test_missing_input_object_fails_the_invocation(clients: Clients, echo: Deployed) -> None:
    location = f"s3://{echo.bucket}/inputs/does-not-exist.json"
    answer = clients.rt.invoke_endpoint_async(EndpointName=echo.name, InputLocation=location)
    assert echo.notifications is not None
    message = echo.notifications.wait_for(answer["InferenceId"])
    assert message["invocationStatus"] == "Failed"
    assert location in message["failureReason"]


def test_an_output_bucket_that_does_not_exist_fails_the_invocation(
    clients: Clients, deployer: Deployer
) -> None:
    missing = f"checkrun-absent-{uuid.uuid4().hex[:8]}"
    deployed = deployer.deploy("echo", output_bucket=missing)
    answer = _submit(clients, deployed, {"value": 1})
    assert deployed.notifications is not None
    message = deployed.notifications.wait_for(answer["InferenceId"])
    reason = f"ClientError: Failed to upload the inference result to {answer['OutputLocation']}."
    assert (message["invocationStatus"], message["failureReason"]) == ("Failed", reason)
    failure = json.loads(deployed.output(clients, answer["FailureLocation"])[0])["message"]
    assert failure.startswith(f"{reason} (") and missing in answer["OutputLocation"]


def test_output_path_extension_and_filename(clients: Clients, echo: Deployed) -> None:
    answer = _submit(
        clients, echo, {"value": 2}, S3OutputPathExtension="batch-7", Filename="r.json"
    )
    assert answer["OutputLocation"] == f"s3://{echo.bucket}/{echo.name}/out/batch-7/r.json"
    assert json.loads(echo.output(clients, answer["OutputLocation"])[0])["echo"] == 2


def test_invocation_timeout_fails_the_request(clients: Clients, echo: Deployed) -> None:
    answer = _submit(clients, echo, {"sleep": 3}, InvocationTimeoutSeconds=1)
    assert echo.notifications is not None
    message = echo.notifications.wait_for(answer["InferenceId"])
    assert message["invocationStatus"] == "Failed"
    assert "InvocationTimeoutSeconds" in message["failureReason"]
    assert b"did not answer within 1s" in echo.output(clients, answer["FailureLocation"])[0]


def test_worker_crash_fails_the_request_then_the_endpoint_recovers(
    clients: Clients, echo: Deployed
) -> None:
    first = json.loads(
        echo.output(clients, _submit(clients, echo, {"value": 0})["OutputLocation"])[0]
    )
    crashed = _submit(clients, echo, {"crash": True})
    assert echo.notifications is not None
    assert echo.notifications.wait_for(crashed["InferenceId"])["invocationStatus"] == "Failed"
    assert b"crashed" in echo.output(clients, crashed["FailureLocation"])[0]
    after = _submit(clients, echo, {"value": "again"})
    result = json.loads(echo.output(clients, after["OutputLocation"], timeout=20)[0])
    assert result["echo"] == "again"
    assert result["pid"] != first["pid"]
    assert clients.sm.describe_endpoint(EndpointName=echo.name)["EndpointStatus"] == "InService"


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({}, "InputLocation or Body is required"),
        ({"Body": b"{}", "InputLocation": "s3://b/k"}, "not both"),
        ({"Body": b"x" * 128_001}, "inline limit is 128000 bytes"),
        # AWS's ranges: RequestTTLSeconds 60-21600 (the stack accepts 1-59, README),
        # InvocationTimeoutSeconds 1-3600.
        ({"Body": b"{}", "RequestTTLSeconds": 21601}, "less than or equal to 21600"),
        ({"Body": b"{}", "RequestTTLSeconds": 0}, "greater than or equal to 1"),
        ({"Body": b"{}", "InvocationTimeoutSeconds": 3601}, "less than or equal to 3600"),
        ({"Body": b"{}", "InvocationTimeoutSeconds": 0}, "greater than or equal to 1"),
        ({"Body": b"{}", "InferenceId": "i" * 65}, "less than or equal to 64"),
    ],
)
def test_bad_requests_are_validation_errors(
    clients: Clients, echo: Deployed, kwargs: dict, needle: str
) -> None:
    with pytest.raises(clients.rt.exceptions.ClientError) as info:
        clients.rt.invoke_endpoint_async(EndpointName=echo.name, **kwargs)
    assert info.value.response["Error"]["Code"] == "ValidationError"
    assert needle in info.value.response["Error"]["Message"]


def test_inline_body_of_exactly_128000_bytes_is_accepted(clients: Clients, echo: Deployed) -> None:
    body = b'{"value": "' + b"x" * (128_000 - 13) + b'"}'
    assert len(body) == 128_000
    answer = clients.rt.invoke_endpoint_async(
        EndpointName=echo.name, Body=body, ContentType="application/json"
    )
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert len(json.loads(echo.output(clients, answer["OutputLocation"])[0])["echo"]) == 127_987


def test_unknown_endpoint_is_the_runtimes_validation_error(clients: Clients) -> None:
    with pytest.raises(clients.rt.exceptions.ClientError) as info:
        clients.rt.invoke_endpoint_async(EndpointName="no-such-endpoint", Body=b"{}")
    error = info.value.response["Error"]
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Code"] == "ValidationError"
    assert error["Message"] == "Endpoint no-such-endpoint of account 123456789012 not found."
    # The runtime's error code travels in x-amzn-ErrorType (FACTS.md), as botocore reads it.
    headers = info.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-errortype"] == "ValidationError"


def test_invoke_endpoint_on_async_endpoint_is_refused(clients: Clients, echo: Deployed) -> None:
    with pytest.raises(clients.rt.exceptions.ClientError) as info:
        clients.rt.invoke_endpoint(EndpointName=echo.name, Body=b"{}")
    assert info.value.response["Error"]["Code"] == "ValidationError"

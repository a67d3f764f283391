"""Real-time InvokeEndpoint: the handler's body and type, ModelError 424, wrong endpoint kind."""

from __future__ import annotations

import json

import pytest
from local_stack_kit import Clients, Deployed, Deployer


@pytest.fixture(scope="module")
def realtime(deployer: Deployer) -> Deployed:
    return deployer.deploy("echo", asynchronous=False)


def test_invoke_returns_the_handlers_body_and_content_type(
    clients: Clients, realtime: Deployed
) -> None:
    answer = clients.rt.invoke_endpoint(
        EndpointName=realtime.name, Body=b'{"value": "rt"}', ContentType="application/json"
    )
    assert answer["ContentType"] == "application/json"
    assert answer["InvokedProductionVariant"] == "AllTraffic"
    assert json.loads(answer["Body"].read())["echo"] == "rt"


def test_accept_and_custom_attributes_reach_the_handler(
    clients: Clients, realtime: Deployed
) -> None:
    answer = clients.rt.invoke_endpoint(
        EndpointName=realtime.name,
        Body=b'{"value": 1}',
        ContentType="application/json",
        Accept="application/json",
        CustomAttributes="c000b4f9-df62-4c85-a0bf-7c525f9104a4",
    )
    result = json.loads(answer["Body"].read())
    assert (result["accept"], result["custom_attributes"]) == (
        "application/json",
        "c000b4f9-df62-4c85-a0bf-7c525f9104a4",
    )
    assert "CustomAttributes" not in answer  # the container set none


def test_custom_attributes_the_container_sets_come_back(
    clients: Clients, realtime: Deployed
) -> None:
    answer = clients.rt.invoke_endpoint(
        EndpointName=realtime.name,
        Body=b'{"value": 1, "answer_attributes": "model-version=7"}',
        ContentType="application/json",
    )
    assert answer["CustomAttributes"] == "model-version=7"


def test_handler_error_is_a_model_error(clients: Clients, realtime: Deployed) -> None:
    with pytest.raises(clients.rt.exceptions.ModelError) as info:
        clients.rt.invoke_endpoint(
            EndpointName=realtime.name,
            Body=b'{"fail": "bad input"}',
            ContentType="application/json",
        )
    response = info.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == "ModelError"
    assert response["OriginalStatusCode"] == 500
    # MMS/TorchServe-style JSON error body, as the PyTorch image answers (FACTS.md)
    assert json.loads(response["OriginalMessage"]) == {
        "code": 500,
        "type": "InternalServerException",
        "message": "ValueError: bad input",
    }
    assert response["LogStreamArn"].startswith(
        f"arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/{realtime.name}"
        ":log-stream:AllTraffic/i-"
    )
    message = response["Error"]["Message"]
    assert message.startswith("Received server error (500) from primary with message ")
    assert (
        '". See https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1'
        f"#logEventViewer:group=/aws/sagemaker/Endpoints/{realtime.name} in account "
        "123456789012 for more information."
    ) in message


def test_async_invocation_of_a_realtime_endpoint_is_refused(
    clients: Clients, realtime: Deployed
) -> None:
    with pytest.raises(clients.rt.exceptions.ClientError) as info:
        clients.rt.invoke_endpoint_async(EndpointName=realtime.name, Body=b"{}")
    assert info.value.response["Error"]["Code"] == "ValidationError"
    assert "not an asynchronous endpoint" in info.value.response["Error"]["Message"]


def test_unknown_endpoint(clients: Clients) -> None:
    with pytest.raises(clients.rt.exceptions.ClientError) as info:
        clients.rt.invoke_endpoint(EndpointName="missing-rt", Body=b"{}")
    assert info.value.response["Error"] == {
        "Code": "ValidationError",
        "Message": "Endpoint missing-rt of account 123456789012 not found.",
    }


def test_body_over_6_mb_is_refused(clients: Clients, realtime: Deployed) -> None:
    # botocore's InvokeEndpoint Body max is 6,291,456 bytes (FACTS.md: 6 MB); it does not check
    # maximums client-side, so the runtime must.
    with pytest.raises(clients.rt.exceptions.ClientError) as info:
        clients.rt.invoke_endpoint(
            EndpointName=realtime.name, Body=b"x" * (6 * 1024 * 1024 + 1), ContentType="text/plain"
        )
    assert info.value.response["Error"]["Code"] == "ValidationError"
    assert "6 MB" in info.value.response["Error"]["Message"]

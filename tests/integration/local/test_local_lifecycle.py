"""Endpoint lifecycle: Creating -> InService, Failed with the handler's error, DeleteEndpoint."""

from __future__ import annotations

import os
import time

import pytest
from local_stack_kit import Clients, Deployer, process_alive, wait_for_log


def test_creating_until_ping_then_in_service_with_test_notification(
    clients: Clients, deployer: Deployer
) -> None:
    deployed = deployer.create("echo")
    assert clients.sm.describe_endpoint(EndpointName=deployed.name)["EndpointStatus"] == "Creating"
    assert deployer.wait(deployed.name)["EndpointStatus"] == "InService"
    assert deployed.notifications is not None
    deployed.notifications.drain(wait=1)
    assert deployed.notifications.others == [
        {"eventVersion": "1.0", "eventSource": "aws:sagemaker", "eventName": "TestNotification"}
    ]


def test_model_that_does_not_load_fails_with_its_own_error(
    clients: Clients, deployer: Deployer
) -> None:
    deployed = deployer.create("broken_load")
    described = deployer.wait(deployed.name)
    assert described["EndpointStatus"] == "Failed"
    assert "RuntimeError: weights file model.pth is missing" in described["FailureReason"]
    events = wait_for_log(clients, deployed.name, "Traceback")
    assert "Traceback (most recent call last)" in events
    with pytest.raises(clients.rt.exceptions.ClientError) as info:
        clients.rt.invoke_endpoint_async(EndpointName=deployed.name, Body=b"{}")
    assert info.value.response["Error"]["Code"] == "ValidationError"


def test_unsatisfied_requirement_fails_naming_it(deployer: Deployer) -> None:
    described = deployer.wait(deployer.create("missing_requirement").name)
    assert described["EndpointStatus"] == "Failed"
    assert "checkrun-no-such-package-xyz==1.2.3 (not installed)" in described["FailureReason"]
    assert "numpy" not in described["FailureReason"]


def test_delete_endpoint_stops_the_model_servers(
    clients: Clients, deployer: Deployer, local_stack: object
) -> None:
    deployed = deployer.deploy("echo", asynchronous=False)
    endpoint = local_stack.runtime.endpoints[(deployed.name, "us-east-1")]  # type: ignore[attr-defined]
    pids = [worker.pid for worker in endpoint.workers]
    clients.sm.delete_endpoint(EndpointName=deployed.name)
    assert not any(process_alive(pid) for pid in pids)  # stopped before DeleteEndpoint answers
    with pytest.raises(clients.sm.exceptions.ClientError) as control:
        clients.sm.describe_endpoint(EndpointName=deployed.name)
    assert control.value.response["Error"]["Code"] == "ValidationException"
    assert "Could not find endpoint" in control.value.response["Error"]["Message"]
    with pytest.raises(clients.rt.exceptions.ClientError) as runtime:
        clients.rt.invoke_endpoint(EndpointName=deployed.name, Body=b"{}")
    assert runtime.value.response["Error"]["Code"] == "ValidationError"


def _create_endpoint(clients: Clients, deployer: Deployer, name: str, model_data: str) -> str:
    """CreateModel + CreateEndpointConfig + CreateEndpoint for a raw ModelDataUrl."""
    clients.sm.create_model(
        ModelName=name,
        ExecutionRoleArn="arn:aws:iam::123456789012:role/x",
        PrimaryContainer={"Image": "local", "ModelDataUrl": model_data},
    )
    clients.sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": name, "InitialInstanceCount": 1,
             "InstanceType": "ml.m5.large"}
        ],
    )  # fmt: skip
    clients.sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    deployer.endpoints.append(name)
    return name


@pytest.mark.parametrize("where", ["missing", "not-s3"])
def test_missing_model_artifact_fails_with_sagemakers_message(
    clients: Clients, deployer: Deployer, where: str
) -> None:
    name = f"nomodel-{os.getpid()}-{time.monotonic_ns()}"
    url = f"s3://{deployer.bucket}/models/absent.tar.gz"
    if where == "not-s3":
        url = "https://example.com/model.tar.gz"
    described = deployer.wait(_create_endpoint(clients, deployer, name, url))
    assert described["EndpointStatus"] == "Failed"
    assert described["FailureReason"].startswith(
        f'Failed to download model data for container "container_1" from URL: "{url}".'
    )


def test_unsafe_model_archive_fails_the_endpoint(clients: Clients, deployer: Deployer) -> None:
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("../escape.py")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    key = f"models/evil-{time.monotonic_ns()}.tar.gz"
    clients.s3.put_object(Bucket=deployer.bucket, Key=key, Body=buffer.getvalue())
    name = f"evil-{time.monotonic_ns()}"
    described = deployer.wait(
        _create_endpoint(clients, deployer, name, f"s3://{deployer.bucket}/{key}")
    )
    assert described["EndpointStatus"] == "Failed"
    assert "points outside the archive" in described["FailureReason"]

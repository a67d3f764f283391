"""MaxConcurrentInvocationsPerInstance x instances: never more in flight, and all of them used."""

from __future__ import annotations

import json

import pytest
from local_stack_kit import Clients, Deployed, Deployer, wait_for_log, wait_until


@pytest.fixture(scope="module")
def two_instances(deployer: Deployer) -> Deployed:
    return deployer.deploy("echo", instances=2, max_concurrent=2)


def _max_overlap(spans: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    level = peak = 0
    for _, delta in events:
        level += delta
        peak = max(peak, level)
    return peak


def test_in_flight_is_capped_and_used_across_two_instances(
    clients: Clients, two_instances: Deployed
) -> None:
    answers = [
        clients.rt.invoke_endpoint_async(
            EndpointName=two_instances.name,
            Body=json.dumps({"sleep": 0.3, "value": i}).encode(),
            ContentType="application/json",
        )
        for i in range(12)
    ]
    results = [
        json.loads(two_instances.output(clients, a["OutputLocation"], timeout=20)[0])
        for a in answers
    ]
    spans = [(r["started"], r["ended"]) for r in results]
    assert _max_overlap(spans) == 4  # 2 per instance x 2 instances, and all 4 slots used
    assert len({r["pid"] for r in results}) == 2


def test_request_ttl_expires_while_queued(clients: Clients, deployer: Deployer) -> None:
    single = deployer.deploy("echo", max_concurrent=1)
    assert single.notifications is not None
    # One slot: the 1.5 s job runs first (FIFO), so the next one waits at least 1.5 s after
    # it was accepted, longer than its 1 s TTL, however slow the machine is.
    clients.rt.invoke_endpoint_async(
        EndpointName=single.name, Body=b'{"sleep": 1.5}', ContentType="application/json"
    )
    waiting = clients.rt.invoke_endpoint_async(
        EndpointName=single.name,
        Body=b'{"value": 1}',
        ContentType="application/json",
        RequestTTLSeconds=1,  # below AWS's 60 s minimum; parameter validation is off here
    )
    message = single.notifications.wait_for(waiting["InferenceId"])
    assert message["invocationStatus"] == "Failed"
    assert "RequestTTLSeconds" in message["failureReason"]
    assert "responseBody" not in message  # IncludeInferenceResponseIn not configured


def test_logs_and_metrics(clients: Clients, two_instances: Deployed) -> None:
    answer = clients.rt.invoke_endpoint_async(
        EndpointName=two_instances.name, Body=b'{"value": "logged"}', ContentType="application/json"
    )
    two_instances.output(clients, answer["OutputLocation"])
    group = f"/aws/sagemaker/Endpoints/{two_instances.name}"

    text = wait_for_log(clients, two_instances.name, f"inference {answer['InferenceId']} completed")
    assert "model loaded" in text

    def streams() -> list[str]:
        listed = clients.logs.describe_log_streams(logGroupName=group)["logStreams"]
        names = [s["logStreamName"] for s in listed]
        return names if len(names) >= 2 else []

    names = wait_until(streams, "a log stream per instance")
    assert len(names) == 2 and all(s.startswith("AllTraffic/i-") for s in names)

    def metric_names() -> set[str]:
        listed = clients.cloudwatch.list_metrics(
            Namespace="AWS/SageMaker",
            Dimensions=[{"Name": "EndpointName", "Value": two_instances.name}],
        )["Metrics"]
        names = {m["MetricName"] for m in listed}
        return names if len(names) >= 3 else set()

    assert wait_until(metric_names, "the endpoint's metrics") == {
        "ApproximateBacklogSize",
        "ApproximateBacklogSizePerInstance",
        "InvocationsProcessed",
    }

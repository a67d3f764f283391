"""MaxConcurrentInvocationsPerInstance x instances: never more in flight, and all of them used."""

from __future__ import annotations

import json
import time

import pytest
from local_stack_kit import Clients, Deployed, Deployer


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
    clients.rt.invoke_endpoint_async(
        EndpointName=single.name, Body=b'{"sleep": 1.5}', ContentType="application/json"
    )
    time.sleep(0.1)
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
    group = f"/aws/sagemaker/Endpoints/{two_instances.name}"
    deadline = time.monotonic() + 5
    streams: list[str] = []
    text = ""
    while time.monotonic() < deadline:
        streams = [
            s["logStreamName"]
            for s in clients.logs.describe_log_streams(logGroupName=group)["logStreams"]
        ]
        events = clients.logs.filter_log_events(logGroupName=group)["events"]
        text = "\n".join(e["message"] for e in events)
        if len(streams) == 2 and "completed" in text:
            break
        time.sleep(0.1)
    assert len(streams) == 2
    assert all(s.startswith("AllTraffic/i-") for s in streams)
    assert "model loaded" in text
    metrics: set[str] = set()
    while time.monotonic() < deadline + 3 and len(metrics) < 3:
        listed = clients.cloudwatch.list_metrics(
            Namespace="AWS/SageMaker",
            Dimensions=[{"Name": "EndpointName", "Value": two_instances.name}],
        )["Metrics"]
        metrics = {m["MetricName"] for m in listed}
        time.sleep(0.2)
    assert metrics == {
        "ApproximateBacklogSize",
        "ApproximateBacklogSizePerInstance",
        "InvocationsProcessed",
    }

"""Every fault kind of a FaultPlan, on a stack of its own, seen through plain boto3."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from local_stack_kit import Clients, Deployer

from runner.local.faults import FaultPlan, FaultRule
from runner.local.stack import LocalStack

PLAN = FaultPlan(
    seed=11,
    rules=[
        FaultRule(kind="throttle", api="s3:PutObject", count=1),
        FaultRule(kind="throttle", api="sagemaker-runtime:InvokeEndpointAsync", count=1),
        FaultRule(kind="error", api="sns:ListTopics", status=503, count=1),
        FaultRule(kind="latency", api="sts:GetCallerIdentity", seconds=0.05),
        FaultRule(kind="drop_notification", endpoint="drop-*", count=1),
        FaultRule(kind="kill_worker", endpoint="kill-*", count=1),
        FaultRule(kind="slow_start", endpoint="slow-*", seconds=1.0),
        FaultRule(kind="kill_worker", endpoint="midkill-*", seconds=0.3, count=1),
    ],
)


@pytest.fixture(scope="module")
def faulty_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="module")
def faulty(
    tmp_path_factory: pytest.TempPathFactory, faulty_logs: Path
) -> Iterator[tuple[Clients, Deployer]]:
    with LocalStack(faults=PLAN, log_dir=faulty_logs) as stack:
        clients = Clients(stack.url, retries={"total_max_attempts": 1, "mode": "standard"})
        deployer = Deployer(clients, tmp_path_factory.mktemp("faulty"))
        yield clients, deployer
        deployer.cleanup()


def _fired(index: int) -> int:
    return PLAN.fired().get(f"{index}:{PLAN.rules[index].kind}", 0)


def test_throttle_an_s3_call_once(faulty: tuple[Clients, Deployer]) -> None:
    clients, deployer = faulty
    with pytest.raises(clients.s3.exceptions.ClientError) as info:
        clients.s3.put_object(Bucket=deployer.bucket, Key="a.txt", Body=b"a")
    assert info.value.response["Error"]["Code"] == "SlowDown"
    clients.s3.put_object(Bucket=deployer.bucket, Key="a.txt", Body=b"a")  # count=1: now fine
    assert _fired(0) == 1


def test_server_error(faulty: tuple[Clients, Deployer]) -> None:
    clients, _ = faulty
    with pytest.raises(clients.sns.exceptions.ClientError) as info:
        clients.sns.list_topics()
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert "Topics" in clients.sns.list_topics()


def test_latency_delays_but_answers(faulty: tuple[Clients, Deployer]) -> None:
    clients, _ = faulty
    before = _fired(3)
    sts = boto3.client(
        "sts",
        endpoint_url=clients.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    assert sts.get_caller_identity()["Account"] == "123456789012"
    assert _fired(3) == before + 1


def test_runtime_throttling_and_dropped_notification(faulty: tuple[Clients, Deployer]) -> None:
    clients, deployer = faulty
    deployed = deployer.deploy("echo", prefix="drop")
    assert deployed.notifications is not None
    with pytest.raises(clients.rt.exceptions.ClientError) as info:
        clients.rt.invoke_endpoint_async(EndpointName=deployed.name, Body=b"{}")
    assert info.value.response["Error"]["Code"] == "ThrottlingException"
    dropped = clients.rt.invoke_endpoint_async(EndpointName=deployed.name, Body=b'{"value": 1}')
    deployed.output(clients, dropped["OutputLocation"])  # the work itself was done
    kept = clients.rt.invoke_endpoint_async(EndpointName=deployed.name, Body=b'{"value": 2}')
    deployed.notifications.wait_for(kept["InferenceId"])
    deployed.notifications.drain(wait=0)
    assert dropped["InferenceId"] not in deployed.notifications.seen
    assert _fired(4) == 1


def _killed_then_recovered(
    faulty: tuple[Clients, Deployer], prefix: str, payload: bytes
) -> tuple[str, bytes]:
    """Deploy `<prefix>-...`, send `payload` (the kill_worker fault fires on it): it fails;
    the next request is served by the restarted model server. (endpoint, failure object)."""
    clients, deployer = faulty
    deployed = deployer.deploy("echo", prefix=prefix)
    assert deployed.notifications is not None
    killed = clients.rt.invoke_endpoint_async(EndpointName=deployed.name, Body=payload)
    assert deployed.notifications.wait_for(killed["InferenceId"])["invocationStatus"] == "Failed"
    after = clients.rt.invoke_endpoint_async(EndpointName=deployed.name, Body=b'{"value": 2}')
    assert deployed.notifications.wait_for(after["InferenceId"])["invocationStatus"] == "Completed"
    assert json.loads(deployed.output(clients, after["OutputLocation"])[0])["echo"] == 2
    return deployed.name, deployed.output(clients, killed["FailureLocation"])[0]


def test_killed_worker_fails_the_invocation_and_restarts(
    faulty: tuple[Clients, Deployer], faulty_logs: Path
) -> None:
    name, failure = _killed_then_recovered(faulty, "kill", b'{"value": 1}')
    assert b"crashed or was killed" in failure
    assert _fired(5) == 1
    # The stack's log_dir has the endpoint's log as files too.
    logs = "".join(p.read_text() for p in (faulty_logs / name).glob("i-*.log"))
    assert "fault injected: killing model server" in logs
    assert "restarted and passed /ping" in logs


def test_worker_killed_in_the_middle_of_a_prediction(faulty: tuple[Clients, Deployer]) -> None:
    # Killed 0.3 s into a prediction that would take 10 minutes: it cannot finish first.
    _, failure = _killed_then_recovered(faulty, "midkill", b'{"sleep": 600}')
    assert b"crashed or was killed" in failure
    assert _fired(7) == 1


def test_slow_cold_start_keeps_the_endpoint_creating(faulty: tuple[Clients, Deployer]) -> None:
    clients, deployer = faulty
    deployed = deployer.create("echo", prefix="slow")
    assert clients.sm.describe_endpoint(EndpointName=deployed.name)["EndpointStatus"] == "Creating"
    described = deployer.wait(deployed.name)
    assert described["EndpointStatus"] == "InService"
    # It stayed Creating through the 1 s slow start (a lower bound by construction).
    assert (described["LastModifiedTime"] - described["CreationTime"]).total_seconds() >= 1.0
    assert _fired(6) == 1


def _http(method: str, url: str, body: bytes | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_fault_plan_switched_over_http_on_a_running_stack() -> None:
    with LocalStack() as stack:
        clients = Clients(stack.url, retries={"total_max_attempts": 1, "mode": "standard"})
        plan = b"seed: 1\nrules:\n  - {kind: throttle, api: 'sns:ListTopics', count: 1}\n"
        assert _http("PUT", f"{stack.url}/_checkrun/faults", plan)[0] == 200
        with pytest.raises(clients.sns.exceptions.ClientError) as info:
            clients.sns.list_topics()
        assert info.value.response["Error"]["Code"] == "Throttling"
        status, current = _http("GET", f"{stack.url}/_checkrun/faults")
        assert (status, current["fired"]) == (200, {"0:throttle": 1})
        assert _http("DELETE", f"{stack.url}/_checkrun/faults") == (200, {"plan": None})
        assert "Topics" in clients.sns.list_topics()
        status, problem = _http("PUT", f"{stack.url}/_checkrun/faults", b"rules: [{kind: x}]")
        assert status == 400 and "invalid fault plan" in problem["message"]
        assert _http("GET", f"{stack.url}/_checkrun/health")[1]["status"] == "ok"

"""CloudWatch Logs delivery of the local stack: complete under concurrent load, flushed on
DeleteEndpoint and on stop, failures surfaced in the stack's own log; queued jobs of a deleted
endpoint fail visibly."""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from local_stack_kit import Clients, Deployer, log_events, log_text, wait_until

from runner.local.async_queue import DELETED_IN_FLIGHT, DELETED_QUEUED
from runner.local.stack import LocalStack

REGION = "us-east-1"


def _submit(clients: Clients, name: str, payload: object) -> dict[str, Any]:
    return dict(
        clients.rt.invoke_endpoint_async(
            EndpointName=name, Body=json.dumps(payload).encode(), ContentType="application/json"
        )
    )


def test_every_log_event_arrives_under_concurrent_load(
    clients: Clients, deployer: Deployer, local_stack: LocalStack
) -> None:
    """8 clients submit 200 invocations to a 2-instance endpoint while 4 threads log 2,000
    events straight into 5 streams and 3 threads keep reading both log groups."""
    deployed = deployer.deploy("echo", instances=2, max_concurrent=4, notify=False)
    telemetry = local_stack.runtime.telemetry
    given_up, rejected = telemetry.given_up, telemetry.rejected
    direct_group = f"/checkrun/it/hammer-{uuid.uuid4().hex[:8]}"
    endpoint_group = f"/aws/sagemaker/Endpoints/{deployed.name}"
    ids: list[str] = []
    ids_lock = threading.Lock()
    reading = threading.Event()
    errors: list[BaseException] = []

    def submitter(index: int) -> None:
        for n in range(25):
            answer = _submit(clients, deployed.name, {"value": f"{index}-{n}"})
            with ids_lock:
                ids.append(answer["InferenceId"])

    def logger(index: int) -> None:
        for n in range(500):
            telemetry.log(REGION, direct_group, f"s{n % 5}", f"hammer {index}-{n}")

    def reader() -> None:
        readers = Clients(clients.url)
        while not reading.is_set():
            log_events(readers, direct_group)
            log_events(readers, endpoint_group)

    def guarded(target: Any, *args: Any) -> threading.Thread:
        def run() -> None:
            try:
                target(*args)
            except BaseException as exc:
                errors.append(exc)

        return threading.Thread(target=run)

    readers = [guarded(reader) for _ in range(3)]
    writers = [guarded(submitter, i) for i in range(8)] + [guarded(logger, i) for i in range(4)]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    try:
        expected = {f"inference {i} completed" for i in ids}

        def all_completions() -> bool:
            messages = {e["message"].split(" -> ")[0] for e in log_events(clients, endpoint_group)}
            return expected <= messages

        wait_until(all_completions, "every completion logged", timeout=120)
        wait_until(
            lambda: len(log_events(clients, direct_group)) >= 2000,
            "every direct event shipped",
            timeout=120,
        )
    finally:
        reading.set()
        for thread in readers:
            thread.join()
    assert errors == []
    assert len(ids) == 200
    completions = Counter(
        e["message"].split(" -> ")[0]
        for e in log_events(clients, endpoint_group)
        if " completed -> " in e["message"]
    )
    assert set(completions) == expected and set(completions.values()) == {1}  # once each
    direct = log_events(clients, direct_group)
    assert Counter(e["message"] for e in direct) == Counter(
        f"hammer {i}-{n}" for i in range(4) for n in range(500)
    )
    for stream in {e["logStreamName"] for e in direct}:
        times = [e["timestamp"] for e in direct if e["logStreamName"] == stream]
        assert times == sorted(times)
    assert (telemetry.given_up, telemetry.rejected) == (given_up, rejected)


def test_delete_endpoint_fails_queued_jobs_visibly_and_flushes_its_logs(
    clients: Clients, deployer: Deployer, local_stack: LocalStack
) -> None:
    deployed = deployer.deploy("echo", max_concurrent=1)
    assert deployed.notifications is not None
    jobs = local_stack.runtime.endpoints[(deployed.name, REGION)].jobs
    running = _submit(clients, deployed.name, {"sleep": 600})
    wait_until(lambda: jobs.in_flight == 1, "the long job is in flight")
    queued = [_submit(clients, deployed.name, {"value": n}) for n in range(3)]
    clients.sm.delete_endpoint(EndpointName=deployed.name)

    # Once DeleteEndpoint has answered, every job has its failure object and the endpoint's
    # last log events are in CloudWatch Logs: nothing to wait for.
    for answer, reason in [(running, DELETED_IN_FLIGHT)] + [(a, DELETED_QUEUED) for a in queued]:
        bucket, key = answer["FailureLocation"][5:].split("/", 1)
        failure = json.loads(clients.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        assert failure["message"] == reason
        bucket, key = answer["OutputLocation"][5:].split("/", 1)
        assert "Contents" not in clients.s3.list_objects_v2(Bucket=bucket, Prefix=key)
    text = log_text(clients, deployed.name)
    assert "endpoint deleted: 3 queued request(s) failed" in text
    assert f"endpoint {deployed.name} stopped" in text
    for answer in queued:
        assert f"inference {answer['InferenceId']} failed" in text
    for answer, reason in [(running, DELETED_IN_FLIGHT)] + [(a, DELETED_QUEUED) for a in queued]:
        message = deployed.notifications.wait_for(answer["InferenceId"])
        assert (message["invocationStatus"], message["failureReason"]) == ("Failed", reason)


def test_stop_flushes_and_a_delivery_failure_is_in_the_stacks_own_log(tmp_path: Path) -> None:
    from moto.backends import get_backend

    group = f"/checkrun/it/stop-{uuid.uuid4().hex[:8]}"
    with LocalStack(log_dir=tmp_path) as stack:
        telemetry = stack.runtime.telemetry
        telemetry.log(REGION, group, "s", "logged just before stop")
        telemetry.log("xx-nowhere-1", group, "s", "to a region CloudWatch Logs does not have")
    streams = get_backend("logs")["123456789012"][REGION].groups[group].streams
    assert [e.message for e in streams["s"].events] == ["logged just before stop"]
    own_log = (tmp_path / "stack.log").read_text()
    assert f"gave up on 1 event(s) of {group} stream s after 5 attempts: KeyError" in own_log
    assert "to a region CloudWatch Logs does not have" in own_log

"""Benchmark of the local stack (not collected by pytest): run it directly.

    .venv/bin/python tests/bench/bench_local_stack.py [--samples 200] [--burst 1000]

1. Latency: one InvokeEndpointAsync at a time on a trivial handler; time from the submit call
   to the success notification received on an SNS-subscribed SQS queue (long poll). p50/p95.
2. Burst: `--burst` invocations submitted at once to an endpoint with
   MaxConcurrentInvocationsPerInstance=4 (one instance); time until every notification is
   received (the consumer deletes in batches of 10 to keep the queue shallow).
3. Where the time goes: the runtime's own per-phase timings for the burst, from its counters.
4. Log delivery (in-process stack): 40 log groups x 3 streams x 300 events logged from 40
   threads while 8 clients keep reading the groups with FilterLogEvents; time from the last
   event logged until every event is readable.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from runner.local.stack import LocalStack
from runner.model import pack_model

MODEL = Path(__file__).parents[1] / "fixtures" / "models" / "echo"
DEPLOY_TIMES: list[float] = []


def _clients(url: str) -> dict[str, Any]:
    session = boto3.session.Session(
        region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    config = Config(max_pool_connections=32, retries={"mode": "standard"})
    return {
        name: session.client(name, endpoint_url=url, config=config)
        for name in ("s3", "sagemaker", "sagemaker-runtime", "sns", "sqs", "logs")
    }


def _deploy(c: dict[str, Any], bucket: str, archive: str, max_concurrent: int) -> tuple[str, str]:
    """An async endpoint notifying an SNS topic subscribed by an SQS queue (raw delivery)."""
    name = f"bench-{uuid.uuid4().hex[:8]}"
    topic = c["sns"].create_topic(Name=name)["TopicArn"]
    queue_url = c["sqs"].create_queue(QueueName=name)["QueueUrl"]
    arn = c["sqs"].get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    c["sns"].subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn["Attributes"]["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
    )
    c["sagemaker"].create_model(
        ModelName=name,
        ExecutionRoleArn="arn:aws:iam::123456789012:role/bench",
        PrimaryContainer={"Image": "bench", "ModelDataUrl": archive},
    )
    c["sagemaker"].create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": name,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
        AsyncInferenceConfig={
            "ClientConfig": {"MaxConcurrentInvocationsPerInstance": max_concurrent},
            "OutputConfig": {
                "S3OutputPath": f"s3://{bucket}/{name}/out",
                "S3FailurePath": f"s3://{bucket}/{name}/failed",
                "NotificationConfig": {"SuccessTopic": topic, "ErrorTopic": topic},
            },
        },
    )
    started = time.perf_counter()
    c["sagemaker"].create_endpoint(EndpointName=name, EndpointConfigName=name)
    while c["sagemaker"].describe_endpoint(EndpointName=name)["EndpointStatus"] == "Creating":
        time.sleep(0.02)
    DEPLOY_TIMES.append(time.perf_counter() - started)
    # Skip the TestNotification.
    c["sqs"].purge_queue(QueueUrl=queue_url)
    return name, queue_url


def _receive(c: dict[str, Any], queue_url: str, wait: int = 2) -> list[dict[str, Any]]:
    answer = c["sqs"].receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait
    )
    messages = answer.get("Messages", [])
    if messages:
        c["sqs"].delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ],
        )
    return [json.loads(m["Body"]) for m in messages]


def latency(c: dict[str, Any], name: str, queue_url: str, samples: int) -> list[float]:
    times = []
    for i in range(samples + 5):
        started = time.perf_counter()
        answer = c["sagemaker-runtime"].invoke_endpoint_async(
            EndpointName=name,
            Body=json.dumps({"value": i}).encode(),
            ContentType="application/json",
        )
        wanted = answer["InferenceId"]
        while True:
            found = [m for m in _receive(c, queue_url) if m.get("inferenceId") == wanted]
            if found:
                break
        assert found[0]["invocationStatus"] == "Completed", found[0]
        if i >= 5:  # warm-up
            times.append(time.perf_counter() - started)
    return times


def burst(
    c: dict[str, Any], name: str, queue_url: str, count: int, submitters: int = 1
) -> dict[str, float]:
    pending: set[str] = set()
    done = threading.Event()
    received: set[str] = set()
    failed = 0

    def consume() -> None:
        nonlocal failed
        while not done.is_set():
            for message in _receive(c, queue_url, wait=1):
                received.add(message["inferenceId"])
                failed += message["invocationStatus"] != "Completed"
            if len(received) >= count:
                done.set()

    started = time.perf_counter()
    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()

    def submit(indexes: range) -> None:
        for i in indexes:
            answer = c["sagemaker-runtime"].invoke_endpoint_async(
                EndpointName=name,
                Body=json.dumps({"value": i}).encode(),
                ContentType="application/json",
            )
            pending.add(answer["InferenceId"])

    threads = [
        threading.Thread(target=submit, args=(range(k, count, submitters),))
        for k in range(submitters)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    submitted = time.perf_counter() - started
    done.wait(120)
    total = time.perf_counter() - started
    done.set()
    consumer.join(5)
    return {
        "submitted_s": submitted,
        "all_notified_s": total,
        "notified": len(received & pending),
        "failed": failed,
    }


def deep_queue(
    c: dict[str, Any], stack: LocalStack, name: str, queue_url: str, count: int
) -> dict[str, float]:
    """No consumer while the burst runs: the SQS queue grows to `count`, then is drained."""
    started = time.perf_counter()
    for i in range(count):
        c["sagemaker-runtime"].invoke_endpoint_async(
            EndpointName=name,
            Body=json.dumps({"value": i}).encode(),
            ContentType="application/json",
        )
    endpoint = stack.runtime.endpoints[(name, "us-east-1")]
    while endpoint.backlog():
        time.sleep(0.01)
    processed = time.perf_counter() - started
    drain_started = time.perf_counter()
    seen = 0
    while seen < count:
        seen += len(_receive(c, queue_url, wait=1))
    return {"processed_s": processed, "drain_s": time.perf_counter() - drain_started}


def log_delivery(stack: LocalStack, url: str, groups: int = 40, readers: int = 8) -> str:
    """Section 4: how long after the last log() every event can be read back."""
    telemetry = stack.runtime.telemetry
    prefix = f"/checkrun/bench/{uuid.uuid4().hex[:8]}"
    streams, events = 3, 300
    total = groups * streams * events
    done = threading.Event()

    def read() -> None:
        logs = _clients(url)["logs"]
        while not done.is_set():
            for g in range(groups):
                with contextlib.suppress(Exception):
                    logs.filter_log_events(logGroupName=f"{prefix}/{g}", limit=100)

    def write(g: int) -> None:
        for n in range(events):
            for s in range(streams):
                telemetry.log("us-east-1", f"{prefix}/{g}", f"s{s}", f"event {n} " + "x" * 200)

    reading = [threading.Thread(target=read) for _ in range(readers)]
    writing = [threading.Thread(target=write, args=(g,)) for g in range(groups)]
    for thread in reading + writing:
        thread.start()
    for thread in writing:
        thread.join()
    last_logged = time.perf_counter()
    shipped = telemetry.shipped
    while telemetry.shipped - shipped < total and time.perf_counter() - last_logged < 120:
        time.sleep(0.01)
    delivered_s = time.perf_counter() - last_logged
    done.set()
    for thread in reading:
        thread.join()
    logs = _clients(url)["logs"]
    readable = sum(
        len(logs.filter_log_events(logGroupName=f"{prefix}/{g}")["events"]) for g in range(groups)
    )
    return (
        f"log delivery: {total} events ({groups} groups x {streams} streams) logged by "
        f"{groups} threads while {readers} clients read; all shipped {delivered_s:.2f} s after "
        f"the last one was logged; {readable} readable; given up {telemetry.given_up}, "
        f"rejected {telemetry.rejected}"
    )


def _phases(stack: LocalStack | None) -> None:
    """Print and reset the runtime's per-phase timings (in-process stack only)."""
    if stack is None:
        return
    for phase, (n, mean_ms) in stack.runtime.phase_summary().items():
        print(f"  runtime phase {phase:<14} n={n:<5} mean {mean_ms:.2f} ms")
    for endpoint in list(stack.runtime.endpoints.values()):
        endpoint.phases.clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument(
        "--url", help="measure a stack in another process (`checkrun local`) instead of in-process"
    )
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as scope:
        stack = None if args.url else scope.enter_context(LocalStack())
        url = args.url or stack.url  # type: ignore[union-attr]
        tmp = scope.enter_context(tempfile.TemporaryDirectory())
        c = _clients(url)
        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        c["s3"].create_bucket(Bucket=bucket)
        archive = pack_model(MODEL, Path(tmp) / "model.tar.gz")
        c["s3"].upload_file(str(archive), bucket, "model.tar.gz")
        model_uri = f"s3://{bucket}/model.tar.gz"
        where = "separate process" if args.url else "in-process"
        print(f"stack: {where} ({url})")

        name, queue_url = _deploy(c, bucket, model_uri, max_concurrent=4)
        times = sorted(latency(c, name, queue_url, args.samples))
        p50 = statistics.median(times) * 1000
        p95 = times[int(len(times) * 0.95) - 1] * 1000
        print(
            f"latency submit -> SQS-received notification ({len(times)} samples): "
            f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {times[-1] * 1000:.1f} ms"
        )
        _phases(stack)

        for submitters in (1, 4):
            name, queue_url = _deploy(c, bucket, model_uri, max_concurrent=4)
            stats = burst(c, name, queue_url, args.burst, submitters=submitters)
            print(
                f"burst of {args.burst} (4 concurrent, 1 instance, {submitters} client "
                f"thread(s)): submitted in {stats['submitted_s']:.2f} s, all notified in "
                f"{stats['all_notified_s']:.2f} s ({stats['notified']} notified, "
                f"{stats['failed']} failed)"
            )
            _phases(stack)

        if stack is not None:
            name, queue_url = _deploy(c, bucket, model_uri, max_concurrent=4)
            deep = deep_queue(c, stack, name, queue_url, args.burst)
            print(
                f"deep queue: {args.burst} processed with nobody reading the SQS queue in "
                f"{deep['processed_s']:.2f} s; draining {args.burst} messages (batches of 10) "
                f"took {deep['drain_s']:.2f} s"
            )
            _phases(stack)
        deploys = ", ".join(f"{t:.2f}" for t in DEPLOY_TIMES)
        print(f"CreateEndpoint -> InService (1 instance): {deploys} s")
        if stack is not None:
            print(log_delivery(stack, url))
    return 0


if __name__ == "__main__":
    sys.exit(main())

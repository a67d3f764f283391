"""Helpers for the local-stack integration tests: clients, model upload, deploy, notifications.

Everything goes over HTTP to the session's `local_stack` with plain boto3. Waits poll for a
condition and return as soon as it holds; their timeouts are ceilings for a loaded machine
(the full suite shares two cores with other work), never the expected duration.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import boto3
from botocore.config import Config

from runner.model import pack_model

MODELS = Path(__file__).parents[2] / "fixtures" / "models"
REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/checkrun-test"

T = TypeVar("T")


def wait_until(condition: Callable[[], T], what: str, timeout: float = 60.0) -> T:
    """Poll `condition` until it returns something truthy (returned); AssertionError naming
    `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not true within {timeout:g}s (last: {value!r})")
        time.sleep(0.05)


def process_alive(pid: int | None) -> bool:
    """Whether process `pid` runs; a zombie (exited, not yet reaped by its new parent after
    an orphaning) counts as gone."""
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def log_events(clients: Clients, group: str) -> list[dict[str, Any]]:
    """Every event of a log group (all streams, all pages); [] while the group does not exist."""
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"logGroupName": group}
    try:
        while True:
            page = clients.logs.filter_log_events(**kwargs)
            events.extend(page["events"])
            if not page.get("nextToken"):
                return events
            kwargs["nextToken"] = page["nextToken"]
    except clients.logs.exceptions.ResourceNotFoundException:
        return []


def log_text(clients: Clients, endpoint: str) -> str:
    """An endpoint's log events (/aws/sagemaker/Endpoints/<name>), one message a line."""
    events = log_events(clients, f"/aws/sagemaker/Endpoints/{endpoint}")
    return "\n".join(e["message"] for e in events)


def wait_for_log(clients: Clients, endpoint: str, needle: str, timeout: float = 60.0) -> str:
    """The endpoint's log text once it contains `needle` (log events are shipped in batches)."""

    def text() -> str:
        found = log_text(clients, endpoint)
        return found if needle in found else ""

    return wait_until(text, f"{needle!r} in the log of {endpoint}", timeout)


class Clients:
    """boto3 clients against one stack (parameter validation off, so tests can send what
    SageMaker's own service would refuse client-side, e.g. a 1 s RequestTTLSeconds)."""

    def __init__(self, url: str, **config: Any) -> None:
        session = boto3.session.Session(
            region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        cfg = Config(parameter_validation=False, **config)
        self.url = url
        self.s3 = session.client("s3", endpoint_url=url, config=cfg)
        self.sm = session.client("sagemaker", endpoint_url=url, config=cfg)
        self.rt = session.client("sagemaker-runtime", endpoint_url=url, config=cfg)
        self.sns = session.client("sns", endpoint_url=url, config=cfg)
        self.sqs = session.client("sqs", endpoint_url=url, config=cfg)
        self.logs = session.client("logs", endpoint_url=url, config=cfg)
        self.cloudwatch = session.client("cloudwatch", endpoint_url=url, config=cfg)


@dataclass
class Notifications:
    """An SNS topic delivering (raw) to an SQS queue; messages collected by inference id."""

    clients: Clients
    topic_arn: str
    queue_url: str
    seen: dict[str, dict[str, Any]] = field(default_factory=dict)
    others: list[dict[str, Any]] = field(default_factory=list)

    def drain(self, wait: float = 0.2) -> None:
        answer = self.clients.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=int(wait)
        )
        messages = answer.get("Messages", [])
        for message in messages:
            body = json.loads(message["Body"])
            if "inferenceId" in body:
                self.seen[body["inferenceId"]] = body
            else:
                self.others.append(body)
        if messages:
            self.clients.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )

    def wait_for(self, inference_id: str, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while inference_id not in self.seen:
            if time.monotonic() > deadline:
                raise AssertionError(f"no notification for {inference_id} within {timeout}s")
            self.drain(wait=1)
        return self.seen[inference_id]


def make_notifications(clients: Clients) -> Notifications:
    name = f"n-{uuid.uuid4().hex[:10]}"
    topic = clients.sns.create_topic(Name=name)["TopicArn"]
    queue_url = clients.sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = clients.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    clients.sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    return Notifications(clients, topic, queue_url)


@dataclass
class Deployed:
    name: str
    bucket: str
    notifications: Notifications | None

    def output(self, clients: Clients, uri: str, timeout: float = 60.0) -> tuple[bytes, str]:
        """Body and content type of an S3 object, waiting for it to appear."""
        bucket, key = uri[5:].split("/", 1)
        deadline = time.monotonic() + timeout
        while True:
            try:
                answer = clients.s3.get_object(Bucket=bucket, Key=key)
                return answer["Body"].read(), answer["ContentType"]
            except clients.s3.exceptions.NoSuchKey:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)


class Deployer:
    """Creates buckets, uploads fixture models and deploys endpoints; deletes them at the end."""

    def __init__(self, clients: Clients, tmp: Path) -> None:
        self.clients = clients
        self.tmp = tmp
        self.bucket = f"checkrun-it-{uuid.uuid4().hex[:12]}"
        clients.s3.create_bucket(Bucket=self.bucket)
        self.endpoints: list[str] = []

    def upload_model(self, fixture: str) -> str:
        archive = pack_model(
            MODELS / fixture, self.tmp / f"{fixture}-{uuid.uuid4().hex[:6]}.tar.gz"
        )
        key = f"models/{archive.name}"
        self.clients.s3.upload_file(str(archive), self.bucket, key)
        return f"s3://{self.bucket}/{key}"

    def create(
        self,
        fixture: str,
        *,
        asynchronous: bool = True,
        instances: int = 1,
        max_concurrent: int | None = 4,
        notify: bool = True,
        include_response_in: list[str] | None = None,
        env: dict[str, str] | None = None,
        image: str = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.1-cpu-py310",
        failure_path: bool = True,
        prefix: str | None = None,
        output_bucket: str | None = None,
    ) -> Deployed:
        """CreateModel + CreateEndpointConfig + CreateEndpoint; does not wait."""
        name = f"{prefix or fixture.replace('_', '-')}-{uuid.uuid4().hex[:8]}"
        sm = self.clients.sm
        sm.create_model(
            ModelName=name,
            ExecutionRoleArn=ROLE,
            PrimaryContainer={
                "Image": image,
                "ModelDataUrl": self.upload_model(fixture),
                "Environment": env or {},
            },
        )
        config: dict[str, Any] = {
            "EndpointConfigName": name,
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "ModelName": name,
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": instances,
                }
            ],
        }
        notifications = make_notifications(self.clients) if notify and asynchronous else None
        if asynchronous:
            out_bucket = output_bucket or self.bucket
            output: dict[str, Any] = {"S3OutputPath": f"s3://{out_bucket}/{name}/out/"}
            if failure_path:
                output["S3FailurePath"] = f"s3://{self.bucket}/{name}/failed"
            if notifications is not None:
                output["NotificationConfig"] = {
                    "SuccessTopic": notifications.topic_arn,
                    "ErrorTopic": notifications.topic_arn,
                }
                if include_response_in:
                    output["NotificationConfig"]["IncludeInferenceResponseIn"] = include_response_in
            async_config: dict[str, Any] = {"OutputConfig": output}
            if max_concurrent:
                async_config["ClientConfig"] = {
                    "MaxConcurrentInvocationsPerInstance": max_concurrent
                }
            config["AsyncInferenceConfig"] = async_config
        sm.create_endpoint_config(**config)
        sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
        self.endpoints.append(name)
        return Deployed(name, self.bucket, notifications)

    def wait(self, name: str, timeout: float = 120.0) -> dict[str, Any]:
        """Poll DescribeEndpoint until it leaves Creating; returns the last description."""
        deadline = time.monotonic() + timeout
        while True:
            described = self.clients.sm.describe_endpoint(EndpointName=name)
            if described["EndpointStatus"] != "Creating" or time.monotonic() > deadline:
                return dict(described)
            time.sleep(0.02)

    def deploy(self, fixture: str, **kwargs: Any) -> Deployed:
        deployed = self.create(fixture, **kwargs)
        described = self.wait(deployed.name)
        assert described["EndpointStatus"] == "InService", described.get("FailureReason")
        return deployed

    def cleanup(self) -> None:
        for name in self.endpoints:
            with contextlib.suppress(self.clients.sm.exceptions.ClientError):
                self.clients.sm.delete_endpoint(EndpointName=name)

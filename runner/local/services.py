"""The AWS services the runtime itself uses, reached through the stack's own API.

The runtime reads models and inputs, writes outputs, publishes notifications and ships logs
and metrics with ordinary boto3 clients pointed at the stack's URL, so what it does is what a
client could see. Its requests carry `X-Checkrun-Internal` so injected faults never hit them.
Logs and metrics are shipped from one background thread in batches, off the invocation path.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from runner.local.stack import INTERNAL_HEADER

DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """'s3://bucket/a/b' -> ('bucket', 'a/b'); ValueError for anything else."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an S3 URI: {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise ValueError(f"S3 URI without a bucket: {uri!r}")
    return bucket, key


def join_s3(prefix: str, *parts: str) -> str:
    """Join an S3 prefix URI and key parts with single slashes."""
    out = prefix.rstrip("/")
    for part in parts:
        if part:
            out += "/" + part.strip("/")
    return out


class Services:
    """boto3 clients against the stack, one per (service, region), created once."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                import boto3
                from botocore.config import Config

                session = boto3.session.Session(region_name=region, **DUMMY_CREDENTIALS)
                client = session.client(
                    service,
                    endpoint_url=self.url,
                    config=Config(
                        max_pool_connections=64,
                        retries={"max_attempts": 2, "mode": "standard"},
                        s3={"addressing_style": "path"},
                    ),
                )
                client.meta.events.register("before-sign.*.*", _mark_internal)
                self._clients[key] = client
            return self._clients[key]

    # The hot path of every async invocation (read input, write output, notify) goes to moto's
    # backends in this process instead of over HTTP: measured, it halves the per-invocation
    # CPU cost (no botocore serialisation, signing or werkzeug parsing on either side), which
    # is what bounds a 1,000-invocation burst on two cores. Same backends, same state: a client
    # sees exactly what an HTTP call would have written. Deploy still reads the endpoint,
    # config, model and ModelDataUrl through the API.

    def get_object(self, region: str, uri: str) -> tuple[bytes, str | None]:
        """Body and Content-Type of an S3 object; LookupError if the bucket or key is missing."""
        bucket, key = parse_s3_uri(uri)
        backend = _s3_backend(region)
        with _BACKEND_LOCK:
            try:
                found = backend.get_object(bucket, key)
            except Exception as exc:  # moto's MissingBucket
                raise LookupError(f"bucket {bucket} does not exist") from exc
            if found is None:
                raise LookupError(f"{uri} does not exist")
            return bytes(found.value), found.metadata.get("Content-Type")

    def put_object(self, region: str, uri: str, body: bytes, content_type: str) -> None:
        """Store an object with its Content-Type, as PutObject does."""
        from moto.s3.utils import metadata_from_headers

        bucket, key = parse_s3_uri(uri)
        backend = _s3_backend(region)
        with _BACKEND_LOCK:
            stored = backend.put_object(bucket, key, body)
            stored.set_metadata(metadata_from_headers({"Content-Type": content_type}))

    def publish(self, region: str, topic_arn: str, message: str) -> None:
        """SNS Publish (moto delivers to subscribed SQS queues synchronously)."""
        from moto.backends import get_backend

        parts = topic_arn.split(":")
        if len(parts) < 6:
            raise LookupError(f"not a topic ARN: {topic_arn}")
        backend = get_backend("sns")[parts[4]][parts[3]]
        with _BACKEND_LOCK:
            backend.publish(message, arn=topic_arn)


_BACKEND_LOCK = threading.Lock()  # moto's backends have no locks of their own


def _s3_backend(region: str) -> Any:
    from moto.backends import get_backend
    from moto.utilities.utils import get_partition

    from runner.local.control import account_id

    return get_backend("s3")[account_id()][get_partition(region)]


def _mark_internal(request: Any, **kwargs: Any) -> None:
    request.headers[INTERNAL_HEADER] = "1"


class Telemetry:
    """Batches CloudWatch Logs events and metrics and ships them every `interval` seconds."""

    def __init__(self, services: Services, interval: float = 0.25) -> None:
        self.services = services
        self.interval = interval
        self._events: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        self._known_streams: set[tuple[str, str, str]] = set()
        self._metric_sources: list[Callable[[], list[tuple[str, str, str, float]]]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="checkrun-telemetry", daemon=True)
        self._thread.start()

    def log(self, region: str, group: str, stream: str, message: str) -> None:
        """Queue one log event (timestamped now)."""
        event = {"timestamp": int(time.time() * 1000), "message": message.rstrip("\n")}
        with self._lock:
            self._events[(region, group, stream)].append(event)

    def add_metric_source(self, source: Callable[[], list[tuple[str, str, str, float]]]) -> None:
        """A callable returning (region, endpoint, metric name, value) tuples at each tick."""
        with self._lock:
            self._metric_sources.append(source)

    def remove_metric_source(self, source: Callable[[], list[tuple[str, str, str, float]]]) -> None:
        with self._lock:
            if source in self._metric_sources:
                self._metric_sources.remove(source)

    def _run(self) -> None:
        last_metrics = 0.0
        while not self._stop.wait(self.interval):
            self.flush()
            if time.monotonic() - last_metrics >= 1.0:
                last_metrics = time.monotonic()
                self._ship_metrics()

    def flush(self) -> None:
        """Ship queued log events now (also called on stop)."""
        with self._lock:
            batches, self._events = self._events, defaultdict(list)
        for (region, group, stream), events in batches.items():
            try:
                self._ship_logs(region, group, stream, events)
            except Exception:
                continue

    def _ship_logs(
        self, region: str, group: str, stream: str, events: list[dict[str, Any]]
    ) -> None:
        logs = self.services.client("logs", region)
        key = (region, group, stream)
        if key not in self._known_streams:
            for call, kwargs in (
                (logs.create_log_group, {"logGroupName": group}),
                (logs.create_log_stream, {"logGroupName": group, "logStreamName": stream}),
            ):
                with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
                    call(**kwargs)
            self._known_streams.add(key)
        events.sort(key=lambda e: e["timestamp"])
        for start in range(0, len(events), 5000):
            logs.put_log_events(
                logGroupName=group, logStreamName=stream, logEvents=events[start : start + 5000]
            )

    def _ship_metrics(self) -> None:
        with self._lock:
            sources = list(self._metric_sources)
        by_region: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for source in sources:
            for region, endpoint, name, value in source():
                by_region[region].append(
                    {
                        "MetricName": name,
                        "Dimensions": [{"Name": "EndpointName", "Value": endpoint}],
                        "Value": value,
                        "Unit": "Count",
                    }
                )
        for region, data in by_region.items():
            try:
                cloudwatch = self.services.client("cloudwatch", region)
                for start in range(0, len(data), 500):
                    cloudwatch.put_metric_data(
                        Namespace="AWS/SageMaker", MetricData=data[start : start + 500]
                    )
            except Exception:
                continue

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.flush()
        self._ship_metrics()

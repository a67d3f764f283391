"""The AWS services the runtime itself uses, reached through the stack's own API.

The runtime reads models and inputs, writes outputs, publishes notifications and ships logs
and metrics with ordinary boto3 clients pointed at the stack's URL, so what it does is what a
client could see. Its requests carry `X-Checkrun-Internal` so injected faults never hit them.
Logs and metrics are shipped by runner/local/telemetry.py, off the invocation path.
"""

from __future__ import annotations

import threading
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


def backend_lock() -> threading.Lock:
    """The lock every in-process write to a moto backend takes (they have none of their own)."""
    return _BACKEND_LOCK


def _s3_backend(region: str) -> Any:
    from moto.backends import get_backend
    from moto.utilities.utils import get_partition

    from runner.local.control import account_id

    return get_backend("s3")[account_id()][get_partition(region)]


def _mark_internal(request: Any, **kwargs: Any) -> None:
    request.headers[INTERNAL_HEADER] = "1"

"""The SageMaker control plane's endpoint state, kept in moto's backend in this process.

moto marks endpoints InService at once and leaves AsyncInferenceConfig out of
DescribeEndpoint (FACTS.md). There is no API to set an endpoint's status, so the local stack
writes moto's endpoint objects directly; every write goes through one lock because moto's
backends have none.
"""

from __future__ import annotations

import os
import threading
from typing import Any

_LOCK = threading.Lock()


def account_id() -> str:
    """moto's account: 123456789012 unless MOTO_ACCOUNT_ID says otherwise."""
    return os.environ.get("MOTO_ACCOUNT_ID", "123456789012")


def _backend(region: str) -> Any:
    from moto.backends import get_backend

    return get_backend("sagemaker")[account_id()][region]


def endpoint_object(name: str, region: str) -> Any | None:
    """moto's FakeEndpoint for `name`, or None."""
    return _backend(region).endpoints.get(name)


def endpoint_config(name: str, region: str) -> dict[str, Any] | None:
    """The endpoint config as DescribeEndpointConfig would answer, or None."""
    backend = _backend(region)
    config = backend.endpoint_configs.get(name)
    return None if config is None else config.response_object


def mark_creating(name: str, region: str) -> None:
    """Creating, plus the config's AsyncInferenceConfig that moto does not copy."""
    with _LOCK:
        endpoint = endpoint_object(name, region)
        if endpoint is None:
            return
        endpoint.endpoint_status = "Creating"
        endpoint.failure_reason = None
        config = _backend(region).endpoint_configs.get(endpoint.endpoint_config_name)
        if config is not None and config.async_inference_config:
            endpoint.async_inference_config = config.async_inference_config


def set_status(name: str, region: str, status: str, reason: str | None = None) -> None:
    """InService / Failed (with FailureReason), if the endpoint still exists."""
    with _LOCK:
        endpoint = endpoint_object(name, region)
        if endpoint is None:
            return
        endpoint.endpoint_status = status
        endpoint.failure_reason = reason[:1024] if reason else None
        from moto.core.utils import utcnow

        endpoint.last_modified_time = utcnow()


def status_of(name: str, region: str) -> str | None:
    endpoint = endpoint_object(name, region)
    return None if endpoint is None else str(endpoint.endpoint_status)

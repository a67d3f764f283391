"""RequestTTLSeconds / InvocationTimeoutSeconds: SageMaker's defaults and ranges (FACTS.md)."""

from __future__ import annotations

import pytest

from runner.local.runtime import header_constraint_error, request_limits


def test_defaults_are_sagemakers() -> None:
    assert request_limits(None, None) == (21600.0, 900.0)


def test_values_in_range_are_kept() -> None:
    assert request_limits("60", "1") == (60.0, 1.0)
    assert request_limits("21600", "3600") == (21600.0, 3600.0)


def test_ttl_below_awss_60_is_accepted_locally() -> None:
    # Deliberate deviation (README, local stack): fast tests let a request expire in 1 s.
    assert request_limits("1", None) == (1.0, 900.0)


@pytest.mark.parametrize(
    ("ttl", "timeout", "needle"),
    [
        ("21601", None, "Value '21601' at 'requestTTLSeconds' failed to satisfy constraint: "),
        ("0", None, "Member must have value greater than or equal to 1"),
        (None, "3601", "Member must have value less than or equal to 3600"),
        (None, "0", "at 'invocationTimeoutSeconds'"),
        ("1.5", None, "Member must be an integer"),
    ],
)
def test_out_of_range_is_a_validation_message(
    ttl: str | None, timeout: str | None, needle: str
) -> None:
    message = request_limits(ttl, timeout)
    assert isinstance(message, str) and needle in message


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("X-Amzn-SageMaker-Inference-Id", "x" * 65, "at 'inferenceId' failed"),
        ("X-Amzn-SageMaker-Inference-Id", " leading-space", "regular expression"),
        ("X-Amzn-SageMaker-InputLocation", "ftp://b/k", "at 'inputLocation'"),
        ("X-Amzn-SageMaker-S3OutputPathExtension", "s3://b/x", "at 's3OutputPathExtension'"),
        ("X-Amzn-SageMaker-Filename", "a.b.c", "at 'filename'"),
        ("X-Amzn-SageMaker-Filename", "x" * 33, "length less than or equal to 32"),
    ],
)
def test_header_constraints_of_the_service_model(key: str, value: str, needle: str) -> None:
    message = header_constraint_error({key: value}.get)
    assert message is not None and needle in message


def test_valid_headers_pass() -> None:
    headers = {
        "X-Amzn-SageMaker-Inference-Id": "x" * 64,
        "X-Amzn-SageMaker-InputLocation": "s3://bucket/in/k.json",
        "X-Amzn-SageMaker-S3OutputPathExtension": "batch-7/part_(1)",
        "X-Amzn-SageMaker-Filename": "r.json",
    }
    assert header_constraint_error(headers.get) is None

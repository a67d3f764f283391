"""RequestTTLSeconds / InvocationTimeoutSeconds: SageMaker's defaults and ranges (FACTS.md)."""

from __future__ import annotations

import pytest

from runner.local.runtime import request_limits


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

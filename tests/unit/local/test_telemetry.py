"""Telemetry's delivery rules, against moto's CloudWatch Logs backend in this process:
failures retried in order, given up only with a report, rejections reported, the shipping
thread surviving any error."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from runner.local.services import Services
from runner.local.telemetry import MAX_ATTEMPTS, Telemetry, put_events

REGION = "us-east-1"
DAY = 24 * 3600.0


def _stored(group: str, stream: str) -> list[tuple[int, str]]:
    from moto.backends import get_backend

    groups = get_backend("logs")["123456789012"][REGION].groups
    if group not in groups or stream not in groups[group].streams:
        return []
    return [(e.timestamp, e.message) for e in groups[group].streams[stream].events]


@pytest.fixture
def reports() -> list[str]:
    return []


@pytest.fixture
def group() -> str:
    return f"/checkrun/unit/{uuid.uuid4().hex[:10]}"


def _telemetry(reports: list[str], **kwargs: Any) -> Telemetry:
    """A Telemetry whose thread never ticks on its own (interval of an hour): flush() drives."""
    return Telemetry(Services("http://127.0.0.1:9"), interval=3600, report=reports.append, **kwargs)


@pytest.fixture
def telemetry(reports: list[str]) -> Iterator[Telemetry]:
    made = _telemetry(reports)
    yield made
    made.stop()


def test_flush_delivers_in_order_and_creates_group_and_stream(
    telemetry: Telemetry, group: str, reports: list[str]
) -> None:
    now = time.time()
    telemetry.log(REGION, group, "s", "second", timestamp=now)
    telemetry.log(REGION, group, "s", "first\n", timestamp=now - 1)
    telemetry.flush()
    assert [m for _, m in _stored(group, "s")] == ["first", "second"]
    assert (telemetry.pending(), telemetry.shipped, reports) == (0, 2, [])


def test_a_failing_batch_is_retried_ahead_of_newer_events(group: str, reports: list[str]) -> None:
    failures = [RuntimeError("backend busy"), RuntimeError("backend busy")]

    def flaky(region: str, grp: str, stream: str, events: list[dict[str, Any]]) -> int:
        if failures:
            raise failures.pop()
        return put_events(region, grp, stream, events)

    telemetry = _telemetry(reports, put=flaky)
    try:
        telemetry.log(REGION, group, "s", "old")
        telemetry.flush()  # fails: kept
        telemetry.log(REGION, group, "s", "new")
        assert telemetry.pending() == 2 and _stored(group, "s") == []
        telemetry.flush()  # fails again: kept
        telemetry.flush()  # delivered
        assert [m for _, m in _stored(group, "s")] == ["old", "new"]
        assert reports == [
            f"log shipping: {group} stream s delivered after 2 failed attempt(s) "
            "(RuntimeError: backend busy)"
        ]
        assert telemetry.given_up == 0
    finally:
        telemetry.stop()


def test_a_batch_that_keeps_failing_is_reported_not_dropped_silently(
    telemetry: Telemetry, group: str, reports: list[str]
) -> None:
    telemetry.log("xx-nowhere-1", group, "s", "nowhere to go")
    for _ in range(MAX_ATTEMPTS - 1):
        telemetry.flush()
        assert telemetry.pending() == 1 and reports == []
    telemetry.flush()
    assert (telemetry.pending(), telemetry.given_up) == (0, 1)
    assert reports == [
        f"log shipping: gave up on 1 event(s) of {group} stream s after {MAX_ATTEMPTS} "
        "attempts: KeyError: 'xx-nowhere-1'; first event: 'nowhere to go'"
    ]


def test_events_cloudwatch_rejects_are_reported(
    telemetry: Telemetry, group: str, reports: list[str]
) -> None:
    now = time.time()
    telemetry.log(REGION, group, "s", "15 days old", timestamp=now - 15 * DAY)
    telemetry.log(REGION, group, "s", "now", timestamp=now)
    telemetry.log(REGION, group, "s", "3 hours ahead", timestamp=now + 3 * 3600)
    telemetry.flush()
    assert [m for _, m in _stored(group, "s")] == ["now"]
    assert (telemetry.shipped, telemetry.rejected) == (1, 2)
    assert reports == [
        f"log shipping: CloudWatch Logs rejected 2 event(s) of {group} stream s "
        "(timestamps older than 14 days or more than 2 hours ahead)"
    ]


def test_the_shipping_thread_survives_errors(group: str, reports: list[str]) -> None:
    def broken_source() -> list[tuple[str, str, str, float]]:
        raise RuntimeError("metric source broke")

    telemetry = Telemetry(Services("http://127.0.0.1:9"), interval=0.01, report=reports.append)
    try:
        telemetry.add_metric_source(broken_source)
        deadline = time.monotonic() + 60
        while not any("metric source broke" in r for r in reports):
            assert time.monotonic() < deadline, "the error was never reported"
            time.sleep(0.01)
        telemetry.log(REGION, group, "s", "after the error")
        while not _stored(group, "s"):
            assert time.monotonic() < deadline, "the thread stopped shipping"
            time.sleep(0.01)
        assert "log shipping: unexpected error RuntimeError('metric source broke')" in reports[0]
    finally:
        telemetry.remove_metric_source(broken_source)
        telemetry.stop()


def test_stop_ships_what_is_left(group: str, reports: list[str]) -> None:
    telemetry = _telemetry(reports)
    telemetry.log(REGION, group, "s", "last words")
    telemetry.stop()
    assert [m for _, m in _stored(group, "s")] == ["last words"]

"""Under injected faults: throttling never fails a step, dropped notifications fall back to S3."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.actions.aws import clients
from runner.actions.cleanup import cleanup_ledger
from runner.local.faults import FaultPlan, FaultRule
from runner.local.stack import LocalStack


@pytest.fixture(scope="module")
def faulty_stack() -> Iterator[LocalStack]:
    plan = FaultPlan(
        seed=3,
        rules=[
            FaultRule(kind="throttle", api="sagemaker-runtime:InvokeEndpointAsync", count=1),
            FaultRule(kind="drop_notification", endpoint="it-dropped-*", rate=1.0),
        ],
    )
    stack = LocalStack(faults=plan).start()
    try:
        yield stack
    finally:
        stack.stop()


def test_throttling_and_dropped_notifications_never_fail_the_wait(
    faulty_stack: LocalStack, new_run: Any, deploy_stylematch: Any, tmp_path: Path
) -> None:
    run, call = new_run(tmp_path, faulty_stack)
    try:
        endpoint = deploy_stylematch(call, run, "it-f", "it-dropped")[1]["EndpointName"]
        batch = call(
            "sagemaker.invoke_async",
            endpoint=endpoint,
            body_file="payloads/shirt.jpg",
            content_type="image/jpeg",
            count=6,
        )
        assert batch["accepted"] == 6 and batch["errors"] == []
        assert batch["retries"] > 0  # throttled, retried by botocore's adaptive mode
        waited = call("sagemaker.wait_result", jobs=batch["jobs"], timeout=60)
        assert waited["completed"] == 6
        assert {r["detected_by"] for r in waited["results"]} == {"s3"}
    finally:
        report = cleanup_ledger(run.ledger, clients(run))
        run.exit_stack.close()
    assert report.remaining == []

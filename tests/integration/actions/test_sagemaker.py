"""sagemaker.*, sns.*, logs.* and cleanup against the local stack (one shared async endpoint)."""

from __future__ import annotations

import base64
import json
import tarfile
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from runner.actions.aws import clients
from runner.actions.cleanup import cleanup_ledger
from runner.engine.context import RunContext
from runner.errors import ActionError

Call = Any


@pytest.fixture(scope="module")
def shared(
    new_run: Any, deploy_stylematch: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """One run with the StyleMatch model packaged and an async endpoint deployed."""
    run, call = new_run(tmp_path_factory.mktemp("sm"))
    pkg, deployed = deploy_stylematch(call, run, "it-sm", "it-async", max_concurrent_invocations=2)
    try:
        yield run, call, pkg, deployed
    finally:
        report = cleanup_ledger(run.ledger, clients(run))
        run.exit_stack.close()
        assert report.remaining == [] and report.failed == []


def test_package_model_runs_build_py_and_leaves_it_out(shared: Any, tmp_path: Path) -> None:
    run, _call, pkg, _ = shared
    assert "catalog.npz" in pkg["files"] and "build.py" not in pkg["files"]
    s3 = clients(run).client("s3")
    body = s3.get_object(Bucket="it-sm", Key=pkg["model_data"].split("/", 3)[3])["Body"].read()
    (tmp_path / "m.tar.gz").write_bytes(body)
    with tarfile.open(tmp_path / "m.tar.gz") as tar:
        assert "code/inference.py" in tar.getnames()


def test_deploy_async_is_in_service_with_info_file_and_topics(shared: Any) -> None:
    run, _call, _pkg, deployed = shared
    assert deployed["EndpointStatus"] == "InService"
    info = json.loads(Path(deployed["info_file"]).read_text())
    assert info["async_config"]["sns_topic_arn"].startswith("arn:aws:sns:")
    assert info["async_config"]["queue_url"]
    kinds = {r.kind for r in run.ledger.all()}
    assert {"sagemaker:endpoint", "sns:topic", "sqs:queue", "sns:subscription"} <= kinds


def submit_and_wait(shared: Any, payload: str) -> tuple[Any, Any]:
    """invoke_async of `payloads/<payload>` (a JPEG) on the shared endpoint, then wait_result."""
    _run, call, _pkg, deployed = shared
    job = call(
        "sagemaker.invoke_async",
        endpoint=deployed["EndpointName"],
        body_file=f"payloads/{payload}",
        content_type="image/jpeg",
    )
    return job, call("sagemaker.wait_result", job=job, timeout=60)


def test_invoke_async_then_wait_result_by_notification(shared: Any) -> None:
    job, result = submit_and_wait(shared, "shirt.jpg")
    assert job["OutputLocation"].endswith(".out") and job["input_uploaded"]
    assert result["since_submit"] >= 0
    assert result["status"] == "Completed"
    assert result["detected_by"] == "notification"
    assert len(result["output"]["recommendations"]) == 5
    assert all(0 <= r["score"] <= 1 for r in result["output"]["recommendations"])


def test_invalid_image_fails_with_error_object_and_error_notification(shared: Any) -> None:
    call = shared[1]
    job, result = submit_and_wait(shared, "invalid.jpg")
    assert result["status"] == "Failed"
    assert "not a decodable image" in result["failure"]
    note = call("sns.expect_notification", job=job, status="Failed", within=60)
    assert note["failure_reason"].startswith("ClientError")


def test_missing_endpoint_is_the_runtime_validation_error(shared: Any) -> None:
    _run, call, _pkg, _deployed = shared
    with pytest.raises(ActionError) as info:
        call("sagemaker.invoke_async", endpoint="no-such-endpoint", body='{"a": 1}')
    assert info.value.code == "ValidationError"
    assert info.value.message == "Endpoint no-such-endpoint of account 123456789012 not found."


def test_concurrent_jobs_complete_within_the_concurrency_limit(shared: Any) -> None:
    run, call, _pkg, deployed = shared
    image = (run.checklist_path.parent / "payloads" / "shirt.jpg").read_bytes()
    # Each request holds the model 0.3 s, so six of them contend for the limit of 2.
    body = json.dumps({"image": base64.b64encode(image).decode(), "hold_seconds": 0.3})
    batch = call(
        "sagemaker.invoke_async",
        endpoint=deployed["EndpointName"],
        body=body,
        content_type="application/json",
        count=6,
    )
    assert batch["accepted"] == 6 and batch["errors"] == []
    waited = call("sagemaker.wait_result", jobs=batch["jobs"], timeout=60)
    assert waited["completed"] == 6
    assert 1 <= waited["max_concurrency_observed"] <= 2
    assert min(waited["since_submit_all"]) >= 0


def test_describe_endpoint_config_shows_async_config(shared: Any) -> None:
    _run, call, _pkg, deployed = shared
    cfg = call("sagemaker.describe_endpoint_config", endpoint=deployed["EndpointName"])
    assert cfg["ProductionVariants"][0]["InstanceType"] == "ml.m5.large"
    assert cfg["AsyncInferenceConfig"]["ClientConfig"]["MaxConcurrentInvocationsPerInstance"] == 2
    desc = call("sagemaker.describe_endpoint", endpoint=deployed["EndpointName"])
    assert desc["EndpointStatus"] == "InService"


def test_logs_expect_finds_present_and_rejects_forbidden_patterns(
    call: Call, run: RunContext
) -> None:
    logs = clients(run).client("logs")
    group = f"/checkrun/it/{run.run_id}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[
            {"timestamp": now, "message": "model loaded"},
            {"timestamp": now + 1, "message": "inference 1 completed"},
        ],
    )
    ok = call("logs.expect", log_group=group, present=["model loaded", "completed"], timeout=5)
    assert ok["present"] == {"model loaded": 1, "completed": 1} and ok["events"] == 2
    with pytest.raises(ActionError) as info:
        call("logs.expect", log_group=group, absent=["(?i)LOADED"], timeout=0)
    assert info.value.code == "LogsMismatch"
    assert info.value.evidence["unexpected"] == ["(?i)LOADED"]
    judged = call("logs.expect", log_group=group, absent=["(?i)LOADED"], timeout=0, fail=False)
    assert judged["unexpected_lines"] == ["model loaded"] and not judged["ok"]
    # A line delivered after the step started is waited for (deadline), not missed.
    since = datetime.now(timezone.utc)
    late = threading.Timer(
        0.5,
        lambda: logs.put_log_events(
            logGroupName=group,
            logStreamName="s",
            logEvents=[{"timestamp": int(time.time() * 1000), "message": "late ERROR line"}],
        ),
    )
    late.start()
    found = call(
        "logs.expect", log_group=group, present=["late"], absent=["ERROR"], since=since.isoformat(),
        skew_seconds=0, timeout=30, fail=False,
    )  # fmt: skip
    late.join()
    assert found["present"] == {"late": 1} and found["unexpected_lines"] == ["late ERROR line"]
    assert found["events"] == 1  # skew_seconds=0: the earlier lines are not read
    logs.delete_log_group(logGroupName=group)


def test_wait_result_without_notifications_uses_s3(
    call: Call, run: RunContext, deploy_stylematch: Any
) -> None:
    _pkg, deployed = deploy_stylematch(call, run, "it-sm2", "it-quiet", notifications=False)
    endpoint = deployed["EndpointName"]
    job = call("sagemaker.invoke_async", endpoint=endpoint, body_file="payloads/shirt.jpg")
    result = call("sagemaker.wait_result", job=job, timeout=60)
    assert result["status"] == "Completed" and result["detected_by"] == "s3"
    assert result["s3_requests"] >= 2  # at least one HEAD and the GET
    deleted = call("sagemaker.delete", endpoint=endpoint)
    assert f"endpoint:{endpoint}" in deleted["deleted"]
    with pytest.raises(ActionError) as info:
        call("sagemaker.describe_endpoint", endpoint=endpoint)
    assert info.value.code == "ValidationException"


def test_realtime_deploy_and_invoke_and_model_error(call: Call, run: RunContext) -> None:
    pkg = call(
        "sagemaker.package_model", source="models/stylematch", uri="s3://it-sm3/m/model.tar.gz"
    )
    endpoint = f"it-rt-{run.run_id}".replace("_", "-")
    call("sagemaker.deploy", endpoint=endpoint, model_data=pkg["model_data"])
    out = call(
        "sagemaker.invoke",
        endpoint=endpoint,
        body_file="payloads/shirt.jpg",
        content_type="image/jpeg",
    )
    assert out["body"]["recommendations"][0]["category"] == "upperwear"
    with pytest.raises(ActionError) as info:
        call("sagemaker.invoke", endpoint=endpoint, body="not an image", content_type="image/jpeg")
    assert info.value.code == "ModelError"


def test_broken_model_deploy_fails_with_the_reason(call: Call, run: RunContext) -> None:
    pkg = call("sagemaker.package_model", source="models/broken", uri="s3://it-sm4/m/model.tar.gz")
    with pytest.raises(ActionError) as info:
        call(
            "sagemaker.deploy_async",
            endpoint=f"it-broken-{run.run_id}".replace("_", "-"),
            model_data=pkg["model_data"],
            output_path="s3://it-sm4/out/",
        )
    assert info.value.code == "EndpointFailed"


def test_cleanup_is_idempotent_and_proves_nothing_remains(call: Call, run: RunContext) -> None:
    call("s3.bucket", bucket="it-clean")
    call("s3.put", uri="s3://it-clean/x/1", body="1")
    first = call("cleanup")
    assert first["nothing_remains"] and "s3:bucket it-clean" in first["deleted"]
    report = cleanup_ledger(run.ledger, clients(run))  # again: everything already gone
    assert report.remaining == [] and report.failed == []
    assert "s3:bucket it-clean" in report.already_gone


def test_cleanup_keeps_a_bucket_that_holds_other_runs_objects(new_run: Any, tmp_path: Path) -> None:
    first, call_first = new_run(tmp_path / "a")
    second, call_second = new_run(tmp_path / "b")
    try:
        call_first("s3.bucket", bucket="it-shared")  # created (and ledgered) by the first run
        call_first("s3.put", uri="s3://it-shared/a/1", body="a")
        assert call_second("s3.bucket", bucket="it-shared")["created"] is False
        call_second("s3.put", uri="s3://it-shared/b/1", body="b")
        report = cleanup_ledger(first.ledger, clients(first))
        assert report.remaining == [] and report.kept == [
            "s3:bucket it-shared (holds objects of other runs)"
        ]
        assert call_second("s3.get", uri="s3://it-shared/b/1")["body"] == "b"
    finally:
        cleanup_ledger(second.ledger, clients(second))
        clients(second).client("s3").delete_bucket(Bucket="it-shared")
        first.exit_stack.close()
        second.exit_stack.close()

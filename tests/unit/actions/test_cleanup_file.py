"""`checkrun cleanup LEDGER` decisions that need no cloud: gone local stacks, clean ledgers."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.actions.cleanup import ORDER, cleanup_ledger_file
from runner.engine.ledger import Ledger
from runner.errors import CleanupError, UsageError


def test_a_local_run_whose_stack_is_gone_left_nothing(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.json", "r1")
    ledger.meta["aws"] = {
        "target": "local",
        "region": "us-east-1",
        "endpoint_url": "http://127.0.0.1:9",
    }
    ledger.record("sagemaker:endpoint", "ep-r1")
    report, summary = cleanup_ledger_file(tmp_path / "ledger.json")
    assert report is None and "nothing remains" in summary


def test_a_fully_cleaned_ledger_needs_nothing(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.json", "r2")
    ledger.record("s3:bucket", "b")
    ledger.mark_deleted("s3:bucket", "b")
    report, summary = cleanup_ledger_file(tmp_path / "ledger.json")
    assert report is not None and report.remaining == [] and "nothing to clean" in summary


def test_an_unreadable_ledger_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "ledger.json").write_text("{not json")
    with pytest.raises(UsageError):
        cleanup_ledger_file(tmp_path / "ledger.json")


def test_an_unreachable_staging_endpoint_is_one_clear_error_and_deletes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    ledger = Ledger(tmp_path / "ledger.json", "r3")
    ledger.meta["aws"] = {
        "target": "aws",
        "region": "ap-south-1",
        "endpoint_url": "http://127.0.0.1:9",
    }
    ledger.record("sagemaker:endpoint", "ep-r3")
    with pytest.raises(CleanupError) as info:
        cleanup_ledger_file(tmp_path)  # the run's report folder works too
    message = str(info.value)
    assert "Could not connect" in message and "nothing was deleted" in message
    assert "\n" not in message and [r.id for r in info.value.remaining] == ["ep-r3"]
    assert Ledger.load(tmp_path / "ledger.json").pending()  # still there for the next try


def test_endpoints_go_before_configs_models_topics_and_buckets() -> None:
    position = {kind: i for i, kind in enumerate(ORDER)}
    assert position["sagemaker:endpoint"] < position["sagemaker:endpoint-config"]
    assert position["sagemaker:endpoint-config"] < position["sagemaker:model"]
    assert position["sns:subscription"] < position["sns:topic"]
    assert position["s3:object"] < position["s3:bucket"]

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sample_runs import sample_run

from runner.engine.results import SCHEMA_VERSION, RunResult
from runner.errors import UsageError
from runner.report.json import FORMAT, load_result, render_json


def test_json_is_versioned_and_round_trips(any_run: RunResult, tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text(render_json(any_run), encoding="utf-8")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == FORMAT
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["totals"]["total"] == 14
    assert load_result(path) == any_run


def test_json_keeps_latency_and_evidence() -> None:
    doc = json.loads(render_json(sample_run("approved")))
    concurrency = next(t for t in doc["tests"] if t["id"] == "concurrency")
    assert concurrency["steps"][0]["latency"]["p95"] == 2.2
    wait = next(t for t in doc["tests"] if t["id"] == "wait-result")["steps"][1]
    assert wait["evidence"]["detected_by"] == "notification"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ('{"hello": 1}', "not a checkrun result.json"),
        ('{"run_id": "x", "tests": [], "schema_version": 99}', "newer than this checkrun"),
        ('{"run_id": "x", "tests": [], "schema_version": 0}', "0 is not one checkrun writes"),
        ('{"run_id": "x", "tests": [], "schema_version": "1"}', "'1' is not one checkrun"),
        ('{"run_id": "x", "tests": [], "format": "junit"}', r"not a checkrun result.json \(fo"),
        ("[1, 2]", "not a checkrun result.json"),
    ],
)
def test_load_result_refuses_what_it_cannot_read(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "result.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError, match=message):
        load_result(path)


def test_load_result_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        load_result(tmp_path / "nope.json")


def test_a_malformed_result_says_what_is_missing_in_json_terms(tmp_path: Path) -> None:
    doc = json.loads(render_json(sample_run("approved")))
    del doc["tests"][3]["status"]
    path = tmp_path / "result.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(UsageError, match=r"malformed result: a test has no 'status'$"):
        load_result(path)

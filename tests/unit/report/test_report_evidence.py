"""Evidence as sagemaker.wait_result records it (since_submit, s3/sqs requests) is understood."""

from __future__ import annotations

import dataclasses

from sample_runs import sample_run

from runner.engine.results import RunResult
from runner.report.diff import diff_runs
from runner.report.html import build_view
from runner.report.metrics import render_metrics


def _with_wait_result_evidence(since_submit: float) -> RunResult:
    run = sample_run("approved")
    test = run.tests[2]
    evidence = {
        "inference_id": "abc-123",
        "status": "Completed",
        "detected_by": "notification",
        "attempts": 2,
        "elapsed": since_submit,
        "since_submit": since_submit,
        "s3_requests": 1,
        "sqs_requests": 2,
    }
    step = dataclasses.replace(test.steps[1], evidence=evidence)
    tests = (*run.tests[:2], dataclasses.replace(test, steps=(test.steps[0], step)), *run.tests[3:])
    return dataclasses.replace(run, tests=tests)


def test_wait_table_and_metrics_read_since_submit() -> None:
    run = _with_wait_result_evidence(7.25)
    row = next(w for w in build_view(run).waits if w.test == "wait-result")
    assert (row.wait, row.requests, row.detected_by) == ("7.25 s", "3", "notification")
    metrics = render_metrics(run)
    assert 'test="wait-result",step="wait",detected_by="notification"} 7.25' in metrics


def test_diff_sees_since_submit_regressions() -> None:
    diff = diff_runs(_with_wait_result_evidence(5.0), _with_wait_result_evidence(9.0))
    assert [(t.test_id, t.metric, t.regression) for t in diff.timings] == [
        ("wait-result", "wait time", True)
    ]

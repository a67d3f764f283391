"""Evidence as sagemaker.wait_result records it (since_submit, s3/sqs requests) is understood."""

from __future__ import annotations

import dataclasses

from sample_runs import sample_run

from runner.engine.results import RunResult
from runner.report.diff import diff_runs
from runner.report.html import build_view
from runner.report.metrics import render_metrics


def _with_wait_result_evidence(since_submit: float, **more: object) -> RunResult:
    run = sample_run("approved")
    test = run.tests[2]
    evidence = {
        **more,
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


def test_batch_wait_is_a_latency_distribution_in_html_metrics_and_diff() -> None:
    """A wait for N requests (since_submit_all) is charted, exported and compared at p95."""
    times = [0.8, 1.2, 1.0, 3.5, 0.9]
    run = _with_wait_result_evidence(3.5, since_submit_all=times, failed=1)
    charts = build_view(run).latency
    chart = next(c for c in charts if c.title == "wait-result / wait")
    assert len(chart.dots) == 5
    assert chart.summary.startswith("n=5, parallel 5, failures 1; min 0.80 s · p50 1.00 s")
    assert "p95 3.50 s" in chart.summary
    metrics = render_metrics(run)
    assert 'test="wait-result",step="wait",quantile="0.5"} 1.0' in metrics
    slower = _with_wait_result_evidence(3.5, since_submit_all=[t * 2 for t in times])
    p95 = [t for t in diff_runs(run, slower).timings if t.metric == "p95 latency"]
    assert [(t.test_id, t.old, t.new, t.regression) for t in p95] == [
        ("wait-result", 3.5, 7.0, True)
    ]


def test_a_negative_time_is_drawn_at_zero_and_shown_as_it_is() -> None:
    run = _with_wait_result_evidence(0.02, since_submit_all=[-0.011, 0.013, 0.001])
    chart = next(c for c in build_view(run).latency if c.title == "wait-result / wait")
    assert min(chart.dots) == chart.min_x == chart.label_w
    assert "min -0.01 s" in chart.summary

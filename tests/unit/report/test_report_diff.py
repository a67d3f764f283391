from __future__ import annotations

import dataclasses

import pytest
from sample_runs import sample_run

from runner.engine.results import RunResult, TestResult
from runner.report.diff import diff_runs, render_diff_text


def _slower(run: RunResult, factor: float) -> RunResult:
    """Every cold start, wait and p95 in `run` multiplied by `factor`."""
    tests: list[TestResult] = []
    for test in run.tests:
        steps = []
        for step in test.steps:
            ev = {
                k: v * factor if k in {"cold_start_seconds", "wait_seconds"} else v
                for k, v in step.evidence.items()
            }
            lat = step.latency
            if lat is not None:
                lat = dataclasses.replace(lat, p95=lat.p95 * factor)
            steps.append(dataclasses.replace(step, evidence=ev, latency=lat))
        tests.append(dataclasses.replace(test, steps=tuple(steps)))
    return dataclasses.replace(run, tests=tuple(tests), run_id="nightly-2")


def test_same_run_has_no_changes() -> None:
    run = sample_run("approved")
    diff = diff_runs(run, run)
    assert diff.outcomes == [] and diff.timings == []
    assert not diff.regressed


def test_changed_outcomes_are_listed_and_failures_are_regressions() -> None:
    diff = diff_runs(sample_run("approved"), sample_run("needs_work"))
    changes = {c.test_id: c for c in diff.outcomes}
    assert set(changes) == {"compare-realtime", "logs", "large-payload"}
    assert changes["logs"].regression and changes["logs"].new == "failed"
    assert not changes["large-payload"].regression  # deselected is not worse
    assert (diff.old_decision, diff.new_decision) == ("APPROVED", "NEEDS WORK")


def test_fixed_tests_are_not_regressions() -> None:
    diff = diff_runs(sample_run("needs_work"), sample_run("approved"))
    assert diff.outcomes and not any(c.regression for c in diff.outcomes)


def test_timing_regressions_respect_the_threshold() -> None:
    old = sample_run("approved")
    new = _slower(old, 1.5)
    strict = diff_runs(old, new, threshold=0.2)
    metrics = {(t.test_id, t.metric) for t in strict.timings if t.regression}
    assert ("cold-start", "cold start") in metrics
    assert ("concurrency", "p95 latency") in metrics
    assert ("wait-result", "wait time") in metrics
    assert not diff_runs(old, new, threshold=0.6).regressed


def test_tiny_absolute_growth_is_noise() -> None:
    old = sample_run("approved")
    new = _slower(old, 1.5)
    diff = diff_runs(old, new, threshold=0.1, min_seconds=100)
    assert not diff.regressed


def test_text_names_each_regression() -> None:
    old = sample_run("approved")
    text = render_diff_text(diff_runs(old, _slower(old, 2.0)))
    assert "REGRESSION cold-start / first invocation after deploy: cold start 88.00 s" in text
    assert "p95 latency 2.20 s -> 4.40 s (+100 %)" in text


def test_negative_threshold_is_refused() -> None:
    run = sample_run("approved")
    with pytest.raises(ValueError, match="threshold"):
        diff_runs(run, run, threshold=-1)

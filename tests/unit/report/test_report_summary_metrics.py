from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sample_runs import Kind, sample_run

from runner.engine.results import Status, TestResult
from runner.report.html import render_html
from runner.report.junit import render_junit
from runner.report.metrics import render_metrics
from runner.report.summary import render_summary

_SAMPLE = re.compile(r'^[a-z_]+\{([a-z_]+="(?:[^"\\]|\\.)*",?)*\} -?[0-9.e+]+$')


def test_summary_shows_each_test_decision_and_paths() -> None:
    run = sample_run("needs_work")
    text = render_summary(run, [Path("reports/x/report.html"), Path("reports/x/junit.xml")])
    for test in run.tests:
        assert test.title in text
    assert "NEEDS WORK" in text
    assert "Tests passed: 11 / 14" in text
    assert "report: reports/x/report.html" in text
    assert "Scores match (within 0.001 tolerance)" in text


def test_tests_passed_counts_every_test_the_same_everywhere() -> None:
    """async.yaml has a pre-deployment test plus tests 1-14: all 15 count, in every output."""
    run = sample_run("needs_work")
    pre = TestResult(
        id="pre-deployment",
        title="Pre-deployment checklist",
        status=Status.PASSED,
        started_at=run.started_at,
        duration=1.0,
    )
    run = dataclasses.replace(run, tests=(pre, *run.tests))
    assert (run.totals["passed"], run.totals["total"]) == (12, 15)
    assert "Tests passed: 12 / 15" in render_summary(run)
    assert 'id="passed-count">Tests passed: 12 / 15</div>' in render_html(run)
    assert '<property name="tests_passed" value="12 / 15" />' in render_junit(run)
    metrics = render_metrics(run).splitlines()
    counts = [line for line in metrics if line.startswith("checkrun_tests{")]
    assert sum(float(line.rsplit(" ", 1)[1]) for line in counts) == 15
    assert any(line.endswith('status="passed"} 12.0') for line in counts)


def test_metrics_are_valid_exposition_text() -> None:
    text = render_metrics(sample_run("needs_work"))
    lines = text.splitlines()
    helps = [line.split()[2] for line in lines if line.startswith("# HELP")]
    assert len(helps) == len(set(helps))
    for line in lines:
        if not line.startswith("#"):
            assert _SAMPLE.match(line), line
    assert 'checkrun_decision{checklist="SageMaker async inference sign-off",' in text
    assert 'decision="NEEDS WORK"} 1.0' in text
    assert 'test="logs",status="failed"} 1.0' in text
    assert "checkrun_step_latency_seconds{" in text and 'quantile="0.95"} 2.2' in text
    assert "checkrun_cold_start_seconds{" in text


@pytest.mark.parametrize("kind", ["approved", "needs_work", "blocked"])
def test_metrics_parse_with_prometheus_client(kind: Kind) -> None:
    """The reference parser reads every series back; no series appears twice."""
    run = sample_run(kind)
    families = {f.name: f for f in text_string_to_metric_families(render_metrics(run))}
    assert all(f.type == "gauge" for f in families.values())
    series = [
        (s.name, tuple(sorted(s.labels.items()))) for f in families.values() for s in f.samples
    ]
    assert len(series) == len(set(series))
    decision = {s.labels["decision"]: s.value for s in families["checkrun_decision"].samples}
    assert decision[run.decision.value] == 1.0 and sum(decision.values()) == 1.0
    per_test = [s for s in families["checkrun_test_status"].samples if s.value == 1.0]
    assert {s.labels["test"]: s.labels["status"] for s in per_test} == {
        t.id: t.status.value for t in run.tests
    }
    waits = families["checkrun_wait_seconds"].samples
    assert waits and all(s.value >= 0 for s in waits)


def test_metric_labels_are_escaped() -> None:
    run = dataclasses.replace(sample_run("approved"), checklist='say "hi"\\ now\nplease')
    text = render_metrics(run)
    assert 'checklist="say \\"hi\\"\\\\ now\\nplease"' in text

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from junitparser import Failure, JUnitXml, Skipped
from lxml import etree
from sample_runs import sample_run

from runner.engine.results import RunResult, TestResult
from runner.report.junit import render_junit

XSD = Path(__file__).with_name("junit-10.xsd")


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def _write(tmp_path: Path, run: RunResult) -> Path:
    path = tmp_path / "junit.xml"
    path.write_text(render_junit(run), encoding="utf-8")
    return path


def test_junit_validates_against_jenkins_xsd(
    any_run: RunResult, tmp_path: Path, schema: etree.XMLSchema
) -> None:
    doc = etree.parse(str(_write(tmp_path, any_run)))
    assert schema.validate(doc), schema.error_log


def test_tiny_times_are_fixed_decimals(tmp_path: Path, schema: etree.XMLSchema) -> None:
    run = sample_run("approved")
    tiny = tuple(dataclasses.replace(t, duration=1e-05) for t in run.tests)
    path = _write(tmp_path, dataclasses.replace(run, tests=tiny))
    text = path.read_text(encoding="utf-8")
    assert "e-05" not in text
    assert 'time="0.000"' in text
    assert schema.validate(etree.parse(str(path))), schema.error_log


def test_junit_reads_back_with_junitparser(tmp_path: Path) -> None:
    run = sample_run("needs_work")
    xml = JUnitXml.fromfile(str(_write(tmp_path, run)))
    suite = next(iter(xml))
    assert suite.name == run.checklist
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (14, 2, 0, 1)
    cases = {case.name: case for case in suite}
    assert len(cases) == 14
    compare = cases["compare-realtime: Results match real-time endpoint"]
    failure = compare.result[0]
    assert isinstance(failure, Failure)
    assert failure.message == "Scores match (within 0.001 tolerance)"
    assert "compare (core.compare)" in (failure.text or "")
    assert cases["deploy: Deploy async endpoint"].is_passed
    wait = cases["wait-result: Wait for result"]
    assert "async-invocations -> 202" in (wait.system_out or "")
    props = {p.name: p.value for p in suite.properties()}
    assert props["decision"] == "NEEDS WORK"
    assert props["tests_passed"] == "11 / 14"
    assert props["run_id"] == run.run_id
    assert (props["target"], props["profile"], props["region"]) == ("local", "local", "us-east-1")


def test_blocked_tests_are_skipped_with_blocker(tmp_path: Path) -> None:
    xml = JUnitXml.fromfile(str(_write(tmp_path, sample_run("blocked"))))
    suite = next(iter(xml))
    skipped = [c for c in suite if c.result and isinstance(c.result[0], Skipped)]
    assert len(skipped) == 12
    messages = {c.name.split(":")[0]: c.result[0].message for c in skipped}
    assert messages["invoke"] == "blocked by deploy"
    assert messages["wait-result"] == "blocked by invoke"  # invoke was itself blocked
    assert set(messages.values()) == {"blocked by deploy", "blocked by invoke"}
    deploy = next(c for c in suite if c.name.startswith("deploy:"))
    assert isinstance(deploy.result[0], Failure)


def test_failure_message_is_first_unmet_criterion() -> None:
    run = sample_run("blocked")
    deploy: TestResult = run.tests[0]
    first_unmet = next(c.text for c in deploy.criteria if c.passed is False)
    assert f'message="{first_unmet}"' in render_junit(run)

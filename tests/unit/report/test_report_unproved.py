"""A failed step leaves its test's criteria unproved: reports name the failure once."""

from __future__ import annotations

import sys
from pathlib import Path

from runner import run_checklist
from runner.engine.results import Status
from runner.report.html import build_view
from runner.report.junit import render_junit

CHECKLIST = f"""
checklist: Unproved criteria
tests:
  - id: deploy
    critical: true
    steps:
      - name: start
        exec: {{cmd: ["{sys.executable}", "-c", "raise SystemExit('model did not load')"]}}
        expect: {{path: exit_code, equals: 0}}
    criteria:
      - {{text: Endpoint is InService, expect: {{path: exit_code, equals: 0}}}}
      - {{text: Info file written, expect: {{path: exit_code, equals: 0}}}}
"""


def test_unproved_criteria_are_crossed_and_named_once(tmp_path: Path) -> None:
    path = tmp_path / "checklist.yaml"
    path.write_text(CHECKLIST, encoding="utf-8")
    result = run_checklist(path, report_dir=tmp_path / "out", write=False)
    (test,) = result.tests
    assert test.status is Status.FAILED
    assert [c.passed for c in test.criteria] == [False, False]
    assert all(c.unproved for c in test.criteria)

    issues = [i.text for i in build_view(result).issues]
    assert len(issues) == 1
    assert issues[0].startswith("step 1 (start) failed:")
    assert issues[0].endswith("leaves unproved: Endpoint is InService; Info file written")

    # JUnit's failure message is the step's own failure, not a criterion it never reached.
    junit = render_junit(result)
    assert 'message="Endpoint is InService"' not in junit
    assert 'message="command exited with code 1: model did not load"' in junit

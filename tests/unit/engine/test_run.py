# ruff: noqa: E501  (embedded YAML documents keep their natural line length)
"""Engine semantics, with exec and http against a real loopback HTTP server."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runner.engine.results import Decision, RunResult, Status, StepResult
from runner.engine.run import run_checklist

PY = sys.executable
Write = Callable[[str], Path]


def run(path: Path, tmp_path: Path, **kwargs: Any) -> RunResult:
    return run_checklist(path, report_dir=tmp_path / "reports", write=False, **kwargs)


def by_id(result: RunResult) -> dict[str, Any]:
    return {t.id: t for t in result.tests}


def one_step(write_checklist: Write, tmp_path: Path, step: str, **kwargs: Any) -> StepResult:
    """Run a checklist of one test with this one step (YAML, first line `- action: ...`)."""
    body = "".join(f"      {line}\n" for line in step.strip("\n").splitlines())
    path = write_checklist(f"checklist: one step\ntests:\n  - id: only\n    steps:\n{body}")
    return run(path, tmp_path, **kwargs).tests[0].steps[0]


def test_all_passed_is_approved_and_saved_values_keep_their_type(
    write_checklist: Write, tmp_path: Path, http_url: str
) -> None:
    path = write_checklist(f"""
checklist: flow
vars: {{base: "{http_url}"}}
tests:
  - id: post
    steps:
      - http: {{url: "{{{{ base }}}}/things", method: POST, json: {{name: shirt, sizes: [1, 2]}}}}
        save: {{thing: body.received, status: status}}
        expect: [{{path: status, equals: 201}}, {{path: body.content_type, equals: application/json}}]
  - id: use
    needs: [post]
    steps:
      - assert:
          value: "{{{{ thing }}}}"
          expect: [{{path: sizes, equals: [1, 2]}}, {{type: object}}]
      - http: {{url: "{{{{ base }}}}/echo", params: {{size: "{{{{ thing.sizes[1] }}}}"}}}}
        expect: {{path: body.query.size, equals: ["2"]}}
""")
    result = run(path, tmp_path)
    assert result.decision is Decision.APPROVED
    assert [t.status for t in result.tests] == [Status.PASSED, Status.PASSED]
    post = result.tests[0].steps[0]
    assert post.output["status"] == 201
    assert post.args["json"] == {"name": "shirt", "sizes": [1, 2]}


def test_blocked_when_need_failed_and_block_propagates(
    write_checklist: Write, tmp_path: Path, http_url: str
) -> None:
    path = write_checklist(f"""
checklist: blocked
tests:
  - id: deploy
    critical: true
    steps:
      - http: {{url: "{http_url}/status/500"}}
        expect: {{path: status, equals: 200}}
  - id: invoke
    needs: deploy
    steps: [{{sleep: {{duration: 1ms}}}}]
  - id: report
    needs: [invoke]
    steps: [{{sleep: {{duration: 1ms}}}}]
  - id: independent
    steps: [{{sleep: {{duration: 1ms}}}}]
""")
    result = run(path, tmp_path)
    tests = by_id(result)
    assert tests["deploy"].status is Status.FAILED
    assert "status: expected equal to 200, found 500" in tests["deploy"].reason
    assert tests["invoke"].status is Status.BLOCKED
    assert tests["invoke"].reason == "needs deploy, which failed"
    assert tests["report"].reason == "needs invoke, which was blocked"
    assert tests["independent"].status is Status.PASSED
    assert result.decision is Decision.BLOCKED  # a critical test failed


def test_needs_work_when_only_non_critical_tests_fail(
    write_checklist: Write, tmp_path: Path
) -> None:
    path = write_checklist("""
checklist: nw
tests:
  - id: a
    steps: [{assert: {value: 1, expect: {equals: 2}}}]
  - id: b
    steps: [{sleep: {duration: 1ms}}]
""")
    result = run(path, tmp_path)
    assert result.decision is Decision.NEEDS_WORK
    assert result.tests[0].steps[0].error == "@: expected equal to 2, found 1"


def test_tests_run_in_stable_needs_order(write_checklist: Write, tmp_path: Path) -> None:
    path = write_checklist("""
checklist: order
tests:
  - {id: c, needs: [b], steps: [{sleep: {duration: 1ms}}]}
  - {id: a, steps: [{sleep: {duration: 1ms}}]}
  - {id: b, needs: [a], steps: [{sleep: {duration: 1ms}}]}
  - {id: d, steps: [{sleep: {duration: 1ms}}]}
""")
    assert [t.id for t in run(path, tmp_path).tests] == ["a", "b", "c", "d"]


def test_always_test_runs_after_failure_and_fail_fast(
    write_checklist: Write, tmp_path: Path
) -> None:
    path = write_checklist("""
checklist: always
tests:
  - id: deploy
    steps: [{assert: {value: 1, expect: {equals: 2}}}]
  - id: other
    steps: [{sleep: {duration: 1ms}}]
  - id: cleanup
    always: true
    needs: [deploy]
    steps: [{sleep: {duration: 1ms}}]
""")
    result = run(path, tmp_path, fail_fast=True)
    tests = by_id(result)
    assert tests["other"].status is Status.SKIPPED
    assert tests["other"].reason == "skipped after --fail-fast (test deploy failed)"
    assert tests["cleanup"].status is Status.PASSED


def test_step_timeout_fails_the_step_and_the_run_goes_on(
    write_checklist: Write, tmp_path: Path, http_url: str
) -> None:
    path = write_checklist(f"""
checklist: timeouts
tests:
  - id: hung-exec
    steps:
      - exec: {{cmd: ["{PY}", -c, "import time; time.sleep(30)"]}}
        timeout: 300ms
      - sleep: {{duration: 1ms}}
  - id: hung-http
    steps:
      - http: {{url: "{http_url}/slow?s=3"}}
        timeout: 200ms
  - id: after
    steps: [{{sleep: {{duration: 1ms}}}}]
""")
    result = run(path, tmp_path)
    tests = by_id(result)
    step = tests["hung-exec"].steps[0]
    assert step.status is Status.FAILED and step.timed_out
    assert step.error == "step timed out after 0.3s"
    assert step.error_code == "Timeout"
    assert len(tests["hung-exec"].steps) == 1  # later steps of the test do not run
    assert tests["hung-http"].steps[0].timed_out
    assert tests["after"].status is Status.PASSED


def test_test_timeout_bounds_its_steps(write_checklist: Write, tmp_path: Path) -> None:
    path = write_checklist(f"""
checklist: test-timeout
tests:
  - id: slow
    timeout: 300ms
    steps:
      - exec: {{cmd: ["{PY}", -c, "import time; time.sleep(30)"]}}
        timeout: 1m
""")
    step = run(path, tmp_path).tests[0].steps[0]
    assert step.timed_out
    assert step.error == "test slow timed out after 0.3s"


def test_retry_on_errors_records_attempts_and_waits_on_the_clock(
    write_checklist: Write, tmp_path: Path, closed_port_url: str, fake_clock: Any
) -> None:
    events: list[dict[str, Any]] = []
    step = one_step(
        write_checklist,
        tmp_path,
        f"""
- http: {{url: "{closed_port_url}/"}}
  retry: {{attempts: 4, wait: exponential, initial: 1s, max: 3s}}
""",
        clock=fake_clock,
        events=events.append,
    )
    assert step.status is Status.FAILED
    assert step.attempts == 4
    assert step.error_code == "ConnectionError"
    assert fake_clock.sleeps == [1.0, 2.0, 3.0]
    attempts = [e for e in events if e["event"] == "attempt"]
    assert [(e["attempt"], e["of"]) for e in attempts] == [(2, 4), (3, 4), (4, 4)]


def test_retry_on_expect_reruns_the_action(
    write_checklist: Write, tmp_path: Path, http_url: str, fake_clock: Any
) -> None:
    step = one_step(
        write_checklist,
        tmp_path,
        f"""
- http: {{url: "{http_url}/count/retry-expect"}}
  expect: {{path: body.count, greater_than: 2}}
  retry: {{attempts: 5, wait: fixed, initial: 2s, on: [expect]}}
""",
        clock=fake_clock,
    )
    assert step.status is Status.PASSED
    assert step.attempts == 3
    assert fake_clock.sleeps == [2.0, 2.0]


def test_until_polls_until_expectations_hold(
    write_checklist: Write, tmp_path: Path, http_url: str, fake_clock: Any
) -> None:
    path = write_checklist(f"""
checklist: until
tests:
  - id: poll
    steps:
      - http: {{url: "{http_url}/count/until-ok"}}
        until: {{expect: {{path: body.count, equals: 4}}, every: 5s}}
        save: {{count: body.count}}
""")
    result = run(path, tmp_path, clock=fake_clock)
    step = result.tests[0].steps[0]
    assert step.status is Status.PASSED
    assert step.attempts == 4
    assert fake_clock.sleeps == [5.0, 5.0, 5.0]
    assert step.output["body"] == {"count": 4}


def test_until_gives_up_with_the_last_unmet_expectation(
    write_checklist: Write, tmp_path: Path, http_url: str, fake_clock: Any
) -> None:
    step = one_step(
        write_checklist,
        tmp_path,
        f"""
- http: {{url: "{http_url}/count/until-never"}}
  until: {{expect: [{{path: body.count, less_than: 0}}], every: 1s, timeout: 10s}}
""",
        clock=fake_clock,
    )
    assert step.status is Status.FAILED
    assert step.error_code == "UntilNotMet"
    assert step.attempts == 11
    assert "body.count: expected less than 0, found 11" in step.error


def test_repeat_in_parallel_aggregates_latency(
    write_checklist: Write, tmp_path: Path, http_url: str
) -> None:
    step = one_step(
        write_checklist,
        tmp_path,
        f"""
- http: {{url: "{http_url}/count/repeat-{{{{ iteration }}}}"}}
  expect: {{path: status, equals: 200}}
  repeat: 8
  parallel: 4
""",
    )
    assert step.status is Status.PASSED
    assert step.latency is not None
    assert (step.latency.count, step.latency.failures, step.latency.parallel) == (8, 0, 4)
    assert step.latency.min <= step.latency.p50 <= step.latency.p95 <= step.latency.max
    assert len(step.output) == 8


def test_repeat_counts_failures(write_checklist: Write, tmp_path: Path) -> None:
    step = one_step(
        write_checklist,
        tmp_path,
        """
- assert: {value: "{{ iteration }}", expect: {less_than: 3}}
  repeat: 5
  parallel: 2
""",
    )
    assert step.status is Status.FAILED
    assert step.latency is not None and step.latency.failures == 2
    assert step.error.startswith("2 of 5 iterations failed")


def test_expect_error_makes_the_error_the_expected_outcome(
    write_checklist: Write, tmp_path: Path
) -> None:
    path = write_checklist(f"""
checklist: expect-error
tests:
  - id: error-expected
    steps:
      - exec: {{cmd: ["{PY}", -c, "import sys; sys.exit(3)"]}}
        expect_error: {{code: ExitCode, message: "code 3"}}
        expect: {{path: code, equals: ExitCode}}
  - id: wrong-code
    steps:
      - exec: {{cmd: ["{PY}", -c, "import sys; sys.exit(3)"]}}
        expect_error: Timeout
  - id: no-error
    steps:
      - exec: {{cmd: ["{PY}", -c, "pass"]}}
        expect_error: true
""")
    tests = by_id(run(path, tmp_path))
    assert tests["error-expected"].status is Status.PASSED
    assert tests["wrong-code"].steps[0].error_code == "ExitCode"
    assert tests["no-error"].steps[0].error == "expected an error, but the step succeeded"


def test_criteria_are_checked_and_recorded(
    write_checklist: Write, tmp_path: Path, http_url: str
) -> None:
    path = write_checklist(f"""
checklist: criteria
tests:
  - id: ok
    steps:
      - name: get
        http: {{url: "{http_url}/status/200"}}
        save: {{code: body.code}}
      - sleep: {{duration: 1ms}}
    criteria:
      - {{text: Service answers 200, step: get, expect: {{path: status, equals: 200}}}}
      - {{text: Saved code is 200, value: "{{{{ code }}}}", expect: {{equals: 200}}}}
      - {{text: Last step slept, expect: {{path: slept, greater_than: 0}}}}
  - id: unmet
    steps: [{{sleep: {{duration: 1ms}}}}]
    criteria:
      - {{text: Slept an hour, expect: {{path: slept, equals: 3600}}}}
  - id: partial
    steps:
      - {{name: first, sleep: {{duration: 1ms}}}}
      - {{assert: {{value: 1, expect: {{equals: 2}}}}}}
    criteria:
      - {{text: First step slept, step: first, expect: {{path: slept, greater_than: 0}}}}
      - {{text: Last step passed, expect: {{exists: true}}}}
  - id: blocked
    needs: [unmet]
    steps: [{{sleep: {{duration: 1ms}}}}]
    criteria:
      - {{text: Never evaluated, expect: {{exists: true}}}}
""")
    tests = by_id(run(path, tmp_path))
    assert [c.passed for c in tests["ok"].criteria] == [True, True, True]
    assert tests["unmet"].status is Status.FAILED
    assert tests["unmet"].reason == "criterion not met: Slept an hour"
    assert (
        tests["unmet"].criteria[0].expectation.message
        == "slept: expected equal to 3600, found 0.001"
    )
    # A criterion the failed step left unproved is crossed, with the failure as evidence.
    assert [c.passed for c in tests["partial"].criteria] == [True, False]
    unproved = tests["partial"].criteria[1].expectation
    assert unproved is not None
    assert unproved.message.startswith("not proved: step 2 (assert) failed:")
    assert tests["blocked"].criteria[0].passed is None


def test_secrets_never_reach_the_result(
    write_checklist: Write, tmp_path: Path, http_url: str, closed_port_url: str
) -> None:
    path = write_checklist(f"""
checklist: secrets
vars:
  token: {{value: tok-123456789, secret: true}}
  password: hunter2-long
secrets: [password]
tests:
  - id: leak
    steps:
      - http: {{url: "{http_url}/echo", headers: {{X-Token: "{{{{ token }}}}"}}}}
      - exec: {{cmd: ["{PY}", -c, "print('AKIAABCDEFGHIJKLMNOP {{{{ password }}}}'); raise SystemExit(1)"]}}
  - id: retry-leak
    steps:
      - http: {{url: "{closed_port_url}/?t={{{{ token }}}}"}}
        retry: {{attempts: 2, wait: fixed, initial: 10ms}}
""")
    events: list[dict[str, Any]] = []
    result = run(path, tmp_path, events=events.append)
    text = json.dumps(result.to_dict()) + json.dumps(events)
    assert (
        "tok-123456789" not in text
        and "hunter2-long" not in text
        and "AKIAABCDEFGHIJKLMNOP" not in text
    )
    assert result.tests[0].steps[0].args["headers"]["X-Token"] == "***"


def test_only_pulls_in_needs_and_always_tests_and_skip_removes(
    write_checklist: Write, tmp_path: Path
) -> None:
    path = write_checklist("""
checklist: select
tests:
  - {id: deploy, steps: [{sleep: {duration: 1ms}}]}
  - {id: invoke, needs: [deploy], tags: [smoke], steps: [{sleep: {duration: 1ms}}]}
  - {id: load, needs: [deploy], steps: [{sleep: {duration: 1ms}}]}
  - {id: cleanup, always: true, steps: [{sleep: {duration: 1ms}}]}
""")
    statuses = {t.id: t.status for t in run(path, tmp_path, only=["invoke"]).tests}
    assert statuses == {
        "deploy": Status.PASSED,
        "invoke": Status.PASSED,
        "load": Status.SKIPPED,
        "cleanup": Status.PASSED,
    }
    tests = by_id(run(path, tmp_path, skip=["deploy"]))
    assert tests["invoke"].status is Status.SKIPPED
    assert tests["invoke"].reason == "needs deploy, which will not run"
    assert {
        t.id for t in run(path, tmp_path, tags=["smoke"]).tests if t.status is Status.PASSED
    } == {
        "deploy",
        "invoke",
        "cleanup",
    }


def test_profiles_fill_context_and_override_vars(write_checklist: Write, tmp_path: Path) -> None:
    path = write_checklist("""
checklist: profiles
vars: {bucket: local-bucket, name: "job-{{ bucket }}"}
profiles:
  staging: {target: aws, region: eu-west-1, endpoint_url: "http://example", vars: {bucket: staging-bucket}}
tests:
  - id: show
    steps:
      - assert:
          value: {name: "{{ name }}", region: "{{ profile.region }}", target: "{{ profile.target }}"}
          expect: {exists: true}
""")
    result = run(path, tmp_path, profile="staging")
    assert (result.profile, result.target, result.region) == ("staging", "aws", "eu-west-1")
    assert result.tests[0].steps[0].output == {
        "name": "job-staging-bucket",
        "region": "eu-west-1",
        "target": "aws",
    }
    local = run(path, tmp_path, vars={"bucket": "cli"})
    assert local.tests[0].steps[0].output["name"] == "job-cli"


def test_events_cover_the_run(write_checklist: Write, tmp_path: Path) -> None:
    path = write_checklist("""
checklist: events
tests:
  - {id: a, steps: [{sleep: {duration: 1ms}}]}
""")
    events: list[dict[str, Any]] = []
    run(path, tmp_path, events=events.append)
    kinds = [e["event"] for e in events]
    assert kinds == [
        "run_started",
        "test_started",
        "step_started",
        "step_finished",
        "test_finished",
        "run_finished",
    ]
    assert all("time" in e for e in events)


def test_reports_are_written_to_the_report_dir(write_checklist: Write, tmp_path: Path) -> None:
    path = write_checklist("""
checklist: reports
tests:
  - {id: a, steps: [{sleep: {duration: 1ms}}]}
""")
    result = run_checklist(path, report_dir=tmp_path / "out", json_path=tmp_path / "extra.json")
    stored = json.loads((tmp_path / "out" / "result.json").read_text())
    assert stored["run_id"] == result.run_id
    assert stored["decision"] == "APPROVED"
    assert json.loads((tmp_path / "extra.json").read_text())["run_id"] == result.run_id


def test_unknown_profile_is_a_checklist_error(write_checklist: Write, tmp_path: Path) -> None:
    from runner.errors import ChecklistError

    path = write_checklist("""
checklist: p
profiles: {staging: {target: aws}}
tests:
  - {id: a, steps: [{sleep: {duration: 1ms}}]}
""")
    with pytest.raises(ChecklistError, match=r"no profile named 'stagin'.*did you mean 'staging'"):
        run(path, tmp_path, profile="stagin")


def test_vars_use_run_id_and_each_other_in_any_order(
    write_checklist: Write, tmp_path: Path
) -> None:
    path = write_checklist("""
checklist: vars
vars:
  endpoint: "{{ app }}-{{ run.id }}"
  app: stylematch
tests:
  - id: show
    steps: [{assert: {value: "{{ endpoint }}", expect: {exists: true}}}]
""")
    result = run(path, tmp_path)
    assert result.tests[0].steps[0].output == f"stylematch-{result.run_id}"


def test_an_expectation_that_cannot_render_fails_its_step_in_every_iteration(
    write_checklist: Write, tmp_path: Path
) -> None:
    path = write_checklist("""
checklist: bad-expect
vars: {limit: {a: 1}}
tests:
  - id: t
    steps:
      - sleep: {duration: 1ms}
        expect: {path: slept, between: "{{ limit }}"}
        repeat: 3
""")
    step = run(path, tmp_path).tests[0].steps[0]
    assert step.status is Status.FAILED
    assert step.error_code == "TemplateError"
    assert step.latency is not None and step.latency.failures == 3


def test_an_action_that_ignores_cancellation_still_times_out(
    write_checklist: Write, tmp_path: Path
) -> None:
    import threading

    from runner.actions import registry
    from runner.actions.registry import action

    release = threading.Event()

    @action("enginetest.stubborn")
    def stubborn(args: Any, ctx: Any) -> str:
        """Blocks until released, never looking at ctx.cancelled."""
        release.wait(30)
        return "done"

    path = write_checklist("""
checklist: stubborn
tests:
  - id: hang
    steps:
      - enginetest.stubborn: {}
        timeout: 200ms
  - id: next
    steps: [{sleep: {duration: 1ms}}]
""")
    try:
        result = run(path, tmp_path)
    finally:
        release.set()
        registry._ACTIONS.pop("enginetest.stubborn", None)
    assert result.tests[0].steps[0].timed_out
    assert result.tests[1].status is Status.PASSED


def test_an_unused_cli_var_is_a_warning_event(write_checklist: Write, tmp_path: Path) -> None:
    path = write_checklist("""
checklist: warn
vars: {bucket: b}
tests:
  - {id: a, steps: [{assert: {value: "{{ bucket }}-{{ model_uri }}", expect: {exists: true}}}]}
""")
    events: list[dict[str, Any]] = []
    run(path, tmp_path, vars={"buckt": "x", "model_uri": "s3://m"}, events=events.append)
    warnings = [e["message"] for e in events if e["event"] == "warning"]
    assert warnings == ["--var buckt is not used by the checklist (did you mean 'bucket'?)"]


def test_signoff_fields_are_rendered(write_checklist: Write, tmp_path: Path) -> None:
    path = write_checklist("""
checklist: signoff
vars: {version: 2.3.1}
signoff: {model_version: "v{{ version }}", tester: QA}
tests:
  - {id: a, steps: [{sleep: {duration: 1ms}}]}
""")
    assert run(path, tmp_path).signoff == {"model_version": "v2.3.1", "tester": "QA"}

"""Realistic RunResult fixtures for the renderers: the 14-test SageMaker async sign-off.

`sample_run("approved" | "needs_work" | "blocked")` builds a run shaped like the seed
checklist (deploy, invoke, wait, ..., cleanup) with the evidence the SageMaker actions
record: inference ids, S3 URIs, how a result was detected, attempts, wait times, a
latency summary for the concurrency test, cold-start vs warm timings and a deepdiff for
the real-time comparison. Shared by tests/unit/report and tests/browser.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from runner.engine.results import (
    CriterionResult,
    Decision,
    ExpectationResult,
    LatencySummary,
    RunResult,
    Status,
    StepResult,
    TestResult,
    decide,
)

Kind = Literal["approved", "needs_work", "blocked"]

START = datetime(2026, 11, 22, 21, 0, 0, tzinfo=timezone.utc)
RUN_ID = "20261122-210000-a1b2"
BUCKET = "s3://checkrun-demo/async-inference-results"
ENDPOINT = f"stylematch-{RUN_ID}"
# A model that answers with markup: the report must show it as text.
HOSTILE_OUTPUT = '<script>alert("pwned")</script><b>bold</b>'

# id, title, critical, needs, criteria ("|"-separated), duration in seconds
_TABLE = """
deploy|Deploy async endpoint|critical||182.4
  Deployment completes without errors|Endpoint status is InService|SNS topic created\
|S3 output path accessible
invoke|Basic async invocation|critical|deploy|0.42
  Invocation returns OutputLocation|OutputLocation is valid S3 URI
wait-result|Wait for result||invoke|3.8
  Result appears in S3 within 5 minutes|Scores are between 0 and 1
custom-image|Custom image invocation||deploy|4.1
  Returns 10 recommendations (top-k)
error-handling|Error handling||deploy|2.6
  Invalid image produces an error notification|Missing endpoint answers ValidationError
notifications|SNS notifications||deploy|1.9
  Success notification received after inference|Notification contains OutputLocation
cold-start|Cold start timeout resolution||deploy|95.0
  No invocation timed out error|Subsequent requests faster than 60 s
concurrency|Concurrent requests||deploy|6.3
  All 5 requests accepted|No throttling errors
large-payload|Large payload||deploy|7.7
  Large images processed successfully
end-to-end|End-to-end workflow||deploy|5.2
  Results available within SLA (5 minutes)
compare-realtime|Results match real-time endpoint||deploy|3.3
  Scores match (within 0.001 tolerance)
logs|CloudWatch logs||deploy|1.1
  Logs show model loading successfully
cost|Cost verification||deploy|0.3
  Instance type correct (ml.m5.large)
cleanup|Cleanup|||12.5
  All resources deleted successfully
"""


def _parse_table() -> list[tuple[str, str, bool, tuple[str, ...], list[str], float]]:
    lines = [line for line in _TABLE.splitlines() if line.strip()]
    rows = []
    for head, crit in zip(lines[::2], lines[1::2], strict=True):
        test_id, title, critical, needs, duration = head.split("|")
        needs_t = (needs,) if needs else ()
        rows.append(
            (
                test_id,
                title,
                critical == "critical",
                needs_t,
                crit.strip().split("|"),
                float(duration),
            )
        )
    return rows


_TESTS = _parse_table()


def _expectation(
    path: str, expected: Any, actual: Any, matcher: str = "equals"
) -> ExpectationResult:
    passed = actual == expected if matcher == "equals" else True
    if matcher == "between":
        passed = expected[0] <= actual <= expected[1]
    found = "as expected" if passed else f"found {actual!r}"
    return ExpectationResult(
        path=path,
        matcher=matcher,
        expected=expected,
        actual=actual,
        passed=passed,
        message=f"{path}: expected {matcher} {expected!r}, {found}",
    )


def _step_evidence(test_id: str, n: int) -> dict[str, Any]:
    inference_id = f"{test_id}-{n:04d}-6f1c"
    return {
        "inference_id": inference_id,
        "output_location": f"{BUCKET}/{inference_id}.out",
        "input_location": f"s3://checkrun-demo/async-inference-input/{inference_id}.jpg",
    }


def _steps(test_id: str, start: datetime, duration: float, failing: set[str]) -> list[StepResult]:
    """Two or three steps per test, each with the evidence its action would record."""
    fail = test_id in failing
    invoke = StepResult(
        name="invoke",
        action="sagemaker.invoke_async",
        status=Status.PASSED,
        started_at=start,
        duration=0.12,
        args={
            "endpoint": ENDPOINT,
            "body_file": "payloads/shirt.jpg",
            "content_type": "image/jpeg",
        },
        output={"InferenceId": f"{test_id}-0001-6f1c", "OutputLocation": f"{BUCKET}/x.out"},
        evidence=_step_evidence(test_id, 1),
        log=(f"POST /endpoints/{ENDPOINT}/async-invocations -> 202",),
    )
    wait_evidence = {
        **_step_evidence(test_id, 1),
        "detected_by": "notification",
        "wait_seconds": round(duration - 0.3, 2),
        "requests": 3,
    }
    wait_output: Any = {
        "status": "Completed",
        "output": {
            "recommendations": [{"item": "train/upperwear/shirt/0042.jpg", "score": 0.9234}]
        },
        "note": HOSTILE_OUTPUT,
    }
    expectations = (_expectation("status", "Completed", "Completed"),)
    error = None
    if fail:
        expectations = (_expectation("status", "Completed", "Failed"),)
        wait_output = {
            "status": "Failed",
            "failure_reason": "ClientError: Received server error (500)",
        }
        error = "status: expected equals 'Completed', found 'Failed'"
    wait = StepResult(
        name="wait",
        action="sagemaker.wait_result",
        status=Status.FAILED if fail else Status.PASSED,
        started_at=start + timedelta(seconds=0.15),
        duration=max(duration - 0.3, 0.01),
        attempts=3,
        args={"job": f"{test_id}-0001-6f1c", "timeout": "5m"},
        output=wait_output,
        expectations=expectations,
        error=error,
        error_code="ModelError" if fail else None,
        evidence=wait_evidence,
        log=("listening on SQS checkrun-notify", f"result after {duration:.1f} s (notification)"),
    )
    return [invoke, wait]


def _deploy_steps(start: datetime, duration: float, kind: Kind) -> list[StepResult]:
    fail = kind == "blocked"
    status = "Failed" if fail else "InService"
    reason = "ClientError: model_fn failed: FileNotFoundError: model.pkl" if fail else None
    return [
        StepResult(
            name="deploy",
            action="sagemaker.deploy_async",
            status=Status.FAILED if fail else Status.PASSED,
            started_at=start,
            duration=duration,
            attempts=19,
            args={"endpoint": ENDPOINT, "instance_type": "ml.m5.large", "notifications": True},
            output={"EndpointName": ENDPOINT, "EndpointStatus": status, "FailureReason": reason},
            expectations=(_expectation("EndpointStatus", "InService", status),),
            error=f"EndpointStatus: expected equals 'InService', found {status!r}"
            if fail
            else None,
            evidence={
                "endpoint_arn": f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/{ENDPOINT}",
                "success_topic": "arn:aws:sns:us-east-1:123456789012:checkrun-success",
                "output_path": f"{BUCKET}/",
                "status_polls": 19,
            },
            log=("CreateModel", "CreateEndpointConfig", "CreateEndpoint", f"status {status}"),
        )
    ]


def _special_steps(test_id: str, start: datetime, duration: float, kind: Kind) -> list[StepResult]:
    if test_id == "deploy":
        return _deploy_steps(start, duration, kind)
    if test_id == "concurrency":
        samples = (1.42, 1.51, 1.49, 1.77, 2.31)
        return [
            StepResult(
                name="parallel invocations",
                action="sagemaker.invoke_async",
                status=Status.PASSED,
                started_at=start,
                duration=duration,
                args={"endpoint": ENDPOINT, "repeat": 5, "parallel": 5},
                latency=LatencySummary(
                    count=5,
                    failures=0,
                    parallel=5,
                    min=1.42,
                    p50=1.51,
                    p95=2.2,
                    max=2.31,
                    samples=samples,
                ),
                evidence={"requests": 15, "detected_by": "notification"},
            )
        ]
    if test_id == "cold-start":
        return [
            StepResult(
                name="first invocation after deploy",
                action="sagemaker.wait_result",
                status=Status.PASSED,
                started_at=start,
                duration=88.0,
                evidence={"cold_start_seconds": 88.0, "detected_by": "s3-poll", "requests": 9},
            ),
            StepResult(
                name="warm invocation",
                action="sagemaker.wait_result",
                status=Status.PASSED,
                started_at=start + timedelta(seconds=88.5),
                duration=1.6,
                evidence={"warm_seconds": 1.6, "detected_by": "notification", "requests": 1},
            ),
        ]
    if test_id == "compare-realtime":
        fail = kind == "needs_work"
        diff_text = (
            "Value of root['recommendations'][0]['score'] changed from 0.9234 to 0.9121."
            if fail
            else ""
        )
        return [
            StepResult(
                name="compare",
                action="core.compare",
                status=Status.FAILED if fail else Status.PASSED,
                started_at=start,
                duration=duration,
                args={"left": "{{ realtime }}", "right": "{{ async_result }}", "tolerance": 0.001},
                output={"equal": not fail},
                evidence={"diff": diff_text} if fail else {"diff": "no differences"},
                error="outputs differ beyond tolerance 0.001" if fail else None,
            )
        ]
    return []


def _criteria(texts: list[str], status: Status, fail: bool) -> tuple[CriterionResult, ...]:
    """All met, or (failed test) the second criterion unmet, or the only one."""
    out = []
    unmet = min(1, len(texts) - 1)
    for i, text in enumerate(texts):
        if status in (Status.BLOCKED, Status.SKIPPED):
            out.append(CriterionResult(text=text, passed=None))
            continue
        passed = not (fail and i == unmet)
        exp = _expectation("status", "Completed", "Completed" if passed else "Failed")
        out.append(CriterionResult(text=text, passed=passed, expectation=exp))
    return tuple(out)


def sample_run(kind: Kind = "approved", *, signoff: dict[str, str] | None = None) -> RunResult:
    """A 14-test run whose decision is APPROVED, NEEDS WORK or BLOCKED."""
    failing: set[str] = set()
    if kind == "needs_work":
        failing = {"compare-realtime", "logs"}
    elif kind == "blocked":
        failing = {"deploy"}
    skipped = {"large-payload"} if kind == "needs_work" else set()
    tests: list[TestResult] = []
    clock = START
    for test_id, title, critical, needs, criteria, duration in _TESTS:
        if test_id in skipped:
            status, reason = Status.SKIPPED, "deselected by --skip"
        elif kind == "blocked" and needs:
            # The engine's wording: the first need that failed or was blocked.
            how = "failed" if needs[0] == "deploy" else "was blocked"
            status, reason = Status.BLOCKED, f"needs {needs[0]}, which {how}"
        elif test_id in failing:
            status, reason = Status.FAILED, None
        else:
            status, reason = Status.PASSED, None
        ran = status in (Status.PASSED, Status.FAILED)
        steps = _special_steps(test_id, clock, duration, kind) or _steps(
            test_id, clock, duration, failing
        )
        tests.append(
            TestResult(
                id=test_id,
                title=title,
                status=status,
                started_at=clock if ran else None,
                duration=duration if ran else 0.0,
                critical=critical,
                always=test_id == "cleanup",
                needs=needs,
                tags=("performance",) if test_id in {"cold-start", "concurrency"} else (),
                steps=tuple(steps) if ran else (),
                criteria=_criteria(criteria, status, test_id in failing),
                reason=reason,
            )
        )
        if ran:
            clock += timedelta(seconds=duration)
    decision = decide(tests)
    return RunResult(
        run_id=RUN_ID,
        checklist="SageMaker async inference sign-off",
        checklist_path="checklists/async.yaml",
        profile="local",
        target="local",
        region="us-east-1",
        started_at=START,
        finished_at=clock + timedelta(seconds=0.5),
        tests=tuple(tests),
        decision=decision,
        description="The 14-test release checklist for the stylematch async endpoint.",
        signoff=signoff
        if signoff is not None
        else {
            "tester": "Priya Raman",
            "environment": "Staging",
            "model_version": "stylematch-2.3.1",
            "notes": "Cold start measured after a fresh deploy.",
        },
        environment={"checkrun": "0.1.0", "python": "3.11.9", "host": "ci-runner-7"},
    )


def expected_decision(kind: Kind) -> Decision:
    return {
        "approved": Decision.APPROVED,
        "needs_work": Decision.NEEDS_WORK,
        "blocked": Decision.BLOCKED,
    }[kind]

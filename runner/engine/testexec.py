"""The engine's side of one test: why it does not run, or its steps in order, then its criteria.

`TestExecution` is mixed into `Engine` (on top of `StepExecution`, one step); it needs
the engine's `ctx`, `checklist`, `context()` and `_on_interrupt()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runner.checklist.model import Test
from runner.engine.criteria import evaluate_criteria
from runner.engine.redact import redact_text
from runner.engine.results import Status, StepResult, TestResult
from runner.engine.stepexec import StepExecution


@dataclass
class Interrupt:
    """How many Ctrl-C / SIGTERM the run received (two abandon the cleanup)."""

    count: int = 0


class TestExecution(StepExecution):
    """Runs one test of the plan (or records why it does not run)."""

    __test__ = False  # not a pytest class, despite the name

    interrupt: Interrupt

    def _not_run_reason(
        self, item: Any, results: Mapping[str, TestResult], stop_reason: str | None
    ) -> tuple[Status, str] | None:
        test: Test = item.test
        if not item.selected:
            return Status.SKIPPED, item.reason or "not selected"
        if test.always:
            if self.interrupt.count > 1:
                return Status.SKIPPED, "interrupted twice: cleanup abandoned"
            return None  # always tests run whatever happened to what they need
        if self.interrupt.count:
            return Status.SKIPPED, "run interrupted"
        if stop_reason:
            return Status.SKIPPED, stop_reason
        for need in test.needs:
            got = results.get(need)
            if got is None:
                continue
            if got.status is Status.FAILED:
                return Status.BLOCKED, f"needs {need}, which failed"
            if got.status is Status.BLOCKED:
                return Status.BLOCKED, f"needs {need}, which was blocked"
            if got.status is Status.SKIPPED:
                return Status.SKIPPED, f"needs {need}, which was skipped"
        return None

    def _not_run(self, test: Test, status: Status, reason: str) -> TestResult:
        result = TestResult(
            id=test.id,
            title=test.display_title,
            status=status,
            started_at=None,
            duration=0.0,
            description=test.description,
            critical=test.critical,
            always=test.always,
            tags=tuple(test.tags),
            needs=tuple(test.needs),
            reason=reason,
            criteria=tuple(evaluate_criteria(test, None, {}, self.ctx.secrets)),
        )
        self.ctx.emit(
            {
                "event": "test_finished",
                "test": test.id,
                "title": test.display_title,
                "status": status.value,
                "duration": 0.0,
                "reason": reason,
            }
        )
        return result

    def _run_test(self, test: Test, index: int, total: int) -> TestResult:
        clock = self.ctx.clock
        started_at, start = clock.now(), clock.monotonic()
        deadline = start + test.timeout if test.timeout else None
        self.ctx.emit(
            {
                "event": "test_started",
                "test": test.id,
                "title": test.display_title,
                "index": index,
                "total": total,
                "steps": len(test.steps),
            }
        )
        steps: list[StepResult] = []
        outputs: dict[str, Any] = {}
        reason: str | None = None
        try:
            for n, step in enumerate(test.steps, 1):
                result, outcome = self._run_step(test, step, n, deadline)
                steps.append(result)
                if outcome is not None and result.status is Status.PASSED:
                    outputs[step.label] = outcome.value
                    outputs["__last__"] = outcome.value
                if result.status is Status.FAILED:
                    reason = f"step {n} ({step.label}) failed: {result.error}"
                    break
        except KeyboardInterrupt:  # between two steps
            self._on_interrupt()
            reason = "interrupted (Ctrl-C / SIGTERM)"
        if reason is not None:
            outputs.pop("__last__", None)  # the last step did not run
        criteria = evaluate_criteria(
            test,
            outputs,
            self.context(),
            self.ctx.secrets,
            complete=reason is None,
            failure=redact_text(reason, self.ctx.secrets) if reason else None,
        )
        unmet = [c.text for c in criteria if c.passed is False]
        if reason is None and unmet:
            reason = f"criterion not met: {unmet[0]}"
        status = Status.FAILED if reason else Status.PASSED
        duration = clock.monotonic() - start
        self.ctx.emit(
            {
                "event": "test_finished",
                "test": test.id,
                "title": test.display_title,
                "status": status.value,
                "duration": round(duration, 3),
                "reason": reason,
            }
        )
        return TestResult(
            id=test.id,
            title=test.display_title,
            status=status,
            started_at=started_at,
            duration=duration,
            description=test.description,
            critical=test.critical,
            always=test.always,
            tags=tuple(test.tags),
            needs=tuple(test.needs),
            steps=tuple(steps),
            criteria=tuple(criteria),
            reason=redact_text(reason, self.ctx.secrets) if reason else None,
        )

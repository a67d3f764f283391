"""The engine's side of one step: a worker thread, the deadline, Ctrl-C, the StepResult.

`StepExecution` is mixed into `Engine`; it needs the engine's `ctx`, `checklist`,
`context()` and `_on_interrupt()`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from runner.actions import registry
from runner.checklist.model import Checklist, Step, Test
from runner.checklist.template import TemplateError, render
from runner.engine.context import RunContext, StepContext
from runner.engine.redact import redact, redact_text
from runner.engine.results import Status, StepResult
from runner.engine.step import Outcome, StepRunner
from runner.errors import StepTimeout

if TYPE_CHECKING:
    pass

_POLL = 0.05  # seconds between deadline checks while a step runs


def step_label(step: Step, n: int) -> str:
    """How results and events name a step: its `name`, else "<n>. <action>"."""
    return step.name or f"{n}. {step.action}"


class StepExecution:
    ctx: RunContext
    checklist: Checklist

    def context(self, iteration: int = 0) -> dict[str, Any]:
        raise NotImplementedError

    def _on_interrupt(self) -> None:
        raise NotImplementedError

    # --- one step, in a worker thread --------------------------------------------------

    def _run_step(
        self, test: Test, step: Step, n: int, test_deadline: float | None
    ) -> tuple[StepResult, Outcome | None]:
        clock = self.ctx.clock
        started_at, start = clock.now(), clock.monotonic()
        timeout = step.timeout if step.timeout is not None else self.checklist.defaults.timeout
        deadline, what, limit = test_deadline, f"test {test.id}", test.timeout or 0.0
        if timeout is not None and (deadline is None or start + timeout < deadline):
            deadline, what, limit = start + timeout, "step", timeout
        label = step_label(step, n)
        sctx = StepContext(self.ctx, test.id, label, deadline)
        event = {"test": test.id, "step": label, "action": step.action, "index": n}
        try:
            self.ctx.emit({"event": "step_started", **event, "timeout": timeout})
            outcome, timed_out, interrupted = self._execute(step, sctx, deadline)
        except KeyboardInterrupt:  # arrived before the worker started
            sctx.stop.set()
            self._on_interrupt()
            outcome, timed_out, interrupted = None, False, True
        duration = clock.monotonic() - start
        if interrupted:
            outcome = Outcome(
                False,
                error="interrupted (Ctrl-C / SIGTERM)",
                error_code="Interrupted",
                attempts=sctx.attempt,
            )
        elif timed_out:
            error = StepTimeout(limit, what)
            outcome = Outcome(
                False, error=error.message, error_code=error.code, attempts=sctx.attempt
            )
        assert outcome is not None
        gave_up = deadline is not None and clock.monotonic() >= deadline - 0.01
        if not outcome.passed and not timed_out and gave_up:
            # The action stopped on its own at the deadline (it sees ctx.remaining()).
            timed_out = True
            message = StepTimeout(limit, what).message
            stopped = outcome.error_code == "Cancelled"
            outcome.error = message if stopped else f"{message} (last error: {outcome.error})"
            outcome.error_code = "Timeout"
        if outcome.passed:
            self.ctx.saved.update(outcome.saves)
        result = self._step_result(step, n, outcome, started_at, duration, timed_out)
        self.ctx.emit(
            {
                "event": "step_finished",
                "test": test.id,
                "step": label,
                "action": step.action,
                "status": result.status.value,
                "duration": round(duration, 3),
                "attempts": result.attempts,
                "error": result.error,
            }
        )
        return result, outcome

    def _execute(
        self, step: Step, sctx: StepContext, deadline: float | None
    ) -> tuple[Outcome | None, bool, bool]:
        """Run the step in a worker; (outcome, timed_out, interrupted)."""
        box: list[Outcome] = []
        spec = registry.get(step.action)
        if spec is None:
            return (
                Outcome(
                    False, error=f"unknown step type {step.action!r}", error_code="UnknownAction"
                ),
                False,
                False,
            )
        runner = StepRunner(
            step, spec, sctx, self.context, step.retry or self.checklist.defaults.retry
        )

        def work() -> None:
            try:
                box.append(runner.run())
            except BaseException as exc:
                box.append(
                    Outcome(False, error=f"{type(exc).__name__}: {exc}", error_code="InternalError")
                )

        worker = threading.Thread(target=work, name=f"checkrun-step-{sctx.step_name}", daemon=True)
        worker.start()
        try:
            while worker.is_alive():
                worker.join(_POLL)
                if (
                    worker.is_alive()
                    and deadline is not None
                    and self.ctx.clock.monotonic() >= deadline
                ):
                    sctx.stop.set()
                    worker.join(0.2)  # let a cooperative action stop and clean up
                    return None, True, False
        except KeyboardInterrupt:
            sctx.stop.set()
            self._on_interrupt()
            worker.join(0.5)
            return None, False, True
        outcome = box[0]
        outcome.attempts = max(outcome.attempts, runner.attempts)
        return outcome, False, False

    def _step_result(
        self,
        step: Step,
        n: int,
        outcome: Outcome,
        started_at: Any,
        duration: float,
        timed_out: bool,
    ) -> StepResult:
        secrets = self.ctx.secrets
        try:
            args = redact(render(step.args, self.context()), secrets)
        except TemplateError:
            args = redact(step.args, secrets)
        return StepResult(
            name=step_label(step, n),
            action=step.action,
            status=Status.PASSED if outcome.passed else Status.FAILED,
            started_at=started_at,
            duration=duration,
            attempts=max(outcome.attempts, 1),
            args=args,
            output=redact(outcome.value, secrets),
            expectations=tuple(outcome.expectations),
            error=redact_text(outcome.error, secrets) if outcome.error else None,
            error_code=outcome.error_code,
            timed_out=timed_out,
            evidence=redact(outcome.evidence, secrets),
            latency=outcome.latency,
        )

"""One step, end to end: render, call the action, retry/poll, check, repeat in parallel.

Everything here runs in a worker thread (see `run.py`): the engine's thread only
waits for it with the step's deadline, so a hung action cannot hang the run.
Retries and polling go through tenacity with the run's clock as its `sleep`, so
tests with a fake clock need no real waiting.
"""

from __future__ import annotations

import math
import queue
import re
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from tenacity import RetryCallState, Retrying, retry_if_exception, wait_exponential, wait_fixed

from runner.actions.registry import ActionOutput, ActionSpec
from runner.checklist.expect import check_all, search
from runner.checklist.model import Expectation, Retry, Step, Until
from runner.checklist.template import TemplateError, render
from runner.engine.context import StepContext
from runner.engine.results import ExpectationResult, LatencySummary
from runner.errors import ActionError

# Errors that retrying cannot fix (assert/compare are pure: same inputs, same answer).
_NO_RETRY = {
    "TemplateError",
    "InvalidArguments",
    "UnexpectedSuccess",
    "Cancelled",
    "UnknownAction",
    "AssertionFailed",
    "Mismatch",
}

TemplateContext = Callable[[int], dict[str, Any]]


class _NotYet(Exception):
    """`until` expectations do not hold yet: poll again."""

    def __init__(self, results: list[ExpectationResult], value: Any) -> None:
        super().__init__("; ".join(r.message for r in results if not r.passed))
        self.results = results
        self.value = value


class _ExpectFailed(Exception):
    """`expect` failed on an attempt and the retry policy retries on expectations."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.error or "expectations not met")
        self.outcome = outcome


@dataclass
class Outcome:
    """What one (possibly retried) execution of a step produced."""

    passed: bool
    value: Any = None
    evidence: dict[str, Any] = field(default_factory=dict)
    expectations: list[ExpectationResult] = field(default_factory=list)
    attempts: int = 0
    error: str | None = None
    error_code: str | None = None
    duration: float = 0.0
    saves: dict[str, Any] = field(default_factory=dict)
    latency: LatencySummary | None = None


@dataclass
class StepRunner:
    """Runs one step's attempts for the engine; `context(iteration)` gives template values."""

    step: Step
    spec: ActionSpec
    ctx: StepContext
    context: TemplateContext
    retry: Retry | None
    attempts: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def run(self) -> Outcome:
        if self.step.repeat == 1:
            return self._once(0)
        return self._repeat()

    # --- repeat / parallel ------------------------------------------------------------

    def _repeat(self) -> Outcome:
        count, parallel = self.step.repeat, min(self.step.parallel, self.step.repeat)
        outcomes = self._in_parallel(count, parallel)
        failures = [o for o in outcomes if not o.passed]
        durations = sorted(o.duration for o in outcomes)
        latency = LatencySummary(
            count=count,
            failures=len(failures),
            parallel=parallel,
            min=durations[0],
            p50=_percentile(durations, 50),
            p95=_percentile(durations, 95),
            max=durations[-1],
            samples=tuple(round(d, 6) for d in durations),
        )
        first = failures[0] if failures else None
        return Outcome(
            passed=not failures,
            value=[o.value for o in outcomes],
            evidence={"iterations": count, "failures": len(failures)},
            expectations=first.expectations if first else outcomes[-1].expectations,
            attempts=self.attempts,
            error=f"{len(failures)} of {count} iterations failed; first: {first.error}"
            if first
            else None,
            error_code=first.error_code if first else None,
            saves=self._saves([o.value for o in outcomes]) if not failures else {},
            latency=latency,
        )

    def _in_parallel(self, count: int, parallel: int) -> list[Outcome]:
        """Run iterations 0..count-1, `parallel` at a time, on daemon threads.

        Not a ThreadPoolExecutor: its threads are joined at interpreter exit, so one
        hung iteration of a timed-out step would keep checkrun from exiting.
        """
        todo: queue.SimpleQueue[int] = queue.SimpleQueue()
        for i in range(count):
            todo.put(i)
        results: dict[int, Outcome] = {}

        def worker() -> None:
            while True:
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    return
                results[i] = self._once(i)

        threads = [
            threading.Thread(target=worker, name=f"checkrun-repeat-{n}", daemon=True)
            for n in range(parallel)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return [results[i] for i in range(count)]

    # --- one iteration: until-polling around error-retries around one call ------------

    def _once(self, iteration: int) -> Outcome:
        started = time.monotonic()
        try:
            outcome = self._poll(iteration)
        except _NotYet as exc:
            outcome = Outcome(
                False,
                exc.value,
                expectations=exc.results,
                error=f"until not met: {exc}",
                error_code="UntilNotMet",
            )
        except _ExpectFailed as exc:
            outcome = exc.outcome
        except ActionError as exc:
            outcome = Outcome(
                False,
                exc.evidence or None,
                evidence=exc.evidence,
                error=exc.message,
                error_code=exc.code,
            )
        except Exception as exc:  # never lose an iteration to an unexpected error
            outcome = Outcome(
                False, error=f"{type(exc).__name__}: {exc}", error_code="InternalError"
            )
        outcome.attempts = self.attempts
        outcome.duration = time.monotonic() - started
        return outcome

    def _poll(self, iteration: int) -> Outcome:
        until = self.step.until
        if until is None:
            return self._with_retries(iteration)
        retrying = Retrying(
            stop=self._stop(until.attempts, until.timeout),
            wait=_wait(until.backoff, until.every, until.max),
            retry=retry_if_exception(lambda e: isinstance(e, _NotYet)),
            sleep=self.ctx.sleep,
            before_sleep=self._before_sleep(until.attempts, "polling"),
            reraise=True,
        )
        return retrying(self._with_retries, iteration)

    def _with_retries(self, iteration: int) -> Outcome:
        policy = self.retry
        if policy is None:
            return self._attempt(iteration)
        on = set(policy.on)

        def retryable(exc: BaseException) -> bool:
            if isinstance(exc, _ExpectFailed):
                return "expect" in on
            return isinstance(exc, ActionError) and "error" in on and exc.code not in _NO_RETRY

        retrying = Retrying(
            stop=self._stop(policy.attempts, None),
            wait=_wait(policy.wait, policy.initial, policy.max),
            retry=retry_if_exception(retryable),
            sleep=self.ctx.sleep,
            before_sleep=self._before_sleep(policy.attempts, "retrying"),
            reraise=True,
        )
        return retrying(self._attempt, iteration)

    def _stop(
        self, attempts: int | None, timeout: float | None
    ) -> Callable[[RetryCallState], bool]:
        clock = self.ctx.run.clock
        started = clock.monotonic()

        def stop(state: RetryCallState) -> bool:
            if self.ctx.cancelled or self.ctx.remaining() == 0:
                return True
            if attempts is not None and state.attempt_number >= attempts:
                return True
            return timeout is not None and clock.monotonic() - started >= timeout

        return stop

    def _before_sleep(self, of: int | None, why: str) -> Callable[[RetryCallState], None]:
        def emit(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            self.ctx.run.emit(
                {
                    "event": "attempt",
                    "test": self.ctx.test_id,
                    "step": self.ctx.step_name,
                    "attempt": state.attempt_number + 1,
                    "of": of,
                    "wait": round(wait, 3),
                    "why": why,
                    "reason": str(exc) if exc else None,
                }
            )

        return emit

    def _attempt(self, iteration: int) -> Outcome:
        with self._lock:  # repeat/parallel iterations share the count
            self.attempts += 1
            self.ctx.attempt = self.attempts
        if self.ctx.cancelled:
            raise ActionError("step cancelled", code="Cancelled")
        context = self.context(iteration)
        value, evidence = self._call(context)
        saves = self._saves(value)
        until: Until | None = self.step.until
        if until is not None:
            results = check_all(_rendered(until.expect, {**context, **saves}), value)
            if not all(r.passed for r in results):
                raise _NotYet(results, value)
        results = check_all(_rendered(self.step.expect, {**context, **saves}), value)
        failed = [r for r in results if not r.passed]
        outcome = Outcome(
            passed=not failed,
            value=value,
            evidence=evidence,
            expectations=results,
            error="; ".join(r.message for r in failed) or None,
            error_code="ExpectationFailed" if failed else None,
            saves=saves if not failed else {},
        )
        if failed:
            raise _ExpectFailed(outcome)
        return outcome

    def _call(self, context: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        try:
            args: Any = render(self.step.args, context)
        except TemplateError as exc:
            raise ActionError(str(exc), code="TemplateError") from exc
        if self.spec.args is not None:
            try:
                args = self.spec.args.model_validate(args)
            except ValidationError as exc:
                raise ActionError(
                    f"invalid arguments for {self.spec.name!r}: {_brief(exc)}",
                    code="InvalidArguments",
                ) from exc
        expected = self.step.expect_error
        try:
            raw = self.spec.func(args, self.ctx)
        except ActionError as exc:
            if expected is not None and _error_matches(exc, expected.code, expected.message):
                return {"error": exc.message, "code": exc.code}, {"expected_error": True}
            raise
        except Exception as exc:  # a plugin bug must fail the step, not the run
            raise ActionError(f"{type(exc).__name__}: {exc}", code=type(exc).__name__) from exc
        if expected is not None:
            wanted = _describe_expected(expected.code, expected.message)
            raise ActionError(
                f"expected an error{wanted}, but the step succeeded",
                code="UnexpectedSuccess",
            )
        if isinstance(raw, ActionOutput):
            return raw.value, dict(raw.evidence)
        if isinstance(raw, BaseModel):
            return raw.model_dump(mode="json"), {}
        return raw, {}

    def _saves(self, value: Any) -> dict[str, Any]:
        out = {}
        for name, path in self.step.save.items():
            try:
                out[name] = search(path, value)
            except ValueError as exc:
                raise ActionError(f"save {name}: {exc}", code="SaveFailed") from exc
        return out


def _rendered(expectations: list[Expectation], context: dict[str, Any]) -> list[Expectation]:
    """Expectations with their templated values rendered (an ActionError if they cannot be)."""
    out = []
    for e in expectations:
        raw = e.model_dump(exclude_unset=True)
        try:
            data = render(raw, context)
            out.append(Expectation.model_validate(data) if data != raw else e)
        except TemplateError as exc:
            raise ActionError(f"expectation on {e.path}: {exc}", code="TemplateError") from exc
        except ValidationError as exc:
            raise ActionError(
                f"expectation on {e.path}: {_brief(exc)}", code="TemplateError"
            ) from exc
    return out


def _wait(kind: str, initial: float, maximum: float) -> Any:
    if kind == "fixed":
        return wait_fixed(initial)
    return wait_exponential(multiplier=initial, min=initial, max=maximum)


def _percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if len(sorted_values) == 1:
        return sorted_values[0]
    if pct == 50:
        return statistics.median(sorted_values)
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def _error_matches(exc: ActionError, code: str | None, message: str | None) -> bool:
    if code is not None and exc.code != code:
        return False
    return message is None or re.search(message, exc.message) is not None


def _describe_expected(code: str | None, message: str | None) -> str:
    parts = [f"code {code}" if code else "", f"message matching {message!r}" if message else ""]
    text = " and ".join(p for p in parts if p)
    return f" ({text})" if text else ""


def _brief(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'args'}: {e['msg']}" for e in exc.errors()
    )


__all__ = ["Outcome", "StepRunner"]

"""Run a checklist: tests in `needs` order, blocked/skipped/always, timeouts, Ctrl-C.

`run_checklist()` is the whole of checkrun as a library call; the CLI only parses
arguments, calls it and maps the decision to an exit code. Each step runs in a
worker thread that the engine waits for with the step's deadline: a hung action
becomes a failed (timed out) step and the run goes on. Ctrl-C or SIGTERM stops
the current step, skips the rest, still runs every `always` test, and marks the
result interrupted (the CLI then exits 130).
"""

from __future__ import annotations

import contextlib
import platform
import secrets as _secrets
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from runner.checklist.load import load_checklist
from runner.checklist.model import Checklist
from runner.checklist.template import TemplateError, render
from runner.checklist.yamlpos import parse
from runner.engine.clock import Clock, SystemClock
from runner.engine.context import EventSink, RunContext
from runner.engine.ledger import Ledger
from runner.engine.plan import plan
from runner.engine.redact import redact, redact_text
from runner.engine.results import RunResult, Status, TestResult, decide
from runner.engine.signals import interrupts_raise_keyboard_interrupt
from runner.engine.stepexec import step_label
from runner.engine.testexec import Interrupt, TestExecution
from runner.engine.variables import (
    builtin_context,
    resolve_profile,
    resolve_vars,
    unused_cli_vars,
)
from runner.errors import ChecklistError, Problem

if TYPE_CHECKING:
    from typing_extensions import Unpack


class PlanOptions(TypedDict, total=False):
    """What `checkrun plan` and a run share: the profile, --var values, the selection."""

    profile: str | None
    vars: Mapping[str, Any] | None
    only: Sequence[str] | None
    skip: Sequence[str] | None
    tags: Sequence[str] | None


class RunOptions(PlanOptions, total=False):
    """The options of a run (`run_checklist`, `execute`), all keyword-only and optional."""

    fail_fast: bool
    report_dir: str | Path | None
    events: EventSink | None
    clock: Clock | None


def run_checklist(
    path: str | Path,
    *,
    json_path: str | Path | None = None,
    junit_path: str | Path | None = None,
    html_path: str | Path | None = None,
    metrics_path: str | Path | None = None,
    write: bool = True,
    **options: Unpack[RunOptions],
) -> RunResult:
    """Load, validate and run a checklist; write its reports; return the RunResult.

    `options`: profile, vars, only, skip, tags, fail_fast, report_dir, events, clock
    (see RunOptions). Raises ChecklistError (invalid file), UsageError (bad selection
    or profile). Step failures never raise: they are in the result.
    """
    result, engine = execute(path, **options)
    if write:
        from runner.report import write_reports

        write_reports(
            result,
            report_dir=engine.ctx.report_dir,
            json_path=Path(json_path) if json_path else None,
            junit_path=Path(junit_path) if junit_path else None,
            html_path=Path(html_path) if html_path else None,
            metrics_path=Path(metrics_path) if metrics_path else None,
            secrets=engine.ctx.secrets,
        )
    return result


def execute(path: str | Path, **options: Unpack[RunOptions]) -> tuple[RunResult, Engine]:
    """Run without writing reports; also return the Engine (its `ctx` has report_dir, secrets)."""
    engine = prepare(path, **options)
    result = engine.run(
        only=options.get("only"),
        skip=options.get("skip"),
        tags=options.get("tags"),
        fail_fast=options.get("fail_fast", False),
    )
    return result, engine


def prepare(path: str | Path, **options: Unpack[RunOptions]) -> Engine:
    """Load and validate the checklist, choose the profile: an Engine ready to run (or plan)."""
    cli_vars = dict(options.get("vars") or {})
    report_dir = options.get("report_dir")
    return Engine(
        load_checklist(path, extra_vars=cli_vars.keys()),
        Path(path),
        profile=options.get("profile"),
        cli_vars=cli_vars,
        report_dir=Path(report_dir) if report_dir else None,
        events=options.get("events"),
        clock=options.get("clock") or SystemClock(),
    )


def new_run_id(clock: Clock) -> str:
    return f"{clock.now():%Y%m%d-%H%M%S}-{_secrets.token_hex(3)}"


class Engine(TestExecution):
    """Executes one checklist once. Build it, call `run()`."""

    def __init__(
        self,
        checklist: Checklist,
        path: Path,
        *,
        profile: str | None = None,
        cli_vars: Mapping[str, Any] | None = None,
        report_dir: Path | None = None,
        events: EventSink | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.checklist = checklist
        self._source = path
        clock = clock or SystemClock()
        settings, profile_vars = resolve_profile(checklist, profile)
        run_id = new_run_id(clock)
        report_dir = report_dir or Path("reports") / run_id
        self.ctx = RunContext(
            run_id=run_id,
            started_at=clock.now(),
            checklist_path=path.resolve(),
            report_dir=report_dir,
            ledger=Ledger(
                report_dir / "ledger.json",
                run_id,
                {"checklist": str(path), "profile": settings.name},
            ),
            profile=settings,
            clock=clock,
            emit=self._safe_sink(events),
        )
        self._vars_layers = (profile_vars, dict(cli_vars or {}))
        self.interrupt = Interrupt()

    def _safe_sink(self, events: EventSink | None) -> EventSink:
        """Timestamped, redacted events; a broken renderer never breaks the run."""
        from datetime import datetime, timezone

        def emit(event: dict[str, Any]) -> None:
            if events is None:
                return
            stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
            with contextlib.suppress(Exception):
                # Retry reasons and action progress may quote secrets: logs are reports too.
                safe = redact(event, self.ctx.secrets, max_chars=2000)
                events({"time": stamp, **safe})

        return emit

    def context(self, iteration: int = 0) -> dict[str, Any]:
        """Template values: vars, saved outputs, profile, run, env, iteration."""
        return {
            **self.ctx.vars,
            **self.ctx.saved,
            **builtin_context(self.ctx.profile, self.ctx.vars, self.ctx),
            "iteration": iteration,
        }

    def resolve_vars(self) -> dict[str, Any]:
        """Resolve the vars (file, profile, --var) into `ctx.vars`, secrets into `ctx.secrets`."""
        profile_vars, cli_vars = self._vars_layers
        try:
            self.ctx.vars, self.ctx.secrets = resolve_vars(
                self.checklist, self.ctx.profile, profile_vars, cli_vars, self.ctx
            )
        except ChecklistError as exc:  # point at the var in the file: file:line:col
            raise ChecklistError([self._locate(p) for p in exc.problems]) from None
        return self.ctx.vars

    def _locate(self, problem: Problem) -> Problem:
        """`problem` with the file, line and column of its dotted `key` in the checklist."""
        if problem.file is not None or not problem.key or problem.key.startswith("-"):
            return problem
        try:
            doc = parse(self._source.read_text(encoding="utf-8"), str(self._source))
        except (OSError, UnicodeDecodeError):
            return problem
        path = tuple(problem.key.split("."))
        located = doc.problem(path, problem.message, hint=problem.hint)
        return replace(located, key=problem.key)

    # --- the run ----------------------------------------------------------------------

    def run(
        self,
        *,
        only: Sequence[str] | None = None,
        skip: Sequence[str] | None = None,
        tags: Sequence[str] | None = None,
        fail_fast: bool = False,
    ) -> RunResult:
        planned = plan(self.checklist, only=only, skip=skip, tags=tags)
        self.resolve_vars()
        self.ctx.emit(
            {
                "event": "run_started",
                "run_id": self.ctx.run_id,
                "checklist": self.checklist.checklist,
                "profile": self.ctx.profile.name,
                "target": self.ctx.profile.target,
                "tests": sum(1 for p in planned if p.selected),
                "report_dir": str(self.ctx.report_dir),
            }
        )
        for warning in unused_cli_vars(self.checklist, self._vars_layers[1]):
            self.ctx.emit({"event": "warning", "message": warning})
        results: dict[str, TestResult] = {}
        stop_reason: str | None = None
        with interrupts_raise_keyboard_interrupt():
            try:
                for index, item in enumerate(planned, 1):
                    test = item.test
                    try:
                        reason = self._not_run_reason(item, results, stop_reason)
                        if reason is not None:
                            status, why = reason
                            results[test.id] = self._not_run(test, status, why)
                            continue
                        if test.always:
                            self.ctx.cancel.clear()  # cleanup must run even after Ctrl-C
                        results[test.id] = self._run_test(test, index, len(planned))
                    except KeyboardInterrupt:
                        self._on_interrupt()
                        if test.id not in results:
                            results[test.id] = self._not_run(test, Status.FAILED, "interrupted")
                    if (
                        results[test.id].status is Status.FAILED
                        and fail_fast
                        and stop_reason is None
                    ):
                        stop_reason = f"skipped after --fail-fast (test {test.id} failed)"
            finally:
                self._teardown()
        tests = tuple(results[p.test.id] for p in planned)
        finished = self.ctx.clock.now()
        result = RunResult(
            run_id=self.ctx.run_id,
            checklist=self.checklist.checklist,
            checklist_path=str(self.ctx.checklist_path),
            profile=self.ctx.profile.name,
            target=self.ctx.profile.target,
            # An action family may report the region it resolved (AWS_REGION, local stack).
            region=self.ctx.profile.region or self.ctx.shared.get("environment", {}).get("region"),
            started_at=self.ctx.started_at,
            finished_at=finished,
            tests=tests,
            decision=decide(tests),
            description=self.checklist.description,
            interrupted=self.interrupt.count > 0,
            signoff=self._signoff(),
            environment=self._environment(),
        )
        self.ctx.emit(
            {
                "event": "run_finished",
                "decision": result.decision.value,
                "totals": result.totals,
                "duration": round(result.duration, 3),
                "interrupted": result.interrupted,
            }
        )
        return result

    # --- interrupts and teardown --------------------------------------------------------

    def _on_interrupt(self) -> None:
        self.interrupt.count += 1
        self.ctx.cancel.set()
        self.ctx.emit({"event": "interrupted", "count": self.interrupt.count})

    def _teardown(self) -> None:
        try:
            self.ctx.exit_stack.close()
        except KeyboardInterrupt:
            self.interrupt.count += 1
        except Exception as exc:
            self.ctx.emit(
                {"event": "teardown_error", "error": redact_text(str(exc), self.ctx.secrets)}
            )

    def _signoff(self) -> dict[str, str]:
        """The checklist's sign-off fields, templates rendered (e.g. "{{ env.USER }}")."""
        context = self.context()
        fields = {}
        for key, value in self.checklist.signoff.items():
            try:
                fields[key] = redact_text(str(render(value, context)), self.ctx.secrets)
            except TemplateError:
                fields[key] = value
        return fields

    def _environment(self) -> dict[str, str]:
        from runner import __version__

        env = {
            "checkrun": __version__,
            "python": platform.python_version(),
            "platform": platform.platform(terse=True),
            "host": platform.node(),
        }
        if self.ctx.profile.endpoint_url:
            env["endpoint_url"] = self.ctx.profile.endpoint_url
        env.update({k: str(v) for k, v in self.ctx.shared.get("environment", {}).items()})
        return env


__all__ = [
    "Engine",
    "PlanOptions",
    "RunOptions",
    "execute",
    "prepare",
    "resolve_profile",
    "resolve_vars",
    "run_checklist",
    "step_label",
]

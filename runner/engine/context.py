"""The explicit state of one run, handed to every action (no globals).

`RunContext` lives for the whole run; `StepContext` is what one step's action
receives. Action families keep per-run state (a boto3 session, the local stack,
a result waiter) in `RunContext.shared` under their own key and register their
teardown on `RunContext.exit_stack`, which the engine closes after the last test
(always-run tests included), even after Ctrl-C.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from runner.engine.clock import Clock, SystemClock
from runner.engine.ledger import Ledger

EventSink = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class ProfileSettings:
    """The selected profile, resolved: where the run's actions point."""

    name: str = "local"
    target: str = "local"  # "local": embedded local stack; "aws": the standard AWS chain
    region: str | None = None
    endpoint_url: str | None = None


@dataclass
class RunContext:
    run_id: str
    started_at: datetime
    checklist_path: Path
    report_dir: Path
    ledger: Ledger
    profile: ProfileSettings = field(default_factory=ProfileSettings)
    vars: dict[str, Any] = field(default_factory=dict)
    saved: dict[str, Any] = field(default_factory=dict)
    clock: Clock = field(default_factory=SystemClock)
    cancel: threading.Event = field(default_factory=threading.Event)
    emit: EventSink = field(default=lambda event: None)
    shared: dict[str, Any] = field(default_factory=dict)
    exit_stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    secrets: set[str] = field(default_factory=set)  # values redacted from every output

    @property
    def base_dir(self) -> Path:
        """Folder relative paths in step arguments are resolved against."""
        return self.checklist_path.parent

    def resolve_path(self, path: str | Path) -> Path:
        p = Path(path)
        return p if p.is_absolute() else self.base_dir / p


@dataclass
class StepContext:
    run: RunContext
    test_id: str
    step_name: str
    deadline: float | None = None  # clock.monotonic() value the step must finish by
    # Set by the engine when this step times out or the run is interrupted.
    stop: threading.Event = field(default_factory=threading.Event)
    attempt: int = 1

    def remaining(self) -> float | None:
        """Seconds left before the step's deadline (None: no deadline)."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - self.run.clock.monotonic())

    @property
    def cancelled(self) -> bool:
        """True once the step timed out or the run was interrupted: stop and raise."""
        return self.stop.is_set() or self.run.cancel.is_set()

    def sleep(self, seconds: float) -> None:
        """Sleep on the run's clock, never past the deadline, waking early when cancelled."""
        remaining = self.remaining()
        if remaining is not None:
            seconds = min(seconds, remaining)
        self.run.clock.sleep(seconds, self.stop)

    def progress(self, message: str, **fields: Any) -> None:
        """Report progress of a long wait (shown live on a terminal, logged otherwise)."""
        self.run.emit(
            {
                "event": "progress",
                "test": self.test_id,
                "step": self.step_name,
                "message": message,
                **fields,
            }
        )

"""Show a run's events: live on a terminal, timestamped lines in CI, JSON lines for pipelines.

The engine emits plain dict events (run/test/step started and finished, attempt,
progress, interrupted); a renderer turns them into output. `make_renderer()` picks
one: `rich` (a live status line with the current test, step, elapsed time and
"attempt n of m" on waits) when the stream is a terminal, `plain` otherwise,
`json` for one JSON object per event.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import IO, Any, Protocol

_MARK = {"passed": "PASS", "failed": "FAIL", "blocked": "BLOCK", "skipped": "SKIP"}
_STYLE = {"passed": "green", "failed": "red", "blocked": "yellow", "skipped": "dim"}


class Renderer(Protocol):
    def __call__(self, event: dict[str, Any]) -> None: ...
    def close(self) -> None: ...


class JsonRenderer:
    """One JSON object per event, nothing else (for log pipelines)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> None:
        with self.lock:
            self.stream.write(json.dumps(event, default=str) + "\n")
            self.stream.flush()

    def close(self) -> None:
        pass


def describe(event: dict[str, Any], verbosity: int) -> str | None:
    """The one-line text for an event (None: not shown at this verbosity)."""
    kind = event.get("event")
    test, step = event.get("test"), event.get("step")
    if kind == "run_started":
        return (
            f"run {event['run_id']}: {event['checklist']} "
            f"(profile {event['profile']}, target {event['target']}, {event['tests']} tests)"
        )
    if kind == "test_started":
        return f"[{event['index']}/{event['total']}] {test}: {event['title']}"
    if kind == "test_finished":
        mark = _MARK.get(event["status"], event["status"])
        reason = f" - {event['reason']}" if event.get("reason") else ""
        return f"{mark:5} {test} ({event['duration']:.2f}s){reason}"
    if kind == "step_started":
        return f"      {test} > {step} ..." if verbosity > 0 else None
    if kind == "step_finished":
        if verbosity <= 0 and event["status"] == "passed":
            return None
        attempts = f", {event['attempts']} attempts" if event.get("attempts", 1) > 1 else ""
        error = f": {event['error']}" if event.get("error") else ""
        return (
            f"      {test} > {step}: {event['status']} ({event['duration']:.2f}s{attempts}){error}"
        )
    if kind == "attempt":
        of = f" of {event['of']}" if event.get("of") else ""
        reason = f" ({event['reason']})" if event.get("reason") and verbosity > 0 else ""
        attempt = f"attempt {event['attempt']}{of} in {event['wait']:.1f}s"
        return f"      {test} > {step}: {event['why']}, {attempt}{reason}"
    if kind == "progress":
        return f"      {test} > {step}: {event['message']}"
    if kind == "interrupted":
        return "interrupted: stopping the current step, running cleanup (always) tests"
    if kind == "warning":
        return f"warning: {event['message']}"
    if kind == "teardown_error":
        return f"teardown error: {event['error']}"
    return None


class PlainRenderer:
    """Timestamped lines, one per event (CI logs)."""

    PROGRESS_EVERY = 5.0  # seconds between two progress lines of one step (unless -v)

    def __init__(self, stream: IO[str], verbosity: int = 0) -> None:
        self.stream = stream
        self.verbosity = verbosity
        self.lock = threading.Lock()
        self.last_progress: dict[tuple[Any, Any], float] = {}

    def _throttled(self, event: dict[str, Any]) -> bool:
        """Long waits report often; CI logs get one line per step every few seconds."""
        if event.get("event") != "progress" or self.verbosity > 0:
            return False
        key, now = (event.get("test"), event.get("step")), time.monotonic()
        if now - self.last_progress.get(key, -1e9) < self.PROGRESS_EVERY:
            return True
        self.last_progress[key] = now
        return False

    def __call__(self, event: dict[str, Any]) -> None:
        if self.verbosity < 0 and event.get("event") not in ("test_finished", "interrupted"):
            return
        if self._throttled(event):
            return
        text = describe(event, self.verbosity)
        if text is None:
            return
        stamp = str(event.get("time", ""))[11:19] or time.strftime("%H:%M:%S")
        with self.lock:
            self.stream.write(f"{stamp} {text}\n")
            self.stream.flush()

    def close(self) -> None:
        pass


class RichRenderer:
    """Finished tests as lines; a live status line for what runs now."""

    def __init__(self, stream: IO[str], verbosity: int = 0, color: bool = True) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = Console(file=stream, no_color=not color, highlight=False)
        self.verbosity = verbosity
        self.state: dict[str, Any] = {}
        self.lock = threading.Lock()
        self.live = Live(self, console=self.console, refresh_per_second=4, transient=True)
        self.live.start()

    def __rich__(self) -> Any:
        from rich.text import Text

        with self.lock:
            state = dict(self.state)
        if not state.get("test"):
            return Text("")
        elapsed = time.monotonic() - state.get("since", time.monotonic())
        line = Text.assemble(
            ("  running ", "bold cyan"),
            (f"[{state.get('index')}/{state.get('total')}] {state['test']}", "bold"),
            (f" > {state['step']}" if state.get("step") else "", ""),
            (f"  {elapsed:5.1f}s", "dim"),
        )
        if state.get("note"):
            line.append(f"  {state['note']}", style="yellow")
        return line

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        with self.lock:
            if kind == "test_started":
                self.state = {
                    "test": event["test"],
                    "index": event["index"],
                    "total": event["total"],
                }
            elif kind == "step_started":
                self.state.update(step=event["step"], since=time.monotonic(), note=None)
            elif kind == "attempt":
                of = f" of {event['of']}" if event.get("of") else ""
                self.state["note"] = (
                    f"{event['why']}: attempt {event['attempt']}{of} in {event['wait']:.1f}s"
                )
            elif kind == "progress":
                self.state["note"] = event["message"]
            elif kind == "test_finished":
                self.state = {}
        if kind in ("test_finished", "run_started", "interrupted", "teardown_error", "warning") or (
            kind == "step_finished" and (self.verbosity > 0 or event["status"] != "passed")
        ):
            self._print(event)

    def _print(self, event: dict[str, Any]) -> None:
        from rich.text import Text

        text = describe(event, self.verbosity)
        if text is None:
            return
        style = (
            _STYLE.get(str(event.get("status")), "")
            if event.get("event") == "test_finished"
            else ""
        )
        self.console.print(Text(text, style=style))

    def close(self) -> None:
        self.live.stop()


def make_renderer(
    log_format: str = "auto",
    *,
    stream: IO[str] | None = None,
    verbosity: int = 0,
    color: bool = True,
) -> Renderer:
    """`auto`: rich on a terminal, plain otherwise; or force `rich`, `plain`, `json`."""
    stream = stream or sys.stdout
    if log_format == "json":
        return JsonRenderer(stream)
    if log_format == "rich" or (log_format == "auto" and stream.isatty()):
        return RichRenderer(stream, verbosity, color)
    return PlainRenderer(stream, verbosity)

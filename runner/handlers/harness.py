"""Run a handler spec: extract the model, start the handler in its own process, collect results.

`run_handler_tests(spec)` is the Python API behind the `handler.test` action and
`checkrun handler`. The handler runs in `python -m runner.handlers.worker` with the spec's
environment; each call comes back as a `CallResult` with its timing and, on failure, the
handler's own error and traceback. A handler that hangs past the spec's timeout is killed and
the call it was in is reported as failed; the calls it never reached are reported as skipped.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from runner.errors import Problem
from runner.handlers.samples import load_samples
from runner.handlers.spec import HandlerSpec, HandlerSpecError

FUNCTION_ORDER = (
    "requirements",
    "import",
    "model_fn",
    "input_fn",
    "predict_fn",
    "output_fn",
    "end_to_end",
)
LOG_TAIL_CHARS = 20_000


@dataclass(frozen=True)
class CallResult:
    """One call of one handler function (or of the whole request, `end_to_end`)."""

    function: str
    status: str  # "passed" | "failed" | "skipped"
    seconds: float = 0.0
    sample: str | None = None
    content_type: str | None = None
    accept: str | None = None
    uses_default: bool = False  # the toolkit default ran: the handler does not define it
    error: str | None = None  # the handler's exception, e.g. "ValueError: bad row"
    traceback: str | None = None  # the handler's own frames
    reason: str | None = None  # why it was skipped
    output: dict[str, Any] | None = None  # what it returned (type, shape, bytes, preview)

    @property
    def label(self) -> str:
        parts = [self.function]
        if self.sample:
            parts.append(self.sample)
        if self.accept:
            parts.append(f"accept {self.accept}")
        return " / ".join(parts)


@dataclass(frozen=True)
class FunctionSummary:
    """Totals for one function across samples and accept types."""

    function: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    total_seconds: float = 0.0
    max_seconds: float = 0.0


@dataclass(frozen=True)
class HandlerReport:
    """Everything one handler test run found."""

    handler_name: str
    model: str
    entry: str | None
    defines: tuple[str, ...]
    results: tuple[CallResult, ...]
    seconds: float
    timed_out: bool = False
    exit_code: int | None = None
    log: str = ""  # the handler's stderr (tail)
    summary: tuple[FunctionSummary, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.timed_out and not self.failures and bool(self.passed)

    @property
    def failures(self) -> list[CallResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def passed(self) -> list[CallResult]:
        return [r for r in self.results if r.status == "passed"]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        data["summary"] = {
            s.function: {k: v for k, v in asdict(s).items() if k != "function"}
            for s in self.summary
        }
        data["failed"] = len(self.failures)
        return data

    def describe_failures(self, limit: int = 5) -> str:
        """One line per failure (at most `limit`), for error messages."""
        lines = [f"{r.label}: {r.error}" for r in self.failures[:limit]]
        if len(self.failures) > limit:
            lines.append(f"... and {len(self.failures) - limit} more")
        if self.timed_out:
            lines.append(f"the handler was stopped after {self.seconds:.1f}s (timeout)")
        return "\n".join(lines)


def summarise(results: list[CallResult]) -> tuple[FunctionSummary, ...]:
    """Per-function totals in call order (import, model_fn, input_fn, ..., end_to_end)."""
    out = []
    for function in FUNCTION_ORDER:
        mine = [r for r in results if r.function == function]
        if not mine:
            continue
        times = [r.seconds for r in mine if r.status != "skipped"]
        out.append(
            FunctionSummary(
                function,
                passed=sum(r.status == "passed" for r in mine),
                failed=sum(r.status == "failed" for r in mine),
                skipped=sum(r.status == "skipped" for r in mine),
                total_seconds=sum(times),
                max_seconds=max(times, default=0.0),
            )
        )
    return tuple(out)


def _prepare_model(spec: HandlerSpec, work: Path) -> Path:
    """The folder to load the handler from: the spec's folder, or its archive extracted.

    An archive that is unsafe to extract (members outside it, links out, devices) is a
    problem with the spec's model like any other: HandlerSpecError, nothing run."""
    from runner.model import ModelArchiveError, extract_model

    path = spec.model_path
    if path.is_dir():
        return path
    try:
        return extract_model(path, work / "model")
    except ModelArchiveError as exc:
        raise HandlerSpecError(Problem(str(exc), key="model")) from None


def _job(spec: HandlerSpec, model_dir: Path, work: Path) -> dict[str, Any]:
    payloads = spec.payloads_path
    assert payloads is not None  # check() guarantees it
    samples_dir = work / "samples"
    samples_dir.mkdir()
    samples = []
    for i, sample in enumerate(load_samples(payloads)):
        file = samples_dir / f"{i:04d}"
        file.write_bytes(sample.body)
        samples.append(
            {"name": sample.name, "content_type": sample.content_type, "file": str(file)}
        )
    return {
        "model_dir": str(model_dir),
        "framework": spec.framework,
        "accept_types": list(spec.accept_types),
        "samples": samples,
        "checks": {
            "input_fn": spec.validate_input_processing,
            "predict_fn": spec.validate_prediction,
            "output_fn": spec.validate_output_formatting,
            "end_to_end": spec.validate_end_to_end,
        },
    }


def _worker_env(spec: HandlerSpec) -> dict[str, str]:
    env = dict(os.environ)
    env.update(spec.env)
    # the worker imports runner from the same place this process does
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    return env


def _read_events(stream: Any, events: list[dict[str, Any]]) -> None:
    for line in stream:
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # not ours; the worker never writes anything else here


def run_handler_tests(
    spec: HandlerSpec,
    *,
    timeout: float | None = None,
    stop: threading.Event | None = None,
    python: str = sys.executable,
    work_root: Path | None = None,
) -> HandlerReport:
    """Test the spec's handler offline; raises HandlerSpecError when the spec has problems.

    `timeout` (seconds) caps the spec's own `timeout_seconds`, e.g. to a step's remaining time;
    setting `stop` (a step's cancel event) stops the handler early. The extracted model,
    samples and log live in a temporary folder (under `work_root` when given) that is removed
    before returning; the handler process and anything it started are gone by then, even
    after Ctrl-C.
    """
    spec.check()
    limit = min(spec.timeout_seconds, timeout) if timeout is not None else spec.timeout_seconds
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="checkrun-handler-", dir=work_root) as tmp:
        work = Path(tmp)
        model_dir = _prepare_model(spec, work)
        job_file = work / "job.json"
        job_file.write_text(json.dumps(_job(spec, model_dir, work)), encoding="utf-8")
        log_file = work / "handler.log"
        events: list[dict[str, Any]] = []
        with open(log_file, "wb") as log:
            proc = subprocess.Popen(
                [python, "-m", "runner.handlers.worker", str(job_file)],
                stdout=subprocess.PIPE,
                stderr=log,
                stdin=subprocess.DEVNULL,
                env=_worker_env(spec),
                cwd=str(model_dir),
                text=True,
                start_new_session=True,  # so a timeout can stop the handler's children too
            )
            reader = threading.Thread(target=_read_events, args=(proc.stdout, events), daemon=True)
            reader.start()
            try:
                stopped = _wait(proc, started + limit, stop)
            finally:
                _kill(proc)  # the worker, or what the handler left running in its session
            reader.join(timeout=5)
        log_text = log_file.read_text(encoding="utf-8", errors="replace")[-LOG_TAIL_CHARS:]
    if stopped == "timeout":
        stopped = f"timed out after {limit:g}s"
    elif stopped == "cancelled":
        stopped = "cancelled (the step timed out or the run was interrupted)"
    return _report(spec, events, time.monotonic() - started, stopped, proc.returncode, log_text)


def _wait(proc: subprocess.Popen[str], deadline: float, stop: threading.Event | None) -> str | None:
    """None when the worker finished; "timeout" or "cancelled" when it has to be stopped."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return "timeout"
        try:
            proc.wait(timeout=min(left, 0.1) if stop is not None else left)
            return None
        except subprocess.TimeoutExpired:
            if stop is not None and stop.is_set():
                return "cancelled"


def _kill(proc: subprocess.Popen[str]) -> None:
    """Stop the worker's session: the worker and any process the handler started in it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        if proc.poll() is None:
            proc.kill()
    proc.wait()


def _report(
    spec: HandlerSpec,
    events: list[dict[str, Any]],
    seconds: float,
    stopped: str | None,
    exit_code: int | None,
    log: str,
) -> HandlerReport:
    results: list[CallResult] = []
    running: dict[str, Any] | None = None
    entry, defines = None, ()
    for event in events:
        kind = event.get("event")
        if kind == "start":
            running = event
        elif kind == "result":
            running = None
            results.append(_result(event))
        elif kind == "handler":
            entry, defines = event.get("entry"), tuple(event.get("defines", ()))
    finished = any(e.get("event") == "done" for e in events)
    if running is not None or not finished:
        why = stopped or f"the handler process died (exit code {exit_code})"
        where = running or {"function": "import" if not results else "end_to_end"}
        results.append(
            _result(where | {"status": "failed", "seconds": 0.0, "error": f"HandlerStopped: {why}"})
        )
        reached = {r.function for r in results}
        results += [
            CallResult(fn, "skipped", reason="the handler was stopped")
            for fn in FUNCTION_ORDER
            if fn not in reached and fn != "requirements"  # only checked when the file exists
        ]
    return HandlerReport(
        handler_name=spec.handler_name,
        model=str(spec.model_path),
        entry=entry,
        defines=defines,
        results=tuple(results),
        seconds=seconds,
        timed_out=bool(stopped and stopped.startswith("timed out")),
        exit_code=exit_code,
        log=log,
        summary=summarise(results),
    )


def _result(event: Mapping[str, Any]) -> CallResult:
    keys = CallResult.__dataclass_fields__
    return CallResult(**{k: v for k, v in event.items() if k in keys})

"""The core step types: exec, http, sleep, assert, compare.

They know nothing about AWS. Each honours the step's deadline and cancellation
(`ctx.remaining()`, `ctx.cancelled`) so a timed-out or interrupted step stops
promptly instead of leaving a process or a socket behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from runner.actions.registry import ActionOutput, action
from runner.checklist.expect import check_all
from runner.checklist.model import Duration, Expectations
from runner.engine.context import StepContext
from runner.errors import ActionError

_TAIL = 2000  # characters of stderr quoted in an error message


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExecArgs(_Args):
    cmd: Annotated[list[str], Field(min_length=1)] | Annotated[str, Field(min_length=1)]
    shell: bool = False
    cwd: str | None = None
    env: dict[str, str] = {}
    input: str | None = None
    check: bool = True  # a non-zero exit code fails the step

    @model_validator(mode="after")
    def _no_shell_string(self) -> ExecArgs:
        if isinstance(self.cmd, str) and not self.shell:
            raise ValueError("`cmd` is a string: give a list of arguments, or set `shell: true`")
        return self


def _parse_json(text: str) -> Any:
    stripped = text.strip()
    if not stripped:
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        return None


@action("exec", args=ExecArgs)
def exec_(args: ExecArgs, ctx: StepContext) -> dict[str, Any]:
    """Run a command (argument list; a shell only with `shell: true`)."""
    cwd = ctx.run.resolve_path(args.cwd) if args.cwd else ctx.run.base_dir
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            args.cmd,
            shell=args.shell,
            cwd=cwd,
            env={**os.environ, **args.env},
            stdin=subprocess.PIPE if args.input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # Ctrl-C goes to checkrun, which stops the step itself
        )
    except OSError as exc:
        raise ActionError(
            f"cannot run {args.cmd!r}: {exc.strerror or exc}", code="ExecError"
        ) from exc
    stdout, stderr = _communicate(proc, args.input, ctx)
    output = {
        "exit_code": proc.returncode,
        "stdout": stdout,
        "stderr": stderr,
        "json": _parse_json(stdout),
        "duration": round(time.monotonic() - started, 3),
    }
    if args.check and proc.returncode != 0:
        tail = stderr.strip()[-_TAIL:]
        raise ActionError(
            f"command exited with code {proc.returncode}" + (f": {tail}" if tail else ""),
            code="ExitCode",
            evidence=output,
        )
    return output


def _communicate(
    proc: subprocess.Popen[str], stdin: str | None, ctx: StepContext
) -> tuple[str, str]:
    """Wait for the process, killing it if the step is cancelled or out of time."""
    pending = stdin
    while True:
        remaining = ctx.remaining()
        slice_ = 0.1 if remaining is None else max(0.01, min(0.1, remaining))
        try:
            out, err = proc.communicate(pending, timeout=slice_)
            return out, err
        except subprocess.TimeoutExpired:
            pending = None
        if ctx.cancelled or remaining == 0:
            proc.kill()
            out, err = proc.communicate()
            raise ActionError(
                "command stopped (step cancelled or timed out)",
                code="Cancelled",
                evidence={"stdout": out, "stderr": err},
            )


class HttpArgs(_Args):
    url: str
    method: str = "GET"
    headers: dict[str, str] = {}
    params: dict[str, Any] = {}
    json_: Any = Field(default=None, alias="json")
    body: str | None = None
    timeout: Duration = 30.0

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _decode_body(raw: bytes, content_type: str) -> Any:
    text = raw.decode("utf-8", errors="replace")
    if "json" in content_type or _parse_json(text) is not None:
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


@action("http", args=HttpArgs)
def http(args: HttpArgs, ctx: StepContext) -> ActionOutput:
    """Make an HTTP request; the output has status, headers and the (parsed) body."""
    url = args.url
    if args.params:
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode(args.params, doseq=True)
    headers = dict(args.headers)
    data: bytes | None = None
    if args.json_ is not None:
        data = json.dumps(args.json_).encode()
        headers.setdefault("Content-Type", "application/json")
    elif args.body is not None:
        data = args.body.encode()
    request = urllib.request.Request(url, data=data, headers=headers, method=args.method.upper())
    remaining = ctx.remaining()
    timeout = args.timeout if remaining is None else max(0.01, min(args.timeout, remaining))
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw, resp_headers = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        status, raw, resp_headers = exc.code, exc.read(), dict(exc.headers)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ActionError(
            f"{args.method.upper()} {url} failed: {reason}", code="ConnectionError"
        ) from exc
    elapsed = time.monotonic() - started
    content_type = resp_headers.get("Content-Type", "")
    value = {
        "status": status,
        "headers": resp_headers,
        "body": _decode_body(raw, content_type),
        "elapsed": round(elapsed, 4),
    }
    return ActionOutput(value, {"request": f"{args.method.upper()} {url}", "status": status})


class SleepArgs(_Args):
    duration: Duration


@action("sleep", args=SleepArgs)
def sleep(args: SleepArgs, ctx: StepContext) -> dict[str, float]:
    """Wait for a duration (wakes early when the step is cancelled)."""
    ctx.sleep(args.duration)
    return {"slept": args.duration}


class AssertArgs(_Args):
    value: Any = None
    expect: Expectations


@action("assert", args=AssertArgs)
def assert_(args: AssertArgs, ctx: StepContext) -> Any:
    """Check expectations over any (templated) value."""
    results = check_all(args.expect, args.value)
    failed = [r.message for r in results if not r.passed]
    if failed:
        raise ActionError("; ".join(failed), code="AssertionFailed")
    return args.value


class CompareArgs(_Args):
    actual: Any = None
    expected: Any = None
    expected_file: str | None = None  # JSON file with the expected value (a golden file)
    tolerance: float = 0.0  # absolute numeric tolerance
    ignore_order: bool = False
    exclude_paths: list[str] = []
    mode: Literal["equal"] = "equal"


@action("compare", args=CompareArgs)
def compare(args: CompareArgs, ctx: StepContext) -> ActionOutput:
    """Deep-compare two values (numeric tolerance, ignore_order, excluded paths)."""
    from deepdiff import DeepDiff  # imported here: validate stays fast

    expected = args.expected
    if args.expected_file:
        path = ctx.run.resolve_path(args.expected_file)
        try:
            expected = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ActionError(f"cannot read expected_file {path}: {exc}", code="FileError") from exc
    options: dict[str, Any] = {
        "ignore_order": args.ignore_order,
        "exclude_paths": [p if p.startswith("root") else f"root{p}" for p in args.exclude_paths],
    }
    if args.tolerance:
        options["math_epsilon"] = args.tolerance
    diff = DeepDiff(expected, args.actual, **options)
    if diff:
        text = diff.pretty() if hasattr(diff, "pretty") else str(diff)
        raise ActionError(
            f"values differ: {text}",
            code="Mismatch",
            evidence={"diff": json.loads(diff.to_json())},
        )
    return ActionOutput({"equal": True}, {})

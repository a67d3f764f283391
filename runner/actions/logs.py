"""CloudWatch Logs step type: `logs.expect` (patterns present and absent since the run started)."""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from runner.actions.aws import aws_errors, clients, is_not_found, stop_event
from runner.actions.registry import ActionOutput, action
from runner.engine.context import StepContext
from runner.errors import ActionError


class LogsExpectArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    log_group: str | None = None
    endpoint: str | None = None  # log group /aws/sagemaker/Endpoints/<endpoint>
    present: list[str] = Field(default_factory=list)  # regexes that must each match an event
    absent: list[str] = Field(default_factory=list)  # regexes no event may match
    timeout: float = Field(default=30.0, ge=0)  # how long to wait for `present` patterns
    since: str | None = None  # ISO time to read from (default: when the run started)
    # Log timestamps come from the instance's clock: read this much before `since`.
    skew_seconds: float = Field(default=1.0, ge=0)
    # false: report `missing` / `unexpected` in the value and let criteria judge each one
    fail: bool = True

    @model_validator(mode="after")
    def _group(self) -> LogsExpectArgs:
        if not self.log_group and not self.endpoint:
            raise ValueError("give log_group or endpoint")
        for pattern in [*self.present, *self.absent]:
            re.compile(pattern)
        return self


def read_events(ctx: StepContext, group: str, since_ms: int) -> list[dict[str, Any]]:
    """Every event in `group` since `since_ms` (all streams, paginated); [] if no group yet."""
    logs = clients(ctx).client("logs")
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"logGroupName": group, "startTime": since_ms}
    with aws_errors(f"read log group {group}"):
        try:
            while True:
                page = logs.filter_log_events(**kwargs)
                events.extend(page.get("events", []))
                token = page.get("nextToken")
                if not token or token == kwargs.get("nextToken"):
                    break
                kwargs["nextToken"] = token
        except Exception as exc:
            if is_not_found(exc):
                return []
            raise
    return events


@action("logs.expect", args=LogsExpectArgs)
def expect(args: LogsExpectArgs, ctx: StepContext) -> ActionOutput:
    """Check a log group since the run started: `present` patterns appear, `absent` ones don't."""
    group = args.log_group or f"/aws/sagemaker/Endpoints/{args.endpoint}"
    start = datetime.fromisoformat(args.since) if args.since else ctx.run.started_at
    since_ms = int((start.timestamp() - args.skew_seconds) * 1000)
    deadline = time.monotonic() + args.timeout
    while True:
        events = read_events(ctx, group, since_ms)
        present = {
            p: sum(1 for e in events if re.search(p, e.get("message", ""))) for p in args.present
        }
        missing = [p for p, n in present.items() if n == 0]
        if not missing or time.monotonic() >= deadline or ctx.cancelled:
            break
        ctx.run.clock.sleep(min(1.0, max(0.0, deadline - time.monotonic())), stop_event(ctx))
    absent = {p: sum(1 for e in events if re.search(p, e.get("message", ""))) for p in args.absent}
    found = [p for p, n in absent.items() if n]
    # The offending lines themselves, so a report says what the error was.
    lines = [
        e.get("message", "")[:300]
        for e in events
        if any(re.search(p, e.get("message", "")) for p in found)
    ][:10]
    value = {
        "log_group": group,
        "events": len(events),
        "present": present,
        "absent": absent,
        "missing": missing,
        "unexpected": found,
        "unexpected_lines": lines,
        "ok": not missing and not found,
        "samples": [e.get("message", "")[:200] for e in events[:5]],
    }
    if args.fail and (missing or found):
        parts = []
        if missing:
            parts.append(f"no event matches {missing}")
        if found:
            parts.append(f"events match forbidden {found}, e.g. {lines[0]!r}")
        raise ActionError(
            f"log group {group}: " + "; ".join(parts), code="LogsMismatch", evidence=value
        )
    evidence = {"log_group": group, "events": len(events), "missing": missing}
    return ActionOutput(value, evidence=evidence | {"unexpected_lines": lines})

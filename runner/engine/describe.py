"""`checkrun plan`: what a run would do, with the values it would use, executing nothing.

Vars are resolved for the chosen profile; step arguments are rendered where every
name is known now (saved values only exist at run time, so those stay as written).
Secret values are masked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from runner.checklist.load import load_checklist
from runner.checklist.template import render_lenient
from runner.engine.clock import SystemClock
from runner.engine.plan import plan
from runner.engine.redact import MASK, redact
from runner.engine.run import Engine, resolve_vars, step_label


def describe_plan(
    path: str | Path,
    *,
    profile: str | None = None,
    vars: Mapping[str, Any] | None = None,
    only: Sequence[str] | None = None,
    skip: Sequence[str] | None = None,
    tags: Sequence[str] | None = None,
) -> dict[str, Any]:
    """A JSON-able description of the run: profile, vars, tests in order with their steps."""
    checklist = load_checklist(path, extra_vars=(vars or {}).keys())
    engine = Engine(checklist, Path(path), profile=profile, cli_vars=vars, clock=SystemClock())
    profile_vars, cli_vars = engine._vars_layers
    resolved, secrets = resolve_vars(
        checklist, engine.ctx.profile, profile_vars, cli_vars, engine.ctx
    )
    engine.ctx.vars = resolved
    context = engine.context()
    defaults = checklist.defaults
    tests = []
    for item in plan(checklist, only=only, skip=skip, tags=tags):
        test = item.test
        steps = []
        for n, step in enumerate(test.steps, 1):
            retry = step.retry or defaults.retry
            timeout = step.timeout if step.timeout is not None else defaults.timeout
            steps.append(
                {
                    "name": step_label(step, n),
                    "action": step.action,
                    "args": redact(render_lenient(step.args, context), secrets),
                    "timeout": timeout,
                    "retry": retry.model_dump() if retry else None,
                    "until": bool(step.until),
                    "repeat": step.repeat,
                    "parallel": step.parallel,
                    "save": list(step.save),
                }
            )
        tests.append(
            {
                "id": test.id,
                "title": test.display_title,
                "run": item.selected,
                "note": item.reason,
                "needs": test.needs,
                "critical": test.critical,
                "always": test.always,
                "timeout": test.timeout,
                "steps": steps,
            }
        )
    settings = engine.ctx.profile
    return {
        "checklist": checklist.checklist,
        "profile": {
            "name": settings.name,
            "target": settings.target,
            "region": settings.region,
            "endpoint_url": settings.endpoint_url,
        },
        "vars": redact({k: MASK if str(v) in secrets else v for k, v in resolved.items()}, secrets),
        "tests": tests,
    }


def format_plan(described: Mapping[str, Any]) -> str:
    """The plan as text for a terminal."""
    p = described["profile"]
    lines = [
        f"{described['checklist']}",
        f"profile {p['name']} (target {p['target']}"
        + (f", region {p['region']}" if p["region"] else "")
        + (f", endpoint {p['endpoint_url']}" if p["endpoint_url"] else "")
        + ")",
    ]
    if described["vars"]:
        lines.append("vars:")
        lines += [f"  {k} = {v!r}" for k, v in described["vars"].items()]
    order = 0
    for test in described["tests"]:
        flags = [f for f in ("critical", "always") if test[f]]
        head = f"{test['id']}: {test['title']}" + (f" [{', '.join(flags)}]" if flags else "")
        if not test["run"]:
            lines.append(f"  -  {head}  (not run: {test['note']})")
            continue
        order += 1
        needs = f"  needs {', '.join(test['needs'])}" if test["needs"] else ""
        note = f"  ({test['note']})" if test["note"] else ""
        lines.append(f"{order:>3}. {head}{needs}{note}")
        for step in test["steps"]:
            extras = []
            if step["timeout"]:
                extras.append(f"timeout {step['timeout']:g}s")
            if step["retry"]:
                extras.append(f"retry x{step['retry']['attempts']}")
            if step["until"]:
                extras.append("polls until")
            if step["repeat"] > 1:
                extras.append(f"repeat {step['repeat']} x{step['parallel']} parallel")
            if step["save"]:
                extras.append("saves " + ", ".join(step["save"]))
            suffix = f"  [{'; '.join(extras)}]" if extras else ""
            lines.append(f"       - {step['name']}: {step['action']} {step['args']}{suffix}")
    return "\n".join(lines)

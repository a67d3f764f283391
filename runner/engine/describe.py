"""`checkrun plan`: what a run would do, with the values it would use, executing nothing.

Vars are resolved for the chosen profile; step arguments are rendered where every
name is known now (saved values only exist at run time, so those stay as written).
Secret values are masked.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.checklist.template import render_lenient
from runner.engine.plan import plan
from runner.engine.redact import MASK, redact
from runner.engine.run import PlanOptions, prepare, step_label

if TYPE_CHECKING:
    from typing_extensions import Unpack


def describe_plan(path: str | Path, **options: Unpack[PlanOptions]) -> dict[str, Any]:
    """A JSON-able description of the run: profile, vars, tests in order with their steps.

    `options`: profile, vars, only, skip, tags, as for a run.
    """
    engine = prepare(path, profile=options.get("profile"), vars=options.get("vars"))
    checklist = engine.checklist
    resolved = engine.resolve_vars()
    secrets = engine.ctx.secrets
    context = engine.context()
    defaults = checklist.defaults
    tests = []
    for item in plan(
        checklist, only=options.get("only"), skip=options.get("skip"), tags=options.get("tags")
    ):
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

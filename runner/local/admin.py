"""The stack's own small HTTP API under `/_checkrun/` (never an AWS path).

    GET    /_checkrun/health   {"status": "ok", "endpoints": [{"name", "region", "status"}]}
    GET    /_checkrun/faults   {"plan": <FaultPlan or null>, "fired": {"0:throttle": 3}}
    PUT    /_checkrun/faults   body: a FaultPlan as JSON or YAML; replaces the current plan
    DELETE /_checkrun/faults   no more faults

So a checklist or script can switch faults on and off on a running `checkrun local`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import yaml
from pydantic import ValidationError

from runner.local import wire
from runner.local.faults import FaultPlan
from runner.local.wire import StartResponse, WsgiEnviron

PREFIX = "/_checkrun/"


def _json(start_response: StartResponse, status: int, payload: Any) -> list[bytes]:
    body = json.dumps(payload, default=str).encode("utf-8")
    return wire.respond(start_response, status, body, [("Content-Type", "application/json")])


def handle(
    environ: WsgiEnviron,
    start_response: StartResponse,
    *,
    get_faults: Callable[[], FaultPlan | None],
    set_faults: Callable[[FaultPlan | None], None],
    endpoints: Callable[[], list[dict[str, str]]],
) -> list[bytes]:
    """Answer one /_checkrun/ request."""
    path = environ.get("PATH_INFO", "")[len(PREFIX) :].strip("/")
    method = environ.get("REQUEST_METHOD", "GET")
    if path == "health" and method == "GET":
        return _json(start_response, 200, {"status": "ok", "endpoints": endpoints()})
    if path != "faults":
        return _json(start_response, 404, {"message": f"no such path: {PREFIX}{path}"})
    if method == "GET":
        plan = get_faults()
        return _json(
            start_response,
            200,
            {
                "plan": None if plan is None else plan.model_dump(),
                "fired": {} if plan is None else plan.fired(),
            },
        )
    if method == "DELETE":
        set_faults(None)
        return _json(start_response, 200, {"plan": None})
    if method in ("PUT", "POST"):
        raw = wire.read_body(environ).decode("utf-8", "replace")
        try:
            plan = FaultPlan.model_validate(yaml.safe_load(raw) or {})
        except (yaml.YAMLError, ValidationError) as exc:
            return _json(start_response, 400, {"message": f"invalid fault plan: {exc}"})
        set_faults(plan)
        return _json(start_response, 200, {"plan": plan.model_dump()})
    return _json(start_response, 405, {"message": f"{method} is not allowed on {PREFIX}faults"})

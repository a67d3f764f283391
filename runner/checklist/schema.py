"""JSON Schema of the checklist language, for yaml-language-server and other editors.

Built from the pydantic models, with the step written as users write it: the step
keywords plus exactly one action name (each registered action listed with its
arguments' schema when it declares a model).
"""

from __future__ import annotations

from typing import Any

from runner.checklist.model import STEP_KEYWORDS, Checklist, Step


def json_schema() -> dict[str, Any]:
    from runner.actions import registry

    schema = Checklist.model_json_schema()
    defs = schema.setdefault("$defs", {})
    step_schema = Step.model_json_schema(ref_template="#/$defs/{model}")
    defs.update(step_schema.pop("$defs", {}))
    keyword_props = {k: v for k, v in step_schema["properties"].items() if k in STEP_KEYWORDS}
    actions: dict[str, Any] = {}
    for name, spec in sorted(registry.load_all().items()):
        if spec.args is not None:
            args_schema = spec.args.model_json_schema(ref_template="#/$defs/{model}")
            defs.update(args_schema.pop("$defs", {}))
        else:
            args_schema = {"type": "object"}
        args_schema["description"] = spec.summary
        actions[name] = args_schema
    defs["Step"] = {
        "title": "Step",
        "description": "One action (name as the key, arguments as the value) plus step keywords.",
        "type": "object",
        "properties": {**keyword_props, **actions},
        "additionalProperties": False,
        "oneOf": [{"required": [name]} for name in actions],
    }
    schema["title"] = "checkrun checklist"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema

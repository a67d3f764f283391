"""JSON Schema of the checklist language, for yaml-language-server and other editors.

Built from the pydantic models, with the step written as users write it: the step
keywords plus exactly one action name (each registered action listed with its
arguments' schema when it declares a model).
"""

from __future__ import annotations

from typing import Any

from runner.checklist.model import STEP_KEYWORDS, Checklist, Step

_TEMPLATE = {"type": "string", "pattern": "\\{\\{"}


def _templatable(schema: Any) -> Any:
    """Any argument value (and any item inside it) may be a template, rendered at run time."""
    if not isinstance(schema, dict):
        return schema
    inner = dict(schema)
    if isinstance(inner.get("items"), dict):
        inner["items"] = _templatable(inner["items"])
    if isinstance(inner.get("additionalProperties"), dict):
        inner["additionalProperties"] = _templatable(inner["additionalProperties"])
    if isinstance(inner.get("properties"), dict):
        inner["properties"] = {k: _templatable(v) for k, v in inner["properties"].items()}
    if isinstance(inner.get("anyOf"), list):
        inner["anyOf"] = [_templatable(v) for v in inner["anyOf"]]
    return {"anyOf": [inner, _TEMPLATE]}


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
        for key, prop in list(args_schema.get("properties", {}).items()):
            args_schema["properties"][key] = _templatable(prop)
        actions[name] = args_schema
    defs["Step"] = {
        "title": "Step",
        "description": "One action (name as the key, arguments as the value) plus step keywords.",
        "type": "object",
        "properties": {**keyword_props, **actions},
        "additionalProperties": False,
        "oneOf": [{"required": [name]} for name in actions],
    }
    schema["patternProperties"] = {"^x-": {}}  # free keys for YAML anchors
    schema["title"] = "checkrun checklist"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema

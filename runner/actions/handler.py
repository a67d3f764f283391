"""`handler.test`: offline contract tests of a model's inference handler.

    - handler.test:
        spec: specs/xgboost_inference_spec.json     # or the spec's fields inline:
    - handler.test:
        model: build/model.tar.gz
        payloads: "{{ payload.archive }}"          # a samples folder or payload.tar.gz
        accept_types: [application/json, text/csv]
      expect:
        - {path: summary.predict_fn.failed, equals: 0}

The value is the report: {ok, handler_name, summary: {function: {passed, failed, skipped,
total_seconds, max_seconds}}, results: [...], failed, log, ...}. A failing handler fails the
step (code HandlerFailed, the failures as evidence) unless `fail_on_error: false`, so a
checklist can also assert on a handler that is expected to fail.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from runner.actions.registry import ActionOutput, action
from runner.errors import ActionError
from runner.handlers import HandlerSpec, HandlerSpecError, load_spec, run_handler_tests
from runner.handlers.spec import build_handler_spec

SPEC_FIELDS = (
    "handler_name",
    "model",
    "payloads",
    "content_types",
    "accept_types",
    "env",
    "framework",
    "timeout_seconds",
    "validate_model_loading",
    "validate_input_processing",
    "validate_prediction",
    "validate_output_formatting",
    "validate_end_to_end",
)


class HandlerTestArgs(BaseModel):
    """A spec file, or the spec's fields inline (inline fields override the file's)."""

    model_config = ConfigDict(extra="forbid")

    spec: str | None = Field(default=None, description="handler spec JSON file")
    handler_name: str | None = None
    model: str | None = None
    payloads: str | None = None
    content_types: list[str] | None = None
    accept_types: list[str] | None = None
    env: dict[str, str] | None = None
    framework: str | None = None
    timeout_seconds: float | None = None
    validate_model_loading: bool | None = Field(
        default=None, description="only true: model_fn always runs (the other checks need it)"
    )
    validate_input_processing: bool | None = None
    validate_prediction: bool | None = None
    validate_output_formatting: bool | None = None
    validate_end_to_end: bool | None = None
    fail_on_error: bool = Field(default=True, description="fail the step when a check fails")


def build_spec(args: HandlerTestArgs, ctx: Any) -> HandlerSpec:
    """The spec to run: the file (paths relative to it) with inline fields applied on top."""
    base: dict[str, Any] = {}
    base_dir = ctx.run.base_dir
    if args.spec:
        spec_path = ctx.run.resolve_path(args.spec)
        base = load_spec(spec_path).model_dump()
        base_dir = spec_path.parent
    inline = {k: getattr(args, k) for k in SPEC_FIELDS if getattr(args, k) is not None}
    for key in ("model", "payloads"):  # inline paths are relative to the checklist
        if key in inline:
            inline[key] = str(ctx.run.resolve_path(inline[key]))
    values = base | inline
    if "model" in values and "handler_name" not in values:
        values["handler_name"] = Path(values["model"]).name.removesuffix(".tar.gz")
    if "model" not in values:
        raise ActionError("handler.test needs `spec` or `model`", code="HandlerSpecError")
    return build_handler_spec(values, base_dir)  # HandlerSpecError: every field problem


@action("handler.test", args=HandlerTestArgs)
def handler_test(args: HandlerTestArgs, ctx: Any) -> ActionOutput:
    """Run model_fn/input_fn/predict_fn/output_fn one by one and end to end on every sample."""
    try:
        spec = build_spec(args, ctx)
        ctx.progress(f"testing handler {spec.handler_name}", model=str(spec.model_path))
        report = run_handler_tests(spec, timeout=ctx.remaining(), stop=getattr(ctx, "stop", None))
    except HandlerSpecError as exc:
        raise ActionError(
            "handler spec has problems:\n" + "\n".join(f"- {p}" for p in exc.problems),
            code="HandlerSpecError",
            evidence={"problems": [str(p) for p in exc.problems]},
        ) from exc
    value = report.to_dict()
    report_file = _write_report(ctx, spec.handler_name, value)
    evidence = {
        "summary": value["summary"],
        "failed": value["failed"],
        "seconds": round(report.seconds, 3),
        "report": str(report_file) if report_file else None,
    }
    if not report.ok and args.fail_on_error:
        failures = report.describe_failures()
        raise ActionError(
            f"handler {spec.handler_name}: {len(report.failures)} check(s) failed\n{failures}",
            code="HandlerFailed",
            evidence=evidence
            | {"failures": [r.label + ": " + (r.error or "") for r in report.failures[:20]]},
        )
    return ActionOutput(value=value, evidence=evidence)


def _write_report(ctx: Any, name: str, value: dict[str, Any]) -> Path | None:
    """Keep the full report (tracebacks, outputs, log) beside the run's other reports."""
    try:
        folder = Path(ctx.run.report_dir) / "handlers"
        folder.mkdir(parents=True, exist_ok=True)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        path = folder / f"{safe}.json"
        path.write_text(json.dumps(value, indent=2, default=str), encoding="utf-8")
        return path
    except OSError:
        return None  # a report we could not write must not fail the check itself

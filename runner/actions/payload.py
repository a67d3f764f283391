"""`payload.generate`: sample payloads from a model's hyperparameters.json -> payload.tar.gz.

    - payload.generate:
        model: build/model.tar.gz          # or a model folder
        out: build/payload                 # default: <report dir>/payload
        content_types: [application/json, text/csv]
        special_fields: {customer_id: CUST_12345, amount: 100.5}
      save: {payload: .}                   # payload.samples["text/csv"] is a file path

The value: {archive, samples: {content type: file}, metadata, fields, values, source}.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from runner.actions.registry import ActionOutput, action
from runner.errors import ActionError
from runner.payload import PayloadError, PayloadOptions, generate_payloads
from runner.payload.generate import options_error


class GenerateArgs(BaseModel):
    """Arguments of `payload.generate` (the pipeline script's variables, as arguments)."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(description="model folder or model.tar.gz holding hyperparameters.json")
    out: str | None = Field(default=None, description="output folder (default <report>/payload)")
    content_types: list[str] | str | None = None
    default_numeric_value: float | None = None
    default_text_value: str | None = None
    special_fields: dict[str, Any] = Field(default_factory=dict)
    from_env: bool = Field(
        default=False,
        description="also read CONTENT_TYPES, DEFAULT_*_VALUE and SPECIAL_FIELD_<name> "
        "from the environment (arguments win)",
    )
    unpack: bool = Field(default=True, description="also write the samples beside the archive")


@action("payload.generate", args=GenerateArgs)
def generate(args: GenerateArgs, ctx: Any) -> ActionOutput:
    """Generate sample payloads (JSON/CSV/Parquet) and payload.tar.gz for a model."""
    model = ctx.run.resolve_path(args.model)
    # absolute: later steps resolve a saved path against the checklist folder, not the cwd
    out = ctx.run.resolve_path(args.out) if args.out else ctx.run.report_dir.absolute() / "payload"
    overrides: dict[str, Any] = {
        "content_types": args.content_types,
        "default_numeric_value": args.default_numeric_value,
        "default_text_value": args.default_text_value,
        "special_fields": {k: str(v) for k, v in args.special_fields.items()},
    }
    try:
        options = PayloadOptions.from_env(os.environ if args.from_env else {}, **overrides)
        result = generate_payloads(model, out, options, unpack=args.unpack)
    except ValidationError as exc:
        raise ActionError(options_error(exc), code="PayloadError") from exc
    except PayloadError as exc:
        raise ActionError(str(exc), code="PayloadError") from exc
    value = result.to_dict()
    return ActionOutput(
        value=value,
        evidence={
            "archive": value["archive"],
            "fields": value["fields"],
            "source": value["source"],
        },
    )

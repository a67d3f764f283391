"""Steps that send a body take exactly one source of it, checked when the args are parsed."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from runner.actions.s3 import PutArgs
from runner.actions.sagemaker_runtime import InvokeArgs, InvokeAsyncArgs


@pytest.mark.parametrize(
    ("model", "args", "message"),
    [
        (PutArgs, {"uri": "s3://b/k"}, "give exactly one of body, body_file, image"),
        (PutArgs, {"uri": "s3://b/k", "body": "x", "body_file": "f"}, "body, body_file, image"),
        (InvokeArgs, {"endpoint": "e"}, "give exactly one of body, body_file"),
        (InvokeArgs, {"endpoint": "e", "body": "x", "body_file": "f"}, "one of body, body_file"),
        (
            InvokeAsyncArgs,
            {"endpoint": "e", "body": "x", "input_location": "s3://b/k"},
            "give exactly one of body, body_file, input_location",
        ),
    ],
)
def test_body_sources_are_exclusive(
    model: type[BaseModel], args: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        model.model_validate(args)


@pytest.mark.parametrize(
    ("model", "args"),
    [
        (PutArgs, {"uri": "s3://b/k", "body": "x"}),
        (InvokeArgs, {"endpoint": "e", "body_file": "f.json"}),
        (InvokeAsyncArgs, {"endpoint": "e", "input_location": "s3://b/k"}),
    ],
)
def test_one_body_source_is_accepted(model: type[BaseModel], args: dict[str, str]) -> None:
    parsed = model.model_validate(args)
    assert parsed.model_dump(exclude_defaults=True) == args

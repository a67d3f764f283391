"""Shared pytest fixtures.

`local_stack`: one embedded local stack (moto + checkrun's SageMaker runtime on a free loopback
port) for the whole session; clients use `local_stack.url` as endpoint_url with any dummy
credentials (the fixture sets AWS_ACCESS_KEY_ID/SECRET to "testing" and the region to
us-east-1 for the session). Account id 123456789012.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from runner.local.stack import LocalStack

if TYPE_CHECKING:
    from runner.actions.registry import ActionOutput

_DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    """A started LocalStack shared by the session; stopped (workers included) at the end."""
    saved = {key: os.environ.get(key) for key in (*_DUMMY_ENV, "AWS_SESSION_TOKEN", "AWS_PROFILE")}
    os.environ.update(_DUMMY_ENV)
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    stack = LocalStack().start()
    try:
        yield stack
    finally:
        stack.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def call_action() -> Callable[..., ActionOutput]:
    """`call_action(name, folder, **args)`: run the registered action `name` as the engine
    does, for a checklist in `folder` (relative paths resolve there, reports go to
    `folder/reports`, no ledger file); returns its ActionOutput."""
    from datetime import datetime, timezone

    from runner.actions import registry
    from runner.actions.registry import ActionOutput
    from runner.engine.context import RunContext, StepContext
    from runner.engine.ledger import Ledger

    def call(name: str, folder: Path, **args: object) -> ActionOutput:
        run = RunContext(
            run_id="r1",
            started_at=datetime.now(timezone.utc),
            checklist_path=folder / "checklist.yaml",
            report_dir=folder / "reports",
            ledger=Ledger(None, "r1"),
        )
        spec = registry.get(name)
        assert spec is not None and spec.args is not None, name
        result = spec.func(spec.args.model_validate(args), StepContext(run, "t", name))
        assert isinstance(result, ActionOutput)
        return result

    return call

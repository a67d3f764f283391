"""A run context pointed at the session's local stack, and a helper to call one action."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from runner.actions import registry
from runner.actions.cleanup import cleanup_ledger
from runner.actions.registry import ActionOutput
from runner.engine.context import ProfileSettings, RunContext, StepContext
from runner.engine.ledger import Ledger
from runner.local.stack import LocalStack

CHECKLISTS = Path(__file__).resolve().parents[3] / "checklists"
_ids = itertools.count(1)

Call = Callable[..., Any]


def make_run(stack: LocalStack, report_dir: Path) -> RunContext:
    run_id = f"it{next(_ids)}-{datetime.now(timezone.utc):%H%M%S%f}"
    return RunContext(
        run_id=run_id,
        started_at=datetime.now(timezone.utc),
        checklist_path=CHECKLISTS / "async.yaml",
        report_dir=report_dir,
        ledger=Ledger(report_dir / "ledger.json", run_id),
        profile=ProfileSettings(name="test", target="local", endpoint_url=stack.url),
    )


def caller(run: RunContext) -> Call:
    """`call("s3.put", uri=..., body=...)` -> the action's value (evidence under `_evidence`)."""

    def call(name: str, **args: Any) -> Any:
        spec = registry.get(name)
        assert spec is not None, name
        parsed = spec.args.model_validate(args) if spec.args else args
        out = spec.func(parsed, StepContext(run, "test", name))
        if isinstance(out, ActionOutput):
            value = out.value
            if isinstance(value, dict):
                value = {**value, "_evidence": dict(out.evidence)}
            return value
        return out

    return call


@pytest.fixture(scope="session")
def new_run(local_stack: LocalStack) -> Callable[..., tuple[RunContext, Call]]:
    """Runs on the session's (or another) stack: `run, call = new_run(report_dir[, stack])`."""

    def make(report_dir: Path, stack: LocalStack | None = None) -> tuple[RunContext, Call]:
        ctx = make_run(stack or local_stack, report_dir)
        return ctx, caller(ctx)

    return make


@pytest.fixture
def run(local_stack: LocalStack, tmp_path: Path) -> Iterator[RunContext]:
    """A fresh run whose resources are cleaned up (and checked) afterwards."""
    ctx = make_run(local_stack, tmp_path)
    try:
        yield ctx
    finally:
        if ctx.ledger.pending():
            from runner.actions.aws import clients

            cleanup_ledger(ctx.ledger, clients(ctx))
        ctx.exit_stack.close()


@pytest.fixture
def call(run: RunContext) -> Call:
    return caller(run)


DeployStyleMatch = Callable[..., tuple[Any, Any]]


@pytest.fixture(scope="session")
def deploy_stylematch() -> DeployStyleMatch:
    """`pkg, deployed = deploy_stylematch(call, run, bucket, name, **deploy_async_args)`:
    StyleMatch packaged into `bucket` and deployed async as `<name>-<run id>`."""

    def deploy(call: Call, run: RunContext, bucket: str, name: str, **args: Any) -> tuple[Any, Any]:
        pkg = call(
            "sagemaker.package_model",
            source="models/stylematch",
            uri=f"s3://{bucket}/models/{run.run_id}/model.tar.gz",
        )
        deployed = call(
            "sagemaker.deploy_async",
            endpoint=f"{name}-{run.run_id}".replace("_", "-"),
            model_data=pkg["model_data"],
            output_path=f"s3://{bucket}/out/{run.run_id}/",
            **args,
        )
        return pkg, deployed

    return deploy

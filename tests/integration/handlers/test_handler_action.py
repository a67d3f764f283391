"""The `handler.test` step type through the action registry, as the engine calls it."""

from __future__ import annotations

import functools
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from runner.actions.registry import ActionOutput
from runner.errors import ActionError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "handlers"
# the shipped example model is also the all-four-functions fixture (one copy)
SCORER = Path(__file__).resolve().parents[3] / "checklists" / "models" / "scorer"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A checklist folder holding the fixture models and samples."""
    shutil.copytree(SCORER, tmp_path / "models" / "scorer")
    shutil.copytree(FIXTURES / "raising", tmp_path / "models" / "raising")
    shutil.copytree(FIXTURES / "payloads" / "records", tmp_path / "samples")
    return tmp_path


Call = Callable[..., ActionOutput]


@pytest.fixture
def call(call_action: Call) -> Call:
    """`call(folder, **args)`: `handler.test` for a checklist in `folder`."""
    return functools.partial(call_action, "handler.test")


def test_inline_fields_relative_to_the_checklist(call: Call, workspace: Path) -> None:
    out = call(workspace, model="models/scorer", payloads="samples")
    assert out.value["ok"] is True
    assert out.value["handler_name"] == "scorer"
    assert out.value["summary"]["end_to_end"]["passed"] == 10
    saved = json.loads(Path(out.evidence["report"]).read_text())
    assert saved["summary"] == out.value["summary"]


def test_spec_file_with_inline_override(call: Call, workspace: Path) -> None:
    spec = {
        "handler_name": "raising",
        "model": "../models/raising",
        "payloads": "../samples",
        "env": {"RAISE_IN": "input_fn"},
    }
    (workspace / "specs").mkdir()
    (workspace / "specs" / "raising.json").write_text(json.dumps(spec))
    with pytest.raises(ActionError) as info:
        call(workspace, spec="specs/raising.json")
    assert info.value.code == "HandlerFailed"
    assert "deliberate failure in input_fn" in info.value.message
    assert info.value.evidence["summary"]["input_fn"]["failed"] == 5
    # the inline env wins over the file's: nothing raises
    out = call(workspace, spec="specs/raising.json", env={})
    assert out.value["ok"] is True


def test_expected_failure_can_be_asserted_on(call: Call, workspace: Path) -> None:
    out = call(
        workspace,
        model="models/raising",
        payloads="samples",
        env={"RAISE_IN": "model_fn"},
        fail_on_error=False,
    )
    assert out.value["ok"] is False
    assert out.value["summary"]["model_fn"]["failed"] == 1


def test_spec_problems_are_listed(call: Call, workspace: Path) -> None:
    with pytest.raises(ActionError) as info:
        call(workspace, model="models/nope.tar.gz", payloads="nothing")
    assert info.value.code == "HandlerSpecError"
    assert len(info.value.evidence["problems"]) == 2


def test_needs_a_spec_or_a_model(call: Call, workspace: Path) -> None:
    with pytest.raises(ActionError, match="needs `spec` or `model`"):
        call(workspace, payloads="samples")


def test_invalid_fields_and_model_loading_off_are_listed(call: Call, workspace: Path) -> None:
    with pytest.raises(ActionError) as info:
        call(
            workspace,
            model="models/scorer",
            payloads="samples",
            timeout_seconds=0,
            validate_model_loading=False,
        )
    assert info.value.code == "HandlerSpecError"
    problems = info.value.evidence["problems"]
    assert problems[0] == "timeout_seconds: Input should be greater than 0"
    assert problems[1].startswith("validate_model_loading: model loading cannot be switched off")
    assert "model_fn always runs" in str(info.value)

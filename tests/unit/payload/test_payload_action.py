"""The `payload.generate` step type, called through the action registry as the engine does."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from runner.actions import registry
from runner.actions.registry import ActionOutput
from runner.engine.context import RunContext, StepContext
from runner.engine.ledger import Ledger
from runner.errors import ActionError


def _ctx(tmp_path: Path) -> StepContext:
    run = RunContext(
        run_id="r1",
        started_at=datetime.now(timezone.utc),
        checklist_path=tmp_path / "checklist.yaml",
        report_dir=tmp_path / "reports",
        ledger=Ledger(None, "r1"),
    )
    return StepContext(run=run, test_id="t", step_name="payload.generate")


def _call(tmp_path: Path, **args: object) -> ActionOutput:
    spec = registry.get("payload.generate")
    assert spec is not None and spec.args is not None
    result = spec.func(spec.args.model_validate(args), _ctx(tmp_path))
    assert isinstance(result, ActionOutput)
    return result


@pytest.fixture
def model(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    hp = {"full_field_list": ["id", "x", "c", "label"], "tab_field_list": ["x"]}
    (folder / "hyperparameters.json").write_text(json.dumps(hp))
    return folder


def test_relative_paths_resolve_against_the_checklist(tmp_path: Path, model: Path) -> None:
    out = _call(
        tmp_path,
        model="model",
        out="build/payload",
        content_types="application/json,text/csv",
        special_fields={"x": 3},
    )
    assert out.value["archive"] == str(tmp_path / "build" / "payload" / "payload.tar.gz")
    csv_file = Path(out.value["samples"]["text/csv"])
    assert csv_file.read_text() == "3.0,DEFAULT_TEXT\n"
    assert out.evidence["fields"] == 2


def test_default_output_is_in_the_report_folder(tmp_path: Path, model: Path) -> None:
    out = _call(tmp_path, model=str(model))
    assert Path(out.value["archive"]).parent == tmp_path / "reports" / "payload"


def test_environment_only_when_asked(
    tmp_path: Path, model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPECIAL_FIELD_c", "from-env")
    assert _call(tmp_path, model="model").value["values"]["c"] == "DEFAULT_TEXT"
    assert _call(tmp_path, model="model", from_env=True).value["values"]["c"] == "from-env"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"model": "missing"}, "does not exist"),
        ({"model": "model", "content_types": ["image/png"]}, "unsupported content type"),
        ({"model": "model", "special_fields": {"x": "high"}}, "x is numeric"),
    ],
)
def test_failures_are_action_errors(tmp_path: Path, model: Path, args: dict, needle: str) -> None:
    with pytest.raises(ActionError, match=needle) as info:
        _call(tmp_path, **args)
    assert info.value.code == "PayloadError"

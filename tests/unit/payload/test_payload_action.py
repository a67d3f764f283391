"""The `payload.generate` step type, called through the action registry as the engine does."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from runner.actions.registry import ActionOutput
from runner.errors import ActionError

Call = Callable[..., ActionOutput]


@pytest.fixture
def call(call_action: Call) -> Call:
    """`call(folder, **args)`: `payload.generate` for a checklist in `folder`."""
    return functools.partial(call_action, "payload.generate")


@pytest.fixture
def model(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    hp = {"full_field_list": ["id", "x", "c", "label"], "tab_field_list": ["x"]}
    (folder / "hyperparameters.json").write_text(json.dumps(hp))
    return folder


def test_relative_paths_resolve_against_the_checklist(
    call: Call, tmp_path: Path, model: Path
) -> None:
    out = call(
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


def test_default_output_is_in_the_report_folder(call: Call, tmp_path: Path, model: Path) -> None:
    out = call(tmp_path, model=str(model))
    assert Path(out.value["archive"]).parent == tmp_path / "reports" / "payload"


def test_environment_only_when_asked(
    call: Call, tmp_path: Path, model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPECIAL_FIELD_c", "from-env")
    assert call(tmp_path, model="model").value["values"]["c"] == "DEFAULT_TEXT"
    assert call(tmp_path, model="model", from_env=True).value["values"]["c"] == "from-env"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"model": "missing"}, "does not exist"),
        ({"model": "model", "content_types": ["image/png"]}, "unsupported content type"),
        ({"model": "model", "special_fields": {"x": "high"}}, "x is numeric"),
    ],
)
def test_failures_are_action_errors(
    call: Call, tmp_path: Path, model: Path, args: dict, needle: str
) -> None:
    with pytest.raises(ActionError, match=needle) as info:
        call(tmp_path, **args)
    assert info.value.code == "PayloadError"

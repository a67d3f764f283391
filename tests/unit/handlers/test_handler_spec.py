"""The handler spec: load/save, the design notes' aliases, validation listing every problem."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from runner.handlers import HandlerSpec, HandlerSpecError, load_spec, save_spec
from runner.handlers.spec import build_handler_spec
from runner.model import pack_model

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "handlers"
# the shipped example model is also the all-four-functions fixture (one copy)
SCORER = Path(__file__).resolve().parents[3] / "checklists" / "models" / "scorer"
RECORDS = FIXTURES / "payloads" / "records"


def _spec(**fields: object) -> HandlerSpec:
    values: dict[str, object] = {
        "handler_name": "h",
        "model": str(SCORER),
        "payloads": str(RECORDS),
    }
    values.update(fields)
    return HandlerSpec.model_validate(values)


def _messages(spec: HandlerSpec) -> list[str]:
    return [p.message for p in spec.problems()]


def test_fixture_folder_and_archive_are_valid(tmp_path: Path) -> None:
    assert _messages(_spec()) == []
    archive = pack_model(SCORER, tmp_path / "model.tar.gz")
    assert _messages(_spec(model=str(archive))) == []


def test_defaults() -> None:
    spec = _spec()
    assert spec.content_types == ["application/json", "text/csv"]
    assert spec.accept_types == ["application/json", "text/csv"]
    assert spec.timeout_seconds == 300
    assert spec.validate_end_to_end and spec.validate_model_loading


def test_model_loading_cannot_be_switched_off(tmp_path: Path) -> None:
    # model_fn always runs (every other check needs its model): `false` is refused, not ignored
    with pytest.raises(HandlerSpecError) as info:
        build_handler_spec(
            {"handler_name": "h", "model": "m", "validate_model_loading": False}, tmp_path
        )
    [problem] = info.value.problems
    assert problem.key == "validate_model_loading"
    assert problem.message.startswith("model loading cannot be switched off: model_fn always runs")
    path = tmp_path / "spec.json"
    path.write_text(
        json.dumps({"handler_name": "h", "model": "m", "validate_model_loading": False})
    )
    with pytest.raises(HandlerSpecError, match="validate_model_loading: model loading cannot"):
        load_spec(path)
    assert _spec(validate_model_loading=True, validate_prediction=False).validate_model_loading


def test_design_note_field_names_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    path.write_text(
        json.dumps(
            {
                "handler_name": "xgboost_inference",
                "step_name": "ModelServing_inference",
                "packaged_model_path": str(SCORER),
                "payload_samples_path": str(RECORDS),
                "supported_content_types": ["application/json", "text/csv"],
                "supported_accept_types": ["application/json"],
                "environ_vars": {"INFERENCE_MODE": "testing"},
                "model_paths": {"extraction_root": "test/inference_inputs"},
                "created_at": "2025-09-14T10:00:00",
            }
        )
    )
    spec = load_spec(path)
    assert spec.accept_types == ["application/json"]
    assert spec.env == {"INFERENCE_MODE": "testing"}
    assert spec.problems() == []


def test_round_trip_and_relative_paths(tmp_path: Path) -> None:
    shutil.copytree(SCORER, tmp_path / "model")
    shutil.copytree(RECORDS, tmp_path / "samples")
    spec = _spec(model="model", payloads="samples", env={"A": "1"}, timeout_seconds=5)
    path = save_spec(spec, tmp_path / "specs" / spec.spec_file_name())
    assert path.name == "h_inference_spec.json"
    loaded = load_spec(path)
    assert loaded.model_dump() == spec.model_dump()
    assert loaded.model_path == tmp_path / "specs" / "model"  # relative to the spec file
    assert list(path.parent.iterdir()) == [path]  # no temp file left


def test_every_field_problem_is_listed(tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({"timeout_seconds": -1, "colour": "red", "model": "m"}))
    with pytest.raises(HandlerSpecError) as info:
        load_spec(path)
    keys = sorted(p.key or "" for p in info.value.problems)
    assert keys == ["colour", "handler_name", "model", "timeout_seconds"]  # m: missing too
    assert all(p.file == str(path) for p in info.value.problems)


def test_field_problems_and_missing_files_are_listed_together(tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    spec = {"handler_name": "h", "packaged_model_path": "m.tar.gz", "payloads": "p", "x": 1}
    path.write_text(json.dumps(spec))
    with pytest.raises(HandlerSpecError) as info:
        load_spec(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}: x: unknown key 'x' (expected one of: {', '.join(HandlerSpec.model_fields)})",
        f"{path}: model: model {tmp_path / 'm.tar.gz'} does not exist",
        f"{path}: payloads: payload samples {tmp_path / 'p'} does not exist",
    ]


def test_misspelt_spec_key_gets_a_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    (tmp_path / "m").mkdir()
    path.write_text(json.dumps({"handler_name": "h", "model": "m", "payloadz": "p"}))
    with pytest.raises(HandlerSpecError) as info:
        load_spec(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}: payloadz: unknown key 'payloadz' (did you mean 'payloads'?)"
    ]


def test_unreadable_spec_files(tmp_path: Path) -> None:
    with pytest.raises(HandlerSpecError, match="does not exist"):
        load_spec(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(HandlerSpecError, match="not a JSON spec"):
        load_spec(tmp_path / "bad.json")


def test_missing_archive_and_samples_listed_together(tmp_path: Path) -> None:
    spec = _spec(model=str(tmp_path / "model.tar.gz"), payloads=str(tmp_path / "none"))
    messages = _messages(spec)
    assert len(messages) == 2
    assert "does not exist" in messages[0] and "model.tar.gz" in messages[0]
    assert "do not exist" in messages[1]


def test_not_a_tar_gz(tmp_path: Path) -> None:
    zipped = tmp_path / "model.zip"
    zipped.write_bytes(b"PK")
    assert "must be a .tar.gz" in _messages(_spec(model=str(zipped)))[0]
    broken = tmp_path / "model.tar.gz"
    broken.write_bytes(b"nope")
    [message] = _messages(_spec(model=str(broken)))
    assert message == f"model {broken} is not a readable tar.gz: neither gzip nor tar data"
    broken.write_bytes(b"PK\x03\x04" + b"\0" * 40)  # a zip named .tar.gz
    [message] = _messages(_spec(model=str(broken)))
    assert message.endswith("is not a readable tar.gz: a zip file, not a tar.gz")
    broken.write_bytes(b"")
    assert _messages(_spec(model=str(broken)))[0].endswith(": the file is empty")


def test_no_code_folder(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "weights.json").write_text("{}")
    archive = pack_model(folder, tmp_path / "model.tar.gz")
    [message] = _messages(_spec(model=str(archive)))
    assert "no code/ folder" in message


def test_sagemaker_program_names_the_entry(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    (folder / "code").mkdir(parents=True)
    (folder / "code" / "serve.py").write_text("def model_fn(d):\n    return 1\n")
    assert "no handler script" in _messages(_spec(model=str(folder)))[0]
    assert _messages(_spec(model=str(folder), env={"SAGEMAKER_PROGRAM": "serve.py"})) == []


def test_missing_model_fn_unless_the_framework_has_a_default(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    (folder / "code").mkdir(parents=True)
    (folder / "code" / "inference.py").write_text("def predict_fn(data, model):\n    return 1\n")
    [problem] = _spec(model=str(folder)).problems()
    assert "defines no model_fn" in problem.message and problem.hint
    assert _messages(_spec(model=str(folder), framework="sklearn")) == []


def test_model_fn_imported_from_another_module_counts(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    (folder / "code").mkdir(parents=True)
    (folder / "code" / "inference.py").write_text("from common import model_fn\n")
    assert _messages(_spec(model=str(folder))) == []


def test_syntax_error_in_handler(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    (folder / "code").mkdir(parents=True)
    (folder / "code" / "inference.py").write_text("def model_fn(:\n")
    assert "does not parse" in _messages(_spec(model=str(folder)))[0]


def test_transform_fn_shadowing_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    (folder / "code").mkdir(parents=True)
    (folder / "code" / "inference.py").write_text(
        "def model_fn(d): ...\ndef transform_fn(m, b, c, a): ...\ndef input_fn(b, c): ...\n"
    )
    assert "never used" in _messages(_spec(model=str(folder)))[0]


def test_no_samples_and_unsupported_sample_types(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    [message] = _messages(_spec(payloads=str(tmp_path / "empty")))
    assert "no samples" in message
    # one problem per unsupported content type, naming its samples
    assert _messages(_spec(content_types=["application/json"])) == [
        "2 samples (csv_samples/batch_sample.csv, csv_samples/sample_001.csv) are text/csv, "
        "which the spec does not support (application/json)"
    ]
    [message] = _messages(_spec(content_types=["text/csv"]))
    assert message.startswith("3 samples (json_samples/array_records.json, ")
    assert message.endswith(") are application/json, which the spec does not support (text/csv)")
    assert "no payload samples given" in _messages(_spec(payloads=None))[0]


def test_invalid_json_sample_and_empty_type_lists(tmp_path: Path) -> None:
    (tmp_path / "json_samples").mkdir()
    (tmp_path / "json_samples" / "bad.json").write_text("{oops")
    messages = _messages(_spec(payloads=str(tmp_path), content_types=[], accept_types=[]))
    assert messages[:2] == [
        "at least one content type is needed",
        "at least one accept type is needed",
    ]
    assert any("bad.json is not valid JSON" in m for m in messages)


def test_check_raises_with_all_problems(tmp_path: Path) -> None:
    spec = _spec(model=str(tmp_path / "x.tar.gz"), payloads=str(tmp_path / "y"))
    with pytest.raises(HandlerSpecError) as info:
        spec.check()
    assert len(info.value.problems) == 2

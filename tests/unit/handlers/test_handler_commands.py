"""`checkrun handler` and `checkrun payload`: arguments, output, exit codes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from runner.errors import UsageError
from runner.handlers import HandlerSpecError, load_spec
from runner.handlers.commands import add_handler_arguments, build_spec, run_handler_command
from runner.payload.commands import add_payload_arguments, run_payload_command

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "handlers"
# the shipped example model is also the all-four-functions fixture (one copy)
SCORER = Path(__file__).resolve().parents[3] / "checklists" / "models" / "scorer"


def _args(add: object, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add(parser)  # type: ignore[operator]
    return parser.parse_args(argv)


def test_payload_then_handler_on_its_archive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = [str(SCORER), "--out", str(out), "--ignore-env"]
    argv += ["--content-types", "application/json,text/csv", "--special-field", "amount=99"]
    assert run_payload_command(_args(add_payload_arguments, argv)) == 0
    assert "payload.tar.gz  (4 fields" in capsys.readouterr().out
    assert (
        json.loads((out / "application_json" / "sample_payload.json").read_text())["amount"] == 99
    )
    argv = [str(SCORER), "--payloads", str(out / "payload.tar.gz")]
    assert run_handler_command(_args(add_handler_arguments, argv)) == 0
    text = capsys.readouterr().out
    assert "end_to_end        4      0       0" in text
    assert "all checks passed" in text


def test_payload_reads_the_pipeline_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTENT_TYPES", "text/csv")
    monkeypatch.setenv("SPECIAL_FIELD_age", "41")
    argv = [str(SCORER), "--out", str(tmp_path)]
    assert run_payload_command(_args(add_payload_arguments, argv)) == 0
    assert (tmp_path / "text_csv" / "sample_payload.csv").read_text().startswith("0.0,41.0,")


def test_payload_errors_are_usage_errors(tmp_path: Path) -> None:
    argv = [str(tmp_path), "--out", str(tmp_path / "o"), "--ignore-env"]
    with pytest.raises(UsageError, match=r"no hyperparameters\.json"):
        run_payload_command(_args(add_payload_arguments, argv))
    argv = [str(SCORER), "--out", str(tmp_path), "--content-types", "x/y"]
    with pytest.raises(UsageError) as info:
        run_payload_command(_args(add_payload_arguments, argv))
    assert str(info.value) == (
        "invalid payload options: content_types: unsupported content type(s) x/y; "
        "supported: application/json, text/csv, application/x-parquet"
    )


def test_failing_handler_exits_1_and_shows_tracebacks_with_v(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [str(FIXTURES / "raising"), "--payloads", str(FIXTURES / "payloads" / "records")]
    argv += ["--env", "RAISE_IN=predict_fn", "--skip", "end_to_end", "-v"]
    assert run_handler_command(_args(add_handler_arguments, argv)) == 1
    text = capsys.readouterr().out
    assert "FAILED predict_fn / csv_samples/batch_sample.csv: ValueError" in text
    assert 'raising/code/inference.py", line' in text
    assert "5 check(s) failed" in text
    assert "  passed " in text and " ms  input_fn / csv_samples/batch_sample.csv" in text
    assert "  skipped     0.000 ms  output_fn / " in text and "(predict_fn failed)" in text
    assert "end_to_end" not in text.split("FAILED")[0]


def test_spec_file_options_win_and_save_spec(tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(
        json.dumps(
            {
                "handler_name": "scorer",
                "packaged_model_path": str(SCORER),
                "payload_samples_path": str(FIXTURES / "payloads" / "records"),
                "environ_vars": {"A": "1"},
            }
        )
    )
    argv = [str(spec_file), "--env", "B=2", "--accept-types", "text/csv"]
    argv += ["--save-spec", str(tmp_path / "saved.json"), "--check"]
    args = _args(add_handler_arguments, argv)
    spec = build_spec(args)
    assert spec.env == {"A": "1", "B": "2"}
    assert spec.accept_types == ["text/csv"]
    assert run_handler_command(args) == 0
    assert load_spec(tmp_path / "saved.json").env == {"A": "1", "B": "2"}


def test_spec_with_relative_paths_run_from_another_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`checkrun handler specs/x.json` with paths relative to the spec: the handler process
    runs in the model folder, so the paths must not stay relative to the caller's folder."""
    (tmp_path / "specs").mkdir()
    (tmp_path / "model").symlink_to(SCORER, target_is_directory=True)
    (tmp_path / "payloads").symlink_to(FIXTURES / "payloads" / "records")
    spec = {"handler_name": "scorer", "model": "../model", "payloads": "../payloads"}
    (tmp_path / "specs" / "x_inference_spec.json").write_text(json.dumps(spec))
    monkeypatch.chdir(tmp_path)
    args = _args(add_handler_arguments, ["specs/x_inference_spec.json"])
    assert run_handler_command(args) == 0, capsys.readouterr().out
    assert "all checks passed" in capsys.readouterr().out


def test_save_spec_from_relative_flags_loads_from_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README: `checkrun handler MODEL --payloads P --save-spec specs/x.json --check`, then
    `checkrun handler specs/x.json` (paths in a spec are relative to the spec file)."""
    (tmp_path / "model").symlink_to(SCORER, target_is_directory=True)
    (tmp_path / "payloads").symlink_to(FIXTURES / "payloads" / "records")
    monkeypatch.chdir(tmp_path)
    argv = ["model", "--payloads", "payloads", "--save-spec", "specs/x.json", "--check"]
    assert run_handler_command(_args(add_handler_arguments, argv)) == 0
    monkeypatch.chdir(tmp_path / "specs")
    args = _args(add_handler_arguments, ["x.json", "--check"])
    assert run_handler_command(args) == 0


def test_invalid_spec_lists_every_problem(tmp_path: Path) -> None:
    argv = [str(tmp_path / "model.tar.gz"), "--payloads", str(tmp_path / "none")]
    with pytest.raises(HandlerSpecError) as info:
        run_handler_command(_args(add_handler_arguments, argv))
    assert len(info.value.problems) == 2


def test_bad_options(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown check"):
        build_spec(_args(add_handler_arguments, [str(tmp_path), "--skip", "everything"]))
    with pytest.raises(UsageError, match="--skip model_fn: model loading cannot be switched off"):
        build_spec(_args(add_handler_arguments, [str(tmp_path), "--skip", "model_fn,end_to_end"]))
    with pytest.raises(HandlerSpecError) as info:  # every bad option, keyed, no pydantic dump
        build_spec(_args(add_handler_arguments, [str(tmp_path), "--timeout", "-1"]))
    assert [str(p) for p in info.value.problems] == [
        "timeout_seconds: Input should be greater than 0"
    ]
    with pytest.raises(UsageError, match="NAME=VALUE"):
        build_spec(_args(add_handler_arguments, [str(tmp_path), "--env", "novalue"]))
    with pytest.raises(HandlerSpecError, match="does not exist"):
        build_spec(_args(add_handler_arguments, [str(tmp_path / "missing.json")]))

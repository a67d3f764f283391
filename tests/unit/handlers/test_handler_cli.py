"""`checkrun handler` / `checkrun payload` through the real command line entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.cli import main

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "handlers"
# the shipped example model is also the all-four-functions fixture (one copy)
SCORER = Path(__file__).resolve().parents[3] / "checklists" / "models" / "scorer"


def test_payload_and_handler_subcommands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = str(SCORER)
    assert main(["payload", model, "--out", str(tmp_path), "--ignore-env"]) == 0
    assert main(["handler", model, "--payloads", str(tmp_path / "payload.tar.gz")]) == 0
    assert "all checks passed" in capsys.readouterr().out


def test_failing_handler_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["handler", str(FIXTURES / "raising"), "--payloads", str(FIXTURES / "payloads/records")]
    assert main([*argv, "--env", "RAISE_IN=model_fn"]) == 1
    assert "FAILED model_fn: ValueError: deliberate failure in model_fn" in capsys.readouterr().out


def test_invalid_spec_lists_problems_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["handler", str(tmp_path / "m.tar.gz"), "--payloads", str(tmp_path / "none")])
    err = capsys.readouterr().err
    assert code == 3
    assert "model: model" in err and "does not exist" in err
    assert "payloads: payload samples" in err
    assert "Traceback" not in err


def test_missing_hyperparameters_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["payload", str(tmp_path), "--out", str(tmp_path / "o"), "--ignore-env"]) == 3
    assert "no hyperparameters.json in model folder" in capsys.readouterr().err

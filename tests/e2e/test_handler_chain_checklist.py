"""The shipped chain checklist: payloads -> handler contract test -> local async endpoint."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from runner.engine.run import run_checklist

CHECKLIST = Path(__file__).resolve().parents[2] / "checklists" / "handler_chain.yaml"


def test_handler_chain_runs_green_on_the_local_stack(tmp_path: Path) -> None:
    result = run_checklist(CHECKLIST, report_dir=tmp_path)
    data = result.to_dict()
    statuses = {t["id"]: t["status"] for t in data["tests"]}
    assert statuses == {
        "payload": "passed",
        "handler": "passed",
        "endpoint": "passed",
        "cleanup": "passed",
    }, json.dumps(data["tests"], indent=1, default=str)[:4000]
    assert str(result.decision).endswith("APPROVED")
    # the payload leg left its archive in the run's report folder
    with tarfile.open(tmp_path / "payload" / "payload.tar.gz") as tar:
        assert sorted(tar.getnames()) == [
            "application_json/sample_payload.json",
            "metadata.json",
            "text_csv/sample_payload.csv",
        ]
    # and the handler leg its full report
    report = json.loads((tmp_path / "handlers" / "scorer.json").read_text())
    assert report["ok"] is True


def test_default_report_folder_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`checkrun checklists/handler_chain.yaml` as the README runs it: the report folder is
    reports/<run-id> under the working directory, the checklist's own folder elsewhere, and
    the payload archive saved by one step must still be found by the next."""
    monkeypatch.chdir(tmp_path)
    result = run_checklist(CHECKLIST, only=["payload", "handler"], write=False)
    statuses = {t["id"]: t["status"] for t in result.to_dict()["tests"]}
    assert statuses["handler"] == "passed", json.dumps(result.to_dict()["tests"], default=str)[
        :3000
    ]

"""`checkrun report` and `checkrun diff` through the real command line entry point."""

from __future__ import annotations

from pathlib import Path

import pytest
from sample_runs import sample_run

from runner.cli import main
from runner.report import render_reports


def _stored(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / kind / "result.json"
    render_reports(sample_run(kind), json_path=path)  # type: ignore[arg-type]
    return path


def test_checkrun_report_and_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = _stored(tmp_path, "approved"), _stored(tmp_path, "blocked")
    junit = tmp_path / "out" / "junit.xml"
    assert main(["report", str(new), "--junit-xml", str(junit)]) == 0
    assert 'message="blocked by deploy"' in junit.read_text()
    assert main(["diff", str(old), str(new), "--threshold", "0.3"]) == 1
    out = capsys.readouterr().out
    assert "decision APPROVED -> BLOCKED" in out
    assert "REGRESSION deploy: passed -> failed" in out


def test_checkrun_diff_usage_errors_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 3
    assert "no such file" in capsys.readouterr().err
    assert main(["diff", "a.json", "b.json", "--threshold", "-5%"]) == 3

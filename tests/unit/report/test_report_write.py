from __future__ import annotations

import json
from pathlib import Path

import pytest
from sample_runs import sample_run

from runner.report import link_latest, write_reports


def test_each_run_writes_json_junit_html_and_latest(tmp_path: Path) -> None:
    run = sample_run("approved")
    run_dir = tmp_path / "reports" / run.run_id
    written = write_reports(run, report_dir=run_dir)
    assert [p.name for p in written] == ["result.json", "junit.xml", "report.html"]
    latest = tmp_path / "reports" / "latest"
    assert latest.is_symlink()
    assert json.loads((latest / "result.json").read_text())["run_id"] == run.run_id


def test_extra_paths_and_metrics_are_written_too(tmp_path: Path) -> None:
    run = sample_run("blocked")
    written = write_reports(
        run,
        report_dir=tmp_path / run.run_id,
        junit_path=tmp_path / "ci" / "junit.xml",
        metrics_path=tmp_path / "checkrun.prom",
    )
    assert tmp_path / "ci" / "junit.xml" in written
    assert "checkrun_decision" in (tmp_path / "checkrun.prom").read_text()
    assert not list(tmp_path.rglob(".*tmp*"))


def test_latest_moves_to_the_newest_run(tmp_path: Path) -> None:
    (tmp_path / "run-1").mkdir()
    (tmp_path / "run-2").mkdir()
    link_latest(tmp_path / "run-1")
    link_latest(tmp_path / "run-2")
    assert (tmp_path / "latest").resolve() == (tmp_path / "run-2").resolve()


def test_latest_falls_back_to_a_text_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_symlinks(self: Path, target: str, target_is_directory: bool = False) -> None:
        raise OSError("symlinks not supported here")

    monkeypatch.setattr(Path, "symlink_to", no_symlinks)
    (tmp_path / "run-1").mkdir()
    latest = link_latest(tmp_path / "run-1")
    assert latest.read_text() == "run-1\n"

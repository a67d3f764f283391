"""`checkrun FILE` writes every report: the shipped core-actions checklist, end to end."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from lxml import etree
from prometheus_client.parser import text_string_to_metric_families

from runner.cli import main
from runner.report import load_result

ROOT = Path(__file__).parents[2]
XSD = ROOT / "tests" / "unit" / "report" / "junit-10.xsd"


def test_run_writes_json_junit_html_metrics_and_latest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # reports/ lands here
    monkeypatch.setenv("CHECKRUN_MODEL_VERSION", "model-7")
    for name in ("GITHUB_ACTOR", "CHECKRUN_TESTER", "CHECKRUN_NOTES", "CHECKRUN_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    code = main(
        [
            str(ROOT / "checklists" / "example.yaml"),
            "--log-format",
            "plain",
            "--tester",
            "QA",
            "--environment",
            "Staging",
            "--junit-xml",
            str(tmp_path / "ci" / "junit.xml"),
            "--metrics",
            str(tmp_path / "checkrun.prom"),
        ]
    )
    assert code == 0
    latest = tmp_path / "reports" / "latest"
    result = load_result(latest / "result.json")
    assert result.decision.value == "APPROVED"
    signoff = {k: result.signoff.get(k) for k in ("tester", "environment", "model_version")}
    assert signoff == {"tester": "QA", "environment": "Staging", "model_version": "model-7"}
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    for junit in (latest / "junit.xml", tmp_path / "ci" / "junit.xml"):
        assert schema.validate(etree.parse(str(junit))), schema.error_log
    html = (latest / "report.html").read_text(encoding="utf-8")
    assert "APPROVED" in html and "model-7" in html
    metrics = (tmp_path / "checkrun.prom").read_text()
    families = {f.name: f for f in text_string_to_metric_families(metrics)}
    chosen = [s.labels["decision"] for s in families["checkrun_decision"].samples if s.value]
    assert chosen == ["APPROVED"]
    tests = {s.labels["status"]: s.value for s in families["checkrun_tests"].samples}
    assert tests["passed"] == result.totals["passed"] == result.totals["total"]
    doc = json.loads((latest / "result.json").read_text())
    assert doc["schema_version"] == 1
    out = capsys.readouterr().out
    assert f"report: reports{os.sep}{result.run_id}{os.sep}report.html" in out
    # Declared secrets never reach a report (the checklist marks api_token secret).
    for path in (latest / "result.json", latest / "junit.xml", latest / "report.html"):
        assert "s3cr3t-token-value" not in path.read_text(encoding="utf-8")


def test_chosen_report_dir_gets_the_files_and_leaves_latest_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports" / "earlier").mkdir(parents=True)
    (tmp_path / "reports" / "latest").symlink_to("earlier", target_is_directory=True)
    chosen = tmp_path / "ci" / "signoff"
    argv = [str(ROOT / "checklists" / "example.yaml"), "--log-format", "plain"]
    assert main([*argv, "--report-dir", str(chosen)]) == 0
    assert {"junit.xml", "report.html", "result.json"} <= {p.name for p in chosen.iterdir()}
    assert load_result(chosen / "result.json").decision.value == "APPROVED"
    assert os.readlink(tmp_path / "reports" / "latest") == "earlier"
    assert not (chosen.parent / "latest").exists()
    assert f"report: {chosen / 'report.html'}" in capsys.readouterr().out

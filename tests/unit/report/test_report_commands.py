"""The report/diff subcommands and run options, through argparse as the CLI wires them."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from sample_runs import sample_run

from runner.errors import UsageError
from runner.report import render_reports
from runner.report.commands import (
    add_report_options,
    cmd_diff,
    cmd_report,
    diff_arguments,
    finish_run,
    report_arguments,
)
from runner.report.signoff import resolve_signoff


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="checkrun")
    sub = parser.add_subparsers(dest="command")
    # As runner/cli.py wires them: the arguments, then the command as `func`.
    for name, arguments, func in (
        ("report", report_arguments, cmd_report),
        ("diff", diff_arguments, cmd_diff),
    ):
        arguments(sub.add_parser(name))
        sub.choices[name].set_defaults(func=func)
    run = sub.add_parser("run")
    run.add_argument("checklist")
    run.add_argument("--report-dir", type=Path)  # as runner/cli.py declares it
    add_report_options(run)
    return parser


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=200, color_system=None), out


def _stored(tmp_path: Path, kind: str, name: str) -> Path:
    path = tmp_path / name / "result.json"
    render_reports(sample_run(kind), json_path=path)  # type: ignore[arg-type]
    return path


def test_report_rerenders_html_and_junit_next_to_the_result(tmp_path: Path) -> None:
    stored = _stored(tmp_path, "needs_work", "run")
    args = _parser().parse_args(["report", str(stored), "--tester", "Ana"])
    console, out = _console()
    assert args.func(args, console) == 0
    assert (stored.parent / "report.html").exists()
    assert "Ana" in (stored.parent / "report.html").read_text()
    assert "report: " + str(stored.parent / "junit.xml") in out.getvalue()


def test_report_writes_only_what_is_asked(tmp_path: Path) -> None:
    stored = _stored(tmp_path, "approved", "run")
    html = tmp_path / "out" / "signoff.html"
    args = _parser().parse_args(["report", str(stored), "--html", str(html)])
    assert args.func(args, _console()[0]) == 0
    assert html.exists() and not (stored.parent / "junit.xml").exists()


def test_report_on_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    args = _parser().parse_args(["report", str(tmp_path / "nope.json")])
    with pytest.raises(UsageError, match="no such file"):
        args.func(args, _console()[0])


def test_diff_exit_code_says_whether_anything_regressed(tmp_path: Path) -> None:
    good = _stored(tmp_path, "approved", "old")
    bad = _stored(tmp_path, "needs_work", "new")
    console, out = _console()
    args = _parser().parse_args(["diff", str(good), str(bad), "--threshold", "10%"])
    assert args.threshold == pytest.approx(0.1)
    assert args.func(args, console) == 1
    assert "REGRESSION logs: passed -> failed" in out.getvalue()
    same = _parser().parse_args(["diff", str(good), str(good)])
    assert same.func(same, _console()[0]) == 0


def test_diff_rejects_a_bad_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _parser().parse_args(["diff", "a.json", "b.json", "--threshold", "fast"])
    assert exit_info.value.code == 2
    assert "not a fraction or percentage" in capsys.readouterr().err


def test_finish_run_writes_all_reports_with_signoff(tmp_path: Path) -> None:
    run = sample_run("approved", signoff={"tester": "from checklist", "environment": "Dev"})
    args = _parser().parse_args(
        ["run", "x.yaml", "--environment", "Production", "--metrics", str(tmp_path / "m.prom")]
    )
    console, out = _console()
    result, paths = finish_run(
        run,
        args,
        report_dir=tmp_path / "reports" / run.run_id,
        env={"CHECKRUN_MODEL_VERSION": "v9", "GITHUB_ACTOR": "ci-bot"},
        console=console,
    )
    assert result.signoff["environment"] == "Production"
    assert result.signoff["tester"] == "from checklist"
    assert result.signoff["model_version"] == "v9"
    assert {p.name for p in paths} == {"result.json", "junit.xml", "report.html", "m.prom"}
    stored = json.loads((tmp_path / "reports" / run.run_id / "result.json").read_text())
    assert stored["signoff"]["environment"] == "Production"
    assert "APPROVED" in out.getvalue() and "m.prom" in out.getvalue()


def test_latest_follows_default_runs_only_never_a_chosen_report_dir(tmp_path: Path) -> None:
    run = sample_run("approved")
    reports = tmp_path / "reports"
    default = reports / run.run_id
    finish_run(run, _parser().parse_args(["run", "x.yaml"]), report_dir=default, show=False)
    assert (reports / "latest").resolve() == default.resolve()
    # --report-dir, even one named after the run id or inside reports/: files, no latest.
    for chosen in (tmp_path / "nightly", tmp_path / "other" / run.run_id, reports / "ci"):
        args = _parser().parse_args(["run", "x.yaml", "--report-dir", str(chosen)])
        _, paths = finish_run(run, args, report_dir=chosen, show=False)
        assert sorted(p.name for p in paths) == ["junit.xml", "report.html", "result.json"]
        assert all(p.parent == chosen for p in paths)
        assert (reports / "latest").resolve() == default.resolve()
    assert not (tmp_path / "latest").exists() and not (tmp_path / "other" / "latest").exists()


def test_diff_rejects_negative_min_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    for value in ("-1", "soon"):
        with pytest.raises(SystemExit) as exit_info:
            _parser().parse_args(["diff", "a.json", "b.json", f"--min-seconds={value}"])
        assert exit_info.value.code == 2
    assert "--min-seconds must be >= 0" in capsys.readouterr().err


def test_signoff_precedence_and_ci_variables() -> None:
    env = {
        "GITHUB_ACTOR": "octocat",
        "GITHUB_REPOSITORY": "acme/models",
        "GITHUB_RUN_ID": "42",
        "CHECKRUN_NOTES": "nightly",
    }
    merged = resolve_signoff({"environment": "Staging", "notes": "from file"}, {"tester": ""}, env)
    assert merged == {
        "tester": "octocat",
        "build_url": "https://github.com/acme/models/actions/runs/42",
        "environment": "Staging",
        "notes": "nightly",
    }

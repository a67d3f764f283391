"""No renderer ever writes a secret, wherever in the result it slipped in."""

from __future__ import annotations

import argparse
import dataclasses
import io
from pathlib import Path

import pytest
from rich.console import Console
from sample_runs import sample_run

from runner.engine.redact import MASK
from runner.engine.results import RunResult
from runner.report import render_reports
from runner.report.commands import add_report_options, finish_run

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION = "IQoJb3JpZ2luX2VjEHkaCXVzLWVhc3QtMSJHMEUCIQD" + "q" * 50
SIGNATURE = "7f1d2c3b4a5968778695a4b3c2d1e0f"
DECLARED = "hunter2-db-password"
CSV_LINE = f"ci-user,{ACCESS_KEY},{SECRET_KEY}"


def _leaky_run() -> RunResult:
    run = sample_run("needs_work")
    url = f"https://b.s3.amazonaws.com/x.out?X-Amz-Signature={SIGNATURE}&X-Amz-Date=1"
    test = run.tests[2]
    step = dataclasses.replace(
        test.steps[1],
        args={"aws_secret_access_key": SECRET_KEY, "password": DECLARED},
        output={"presigned": url, "creds": f"AWS_SESSION_TOKEN={SESSION}"},
        # A credentials CSV line: the secret key is known by the access key id before it.
        evidence={**test.steps[1].evidence, "key": ACCESS_KEY, "db": DECLARED, "csv": CSV_LINE},
        error=f"AccessDenied for {ACCESS_KEY}",
        log=(f"secret {SECRET_KEY}", f"token {SESSION}", url),
    )
    reason = f"saw {DECLARED} and {ACCESS_KEY} {SECRET_KEY}"  # the terminal shows reasons
    leaky = dataclasses.replace(test, steps=(test.steps[0], step), reason=reason)
    tests = (*run.tests[:2], leaky, *run.tests[3:])
    notes = f"used key {ACCESS_KEY} and {DECLARED}; aws_secret_access_key = {SECRET_KEY}"
    signoff = {**run.signoff, "notes": notes}
    return dataclasses.replace(run, tests=tests, signoff=signoff)


@pytest.mark.parametrize("kind", ["json", "junit", "html", "metrics"])
def test_no_secret_in_any_report(kind: str, tmp_path: Path) -> None:
    path = tmp_path / f"report.{kind}"
    render_reports(_leaky_run(), secrets={DECLARED}, **{f"{kind}_path": path})  # type: ignore[arg-type]
    text = path.read_text(encoding="utf-8")
    for secret in (ACCESS_KEY, SECRET_KEY, SESSION, SIGNATURE, DECLARED):
        assert secret not in text, f"{kind} report leaks {secret[:8]}..."
    if kind != "metrics":
        assert MASK in text


def test_no_secret_in_the_terminal_summary(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_report_options(parser)
    out = io.StringIO()
    finish_run(
        _leaky_run(),
        parser.parse_args(["--notes", f"key {ACCESS_KEY}"]),
        report_dir=tmp_path / "r",
        secrets=[DECLARED],
        env={},
        console=Console(file=out, width=300, color_system=None),
    )
    text = out.getvalue()
    assert "NEEDS WORK" in text
    for secret in (ACCESS_KEY, SECRET_KEY, SESSION, SIGNATURE, DECLARED):
        assert secret not in text

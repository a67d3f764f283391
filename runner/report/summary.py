"""The terminal summary after a run: one row per test, the decision, and where the reports are."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from runner.engine.results import Decision, RunResult, Status
from runner.report.junit import failure_message
from runner.report.signoff import tests_passed

_STYLE = {
    Status.PASSED: "green",
    Status.FAILED: "bold red",
    Status.BLOCKED: "yellow",
    Status.SKIPPED: "dim",
}
_DECISION_STYLE = {
    Decision.APPROVED: "bold white on green",
    Decision.NEEDS_WORK: "bold black on yellow",
    Decision.BLOCKED: "bold white on red",
}


def summary_table(result: RunResult) -> Table:
    table = Table(title=result.checklist, title_justify="left", expand=False)
    # No running number: checklist titles carry their own ("Test 1: ..." is the 2nd row
    # of async.yaml, after the pre-deployment checklist).
    table.add_column("Test")
    table.add_column("Status")
    table.add_column("Criteria", justify="right")
    table.add_column("Time", justify="right")
    table.add_column("Why", overflow="fold")
    for test in result.tests:
        met = sum(c.passed is True for c in test.criteria)
        criteria = f"{met}/{len(test.criteria)}" if test.criteria else ""
        why = test.reason or ""
        if test.status is Status.FAILED and not why:
            why = failure_message(test)
        table.add_row(
            test.title or test.id,
            Text(test.status.value.upper(), style=_STYLE[test.status]),
            criteria,
            f"{test.duration:.1f} s" if test.started_at else "—",
            why,
        )
    return table


def print_summary(
    result: RunResult, paths: Sequence[Path] = (), console: Console | None = None
) -> None:
    """Print the table, the decision with totals, and every report path."""
    console = console or Console(stderr=False)
    console.print(summary_table(result))
    t = result.totals
    line = Text()
    line.append(f" {result.decision.value} ", style=_DECISION_STYLE[result.decision])
    line.append(
        f"  Tests passed: {tests_passed(result)}  "
        f"(failed {t['failed']}, blocked {t['blocked']}, skipped {t['skipped']})  "
        f"in {result.duration:.1f} s"
    )
    if result.interrupted:
        line.append("  interrupted", style="bold red")
    console.print(line)
    for path in paths:
        console.print(f"  report: {path}", highlight=False, soft_wrap=True)


def render_summary(result: RunResult, paths: Sequence[Path] = (), width: int = 120) -> str:
    """The summary as plain text (no colours), e.g. for a log file or a test."""
    buffer = io.StringIO()
    print_summary(result, paths, Console(file=buffer, width=width, color_system=None))
    return buffer.getvalue()

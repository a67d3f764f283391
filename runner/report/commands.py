"""Command-line pieces of the reports, registered by runner/cli.py.

- `add_report_options(parser)`: the run command's ``--json/--junit-xml/--html/--metrics``
  and sign-off flags (``--tester --environment --model-version --notes``);
- `finish_run(result, args)`: after ``run_checklist(..., write=False)``, resolve the
  sign-off, write every report, print the summary table and the report paths;
- `report_arguments` / `cmd_report`: ``checkrun report RESULT.json [--html P] [--junit-xml P]``
  ``[--json P] [--metrics P]``: re-render from a stored result (default: report.html and
  junit.xml next to it);
- `diff_arguments` / `cmd_diff`: ``checkrun diff OLD.json NEW.json [--threshold 20%]
  [--min-seconds 0.5]``: changed outcomes and timing regressions; exit 1 when anything
  regressed, else 0.

Errors a user can make raise UsageError (the CLI prints one line and exits 3).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the renderers load only when a command runs: `validate` stays fast
    from rich.console import Console

    from runner.engine.results import RunResult

_OUTPUTS = (
    ("--json", "json_path", "write the run as versioned JSON (result.json format) to PATH"),
    ("--junit-xml", "junit_path", "write JUnit XML (Jenkins XSD valid) to PATH"),
    ("--html", "html_path", "write the self-contained HTML sign-off report to PATH"),
    ("--metrics", "metrics_path", "write Prometheus text format to PATH (textfile collector)"),
)
_SIGNOFF = (
    ("--tester", "tester", "who ran the sign-off (env CHECKRUN_TESTER, CI user)"),
    ("--environment", "environment", "Development / Staging / Production (CHECKRUN_ENVIRONMENT)"),
    ("--model-version", "model_version", "model version under test (CHECKRUN_MODEL_VERSION)"),
    ("--notes", "notes", "free text for the report's notes (CHECKRUN_NOTES)"),
)


def add_report_options(parser: argparse.ArgumentParser) -> None:
    """Report paths and sign-off flags; reports/<run-id>/ always gets JSON, JUnit and HTML."""
    outputs = parser.add_argument_group(
        "reports (always also written to reports/<run-id>/, which reports/latest points at;"
        " --report-dir DIR: to DIR, and reports/latest is left alone)"
    )
    for flag, dest, text in _OUTPUTS:
        outputs.add_argument(flag, dest=dest, type=Path, metavar="PATH", help=text)
    add_signoff_options(parser)


def add_signoff_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("sign-off (flags beat env vars beat the checklist)")
    for flag, dest, text in _SIGNOFF:
        group.add_argument(flag, dest=dest, metavar="TEXT", help=text)


def report_paths(args: argparse.Namespace) -> dict[str, Path | None]:
    """The ``*_path`` keyword arguments for run_checklist / write_reports."""
    return {dest: getattr(args, dest, None) for _, dest, _ in _OUTPUTS}


def signoff_flags(args: argparse.Namespace) -> dict[str, str | None]:
    return {dest: getattr(args, dest, None) for _, dest, _ in _SIGNOFF}


def finish_run(
    result: RunResult,
    args: argparse.Namespace,
    *,
    report_dir: Path | None = None,
    secrets: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    console: Console | None = None,
    show: bool = True,
) -> tuple[RunResult, list[Path]]:
    """Sign-off, every report (reports/<run-id>/ + requested paths), summary; the final result.

    For `checkrun run`: call ``run_checklist(..., write=False)`` then this. `show=False`
    writes without printing (``--log-format json``).
    """
    from runner.report import write_reports
    from runner.report.redaction import redact_result
    from runner.report.signoff import apply_signoff
    from runner.report.summary import print_summary

    result = apply_signoff(result, signoff_flags(args), env)
    folder = report_dir if report_dir is not None else Path("reports") / result.run_id
    # reports/latest follows runs in the default place only: `--report-dir DIR` gets
    # its files in DIR and moves nothing else.
    chosen = getattr(args, "report_dir", None) is not None
    p = report_paths(args)
    paths = write_reports(
        result,
        report_dir=folder,
        latest=False if chosen else None,
        secrets=secrets,
        json_path=p["json_path"],
        junit_path=p["junit_path"],
        html_path=p["html_path"],
        metrics_path=p["metrics_path"],
    )
    if show:  # the terminal is a log too: print the redacted result
        print_summary(redact_result(result, secrets), paths, console)
    return result, paths


def report_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``checkrun report``."""
    parser.add_argument("result", type=Path, metavar="RESULT.json")
    for flag, dest, text in _OUTPUTS:
        parser.add_argument(flag, dest=dest, type=Path, metavar="PATH", help=text)
    add_signoff_options(parser)


def cmd_report(args: argparse.Namespace, console: Console | None = None) -> int:
    from rich.console import Console

    from runner.report import DEFAULT_NAMES, load_result, render_reports
    from runner.report.signoff import apply_signoff

    result = apply_signoff(load_result(args.result), signoff_flags(args))
    paths = report_paths(args)
    if not any(paths.values()):
        folder = Path(args.result).parent
        paths = {
            "html_path": folder / DEFAULT_NAMES["html"],
            "junit_path": folder / DEFAULT_NAMES["junit"],
        }
    written = render_reports(
        result,
        json_path=paths.get("json_path"),
        junit_path=paths.get("junit_path"),
        html_path=paths.get("html_path"),
        metrics_path=paths.get("metrics_path"),
    )
    console = console or Console()
    for path in written:
        console.print(f"report: {path}", highlight=False, soft_wrap=True)
    return 0


def diff_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``checkrun diff``."""
    parser.add_argument("old", type=Path, metavar="OLD.json")
    parser.add_argument("new", type=Path, metavar="NEW.json")
    parser.add_argument(
        "--threshold",
        type=parse_threshold,
        default=0.2,
        metavar="FRACTION|PCT",
        help="allowed slow-down before a timing counts as a regression: 0.2 or 20%% (default 20%%)",
    )
    parser.add_argument(
        "--min-seconds",
        type=_seconds,
        default=0.5,
        metavar="S",
        help="ignore timing changes smaller than this many seconds (default 0.5)",
    )


def cmd_diff(args: argparse.Namespace, console: Console | None = None) -> int:
    from rich.console import Console

    from runner.report import load_result
    from runner.report.diff import diff_runs, render_diff_text

    diff = diff_runs(
        load_result(args.old),
        load_result(args.new),
        threshold=args.threshold,
        min_seconds=args.min_seconds,
    )
    console = console or Console()
    console.print(render_diff_text(diff), end="", highlight=False, soft_wrap=True)
    return 1 if diff.regressed else 0


def parse_threshold(text: str) -> float:
    """``0.2`` or ``20%`` -> 0.2; argparse shows the ValueError's message."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a fraction or percentage: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("threshold must be >= 0")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("--min-seconds must be >= 0")
    return value

"""The core subcommands of `checkrun` (run, validate, plan, list, schema, cleanup, local).

Each command is a pair: a function that adds its arguments to an argparse parser
and a function that runs it and returns the exit code. `runner/cli.py` registers
them (and the other families' commands, which live in their own modules) and maps
exceptions to exit codes. Heavy modules are imported inside the functions:
`checkrun validate` must not pay for boto3 or rich.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from runner.errors import UsageError

if TYPE_CHECKING:
    from runner.engine.run import PlanOptions

EXIT_INTERRUPTED = 130


# --- shared options ------------------------------------------------------------------


def csv_list(value: str) -> list[str]:
    """`a, b,,c` -> ["a", "b", "c"] (for --only, --skip, --tags and CHECKRUN_VAR)."""
    return [v.strip() for v in value.split(",") if v.strip()]


def add_checklist(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the checklist YAML file")


def add_var(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument(
        "--var", action="append", default=[], metavar="NAME=VALUE", help=help + VAR_HELP
    )


VAR_HELP = " (repeatable; VALUE is a YAML scalar: 20 is a number, true a bool, '20' a string)"


def add_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile", help="profile to use (default: the checklist's default, else local)"
    )
    add_var(parser, "set a var")
    parser.add_argument(
        "--only", type=csv_list, metavar="ID,..", help="run only these tests (and what they need)"
    )
    parser.add_argument("--skip", type=csv_list, metavar="ID,..", help="do not run these tests")
    parser.add_argument(
        "--tags", type=csv_list, metavar="TAG,..", help="run only tests with one of these tags"
    )


def add_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more detail (tracebacks too)"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="only test results and the decision"
    )
    parser.add_argument("--no-color", action="store_true", help="no colours (also: NO_COLOR)")


def selection(args: argparse.Namespace) -> PlanOptions:
    """The options `add_selection` added, as keywords for a run or a plan."""
    return {
        "profile": args.profile,
        "vars": parse_vars(args.var),
        "only": args.only,
        "skip": args.skip,
        "tags": args.tags,
    }


def parse_vars(pairs: Sequence[str]) -> dict[str, Any]:
    """`--var NAME=VALUE` pairs -> vars, each VALUE read as a YAML scalar.

    The value means what it would mean written in the checklist's `vars:`:
    `20` is an int, `0.5` a float, `true`/`false` bools, `null` None, and a
    quoted value (`--var "tag='20'"`) stays a string. An empty value is the empty
    string; a value YAML reads as a list, a mapping or a date stays the text given.
    """
    out: dict[str, Any] = {}
    for item in pairs:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--var expects NAME=VALUE, found {item!r}")
        out[name.strip()] = _scalar(value)
    return out


def _scalar(text: str) -> Any:
    if not text.strip():
        return text
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, (list, dict, datetime.date)):
        return text
    return value


def verbosity(args: argparse.Namespace) -> int:
    return -1 if getattr(args, "quiet", False) else int(getattr(args, "verbose", 0) or 0)


def color(args: argparse.Namespace) -> bool:
    return not (getattr(args, "no_color", False) or os.environ.get("NO_COLOR"))


# --- run -----------------------------------------------------------------------------


def run_arguments(parser: argparse.ArgumentParser) -> None:
    add_checklist(parser)
    add_selection(parser)
    parser.add_argument(
        "--fail-fast",
        action="store_true",
        help="stop after the first failed test (cleanup still runs)",
    )
    parser.add_argument(
        "--report-dir", type=Path, help="where reports go (default reports/<run-id>/)"
    )
    from runner.report.commands import add_report_options

    add_report_options(parser)  # --json/--junit-xml/--html/--metrics and sign-off fields
    parser.add_argument(
        "--log-format",
        choices=["auto", "rich", "plain", "json"],
        default="auto",
        help="progress output: live on a terminal, plain lines otherwise, or JSON lines",
    )
    add_output(parser)


def cmd_run(args: argparse.Namespace) -> int:
    import io

    from rich.console import Console

    from runner.engine.run import execute
    from runner.progress import make_renderer
    from runner.report.commands import finish_run

    renderer = make_renderer(args.log_format, verbosity=verbosity(args), color=color(args))
    try:
        result, engine = execute(
            args.file,
            **selection(args),
            fail_fast=args.fail_fast,
            report_dir=args.report_dir,
            events=renderer,
        )
    finally:
        renderer.close()
    # JSON logs keep stdout machine-readable: no summary table then.
    quiet = args.log_format == "json"
    console = Console(file=io.StringIO()) if quiet else Console(no_color=not color(args))
    result, _ = finish_run(
        result,
        args,
        report_dir=engine.ctx.report_dir,
        secrets=sorted(engine.ctx.secrets),
        console=console,
    )
    return EXIT_INTERRUPTED if result.interrupted else result.decision.exit_code


# --- validate / plan / list / schema ----------------------------------------------------


def validate_arguments(parser: argparse.ArgumentParser) -> None:
    add_checklist(parser)
    add_var(parser, "names given at run time")
    add_output(parser)


def cmd_validate(args: argparse.Namespace) -> int:
    from runner.checklist.load import load_checklist

    checklist = load_checklist(args.file, extra_vars=parse_vars(args.var))
    steps = sum(len(t.steps) for t in checklist.tests)
    if verbosity(args) >= 0:
        print(f"{args.file}: ok ({len(checklist.tests)} tests, {steps} steps)")
    return 0


def plan_arguments(parser: argparse.ArgumentParser) -> None:
    add_checklist(parser)
    add_selection(parser)
    parser.add_argument("--format", choices=["text", "json"], default="text")


def cmd_plan(args: argparse.Namespace) -> int:
    from runner.engine.describe import describe_plan, format_plan

    described = describe_plan(args.file, **selection(args))
    print(
        json.dumps(described, indent=2, default=str)
        if args.format == "json"
        else format_plan(described)
    )
    return 0


def list_arguments(parser: argparse.ArgumentParser) -> None:
    add_checklist(parser)
    parser.add_argument(
        "--tags", type=csv_list, metavar="TAG,..", help="only tests with one of these tags"
    )


def cmd_list(args: argparse.Namespace) -> int:
    from runner.checklist.load import load_checklist

    checklist = load_checklist(args.file)
    width = max(len(t.id) for t in checklist.tests)
    for test in checklist.tests:
        if args.tags and not set(test.tags) & set(args.tags):
            continue
        flags = [f for f, on in (("critical", test.critical), ("always", test.always)) if on]
        extra = []
        if test.tags:
            extra.append("tags: " + ",".join(test.tags))
        if test.needs:
            extra.append("needs: " + ",".join(test.needs))
        if flags:
            extra.append(" ".join(flags))
        print(
            f"{test.id:<{width}}  {test.display_title}"
            + (f"  [{'; '.join(extra)}]" if extra else "")
        )
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from runner.checklist.schema import json_schema

    print(json.dumps(json_schema(), indent=2))
    return 0


# --- cleanup (runner/actions/cleanup.py) and local (runner/local/) ---------------------


def cleanup_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ledger", type=Path, help="reports/<run-id>/ledger.json of the run")
    parser.add_argument("--endpoint-url", help="where the resources live (default: the ledger's)")
    parser.add_argument("--region", help="AWS region (default: the ledger's)")


def cmd_cleanup(args: argparse.Namespace) -> int:
    from runner.actions.cleanup import cleanup_ledger_file

    report, summary = cleanup_ledger_file(
        args.ledger, endpoint_url=args.endpoint_url, region=args.region
    )
    print(summary)
    return 1 if report is not None and (report.remaining or report.failed) else 0


def local_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=4566, help="port (default 4566; 0 = free)")
    parser.add_argument("--faults", type=Path, help="fault plan to inject (YAML or JSON)")
    parser.add_argument("--region", default="us-east-1", help="default region (us-east-1)")


def cmd_local(args: argparse.Namespace) -> int:
    from runner.local.serve import serve

    return serve(args.host, args.port, args.faults, region=args.region)

"""The `checkrun` command line: parse, call one function, map the result to an exit code.

Adding a subcommand is one function plus one registration:

    def _local_args(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--port", type=int, default=0)

    @subcommand("local", "serve the embedded local stack", _local_args)
    def cmd_local(args: argparse.Namespace) -> int:
        ...
        return 0

Every option also reads `CHECKRUN_<OPTION>` from the environment (`--fail-fast`
-> CHECKRUN_FAIL_FAST=1, `--var` -> CHECKRUN_VAR="a=1,b=2"); the command line wins.
Exit codes: 0 APPROVED, 1 NEEDS WORK, 2 BLOCKED, 3 invalid checklist or command
line, 130 interrupted. Errors are one or two lines; the traceback only with -v.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from runner.errors import ChecklistError, CheckrunError, UsageError

EXIT_INVALID = 3
EXIT_INTERRUPTED = 130

Command = Callable[[argparse.Namespace], int]
Configure = Callable[[argparse.ArgumentParser], None]
_COMMANDS: dict[str, tuple[str, Configure | None, Command]] = {}


def subcommand(
    name: str, help: str, configure: Configure | None = None
) -> Callable[[Command], Command]:
    """Register `checkrun <name>`: `configure` adds its arguments, the function runs it."""

    def register(func: Command) -> Command:
        _COMMANDS[name] = (help, configure, func)
        return func

    return register


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError (exit 3) instead of exiting with 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


# --- shared options ------------------------------------------------------------------


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _add_checklist(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the checklist YAML file")


def _add_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile", help="profile to use (default: the checklist's default, else local)"
    )
    parser.add_argument(
        "--var", action="append", default=[], metavar="NAME=VALUE", help="set a var (repeatable)"
    )
    parser.add_argument(
        "--only", type=_csv, metavar="ID,..", help="run only these tests (and what they need)"
    )
    parser.add_argument("--skip", type=_csv, metavar="ID,..", help="do not run these tests")
    parser.add_argument(
        "--tags", type=_csv, metavar="TAG,..", help="run only tests with one of these tags"
    )


def _add_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more detail (tracebacks too)"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="only test results and the decision"
    )
    parser.add_argument("--no-color", action="store_true", help="no colours (also: NO_COLOR)")


def _parse_vars(pairs: Sequence[str]) -> dict[str, str]:
    out = {}
    for item in pairs:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--var expects NAME=VALUE, found {item!r}")
        out[name.strip()] = value
    return out


def _verbosity(args: argparse.Namespace) -> int:
    return -1 if getattr(args, "quiet", False) else int(getattr(args, "verbose", 0) or 0)


def _color(args: argparse.Namespace) -> bool:
    return not (getattr(args, "no_color", False) or os.environ.get("NO_COLOR"))


# --- run -----------------------------------------------------------------------------


def _run_args(parser: argparse.ArgumentParser) -> None:
    _add_checklist(parser)
    _add_selection(parser)
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
    _add_output(parser)


@subcommand("run", "run a checklist (also: checkrun FILE)", _run_args)
def cmd_run(args: argparse.Namespace) -> int:
    import io

    from rich.console import Console

    from runner.engine.run import execute
    from runner.progress import make_renderer
    from runner.report.commands import finish_run

    renderer = make_renderer(args.log_format, verbosity=_verbosity(args), color=_color(args))
    try:
        result, engine = execute(
            args.file,
            profile=args.profile,
            vars=_parse_vars(args.var),
            only=args.only,
            skip=args.skip,
            tags=args.tags,
            fail_fast=args.fail_fast,
            report_dir=args.report_dir,
            events=renderer,
        )
    finally:
        renderer.close()
    # JSON logs keep stdout machine-readable: no summary table then.
    quiet = args.log_format == "json"
    console = Console(file=io.StringIO()) if quiet else Console(no_color=not _color(args))
    result, _ = finish_run(
        result,
        args,
        report_dir=engine.ctx.report_dir,
        secrets=sorted(engine.ctx.secrets),
        console=console,
    )
    return EXIT_INTERRUPTED if result.interrupted else result.decision.exit_code


# --- validate / plan / list / schema ----------------------------------------------------


def _validate_args(parser: argparse.ArgumentParser) -> None:
    _add_checklist(parser)
    parser.add_argument(
        "--var", action="append", default=[], metavar="NAME=VALUE", help="names given at run time"
    )
    _add_output(parser)


@subcommand(
    "validate", "check a checklist (schema, references, templates); runs nothing", _validate_args
)
def cmd_validate(args: argparse.Namespace) -> int:
    from runner.checklist.load import load_checklist

    checklist = load_checklist(args.file, extra_vars=_parse_vars(args.var))
    steps = sum(len(t.steps) for t in checklist.tests)
    if _verbosity(args) >= 0:
        print(f"{args.file}: ok ({len(checklist.tests)} tests, {steps} steps)")
    return 0


def _plan_args(parser: argparse.ArgumentParser) -> None:
    _add_checklist(parser)
    _add_selection(parser)
    parser.add_argument("--format", choices=["text", "json"], default="text")


@subcommand(
    "plan", "show what would run, in which order, with which values; runs nothing", _plan_args
)
def cmd_plan(args: argparse.Namespace) -> int:
    from runner.engine.describe import describe_plan, format_plan

    described = describe_plan(
        args.file,
        profile=args.profile,
        vars=_parse_vars(args.var),
        only=args.only,
        skip=args.skip,
        tags=args.tags,
    )
    print(
        json.dumps(described, indent=2, default=str)
        if args.format == "json"
        else format_plan(described)
    )
    return 0


def _list_args(parser: argparse.ArgumentParser) -> None:
    _add_checklist(parser)
    parser.add_argument(
        "--tags", type=_csv, metavar="TAG,..", help="only tests with one of these tags"
    )


@subcommand("list", "list a checklist's tests", _list_args)
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


@subcommand("schema", "print the JSON Schema of the checklist language (for editors)")
def cmd_schema(args: argparse.Namespace) -> int:
    from runner.checklist.schema import json_schema

    print(json.dumps(json_schema(), indent=2))
    return 0


# --- handler / payload (runner/handlers/commands.py, runner/payload/commands.py) ---------


def _handler_args(parser: argparse.ArgumentParser) -> None:
    from runner.handlers.commands import add_handler_arguments

    add_handler_arguments(parser)


@subcommand("handler", "test a model's inference handler offline on samples", _handler_args)
def cmd_handler(args: argparse.Namespace) -> int:
    from runner.handlers.commands import run_handler_command

    return run_handler_command(args)


def _payload_args(parser: argparse.ArgumentParser) -> None:
    from runner.payload.commands import add_payload_arguments

    add_payload_arguments(parser)


@subcommand("payload", "sample payloads (payload.tar.gz) from hyperparameters.json", _payload_args)
def cmd_payload(args: argparse.Namespace) -> int:
    from runner.payload.commands import run_payload_command

    return run_payload_command(args)


# --- report / diff (runner/report/commands.py) --------------------------------------------


def _report_args(parser: argparse.ArgumentParser) -> None:
    from runner.report.commands import report_arguments

    report_arguments(parser)


@subcommand("report", "re-render reports from a result.json", _report_args)
def cmd_report(args: argparse.Namespace) -> int:
    from runner.report.commands import cmd_report as report

    return report(args)


def _diff_args(parser: argparse.ArgumentParser) -> None:
    from runner.report.commands import diff_arguments

    diff_arguments(parser)


@subcommand("diff", "compare two result.json: changed outcomes, timing regressions", _diff_args)
def cmd_diff(args: argparse.Namespace) -> int:
    from runner.report.commands import cmd_diff as diff

    return diff(args)


# --- cleanup (runner/actions/cleanup.py) ---------------------------------------------


def _cleanup_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ledger", type=Path, help="reports/<run-id>/ledger.json of the run")
    parser.add_argument("--endpoint-url", help="where the resources live (default: the ledger's)")
    parser.add_argument("--region", help="AWS region (default: the ledger's)")


@subcommand("cleanup", "delete what a run (even a killed one) left, from its ledger", _cleanup_args)
def cmd_cleanup(args: argparse.Namespace) -> int:
    from runner.actions.cleanup import cleanup_ledger_file

    report, summary = cleanup_ledger_file(
        args.ledger, endpoint_url=args.endpoint_url, region=args.region
    )
    print(summary)
    return 1 if report is not None and (report.remaining or report.failed) else 0


# --- local (runner/local/) -----------------------------------------------------------


def _local_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=4566, help="port (default 4566; 0 = free)")
    parser.add_argument("--faults", type=Path, help="fault plan to inject (YAML or JSON)")
    parser.add_argument("--region", default="us-east-1", help="default region (us-east-1)")


@subcommand("local", "serve the embedded local stack (moto + SageMaker runtime)", _local_args)
def cmd_local(args: argparse.Namespace) -> int:
    from runner.local.serve import serve

    return serve(args.host, args.port, args.faults, region=args.region)


# --- main ----------------------------------------------------------------------------


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser; with `only`, just that subcommand gets its arguments (the others'
    configure functions may import heavy modules: `checkrun validate` must stay fast)."""
    from runner import __version__

    parser = _Parser(
        prog="checkrun",
        description="Declarative acceptance tests for asynchronous inference endpoints.",
        epilog="`checkrun FILE` = `checkrun run FILE`. Options also come from CHECKRUN_<OPTION>.",
    )
    parser.add_argument("--version", action="version", version=f"checkrun {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (help_text, configure, func) in _COMMANDS.items():
        child = sub.add_parser(name, help=help_text, description=help_text)
        if configure is not None and only in (None, name):
            configure(child)
        child.set_defaults(func=func)
    for child in sub.choices.values():
        _env_defaults(child)
    return parser


def _env_defaults(parser: argparse.ArgumentParser) -> None:
    """Defaults from CHECKRUN_<OPTION> (dashes -> underscores, upper case)."""
    for action in parser._actions:
        if not action.option_strings or action.dest in ("help", "version"):
            continue
        long = max(action.option_strings, key=len).lstrip("-")
        raw = os.environ.get("CHECKRUN_" + long.replace("-", "_").upper())
        if raw is None:
            continue
        if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
            truthy = raw.strip().lower() in ("1", "true", "yes", "on")
            action.default = truthy if isinstance(action, argparse._StoreTrueAction) else not truthy
        elif isinstance(action, argparse._CountAction):
            action.default = int(raw) if raw.strip().isdigit() else 0
        elif isinstance(action, argparse._AppendAction):
            action.default = _csv(raw)
        else:
            try:
                action.default = action.type(raw) if callable(action.type) else raw
            except (TypeError, ValueError) as exc:
                raise UsageError(f"CHECKRUN_{long.upper()}: {exc}") from exc


def _normalise(argv: list[str]) -> list[str]:
    """`checkrun FILE ...` and `checkrun --profile x FILE` mean `checkrun run ...`."""
    if not argv or argv[0] in _COMMANDS or argv[0] in ("-h", "--help", "--version"):
        return argv
    return ["run", *argv]


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    verbose = any(a in ("-v", "-vv", "--verbose") for a in args_list)
    try:
        normalised = _normalise(args_list)
        command = normalised[0] if normalised and normalised[0] in _COMMANDS else None
        parser = build_parser(only=command)
        if not args_list:
            parser.print_help()
            return EXIT_INVALID
        args = parser.parse_args(normalised)
        return int(args.func(args))
    except ChecklistError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        count = len(exc.problems)
        print(f"{count} problem{'s' if count != 1 else ''} found; nothing was run", file=sys.stderr)
        return EXIT_INVALID
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `checkrun plan FILE | head`: the reader left, nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except CheckrunError as exc:
        if verbose:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # an internal bug: say so in one line unless -v
        if verbose:
            traceback.print_exc()
        print(
            f"internal error: {type(exc).__name__}: {exc} (run with -v for the traceback)",
            file=sys.stderr,
        )
        return 2

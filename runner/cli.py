"""The `checkrun` command line: parse, call one function, map the result to an exit code.

The commands themselves live elsewhere: the core ones in runner/commands.py, the
other families' in their own modules (runner/handlers/commands.py, ...), each a pair
"add my arguments" + "run me and return the exit code", listed in `_BUILTIN` below and
imported only when that command is used. Adding a subcommand from code:

    def _local_args(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--port", type=int, default=0)

    @subcommand("local", "serve the embedded local stack", _local_args)
    def cmd_local(args: argparse.Namespace) -> int:
        ...
        return 0

Every option also reads `CHECKRUN_<OPTION>` from the environment (`--fail-fast`
-> CHECKRUN_FAIL_FAST=1, `--var` -> CHECKRUN_VAR="a=1,b=2"); the command line wins.
Exit codes: 0 APPROVED, 1 NEEDS WORK, 2 BLOCKED, 3 invalid checklist or command
line, 4 checkrun itself failed (an error outside the checklist, or an internal bug),
130 interrupted. Errors are one or two lines; the traceback only with -v.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from runner import commands as core
from runner.errors import ChecklistError, CheckrunError, UsageError

EXIT_INVALID = 3
EXIT_ERROR = 4
EXIT_INTERRUPTED = core.EXIT_INTERRUPTED

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


def _lazy(target: str) -> Callable[[Any], Any]:
    """ "module:function" -> a function that imports the module on its first call."""
    module, _, name = target.partition(":")

    def call(arg: Any) -> Any:
        return getattr(importlib.import_module(module), name)(arg)

    return call


# name -> help, arguments, body; a string is "module:function", imported when used.
_Entry = tuple[str, Configure | str | None, Command | str]
_BUILTIN: dict[str, _Entry] = {
    "run": ("run a checklist (also: checkrun FILE)", core.run_arguments, core.cmd_run),
    "validate": (
        "check a checklist (schema, references, templates); runs nothing",
        core.validate_arguments,
        core.cmd_validate,
    ),
    "plan": (
        "show what would run, in which order, with which values; runs nothing",
        core.plan_arguments,
        core.cmd_plan,
    ),
    "list": ("list a checklist's tests", core.list_arguments, core.cmd_list),
    "schema": (
        "print the JSON Schema of the checklist language (for editors)",
        None,
        core.cmd_schema,
    ),
    "handler": (
        "test a model's inference handler offline on samples",
        "runner.handlers.commands:add_handler_arguments",
        "runner.handlers.commands:run_handler_command",
    ),
    "payload": (
        "sample payloads (payload.tar.gz) from hyperparameters.json",
        "runner.payload.commands:add_payload_arguments",
        "runner.payload.commands:run_payload_command",
    ),
    "report": (
        "re-render reports from a result.json",
        "runner.report.commands:report_arguments",
        "runner.report.commands:cmd_report",
    ),
    "diff": (
        "compare two result.json: changed outcomes, timing regressions",
        "runner.report.commands:diff_arguments",
        "runner.report.commands:cmd_diff",
    ),
    "cleanup": (
        "delete what a run (even a killed one) left, from its ledger",
        core.cleanup_arguments,
        core.cmd_cleanup,
    ),
    "local": (
        "serve the embedded local stack (moto + SageMaker runtime)",
        core.local_arguments,
        core.cmd_local,
    ),
}
for _name, (_help, _configure, _body) in _BUILTIN.items():
    subcommand(_name, _help, _lazy(_configure) if isinstance(_configure, str) else _configure)(
        _lazy(_body) if isinstance(_body, str) else _body
    )


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError (exit 3) instead of exiting with 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


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
        name = "CHECKRUN_" + long.replace("-", "_").upper()
        raw = os.environ.get(name)
        if raw is None:
            continue
        if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
            word = raw.strip().lower()
            if word not in ("1", "true", "yes", "on", "0", "false", "no", "off", ""):
                raise UsageError(f"{name}: expected 1/true/yes/on or 0/false/no/off, found {raw!r}")
            truthy = word in ("1", "true", "yes", "on")
            action.default = truthy if isinstance(action, argparse._StoreTrueAction) else not truthy
        elif isinstance(action, argparse._CountAction):
            action.default = int(raw) if raw.strip().isdigit() else 0
        elif isinstance(action, argparse._AppendAction):
            action.default = core.csv_list(raw)
        else:
            try:
                action.default = action.type(raw) if callable(action.type) else raw
            except (TypeError, ValueError) as exc:
                raise UsageError(f"{name}: {exc}") from exc
            if action.choices is not None and action.default not in action.choices:
                choices = ", ".join(map(str, action.choices))
                raise UsageError(f"{name}: invalid choice {raw!r} (choose from {choices})")


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
    except CheckrunError as exc:  # the environment failed us (busy port, unreadable ledger)
        if verbose:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # an internal bug: say so in one line unless -v
        if verbose:
            traceback.print_exc()
        print(
            f"internal error: {type(exc).__name__}: {exc} (exit {EXIT_ERROR}; a bug in checkrun,"
            " not a verdict on the checklist; run with -v for the traceback)",
            file=sys.stderr,
        )
        return EXIT_ERROR

"""`checkrun handler SPEC.json | MODEL --payloads DIR`, registered by runner/cli.py.

- `add_handler_arguments(parser)`: the arguments;
- `run_handler_command(args) -> int`: build or load the spec, run the contract tests, print a
  per-function summary and every failure (tracebacks with -v); exit 0 when every check passed,
  1 when one failed, 3 when the spec (or the command line) is invalid — every problem listed.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runner.errors import UsageError
from runner.handlers.harness import HandlerReport, run_handler_tests
from runner.handlers.spec import (
    MODEL_FN_ALWAYS_RUNS,
    HandlerSpec,
    build_handler_spec,
    load_spec,
    save_spec,
)

# checks --skip can leave out; model_fn always runs (every other check needs its model)
_SWITCHES = (
    ("input_fn", "validate_input_processing"),
    ("predict_fn", "validate_prediction"),
    ("output_fn", "validate_output_formatting"),
    ("end_to_end", "validate_end_to_end"),
)


def _list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def add_handler_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "target", type=Path, metavar="SPEC.json|MODEL", help="a spec file, or a model.tar.gz/folder"
    )
    parser.add_argument(
        "--payloads", metavar="DIR", help="samples folder or payload.tar.gz (with MODEL)"
    )
    parser.add_argument("--name", help="handler name for the report (default: from MODEL)")
    parser.add_argument("--content-types", type=_list, metavar="TYPE,..", help="supported types")
    parser.add_argument("--accept-types", type=_list, metavar="TYPE,..", help="accept types")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="environment of the handler process (repeatable)",
    )
    parser.add_argument("--framework", help="framework defaults: sklearn, xgboost, pytorch, ...")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="limit for the whole run")
    parser.add_argument(
        "--skip",
        type=_list,
        default=[],
        metavar="FN,..",
        help="checks to leave out: " + ", ".join(n for n, _ in _SWITCHES),
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the full report here")
    parser.add_argument("--save-spec", type=Path, metavar="PATH", help="write the spec used here")
    parser.add_argument(
        "--check", action="store_true", help="only validate the spec and its files; run nothing"
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="show tracebacks")


def _env_pairs(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--env expects NAME=VALUE, found {pair!r}")
        out[name] = value
    return out


def build_spec(args: argparse.Namespace) -> HandlerSpec:
    """The spec file named by `target`, or one made from MODEL and the options; options win."""
    target: Path = args.target
    is_spec = target.suffix == ".json"
    base: dict[str, Any] = load_spec(target).model_dump() if is_spec else {}
    base_dir = target.parent if is_spec else Path.cwd()
    if not is_spec:
        base["model"] = str(target.absolute())  # like --payloads: --save-spec stays usable
        base["handler_name"] = target.name.removesuffix(".tar.gz").removesuffix(".tgz") or "model"
    if "model_fn" in args.skip:
        raise UsageError(f"--skip model_fn: {MODEL_FN_ALWAYS_RUNS}")
    unknown = [s for s in args.skip if s not in dict(_SWITCHES)]
    if unknown:
        raise UsageError(f"--skip: unknown check(s) {', '.join(unknown)}")
    options = {
        "handler_name": args.name,
        "payloads": str(Path(args.payloads).resolve()) if args.payloads else None,
        "content_types": args.content_types,
        "accept_types": args.accept_types,
        "framework": args.framework,
        "timeout_seconds": args.timeout,
    }
    values = base | {k: v for k, v in options.items() if v is not None}
    if args.env:
        values["env"] = {**values.get("env", {}), **_env_pairs(args.env)}
    for name, field in _SWITCHES:
        if name in args.skip:
            values[field] = False
    return build_handler_spec(values, base_dir)  # HandlerSpecError: every problem, exit 3


def format_report(report: HandlerReport, verbose: int = 0) -> str:
    """The per-function summary table, then each failure; with `verbose` every call with its
    time and the failures' tracebacks."""
    lines = [f"handler {report.handler_name} ({report.entry or report.model})"]
    if verbose:
        for r in report.results:
            note = (
                f"  ({r.reason})" if r.reason else "  (toolkit default)" if r.uses_default else ""
            )
            lines.append(f"  {r.status:<7} {r.seconds * 1000:9.3f} ms  {r.label}{note}")
    lines.append(f"{'function':<12} {'passed':>6} {'failed':>6} {'skipped':>7} {'max ms':>9}")
    for s in report.summary:
        lines.append(
            f"{s.function:<12} {s.passed:>6} {s.failed:>6} {s.skipped:>7} "
            f"{s.max_seconds * 1000:>9.1f}"
        )
    for failure in report.failures:
        lines.append(f"FAILED {failure.label}: {failure.error}")
        if verbose and failure.traceback:
            lines.extend("    " + line for line in failure.traceback.rstrip().splitlines())
    verdict = "all checks passed" if report.ok else f"{len(report.failures)} check(s) failed"
    if report.timed_out:
        verdict += " (stopped at the timeout)"
    lines.append(f"{verdict} in {report.seconds:.2f}s")
    return "\n".join(lines)


def _write(path: Path, what: str, write: Callable[[Path], object]) -> None:
    try:
        write(path)
    except OSError as exc:
        raise UsageError(f"cannot write the {what} to {path}: {exc.strerror or exc}") from None


def _write_report(report: HandlerReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_dict(), indent=2, default=str) + "\n")


def run_handler_command(args: argparse.Namespace) -> int:
    spec = build_spec(args)
    if args.save_spec:
        _write(args.save_spec, "spec", lambda path: save_spec(spec, path))
    if args.check:
        spec.check()  # HandlerSpecError: the CLI lists every problem and exits 3
        print(f"{spec.handler_name}: spec ok")
        return 0
    report = run_handler_tests(spec)  # HandlerSpecError: every problem listed, exit 3
    print(format_report(report, args.verbose))
    if args.json:  # after the summary, so a path we cannot write does not hide the results
        _write(args.json, "report", lambda path: _write_report(report, path))
    return 0 if report.ok else 1

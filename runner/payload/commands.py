"""`checkrun payload MODEL --out DIR`, registered by runner/cli.py.

Reads the pipeline script's variables from the environment (CONTENT_TYPES,
DEFAULT_NUMERIC_VALUE, DEFAULT_TEXT_VALUE, SPECIAL_FIELD_<name>) unless `--ignore-env`;
options win over them. Missing or malformed hyperparameters exit 3 with the file named.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from pydantic import ValidationError

from runner.errors import UsageError
from runner.payload.fields import PayloadError
from runner.payload.generate import PayloadOptions, generate_payloads, options_error


def add_payload_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, help="model folder or model.tar.gz")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--content-types", metavar="TYPE,..", help="application/json,text/csv,application/x-parquet"
    )
    parser.add_argument("--default-numeric-value", type=float, metavar="N")
    parser.add_argument("--default-text-value", metavar="TEXT")
    parser.add_argument(
        "--special-field",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="value of one field (repeatable); like SPECIAL_FIELD_<NAME>",
    )
    parser.add_argument(
        "--archive-only", action="store_true", help="write only payload.tar.gz, not the samples"
    )
    parser.add_argument(
        "--ignore-env", action="store_true", help="do not read CONTENT_TYPES, SPECIAL_FIELD_* ..."
    )


def run_payload_command(args: argparse.Namespace) -> int:
    special = {}
    for pair in args.special_field:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--special-field expects NAME=VALUE, found {pair!r}")
        special[name] = value
    try:
        options = PayloadOptions.from_env(
            {} if args.ignore_env else os.environ,
            content_types=args.content_types,
            default_numeric_value=args.default_numeric_value,
            default_text_value=args.default_text_value,
            special_fields=special,
        )
        result = generate_payloads(args.model, args.out, options, unpack=not args.archive_only)
    except ValidationError as exc:
        raise UsageError(options_error(exc)) from None
    except PayloadError as exc:
        raise UsageError(str(exc)) from exc
    print(f"{result.archive}  ({len(result.fields.fields)} fields from {result.fields.source})")
    for content_type, path in result.samples.items():
        print(f"  {content_type:<22} {path}")
    return 0

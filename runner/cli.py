"""The `checkrun` command line: parse, call one function, map the result to an exit code."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    print("checkrun: not implemented yet", args, file=sys.stderr)
    return 3

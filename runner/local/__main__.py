"""`python -m runner.local [--host H] [--port P] [--faults FILE]`: same as `checkrun local`."""

from __future__ import annotations

import argparse
import sys

from runner.errors import CheckrunError
from runner.local.serve import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runner.local")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--faults", default=None, help="fault plan (YAML or JSON)")
    args = parser.parse_args(argv)
    try:
        return serve(args.host, args.port, args.faults)
    except CheckrunError as exc:
        print(f"checkrun local: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())

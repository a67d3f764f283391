"""How long `checkrun validate` takes on the shipped checklists (a fresh process each time).

    python tests/bench/bench_validate.py [N]

Prints min / median / max wall time over N runs per checklist. Not collected by pytest.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main(runs: int) -> None:
    for path in sorted((ROOT / "checklists").glob("*.yaml")):
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "runner", "validate", str(path)],
                check=True,
                capture_output=True,
            )
            times.append(time.perf_counter() - started)
        print(
            f"{path.name:24} min {min(times):.3f}s  median {statistics.median(times):.3f}s  "
            f"max {max(times):.3f}s  ({runs} runs)"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)

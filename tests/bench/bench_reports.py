"""How long rendering every report takes for the 14-test sample run (not collected by pytest).

.venv/bin/python tests/bench/bench_reports.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "report"))

from sample_runs import sample_run

from runner.report import write_reports


def main() -> None:
    run = sample_run("needs_work")
    with tempfile.TemporaryDirectory() as tmp:
        write_reports(run, report_dir=Path(tmp) / "warm-up")
        rounds = 20
        start = time.perf_counter()
        for i in range(rounds):
            paths = write_reports(
                run, report_dir=Path(tmp) / str(i), metrics_path=Path(tmp) / f"{i}.prom"
            )
        per_run = (time.perf_counter() - start) / rounds
        sizes = {p.name: p.stat().st_size for p in paths}
    print(f"write_reports (JSON+JUnit+HTML+metrics, 14 tests): {per_run * 1000:.1f} ms per run")
    print("sizes:", ", ".join(f"{k} {v / 1024:.1f} KiB" for k, v in sizes.items()))


if __name__ == "__main__":
    main()

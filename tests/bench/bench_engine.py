"""Engine overhead per step: N trivial steps (sleep 0ms), no reports written.

    python tests/bench/bench_engine.py [N]

Prints the run's wall time and the cost per step (worker thread, rendering,
results, events). Not collected by pytest.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from runner.engine.run import run_checklist


def main(steps: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.yaml"
        body = "".join(
            f"      - sleep: {{duration: 0ms}}\n        save: {{s{i}: slept}}\n"
            for i in range(steps)
        )
        path.write_text(f"checklist: bench\ntests:\n  - id: many\n    steps:\n{body}")
        started = time.perf_counter()
        result = run_checklist(path, report_dir=Path(folder) / "r", write=False)
        elapsed = time.perf_counter() - started
    assert result.decision.value == "APPROVED"
    print(
        f"{steps} steps in {elapsed:.3f}s: {elapsed / steps * 1000:.2f} ms per step (load included)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)

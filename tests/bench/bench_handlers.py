"""How long offline handler tests and payload generation take (not collected by pytest).

    .venv/bin/python tests/bench/bench_handlers.py [RUNS]

Prints, per fixture handler: the wall time of one `run_handler_tests` (process start, import,
model_fn, every check), the number of checks, and the median in-handler time per check; then
the time to generate JSON+CSV payloads (payload.tar.gz) for a model with 1,000 fields.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from runner.handlers import HandlerSpec, run_handler_tests
from runner.payload import PayloadOptions, generate_payloads

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "handlers"
# (model folder, payloads); the shipped example model is the all-four-functions case
CASES = (
    (Path(__file__).resolve().parents[2] / "checklists" / "models" / "scorer", "records"),
    (FIXTURES / "model_and_predict", "numeric"),
    (FIXTURES / "transform", "records"),
)


def bench_handlers(runs: int) -> None:
    for model, payloads in CASES:
        spec = HandlerSpec(
            handler_name=model.name,
            model=str(model),
            payloads=str(FIXTURES / "payloads" / payloads),
        )
        walls, checks, per_call = [], 0, []
        for _ in range(runs):
            start = time.perf_counter()
            report = run_handler_tests(spec)
            walls.append(time.perf_counter() - start)
            assert report.ok, report.describe_failures()
            ran = [r for r in report.results if r.status != "skipped"]
            checks = len(ran)
            per_call += [r.seconds for r in ran if r.function not in ("import", "model_fn")]
        print(
            f"{model.name:<18} wall median {statistics.median(walls) * 1000:7.1f} ms "
            f"(min {min(walls) * 1000:.1f}) over {runs} runs; {checks} checks; "
            f"median call {statistics.median(per_call) * 1e6:.0f} us"
        )


def bench_payload(fields: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "model"
        model.mkdir()
        names = [f"f{i}" for i in range(fields)]
        hp = {
            "full_field_list": ["id", *names, "label"],
            "tab_field_list": names[: fields // 2],
            "cat_field_list": names[fields // 2 : fields // 2 + 10],
        }
        (model / "hyperparameters.json").write_text(json.dumps(hp))
        options = PayloadOptions(content_types=["application/json", "text/csv"])
        times = []
        for i in range(runs):
            start = time.perf_counter()
            generate_payloads(model, Path(tmp) / f"out{i}", options)
            times.append(time.perf_counter() - start)
        print(
            f"payload {fields} fields JSON+CSV: median {statistics.median(times) * 1000:.1f} ms "
            f"over {runs} runs"
        )


if __name__ == "__main__":
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    bench_handlers(runs)
    bench_payload(1000, runs)

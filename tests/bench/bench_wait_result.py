"""Benchmark: how soon after an async result lands does the waiter return it?

Run: .venv/bin/python tests/bench/bench_wait_result.py [--jobs 24] [--spread 6]

On one embedded local stack, in one run, async jobs are submitted at random
moments over `--spread` seconds and waited for three ways. The bench model takes
a random 0.5-3 s per request (as real inference takes time; a result that is
already there when a waiter first looks says nothing about the waiter):

* `wait_result` with notifications (the run's one waiter: SQS long poll + S3 safety net);
* `wait_result` on an endpoint without notifications (the S3 HEAD fallback alone);
* `wait_result` on an endpoint whose notifications are dropped 30% of the time
  (fault injection: the S3 safety net and the "younger job notified" nudge);
* boto3's own S3 `object_exists` waiter with its default settings (HeadObject every
  5 s), which is what the SageMaker SDK's AsyncPredictor and hand-written scripts use.

Lag = the moment the waiter returned - the output object's LastModified (listed once
after the run, millisecond precision). Requests per result count every S3 and SQS
call the waiting made (the boto3 waiter's HEADs plus the GET that reads the result).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from runner.actions import registry  # noqa: E402
from runner.actions.aws import clients  # noqa: E402
from runner.actions.registry import ActionOutput  # noqa: E402
from runner.actions.sagemaker_runtime import get_waiter  # noqa: E402
from runner.engine.context import ProfileSettings, RunContext, StepContext  # noqa: E402
from runner.engine.ledger import Ledger  # noqa: E402
from runner.local.faults import FaultPlan, FaultRule  # noqa: E402
from runner.local.stack import LocalStack  # noqa: E402

BENCH_HANDLER = """
import json, time

def model_fn(model_dir):
    return None

def input_fn(body, content_type):
    return json.loads(body)

def predict_fn(data, model):
    time.sleep(float(data["sleep"]))
    return {"slept": data["sleep"]}

def output_fn(prediction, accept):
    return json.dumps(prediction), "application/json"
"""


def call(run: RunContext, name: str, **args: Any) -> Any:
    spec = registry.get(name)
    assert spec is not None
    out = spec.func(
        spec.args.model_validate(args) if spec.args else args, StepContext(run, "bench", name)
    )
    return out.value if isinstance(out, ActionOutput) else out


def deploy(run: RunContext, model: str, endpoint: str, notifications: bool) -> None:
    call(
        run,
        "sagemaker.deploy_async",
        endpoint=endpoint,
        model_data=model,
        output_path=f"s3://bench/out/{endpoint}/",
        notifications=notifications,
        max_concurrent_invocations=64,
    )


def landed_times(run: RunContext, endpoint: str) -> dict[str, float]:
    """Output key -> when moto stored it (epoch seconds, microseconds; the stack is in-process).

    S3's LastModified on the wire has whole seconds only, too coarse for this.
    """
    from moto.backends import get_backend

    bucket = get_backend("s3")["123456789012"]["aws"].buckets["bench"]
    prefix = f"out/{endpoint}/"
    return {
        f"s3://bench/{key}": bucket.keys[key].last_modified.replace(tzinfo=timezone.utc).timestamp()
        for key in list(bucket.keys.keys())
        if key.startswith(prefix)
    }


def submit(run: RunContext, endpoint: str) -> dict[str, Any]:
    body = json.dumps({"sleep": round(random.uniform(0.5, 3.0), 3)})
    job: dict[str, Any] = call(
        run, "sagemaker.invoke_async", endpoint=endpoint, body=body, content_type="application/json"
    )
    return job


def lags_of(
    run: RunContext,
    endpoint: str,
    one: Callable[[float], None],
    returned: dict[str, float],
    jobs: int,
    spread: float,
) -> list[float]:
    """Run `one(delay)` for `jobs` jobs at random moments over `spread` s; each job's lag
    = when `one` recorded it in `returned` - its output's LastModified."""
    threads = [threading.Thread(target=one, args=(random.uniform(0, spread),)) for _ in range(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    landed = landed_times(run, endpoint)
    return [returned[k] - landed[k] for k in returned]


def run_ours(run: RunContext, endpoint: str, jobs: int, spread: float) -> dict[str, Any]:
    returned: dict[str, float] = {}
    counts: dict[str, int] = {"s3": 0}
    waiter = get_waiter(CTX(run))
    sqs_before = waiter.sqs_requests

    def one(delay: float) -> None:
        time.sleep(delay)
        job = submit(run, endpoint)
        result = call(run, "sagemaker.wait_result", job=job, timeout=60)
        returned[job["OutputLocation"]] = time.time()
        assert result["status"] == "Completed", result
        counts["s3"] += result["s3_requests"]

    lags = lags_of(run, endpoint, one, returned, jobs, spread)
    requests = counts["s3"] + (waiter.sqs_requests - sqs_before)
    return {"lags": lags, "requests": requests / jobs}


def run_boto3(run: RunContext, endpoint: str, jobs: int, spread: float) -> dict[str, Any]:
    s3 = clients(run).client("s3", retries={"mode": "standard"})  # its own client: count its calls
    heads = {"n": 0}
    lock = threading.Lock()

    def count(**_: Any) -> None:
        with lock:
            heads["n"] += 1

    s3.meta.events.register("before-call.s3.HeadObject", count)
    s3.meta.events.register("before-call.s3.GetObject", count)
    returned: dict[str, float] = {}

    def one(delay: float) -> None:
        time.sleep(delay)
        job = submit(run, endpoint)
        bucket, key = job["OutputLocation"][5:].split("/", 1)
        s3.get_waiter("object_exists").wait(Bucket=bucket, Key=key)  # defaults: 5 s, 20 tries
        returned[job["OutputLocation"]] = time.time()
        s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    lags = lags_of(run, endpoint, one, returned, jobs, spread)
    return {"lags": lags, "requests": heads["n"] / jobs}


def CTX(run: RunContext) -> StepContext:
    return StepContext(run, "bench", "waiter")


def summary(name: str, data: dict[str, Any]) -> tuple[float, str]:
    lags = sorted(data["lags"])
    p50 = statistics.median(lags)
    p95 = lags[min(len(lags) - 1, round(0.95 * (len(lags) - 1)))]
    line = (
        f"{name:<34} n={len(lags):>3}  p50 {p50 * 1000:8.1f} ms  p95 {p95 * 1000:8.1f} ms  "
        f"max {lags[-1] * 1000:8.1f} ms  requests/result {data['requests']:6.2f}"
    )
    return p50, line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=24)
    parser.add_argument("--spread", type=float, default=6.0)
    parser.add_argument("--seed", type=int, default=7)
    opts = parser.parse_args()
    random.seed(opts.seed)
    with tempfile.TemporaryDirectory() as tmp:
        # The stack is built here (not lazily by the run) to drop 30% of one endpoint's
        # notifications: the fallback must still find those results.
        plan = FaultPlan(
            seed=opts.seed,
            rules=[FaultRule(kind="drop_notification", endpoint="bench-dropped", rate=0.3)],
        )
        stack = LocalStack(faults=plan).start()
        run = RunContext(
            run_id="bench",
            started_at=datetime.now(timezone.utc),
            checklist_path=ROOT / "checklists" / "async.yaml",
            report_dir=Path(tmp),
            ledger=Ledger(Path(tmp) / "ledger.json", "bench"),
            profile=ProfileSettings(name="bench", target="local", endpoint_url=stack.url),
        )
        try:
            source = Path(tmp) / "model"
            (source / "code").mkdir(parents=True)
            (source / "code" / "inference.py").write_text(BENCH_HANDLER)
            model = call(
                run, "sagemaker.package_model", source=str(source),
                uri="s3://bench/model/model.tar.gz",
            )["model_data"]  # fmt: skip
            deploy(run, model, "bench-notify", notifications=True)
            deploy(run, model, "bench-s3only", notifications=False)
            deploy(run, model, "bench-boto3", notifications=False)
            deploy(run, model, "bench-dropped", notifications=True)
            ours = run_ours(run, "bench-notify", opts.jobs, opts.spread)
            fallback = run_ours(run, "bench-s3only", opts.jobs, opts.spread)
            boto3_waiter = run_boto3(run, "bench-boto3", opts.jobs, opts.spread)
            dropped = run_ours(run, "bench-dropped", opts.jobs, opts.spread)
        finally:
            run.exit_stack.close()
            stack.stop()
    p_ours, line_ours = summary("wait_result (notifications)", ours)
    p_fb, line_fb = summary("wait_result (S3 fallback only)", fallback)
    _, line_dropped = summary("wait_result (30% notif. dropped)", dropped)
    p_b3, line_b3 = summary("boto3 object_exists (defaults)", boto3_waiter)
    print(f"jobs per waiter: {opts.jobs}, submitted over {opts.spread:g} s, one local stack")
    print(line_ours)
    print(line_fb)
    print(line_dropped)
    print(line_b3)
    print(f"p50 lag ratio boto3 / wait_result (notifications): {p_b3 / max(p_ours, 1e-6):8.1f}x")
    print(f"p50 lag ratio boto3 / wait_result (S3 fallback):   {p_b3 / max(p_fb, 1e-6):8.1f}x")
    print(f"goal p50 <= 50 ms: {'met' if p_ours <= 0.05 else 'NOT met'}; "
          f"goal >= 50x: {'met' if p_b3 / max(p_ours, 1e-6) >= 50 else 'NOT met'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

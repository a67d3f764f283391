"""SageMaker runtime step types: invoke_async, invoke (real-time), wait_result(s).

`invoke_async` uploads the input, calls InvokeEndpointAsync and hands the job to
the run's one `ResultWaiter` at once, so a notification that arrives before
`wait_result` starts is not lost. `wait_result` then blocks on that job only.
"""

from __future__ import annotations

import base64
import concurrent.futures
import threading
import time
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from runner.actions import s3 as s3_actions
from runner.actions.aws import aws_errors, clients, stop_event
from runner.actions.registry import ActionOutput, action, exactly_one
from runner.actions.waiter import Job, ResultWaiter
from runner.engine.context import StepContext
from runner.errors import ActionError

WAITER_KEY = "sagemaker.waiter"


def get_waiter(ctx: StepContext) -> ResultWaiter:
    """The run's one waiter (started on first use, stopped with the run)."""
    run = ctx.run
    aws = clients(ctx)  # outside our lock: it may start the local stack
    with run.shared.setdefault("sagemaker.lock", threading.Lock()):
        waiter = run.shared.get(WAITER_KEY)
        if not isinstance(waiter, ResultWaiter) or waiter.stopped:
            # The SQS client's read timeout must outlast a long poll.
            waiter = ResultWaiter(
                aws.client("s3"), aws.client("sqs", read_timeout=40), clock=run.clock
            )
            run.shared[WAITER_KEY] = waiter
            run.exit_stack.callback(waiter.stop)
        return waiter


def _endpoint_info(ctx: StepContext, endpoint: str) -> dict[str, Any]:
    return dict(ctx.run.shared.get("sagemaker.endpoints", {}).get(endpoint) or {})


def _any_input_path(ctx: StepContext) -> str | None:
    for info in ctx.run.shared.get("sagemaker.endpoints", {}).values():
        path = (info.get("async_config") or {}).get("s3_input_path")
        if path:
            return str(path)
    return None


class InvokeAsyncArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    endpoint: str
    body: str | None = None
    body_file: str | None = None
    input_location: str | None = None  # an object already in S3
    content_type: str | None = None  # default: from body_file's extension
    accept: str | None = None
    custom_attributes: str | None = None
    inference_id: str | None = None
    input_path: str | None = None  # where to upload body/body_file; default: the endpoint's
    request_ttl_seconds: int | None = Field(default=None, ge=60, le=21600)
    invocation_timeout_seconds: int | None = Field(default=None, ge=1, le=3600)
    count: int = Field(default=1, ge=1, le=1000)  # >1: submit concurrently, returns {jobs: [...]}

    @model_validator(mode="after")
    def _one_input(self) -> InvokeAsyncArgs:
        exactly_one(self, "body", "body_file", "input_location")
        return self


def submit_one(args: InvokeAsyncArgs, ctx: StepContext) -> dict[str, Any]:
    """Upload (unless input_location), InvokeEndpointAsync, register the job with the waiter."""
    aws = clients(ctx)
    info = _endpoint_info(ctx, args.endpoint)
    async_cfg = info.get("async_config") or {}
    content_type = args.content_type
    uploaded: dict[str, Any] | None = None
    if args.input_location is None:
        data, content_type, name = s3_actions.read_body(
            ctx, args.body, args.body_file, args.content_type, "application/json"
        )
        base = args.input_path or async_cfg.get("s3_input_path") or _any_input_path(ctx)
        if not base:
            raise ActionError(
                "no input_path to upload the input to (deploy the endpoint first or give one)",
                code="InvalidArguments",
            )
        bucket, prefix = s3_actions.parse_uri(base if base.endswith("/") else base + "/")
        key = f"{prefix}{uuid.uuid4().hex}-{name}"
        uploaded = s3_actions.upload(ctx, bucket, key, data, content_type)
        input_location = uploaded["uri"]
    else:
        input_location = args.input_location
    request: dict[str, Any] = {"EndpointName": args.endpoint, "InputLocation": input_location}
    for field_name, key_name in (
        ("accept", "Accept"),
        ("custom_attributes", "CustomAttributes"),
        ("inference_id", "InferenceId"),
        ("request_ttl_seconds", "RequestTTLSeconds"),
        ("invocation_timeout_seconds", "InvocationTimeoutSeconds"),
    ):
        if getattr(args, field_name) is not None:
            request[key_name] = getattr(args, field_name)
    if content_type:
        request["ContentType"] = content_type
    runtime = aws.client("sagemaker-runtime")
    started = time.time()
    submitted = get_waiter(ctx).clock.monotonic()
    with aws_errors(f"invoke async endpoint {args.endpoint}"):
        resp = runtime.invoke_endpoint_async(**request)
    inference_id = resp["InferenceId"]
    output, failure = resp.get("OutputLocation"), resp.get("FailureLocation")
    for location in (output, failure):
        if location:
            bucket, key = s3_actions.parse_uri(location)
            ctx.run.ledger.record("s3:object", location, aws.region, bucket=bucket, key=key)
    job = {
        "InferenceId": inference_id,
        "OutputLocation": output,
        "FailureLocation": failure,
        "InputLocation": input_location,
        "EndpointName": args.endpoint,
        "queue_url": async_cfg.get("queue_url"),
        "submitted_at": started,
        "input_uploaded": uploaded is not None,
        "input_size": uploaded["size"] if uploaded else None,
        "retries": resp.get("ResponseMetadata", {}).get("RetryAttempts", 0),
    }
    get_waiter(ctx).register(
        inference_id, output, failure, async_cfg.get("queue_url"), submitted=submitted
    )
    return job


@action("sagemaker.invoke_async", args=InvokeAsyncArgs)
def invoke_async(args: InvokeAsyncArgs, ctx: StepContext) -> ActionOutput:
    """Submit one (or `count` concurrent) async inferences; returns the job(s)."""
    if args.count == 1:
        job = submit_one(args, ctx)
        return ActionOutput(job, evidence=_job_evidence(job))
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(args.count, 32)) as pool:
        futures = [pool.submit(submit_one, args, ctx) for _ in range(args.count)]
        jobs, errors = [], []
        for future in futures:
            try:
                jobs.append(future.result())
            except ActionError as exc:
                errors.append({"code": exc.code, "message": exc.message})
    value = {
        "jobs": jobs,
        "accepted": len(jobs),
        "errors": errors,
        "throttled": sum(1 for e in errors if "Throttl" in str(e["code"])),
        "retries": sum(j["retries"] for j in jobs),
    }
    return ActionOutput(value, evidence={"accepted": len(jobs), "errors": len(errors)})


def _job_evidence(job: dict[str, Any]) -> dict[str, Any]:
    return {
        "inference_id": job["InferenceId"],
        "output_location": job["OutputLocation"],
        "input_location": job["InputLocation"],
    }


class WaitArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    job: dict[str, Any] | None = None  # what invoke_async returned
    jobs: list[dict[str, Any]] | None = None  # several: waits for all (wait_result returns a list)
    inference_id: str | None = None
    output_location: str | None = None
    failure_location: str | None = None
    queue_url: str | None = None
    timeout: float = Field(default=300.0, gt=0)
    # Measure from an earlier moment too (ISO time, e.g. a redeploy's created_at): since_start.
    started_at: str | None = None
    report_as: str | None = None  # also put the headline time into the evidence under this key


def _register(ctx: StepContext, job: dict[str, Any]) -> Job:
    waiter = get_waiter(ctx)
    return waiter.register(
        str(job["InferenceId"]),
        job.get("OutputLocation"),
        job.get("FailureLocation"),
        job.get("queue_url"),
    )


def outcome(ctx: StepContext, job: Job, waited: bool, wait_start: float) -> dict[str, Any]:
    """The report-ready result of one job (status Completed / Failed / TimedOut)."""
    waiter = get_waiter(ctx)
    now = time.monotonic()
    rounds = (job.sqs_rounds_at_end or waiter.sqs_rounds) - job.sqs_rounds_at_start
    base: dict[str, Any] = {
        "inference_id": job.inference_id,
        "output_location": job.output_location,
        "failure_location": job.failure_location,
        "detected_by": job.detected_by,
        "attempts": job.checks + rounds + 1,
        "elapsed": round(now - wait_start, 3),
        "since_submit": round((job.detected_at or now) - job.registered, 3),
        "detected_wall": round(time.time() - (now - (job.detected_at or now)), 3),
        "s3_requests": job.s3_requests,
        "sqs_requests": rounds,
        "notification": job.notification,
    }
    if not waited:
        return base | {"status": "TimedOut", "output": None, "failure": None}
    fetched = waiter.fetch(job)
    base["s3_requests"] = job.s3_requests
    output = None
    if "raw" in fetched:
        try:
            output = s3_actions.parse_body(fetched["raw"], fetched["content_type"])
        except ValueError:
            output = base64.b64encode(fetched["raw"]).decode()
    return base | {
        "status": job.status,
        "output": output,
        "content_type": fetched.get("content_type"),
        "failure": fetched.get("failure"),
        "failure_reason": fetched.get("failure_reason"),
    }


def wait_for(ctx: StepContext, jobs: list[dict[str, Any]], timeout: float) -> list[dict[str, Any]]:
    waiter = get_waiter(ctx)
    start = time.monotonic()
    limit = min(timeout, ctx.remaining() or timeout)
    tracked = [_register(ctx, j) for j in jobs]
    results = []
    for job in tracked:
        ctx.progress(f"waiting for {job.inference_id}", inference_id=job.inference_id)
        left = max(0.0, limit - (time.monotonic() - start))
        waited = waiter.wait(job, left, stop_event(ctx))
        results.append(outcome(ctx, job, waited, start))
        if waited:
            waiter.forget(job)
    return results


@action("sagemaker.wait_result", args=WaitArgs)
def wait_result(args: WaitArgs, ctx: StepContext) -> ActionOutput:
    """Wait for async result(s): notification first, S3 fallback; status, output, how detected."""
    if args.jobs is not None:
        results = wait_for(ctx, args.jobs, args.timeout)
        statuses = [r["status"] for r in results]
        value = {
            "results": results,
            "count": len(results),
            "completed": statuses.count("Completed"),
            "failed": statuses.count("Failed"),
            "timed_out": statuses.count("TimedOut"),
            "max_concurrency_observed": max_overlap(results),
            "s3_requests": sum(r["s3_requests"] for r in results),
            # Queue reads are shared by the batch: the most any one job saw, not a sum.
            "sqs_requests": max((r["sqs_requests"] for r in results), default=0),
            "since_submit": max((r["since_submit"] for r in results), default=0.0),
            "since_submit_all": [r["since_submit"] for r in results],
            "detected_by": _detected_by(results),
        }
        return ActionOutput(value, evidence={k: v for k, v in value.items() if k != "results"})
    job = args.job or {
        "InferenceId": args.inference_id,
        "OutputLocation": args.output_location,
        "FailureLocation": args.failure_location,
        "queue_url": args.queue_url,
    }
    if not job.get("InferenceId"):
        raise ActionError(
            "give `job` (from invoke_async), `jobs` or `inference_id`", code="InvalidArguments"
        )
    result = wait_for(ctx, [job], args.timeout)[0]
    evidence = {
        k: result.get(k)
        for k in ("inference_id", "status", "output_location", "detected_by", "attempts")
    } | {k: result.get(k) for k in ("elapsed", "since_submit", "s3_requests", "sqs_requests")}
    if args.started_at:
        start = datetime.fromisoformat(args.started_at.replace("Z", "+00:00")).timestamp()
        result["since_start"] = round(result["detected_wall"] - start, 3)
        evidence["since_start"] = result["since_start"]
    if args.report_as:
        evidence[args.report_as] = result.get("since_start", result.get("since_submit"))
    return ActionOutput(result, evidence=evidence)


def _detected_by(results: list[dict[str, Any]]) -> str | None:
    """One word for a batch: "notification", "s3", or e.g. "mixed (4 notification, 1 s3)"."""
    ways = [str(r["detected_by"]) for r in results if r.get("detected_by")]
    if not ways:
        return None
    if len(set(ways)) == 1:
        return ways[0]
    counts = ", ".join(f"{ways.count(w)} {w}" for w in sorted(set(ways)))
    return f"mixed ({counts})"


def max_overlap(results: list[dict[str, Any]]) -> int:
    """Most requests the model served at once, from the outputs' `served` intervals (if any)."""
    events: list[tuple[float, int]] = []
    for r in results:
        served = (
            (r.get("output") or {}).get("served") if isinstance(r.get("output"), dict) else None
        )
        if served and "started_at" in served and "finished_at" in served:
            events += [(float(served["started_at"]), 1), (float(served["finished_at"]), -1)]
    best = current = 0
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):
        current += delta
        best = max(best, current)
    return best


class InvokeArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    endpoint: str
    body: str | None = None
    body_file: str | None = None
    content_type: str | None = None
    accept: str | None = None
    custom_attributes: str | None = None

    @model_validator(mode="after")
    def _one_input(self) -> InvokeArgs:
        exactly_one(self, "body", "body_file")
        return self


@action("sagemaker.invoke", args=InvokeArgs)
def invoke(args: InvokeArgs, ctx: StepContext) -> ActionOutput:
    """Real-time InvokeEndpoint; `body` is the response parsed by its content type."""
    data, ctype, _ = s3_actions.read_body(
        ctx, args.body, args.body_file, args.content_type, "application/json"
    )
    request: dict[str, Any] = {"EndpointName": args.endpoint, "Body": data, "ContentType": ctype}
    if args.accept:
        request["Accept"] = args.accept
    if args.custom_attributes:
        request["CustomAttributes"] = args.custom_attributes
    runtime = clients(ctx).client("sagemaker-runtime")
    start = time.monotonic()
    with aws_errors(f"invoke endpoint {args.endpoint}"):
        resp = runtime.invoke_endpoint(**request)
    raw = resp["Body"].read()
    latency = round(time.monotonic() - start, 3)
    rtype = resp.get("ContentType")
    try:
        body = s3_actions.parse_body(raw, rtype)
    except ValueError:
        body = base64.b64encode(raw).decode()
    value = {"body": body, "content_type": rtype, "latency": latency, "size": len(raw)}
    return ActionOutput(value, evidence={"latency": latency, "endpoint": args.endpoint})

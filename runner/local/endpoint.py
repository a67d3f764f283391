"""One deployed endpoint: its model servers and, for async endpoints, its queue.

Deploy reads the endpoint through the stack's own API (DescribeEndpoint, DescribeEndpointConfig,
DescribeModel, GetObject on ModelDataUrl), extracts the model safely and starts one model server
per instance. Async jobs wait in one queue per endpoint, served by
MaxConcurrentInvocationsPerInstance threads per instance, so at most that many x instance count
are in flight, and all of them are used when the queue is deep.
"""

from __future__ import annotations

import queue
import secrets
import shutil
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.local import control, notifications
from runner.local.faults import FaultPlan
from runner.local.services import Services, Telemetry, join_s3
from runner.local.worker import error_body
from runner.local.workers import (
    WorkerCrashed,
    WorkerError,
    WorkerProcess,
    WorkerReply,
    WorkerTimeout,
    worker_environment,
)

DEFAULT_MAX_CONCURRENT = 4  # SageMaker's default when ClientConfig is absent


@dataclass(frozen=True)
class AsyncConfig:
    """The parts of AsyncInferenceConfig the runtime acts on."""

    max_concurrent: int
    output_path: str
    failure_path: str | None
    success_topic: str | None
    error_topic: str | None
    include_response_in: tuple[str, ...]

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> AsyncConfig:
        output = data.get("OutputConfig") or {}
        notify = output.get("NotificationConfig") or {}
        client = data.get("ClientConfig") or {}
        return cls(
            max_concurrent=int(
                client.get("MaxConcurrentInvocationsPerInstance") or DEFAULT_MAX_CONCURRENT
            ),
            output_path=output.get("S3OutputPath", ""),
            failure_path=output.get("S3FailurePath"),
            success_topic=notify.get("SuccessTopic"),
            error_topic=notify.get("ErrorTopic"),
            include_response_in=tuple(notify.get("IncludeInferenceResponseIn") or ()),
        )


@dataclass
class Job:
    """One accepted InvokeEndpointAsync request."""

    inference_id: str
    output_location: str
    failure_location: str
    input_location: str | None
    body: bytes | None
    content_type: str | None
    accept: str | None
    custom_attributes: str | None
    ttl: float
    timeout: float
    received: float = field(default_factory=time.time)
    queued: float = field(default_factory=time.perf_counter)


class Endpoint:
    """A live endpoint in the runtime."""

    def __init__(
        self,
        name: str,
        region: str,
        *,
        services: Services,
        telemetry: Telemetry,
        faults: FaultPlan | None,
        workdir: Path,
        log_dir: Path | None = None,
    ) -> None:
        self.name = name
        self.region = region
        self.services = services
        self.telemetry = telemetry
        self.faults = faults
        self.workdir = workdir
        self.log_dir = log_dir
        self.async_config: AsyncConfig | None = None
        self.variant = "AllTraffic"
        self.workers: list[WorkerProcess] = []
        self.instance_ids: list[str] = []
        self.ready = threading.Event()
        self.stopped = threading.Event()
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._in_flight = 0
        self._processed = 0
        self._reported = 0
        self._counter_lock = threading.Lock()
        self._next_worker = 0
        self._threads: list[threading.Thread] = []
        self.phases: dict[str, list[float]] = {}  # phase -> [count, total seconds]
        self.log_group = f"/aws/sagemaker/Endpoints/{name}"

    # -- logs ---------------------------------------------------------------------------------
    def log(self, message: str, worker: WorkerProcess | str | None = None) -> None:
        """One log event in /aws/sagemaker/Endpoints/<name>, stream <variant>/<instance-id>."""
        if isinstance(worker, WorkerProcess):
            instance = worker.instance_id
        elif worker is not None:
            instance = worker
        else:
            instance = self.instance_ids[0] if self.instance_ids else "runtime"
        self.telemetry.log(self.region, self.log_group, f"{self.variant}/{instance}", message)
        if self.log_dir is not None:
            path = self.log_dir / self.name / f"{instance}.log"
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as f:
                f.write(message.rstrip("\n") + "\n")

    def _logger(self, instance_id: str) -> Callable[[str], None]:
        return lambda line: self.log(line, instance_id)

    # -- deploy -------------------------------------------------------------------------------
    def deploy(self, stack_url: str) -> None:
        """Bring the endpoint to InService, or Failed with the reason; never raises."""
        try:
            self._deploy(stack_url)
        except Exception as exc:
            if self.stopped.is_set():
                return
            reason = str(exc) if isinstance(exc, WorkerError) else f"{type(exc).__name__}: {exc}"
            self.log(f"endpoint failed: {reason}\n{traceback.format_exc()}")
            self._stop_workers()
            control.set_status(self.name, self.region, "Failed", self._failure_reason(reason))

    def _failure_reason(self, error: str) -> str:
        return (
            f"The primary container for production variant {self.variant} did not pass the "
            f"ping health check: {error}. See the log group {self.log_group} for details."
        )

    def _deploy(self, stack_url: str) -> None:
        sagemaker = self.services.client("sagemaker", self.region)
        described = sagemaker.describe_endpoint(EndpointName=self.name)
        config = sagemaker.describe_endpoint_config(
            EndpointConfigName=described["EndpointConfigName"]
        )
        variant = config["ProductionVariants"][0]
        self.variant = variant.get("VariantName") or "AllTraffic"
        model = sagemaker.describe_model(ModelName=variant["ModelName"])
        container = model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0]
        if config.get("AsyncInferenceConfig"):
            self.async_config = AsyncConfig.from_api(config["AsyncInferenceConfig"])
            self._publish_test_notification()
        instances = int(variant.get("InitialInstanceCount") or 1)
        self.instance_ids = ["i-" + secrets.token_hex(8) + "0" for _ in range(instances)]
        model_dir = self._fetch_model(container.get("ModelDataUrl"))
        from runner.model import framework_from_image

        framework = framework_from_image(container.get("Image"))
        env = worker_environment(
            container.get("Environment") or {}, region=self.region, stack_url=stack_url
        )
        slow = self.faults.fires("slow_start", self.name) if self.faults else None
        if slow is not None:
            self.log(f"fault injected: slow cold start ({slow.seconds:g}s)")
            if self.stopped.wait(slow.seconds):
                return
        self.workers = [
            WorkerProcess(
                instance_id=instance_id,
                model_dir=model_dir,
                framework=framework,
                env=env,
                log=self._logger(instance_id),
            )
            for instance_id in self.instance_ids
        ]
        self._start_workers()
        if self.stopped.is_set():  # deleted while starting: nothing may outlive the endpoint
            self._stop_workers()
            return
        if self.async_config is not None:
            self._start_dispatchers()
            self.telemetry.add_metric_source(self.metrics)
        self.ready.set()
        control.set_status(self.name, self.region, "InService")
        self.log(f"endpoint {self.name} is InService with {instances} instance(s)")

    def _fetch_model(self, model_data_url: str | None) -> Path:
        model_dir = self.workdir / "model"
        model_dir.mkdir(parents=True, exist_ok=True)
        if not model_data_url:
            return model_dir
        from runner.model import extract_model

        body, _ = self.services.get_object(self.region, model_data_url)
        archive = self.workdir / "model.tar.gz"
        archive.write_bytes(body)
        self.log(f"downloaded {model_data_url} ({len(body)} bytes); extracting")
        return extract_model(archive, model_dir)

    def _start_workers(self) -> None:
        errors: list[BaseException] = []

        def start(worker: WorkerProcess) -> None:
            try:
                worker.start()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=start, args=(w,), daemon=True) for w in self.workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    def _publish_test_notification(self) -> None:
        assert self.async_config is not None
        topics = {self.async_config.success_topic, self.async_config.error_topic} - {None}
        for topic in sorted(t for t in topics if t):
            try:
                message = notifications.dumps(notifications.TEST_NOTIFICATION)
                self.services.publish(self.region, topic, message)
            except Exception as exc:
                self.log(f"test notification to {topic} failed: {exc}")

    # -- async --------------------------------------------------------------------------------
    def _start_dispatchers(self) -> None:
        assert self.async_config is not None
        for index in range(self.async_config.max_concurrent * len(self.workers)):
            worker = self.workers[index % len(self.workers)]
            thread = threading.Thread(
                target=self._dispatch, args=(worker,), name=f"{self.name}-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def submit(self, job: Job) -> None:
        self._queue.put(job)

    def backlog(self) -> int:
        return self._queue.qsize() + self._in_flight

    def metrics(self) -> list[tuple[str, str, str, float]]:
        with self._counter_lock:
            processed, self._reported = self._processed - self._reported, self._processed
        return [
            (self.region, self.name, "ApproximateBacklogSize", float(self.backlog())),
            (self.region, self.name, "InvocationsProcessed", float(processed)),
        ]

    def _timed(self, phase: str, started: float) -> None:
        """Account `time.perf_counter() - started` to a phase (where does the time go?)."""
        elapsed = time.perf_counter() - started
        with self._counter_lock:
            entry = self.phases.setdefault(phase, [0, 0.0])
            entry[0] += 1
            entry[1] += elapsed

    def _dispatch(self, worker: WorkerProcess) -> None:
        while True:
            job = self._queue.get()
            if job is None or self.stopped.is_set():
                return
            self._timed("queued", job.queued)
            with self._counter_lock:
                self._in_flight += 1
            try:
                self._process(job, worker)
            except Exception as exc:
                self.log(f"internal error processing {job.inference_id}: {exc!r}", worker)
            finally:
                with self._counter_lock:
                    self._in_flight -= 1
                    self._processed += 1

    def _process(self, job: Job, worker: WorkerProcess) -> None:
        if time.time() > job.received + job.ttl:
            self._fail(
                job,
                worker,
                "ClientError: Request expired: it waited longer than "
                f"RequestTTLSeconds ({job.ttl:g} s) in the queue.",
                "Request TTL expired",
            )
            return
        body, content_type = job.body, job.content_type
        if body is None:
            assert job.input_location is not None
            try:
                started = time.perf_counter()
                body, stored_type = self.services.get_object(self.region, job.input_location)
                self._timed("s3-get-input", started)
            except Exception as exc:
                reason = f"ClientError: Failed to download input data from {job.input_location}."
                self._fail(job, worker, reason, f"{reason} {exc}")
                return
            # The SageMaker Python SDK relies on the input object's Content-Type (FACTS.md).
            content_type = content_type or stored_type
        self._maybe_kill(worker)
        started = time.perf_counter()
        try:
            reply = worker.invoke(
                body,
                content_type=content_type,
                accept=job.accept,
                custom_attributes=job.custom_attributes,
                timeout=job.timeout,
            )
        except WorkerTimeout as exc:
            reason = (
                f"ClientError: The model did not respond within InvocationTimeoutSeconds "
                f"({job.timeout:g} s)."
            )
            self._fail(job, worker, reason, str(exc), content_type)
            return
        except WorkerCrashed as exc:
            self._fail(job, worker, _model_error_reason(500), str(exc), content_type)
            return
        self._timed("model-server", started)
        if 200 <= reply.status < 300:
            self._succeed(job, worker, reply, content_type)
        else:
            error_reply = (reply.body, reply.content_type)
            self._fail(job, worker, _model_error_reason(reply.status), error_reply, content_type)

    def _maybe_kill(self, worker: WorkerProcess) -> None:
        rule = self.faults.fires("kill_worker", self.name) if self.faults else None
        if rule is None:
            return
        self.log(f"fault injected: killing model server pid {worker.pid}", worker)
        if rule.seconds > 0:
            threading.Timer(rule.seconds, worker.kill).start()
        else:
            worker.kill()

    def _succeed(
        self, job: Job, worker: WorkerProcess, reply: WorkerReply, ctype: str | None
    ) -> None:
        assert self.async_config is not None
        started = time.perf_counter()
        self.services.put_object(self.region, job.output_location, reply.body, reply.content_type)
        self._timed("s3-put-output", started)
        self.log(f"inference {job.inference_id} completed -> {job.output_location}", worker)
        topic = self.async_config.success_topic
        if topic:
            include = notifications.SUCCESS_TOPIC in self.async_config.include_response_in
            message = notifications.inference_result(
                region=self.region,
                endpoint=self.name,
                inference_id=job.inference_id,
                received=job.received,
                finished=time.time(),
                content_type=ctype,
                accept=job.accept,
                input_location=job.input_location,
                succeeded=True,
                output_location=job.output_location,
                response_content_type=reply.content_type,
                response_body=reply.body if include else None,
            )
            self._notify(topic, message)

    def _fail(
        self,
        job: Job,
        worker: WorkerProcess,
        reason: str,
        error: str | tuple[bytes, str],
        ctype: str | None = None,
    ) -> None:
        """Failure object (the model server's error body), log line, error notification."""
        assert self.async_config is not None
        if isinstance(error, str):  # the runtime's own failure: write it as the server would
            body, body_type = error_body(500, error, worker.framework)
        else:
            body, body_type = error
        error = body.decode("utf-8", "replace")
        self.services.put_object(self.region, job.failure_location, body, body_type)
        self.log(f"inference {job.inference_id} failed: {error}", worker)
        topic = self.async_config.error_topic
        if topic:
            include = notifications.ERROR_TOPIC in self.async_config.include_response_in
            message = notifications.inference_result(
                region=self.region,
                endpoint=self.name,
                inference_id=job.inference_id,
                received=job.received,
                finished=time.time(),
                content_type=ctype or job.content_type,
                accept=job.accept,
                input_location=job.input_location,
                succeeded=False,
                failure_reason=reason,
                response_body=error.encode("utf-8") if include else None,
            )
            self._notify(topic, message)

    def _notify(self, topic: str, message: dict[str, Any]) -> None:
        if self.faults is not None and self.faults.fires("drop_notification", self.name):
            self.log(f"fault injected: dropped notification for {message['inferenceId']}")
            return
        try:
            started = time.perf_counter()
            self.services.publish(self.region, topic, notifications.dumps(message))
            self._timed("sns-publish", started)
        except Exception as exc:
            self.log(f"publishing to {topic} failed: {exc}")

    # -- real-time ----------------------------------------------------------------------------
    def pick_worker(self) -> WorkerProcess:
        with self._counter_lock:
            worker = self.workers[self._next_worker % len(self.workers)]
            self._next_worker += 1
        return worker

    # -- stop ---------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop dispatchers and model servers, and remove the extracted model."""
        self.stopped.set()
        self.telemetry.remove_metric_source(self.metrics)
        for _ in self._threads:
            self._queue.put(None)
        self._stop_workers()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _stop_workers(self) -> None:
        for worker in self.workers:
            worker.stop()


def _model_error_reason(status: int) -> str:
    kind = "server" if status >= 500 else "client"
    return (
        f"ClientError: Received {kind} error ({status}) from model. See the SageMaker Endpoint "
        "logs in your account for more information."
    )


def output_locations(
    config: AsyncConfig, extension: str | None, filename: str | None
) -> tuple[str, str]:
    """(<S3OutputPath>/<uuid>.out, <S3FailurePath or S3OutputPath>/<uuid>-error.out)."""
    import uuid

    token = str(uuid.uuid4())
    output_name = filename or f"{token}.out"
    failure_base = config.failure_path or config.output_path
    return (
        join_s3(config.output_path, extension or "", output_name),
        join_s3(failure_base, extension or "", f"{token}-error.out"),
    )

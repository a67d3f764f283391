"""The asynchronous side of an endpoint: one queue, a bounded number of jobs in flight.

Jobs wait in one queue per endpoint, served by MaxConcurrentInvocationsPerInstance dispatcher
threads per instance, each bound to its instance's model server: at most that many x instance
count are in flight, and all of them are used when the queue is deep. Each job's result goes to
S3 (`<uuid>.out` with the response's content type, or `<uuid>-error.out`) and to the SNS topics
in SageMaker's notification format; RequestTTLSeconds and InvocationTimeoutSeconds are honoured.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runner.local import notifications
from runner.local.services import join_s3
from runner.local.worker import error_body
from runner.local.workers import WorkerCrashed, WorkerProcess, WorkerReply, WorkerTimeout

if TYPE_CHECKING:
    from runner.local.endpoint import Endpoint

DEFAULT_MAX_CONCURRENT = 4  # SageMaker's default when ClientConfig is absent
# DeleteEndpoint with jobs queued or in flight: AWS does not document what happens to them;
# the local stack fails each one visibly (failure object, error notification, log line), so a
# client waiting for a result learns at once instead of timing out.
DELETED_QUEUED = "ClientError: The endpoint was deleted before the request was processed."
DELETED_IN_FLIGHT = "ClientError: The endpoint was deleted while the request was being processed."


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


class AsyncQueue:
    """Queue, dispatchers, results and notifications of one async endpoint."""

    def __init__(self, endpoint: Endpoint, config: AsyncConfig) -> None:
        self.endpoint = endpoint
        self.config = config
        self.name = endpoint.name
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._in_flight = 0
        self._processed = 0
        self._reported = 0
        self._counter_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._closing = threading.Lock()
        self._closed = False
        self.phases: dict[str, list[float]] = {}  # phase -> [count, total seconds]

    def start(self) -> None:
        """MaxConcurrentInvocationsPerInstance dispatcher threads per instance."""
        workers = self.endpoint.workers
        for index in range(self.config.max_concurrent * len(workers)):
            worker = workers[index % len(workers)]
            thread = threading.Thread(
                target=self._dispatch, args=(worker,), name=f"{self.name}-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def submit(self, job: Job) -> None:
        """Queue a job; one that arrives as the endpoint is being deleted fails at once."""
        with self._closing:
            if not self._closed:
                self._queue.put(job)
                return
        self._abandon(job, DELETED_QUEUED)

    def backlog(self) -> int:
        return self._queue.qsize() + self._in_flight

    @property
    def in_flight(self) -> int:
        """Jobs being processed now (at most MaxConcurrentInvocationsPerInstance x instances)."""
        return self._in_flight

    def metrics(self) -> list[tuple[str, str, str, float]]:
        with self._counter_lock:
            processed, self._reported = self._processed - self._reported, self._processed
        backlog = float(self.backlog())
        per_instance = backlog / max(1, len(self.endpoint.workers))
        region = self.endpoint.region
        return [
            (region, self.name, "ApproximateBacklogSize", backlog),
            (region, self.name, "ApproximateBacklogSizePerInstance", per_instance),
            (region, self.name, "InvocationsProcessed", float(processed)),
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
            if job is None:
                return
            if self.endpoint.stopped.is_set():
                self._abandon(job, DELETED_QUEUED)
                continue
            self._timed("queued", job.queued)
            with self._counter_lock:
                self._in_flight += 1
            try:
                self._process(job, worker)
            except Exception as exc:  # a bug of ours: the client still gets a failure
                self.endpoint.log(f"internal error processing {job.inference_id}: {exc!r}", worker)
                self._abandon(
                    job, f"ClientError: The local stack could not process the request ({exc!r})."
                )
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
                body, stored_type = self.endpoint.services.get_object(
                    self.endpoint.region, job.input_location
                )
                self._timed("s3-get-input", started)
            except Exception as exc:
                reason = f"ClientError: Failed to download input data from {job.input_location}."
                self._fail(job, worker, reason, f"{reason} {exc}")
                return
            # The SageMaker Python SDK relies on the input object's Content-Type (FACTS.md).
            content_type = content_type or stored_type
        kill_after = self._kill_fault(worker)
        started = time.perf_counter()
        try:
            reply = worker.invoke(
                body,
                content_type=content_type,
                accept=job.accept,
                custom_attributes=job.custom_attributes,
                timeout=job.timeout,
                kill_after=kill_after,
            )
        except WorkerTimeout as exc:
            reason = (
                f"ClientError: The model did not respond within InvocationTimeoutSeconds "
                f"({job.timeout:g} s)."
            )
            self._fail(job, worker, reason, str(exc), content_type)
            return
        except WorkerCrashed as exc:
            if self.endpoint.stopped.is_set():  # its model server was stopped by DeleteEndpoint
                self._fail(job, worker, DELETED_IN_FLIGHT, DELETED_IN_FLIGHT, content_type)
            else:
                self._fail(job, worker, _model_error_reason(500), str(exc), content_type)
            return
        self._timed("model-server", started)
        if 200 <= reply.status < 300:
            self._succeed(job, worker, reply, content_type)
        else:
            error_reply = (reply.body, reply.content_type)
            self._fail(job, worker, _model_error_reason(reply.status), error_reply, content_type)

    def _kill_fault(self, worker: WorkerProcess) -> float | None:
        """kill_worker fault: kill the model server `seconds` into this invocation (0: as it
        reaches it); None when the fault does not fire."""
        rule = (
            self.endpoint.faults.fires("kill_worker", self.name) if self.endpoint.faults else None
        )
        if rule is None:
            return None
        self.endpoint.log(f"fault injected: killing model server pid {worker.pid}", worker)
        return float(rule.seconds)

    def _succeed(
        self, job: Job, worker: WorkerProcess, reply: WorkerReply, ctype: str | None
    ) -> None:
        started = time.perf_counter()
        try:
            self.endpoint.services.put_object(
                self.endpoint.region, job.output_location, reply.body, reply.content_type
            )
        except Exception as exc:  # e.g. the output bucket does not exist
            reason = f"ClientError: Failed to upload the inference result to {job.output_location}."
            self._fail(job, worker, reason, f"{reason} ({type(exc).__name__}: {exc})", ctype)
            return
        self._timed("s3-put-output", started)
        self.endpoint.log(
            f"inference {job.inference_id} completed -> {job.output_location}", worker
        )
        self._notify_result(
            job,
            ctype,
            succeeded=True,
            body=reply.body,
            output_location=job.output_location,
            response_content_type=reply.content_type,
        )

    def _fail(
        self,
        job: Job,
        worker: WorkerProcess,
        reason: str,
        error: str | tuple[bytes, str],
        ctype: str | None = None,
    ) -> None:
        """Failure object (the model server's error body), log line, error notification."""
        if isinstance(error, str):  # the runtime's own failure: write it as the server would
            body, body_type = error_body(500, error, worker.framework)
        else:
            body, body_type = error
        error = body.decode("utf-8", "replace")
        try:
            self.endpoint.services.put_object(
                self.endpoint.region, job.failure_location, body, body_type
            )
        except Exception as exc:  # the notification and the log line still tell
            self.endpoint.log(
                f"inference {job.inference_id}: could not write {job.failure_location} "
                f"({type(exc).__name__}: {exc})",
                worker,
            )
        self.endpoint.log(f"inference {job.inference_id} failed: {error}", worker)
        self._notify_result(
            job, ctype or job.content_type, succeeded=False, body=body, failure_reason=reason
        )

    def _notify_result(
        self, job: Job, ctype: str | None, *, succeeded: bool, body: bytes, **result: Any
    ) -> None:
        """InferenceResult to the success or error topic, with the response body if the
        config's IncludeInferenceResponseIn names that topic."""
        if succeeded:
            topic, kind = self.config.success_topic, notifications.SUCCESS_TOPIC
        else:
            topic, kind = self.config.error_topic, notifications.ERROR_TOPIC
        if not topic:
            return
        message = notifications.inference_result(
            region=self.endpoint.region,
            endpoint=self.name,
            inference_id=job.inference_id,
            received=job.received,
            finished=time.time(),
            content_type=ctype,
            accept=job.accept,
            input_location=job.input_location,
            succeeded=succeeded,
            response_body=body if kind in self.config.include_response_in else None,
            **result,
        )
        self._notify(topic, message)

    def _notify(self, topic: str, message: dict[str, Any]) -> None:
        if self.endpoint.faults is not None and self.endpoint.faults.fires(
            "drop_notification", self.name
        ):
            self.endpoint.log(f"fault injected: dropped notification for {message['inferenceId']}")
            return
        try:
            started = time.perf_counter()
            self.endpoint.services.publish(
                self.endpoint.region, topic, notifications.dumps(message)
            )
            self._timed("sns-publish", started)
        except Exception as exc:
            self.endpoint.log(f"publishing to {topic} failed: {exc}")

    def fail_queued(self) -> int:
        """DeleteEndpoint: every job still waiting fails (failure object, error notification,
        log line) instead of vanishing; later submissions fail at once. Returns how many."""
        with self._closing:
            self._closed = True
        failed = 0
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return failed
            if job is not None:
                self._abandon(job, DELETED_QUEUED)
                failed += 1

    def _abandon(self, job: Job, reason: str) -> None:
        try:
            self._fail(job, self.endpoint.workers[0], reason, reason)
        except Exception as exc:
            self.endpoint.log(f"could not record the failure of {job.inference_id}: {exc!r}")

    def stop(self, timeout: float = 10.0) -> None:
        """End the dispatcher threads once their jobs in flight are recorded (call after
        fail_queued() and after stopping the model servers, which fails what is in flight)."""
        for _ in self._threads:
            self._queue.put(None)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))


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

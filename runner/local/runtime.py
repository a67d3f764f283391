"""checkrun's sagemaker-runtime: InvokeEndpoint and InvokeEndpointAsync over HTTP.

Answers as SageMaker does on the wire (FACTS.md): 202 with InferenceId and the
X-Amzn-SageMaker-OutputLocation / FailureLocation headers for async; the handler's body and
content type for real-time, ModelError (424) when the handler fails; ValidationError (400) for
an unknown endpoint or the wrong kind of endpoint. Also receives the control plane's
CreateEndpoint / DeleteEndpoint hooks from the dispatcher and manages the live endpoints.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from runner.local import control, wire
from runner.local.async_queue import Job, output_locations
from runner.local.endpoint import Endpoint
from runner.local.faults import FaultPlan
from runner.local.services import Services
from runner.local.telemetry import Telemetry
from runner.local.wire import StartResponse, WsgiEnviron
from runner.local.workers import WorkerCrashed, WorkerError, WorkerTimeout

INLINE_BODY_LIMIT = 128_000
REALTIME_BODY_LIMIT = 6 * 1024 * 1024
REALTIME_TIMEOUT = 60.0
DEFAULT_TTL = 21600.0
DEFAULT_INVOCATION_TIMEOUT = 900.0
MAX_TTL = 21600
MAX_TIMEOUT = 3600
LOCAL_MIN_TTL = 1  # AWS: 60; see request_limits()

logger = logging.getLogger("runner.local")


class Runtime:
    """The live endpoints of one local stack and the runtime API over them."""

    def __init__(
        self,
        *,
        default_region: str = "us-east-1",
        faults: FaultPlan | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.default_region = default_region
        self.faults = faults
        self.log_dir = log_dir
        self.url = ""
        self.services: Services | None = None
        self.telemetry: Telemetry | None = None
        self.endpoints: dict[tuple[str, str], Endpoint] = {}
        self._lock = threading.Lock()
        self._root = Path(tempfile.mkdtemp(prefix="checkrun-local-"))

    def bind(self, url: str) -> None:
        """Called by the stack once it listens: the runtime's own calls go to `url`."""
        self.url = url
        self.services = Services(url)
        self.telemetry = Telemetry(self.services, report=self.report)

    def report(self, message: str) -> None:
        """The stack's own log: a warning on the `runner.local` logger (stderr by default),
        and a line in `<log_dir>/stack.log` when the stack has a log directory."""
        logger.warning("%s", message)
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
            with (self.log_dir / "stack.log").open("a", encoding="utf-8") as f:
                f.write(f"{stamp}Z {message}\n")

    # -- control-plane hooks ------------------------------------------------------------------
    def endpoint_created(self, name: str, region: str) -> None:
        """Deploy in the background; the endpoint is already `Creating` in moto."""
        assert self.services is not None and self.telemetry is not None
        self.endpoint_deleted(name, region)
        endpoint = Endpoint(
            name,
            region,
            services=self.services,
            telemetry=self.telemetry,
            faults=self.faults,
            workdir=Path(tempfile.mkdtemp(prefix=f"{name[:40]}-", dir=self._root)),
            log_dir=self.log_dir,
        )
        with self._lock:
            self.endpoints[(name, region)] = endpoint
        threading.Thread(
            target=endpoint.deploy, args=(self.url,), name=f"deploy-{name}", daemon=True
        ).start()

    def endpoint_deleted(self, name: str, region: str) -> None:
        """Stop the endpoint's model servers (DeleteEndpoint, or re-creation); its last log
        events are in CloudWatch Logs when this returns."""
        with self._lock:
            endpoint = self.endpoints.pop((name, region), None)
        if endpoint is not None:
            endpoint.stop()
            if self.telemetry is not None:
                self.telemetry.flush()

    def set_faults(self, plan: FaultPlan | None) -> None:
        """New fault plan for this runtime and every live endpoint."""
        self.faults = plan
        for endpoint in list(self.endpoints.values()):
            endpoint.faults = plan

    def describe(self) -> list[dict[str, str]]:
        """The live endpoints and their control-plane status (for /_checkrun/health)."""
        return [
            {"name": name, "region": region, "status": control.status_of(name, region) or "Deleted"}
            for name, region in list(self.endpoints)
        ]

    def phase_summary(self) -> dict[str, tuple[int, float]]:
        """Per phase of async processing, over live endpoints: (count, mean milliseconds)."""
        totals: dict[str, list[float]] = {}
        for endpoint in list(self.endpoints.values()):
            for phase, (count, seconds) in list(endpoint.phases.items()):
                entry = totals.setdefault(phase, [0, 0.0])
                entry[0] += count
                entry[1] += seconds
        return {p: (int(n), 1000 * s / n if n else 0.0) for p, (n, s) in totals.items()}

    def stop(self) -> None:
        """Stop every endpoint and the telemetry thread; remove the runtime's temp files."""
        with self._lock:
            endpoints, self.endpoints = list(self.endpoints.values()), {}
        for endpoint in endpoints:
            endpoint.stop()
        if self.telemetry is not None:
            self.telemetry.stop()
        shutil.rmtree(self._root, ignore_errors=True)

    # -- runtime API --------------------------------------------------------------------------
    def handle(
        self,
        environ: WsgiEnviron,
        start_response: StartResponse,
        name: str,
        kind: str,
        region: str,
    ) -> list[bytes]:
        endpoint = self.endpoints.get((name, region))
        if endpoint is None or not endpoint.ready.is_set() or endpoint.stopped.is_set():
            return wire.json_error(
                start_response,
                400,
                "ValidationError",
                f"Endpoint {name} of account {control.account_id()} not found.",
            )
        if kind == "async-invocations":
            return self._invoke_async(environ, start_response, endpoint)
        return self._invoke(environ, start_response, endpoint)

    def _invoke_async(
        self, environ: WsgiEnviron, start_response: StartResponse, endpoint: Endpoint
    ) -> list[bytes]:
        config = endpoint.async_config
        if config is None:
            return _validation(
                start_response,
                f"Endpoint {endpoint.name} is not an asynchronous endpoint; use InvokeEndpoint "
                "(the endpoint config has no AsyncInferenceConfig).",
            )
        header = _headers(environ)
        input_location = header("X-Amzn-SageMaker-InputLocation")
        body = wire.read_body(environ)
        if input_location and body:
            return _validation(start_response, "Specify either InputLocation or Body, not both.")
        if not input_location and not body:
            return _validation(start_response, "InputLocation or Body is required.")
        if len(body) > INLINE_BODY_LIMIT:
            return _validation(
                start_response,
                f"Body is {len(body)} bytes; the inline limit is {INLINE_BODY_LIMIT} bytes "
                "(use InputLocation for larger payloads).",
            )
        invalid = header_constraint_error(header)
        if invalid:
            return _validation(start_response, invalid)
        limits = request_limits(
            header("X-Amzn-SageMaker-RequestTTLSeconds"),
            header("X-Amzn-SageMaker-InvocationTimeoutSeconds"),
        )
        if isinstance(limits, str):
            return _validation(start_response, limits)
        ttl, timeout = limits
        output, failure = output_locations(
            config,
            header("X-Amzn-SageMaker-S3OutputPathExtension"),
            header("X-Amzn-SageMaker-Filename"),
        )
        inference_id = header("X-Amzn-SageMaker-Inference-Id") or str(uuid.uuid4())
        endpoint.submit(
            Job(
                inference_id=inference_id,
                output_location=output,
                failure_location=failure,
                input_location=input_location,
                body=None if input_location else body,
                content_type=header("X-Amzn-SageMaker-Content-Type"),
                accept=header("X-Amzn-SageMaker-Accept"),
                custom_attributes=header("X-Amzn-SageMaker-Custom-Attributes"),
                ttl=ttl,
                timeout=timeout,
            )
        )
        headers = [
            ("Content-Type", "application/json"),
            ("X-Amzn-SageMaker-OutputLocation", output),
            ("x-amzn-RequestId", str(uuid.uuid4())),
        ]
        if config.failure_path:
            headers.append(("X-Amzn-SageMaker-FailureLocation", failure))
        payload = json.dumps({"InferenceId": inference_id}).encode("utf-8")
        return wire.respond(start_response, 202, payload, headers)

    def _invoke(
        self, environ: WsgiEnviron, start_response: StartResponse, endpoint: Endpoint
    ) -> list[bytes]:
        if endpoint.async_config is not None:
            return _validation(
                start_response,
                f"Endpoint {endpoint.name} is an asynchronous endpoint; use InvokeEndpointAsync.",
            )
        body = wire.read_body(environ)
        if len(body) > REALTIME_BODY_LIMIT:
            return _validation(start_response, "Request payload exceeds the 6 MB limit.")
        header = _headers(environ)
        worker = endpoint.pick_worker()
        content_type = environ.get("CONTENT_TYPE") or None
        accept = environ.get("HTTP_ACCEPT") or None
        endpoint.log(f"InvokeEndpoint received ({len(body)} bytes, {content_type})", worker)
        try:
            reply = worker.invoke(
                body,
                content_type=content_type,
                accept=accept,
                custom_attributes=header("X-Amzn-SageMaker-Custom-Attributes"),
                timeout=REALTIME_TIMEOUT,
            )
        except WorkerTimeout:
            return self._model_error(
                start_response,
                endpoint,
                worker.instance_id,
                504,
                "Model did not respond within 60 seconds.",
            )
        except (WorkerCrashed, WorkerError) as exc:
            return self._model_error(start_response, endpoint, worker.instance_id, 500, str(exc))
        if not 200 <= reply.status < 300:
            message = reply.body.decode("utf-8", "replace")
            return self._model_error(
                start_response, endpoint, worker.instance_id, reply.status, message
            )
        headers = [
            ("Content-Type", reply.content_type),
            ("x-Amzn-Invoked-Production-Variant", endpoint.variant),
            ("x-amzn-RequestId", str(uuid.uuid4())),
        ]
        if reply.custom_attributes:  # what the container answered, as SageMaker passes it on
            headers.append(("X-Amzn-SageMaker-Custom-Attributes", reply.custom_attributes))
        return wire.respond(start_response, 200, reply.body, headers)

    def _model_error(
        self,
        start_response: StartResponse,
        endpoint: Endpoint,
        instance_id: str,
        status: int,
        original: str,
    ) -> list[bytes]:
        """SageMaker's ModelError: 424 with the container's status and message (FACTS.md)."""
        region, account = endpoint.region, control.account_id()
        kind = "server" if status >= 500 else "client"
        message = (
            f'Received {kind} error ({status}) from primary with message "{original}". See '
            f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
            f"#logEventViewer:group={endpoint.log_group} in account {account} for more "
            "information."
        )
        endpoint.log(f"InvokeEndpoint failed: {original}")
        stream_arn = (
            f"arn:aws:logs:{region}:{account}:log-group:{endpoint.log_group}:log-stream:"
            f"{endpoint.variant}/{instance_id}"
        )
        return wire.json_error(
            start_response,
            424,
            "ModelError",
            message,
            {
                "OriginalStatusCode": status,
                "OriginalMessage": original,
                "LogStreamArn": stream_arn,
                "ErrorCode": "CLIENT_ERROR_FROM_MODEL",
            },
        )


# botocore's sagemaker-runtime model: (member, header, max length, pattern). botocore checks
# only minimum lengths client-side; SageMaker refuses the rest with ValidationError.
_HEADER_CONSTRAINTS = (
    ("inferenceId", "X-Amzn-SageMaker-Inference-Id", 64, re.compile(r"\S[\x20-\x7e]*")),
    (
        "inputLocation",
        "X-Amzn-SageMaker-InputLocation",
        1024,
        re.compile(r"(https|s3)://[^/]+/?.*"),
    ),
    (
        "s3OutputPathExtension",
        "X-Amzn-SageMaker-S3OutputPathExtension",
        512,
        re.compile(r"(?!s3:|https:)[a-zA-Z0-9!_.*'()/-]+"),
    ),
    (
        "filename",
        "X-Amzn-SageMaker-Filename",
        32,
        re.compile(r"(?!.*\..*\.)[a-zA-Z0-9][a-zA-Z0-9-_.]*"),
    ),
)


def header_constraint_error(header: Any) -> str | None:
    """SageMaker's ValidationError message for a header beyond its length or pattern, or None."""
    for name, key, longest, pattern in _HEADER_CONSTRAINTS:
        value = header(key)
        if value is None:
            continue
        if len(value) > longest:
            return (
                f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy "
                f"constraint: Member must have length less than or equal to {longest}"
            )
        if not pattern.fullmatch(value):
            return (
                f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy "
                f"constraint: Member must satisfy regular expression pattern: {pattern.pattern}"
            )
    return None


def request_limits(ttl: str | None, timeout: str | None) -> tuple[float, float] | str:
    """(RequestTTLSeconds, InvocationTimeoutSeconds) with SageMaker's defaults (21600, 900), or
    the ValidationError message for a value out of range.

    AWS's ranges are 60-21600 and 1-3600. One deliberate deviation (README, local stack):
    RequestTTLSeconds from 1 to 59 is accepted, so tests can let a request expire in a second
    (boto3 refuses them client-side unless parameter validation is off)."""
    values: list[float] = []
    for name, raw, default, low, high in (
        ("requestTTLSeconds", ttl, DEFAULT_TTL, LOCAL_MIN_TTL, MAX_TTL),
        ("invocationTimeoutSeconds", timeout, DEFAULT_INVOCATION_TIMEOUT, 1, MAX_TIMEOUT),
    ):
        if raw is None:
            values.append(default)
            continue
        try:
            value = int(raw.strip())
        except ValueError:
            return (
                f"1 validation error detected: Value '{raw}' at '{name}' failed to satisfy "
                "constraint: Member must be an integer"
            )
        if not low <= value <= high:
            bound = "greater than or equal to" if value < low else "less than or equal to"
            limit = low if value < low else high
            return (
                f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy "
                f"constraint: Member must have value {bound} {limit}"
            )
        values.append(float(value))
    return values[0], values[1]


def _headers(environ: WsgiEnviron) -> Any:
    def get(name: str) -> str | None:
        value = environ.get("HTTP_" + name.upper().replace("-", "_"))
        return str(value) if value else None

    return get


def _validation(start_response: StartResponse, message: str) -> list[bytes]:
    return wire.json_error(start_response, 400, "ValidationError", message)

"""The local stack: moto's AWS server and checkrun's SageMaker runtime behind one port.

A small WSGI dispatcher looks at each request: `POST /endpoints/<name>/invocations` and
`/async-invocations` go to checkrun's runtime; everything else goes to moto's server app.
SageMaker CreateEndpoint / DeleteEndpoint pass through moto and are then hooked, so the
endpoint is `Creating` before the CreateEndpoint response leaves and the runtime deploys it.
Faults from a FaultPlan (throttling, 5xx, latency) are applied here, before any app sees the
request; the runtime's own calls carry `X-Checkrun-Internal` and are never faulted.
"""

from __future__ import annotations

import atexit
import logging
import socket
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from runner.errors import LocalStackError
from runner.local import admin, control, wire
from runner.local.faults import FaultPlan
from runner.local.wire import StartResponse, WsgiEnviron

INTERNAL_HEADER = "X-Checkrun-Internal"
_INTERNAL_ENVIRON = "HTTP_X_CHECKRUN_INTERNAL"


class Dispatcher:
    """WSGI app in front of moto: routes runtime calls, hooks endpoint lifecycle, injects faults."""

    def __init__(self, moto_app: Any, runtime: Any, faults: FaultPlan | None, region: str) -> None:
        self.moto_app = moto_app
        self.runtime = runtime
        self.faults = faults
        self.region = region

    def set_faults(self, plan: FaultPlan | None) -> None:
        """Replace the fault plan of the dispatcher and of the runtime's endpoints."""
        self.faults = plan
        self.runtime.set_faults(plan)

    def __call__(self, environ: WsgiEnviron, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(admin.PREFIX):
            return admin.handle(
                environ,
                start_response,
                get_faults=lambda: self.faults,
                set_faults=self.set_faults,
                endpoints=self.runtime.describe,
            )
        service, region, _ = wire.signing_scope(environ)
        region = region or self.region
        runtime_call = None
        if environ.get("REQUEST_METHOD") == "POST":
            runtime_call = wire.RUNTIME_PATH.match(environ.get("PATH_INFO", ""))
        if runtime_call:
            service = "sagemaker-runtime"
        if self.faults is not None and self.faults.rules and not environ.get(_INTERNAL_ENVIRON):
            if runtime_call:
                kind = runtime_call.group(2)
                operation = (
                    "InvokeEndpointAsync" if kind == "async-invocations" else "InvokeEndpoint"
                )
            else:
                operation = wire.operation_name(environ, service)
            refused = self._apply_faults(environ, start_response, service, operation)
            if refused is not None:
                return refused
        if runtime_call:
            name, kind = runtime_call.group(1), runtime_call.group(2)
            return self.runtime.handle(environ, start_response, name, kind, region)
        if service == "sagemaker":
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            if target.endswith((".CreateEndpoint", ".DeleteEndpoint")):
                return self._hook_endpoint_call(environ, start_response, target, region)
        return self.moto_app(environ, start_response)

    def _apply_faults(
        self, environ: WsgiEnviron, start_response: StartResponse, service: str, operation: str
    ) -> list[bytes] | None:
        assert self.faults is not None
        for rule in self.faults.request_faults(service, operation):
            if rule.kind != "latency":
                wire.read_body(environ)  # an unread body breaks the keep-alive connection
            if rule.kind == "latency":
                time.sleep(rule.seconds)
            elif rule.kind == "throttle":
                return wire.fault_error(environ, start_response, service, 400)
            elif rule.kind == "error":
                return wire.fault_error(environ, start_response, service, rule.status)
        return None

    def _hook_endpoint_call(
        self, environ: WsgiEnviron, start_response: StartResponse, target: str, region: str
    ) -> list[bytes]:
        """Let moto answer, then (on success) start or stop the endpoint's runtime."""
        import json

        request = json.loads(wire.read_body(environ) or b"{}")
        name = str(request.get("EndpointName", ""))
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        chunks = self.moto_app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        if captured["status"].startswith("200"):
            if target.endswith(".CreateEndpoint"):
                control.mark_creating(name, region)
                self.runtime.endpoint_created(name, region)
            else:
                self.runtime.endpoint_deleted(name, region)
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        return wire.respond(start_response, int(captured["status"][:3]), body, headers)


def _check_port_free(host: str, port: int) -> None:
    """LocalStackError if (host, port) cannot be bound (werkzeug would print and exit)."""
    if port == 0:
        return
    probe = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError as exc:
        raise LocalStackError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc} "
            "(is another local stack running? use --port to pick another port)"
        ) from exc
    finally:
        probe.close()


class LocalStack:
    """moto + checkrun's SageMaker runtime on one port, served from a background thread.

    >>> with LocalStack() as stack:
    ...     boto3.client("s3", endpoint_url=stack.url, region_name="us-east-1")

    moto keeps its state in process-wide backends, so two stacks in one process see the same
    buckets, topics and endpoints; each stack runs (and stops) only the model servers of the
    endpoints created through its own port.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        region: str = "us-east-1",
        faults: FaultPlan | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.region = region
        self.faults = faults
        self.log_dir = log_dir
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.runtime: Any = None
        self._app: Dispatcher | None = None

    @property
    def url(self) -> str:
        """The stack's base URL, e.g. http://127.0.0.1:54321 (valid once started)."""
        if self._server is None:
            raise LocalStackError("the local stack is not started")
        return f"http://{self.host}:{self._server.server_port}"

    def start(self) -> LocalStack:
        """Bind the port and serve in a daemon thread; port 0 picks a free port."""
        if self._server is not None:
            return self
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        from runner.local import moto_speedups
        from runner.local.runtime import Runtime

        moto_speedups.apply()

        class QuietHandler(MotoRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        moto_app = DomainDispatcherApplication(create_backend_app)
        self.runtime = Runtime(default_region=self.region, faults=self.faults, log_dir=self.log_dir)
        app = self._app = Dispatcher(moto_app, self.runtime, self.faults, self.region)
        _check_port_free(self.host, self.port)
        try:
            self._server = make_server(
                self.host, self.port, app, threaded=True, request_handler=QuietHandler
            )
        except (OSError, SystemExit) as exc:  # werkzeug exits on a busy port
            raise LocalStackError(f"cannot listen on {self.host}:{self.port}: {exc}") from exc
        self._server.daemon_threads = True
        self.runtime.bind(self.url)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="checkrun-local-stack", daemon=True
        )
        self._thread.start()
        atexit.register(self.stop)  # a forgotten stop() must not leave model servers behind
        return self

    def set_faults(self, plan: FaultPlan | None) -> None:
        """Switch to another fault plan (or none) while serving; also PUT /_checkrun/faults."""
        self.faults = plan
        if self._app is not None:
            self._app.set_faults(plan)

    def stop(self) -> None:
        """Stop serving and stop every model-server process this stack started."""
        atexit.unregister(self.stop)
        if self.runtime is not None:
            self.runtime.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

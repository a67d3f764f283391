"""A model server process, like the one inside a SageMaker inference container.

`python -m runner.local.worker --model-dir DIR [--framework NAME]` binds a free loopback port,
prints `CHECKRUN_WORKER_PORT=<port>` as its first line, then loads the model. It answers
`GET /ping` with 503 while loading, 200 once loaded and 500 (the load error as the body) if the
model failed to load; `POST /invocations` runs the handler. The model's requirements are
checked (and, if CHECKRUN_INSTALL_REQUIREMENTS=1, installed) before the model loads.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PORT_LINE = "CHECKRUN_WORKER_PORT="
CUSTOM_ATTRIBUTES = (
    "X-Amzn-SageMaker-Custom-Attributes"  # the one answer header SageMaker passes on
)
FLASK_IMAGES = ("sklearn", "xgboost")


def error_body(status: int, message: str, framework: str | None) -> tuple[bytes, str]:
    """A model server's error response body, as the framework's server writes it.

    The MMS/TorchServe-based images (PyTorch, Hugging Face, MXNet, the generic toolkit) answer
    errors with JSON `{"code", "type", "message"}`, which is also what ModelError's
    OriginalMessage shows; the Flask-based SKLearn/XGBoost images answer plain text. The SDK's
    AsyncPredictor decodes the failure object with the predictor's deserializer (FACTS.md).
    """
    if framework in FLASK_IMAGES:
        return message.encode("utf-8"), "text/plain; charset=utf-8"
    kind = "InternalServerException" if status >= 500 else "BadRequestException"
    text = json.dumps({"code": status, "type": kind, "message": message}, indent=2)
    return text.encode("utf-8"), "application/json"


class _State:
    framework: str | None = None
    runtime: Any = None
    error: str | None = None
    loaded = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        # Keep-alive + Nagle + delayed ACK would add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "text/plain",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path != "/ping":
            self._send(404, b"not found")
        elif _State.error is not None:
            self._send(500, _State.error.encode("utf-8"))
        elif _State.loaded.is_set():
            self._send(200, b"")
        else:
            self._send(503, b"loading")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path != "/invocations":
            self._send(404, b"not found")
            return
        if not _State.loaded.is_set():
            self._send(503, (_State.error or "model is not loaded").encode("utf-8"))
            return
        from runner.model.codecs import HandlerError

        runtime = _State.runtime
        answer_headers: dict[str, str] = {}
        try:
            out, content_type = runtime.invoke(
                body,
                self.headers.get("Content-Type", ""),
                self.headers.get("Accept", ""),
                dict(self.headers.items()),  # Custom-Attributes reach context.get_request_header
                answer_headers,  # and context.set_response_header's come back
            )
        except HandlerError as exc:
            print(f"invocation failed: {exc}", flush=True)
            self._send(exc.status, *error_body(exc.status, str(exc), _State.framework))
            return
        except Exception as exc:
            # The toolkit answers any handler exception with 500 and the exception text.
            traceback.print_exc()
            sys.stderr.flush()
            message = f"{type(exc).__name__}: {exc}"
            self._send(500, *error_body(500, message, _State.framework))
            return
        custom = {k: v for k, v in answer_headers.items() if k.lower() == CUSTOM_ATTRIBUTES.lower()}
        self._send(200, out, content_type, custom)


def _load(model_dir: Path, framework: str | None) -> None:
    """Check requirements, import the handler, call model_fn; record the error if any."""
    try:
        from runner.model import HandlerRuntime, load_handler
        from runner.model.requirements import satisfy_requirements

        satisfy_requirements(
            model_dir, install=os.environ.get("CHECKRUN_INSTALL_REQUIREMENTS") == "1"
        )
        runtime = HandlerRuntime(load_handler(model_dir, os.environ), model_dir, framework)
        runtime.load_model()
        _State.runtime = runtime
        _State.loaded.set()
        print("model loaded; ready for invocations", flush=True)
    except BaseException as exc:
        traceback.print_exc()
        sys.stderr.flush()
        _State.error = f"{type(exc).__name__}: {exc}"
        print(f"model failed to load: {_State.error}", flush=True)


def _exit_with_parent(parent: int) -> None:
    """Exit when the runtime that started us is gone, so no model server outlives its stack."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runner.local.worker")
    parser.add_argument("--model-dir", required=True, type=Path)
    parser.add_argument("--framework", default=None)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    _State.framework = args.framework
    server = ThreadingHTTPServer((args.host, 0), _Handler)
    server.daemon_threads = True
    print(f"{PORT_LINE}{server.server_address[1]}", flush=True)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    threading.Thread(target=_load, args=(args.model_dir, args.framework), daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever(poll_interval=0.1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

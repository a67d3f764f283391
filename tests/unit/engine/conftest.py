"""Engine test helpers: a real HTTP server on loopback, a fake clock, a checklist writer."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import pytest


class FakeClock:
    """Time moves only when someone sleeps: retries and polls cost no real time."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []
        self.lock = threading.Lock()

    def monotonic(self) -> float:
        return self.t

    def now(self) -> datetime:
        return datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=self.t)

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> None:
        with self.lock:
            self.sleeps.append(round(seconds, 6))
            self.t += seconds


class _Handler(BaseHTTPRequestHandler):
    counters: ClassVar[dict[str, int]] = {}
    lock = threading.Lock()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        # A timed-out step may have hung up already: then there is nobody to answer.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        parts = url.path.strip("/").split("/")
        query = parse_qs(url.query)
        if parts[0] == "status":
            self._json(int(parts[1]), {"code": int(parts[1])})
        elif parts[0] == "count":
            with self.lock:
                self.counters[parts[1]] = self.counters.get(parts[1], 0) + 1
                n = self.counters[parts[1]]
            self._json(200, {"count": n})
        elif parts[0] == "slow":
            time.sleep(float(query.get("s", ["5"])[0]))
            self._json(200, {"slow": True})
        elif parts[0] == "echo":
            self._json(200, {"headers": dict(self.headers), "query": query})
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"null")
        self._json(201, {"received": body, "content_type": self.headers.get("Content-Type")})


@pytest.fixture(scope="session")
def http_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def write_checklist(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str) -> Path:
        path = tmp_path / "checklist.yaml"
        path.write_text(text)
        return path

    return write


@pytest.fixture
def closed_port_url() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"

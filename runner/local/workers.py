"""Model-server processes: start, health-check, invoke, restart after a crash, stop.

One WorkerProcess per endpoint instance runs `python -m runner.local.worker`. Its stdout and
stderr become log events of the instance's stream. When the process dies while the endpoint is
live, it is started again (the endpoint stays InService), as SageMaker's model server does.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from runner.local.worker import PORT_LINE


class WorkerError(Exception):
    """The model server could not answer (crashed, timed out, or failed to load)."""


class WorkerLoadError(WorkerError):
    """The model did not load; the message is the handler's own error."""


class WorkerTimeout(WorkerError):
    """The model server did not answer within the invocation timeout."""


class WorkerCrashed(WorkerError):
    """The connection to the model server broke (the process died mid-request)."""


@dataclass(frozen=True)
class WorkerReply:
    status: int
    body: bytes
    content_type: str
    custom_attributes: str | None = None  # set by the container, returned to the caller


class WorkerProcess:
    """One instance's model server, supervised."""

    def __init__(
        self,
        *,
        instance_id: str,
        model_dir: Path,
        framework: str | None,
        env: Mapping[str, str],
        log: Callable[[str], None],
        startup_timeout: float = 120.0,
    ) -> None:
        self.instance_id = instance_id
        self.model_dir = model_dir
        self.framework = framework
        self.env = dict(env)
        self.log = log
        self.startup_timeout = startup_timeout
        self.ready = threading.Event()
        self.restarts = 0
        self._proc: subprocess.Popen[str] | None = None
        self._pump_thread: threading.Thread | None = None
        self._port: int | None = None
        self._port_seen = threading.Event()
        self._stopping = False
        self._recent: deque[str] = deque(maxlen=20)
        self._lock = threading.Lock()
        self._local = threading.local()  # one keep-alive connection per calling thread

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Spawn the process and wait until /ping answers 200 (WorkerLoadError otherwise)."""
        self._spawn()
        self._wait_ready()
        threading.Thread(
            target=self._supervise, name=f"supervise-{self.instance_id}", daemon=True
        ).start()

    def _spawn(self) -> None:
        command = [sys.executable, "-m", "runner.local.worker", "--model-dir", str(self.model_dir)]
        if self.framework:
            command += ["--framework", self.framework]
        self._port_seen.clear()
        self._port = None
        proc = subprocess.Popen(
            command,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            cwd=str(self.model_dir),
        )
        with self._lock:
            self._proc = proc
            stopping = self._stopping
        if stopping:  # stop() ran while we were spawning: this process must not outlive it
            proc.kill()
            proc.wait()
            raise WorkerLoadError("model server stopped while starting")
        self._pump_thread = threading.Thread(
            target=self._pump, args=(proc,), name=f"logs-{self.instance_id}", daemon=True
        )
        self._pump_thread.start()

    def _pump(self, proc: subprocess.Popen[str]) -> None:
        """Forward the process's output to the log; catch the port announcement."""
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(PORT_LINE) and not self._port_seen.is_set():
                self._port = int(line[len(PORT_LINE) :].strip())
                self._port_seen.set()
                continue
            self._recent.append(line.rstrip("\n"))
            self.log(line)

    def _wait_ready(self, announce: str | None = None) -> None:
        deadline = time.monotonic() + self.startup_timeout
        proc = self._proc
        assert proc is not None
        while time.monotonic() < deadline:
            code = proc.poll()
            if code is not None:
                time.sleep(0.05)  # let the pump read the last lines
                tail = " | ".join(list(self._recent)[-3:])
                raise WorkerLoadError(f"model server exited with code {code} at start-up: {tail}")
            if self._port_seen.is_set():
                status, body = self._ping()
                if status == 200:
                    if announce:
                        self.log(announce)  # logged before any request can reach it
                    self.ready.set()
                    return
                if status == 500:
                    raise WorkerLoadError(body)
            time.sleep(0.01)
        raise WorkerLoadError(f"model server did not pass /ping within {self.startup_timeout:g}s")

    def _ping(self) -> tuple[int, str]:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self._port, timeout=2)
            conn.request("GET", "/ping")
            response = conn.getresponse()
            body = response.read().decode("utf-8", "replace")
            conn.close()
            return response.status, body
        except OSError:
            return 0, ""

    def _supervise(self) -> None:
        """Restart the process whenever it exits while the endpoint is live."""
        while not self._stopping:
            proc = self._proc
            if proc is None:
                return
            code = proc.wait()
            if self._stopping:
                return
            self.ready.clear()
            self.restarts += 1
            self.log(f"model server exited with code {code}; restarting (restart {self.restarts})")
            for attempt in range(5):
                if self._stopping:
                    return
                try:
                    self._spawn()
                    self._wait_ready("model server restarted and passed /ping")
                    break
                except WorkerLoadError as exc:
                    self.log(f"restart attempt {attempt + 1} failed: {exc}")
                    time.sleep(0.2 * (attempt + 1))

    def kill(self) -> None:
        """Kill the process at once (fault injection: a crash mid-invocation)."""
        with self._lock:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()

    def stop(self) -> None:
        """Stop for good: terminate, then kill after a short grace period."""
        with self._lock:
            self._stopping = True
            proc = self._proc
        self.ready.clear()
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=2)
        pump = self._pump_thread
        if pump is not None:  # its last lines reach the log before the runtime flushes it
            pump.join(timeout=2)
        if proc.stdout is not None:
            proc.stdout.close()

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    # -- requests ----------------------------------------------------------------------------
    def invoke(
        self,
        body: bytes,
        *,
        content_type: str | None,
        accept: str | None,
        custom_attributes: str | None,
        timeout: float,
        kill_after: float | None = None,
    ) -> WorkerReply:
        """POST /invocations; WorkerTimeout / WorkerCrashed when the server does not answer.

        A request that finds the process already dead waits for the supervisor's restart and
        goes to the new process, as SageMaker's model server serves the next request after a
        crash; only requests in flight when it dies fail. `kill_after` (fault injection) kills
        the process that many seconds after the request was sent, or with 0 kills it first and
        sends the request to it anyway: either way this invocation is the one that meets the
        crash.
        """
        started = time.monotonic()
        deadline = started + timeout
        while True:
            while not self.ready.wait(min(0.1, max(0.0, deadline - time.monotonic()))):
                if self._stopping:
                    raise WorkerCrashed("model server stopped (endpoint deleted)")
                if time.monotonic() >= deadline:
                    raise WorkerTimeout(f"model server was not ready within {timeout:g}s")
            proc = self._proc
            if proc is None or kill_after == 0 or not _has_exited(proc.pid):
                break
            while self._proc is proc and not self._stopping and time.monotonic() < deadline:
                time.sleep(0.01)  # the supervisor notices the exit and starts a new process
        if kill_after == 0:
            self.kill()
            if proc is not None:
                _wait_exit(proc.pid)
        remaining = max(0.05, timeout - (time.monotonic() - started))
        headers = {"Content-Length": str(len(body))}
        if content_type:
            headers["Content-Type"] = content_type
        if accept:
            headers["Accept"] = accept
        if custom_attributes:
            headers["X-Amzn-SageMaker-Custom-Attributes"] = custom_attributes
        try:
            conn = self._connection(remaining)
            conn.request("POST", "/invocations", body=body, headers=headers)
            if kill_after:
                threading.Timer(kill_after, self.kill).start()
            response = conn.getresponse()
            data = response.read()
            return WorkerReply(
                response.status,
                data,
                response.getheader("Content-Type") or "application/json",
                response.getheader("X-Amzn-SageMaker-Custom-Attributes"),
            )
        except TimeoutError as exc:
            self._drop_connection()
            raise WorkerTimeout(f"model server did not answer within {timeout:g}s") from exc
        except (OSError, http.client.HTTPException) as exc:
            self._drop_connection()
            raise WorkerCrashed(
                f"model server connection broke ({type(exc).__name__}); the process "
                "crashed or was killed during the invocation"
            ) from exc

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        """This thread's keep-alive connection to the current process (new after a restart).

        Reusing it saves a TCP connect and a server thread per invocation (measured: about
        2 ms of a trivial invocation's 3 ms).
        """
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        current = (self.pid, self._port)  # a restarted process never reuses a connection
        if conn is None or getattr(self._local, "process", None) != current:
            if conn is not None:
                conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", self._port, timeout=timeout)
            conn.connect()
            assert conn.sock is not None
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.conn, self._local.process = conn, current
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None


def _has_exited(pid: int) -> bool:
    """Whether child `pid` has exited, without reaping it (the supervisor's wait() does)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # already reaped
        return True


def _wait_exit(pid: int) -> None:
    """Block until child `pid` has exited, without reaping it."""
    with contextlib.suppress(ChildProcessError):
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)


def worker_environment(
    model_env: Mapping[str, str], *, region: str, stack_url: str
) -> dict[str, str]:
    """The process environment of a model server: ours + the model's Environment + AWS wiring."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGEMAKER_"))}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "AWS_ENDPOINT_URL": stack_url,
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.update({str(k): str(v) for k, v in model_env.items()})
    return env

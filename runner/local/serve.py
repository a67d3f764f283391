"""`checkrun local`: serve the local stack in the foreground until SIGINT/SIGTERM."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from runner.local.faults import FaultPlan
from runner.local.stack import LocalStack


def serve(
    host: str = "127.0.0.1",
    port: int = 4566,
    faults_path: Path | str | None = None,
    *,
    region: str = "us-east-1",
    log_dir: Path | None = None,
    ready: threading.Event | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Start the stack, print its URL and how to use it, serve until a signal; return 0.

    A bad fault plan or a port in use raise UsageError / LocalStackError (the CLI prints
    them in one line). `ready` is set once serving; setting `stop` ends serving (for tests).
    """
    faults = FaultPlan.from_file(faults_path) if faults_path else None
    stop = stop or threading.Event()
    stack = LocalStack(host, port, region=region, faults=faults, log_dir=log_dir).start()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        print(f"checkrun local stack listening on {stack.url}", flush=True)
        print(
            f"  export AWS_ENDPOINT_URL={stack.url} AWS_ACCESS_KEY_ID=testing "
            f"AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION={region}",
            flush=True,
        )
        if faults is not None:
            print(f"  fault plan: {len(faults.rules)} rule(s), seed {faults.seed}", flush=True)
        if ready is not None:
            ready.set()
        while not stop.wait(0.2):
            pass
    finally:
        stack.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print("checkrun local stack stopped", file=sys.stderr, flush=True)
    return 0

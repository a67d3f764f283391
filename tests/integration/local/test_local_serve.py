"""`checkrun local` in its own process: prints its URL, serves, and leaves nothing behind."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_stack_kit import Clients, Deployer, process_alive, wait_until


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    with (tmp_path / "stderr.txt").open("w") as stderr:  # a full, unread pipe would block it
        proc = subprocess.Popen(
            [sys.executable, "-m", "runner", "local", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("checkrun local stack listening on http://127.0.0.1:"), first
    yield proc, first.rsplit(" ", 1)[1].strip()
    if proc.poll() is None:
        proc.kill()
        proc.wait(60)


def _worker_pid(url: str, tmp_path: Path) -> int:
    clients = Clients(url)
    deployer = Deployer(clients, tmp_path)
    deployed = deployer.deploy("echo", asynchronous=False)
    answer = clients.rt.invoke_endpoint(
        EndpointName=deployed.name, Body=b'{"value": 1}', ContentType="application/json"
    )
    return int(json.loads(answer["Body"].read())["pid"])


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_server_and_its_model_servers(
    served: tuple[subprocess.Popen[str], str], tmp_path: Path, signum: signal.Signals
) -> None:
    proc, url = served
    pid = _worker_pid(url, tmp_path)
    proc.send_signal(signum)
    assert proc.wait(60) == 0
    assert not process_alive(pid)  # stopped (and reaped) before the stack process exited


def test_model_servers_exit_when_the_stack_process_is_killed(
    served: tuple[subprocess.Popen[str], str], tmp_path: Path
) -> None:
    proc, url = served
    pid = _worker_pid(url, tmp_path)
    proc.kill()
    proc.wait(60)
    # The orphaned model server notices its parent is gone (it checks every 0.5 s) and exits;
    # its new parent reaps it whenever it gets to it, so a zombie counts as gone.
    wait_until(lambda: not process_alive(pid), f"model server {pid} exits")


def test_bad_fault_plan_is_a_one_line_error(tmp_path: Path) -> None:
    plan = tmp_path / "faults.yaml"
    plan.write_text("rules:\n  - {kind: meteor}\n")
    done = subprocess.run(
        [sys.executable, "-m", "runner", "local", "--port", "0", "--faults", str(plan)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 3
    assert "fault plan" in done.stderr and "rules.0.kind" in done.stderr
    assert "Traceback" not in done.stderr


def test_busy_port_is_a_one_line_error(local_stack: object) -> None:
    port = local_stack.url.rsplit(":", 1)[1]  # type: ignore[attr-defined]
    done = subprocess.run(
        [sys.executable, "-m", "runner", "local", "--port", port],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr

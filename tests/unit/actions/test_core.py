"""Core actions called directly with a StepContext: exec, http, sleep, assert, compare."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from runner.actions import core
from runner.actions.registry import ActionOutput
from runner.engine.context import RunContext, StepContext
from runner.engine.ledger import Ledger
from runner.errors import ActionError


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/text"):
            body, kind, status = b"plain words", "text/plain", 200
        else:
            body, kind, status = json.dumps({"path": self.path}).encode(), "application/json", 404
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self) -> None:
        data = self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps(
            {"got": data.decode(), "auth": self.headers.get("Authorization")}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def ctx(tmp_path: Path) -> StepContext:
    run = RunContext(
        run_id="r1",
        started_at=datetime.now(timezone.utc),
        checklist_path=tmp_path / "c.yaml",
        report_dir=tmp_path / "reports",
        ledger=Ledger(None, "r1"),
    )
    return StepContext(run, "test", "step")


def test_exec_parses_json_stdout(ctx: StepContext) -> None:
    out = core.exec_(core.ExecArgs(cmd=[sys.executable, "-c", "print('{\"a\": [1, 2]}')"]), ctx)
    assert out["exit_code"] == 0
    assert out["json"] == {"a": [1, 2]}


def test_exec_nonzero_exit_fails_with_stderr(ctx: StepContext) -> None:
    args = core.ExecArgs(
        cmd=[sys.executable, "-c", "import sys; sys.stderr.write('boom'); sys.exit(2)"]
    )
    with pytest.raises(ActionError, match="exited with code 2: boom") as err:
        core.exec_(args, ctx)
    assert err.value.code == "ExitCode"
    out = core.exec_(args.model_copy(update={"check": False}), ctx)
    assert out["exit_code"] == 2


def test_exec_uses_no_shell_unless_asked(ctx: StepContext) -> None:
    with pytest.raises(ValidationError, match="give a list of arguments"):
        core.ExecArgs(cmd="echo $HOME")  # refused when the arguments are read
    for empty in ([], ""):
        with pytest.raises(ValidationError, match="at least 1"):
            core.ExecArgs(cmd=empty, shell=True)
    out = core.exec_(core.ExecArgs(cmd="echo a && echo b", shell=True), ctx)
    assert out["stdout"] == "a\nb\n"
    literal = core.exec_(core.ExecArgs(cmd=["echo", "$HOME", "&&", "x"]), ctx)
    assert literal["stdout"] == "$HOME && x\n"


def test_exec_is_killed_when_cancelled(ctx: StepContext) -> None:
    threading.Timer(0.2, ctx.stop.set).start()
    started = time.monotonic()
    with pytest.raises(ActionError) as err:
        core.exec_(core.ExecArgs(cmd=[sys.executable, "-c", "import time; time.sleep(30)"]), ctx)
    assert err.value.code == "Cancelled"
    assert time.monotonic() - started < 10


def test_exec_missing_program(ctx: StepContext) -> None:
    with pytest.raises(ActionError, match="cannot run"):
        core.exec_(core.ExecArgs(cmd=["/no/such/program"]), ctx)


def test_http_returns_status_headers_and_parsed_body(server: str, ctx: StepContext) -> None:
    out = core.http(core.HttpArgs.model_validate({"url": f"{server}/missing"}), ctx)
    assert isinstance(out, ActionOutput)
    assert out.value["status"] == 404  # an HTTP error status is an output, not a failure
    assert out.value["body"] == {"path": "/missing"}
    assert out.value["headers"]["Content-Type"] == "application/json"
    text = core.http(core.HttpArgs(url=f"{server}/text"), ctx)
    assert text.value["body"] == "plain words"


def test_http_sends_body_and_headers(server: str, ctx: StepContext) -> None:
    args = core.HttpArgs.model_validate(
        {
            "url": f"{server}/put",
            "method": "put",
            "body": "raw",
            "headers": {"Authorization": "Bearer x"},
        }
    )
    out = core.http(args, ctx)
    assert out.value["body"] == {"got": "raw", "auth": "Bearer x"}


def test_http_connection_error(ctx: StepContext) -> None:
    with pytest.raises(ActionError) as err:
        core.http(core.HttpArgs(url="http://127.0.0.1:1/"), ctx)
    assert err.value.code == "ConnectionError"


def test_sleep_wakes_early_when_cancelled(ctx: StepContext) -> None:
    threading.Timer(0.1, ctx.stop.set).start()
    started = time.monotonic()
    core.sleep(core.SleepArgs.model_validate({"duration": "30s"}), ctx)
    assert time.monotonic() - started < 10


def test_assert_passes_the_value_through_or_fails_with_messages(ctx: StepContext) -> None:
    ok = core.AssertArgs.model_validate({"value": {"a": 1}, "expect": {"path": "a", "equals": 1}})
    assert core.assert_(ok, ctx) == {"a": 1}
    bad = core.AssertArgs.model_validate(
        {"value": {"a": 1}, "expect": [{"path": "a", "equals": 2}]}
    )
    with pytest.raises(ActionError, match="a: expected equal to 2, found 1"):
        core.assert_(bad, ctx)


def test_compare_with_tolerance_order_and_exclusions(ctx: StepContext) -> None:
    args = core.CompareArgs(
        actual={"scores": [0.3001, 0.7], "id": "x"},
        expected={"scores": [0.7, 0.3], "id": "y"},
        tolerance=0.001,
        ignore_order=True,
        exclude_paths=["['id']"],
    )
    assert core.compare(args, ctx).value == {"equal": True}


def test_compare_failure_carries_the_diff(ctx: StepContext, tmp_path: Path) -> None:
    golden = tmp_path / "golden.json"
    golden.write_text(json.dumps({"label": "shirt", "score": 0.9}))
    args = core.CompareArgs(actual={"label": "shoe", "score": 0.9}, expected_file=str(golden))
    with pytest.raises(ActionError, match="values differ") as err:
        core.compare(args, ctx)
    assert "values_changed" in err.value.evidence["diff"]
    assert "shoe" in err.value.message

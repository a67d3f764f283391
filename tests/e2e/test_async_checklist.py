"""The product's main job end to end: `checkrun checklists/async.yaml` as users run it.

* the default profile: the embedded local stack starts and stops inside the run;
* `--profile staging` (target aws) against `checkrun local` started as its own
  process, reached through AWS_ENDPOINT_URL, as a staging run reaches AWS;
* a model that cannot load: deploy fails, dependents BLOCKED, cleanup runs, exit 2;
* a run killed with SIGKILL, then `checkrun cleanup LEDGER`: nothing left;
* sabotage (dropped notifications, a model whose scores exceed 1 and that logs an
  error): each fault fails exactly the criterion written for it, nothing else.
After the runs against the separate stack, listing it proves nothing remains.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKLIST = ROOT / "checklists" / "async.yaml"
CHECKRUN = [sys.executable, "-m", "runner"]
DUMMY = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "ap-south-1",
}


def checkrun(*args: str, env: dict[str, str] | None = None, timeout: float = 240) -> Any:
    return subprocess.run(
        [*CHECKRUN, *args],
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def result_of(report_dir: Path) -> dict[str, Any]:
    return json.loads((report_dir / "result.json").read_text())


def statuses(result: dict[str, Any]) -> dict[str, str]:
    return {t["id"]: t["status"] for t in result["tests"]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def stack_process() -> Iterator[str]:
    """`checkrun local` in its own process; yields its URL."""
    port = free_port()
    proc = subprocess.Popen(
        [*CHECKRUN, "local", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, **DUMMY},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"checkrun local exited {proc.returncode}: {proc.stderr.read()[-500:]}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    try:
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def leftovers(url: str, run_id: str) -> list[str]:
    """What of run `run_id` the stack still holds, found by listing every kind we create."""
    import boto3

    session = boto3.Session(region_name="ap-south-1", **_creds())
    sm = session.client("sagemaker", endpoint_url=url)
    found = [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]]
    found += [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]]
    found += [m["ModelName"] for m in sm.list_models()["Models"]]
    found += [
        t["TopicArn"] for t in session.client("sns", endpoint_url=url).list_topics()["Topics"]
    ]
    found += session.client("sqs", endpoint_url=url).list_queues().get("QueueUrls", [])
    s3 = session.client("s3", endpoint_url=url)
    for bucket in s3.list_buckets()["Buckets"]:
        keys = s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", [])
        found += [f"s3://{bucket['Name']}/{o['Key']}" for o in keys]
    return [f for f in found if run_id in f]


def _creds() -> dict[str, str]:
    return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def staging_run(url: str, report_dir: Path, *options: str) -> Any:
    """`checkrun checklists/async.yaml --profile staging` against the stack at `url`."""
    env = {**DUMMY, "AWS_ENDPOINT_URL": url}
    return checkrun(
        "checklists/async.yaml", "--profile", "staging", "--report-dir", str(report_dir),
        "--log-format", "plain", *options, env=env,
    )  # fmt: skip


def failed_criteria(result: dict[str, Any]) -> dict[str, list[str]]:
    """Test id -> the texts of its criteria that did not pass (failed tests only)."""
    return {
        t["id"]: [c["text"] for c in t["criteria"] if c["passed"] is not True]
        for t in result["tests"]
        if t["status"] == "failed"
    }


def test_default_profile_runs_all_14_tests_on_the_embedded_stack(tmp_path: Path) -> None:
    proc = checkrun("checklists/async.yaml", "--report-dir", str(tmp_path), "--log-format", "plain")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    result = result_of(tmp_path)
    assert result["decision"] == "APPROVED"
    assert set(statuses(result).values()) == {"passed"} and len(result["tests"]) == 15
    for test in result["tests"]:
        assert all(c["passed"] for c in test["criteria"]), test["id"]
    waits = [
        s["evidence"]
        for t in result["tests"]
        for s in t["steps"]
        if s["action"] == "sagemaker.wait_result" and "detected_by" in s["evidence"]
    ]
    assert waits and all(w["detected_by"] in ("notification", "s3") for w in waits)
    # Notifications are the normal path; S3 only as a safety net under heavy load.
    assert [w["detected_by"] for w in waits].count("notification") >= len(waits) - 1
    cold = next(t for t in result["tests"] if t["id"] == "cold-start")
    evidence = {k: v for s in cold["steps"] for k, v in s["evidence"].items()}
    assert {"cold_start_seconds", "warm_seconds"} <= set(evidence)
    info = json.loads((tmp_path / "async_endpoint_info.json").read_text())
    assert info["async_config"]["sns_topic_arn"].startswith("arn:aws:sns:")
    ledger = json.loads((tmp_path / "ledger.json").read_text())
    assert ledger["resources"] and all(r["deleted"] for r in ledger["resources"])


def test_staging_profile_against_checkrun_local_process(stack_process: str, tmp_path: Path) -> None:
    proc = staging_run(
        stack_process, tmp_path, "--var", "role_arn=arn:aws:iam::123456789012:role/sm-exec"
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    result = result_of(tmp_path)
    assert result["target"] == "aws" and result["decision"] == "APPROVED"
    assert leftovers(stack_process, result["run_id"]) == []


def test_broken_model_blocks_the_run_and_leaves_nothing(stack_process: str, tmp_path: Path) -> None:
    proc = staging_run(stack_process, tmp_path, "--var", "model_dir=models/broken")
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-2000:]
    result = result_of(tmp_path)
    states = statuses(result)
    assert result["decision"] == "BLOCKED"
    assert states["deploy"] == "failed" and states["cleanup"] == "passed"
    assert states["basic-invocation"] == "blocked" and states["cost-verification"] == "blocked"
    deploy = next(t for t in result["tests"] if t["id"] == "deploy")
    assert "model.bin is missing" in json.dumps(deploy) or "Failed" in deploy["reason"]
    assert leftovers(stack_process, result["run_id"]) == []


def test_killed_run_is_cleaned_from_its_ledger(stack_process: str, tmp_path: Path) -> None:
    env = {**os.environ, **DUMMY, "AWS_ENDPOINT_URL": stack_process, "NO_COLOR": "1"}
    run = subprocess.Popen(
        [*CHECKRUN, "checklists/async.yaml", "--profile", "staging", "--report-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ledger_path = tmp_path / "ledger.json"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:  # kill once an endpoint exists
            if ledger_path.exists() and "sagemaker:endpoint" in ledger_path.read_text():
                break
            time.sleep(0.05)
        else:
            pytest.fail("the run never created an endpoint")
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait(10)
    run_id = json.loads(ledger_path.read_text())["run_id"]
    assert leftovers(stack_process, run_id), "the killed run should have left resources"
    proc = checkrun("cleanup", str(ledger_path), env={**DUMMY, "AWS_ENDPOINT_URL": stack_process})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert leftovers(stack_process, run_id) == []
    again = checkrun("cleanup", str(ledger_path), env={**DUMMY, "AWS_ENDPOINT_URL": stack_process})
    assert again.returncode == 0 and "nothing to clean" in again.stdout


def _children(pid: int) -> set[int]:
    """Every live descendant of `pid` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_ctrl_c_stops_the_embedded_stack_and_its_model_servers(tmp_path: Path) -> None:
    run = subprocess.Popen(
        [*CHECKRUN, "checklists/async.yaml", "--report-dir", str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ledger_path = tmp_path / "ledger.json"
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while time.monotonic() < deadline and run.poll() is None:
        if ledger_path.exists() and "sagemaker:endpoint" in ledger_path.read_text():
            workers = _children(run.pid)
            if workers:
                break
        time.sleep(0.05)
    assert workers, "the run never started a model server"
    run.send_signal(signal.SIGINT)
    code = run.wait(60)
    assert code in (130, 0, 1, 2), code  # interrupted (or it had just finished)
    deadline = time.monotonic() + 20  # exit is immediate; the margin is for a busy machine
    while [p for p in workers if _alive(p)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p for p in workers if _alive(p)] == []
    result = result_of(tmp_path)
    assert statuses(result)["cleanup"] == "passed"


def _sabotaged_model(folder: Path) -> Path:
    """StyleMatch, but its scores run up to 1.5 and every request logs an ERROR line."""
    shutil.copytree(ROOT / "checklists" / "models" / "stylematch", folder)
    handler = folder / "code" / "inference.py"
    code = handler.read_text()
    clip = 'np.clip(model["vectors"] @ query, 0.0, 1.0)'
    start = "    started = time.time()\n"
    assert clip in code and start in code, "StyleMatch changed: update the sabotage"
    code = code.replace(clip, clip + " * 1.5")
    code = code.replace(
        start, start + '    print("ERROR: feature cache unavailable", flush=True)\n'
    )
    handler.write_text(code)
    return folder


def _faults(url: str, method: str, plan: dict[str, Any] | None = None) -> None:
    body = json.dumps(plan).encode() if plan is not None else None
    request = urllib.request.Request(f"{url}/_checkrun/faults", data=body, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def test_dropped_notifications_fail_test_6_only(stack_process: str, tmp_path: Path) -> None:
    """No notification arrives: test 6 fails with a clear reason, yet the S3 fallback
    still finds the result, so nothing else fails."""
    # Only this run's endpoints (app "dropped") lose their notifications.
    plan = {"rules": [{"kind": "drop_notification", "endpoint": "dropped-*"}]}
    _faults(stack_process, "PUT", plan)
    try:
        proc = staging_run(
            stack_process, tmp_path, "--only", "sns-notifications",
            "--var", "app=dropped", "--var", "notify_within=1",
        )  # fmt: skip
    finally:
        _faults(stack_process, "DELETE")
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    result = result_of(tmp_path)
    assert result["decision"] == "NEEDS WORK"
    assert failed_criteria(result) == {
        "sns-notifications": [
            "Success notification received after inference",
            "Notification contains OutputLocation",
            "Notification arrives within 1 minute of completion",
        ]
    }
    test = next(t for t in result["tests"] if t["id"] == "sns-notifications")
    assert "no Completed notification" in test["reason"] and "within 1s" in test["reason"]
    wait = next(s["evidence"] for s in test["steps"] if s["name"] == "wait")
    assert wait["detected_by"] == "s3", "the S3 fallback must still find the result"
    assert statuses(result)["cleanup"] == "passed"
    assert leftovers(stack_process, result["run_id"]) == []


def test_scores_above_one_and_logged_errors_fail_their_criteria(
    stack_process: str, tmp_path: Path
) -> None:
    """A model whose scores exceed 1 fails test 3's score criterion; its ERROR log line
    fails test 12's "no error messages" (with the line in the message). Nothing else."""
    model = _sabotaged_model(tmp_path / "model")
    reports = tmp_path / "reports"
    proc = staging_run(
        stack_process, reports, "--only", "wait-result,cloudwatch-logs",
        "--var", f"model_dir={model}",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    result = result_of(reports)
    assert failed_criteria(result) == {
        "wait-result": ["Scores are between 0 and 1"],
        "cloudwatch-logs": ["No error messages in logs"],
    }
    tests = {t["id"]: t for t in result["tests"]}
    logs = next(c for c in tests["cloudwatch-logs"]["criteria"] if not c["passed"])
    assert "ERROR: feature cache unavailable" in logs["expectation"]["message"]
    scores = next(c for c in tests["wait-result"]["criteria"] if not c["passed"])
    assert "outside" in scores["expectation"]["message"]
    assert statuses(result)["cleanup"] == "passed"
    assert leftovers(stack_process, result["run_id"]) == []


NO_CREDENTIALS = {
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({**NO_CREDENTIALS}, "Unable to locate credentials (set AWS_PROFILE"),
        ({**DUMMY, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, "Could not connect"),
    ],
    ids=["no-credentials", "unreachable-endpoint"],
)
def test_staging_without_aws_fails_at_once_in_one_line(
    env: dict[str, str], says: str, tmp_path: Path
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.run(
        [*CHECKRUN, "checklists/async.yaml", "--profile", "staging", "--report-dir", str(tmp_path),
         "--log-format", "plain"],
        cwd=ROOT, env={**clean, **env, "NO_COLOR": "1"}, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output
    failures = [line for line in output.splitlines() if line.split()[1:2] == ["FAIL"]]
    assert len(failures) == 1 and says in failures[0], failures
    result = result_of(tmp_path)
    assert result["decision"] == "BLOCKED" and statuses(result)["deploy"] == "blocked"

"""ResultWaiter against in-memory S3 and SQS stand-ins (behaviour, not the wire)."""

from __future__ import annotations

import json
import queue
import threading
import time
from typing import Any

import pytest

from runner.actions.waiter import FallbackPolicy, ResultWaiter, parse_notification


class NotFound(Exception):
    def __init__(self) -> None:
        super().__init__("404")
        self.response = {"Error": {"Code": "404"}}


class FakeS3:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.calls: list[str] = []

    def put(self, uri: str, body: bytes, ctype: str = "application/json") -> None:
        self.objects[uri] = (body, ctype)

    def head_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        self.calls.append("head")
        if f"s3://{Bucket}/{Key}" not in self.objects:
            raise NotFound()
        return {}

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        self.calls.append("get")
        try:
            body, ctype = self.objects[f"s3://{Bucket}/{Key}"]
        except KeyError:
            raise NotFound() from None

        class Body:
            def read(self) -> bytes:
                return body

        return {"Body": Body(), "ContentType": ctype}


class FakeSQS:
    def __init__(self) -> None:
        self.messages: queue.Queue[str] = queue.Queue()
        self.receives = 0
        self.deleted = 0

    def send(self, body: dict[str, Any]) -> None:
        self.messages.put(json.dumps(body))

    def receive_message(self, QueueUrl: str, MaxNumberOfMessages: int, WaitTimeSeconds: int) -> Any:
        self.receives += 1
        out = []
        try:
            out.append(self.messages.get(timeout=WaitTimeSeconds))
            while len(out) < MaxNumberOfMessages:
                out.append(self.messages.get_nowait())
        except queue.Empty:
            pass
        return {"Messages": [{"Body": b, "ReceiptHandle": str(i)} for i, b in enumerate(out)]}

    def delete_message_batch(self, QueueUrl: str, Entries: list[Any]) -> None:
        self.deleted += len(Entries)


def success(inference_id: str, output: str) -> dict[str, Any]:
    return {
        "invocationStatus": "Completed",
        "inferenceId": inference_id,
        "eventName": "InferenceResult",
        "responseParameters": {"contentType": "application/json", "outputLocation": output},
    }


@pytest.fixture
def fakes() -> Any:
    s3, sqs = FakeS3(), FakeSQS()
    waiter = ResultWaiter(s3, sqs, long_poll_seconds=1)
    yield s3, sqs, waiter
    waiter.stop()


def test_notification_resolves_many_jobs_with_one_reader(fakes: Any) -> None:
    s3, sqs, waiter = fakes
    jobs = [
        waiter.register(f"id{i}", f"s3://b/out/{i}.out", f"s3://b/fail/{i}", "q") for i in range(5)
    ]
    sqs.send(
        {"eventVersion": "1.0", "eventSource": "aws:sagemaker", "eventName": "TestNotification"}
    )
    for i in range(5):
        s3.put(f"s3://b/out/{i}.out", json.dumps({"n": i}).encode())
        sqs.send(success(f"id{i}", f"s3://b/out/{i}.out"))
    for i, job in enumerate(jobs):
        assert waiter.wait(job, 5)
        assert job.status == "Completed" and job.detected_by == "notification"
        assert json.loads(waiter.fetch(job)["raw"]) == {"n": i}
    assert len(waiter._queues) == 1
    assert s3.calls.count("head") == 0  # the S3 fallback never had to run


def test_s3_fallback_finds_output_when_notification_is_dropped(fakes: Any) -> None:
    s3, _sqs, _ = fakes
    waiter = ResultWaiter(
        s3, None, with_notifications=FallbackPolicy(0.05, 0.2, 0.2), long_poll_seconds=1
    )
    job = waiter.register("x", "s3://b/out/x.out", "s3://b/fail/x-error.out", "q")
    threading.Timer(0.2, s3.put, args=("s3://b/out/x.out", b'{"ok": true}')).start()
    try:
        assert waiter.wait(job, 5)
        assert job.detected_by == "s3" and job.status == "Completed"
    finally:
        waiter.stop()


def test_failure_location_gives_failed_status_and_text(fakes: Any) -> None:
    s3, _sqs, waiter = fakes
    job = waiter.register("f", "s3://b/out/f.out", "s3://b/fail/f-error.out", None)
    s3.put("s3://b/fail/f-error.out", b"ValueError: not an image", "text/plain")
    assert waiter.wait(job, 5)
    assert job.status == "Failed"
    assert waiter.fetch(job)["failure"] == "ValueError: not an image"


def test_notification_arriving_before_register_is_kept(fakes: Any) -> None:
    _s3, sqs, waiter = fakes
    waiter.register("a", "s3://b/out/a.out", None, "q")  # starts the reader
    sqs.send(
        {
            **success("late", "s3://b/out/late.out"),
            "responseBody": {"content": "e30=", "encoding": "BASE64"},
        }
    )
    deadline = time.monotonic() + 10
    while not waiter.notifications("late"):  # the reader has it before anyone asks
        assert time.monotonic() < deadline, "the queue reader never read the notification"
        time.sleep(0.01)
    submitted = waiter.notifications("late")[0].received_mono - 0.05
    job = waiter.register("late", "s3://b/out/late.out", None, "q", submitted=submitted)
    assert waiter.wait(job, 2)
    assert waiter.fetch(job)["raw"] == b"{}"  # inline body: no S3 request
    assert job.s3_requests == 0
    # since_submit counts from the submission, so it is never negative.
    assert job.registered == submitted and job.detected_at is not None
    assert job.detected_at >= job.registered


def test_wait_times_out_without_result(fakes: Any) -> None:
    _s3, _sqs, waiter = fakes
    job = waiter.register("never", "s3://b/out/never.out", None, None)
    assert waiter.wait(job, 0.3) is False
    assert job.status is None


def test_parse_notification_accepts_sns_envelope() -> None:
    inner = success("e", "s3://b/o")
    envelope = json.dumps({"Type": "Notification", "Message": json.dumps(inner)})
    assert parse_notification(envelope) == inner
    assert parse_notification("not json") is None


def test_older_job_is_checked_on_s3_when_a_younger_one_is_notified(fakes: Any) -> None:
    s3, sqs, _ = fakes
    # The regular fallback would first look after 10 minutes: only the nudge can find it.
    late = FallbackPolicy(first=600.0, factor=1.0, max_interval=600.0)
    waiter = ResultWaiter(s3, sqs, long_poll_seconds=1, with_notifications=late)
    try:
        # Submitted a second before the young job (more than NUDGE_GAP), no sleeping.
        old = waiter.register(
            "old", "s3://b/out/old.out", None, "q", submitted=time.monotonic() - 1.0
        )
        s3.put("s3://b/out/old.out", b"{}")  # landed, but its notification was dropped
        waiter.register("young", "s3://b/out/young.out", None, "q")
        sqs.send(success("young", "s3://b/out/young.out"))
        assert waiter.wait(old, 30)
        assert old.detected_by == "s3" and old.s3_requests == 1
    finally:
        waiter.stop()

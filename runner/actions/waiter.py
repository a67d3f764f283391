"""One result waiter per run, serving every in-flight async inference at once.

How a result is detected, cheapest first:

1. **Notifications.** SageMaker publishes a success or error notification to the
   endpoint's SNS topics; `deploy_async` subscribes an SQS queue. One thread per
   queue long-polls it (one ReceiveMessage a round for *all* pending jobs),
   matches messages by `inferenceId`, skips SageMaker's `TestNotification`, and
   deletes what it read in batches (moto's SQS slows as a queue deepens).
2. **S3 fallback.** One thread HEADs the output location, then the failure
   location, of the jobs that are due, each job on its own adaptive schedule:
   the interval grows with the job's age (`age * factor`, clamped), so a result
   that lands at age `t` is seen within about `factor * t`; the failure location
   is checked on every other round. With notifications on, the fallback starts
   late and slowly (it only catches dropped or late notifications), except that a
   job still pending when a younger job's notification arrives is checked at
   once; without notifications it starts at 100 ms. There is never a poll loop
   per job and never a listing (ListObjectsV2 costs ~270 ms per 1,000 keys on
   moto and is billed per request).

The waiting thread (the step) then fetches the output body once, unless the
notification carried it (`IncludeInferenceResponseIn`).

The waiter takes plain boto3 clients and a clock, so it is tested with fakes.
"""

from __future__ import annotations

import base64
import contextlib
import threading
import time
from datetime import datetime, timezone
from typing import Any

from runner.actions.sagemaker_jobs import (
    NUDGE_GAP,
    WITH_NOTIFICATIONS,
    WITHOUT_NOTIFICATIONS,
    FallbackPolicy,
    Job,
    Seen,
    is_missing,
    parse_notification,
    split_uri,
)
from runner.engine.clock import Clock, SystemClock

__all__ = [
    "NUDGE_GAP",
    "WITHOUT_NOTIFICATIONS",
    "WITH_NOTIFICATIONS",
    "FallbackPolicy",
    "Job",
    "ResultWaiter",
    "Seen",
    "parse_notification",
    "split_uri",
]


class ResultWaiter:
    """Tracks many async jobs with one queue reader per queue and one S3 fallback loop."""

    def __init__(
        self,
        s3: Any,
        sqs: Any | None,
        *,
        clock: Clock | None = None,
        long_poll_seconds: int = 10,
        with_notifications: FallbackPolicy = WITH_NOTIFICATIONS,
        without_notifications: FallbackPolicy = WITHOUT_NOTIFICATIONS,
    ) -> None:
        self.s3 = s3
        self.sqs = sqs
        self.clock: Clock = clock or SystemClock()
        self.long_poll_seconds = long_poll_seconds
        self.with_notifications = with_notifications
        self.without_notifications = without_notifications
        self._jobs: dict[str, Job] = {}
        self._seen: dict[str, list[Seen]] = {}
        self._watching: dict[str, int] = {}  # inference id -> notification watchers
        self._queues: dict[str, threading.Thread] = {}
        self._s3_thread: threading.Thread | None = None
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self.sqs_rounds = 0
        self.sqs_requests = 0
        self.s3_requests = 0

    # -- registration -------------------------------------------------------------------------

    def register(
        self,
        inference_id: str,
        output_location: str | None,
        failure_location: str | None = None,
        queue_url: str | None = None,
        submitted: float | None = None,
    ) -> Job:
        """Start watching a job (idempotent: the same id returns the same job).

        `submitted` (clock.monotonic() taken before the job was submitted) is where
        `since_submit` counts from; a notification read between the submission and
        this call would otherwise make it negative.
        """
        with self._lock:
            job = self._jobs.get(inference_id)
            if job is not None:
                return job
            policy = self.with_notifications if queue_url else self.without_notifications
            now = self.clock.monotonic()
            job = Job(
                inference_id,
                output_location,
                failure_location,
                queue_url,
                registered=min(now, submitted) if submitted is not None else now,
                policy=policy,
                next_check=now + policy.first,
                sqs_rounds_at_start=self.sqs_rounds,
            )
            self._jobs[inference_id] = job
            for seen in self._seen.get(inference_id, []):
                self._resolve_by_notification(job, seen)
            if queue_url:
                self._ensure_queue_reader(queue_url)
            self._ensure_s3_loop()
            self._lock.notify_all()
            return job

    def wait(self, job: Job, timeout: float, cancel: threading.Event | None = None) -> bool:
        """Block until the job is detected (True) or `timeout` / cancel (False)."""
        deadline = time.monotonic() + timeout
        while not job.done.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or (cancel is not None and cancel.is_set()) or self._stop.is_set():
                return False
            job.done.wait(min(left, 0.25))
        return True

    def forget(self, job: Job) -> None:
        with self._lock:
            self._jobs.pop(job.inference_id, None)

    def notifications(self, inference_id: str) -> list[Seen]:
        with self._lock:
            return list(self._seen.get(inference_id, []))

    def wait_notification(
        self,
        inference_id: str,
        queue_url: str,
        timeout: float,
        status: str | None = None,
        cancel: threading.Event | None = None,
    ) -> Seen | None:
        """The first notification for `inference_id` (with `status`, if given), or None."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._watching[inference_id] = self._watching.get(inference_id, 0) + 1
            self._ensure_queue_reader(queue_url)
            self._lock.notify_all()
            try:
                while True:
                    for seen in self._seen.get(inference_id, []):
                        if status is None or seen.message.get("invocationStatus") == status:
                            return seen
                    left = deadline - time.monotonic()
                    if left <= 0 or self._stop.is_set() or (cancel is not None and cancel.is_set()):
                        return None
                    self._lock.wait(min(left, 0.25))
            finally:
                self._watching[inference_id] -= 1
                if not self._watching[inference_id]:
                    del self._watching[inference_id]

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        """Stop the background threads (they are daemons; a long poll in flight is abandoned)."""
        self._stop.set()
        with self._lock:
            self._lock.notify_all()
        threads = [*self._queues.values(), self._s3_thread]
        for thread in threads:
            if thread is not None:
                thread.join(timeout=0.2)

    # -- notifications ------------------------------------------------------------------------

    def _ensure_queue_reader(self, queue_url: str) -> None:
        if self.sqs is None or queue_url in self._queues:
            return
        thread = threading.Thread(
            target=self._queue_loop, args=(queue_url,), name="checkrun-sqs-waiter", daemon=True
        )
        self._queues[queue_url] = thread
        thread.start()

    def _wanted(self, queue_url: str) -> bool:
        if self._watching:
            return True
        return any(j.queue_url == queue_url and not j.done.is_set() for j in self._jobs.values())

    def _queue_loop(self, queue_url: str) -> None:
        sqs = self.sqs
        assert sqs is not None
        while not self._stop.is_set():
            with self._lock:
                if not self._wanted(queue_url):
                    self._lock.wait(0.5)
                    continue
            try:
                resp = sqs.receive_message(
                    QueueUrl=queue_url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=self.long_poll_seconds,
                )
            except Exception:
                if self._stop.is_set():
                    return
                self._stop.wait(1.0)  # transient; adaptive retries already ran inside botocore
                continue
            finally:
                with self._lock:
                    self.sqs_rounds += 1
                    self.sqs_requests += 1
            messages = resp.get("Messages", [])
            if messages:
                self._handle_messages(messages)
                self._delete_messages(queue_url, messages)

    def _handle_messages(self, messages: list[dict[str, Any]]) -> None:
        received_at = self.clock.now()
        mono = self.clock.monotonic()
        with self._lock:
            for msg in messages:
                note = parse_notification(msg.get("Body", ""))
                if not note or note.get("eventName") == "TestNotification":
                    continue
                inference_id = note.get("inferenceId")
                if not inference_id:
                    continue
                seen = Seen(note, received_at, mono)
                self._seen.setdefault(str(inference_id), []).append(seen)
                job = self._jobs.get(str(inference_id))
                if job is not None:
                    self._resolve_by_notification(job, seen)
                    self._nudge_older(job, mono)
            self._lock.notify_all()

    def _nudge_older(self, notified: Job, now: float) -> None:
        """A younger job's notification came first: an older job's may have been dropped.

        Each older pending job on the same queue gets one early S3 check (at most once
        per job, so a batch finishing out of order costs at most one HEAD per job).
        """
        for job in self._jobs.values():
            if (
                not job.done.is_set()
                and not job.nudged
                and job.queue_url == notified.queue_url
                and job.registered < notified.registered - NUDGE_GAP
            ):
                job.nudged = True
                job.next_check = min(job.next_check, now)

    def _resolve_by_notification(self, job: Job, seen: Seen) -> None:
        if job.done.is_set():
            return
        status = seen.message.get("invocationStatus")
        job.status = "Completed" if status == "Completed" else "Failed"
        job.notification = seen.message
        job.detected_by = "notification"
        job.detected_at = seen.received_mono
        job.sqs_rounds_at_end = self.sqs_rounds
        job.done.set()

    def _delete_messages(self, queue_url: str, messages: list[dict[str, Any]]) -> None:
        entries = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
        ]
        sqs = self.sqs
        assert sqs is not None
        with contextlib.suppress(Exception):  # undeleted messages are re-read and ignored
            sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
            with self._lock:
                self.sqs_requests += 1

    # -- S3 fallback --------------------------------------------------------------------------

    def _ensure_s3_loop(self) -> None:
        if self._s3_thread is None:
            self._s3_thread = threading.Thread(
                target=self._s3_loop, name="checkrun-s3-waiter", daemon=True
            )
            self._s3_thread.start()

    def _s3_loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                now = self.clock.monotonic()
                pending = [j for j in self._jobs.values() if not j.done.is_set()]
                due = [j for j in pending if j.next_check <= now]
                if not due:
                    wake = min((j.next_check for j in pending), default=now + 1.0)
                    self._lock.wait(max(0.005, min(wake - now, 1.0)))
                    continue
            for job in due:
                self._check_s3(job)
                age = self.clock.monotonic() - job.registered
                job.next_check = self.clock.monotonic() + job.policy.interval(age)

    def _check_s3(self, job: Job) -> None:
        # Failures are rare: their location is checked on every other round only.
        places = [(job.output_location, "Completed")]
        if job.checks % 2 == 0:
            places.append((job.failure_location, "Failed"))
        for location, status in places:
            if not location or job.done.is_set():
                continue
            bucket, key = split_uri(location)
            job.s3_requests += 1
            with self._lock:
                self.s3_requests += 1
            try:
                self.s3.head_object(Bucket=bucket, Key=key)
            except Exception as exc:
                if not is_missing(exc):
                    pass  # 403/5xx: try again on the next round
                continue
            with self._lock:
                if not job.done.is_set():
                    job.status = status
                    job.detected_by = "s3"
                    job.detected_at = self.clock.monotonic()
                    job.sqs_rounds_at_end = self.sqs_rounds
                    job.done.set()
                    self._lock.notify_all()
            return
        job.checks += 1

    # -- fetching the result ------------------------------------------------------------------

    def fetch(self, job: Job) -> dict[str, Any]:
        """The detected job's output (parsed by content type) or failure text; counts requests."""
        note = job.notification or {}
        out: dict[str, Any] = {"output": None, "content_type": None, "failure": None}
        if job.status == "Completed":
            inline = note.get("responseBody")
            ctype = (note.get("responseParameters") or {}).get("contentType")
            if isinstance(inline, dict) and inline.get("content") is not None:
                raw = inline["content"]
                data = base64.b64decode(raw) if inline.get("encoding") == "BASE64" else raw.encode()
            else:
                location = (note.get("responseParameters") or {}).get("outputLocation")
                data, ctype = self._get(job, location or job.output_location)
            out["content_type"] = ctype
            out["raw"] = data
        else:
            location = note.get("failureLocation") or job.failure_location
            data, ctype = self._get(job, location) if location else (b"", None)
            out["failure"] = data.decode("utf-8", "replace") if data else None
            out["failure_reason"] = note.get("failureReason")
        return out

    def _get(self, job: Job, location: str | None) -> tuple[bytes, str | None]:
        if not location:
            return b"", None
        bucket, key = split_uri(location)
        job.s3_requests += 1
        with self._lock:
            self.s3_requests += 1
        try:
            resp = self.s3.get_object(Bucket=bucket, Key=key)
        except Exception as exc:
            if is_missing(exc):
                return b"", None
            raise
        return resp["Body"].read(), resp.get("ContentType")


def now_utc() -> datetime:
    return datetime.now(timezone.utc)

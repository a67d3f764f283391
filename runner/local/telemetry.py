"""CloudWatch Logs events and metrics of the local endpoints, shipped reliably off the hot path.

Log events are queued by `log()` and written by a background thread every `interval` seconds,
straight into moto's CloudWatch Logs backend in this process (what a client reads over HTTP is
the same state). Measured under load, shipping them over HTTP (three calls for each new stream,
one per batch, all through the single shipping thread and the stack's own werkzeug server)
let a backlog of several seconds build up, and any error dropped the batch silently.

Delivery rules:
- a batch that fails stays queued and is retried at the next tick (with its events kept in
  order); after `MAX_ATTEMPTS` failures it is given up and the stack's own log says so, with
  the number of events and the error;
- events CloudWatch Logs rejects (moto drops events older than 14 days or over 2 h ahead,
  FACTS.md) are reported in the stack's own log, never dropped silently;
- `flush()` ships everything queued before it returns: the runtime calls it when an endpoint
  is deleted and when the stack stops, so nothing logged up to then is lost;
- the shipping thread never dies of an error: each tick's failure is reported and it goes on.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runner.local.services import Services, backend_lock

MAX_ATTEMPTS = 5
MetricSource = Callable[[], list[tuple[str, str, str, float]]]
Report = Callable[[str], None]
PutEvents = Callable[[str, str, str, list[dict[str, Any]]], int]

logger = logging.getLogger("runner.local")


def _default_report(message: str) -> None:
    logger.warning("%s", message)


@dataclass
class _Stream:
    """The events waiting for one (region, group, stream), and how often shipping them failed."""

    events: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    last_error: str = ""


class Telemetry:
    """Queues log events and metrics, ships them every `interval` seconds and on `flush()`."""

    def __init__(
        self,
        services: Services,
        interval: float = 0.25,
        report: Report | None = None,
        put: PutEvents | None = None,
    ) -> None:
        """`report` receives the stack's own log lines (default: a `runner.local` warning);
        `put` writes one stream's events and returns how many were rejected (default:
        put_events, into moto's backend)."""
        self.services = services
        self.interval = interval
        self.report = report or _default_report
        self._put = put or put_events
        self._pending: dict[tuple[str, str, str], _Stream] = defaultdict(_Stream)
        self._metric_sources: list[MetricSource] = []
        self._lock = threading.Lock()  # guards _pending and _metric_sources
        self._ship_lock = threading.Lock()  # one shipment at a time, so a stream stays in order
        self._stop = threading.Event()
        self.shipped = 0  # events written to CloudWatch Logs
        self.rejected = 0  # events CloudWatch Logs refused (reported)
        self.given_up = 0  # events given up after MAX_ATTEMPTS failures (reported)
        self._thread = threading.Thread(target=self._run, name="checkrun-telemetry", daemon=True)
        self._thread.start()

    # -- what endpoints call ------------------------------------------------------------------
    def log(
        self, region: str, group: str, stream: str, message: str, timestamp: float | None = None
    ) -> None:
        """Queue one log event, timestamped now unless `timestamp` (epoch seconds) is given."""
        when = time.time() if timestamp is None else timestamp
        event = {"timestamp": int(when * 1000), "message": message.rstrip("\n")}
        with self._lock:
            self._pending[(region, group, stream)].events.append(event)

    def pending(self) -> int:
        """Events queued and not yet in CloudWatch Logs."""
        with self._lock:
            return sum(len(s.events) for s in self._pending.values())

    def add_metric_source(self, source: MetricSource) -> None:
        """A callable returning (region, endpoint, metric name, value) tuples at each tick."""
        with self._lock:
            self._metric_sources.append(source)

    def remove_metric_source(self, source: MetricSource) -> None:
        with self._lock:
            if source in self._metric_sources:
                self._metric_sources.remove(source)

    # -- shipping ------------------------------------------------------------------------------
    def _run(self) -> None:
        last_metrics = 0.0
        while not self._stop.wait(self.interval):
            try:
                self.flush()
                if time.monotonic() - last_metrics >= 1.0:
                    last_metrics = time.monotonic()
                    self._ship_metrics()
            except Exception as exc:  # never let the shipping thread die
                self.report(f"log shipping: unexpected error {exc!r}; continuing")

    def flush(self) -> None:
        """Ship every queued event now; a failing stream keeps its events for the next try."""
        with self._ship_lock:
            with self._lock:
                batches, self._pending = self._pending, defaultdict(_Stream)
            for key, batch in batches.items():
                if batch.events:
                    self._ship_stream(key, batch)

    def _ship_stream(self, key: tuple[str, str, str], batch: _Stream) -> None:
        region, group, stream = key
        try:
            rejected = self._put(region, group, stream, batch.events)
        except Exception as exc:
            batch.attempts += 1
            batch.last_error = f"{type(exc).__name__}: {exc}"
            if batch.attempts < MAX_ATTEMPTS:
                with self._lock:  # keep them first, ahead of anything logged since
                    newer = self._pending[key]
                    batch.events.extend(newer.events)
                    self._pending[key] = batch
                return
            self.given_up += len(batch.events)
            self.report(
                f"log shipping: gave up on {len(batch.events)} event(s) of {group} stream "
                f"{stream} after {batch.attempts} attempts: {batch.last_error}; first event: "
                f"{batch.events[0]['message'][:200]!r}"
            )
            return
        if batch.attempts:
            self.report(
                f"log shipping: {group} stream {stream} delivered after {batch.attempts} "
                f"failed attempt(s) ({batch.last_error})"
            )
        self.shipped += len(batch.events) - rejected
        if rejected:
            self.rejected += rejected
            self.report(
                f"log shipping: CloudWatch Logs rejected {rejected} event(s) of {group} stream "
                f"{stream} (timestamps older than 14 days or more than 2 hours ahead)"
            )

    def _ship_metrics(self) -> None:
        with self._lock:
            sources = list(self._metric_sources)
        by_region: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for source in sources:
            for region, endpoint, name, value in source():
                by_region[region].append(
                    {
                        "MetricName": name,
                        "Dimensions": [{"Name": "EndpointName", "Value": endpoint}],
                        "Value": value,
                        "Unit": "Count",
                    }
                )
        for region, data in by_region.items():
            try:
                cloudwatch = self.services.client("cloudwatch", region)
                for start in range(0, len(data), 500):
                    cloudwatch.put_metric_data(
                        Namespace="AWS/SageMaker", MetricData=data[start : start + 500]
                    )
            except Exception as exc:
                self.report(f"metrics: PutMetricData in {region} failed: {exc}")

    def stop(self) -> None:
        """Stop the thread, then ship what is left (retrying failures a few times)."""
        self._stop.set()
        self._thread.join(timeout=30)
        for attempt in range(MAX_ATTEMPTS):
            self.flush()
            if not self.pending():
                break
            time.sleep(0.05 * (attempt + 1))
        self._ship_metrics()


def put_events(region: str, group: str, stream: str, events: list[dict[str, Any]]) -> int:
    """Create the group and stream if needed and put the events; how many were rejected."""
    from moto.backends import get_backend
    from moto.logs.exceptions import ResourceAlreadyExistsException

    from runner.local.control import account_id

    events.sort(key=lambda e: e["timestamp"])  # PutLogEvents wants them in order
    backend = get_backend("logs")[account_id()][region]
    with backend_lock():
        if group not in backend.groups:
            with contextlib.suppress(ResourceAlreadyExistsException):
                backend.create_log_group(group, {})
        streams = backend.groups[group].streams
        if stream not in streams:
            with contextlib.suppress(ResourceAlreadyExistsException):
                backend.create_log_stream(group, stream)
        before = len(streams[stream].events)
        backend.put_log_events(group, stream, events)
        # Counted, not read from rejectedLogEventsInfo: moto's indexes there are not AWS's.
        return len(events) - (len(streams[stream].events) - before)

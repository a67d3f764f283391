"""One deployed endpoint: its model servers and, for async endpoints, its job queue.

Deploy reads the endpoint through the stack's own API (DescribeEndpoint, DescribeEndpointConfig,
DescribeModel, GetObject on ModelDataUrl), extracts the model safely and starts one model server
per instance; the endpoint is InService once every /ping answers, Failed (with the handler's
own error) otherwise. The async side lives in runner/local/async_queue.py.
"""

from __future__ import annotations

import secrets
import shutil
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

from runner.local import control, notifications
from runner.local.async_queue import AsyncConfig, AsyncQueue, Job
from runner.local.faults import FaultPlan
from runner.local.services import Services
from runner.local.telemetry import Telemetry
from runner.local.workers import WorkerError, WorkerProcess, worker_environment


class ModelDataError(Exception):
    """ModelDataUrl could not be read or extracted."""


class Endpoint:
    """A live endpoint in the runtime."""

    def __init__(
        self,
        name: str,
        region: str,
        *,
        services: Services,
        telemetry: Telemetry,
        faults: FaultPlan | None,
        workdir: Path,
        log_dir: Path | None = None,
    ) -> None:
        self.name = name
        self.region = region
        self.services = services
        self.telemetry = telemetry
        self.faults = faults
        self.workdir = workdir
        self.log_dir = log_dir
        self.async_config: AsyncConfig | None = None
        self.variant = "AllTraffic"
        self.workers: list[WorkerProcess] = []
        self.instance_ids: list[str] = []
        self.ready = threading.Event()
        self.stopped = threading.Event()
        self.jobs: AsyncQueue | None = None
        self._counter_lock = threading.Lock()
        self._next_worker = 0
        self.log_group = f"/aws/sagemaker/Endpoints/{name}"

    # -- logs ---------------------------------------------------------------------------------
    def log(self, message: str, worker: WorkerProcess | str | None = None) -> None:
        """One log event in /aws/sagemaker/Endpoints/<name>, stream <variant>/<instance-id>."""
        if isinstance(worker, WorkerProcess):
            instance = worker.instance_id
        elif worker is not None:
            instance = worker
        else:
            instance = self.instance_ids[0] if self.instance_ids else "runtime"
        self.telemetry.log(self.region, self.log_group, f"{self.variant}/{instance}", message)
        if self.log_dir is not None:
            path = self.log_dir / self.name / f"{instance}.log"
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as f:
                f.write(message.rstrip("\n") + "\n")

    def _logger(self, instance_id: str) -> Callable[[str], None]:
        return lambda line: self.log(line, instance_id)

    # -- deploy -------------------------------------------------------------------------------
    def deploy(self, stack_url: str) -> None:
        """Bring the endpoint to InService, or Failed with the reason; never raises."""
        try:
            self._deploy(stack_url)
        except Exception as exc:
            if self.stopped.is_set():
                return
            if isinstance(exc, WorkerError):
                reason = self._failure_reason(str(exc))
            elif isinstance(exc, ModelDataError):
                reason = str(exc)
            else:
                reason = f"{type(exc).__name__}: {exc}"
            self.log(f"endpoint failed: {reason}\n{traceback.format_exc()}")
            self._stop_workers()
            control.set_status(self.name, self.region, "Failed", reason)

    def _failure_reason(self, error: str) -> str:
        return (
            f"The primary container for production variant {self.variant} did not pass the "
            f"ping health check: {error}. See the log group {self.log_group} for details."
        )

    def _deploy(self, stack_url: str) -> None:
        sagemaker = self.services.client("sagemaker", self.region)
        described = sagemaker.describe_endpoint(EndpointName=self.name)
        config = sagemaker.describe_endpoint_config(
            EndpointConfigName=described["EndpointConfigName"]
        )
        variant = config["ProductionVariants"][0]
        self.variant = variant.get("VariantName") or "AllTraffic"
        model = sagemaker.describe_model(ModelName=variant["ModelName"])
        container = model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0]
        if config.get("AsyncInferenceConfig"):
            self.async_config = AsyncConfig.from_api(config["AsyncInferenceConfig"])
            self._publish_test_notification()
        instances = int(variant.get("InitialInstanceCount") or 1)
        self.instance_ids = ["i-" + secrets.token_hex(8) + "0" for _ in range(instances)]
        model_dir = self._fetch_model(container.get("ModelDataUrl"))
        from runner.model import framework_from_image

        framework = framework_from_image(container.get("Image"))
        env = worker_environment(
            container.get("Environment") or {}, region=self.region, stack_url=stack_url
        )
        slow = self.faults.fires("slow_start", self.name) if self.faults else None
        if slow is not None:
            self.log(f"fault injected: slow cold start ({slow.seconds:g}s)")
            if self.stopped.wait(slow.seconds):
                return
        self.workers = [
            WorkerProcess(
                instance_id=instance_id,
                model_dir=model_dir,
                framework=framework,
                env=env,
                log=self._logger(instance_id),
            )
            for instance_id in self.instance_ids
        ]
        self._start_workers()
        if self.stopped.is_set():  # deleted while starting: nothing may outlive the endpoint
            self._stop_workers()
            return
        if self.async_config is not None:
            self.jobs = AsyncQueue(self, self.async_config)
            self.jobs.start()
            self.telemetry.add_metric_source(self.jobs.metrics)
        self.ready.set()
        control.set_status(self.name, self.region, "InService")
        self.log(f"endpoint {self.name} is InService with {instances} instance(s)")

    def _fetch_model(self, model_data_url: str | None) -> Path:
        model_dir = self.workdir / "model"
        model_dir.mkdir(parents=True, exist_ok=True)
        if not model_data_url:
            return model_dir
        from runner.model import extract_model

        try:
            body, _ = self.services.get_object(self.region, model_data_url)
        except (LookupError, ValueError) as exc:  # missing, or not an s3:// URI
            # SageMaker's own wording for an artifact it cannot fetch.
            raise ModelDataError(
                f'Failed to download model data for container "container_1" from URL: '
                f'"{model_data_url}". Please ensure that there is an object located at the URL '
                f"and that the role passed to CreateModel has permissions to download the "
                f"object. ({exc})"
            ) from exc
        archive = self.workdir / "model.tar.gz"
        archive.write_bytes(body)
        self.log(f"downloaded {model_data_url} ({len(body)} bytes); extracting")
        from runner.model import ModelArchiveError

        try:
            return extract_model(archive, model_dir)
        except ModelArchiveError as exc:
            raise ModelDataError(
                f"Failed to extract model data from {model_data_url}: {exc}"
            ) from exc

    def _start_workers(self) -> None:
        errors: list[BaseException] = []

        def start(worker: WorkerProcess) -> None:
            try:
                worker.start()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=start, args=(w,), daemon=True) for w in self.workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    def _publish_test_notification(self) -> None:
        assert self.async_config is not None
        topics = {self.async_config.success_topic, self.async_config.error_topic} - {None}
        for topic in sorted(t for t in topics if t):
            try:
                message = notifications.dumps(notifications.TEST_NOTIFICATION)
                self.services.publish(self.region, topic, message)
            except Exception as exc:
                self.log(f"test notification to {topic} failed: {exc}")

    # -- async --------------------------------------------------------------------------------
    def submit(self, job: Job) -> None:
        assert self.jobs is not None
        self.jobs.submit(job)

    def backlog(self) -> int:
        """Jobs queued or in flight (ApproximateBacklogSize)."""
        return self.jobs.backlog() if self.jobs is not None else 0

    @property
    def phases(self) -> dict[str, list[float]]:
        """Where async processing time goes, per phase: [count, total seconds]."""
        return self.jobs.phases if self.jobs is not None else {}

    # -- real-time ----------------------------------------------------------------------------
    def pick_worker(self) -> WorkerProcess:
        with self._counter_lock:
            worker = self.workers[self._next_worker % len(self.workers)]
            self._next_worker += 1
        return worker

    # -- stop ---------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop dispatchers and model servers, and remove the extracted model."""
        self.stopped.set()
        jobs = self.jobs
        if jobs is not None:
            self.telemetry.remove_metric_source(jobs.metrics)
            failed = jobs.fail_queued()
            if failed:
                self.log(f"endpoint deleted: {failed} queued request(s) failed")
        self._stop_workers()  # what is in flight fails as its model server stops
        if jobs is not None:
            jobs.stop()
        self.log(f"endpoint {self.name} stopped")
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _stop_workers(self) -> None:
        for worker in self.workers:
            worker.stop()

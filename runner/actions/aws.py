"""One boto3 session per run, its clients, and the `aws.identity` action.

`clients(ctx)` is the only place checkrun builds boto3 clients. For profile
target "local" it starts the embedded local stack on first use (a free port on
loopback) and registers its stop on the run's exit stack, so nothing outlives the
run; for target "aws" it uses the standard credential chain (AWS_PROFILE, env,
SSO, instance role), the profile's region and `endpoint_url` (or
AWS_ENDPOINT_URL). Every client uses botocore's adaptive retry mode, so
throttling slows a run down but never fails a test by itself.

boto3 is imported inside functions only: `checkrun validate` must stay fast.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from runner.actions.registry import ActionOutput, action
from runner.engine.context import RunContext, StepContext
from runner.errors import ActionError

SHARED_KEY = "aws.clients"
LOCAL_ACCOUNT = "123456789012"
DEFAULT_LOCAL_REGION = "us-east-1"
# Adaptive mode adds client-side rate limiting on throttling errors on top of the
# standard retry policy (botocore docs, "Retries": adaptive retry mode).
MAX_ATTEMPTS = 10

T = TypeVar("T")


@dataclass
class AwsClients:
    """A run's boto3 session and cached clients (boto3 clients are thread-safe once built)."""

    session: Any
    region: str
    endpoint_url: str | None
    target: str
    _cache: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _account: str | None = None

    def client(self, service: str, **config: Any) -> Any:
        """The run's client for `service` (cached; extra botocore config makes another)."""
        key = service + repr(sorted(config.items()))
        with self._lock:
            if key not in self._cache:
                self._cache[key] = self.session.client(
                    service,
                    region_name=self.region,
                    endpoint_url=self.endpoint_url,
                    config=botocore_config(**config),
                )
            return self._cache[key]

    @property
    def account(self) -> str:
        """The caller's account id (asked once from STS)."""
        if self._account is None:
            self._account = str(self.client("sts").get_caller_identity()["Account"])
        return self._account

    @property
    def partition(self) -> str:
        return "aws-cn" if self.region.startswith("cn-") else "aws"


def botocore_config(**overrides: Any) -> Any:
    from botocore.config import Config

    settings: dict[str, Any] = {
        "retries": {"mode": "adaptive", "max_attempts": MAX_ATTEMPTS},
        "max_pool_connections": 50,
        "connect_timeout": 10,
        "read_timeout": 70,
    }
    settings.update(overrides)
    return Config(**settings)


def make_clients(
    *,
    target: str,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile_name: str | None = None,
) -> AwsClients:
    """Build the session for a target without a run (used by `checkrun cleanup` and tests)."""
    import boto3

    if target == "local":
        if endpoint_url is None:
            raise ActionError("target local needs the local stack's endpoint_url")
        session = boto3.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name=region or DEFAULT_LOCAL_REGION,
        )
    else:
        session = boto3.Session(profile_name=profile_name, region_name=region)
        endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
    resolved = region or session.region_name
    if not resolved:
        raise ActionError(
            "no AWS region: set `region` in the profile, AWS_REGION or AWS_DEFAULT_REGION",
            code="NoRegion",
        )
    return AwsClients(session=session, region=resolved, endpoint_url=endpoint_url, target=target)


def clients(ctx: StepContext | RunContext) -> AwsClients:
    """The run's clients, created on first use (starting the local stack for target local)."""
    run = ctx.run if isinstance(ctx, StepContext) else ctx
    lock = run.shared.setdefault("aws.lock", threading.Lock())
    with lock:
        existing = run.shared.get(SHARED_KEY)
        if isinstance(existing, AwsClients):
            return existing
        profile = run.profile
        if profile.target == "local" and not profile.endpoint_url:
            url = _start_local_stack(run, profile.region or DEFAULT_LOCAL_REGION)
            made = make_clients(target="local", region=profile.region, endpoint_url=url)
        else:
            made = make_clients(
                target=profile.target, region=profile.region, endpoint_url=profile.endpoint_url
            )
        # Written into ledger.json so `checkrun cleanup` can reach the same place later.
        run.ledger.meta["aws"] = {
            "target": made.target,
            "region": made.region,
            "endpoint_url": made.endpoint_url,
        }
        # The region the run really used, for the report header (RunResult.region).
        run.shared.setdefault("environment", {})["region"] = made.region
        run.shared[SHARED_KEY] = made
        return made


def _start_local_stack(run: RunContext, region: str) -> str:
    from runner.local.stack import LocalStack

    stack = LocalStack(region=region, log_dir=run.report_dir / "local-stack")
    stack.start()
    run.exit_stack.callback(stack.stop)
    run.shared["local.stack"] = stack
    return str(stack.url)


def stop_event(ctx: StepContext) -> threading.Event:
    """The event that means "stop now": the step's own (timeout) if any, else the run's."""
    event = getattr(ctx, "stop", None)
    return event if isinstance(event, threading.Event) else ctx.run.cancel


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, else None."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None


def is_not_found(exc: BaseException) -> bool:
    code = error_code(exc) or ""
    message = str(exc)
    return (
        code in {"404", "NoSuchKey", "NoSuchBucket", "NotFound", "ResourceNotFoundException"}
        or code.endswith("NotFound")
        or code in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
        or (code == "ValidationException" and ("not find" in message or "not found" in message))
    )


@contextmanager
def aws_errors(what: str) -> Iterator[None]:
    """Turn botocore errors into ActionError(message, code=<AWS error code>)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        err = exc.response.get("Error", {})
        code = str(err.get("Code") or "ClientError")
        message = str(err.get("Message") or exc)
        meta = exc.response.get("ResponseMetadata", {})
        raise ActionError(
            message,
            code=code,
            evidence={
                "operation": exc.operation_name,
                "what": what,
                "http_status": meta.get("HTTPStatusCode"),
                "request_id": meta.get("RequestId"),
            },
        ) from exc
    except BotoCoreError as exc:
        raise ActionError(f"{what}: {exc}", code=type(exc).__name__) from exc


def call(what: str, func: Callable[..., T], /, **kwargs: Any) -> T:
    """`func(**kwargs)` with botocore errors mapped to ActionError."""
    with aws_errors(what):
        return func(**kwargs)


def jsonable(value: Any) -> Any:
    """A boto3 response made JSON-able (datetimes to ISO strings, bytes dropped)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items() if k != "ResponseMetadata" and k != "Body"}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return None
    return value


@action("aws.check_access")
def check_access(args: dict[str, Any], ctx: StepContext) -> ActionOutput:
    """Read-only calls proving the credentials reach S3, SageMaker, SNS, SQS and CloudWatch Logs.

    IAM policy simulation needs iam:SimulatePrincipalPolicy, which QA roles rarely
    have; one cheap List call per service shows the same for the read side.
    """
    aws = clients(ctx)
    probes: dict[str, Callable[[], Any]] = {
        "s3": lambda: aws.client("s3").list_buckets(),
        "sagemaker": lambda: aws.client("sagemaker").list_endpoints(MaxResults=1),
        "sns": lambda: aws.client("sns").list_topics(),
        "sqs": lambda: aws.client("sqs").list_queues(MaxResults=1),
        "logs": lambda: aws.client("logs").describe_log_groups(limit=1),
    }
    denied: dict[str, str] = {}
    for service, probe in probes.items():
        try:
            probe()
        except Exception as exc:
            denied[service] = f"{error_code(exc) or type(exc).__name__}: {exc}"
    value = {"services": {s: s not in denied for s in probes}, "denied": denied, "ok": not denied}
    return ActionOutput(value, evidence={"denied": sorted(denied)})


@action("aws.identity")
def identity(args: dict[str, Any], ctx: StepContext) -> ActionOutput:
    """Who the run's credentials are (STS GetCallerIdentity): Account, Arn, UserId, Region."""
    aws = clients(ctx)
    # The run's first call: a wrong endpoint or missing credentials should say so in
    # seconds, not after the adaptive mode's ten attempts.
    sts = aws.client("sts", retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5)
    try:
        result = call("get caller identity", sts.get_caller_identity)
    except ActionError as exc:
        if exc.code not in ("NoCredentialsError", "PartialCredentialsError"):
            raise
        hint = " (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
        raise ActionError(exc.message + hint, code=exc.code, evidence=exc.evidence) from exc
    value = jsonable(result) | {"Region": aws.region, "Target": aws.target}
    return ActionOutput(value, evidence={"account": value.get("Account"), "arn": value.get("Arn")})

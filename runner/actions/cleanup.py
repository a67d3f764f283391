"""Guaranteed cleanup: delete everything a run's ledger lists, then prove nothing remains.

Deletion runs in dependency order (an endpoint before its config, the config before
its model, subscriptions before topics, objects before their bucket), tolerates
what is already gone (so it is idempotent and safe to run twice, or after a killed
run), and ends with a check by listing, so "nothing remains" is observed, not assumed.

`cleanup_ledger(ledger, aws)` is what both the `cleanup` step and
`checkrun cleanup LEDGER` call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from runner.actions import s3 as s3_actions
from runner.actions.aws import AwsClients, clients, error_code, is_not_found
from runner.actions.registry import ActionOutput, action
from runner.engine.clock import SystemClock
from runner.engine.context import StepContext
from runner.engine.ledger import Ledger, Resource
from runner.errors import ActionError

# Dependency order: what must go before what it uses.
ORDER = (
    "sagemaker:endpoint",
    "sagemaker:endpoint-config",
    "sagemaker:model",
    "sns:subscription",
    "sns:topic",
    "sqs:queue",
    "s3:object",
    "s3:prefix",
    "s3:bucket",
)


@dataclass
class CleanupReport:
    deleted: list[str] = field(default_factory=list)
    already_gone: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # buckets still holding others' objects
    checked: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "deleted": self.deleted,
            "already_gone": self.already_gone,
            "failed": self.failed,
            "remaining": self.remaining,
            "kept": self.kept,
            "checked": self.checked,
            "nothing_remains": not self.remaining and not self.failed,
        }


def _delete_one(aws: AwsClients, res: Resource, timeout: float) -> bool:
    """Delete one resource; False if it was already gone."""
    from runner.actions.sagemaker import delete_endpoint_and_wait

    sm = aws.client("sagemaker")
    if res.kind == "sagemaker:endpoint":
        return delete_endpoint_and_wait(aws, res.id, timeout, SystemClock())
    calls: dict[str, Callable[[], Any]] = {
        "sagemaker:endpoint-config": lambda: sm.delete_endpoint_config(EndpointConfigName=res.id),
        "sagemaker:model": lambda: sm.delete_model(ModelName=res.id),
        "sns:subscription": lambda: aws.client("sns").unsubscribe(SubscriptionArn=res.id),
        "sns:topic": lambda: _delete_topic(aws, res.id),
        "sqs:queue": lambda: _delete_queue(aws, res.id),
        "s3:object": lambda: _delete_object(aws, res.id),
        "s3:prefix": lambda: _delete_prefix(aws, res.id),
        "s3:bucket": lambda: _delete_bucket(aws, res.id),
    }
    func = calls.get(res.kind)
    if func is None:
        raise ActionError(f"cleanup does not know how to delete a {res.kind}", code="UnknownKind")
    try:
        result = func()
    except Exception as exc:
        if is_not_found(exc):
            return False
        raise
    return result is not False


def _delete_topic(aws: AwsClients, arn: str) -> bool:
    sns = aws.client("sns")
    if arn not in _topic_arns(aws):
        return False
    sns.delete_topic(TopicArn=arn)
    return True


def _topic_arns(aws: AwsClients) -> set[str]:
    arns: set[str] = set()
    for page in aws.client("sns").get_paginator("list_topics").paginate():
        arns.update(t["TopicArn"] for t in page.get("Topics", []))
    return arns


def _delete_queue(aws: AwsClients, name: str) -> bool:
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    return True


def _delete_object(aws: AwsClients, uri: str) -> bool:
    bucket, key = s3_actions.parse_uri(uri)
    s3_actions.delete_keys(aws, bucket, [key])
    return True


def _delete_prefix(aws: AwsClients, uri: str) -> bool:
    bucket, prefix = s3_actions.parse_uri(uri)
    keys = [o["Key"] for o in s3_actions.list_keys(aws, bucket, prefix)]
    s3_actions.delete_keys(aws, bucket, keys)
    return bool(keys)


class BucketInUse(Exception):
    """The run created the bucket, but objects that are not the run's are in it now."""


def _delete_bucket(aws: AwsClients, bucket: str) -> bool:
    # The run's own objects and prefixes went first (ORDER); anything left belongs to
    # someone else (a parallel run that found the bucket existing), so keep the bucket.
    if s3_actions.list_keys(aws, bucket, "", limit=1):
        raise BucketInUse(bucket)
    aws.client("s3").delete_bucket(Bucket=bucket)
    return True


def _still_there(aws: AwsClients, res: Resource, topics: set[str] | None) -> bool:
    """Whether a resource is still listed (the proof that cleanup worked)."""
    sm = aws.client("sagemaker")
    kind, rid = res.kind, res.id
    if kind == "sagemaker:endpoint":
        found = sm.list_endpoints(NameContains=rid).get("Endpoints", [])
        return any(e["EndpointName"] == rid for e in found)
    if kind == "sagemaker:endpoint-config":
        found = sm.list_endpoint_configs(NameContains=rid).get("EndpointConfigs", [])
        return any(c["EndpointConfigName"] == rid for c in found)
    if kind == "sagemaker:model":
        found = sm.list_models(NameContains=rid).get("Models", [])
        return any(m["ModelName"] == rid for m in found)
    if kind == "sns:topic":
        return rid in (topics or set())
    if kind == "sns:subscription":
        return False  # a subscription dies with its topic, which is checked
    if kind == "sqs:queue":
        urls = aws.client("sqs").list_queues(QueueNamePrefix=rid).get("QueueUrls", [])
        return any(u.rstrip("/").rsplit("/", 1)[-1] == rid for u in urls)
    if kind in ("s3:object", "s3:prefix"):
        bucket, key = s3_actions.parse_uri(rid)
        return bool(s3_actions.list_keys(aws, bucket, key, limit=1))
    if kind == "s3:bucket":
        names = {b["Name"] for b in aws.client("s3").list_buckets().get("Buckets", [])}
        return rid in names
    return False


def cleanup_ledger(ledger: Ledger, aws: AwsClients, *, timeout: float = 900.0) -> CleanupReport:
    """Delete every resource in the ledger in dependency order, then list to prove none remain."""
    report = CleanupReport()
    resources = ledger.all()
    rank = {kind: i for i, kind in enumerate(ORDER)}
    for res in sorted(resources, key=lambda r: rank.get(r.kind, len(ORDER))):
        label = f"{res.kind} {res.id}"
        try:
            if _delete_one(aws, res, timeout):
                report.deleted.append(label)
            else:
                report.already_gone.append(label)
            ledger.mark_deleted(res.kind, res.id)
        except BucketInUse:
            report.kept.append(f"{label} (holds objects of other runs)")
            ledger.mark_deleted(res.kind, res.id)
        except Exception as exc:
            code = error_code(exc) or type(exc).__name__
            report.failed.append(f"{label}: {code}: {exc}")
    topics = _topic_arns(aws) if any(r.kind == "sns:topic" for r in resources) else None
    kept = {k.split(" (")[0] for k in report.kept}
    for res in resources:
        if f"{res.kind} {res.id}" in kept:
            continue
        report.checked += 1
        try:
            if _still_there(aws, res, topics):
                report.remaining.append(f"{res.kind} {res.id}")
        except Exception as exc:
            if not is_not_found(exc):
                report.remaining.append(f"{res.kind} {res.id} (check failed: {exc})")
    return report


class CleanupArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timeout: float = Field(default=900.0, gt=0)


@action("cleanup", args=CleanupArgs)
def cleanup(args: CleanupArgs, ctx: StepContext) -> ActionOutput:
    """Delete everything the run created (ledger order) and fail if listing finds any left."""
    waiter = ctx.run.shared.get("sagemaker.waiter")
    if waiter is not None:
        waiter.stop()  # its queue is about to go
    if not ctx.run.ledger.all():
        return ActionOutput(CleanupReport().to_dict(), evidence={"deleted": 0, "remaining": 0})
    report = cleanup_ledger(ctx.run.ledger, clients(ctx), timeout=args.timeout)
    value = report.to_dict()
    evidence = {"deleted": len(report.deleted), "remaining": len(report.remaining)}
    if report.remaining or report.failed:
        raise ActionError(
            f"cleanup left {len(report.remaining)} resource(s), {len(report.failed)} failure(s): "
            + "; ".join(report.remaining + report.failed)[:1000],
            code="ResourcesRemain",
            evidence=value,
        )
    return ActionOutput(value, evidence=evidence)


@action("sagemaker.cleanup", args=CleanupArgs)
def sagemaker_cleanup(args: CleanupArgs, ctx: StepContext) -> ActionOutput:
    """Alias of `cleanup` (DESIGN.md's spelling)."""
    return cleanup(args, ctx)


def _reachable(url: str) -> bool:
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), 2):
            return True
    except OSError:
        return False


def cleanup_ledger_file(
    path: Path, *, endpoint_url: str | None = None, region: str | None = None
) -> tuple[CleanupReport | None, str]:
    """`checkrun cleanup LEDGER`: clean what a (killed) run left; returns (report, summary line).

    The ledger's `meta.aws` says where the run pointed (target, region,
    endpoint_url); options override it. A local-target run whose embedded stack
    died with it left nothing behind: report None. `path` may be the run's report
    folder. Missing credentials or an unreachable endpoint are one CleanupError
    line, found by one quick STS call before anything is deleted.
    """
    import json

    from runner.actions.aws import aws_errors, make_clients
    from runner.errors import CleanupError, UsageError

    if path.is_dir():
        path = path / "ledger.json"
    try:
        ledger = Ledger.load(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"cannot read ledger {path}: {exc}") from exc
    meta = ledger.meta.get("aws") or {}
    target = str(meta.get("target") or "aws")
    url = endpoint_url or meta.get("endpoint_url")
    if not ledger.pending():
        return CleanupReport(), f"{path}: nothing to clean (every resource already deleted)"
    if target == "local" and endpoint_url is None and (not url or not _reachable(str(url))):
        return None, (
            f"{path}: the run used the embedded local stack, which stopped with it; nothing remains"
        )
    aws = make_clients(
        target="local" if target == "local" else "aws",
        region=region or meta.get("region"),
        endpoint_url=url,
    )
    quick = {"retries": {"mode": "standard", "max_attempts": 2}, "connect_timeout": 5}
    try:
        with aws_errors(f"reach AWS ({url or 'region ' + aws.region})"):
            aws.client("sts", **quick).get_caller_identity()
    except ActionError as exc:
        raise CleanupError(
            f"cannot clean {path}: {exc.message}; nothing was deleted (check credentials, "
            "region and --endpoint-url, then run it again)",
            remaining=ledger.pending(),
        ) from exc
    report = cleanup_ledger(ledger, aws)
    summary = json.dumps(report.to_dict(), indent=2)
    return report, summary

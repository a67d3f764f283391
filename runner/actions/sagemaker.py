"""SageMaker control-plane step types: deploy (async or real-time), describe, delete.

The family's other modules are imported at the bottom so one entry point loads it
all: `sagemaker_package` (package_model), `sagemaker_runtime` (invoke_async,
invoke, wait_result), `cleanup` (sagemaker.cleanup). Names derive from the
endpoint name, which carries the run id (`sagemaker_names`); each resource is
written to the ledger before it is created, and tagged with the run id.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from runner.actions import s3 as s3_actions
from runner.actions.aws import (
    AwsClients,
    aws_errors,
    call,
    clients,
    is_not_found,
    jsonable,
    stop_event,
)
from runner.actions.registry import ActionOutput, action
from runner.actions.sagemaker_names import derived_name, sm_tags
from runner.actions.sagemaker_notify import setup_notifications
from runner.engine.context import StepContext
from runner.errors import ActionError

ENDPOINTS_KEY = "sagemaker.endpoints"  # ctx.run.shared: endpoint name -> EndpointInfo dict
LOCAL_IMAGE = "checkrun/local-inference:latest"  # the local stack ignores the image


# -- deploy ----------------------------------------------------------------------------------


class DeployArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    endpoint: str
    model_data: str
    image: str | None = None  # required on AWS: a framework inference image for the region
    role_arn: str | None = None  # required on AWS
    instance_type: str = "ml.m5.large"
    instance_count: int = Field(default=1, ge=1)
    environment: dict[str, str] = Field(default_factory=dict)
    wait: bool = True
    timeout: float = Field(default=1800.0, gt=0)


class DeployAsyncArgs(DeployArgs):
    output_path: str
    failure_path: str | None = None  # default: <output_path>-failures/
    input_path: str | None = None  # where invoke_async uploads inputs; default: <bucket>/...-input/
    notifications: bool = True  # SNS success/error topics + an SQS queue the runner listens on
    include_response: bool = True  # IncludeInferenceResponseIn both topics (<= 128 KB bodies)
    max_concurrent_invocations: int = Field(default=4, ge=1, le=1000)
    info_file: str = "async_endpoint_info.json"


def _role_arn(args: DeployArgs, aws: AwsClients) -> str:
    if args.role_arn:
        return args.role_arn
    if aws.target == "aws" and not aws.endpoint_url:
        raise ActionError(
            "role_arn is required on AWS (an execution role that can read the model and write "
            "the output paths)",
            code="MissingRoleArn",
        )
    return f"arn:aws:iam::{aws.account}:role/checkrun-local-execution"


def _image(args: DeployArgs, aws: AwsClients) -> str:
    if args.image:
        return args.image
    if aws.target == "aws" and not aws.endpoint_url:
        raise ActionError(
            "image is required on AWS (a framework inference image URI for the region)",
            code="MissingImage",
        )
    return LOCAL_IMAGE


def create_model_and_config(
    ctx: StepContext, args: DeployArgs, async_config: dict[str, Any] | None
) -> tuple[str, str]:
    """CreateModel + CreateEndpointConfig (ledgered first); returns their names."""
    aws = clients(ctx)
    sm = aws.client("sagemaker")
    model_name = derived_name(args.endpoint, "-model")
    config_name = derived_name(args.endpoint, "-config")
    ctx.run.ledger.record("sagemaker:model", model_name, aws.region)
    call(
        f"create model {model_name}",
        sm.create_model,
        ModelName=model_name,
        PrimaryContainer={
            "Image": _image(args, aws),
            "ModelDataUrl": args.model_data,
            "Environment": args.environment,
        },
        ExecutionRoleArn=_role_arn(args, aws),
        Tags=sm_tags(ctx),
    )
    ctx.run.ledger.record("sagemaker:endpoint-config", config_name, aws.region)
    config: dict[str, Any] = {
        "EndpointConfigName": config_name,
        "ProductionVariants": [
            {
                "VariantName": "AllTraffic",
                "ModelName": model_name,
                "InstanceType": args.instance_type,
                "InitialInstanceCount": args.instance_count,
            }
        ],
        "Tags": sm_tags(ctx),
    }
    if async_config is not None:
        config["AsyncInferenceConfig"] = async_config
    call(f"create endpoint config {config_name}", sm.create_endpoint_config, **config)
    return model_name, config_name


def create_endpoint(ctx: StepContext, endpoint: str, config_name: str) -> None:
    aws = clients(ctx)
    ctx.run.ledger.record("sagemaker:endpoint", endpoint, aws.region)
    call(
        f"create endpoint {endpoint}",
        aws.client("sagemaker").create_endpoint,
        EndpointName=endpoint,
        EndpointConfigName=config_name,
        Tags=sm_tags(ctx),
    )


def wait_in_service(ctx: StepContext, endpoint: str, timeout: float) -> dict[str, Any]:
    """Poll DescribeEndpoint (100 ms growing to 15 s) until InService; Failed raises."""
    sm = clients(ctx).client("sagemaker")
    clock = ctx.run.clock
    start = clock.monotonic()
    limit = min(timeout, ctx.remaining() or timeout)
    delay, last = 0.1, ""
    while True:
        desc = call(f"describe endpoint {endpoint}", sm.describe_endpoint, EndpointName=endpoint)
        status = desc["EndpointStatus"]
        elapsed = clock.monotonic() - start
        if status != last:
            ctx.progress(f"endpoint {endpoint}: {status}", status=status, elapsed=round(elapsed, 1))
            last = status
        if status == "InService":
            return dict(jsonable(desc))
        if status in ("Failed", "OutOfService", "Deleting"):
            reason = desc.get("FailureReason") or "no FailureReason given"
            raise ActionError(
                f"endpoint {endpoint} is {status}: {reason}",
                code="EndpointFailed",
                evidence={"endpoint": endpoint, "status": status, "failure_reason": reason},
            )
        if elapsed >= limit or ctx.cancelled:
            raise ActionError(
                f"endpoint {endpoint} still {status} after {elapsed:.0f}s", code="Timeout"
            )
        clock.sleep(min(delay, limit - elapsed), stop_event(ctx))
        delay = min(delay * 1.5, 15.0)


def _prefix(uri: str) -> str:
    return uri if uri.endswith("/") else uri + "/"


@action("sagemaker.deploy_async", args=DeployAsyncArgs)
def deploy_async(args: DeployAsyncArgs, ctx: StepContext) -> ActionOutput:
    """Model + endpoint config with AsyncInferenceConfig + endpoint; waits for InService."""
    aws = clients(ctx)
    start = ctx.run.clock.monotonic()
    out_bucket, _ = s3_actions.parse_uri(args.output_path)
    s3_actions.ensure_bucket(ctx, out_bucket)
    output_path = _prefix(args.output_path)
    failure_path = _prefix(args.failure_path or output_path.rstrip("/") + "-failures")
    input_path = _prefix(
        args.input_path or f"s3://{out_bucket}/async-inference-input/{ctx.run.run_id}"
    )
    for path in (output_path, failure_path, input_path):
        ctx.run.ledger.record("s3:prefix", path, aws.region)
    notify = setup_notifications(ctx, args.endpoint) if args.notifications else {}
    output_config: dict[str, Any] = {"S3OutputPath": output_path, "S3FailurePath": failure_path}
    if notify:
        notification: dict[str, Any] = {
            "SuccessTopic": notify["success_topic"],
            "ErrorTopic": notify["error_topic"],
        }
        if args.include_response:
            notification["IncludeInferenceResponseIn"] = [
                "SUCCESS_NOTIFICATION_TOPIC",
                "ERROR_NOTIFICATION_TOPIC",
            ]
        output_config["NotificationConfig"] = notification
    async_config = {
        "ClientConfig": {"MaxConcurrentInvocationsPerInstance": args.max_concurrent_invocations},
        "OutputConfig": output_config,
    }
    model_name, config_name = create_model_and_config(ctx, args, async_config)
    created_at = ctx.run.clock.now().isoformat()
    create_endpoint(ctx, args.endpoint, config_name)
    info = {
        "created_at": created_at,
        "endpoint_name": args.endpoint,
        "endpoint_config_name": config_name,
        "model_name": model_name,
        "model_data": args.model_data,
        "region": aws.region,
        "instance_type": args.instance_type,
        "instance_count": args.instance_count,
        "async_config": {
            "s3_output_path": output_path,
            "s3_failure_path": failure_path,
            "s3_input_path": input_path,
            "sns_topic_arn": notify.get("success_topic"),
            "error_topic_arn": notify.get("error_topic"),
            "queue_url": notify.get("queue_url"),
            "subscriptions": notify.get("subscriptions", []),
            "max_concurrent_invocations": args.max_concurrent_invocations,
        },
    }
    ctx.run.shared.setdefault(ENDPOINTS_KEY, {})[args.endpoint] = info
    desc = wait_in_service(ctx, args.endpoint, args.timeout) if args.wait else {}
    info["endpoint_arn"] = desc.get("EndpointArn")
    info_path = ctx.run.report_dir / args.info_file
    info_path.parent.mkdir(parents=True, exist_ok=True)
    info_path.write_text(json.dumps(info, indent=2), encoding="utf-8")
    accessible = output_path_accessible(ctx, output_path)
    seconds = round(ctx.run.clock.monotonic() - start, 3)
    value = dict(desc) | {
        "ModelName": model_name,
        "created_at": created_at,
        "async_config": info["async_config"],
        "info_file": str(info_path),
        "info_file_exists": info_path.is_file(),
        "output_path_accessible": accessible is None,
        "output_path_error": accessible,
        "deploy_seconds": seconds,
    }
    evidence = {"endpoint": args.endpoint, "deploy_seconds": seconds, "info_file": str(info_path)}
    return ActionOutput(value, evidence=evidence | {"sns_topic": notify.get("success_topic")})


def output_path_accessible(ctx: StepContext, output_path: str) -> str | None:
    """None if the run can list the output prefix (where results land), else why not."""
    bucket, prefix = s3_actions.parse_uri(output_path)
    try:
        with aws_errors(f"list {output_path}"):
            clients(ctx).client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
    except ActionError as exc:
        return f"{exc.code}: {exc.message}"
    return None


@action("sagemaker.deploy", args=DeployArgs)
def deploy(args: DeployArgs, ctx: StepContext) -> ActionOutput:
    """A real-time endpoint (model, config, endpoint); waits for InService."""
    start = ctx.run.clock.monotonic()
    model_name, config_name = create_model_and_config(ctx, args, None)
    create_endpoint(ctx, args.endpoint, config_name)
    ctx.run.shared.setdefault(ENDPOINTS_KEY, {})[args.endpoint] = {
        "endpoint_name": args.endpoint,
        "endpoint_config_name": config_name,
        "model_name": model_name,
    }
    desc = wait_in_service(ctx, args.endpoint, args.timeout) if args.wait else {}
    seconds = round(ctx.run.clock.monotonic() - start, 3)
    value = dict(desc) | {"ModelName": model_name, "deploy_seconds": seconds}
    return ActionOutput(value, evidence={"endpoint": args.endpoint, "deploy_seconds": seconds})


# -- describe / delete -----------------------------------------------------------------------


class EndpointArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    endpoint: str


class ConfigArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    endpoint: str | None = None  # the config is <endpoint>-config ...
    name: str | None = None  # ... unless named here


@action("sagemaker.describe_endpoint", args=EndpointArgs)
def describe_endpoint(args: EndpointArgs, ctx: StepContext) -> dict[str, Any]:
    """DescribeEndpoint, JSON-able."""
    sm = clients(ctx).client("sagemaker")
    desc = call(
        f"describe endpoint {args.endpoint}", sm.describe_endpoint, EndpointName=args.endpoint
    )
    return dict(jsonable(desc))


@action("sagemaker.describe_endpoint_config", args=ConfigArgs)
def describe_endpoint_config(args: ConfigArgs, ctx: StepContext) -> dict[str, Any]:
    """DescribeEndpointConfig (by name, or the endpoint's own config)."""
    sm = clients(ctx).client("sagemaker")
    if args.name:
        name = args.name
    elif args.endpoint:
        desc = call("describe endpoint", sm.describe_endpoint, EndpointName=args.endpoint)
        name = desc["EndpointConfigName"]
    else:
        raise ActionError("give `endpoint` or `name`", code="InvalidArguments")
    cfg = call(
        f"describe endpoint config {name}", sm.describe_endpoint_config, EndpointConfigName=name
    )
    return dict(jsonable(cfg))


class DeleteArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    endpoint: str
    config: bool = True  # also delete <endpoint>-config
    model: bool = True  # also delete <endpoint>-model
    timeout: float = Field(default=900.0, gt=0)


def not_found(func: Any, **kwargs: Any) -> bool:
    """Call `func`: True if AWS says the resource does not exist; other errors raise."""
    try:
        func(**kwargs)
    except Exception as exc:
        if is_not_found(exc):
            return True
        raise
    return False


def delete_endpoint_and_wait(aws: AwsClients, endpoint: str, timeout: float, clock: Any) -> bool:
    """DeleteEndpoint, then wait until DescribeEndpoint no longer finds it; False if it was gone."""
    sm = aws.client("sagemaker")
    if not_found(sm.delete_endpoint, EndpointName=endpoint):
        return False
    start, delay = clock.monotonic(), 0.1
    while clock.monotonic() - start < timeout:
        if not_found(sm.describe_endpoint, EndpointName=endpoint):
            return True
        clock.sleep(delay)
        delay = min(delay * 1.5, 10.0)
    raise ActionError(f"endpoint {endpoint} still exists {timeout:g}s after delete", code="Timeout")


@action("sagemaker.delete", args=DeleteArgs)
def delete(args: DeleteArgs, ctx: StepContext) -> ActionOutput:
    """Delete an endpoint (waits until it is gone) and, by default, its config and model."""
    aws = clients(ctx)
    sm = aws.client("sagemaker")
    start = ctx.run.clock.monotonic()
    deleted: list[str] = []
    from runner.actions.aws import aws_errors

    with aws_errors(f"delete endpoint {args.endpoint}"):
        if delete_endpoint_and_wait(aws, args.endpoint, args.timeout, ctx.run.clock):
            deleted.append(f"endpoint:{args.endpoint}")
        ctx.run.ledger.mark_deleted("sagemaker:endpoint", args.endpoint)
        for wanted, kind, suffix, func, key in (
            (
                args.config,
                "endpoint-config",
                "-config",
                sm.delete_endpoint_config,
                "EndpointConfigName",
            ),
            (args.model, "model", "-model", sm.delete_model, "ModelName"),
        ):
            if not wanted:
                continue
            name = derived_name(args.endpoint, suffix)
            if not not_found(func, **{key: name}):
                deleted.append(f"{kind}:{name}")
            ctx.run.ledger.mark_deleted(f"sagemaker:{kind}", name)
    seconds = round(ctx.run.clock.monotonic() - start, 3)
    return ActionOutput({"deleted": deleted, "seconds": seconds}, evidence={"deleted": deleted})


# Importing these registers the rest of the family (package, invoke, sagemaker.cleanup).
from runner.actions import cleanup as _cleanup  # noqa: E402
from runner.actions import sagemaker_package as _package  # noqa: E402
from runner.actions import sagemaker_runtime as _runtime  # noqa: E402

__all__ = ["_cleanup", "_package", "_runtime"]

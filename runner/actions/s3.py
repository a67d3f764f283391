"""S3 step types: bucket, put (bytes, file or rendered image), get, head, list, delete, wait.

Every object or bucket a step creates goes into the run's ledger first, so
`cleanup` (or `checkrun cleanup LEDGER`) removes it even if the run is killed.
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from runner.actions.aws import (
    aws_errors,
    call,
    clients,
    error_code,
    is_not_found,
    jsonable,
    stop_event,
)
from runner.actions.registry import ActionOutput, action, exactly_one
from runner.engine.context import StepContext
from runner.errors import ActionError


def parse_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key); a clear error for anything else."""
    if not uri.startswith("s3://") or len(uri) <= 5:
        raise ActionError(f"not an S3 URI: {uri!r} (expected s3://bucket/key)", code="InvalidS3Uri")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise ActionError(f"S3 URI without a bucket: {uri!r}", code="InvalidS3Uri")
    return bucket, key


def parse_body(body: bytes, content_type: str | None) -> Any:
    """An object's content decoded by its content type (JSON, text, else a size note)."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype.endswith("json") or ctype == "":
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError):
            if ctype:
                raise
    if ctype.startswith("text/") or ctype in ("", "application/x-text"):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}


class ObjectRef(BaseModel):
    """Either `uri: s3://bucket/key` or `bucket` + `key`."""

    model_config = ConfigDict(extra="forbid")
    uri: str | None = None
    bucket: str | None = None
    key: str | None = None

    def location(self) -> tuple[str, str]:
        if self.uri:
            return parse_uri(self.uri)
        if not self.bucket:
            raise ActionError("give `uri` or `bucket` (+ `key`)", code="InvalidArguments")
        return self.bucket, self.key or ""


class ImageSpec(BaseModel):
    """An image rendered at run time: `source` resized to width x height (a large payload)."""

    model_config = ConfigDict(extra="forbid")
    source: str
    width: int = Field(gt=0, le=20000)
    height: int = Field(gt=0, le=20000)
    format: str = "JPEG"
    quality: int = Field(default=92, ge=1, le=100)


class PutArgs(ObjectRef):
    body: str | None = None
    body_file: str | None = None
    image: ImageSpec | None = None
    content_type: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_source(self) -> PutArgs:
        exactly_one(self, "body", "body_file", "image")
        return self


def render_image(spec: ImageSpec, ctx: StepContext) -> bytes:
    from PIL import Image

    with Image.open(ctx.run.resolve_path(spec.source)) as src:
        big = src.convert("RGB").resize((spec.width, spec.height), Image.Resampling.BICUBIC)
    out = io.BytesIO()
    big.save(out, spec.format, quality=spec.quality)
    return out.getvalue()


def payload_bytes(args: PutArgs, ctx: StepContext) -> tuple[bytes, str]:
    """The bytes to upload and their content type."""
    if args.image is not None:
        fmt = args.image.format.lower()
        return render_image(args.image, ctx), args.content_type or f"image/{fmt}"
    data, ctype, _ = read_body(ctx, args.body, args.body_file, args.content_type, "text/plain")
    return data, ctype


def read_body(
    ctx: StepContext,
    body: str | None,
    body_file: str | None,
    content_type: str | None,
    default_type: str,
) -> tuple[bytes, str, str]:
    """`body_file`'s bytes (relative to the checklist) or `body`'s text, their content type
    (given, else guessed from the file name, else `default_type`) and a name for an upload."""
    if body_file is not None:
        path = ctx.run.resolve_path(body_file)
        if not path.is_file():
            raise ActionError(f"body_file not found: {path}", code="FileNotFound")
        return path.read_bytes(), content_type or guess_type(path.name), path.name
    return str(body).encode(), content_type or default_type, "body"


def guess_type(name: str) -> str:
    import mimetypes

    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def run_tags(ctx: StepContext, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Tags on everything a run creates, so parallel runs are told apart."""
    return {"checkrun:run-id": ctx.run.run_id, **(extra or {})}


def upload(
    ctx: StepContext, bucket: str, key: str, data: bytes, content_type: str, **extra: Any
) -> dict[str, Any]:
    """Put one object, recorded in the ledger before it exists."""
    aws = clients(ctx)
    ctx.run.ledger.record("s3:object", f"s3://{bucket}/{key}", aws.region, bucket=bucket, key=key)
    tagging = "&".join(f"{k}={v}" for k, v in run_tags(ctx, extra.pop("tags", None)).items())
    resp = call(
        f"put s3://{bucket}/{key}",
        aws.client("s3").put_object,
        Bucket=bucket,
        Key=key,
        Body=data,
        ContentType=content_type,
        Tagging=tagging,
        **extra,
    )
    return {
        "uri": f"s3://{bucket}/{key}",
        "bucket": bucket,
        "key": key,
        "size": len(data),
        "content_type": content_type,
        "etag": resp.get("ETag", "").strip('"'),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def ensure_bucket(ctx: StepContext, bucket: str) -> bool:
    """Create `bucket` if missing (ledgered); True if this run created it."""
    aws = clients(ctx)
    s3 = aws.client("s3")
    try:
        s3.head_bucket(Bucket=bucket)
        return False
    except Exception as exc:
        if error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            with aws_errors(f"head bucket {bucket}"):
                raise
    ctx.run.ledger.record("s3:bucket", bucket, aws.region)
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if aws.region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": aws.region}
    with aws_errors(f"create bucket {bucket}"):
        try:
            s3.create_bucket(**kwargs)
        except Exception as exc:
            if error_code(exc) != "BucketAlreadyOwnedByYou":
                raise
    return True


class BucketArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bucket: str


@action("s3.bucket", args=BucketArgs)
def bucket_action(args: BucketArgs, ctx: StepContext) -> dict[str, Any]:
    """Make sure a bucket exists (created and ledgered if missing)."""
    created = ensure_bucket(ctx, args.bucket)
    return {"bucket": args.bucket, "created": created}


@action("s3.put", args=PutArgs)
def put(args: PutArgs, ctx: StepContext) -> ActionOutput:
    """Upload `body`, `body_file` or a rendered `image` to S3."""
    bucket, key = args.location()
    data, ctype = payload_bytes(args, ctx)
    out = upload(ctx, bucket, key, data, ctype, tags=args.tags)
    return ActionOutput(out, evidence={"uri": out["uri"], "size": out["size"]})


@action("s3.get", args=ObjectRef)
def get(args: ObjectRef, ctx: StepContext) -> dict[str, Any]:
    """Download an object; `body` is parsed by its content type."""
    bucket, key = args.location()
    resp = call(
        f"get s3://{bucket}/{key}", clients(ctx).client("s3").get_object, Bucket=bucket, Key=key
    )
    data = resp["Body"].read()
    ctype = resp.get("ContentType")
    return {
        "uri": f"s3://{bucket}/{key}",
        "size": len(data),
        "content_type": ctype,
        "body": parse_body(data, ctype),
    }


@action("s3.head", args=ObjectRef)
def head(args: ObjectRef, ctx: StepContext) -> dict[str, Any]:
    """Object metadata; `exists: false` (no error) when it is not there."""
    bucket, key = args.location()
    try:
        resp = clients(ctx).client("s3").head_object(Bucket=bucket, Key=key)
    except Exception as exc:
        if is_not_found(exc):
            return {"uri": f"s3://{bucket}/{key}", "exists": False}
        with aws_errors(f"head s3://{bucket}/{key}"):
            raise
    return {"uri": f"s3://{bucket}/{key}", "exists": True, **jsonable(resp)}


class ListArgs(ObjectRef):
    prefix: str | None = None
    max_keys: int = Field(default=1000, ge=1, le=100000)


@action("s3.list", args=ListArgs)
def list_objects(args: ListArgs, ctx: StepContext) -> dict[str, Any]:
    """Keys under a prefix: {count, keys, objects}."""
    bucket, key = args.location()
    prefix = args.prefix if args.prefix is not None else key
    objects = list_keys(clients(ctx), bucket, prefix, limit=args.max_keys)
    return {
        "bucket": bucket,
        "prefix": prefix,
        "count": len(objects),
        "keys": [o["Key"] for o in objects],
        "objects": jsonable(objects),
    }


def list_keys(aws: Any, bucket: str, prefix: str, limit: int = 100000) -> list[dict[str, Any]]:
    """Every object under a prefix (paginated); [] when the bucket is gone."""
    out: list[dict[str, Any]] = []
    try:
        for page in (
            aws.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        ):
            out.extend(page.get("Contents", []))
            if len(out) >= limit:
                return out[:limit]
    except Exception as exc:
        if is_not_found(exc):
            return []
        with aws_errors(f"list s3://{bucket}/{prefix}"):
            raise
    return out


class DeleteArgs(ObjectRef):
    prefix: str | None = None  # delete everything under it


@action("s3.delete", args=DeleteArgs)
def delete(args: DeleteArgs, ctx: StepContext) -> dict[str, Any]:
    """Delete one object, or every object under `prefix`; missing objects are fine."""
    aws = clients(ctx)
    bucket, key = args.location()
    if args.prefix is not None:
        keys = [o["Key"] for o in list_keys(aws, bucket, args.prefix)]
    else:
        keys = [key]
    deleted = delete_keys(aws, bucket, keys)
    for k in keys:
        ctx.run.ledger.mark_deleted("s3:object", f"s3://{bucket}/{k}")
    return {"bucket": bucket, "deleted": deleted}


def delete_keys(aws: Any, bucket: str, keys: list[str]) -> int:
    """Batch-delete keys (1000 a request); returns how many were asked to go."""
    s3 = aws.client("s3")
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        try:
            s3.delete_objects(
                Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
            )
        except Exception as exc:
            if is_not_found(exc):
                return 0
            with aws_errors(f"delete from s3://{bucket}"):
                raise
    return len(keys)


class WaitObjectArgs(ObjectRef):
    timeout: float = Field(default=300.0, gt=0)


@action("s3.wait_object", args=WaitObjectArgs)
def wait_object(args: WaitObjectArgs, ctx: StepContext) -> ActionOutput:
    """Wait until an object exists (HEAD with adaptive backoff: 50 ms growing to 5 s)."""
    bucket, key = args.location()
    s3 = clients(ctx).client("s3")
    clock = ctx.run.clock
    start = clock.monotonic()
    limit = min(args.timeout, ctx.remaining() or args.timeout)
    attempts = 0
    while True:
        attempts += 1
        try:
            resp = s3.head_object(Bucket=bucket, Key=key)
            elapsed = clock.monotonic() - start
            value = {"uri": f"s3://{bucket}/{key}", "exists": True, **jsonable(resp)}
            return ActionOutput(
                value, evidence={"attempts": attempts, "elapsed": round(elapsed, 3)}
            )
        except Exception as exc:
            if not is_not_found(exc):
                with aws_errors(f"head s3://{bucket}/{key}"):
                    raise
        elapsed = clock.monotonic() - start
        if elapsed >= limit or ctx.cancelled:
            raise ActionError(
                f"s3://{bucket}/{key} did not appear within {limit:g}s",
                code="Timeout",
                evidence={"attempts": attempts, "elapsed": round(elapsed, 3)},
            )
        clock.sleep(min(max(0.05, elapsed * 0.1), 5.0, limit - elapsed), stop_event(ctx))

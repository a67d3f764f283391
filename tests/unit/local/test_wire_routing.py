"""Recognising AWS requests: signing scope and operation names, for routing and faults."""

from __future__ import annotations

import io

import pytest

from runner.local import wire


def _environ(**kw: object) -> dict:
    base: dict = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "wsgi.input": io.BytesIO(),
    }
    base.update(kw)
    return base


def test_signing_scope() -> None:
    auth = (
        "AWS4-HMAC-SHA256 Credential=testing/20240101/eu-west-1/sagemaker/aws4_request, "
        "SignedHeaders=host, Signature=abc"
    )
    assert wire.signing_scope(_environ(HTTP_AUTHORIZATION=auth)) == (
        "sagemaker",
        "eu-west-1",
        "testing",
    )
    assert wire.signing_scope(_environ()) == ("s3", None, None)


@pytest.mark.parametrize(
    ("environ", "service", "operation"),
    [
        (_environ(HTTP_X_AMZ_TARGET="SageMaker.CreateEndpoint"), "sagemaker", "CreateEndpoint"),
        (_environ(PATH_INFO="/service/GraniteServiceVersion20100801/operation/PutMetricData"),
         "monitoring", "PutMetricData"),
        (_environ(PATH_INFO="/bucket/key.json"), "s3", "GetObject"),
        (_environ(REQUEST_METHOD="PUT", PATH_INFO="/bucket/key.json"), "s3", "PutObject"),
        (_environ(PATH_INFO="/bucket", QUERY_STRING="list-type=2"), "s3", "ListObjectsV2"),
        (_environ(REQUEST_METHOD="PUT", PATH_INFO="/bucket"), "s3", "CreateBucket"),
    ],
)  # fmt: skip
def test_operation_names(environ: dict, service: str, operation: str) -> None:
    assert wire.operation_name(environ, service) == operation


def test_query_protocol_action_is_read_and_the_body_put_back() -> None:
    body = b"Action=Publish&TopicArn=arn"
    environ = _environ(
        REQUEST_METHOD="POST",
        CONTENT_TYPE="application/x-www-form-urlencoded; charset=utf-8",
        CONTENT_LENGTH=str(len(body)),
        **{"wsgi.input": io.BytesIO(body)},
    )
    assert wire.operation_name(environ, "sns") == "Publish"
    assert environ["wsgi.input"].read() == body


def test_runtime_paths() -> None:
    match = wire.RUNTIME_PATH.match("/endpoints/my-ep/async-invocations")
    assert match is not None and match.groups() == ("my-ep", "async-invocations")
    assert wire.RUNTIME_PATH.match("/endpoints/my-ep") is None

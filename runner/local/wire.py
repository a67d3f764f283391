"""Reading AWS requests and writing AWS error responses at the WSGI level.

The dispatcher needs to know, for every request, which service and operation it is (to route
runtime calls and to apply faults) without parsing more than necessary: the signing scope in
the Authorization header names service and region; the operation comes from `X-Amz-Target`
(JSON protocols), the path (rpc-v2-cbor, REST), or the `Action` form field (query protocols).
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

StartResponse = Callable[..., Any]
WsgiEnviron = dict[str, Any]

_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
RUNTIME_PATH = re.compile(r"^/endpoints/([^/]+)/(invocations|async-invocations)$")


def signing_scope(environ: WsgiEnviron) -> tuple[str, str | None, str | None]:
    """(service, region, access key) from the SigV4 Authorization header; 's3' when unsigned."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = _SCOPE.search(auth)
    if not match:
        return "s3", None, None
    return match.group(3), match.group(2), match.group(1)


def read_body(environ: WsgiEnviron) -> bytes:
    """Read the request body and put it back so the next app can read it again."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


_S3_BY_METHOD = {
    "GET": "GetObject",
    "PUT": "PutObject",
    "HEAD": "HeadObject",
    "DELETE": "DeleteObject",
    "POST": "PostObject",
}


def operation_name(environ: WsgiEnviron, service: str) -> str:
    """Best-effort operation name of an AWS request (used to match fault rules)."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rsplit(".", 1)[-1]
    path = environ.get("PATH_INFO", "")
    if "/operation/" in path:  # smithy rpc-v2-cbor (CloudWatch)
        return path.rsplit("/", 1)[-1]
    method = environ.get("REQUEST_METHOD", "GET")
    if service == "s3":
        query = environ.get("QUERY_STRING", "")
        key = path.strip("/").partition("/")[2]
        if not key:
            if method == "GET":
                return "ListObjectsV2" if "list-type=2" in query else "ListObjects"
            return {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket"}.get(
                method, "BucketOperation"
            )
        return _S3_BY_METHOD.get(method, "ObjectOperation")
    if method == "POST" and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        form = parse_qs(read_body(environ).decode("utf-8", "replace"))
        return form.get("Action", ["Unknown"])[0]
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    return action[0] if action else "Unknown"


def respond(
    start_response: StartResponse,
    status: int,
    body: bytes,
    headers: Iterable[tuple[str, str]] = (),
) -> list[bytes]:
    """Send a complete response."""
    reason = _REASONS.get(status, "Status")
    all_headers = [("Content-Length", str(len(body))), *headers]
    start_response(f"{status} {reason}", all_headers)
    return [body]


_REASONS = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    404: "Not Found",
    413: "Payload Too Large",
    424: "Failed Dependency",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def json_error(
    start_response: StartResponse,
    status: int,
    code: str,
    message: str,
    extra: dict[str, Any] | None = None,
) -> list[bytes]:
    """An error as the JSON and REST-JSON protocols send it (code in x-amzn-ErrorType)."""
    payload: dict[str, Any] = {"__type": code, "message": message, "Message": message}
    payload.update(extra or {})
    return respond(
        start_response,
        status,
        json.dumps(payload).encode("utf-8"),
        [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("x-amzn-ErrorType", code),
            ("x-amzn-RequestId", str(uuid.uuid4())),
        ],
    )


def xml_error(start_response: StartResponse, status: int, code: str, message: str) -> list[bytes]:
    """An error as S3 (<Error>) and the query protocols (<ErrorResponse>) send it."""
    request_id = str(uuid.uuid4())
    body = (
        f"<ErrorResponse><Error><Type>{'Receiver' if status >= 500 else 'Sender'}</Type>"
        f"<Code>{code}</Code><Message>{message}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
    return respond(
        start_response,
        status,
        body,
        [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)],
    )


def s3_error(start_response: StartResponse, status: int, code: str, message: str) -> list[bytes]:
    body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
    return respond(start_response, status, body, [("Content-Type", "application/xml")])


def protocol_of(environ: WsgiEnviron, service: str) -> str:
    """'json' (JSON / REST-JSON / rpc-v2-cbor error bodies are JSON-shaped), 's3' or 'query'."""
    if service == "s3":
        return "s3"
    if environ.get("HTTP_X_AMZ_TARGET") or service in ("sagemaker-runtime", "sagemaker"):
        return "json"
    return "query"


def fault_error(
    environ: WsgiEnviron, start_response: StartResponse, service: str, status: int
) -> list[bytes]:
    """A throttling (status 400/503 by protocol) or server error in the service's own format."""
    protocol = protocol_of(environ, service)
    throttle = status < 500
    if protocol == "s3":
        if throttle:
            return s3_error(start_response, 503, "SlowDown", "Please reduce your request rate.")
        return s3_error(start_response, status, "InternalError", "Injected fault.")
    if protocol == "json":
        if throttle:
            return json_error(start_response, 400, "ThrottlingException", "Rate exceeded")
        return json_error(start_response, status, "InternalFailure", "Injected fault.")
    if throttle:
        return xml_error(start_response, 400, "Throttling", "Rate exceeded")
    return xml_error(start_response, status, "InternalFailure", "Injected fault.")

"""Pure helpers of the AWS action families: derived names, S3 URIs, body parsing, error codes."""

from __future__ import annotations

import pytest

from runner.actions.aws import is_not_found, jsonable
from runner.actions.s3 import parse_body, parse_uri
from runner.actions.sagemaker_names import MAX_NAME, derived_name
from runner.actions.sagemaker_runtime import max_overlap
from runner.errors import ActionError


def test_derived_names_keep_the_suffix_within_sagemakers_limit() -> None:
    assert derived_name("ep-1", "-config") == "ep-1-config"
    long = "stylematch-async-" + "x" * 60
    name = derived_name(long, "-config")
    assert len(name) == MAX_NAME and name.endswith("-config")
    assert derived_name(long, "-config") == name  # stable
    assert derived_name(long + "y", "-config") != name  # distinct endpoints stay distinct


def test_parse_uri_splits_bucket_and_key_and_rejects_others() -> None:
    assert parse_uri("s3://b/a/b.out") == ("b", "a/b.out")
    assert parse_uri("s3://b") == ("b", "")
    with pytest.raises(ActionError) as info:
        parse_uri("https://b/x")
    assert info.value.code == "InvalidS3Uri"


def test_parse_body_by_content_type() -> None:
    assert parse_body(b'{"a": 1}', "application/json") == {"a": 1}
    assert parse_body(b"hello", "text/plain; charset=utf-8") == "hello"
    assert parse_body(b'{"a": 1}', None) == {"a": 1}
    binary = parse_body(b"\xff\xd8\xff", "image/jpeg")
    assert binary["bytes"] == 3 and len(binary["sha256"]) == 64


class _Err(Exception):
    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message)
        self.response = {"Error": {"Code": code, "Message": message}}


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        ("NoSuchKey", "", True),
        ("404", "", True),
        ("ValidationException", "Could not find endpoint x", True),
        ("ValidationException", "Invalid instance type", False),
        ("QueueDoesNotExist", "", True),
        ("ThrottlingException", "", False),
    ],
)
def test_is_not_found_reads_aws_codes(code: str, message: str, expected: bool) -> None:
    assert is_not_found(_Err(code, message)) is expected


def test_jsonable_drops_metadata_and_bodies_and_formats_times() -> None:
    from datetime import datetime, timezone

    when = datetime(2026, 1, 2, tzinfo=timezone.utc)
    out = jsonable({"ResponseMetadata": {}, "Body": b"x", "T": when, "L": [b"y", 1]})
    assert out == {"T": "2026-01-02T00:00:00+00:00", "L": [None, 1]}


def test_max_overlap_counts_simultaneous_served_intervals() -> None:
    def served(a: float, b: float) -> dict[str, object]:
        return {"output": {"served": {"started_at": a, "finished_at": b}}}

    assert max_overlap([served(0, 2), served(1, 3), served(2.5, 4), served(5, 6)]) == 2
    assert max_overlap([{"output": None}]) == 0

"""aws.* and s3.* actions against the local stack over loopback HTTP."""

from __future__ import annotations

import threading

import pytest

from runner.engine.context import RunContext
from runner.errors import ActionError


def test_identity_names_the_local_account(call) -> None:
    who = call("aws.identity")
    assert who["Account"] == "123456789012"
    assert who["Target"] == "local"


def test_check_access_reaches_every_service(call) -> None:
    assert call("aws.check_access") == {
        "services": {"s3": True, "sagemaker": True, "sns": True, "sqs": True, "logs": True},
        "denied": {},
        "ok": True,
        "_evidence": {"denied": []},
    }


def test_put_get_head_list_delete_round_trip(call, run: RunContext) -> None:
    call("s3.bucket", bucket="it-s3")
    put = call(
        "s3.put", uri="s3://it-s3/a/doc.json", body='{"x": 1}', content_type="application/json"
    )
    assert put["size"] == 8
    assert call("s3.get", uri=put["uri"])["body"] == {"x": 1}
    assert call("s3.head", bucket="it-s3", key="a/doc.json")["exists"] is True
    assert call("s3.list", bucket="it-s3", prefix="a/")["keys"] == ["a/doc.json"]
    assert call("s3.delete", bucket="it-s3", prefix="a/")["deleted"] == 1
    assert call("s3.head", uri=put["uri"])["exists"] is False
    kinds = {r.kind for r in run.ledger.all()}
    assert {"s3:bucket", "s3:object"} <= kinds


def test_put_image_renders_a_large_jpeg(call) -> None:
    call("s3.bucket", bucket="it-s3-img")
    out = call(
        "s3.put",
        uri="s3://it-s3-img/large.jpg",
        image={"source": "payloads/shirt.jpg", "width": 3000, "height": 2000},
    )
    assert out["content_type"] == "image/jpeg"
    assert out["size"] > 100_000


def test_get_missing_object_is_an_action_error_with_aws_code(call) -> None:
    call("s3.bucket", bucket="it-s3-missing")
    with pytest.raises(ActionError) as info:
        call("s3.get", uri="s3://it-s3-missing/nope")
    assert info.value.code == "NoSuchKey"


def test_wait_object_sees_an_object_put_later(call) -> None:
    call("s3.bucket", bucket="it-s3-wait")
    later = threading.Timer(
        0.3, call, args=("s3.put",), kwargs={"uri": "s3://it-s3-wait/late", "body": "x"}
    )
    later.start()
    out = call("s3.wait_object", uri="s3://it-s3-wait/late", timeout=10)
    later.join()
    assert out["exists"] is True
    assert out["_evidence"]["attempts"] >= 2


def test_wait_object_times_out_with_code(call) -> None:
    call("s3.bucket", bucket="it-s3-wait2")
    with pytest.raises(ActionError) as info:
        call("s3.wait_object", uri="s3://it-s3-wait2/never", timeout=0.3)
    assert info.value.code == "Timeout"

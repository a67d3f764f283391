"""Each handler convention, deployed as a real endpoint and invoked over HTTP."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from local_stack_kit import Clients, Deployed, Deployer

SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
CASES = {
    "context_args": {},
    "transform": {},
    "defaults": {},
    "program_root": {
        "env": {"SAGEMAKER_PROGRAM": "serve.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model"}
    },
    "legacy_sklearn": {"image": SKLEARN_IMAGE},
    "output_variants": {"image": SKLEARN_IMAGE},
    "reads_s3": {},
}


@pytest.fixture(scope="module")
def endpoints(clients: Clients, deployer: Deployer) -> dict[str, Deployed]:
    """Create every endpoint first, then wait: the model servers start side by side."""
    clients.s3.put_object(Bucket=deployer.bucket, Key="config.json", Body=b'{"from": "s3"}')
    CASES["reads_s3"]["env"] = {"CONFIG_BUCKET": deployer.bucket}
    created = {
        name: deployer.create(name, asynchronous=False, **kwargs) for name, kwargs in CASES.items()
    }
    for deployed in created.values():
        described = deployer.wait(deployed.name)
        assert described["EndpointStatus"] == "InService", described.get("FailureReason")
    return created


def _invoke(
    clients: Clients, endpoint: Deployed, body: bytes, content_type: str, accept: str = "*/*"
) -> tuple[bytes, str]:
    answer = clients.rt.invoke_endpoint(
        EndpointName=endpoint.name, Body=body, ContentType=content_type, Accept=accept
    )
    return answer["Body"].read(), answer["ContentType"]


def test_functions_with_context_argument(clients: Clients, endpoints: dict[str, Deployed]) -> None:
    body, _ = _invoke(clients, endpoints["context_args"], b"[1, 2]", "application/json")
    assert json.loads(body) == {
        "result": [3, 6],
        "calls": ["model_fn", "input_fn", "predict_fn", "output_fn"],
    }


def test_transform_fn(clients: Clients, endpoints: dict[str, Deployed]) -> None:
    assert _invoke(clients, endpoints["transform"], b"shout", "text/plain") == (
        b"SHOUT",
        "text/plain",
    )


def test_toolkit_defaults_json_csv_npy(clients: Clients, endpoints: dict[str, Deployed]) -> None:
    defaults = endpoints["defaults"]
    assert _invoke(clients, defaults, b"[1, 2]", "application/json") == (
        b"[2, 4]",
        "application/json",
    )
    csv_body, csv_type = _invoke(clients, defaults, b"1,2\n3,4", "text/csv", "text/csv")
    assert csv_type == "text/csv"
    assert np.loadtxt(io.StringIO(csv_body.decode()), delimiter=",").tolist() == [[2, 4], [6, 8]]
    buffer = io.BytesIO()
    np.save(buffer, np.array([1.5]))
    npy_body, _ = _invoke(
        clients, defaults, buffer.getvalue(), "application/x-npy", "application/x-npy"
    )
    assert np.load(io.BytesIO(npy_body)).tolist() == [3.0]


def test_unsupported_content_type_is_a_415_model_error(
    clients: Clients, endpoints: dict[str, Deployed]
) -> None:
    with pytest.raises(clients.rt.exceptions.ModelError) as info:
        _invoke(clients, endpoints["defaults"], b"\xff\xd8", "image/jpeg")
    response = info.value.response
    assert response["OriginalStatusCode"] == 415
    # FACTS.md's format: 'Received client error (400) from primary with message "...". See ...'
    original = response["OriginalMessage"]
    assert response["Error"]["Message"].startswith(
        f'Received client error (415) from primary with message "{original}". See https://'
    )


def test_sagemaker_program_at_archive_root(
    clients: Clients, endpoints: dict[str, Deployed]
) -> None:
    body, content_type = _invoke(
        clients, endpoints["program_root"], b'{"text": "hey"}', "application/json"
    )
    assert (json.loads(body), content_type) == ({"shouted": "HEY!"}, "application/json")


def test_legacy_sagemaker_containers_handler(
    clients: Clients, endpoints: dict[str, Deployed]
) -> None:
    body, content_type = _invoke(clients, endpoints["legacy_sklearn"], b"1,2\n3,4", "text/csv")
    assert (json.loads(body), content_type) == ({"sums": [3.0, 7.0]}, "application/json")


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/x-dict", (b'{"n": 3}', "application/json")),
        ("application/x-list", (b"[3]", "application/json")),
        ("text/x-str", (b"n=3", "text/html; charset=utf-8")),
        ("application/x-bytes", (b"raw-bytes", "application/x-bytes")),
        ("text/anything", (b"3", "text/x-tuple")),
    ],
)
def test_output_fn_return_types(
    clients: Clients, endpoints: dict[str, Deployed], accept: str, expected: tuple[bytes, str]
) -> None:
    assert _invoke(clients, endpoints["output_variants"], b"abc", "text/plain", accept) == expected


def test_handler_boto3_calls_reach_the_local_stack(
    clients: Clients, endpoints: dict[str, Deployed]
) -> None:
    assert _invoke(clients, endpoints["reads_s3"], b"{}", "application/json") == (
        b'{"from": "s3"}',
        "application/json",
    )

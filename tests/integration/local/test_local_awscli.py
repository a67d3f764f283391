"""The AWS CLI (from the `awscli` package) against the local stack: deploy -> invoke -> s3 cp."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from local_stack_kit import ROLE, Clients, Deployed, Deployer

from runner.local.stack import LocalStack


def _aws(stack: LocalStack, *args: str) -> str:
    """Run `aws --endpoint-url <stack> ...` from this venv with dummy credentials."""
    executable = shutil.which("aws", path=str(Path(sys.executable).parent)) or "aws"
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    env.pop("AWS_ENDPOINT_URL", None)
    done = subprocess.run(
        [executable, "--endpoint-url", stack.url, "--output", "json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_deploy_invoke_and_copy_the_result_with_the_aws_cli(
    local_stack: LocalStack, clients: Clients, deployer: Deployer, tmp_path: Path
) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    model_uri = deployer.upload_model("echo")
    bucket = deployer.bucket
    _aws(
        local_stack, "sagemaker", "create-model", "--model-name", name,
        "--execution-role-arn", ROLE,
        "--primary-container", json.dumps({"Image": "local", "ModelDataUrl": model_uri}),
    )  # fmt: skip
    _aws(
        local_stack, "sagemaker", "create-endpoint-config", "--endpoint-config-name", name,
        "--production-variants", json.dumps([{
            "VariantName": "AllTraffic", "ModelName": name,
            "InstanceType": "ml.m5.large", "InitialInstanceCount": 1,
        }]),
        "--async-inference-config", json.dumps(
            {"OutputConfig": {"S3OutputPath": f"s3://{bucket}/{name}/out"}}
        ),
    )  # fmt: skip
    _aws(local_stack, "sagemaker", "create-endpoint", "--endpoint-name", name,
         "--endpoint-config-name", name)  # fmt: skip
    deployer.endpoints.append(name)
    assert deployer.wait(name)["EndpointStatus"] == "InService"

    clients.s3.put_object(
        Bucket=bucket,
        Key=f"{name}/in.json",
        Body=b'{"value": "cli"}',
        ContentType="application/json",
    )
    answer = json.loads(
        _aws(
            local_stack,
            "sagemaker-runtime",
            "invoke-endpoint-async",
            "--endpoint-name",
            name,
            "--input-location",
            f"s3://{bucket}/{name}/in.json",
        )
    )
    assert answer["OutputLocation"].startswith(f"s3://{bucket}/{name}/out/")
    Deployed(name, bucket, None).output(clients, answer["OutputLocation"])  # wait for it
    target = tmp_path / "result.json"
    _aws(local_stack, "s3", "cp", answer["OutputLocation"], str(target))
    result = json.loads(target.read_text())
    assert (result["echo"], result["content_type"]) == ("cli", "application/json")

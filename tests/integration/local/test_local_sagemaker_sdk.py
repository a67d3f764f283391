"""The SageMaker Python SDK's AsyncPredictor, unmodified, in a user's script against the stack.

The `sagemaker` package (v2: 56 MB, 62 wheels incl. pandas and fastapi) pins older `rich`
and `packaging` than checkrun uses, so it is not a test dependency of this venv. The test runs
the script with another interpreter that has it: set CHECKRUN_SDK_PYTHON, e.g.

    python3 -m venv /tmp/sdk-venv && /tmp/sdk-venv/bin/pip install "sagemaker<3"
    CHECKRUN_SDK_PYTHON=/tmp/sdk-venv/bin/python pytest tests/integration/local -k sdk

Without it the test is skipped locally, but fails when CI=true: `.ci/run` builds that venv
and exports the variable, so CI always runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from local_stack_kit import Deployer

from runner.local.stack import LocalStack

SCRIPT = Path(__file__).parents[2] / "fixtures" / "sdk" / "async_predictor_script.py"
SDK_PYTHON = os.environ.get("CHECKRUN_SDK_PYTHON")


def test_async_predictor_gets_a_result_and_a_failure(
    local_stack: LocalStack, deployer: Deployer
) -> None:
    if not SDK_PYTHON:
        missing = "set CHECKRUN_SDK_PYTHON to a Python with `sagemaker` installed (module doc)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the SageMaker SDK test: {missing}")
        pytest.skip(missing)
    assert Path(SDK_PYTHON).exists(), f"CHECKRUN_SDK_PYTHON={SDK_PYTHON} does not exist"
    deployed = deployer.deploy("echo")
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": local_stack.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
    }
    done = subprocess.run(
        [SDK_PYTHON, str(SCRIPT), deployed.name, deployed.bucket],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["result"]["echo"] == "from-sdk"
    assert answer["result"]["content_type"] == "application/json"  # from the S3 object
    assert "ValueError: sdk failure" in answer["failure"]

"""How a deployment's resource names derive from the endpoint name, and the run's tags.

The endpoint name carries the run id, so every derived name does too: model
`<endpoint>-model`, config `<endpoint>-config`, topics `<endpoint>-success` /
`-error`, queue `<endpoint>-results`.
"""

from __future__ import annotations

import hashlib

from runner.actions import s3 as s3_actions
from runner.engine.context import StepContext

MAX_NAME = 63  # SageMaker's limit for endpoint, config and model names


def derived_name(endpoint: str, suffix: str, limit: int = MAX_NAME) -> str:
    """`<endpoint><suffix>` within SageMaker's 63-character limit (hash-shortened if needed)."""
    name = endpoint + suffix
    if len(name) <= limit:
        return name
    digest = hashlib.sha1(endpoint.encode()).hexdigest()[:8]
    return endpoint[: limit - len(suffix) - 9] + "-" + digest + suffix


def sm_tags(ctx: StepContext) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in s3_actions.run_tags(ctx).items()]

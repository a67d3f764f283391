"""AsyncInferenceConfig as the runtime reads it, and where results go."""

from __future__ import annotations

from runner.local.async_queue import DEFAULT_MAX_CONCURRENT, AsyncConfig, output_locations


def test_from_api_with_everything() -> None:
    config = AsyncConfig.from_api(
        {
            "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 7},
            "OutputConfig": {
                "S3OutputPath": "s3://b/out/",
                "S3FailurePath": "s3://b/failed",
                "NotificationConfig": {
                    "SuccessTopic": "arn:ok",
                    "ErrorTopic": "arn:err",
                    "IncludeInferenceResponseIn": ["SUCCESS_NOTIFICATION_TOPIC"],
                },
            },
        }
    )
    assert config == AsyncConfig(
        max_concurrent=7,
        output_path="s3://b/out/",
        failure_path="s3://b/failed",
        success_topic="arn:ok",
        error_topic="arn:err",
        include_response_in=("SUCCESS_NOTIFICATION_TOPIC",),
    )


def test_defaults_when_optional_parts_are_missing() -> None:
    config = AsyncConfig.from_api({"OutputConfig": {"S3OutputPath": "s3://b/o"}})
    assert config.max_concurrent == DEFAULT_MAX_CONCURRENT
    assert (config.failure_path, config.success_topic, config.include_response_in) == (
        None,
        None,
        (),
    )


def test_output_and_failure_locations_share_one_uuid() -> None:
    config = AsyncConfig.from_api(
        {"OutputConfig": {"S3OutputPath": "s3://b/out/", "S3FailurePath": "s3://b/failed/"}}
    )
    output, failure = output_locations(config, None, None)
    token = output.removeprefix("s3://b/out/").removesuffix(".out")
    assert len(token) == 36
    assert failure == f"s3://b/failed/{token}-error.out"


def test_failures_go_to_the_output_path_without_a_failure_path() -> None:
    config = AsyncConfig.from_api({"OutputConfig": {"S3OutputPath": "s3://b/out"}})
    output, failure = output_locations(config, "ext", "name.json")
    assert output == "s3://b/out/ext/name.json"
    assert failure.startswith("s3://b/out/ext/") and failure.endswith("-error.out")

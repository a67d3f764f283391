"""FaultPlan: deterministic for a seed, capped by count, loaded from YAML/JSON with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import UsageError
from runner.local.faults import FaultPlan, FaultRule


def _hits(plan: FaultPlan, calls: int = 200) -> list[bool]:
    return [bool(plan.request_faults("s3", "GetObject")) for _ in range(calls)]


def test_same_seed_same_decisions_and_rate_is_respected() -> None:
    rule = FaultRule(kind="throttle", api="s3:GetObject", rate=0.3)
    first = _hits(FaultPlan(seed=5, rules=[rule]))
    assert first == _hits(FaultPlan(seed=5, rules=[rule]))
    assert first != _hits(FaultPlan(seed=6, rules=[rule]))
    assert 30 < sum(first) < 90


def test_count_caps_the_rule_and_fired_reports_it() -> None:
    plan = FaultPlan(rules=[FaultRule(kind="error", api="PutObject", count=2)])
    assert [bool(plan.request_faults("s3", "PutObject")) for _ in range(4)] == [
        True,
        True,
        False,
        False,
    ]
    assert plan.fired() == {"0:error": 2}


@pytest.mark.parametrize(
    ("api", "service", "operation", "matches"),
    [
        ("sns:*", "sns", "Publish", True),
        ("sns:*", "sqs", "SendMessage", False),
        ("GetObject", "s3", "GetObject", True),
        ("*", "logs", "PutLogEvents", True),
        ("sagemaker-runtime:InvokeEndpoint*", "sagemaker-runtime", "InvokeEndpointAsync", True),
    ],
)
def test_api_globs(api: str, service: str, operation: str, matches: bool) -> None:
    assert FaultRule(kind="latency", api=api).matches_api(service, operation) is matches


def test_endpoint_kinds_match_endpoint_names() -> None:
    plan = FaultPlan(rules=[FaultRule(kind="kill_worker", endpoint="prod-*")])
    assert plan.fires("kill_worker", "dev-1") is None
    assert plan.fires("kill_worker", "prod-1") is not None
    assert plan.fires("drop_notification", "prod-1") is None


def test_from_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text("seed: 3\nrules:\n  - {kind: slow_start, seconds: 2}\n")
    plan = FaultPlan.from_file(path)
    assert (plan.seed, plan.rules[0].kind, plan.rules[0].seconds) == (3, "slow_start", 2.0)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("rules:\n  - {kind: explode}\n", "rules.0.kind"),
        ("rules:\n  - {kind: throttle, rate: 2}\n", "rules.0.rate"),
        ("rules: [\n", "not valid YAML"),
    ],
)
def test_bad_file_is_a_usage_error(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text(text)
    with pytest.raises(UsageError, match=needle):
        FaultPlan.from_file(path)


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read fault plan"):
        FaultPlan.from_file(tmp_path / "nope.yaml")

"""Model details: durations, shorthands, step splitting."""

from __future__ import annotations

from typing import Any

import pytest

from runner.checklist.model import Step, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("90s", 90),
        ("5m", 300),
        ("1h", 3600),
        ("1h30m", 5400),
        ("1.5s", 1.5),
        (2, 2.0),
    ],
)
def test_durations(text: Any, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["5 minutes", "-5s", "5", "", True, "1d"])
def test_bad_durations(text: Any) -> None:
    with pytest.raises(ValueError, match=r"expected a duration|cannot be negative"):
        parse_duration(text)


def test_step_shorthands() -> None:
    step = Step.model_validate(
        {
            "http": {"url": "x"},
            "expect": {"path": "status", "equals": 200},
            "until": [{"path": "body.done", "equals": True}],
            "expect_error": "ValidationError",
        }
    )
    assert (step.action, step.args) == ("http", {"url": "x"})
    assert [e.matcher for e in step.expect] == ["equals"]
    assert step.until is not None and step.until.expect[0].path == "body.done"
    assert step.expect_error is not None and step.expect_error.code == "ValidationError"
    assert Step.model_validate({"sleep": None}).args == {}

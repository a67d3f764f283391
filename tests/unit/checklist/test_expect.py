"""Expectations: every matcher, and failure messages naming path, expected and found."""

from __future__ import annotations

from typing import Any

import pytest

from runner.checklist.expect import check
from runner.checklist.model import Expectation

VALUE = {
    "status": "Completed",
    "code": 200,
    "scores": [0.1, 0.9, 0.5],
    "output": {"label": "shirt", "items": [{"score": 0.2}, {"score": 0.7}]},
    "none": None,
}


@pytest.mark.parametrize(
    ("expectation", "passed"),
    [
        ({"path": "status", "equals": "Completed"}, True),
        ({"path": "status", "equals": "Failed"}, False),
        ({"path": "status", "not_equals": "Failed"}, True),
        ({"path": "status", "contains": "Compl"}, True),
        ({"path": "scores", "contains": 0.9}, True),
        ({"path": "output", "contains": {"label": "shirt"}}, True),
        ({"path": "status", "matches": "^Comp.*ed$"}, True),
        ({"path": "code", "matches": "200"}, False),
        ({"path": "code", "between": [200, 299]}, True),
        ({"path": "code", "between": [300, 399]}, False),
        ({"path": "output.items[*].score", "all_between": [0, 1]}, True),
        ({"path": "scores", "all_between": [0.2, 1]}, False),
        ({"path": "scores", "length": 3}, True),
        ({"path": "code", "greater_than": 199}, True),
        ({"path": "code", "less_than": 200}, False),
        ({"path": "status", "greater_than": 1}, False),
        ({"path": "output.label", "exists": True}, True),
        ({"path": "none", "exists": False}, True),
        ({"path": "nothing.here", "exists": True}, False),
        ({"path": "status", "one_of": ["Completed", "Failed"]}, True),
        ({"path": "code", "type": "integer"}, True),
        ({"path": "code", "type": "number"}, True),
        ({"path": "scores", "type": "list"}, True),
        ({"path": "output", "type": "object"}, True),
        ({"path": "status", "type": "boolean"}, False),
        ({"path": "@", "type": "object"}, True),
        ({"path": ".", "type": "object"}, True),
    ],
)
def test_matchers(expectation: dict[str, Any], passed: bool) -> None:
    assert check(Expectation.model_validate(expectation), VALUE).passed is passed


def test_failure_message_names_path_expected_and_found() -> None:
    result = check(Expectation(path="status", equals="Failed"), VALUE)
    assert result.message == "status: expected equal to 'Failed', found 'Completed'"
    assert (result.expected, result.actual) == ("Failed", "Completed")


def test_all_between_failure_lists_the_items_outside() -> None:
    result = check(Expectation.model_validate({"path": "scores", "all_between": [0.2, 1]}), VALUE)
    assert "outside: [0]=0.1" in result.message


def test_missing_path_says_nothing_was_found() -> None:
    result = check(Expectation(path="a.b", equals=1), VALUE)
    assert result.message == "a.b: expected equal to 1, found nothing"


def test_an_expectation_needs_exactly_one_matcher() -> None:
    with pytest.raises(ValueError, match="exactly one matcher"):
        Expectation.model_validate({"path": "a", "equals": 1, "contains": 2})
    with pytest.raises(ValueError, match="found none"):
        Expectation.model_validate({"path": "a"})


def test_equals_null_is_a_matcher() -> None:
    assert check(Expectation.model_validate({"path": "none", "equals": None}), VALUE).passed

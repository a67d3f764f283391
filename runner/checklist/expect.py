"""Expectations: a JMESPath path into a value plus one matcher.

`check(expectation, value)` never raises for a mismatch: it returns an
ExpectationResult whose message names the path, what was expected and what was
found, which is what a failure report needs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

from runner.checklist.model import Expectation
from runner.engine.results import ExpectationResult

_MISSING = object()


def search(path: str, value: Any) -> Any:
    """JMESPath search; `.` and `@` mean the whole value. Raises ValueError on a bad path."""
    if path.strip() in ("", ".", "@"):
        return value
    try:
        return jmespath.search(path, value)
    except JMESPathError as exc:
        raise ValueError(f"invalid JMESPath {path!r}: {exc}") from exc


def compile_path(path: str) -> None:
    """Raise ValueError if `path` is not valid JMESPath (used at validate time)."""
    if path.strip() in ("", ".", "@"):
        return
    try:
        jmespath.compile(path)
    except JMESPathError as exc:
        raise ValueError(f"invalid JMESPath {path!r}: {exc}") from exc


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _between(actual: Any, bounds: list[Any]) -> bool:
    low, high = bounds
    return _is_number(actual) and low <= actual <= high


def _type_of(x: Any) -> str:
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "boolean"
    if isinstance(x, int):
        return "integer"
    if isinstance(x, float):
        return "number"
    if isinstance(x, str):
        return "string"
    if isinstance(x, (list, tuple)):
        return "list"
    if isinstance(x, dict):
        return "object"
    return type(x).__name__


def _type_matches(actual: Any, expected: str) -> bool:
    found = _type_of(actual)
    return found == expected or (expected == "number" and found == "integer")


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(actual, str):
        return isinstance(expected, str) and expected in actual
    if isinstance(actual, dict):
        if isinstance(expected, dict):
            return all(k in actual and actual[k] == v for k, v in expected.items())
        return expected in actual
    if isinstance(actual, (list, tuple)):
        return expected in actual
    return False


def _length(actual: Any, expected: Any) -> bool:
    try:
        return len(actual) == int(expected)
    except (TypeError, ValueError):
        return False


def _compare(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def check(actual: Any, expected: Any) -> bool:
        try:
            return _is_number(actual) and op(actual, expected)
        except TypeError:
            return False

    return check


_CHECKS: dict[str, Callable[[Any, Any], bool]] = {
    "equals": lambda a, e: a == e,
    "not_equals": lambda a, e: a != e,
    "contains": _contains,
    "matches": lambda a, e: isinstance(a, str) and re.search(e, a) is not None,
    "between": _between,
    "all_between": lambda a, e: (
        isinstance(a, list) and len(a) > 0 and all(_between(x, e) for x in a)
    ),
    "length": _length,
    "greater_than": _compare(lambda a, e: a > e),
    "less_than": _compare(lambda a, e: a < e),
    "exists": lambda a, e: (a is not None) == bool(e),
    "one_of": lambda a, e: a in e,
    "type": _type_matches,
}

_WORDING = {
    "equals": "equal to",
    "not_equals": "not equal to",
    "contains": "containing",
    "matches": "matching",
    "between": "between",
    "all_between": "all between",
    "length": "of length",
    "greater_than": "greater than",
    "less_than": "less than",
    "one_of": "one of",
    "type": "of type",
}


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(matcher: str, expected: Any) -> str:
    if matcher == "exists":
        return "a value" if expected else "no value"
    if matcher in ("between", "all_between"):
        return f"{_WORDING[matcher]} {expected[0]!r} and {expected[1]!r}"
    return f"{_WORDING[matcher]} {_short(expected)}"


def _failing_items(actual: Any, bounds: list[Any]) -> str:
    if not isinstance(actual, list):
        return ""
    bad = [f"[{i}]={x!r}" for i, x in enumerate(actual) if not _between(x, bounds)]
    return f" (outside: {', '.join(bad[:5])}{'...' if len(bad) > 5 else ''})" if bad else ""


def check(expectation: Expectation, value: Any) -> ExpectationResult:
    """Check one expectation (already rendered) against `value`."""
    matcher, expected, path = expectation.matcher, expectation.expected, expectation.path
    try:
        actual = search(path, value)
        passed = _CHECKS[matcher](actual, expected)
    except (ValueError, re.error) as exc:
        return ExpectationResult(path, matcher, expected, None, False, f"{path}: {exc}")
    wanted = _describe(matcher, expected)
    if passed:
        message = f"{path}: {wanted}: ok ({_short(actual)})"
    else:
        extra = _failing_items(actual, expected) if matcher == "all_between" else ""
        if matcher == "length" and actual is not None and hasattr(actual, "__len__"):
            extra = f" (length {len(actual)})"
        found = "nothing" if actual is None else _short(actual)
        message = f"{path}: expected {wanted}, found {found}{extra}"
    return ExpectationResult(path, matcher, expected, actual, passed, message)


def check_all(expectations: list[Expectation], value: Any) -> list[ExpectationResult]:
    return [check(e, value) for e in expectations]

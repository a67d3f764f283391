"""Selection and order: --only pulls in needs and always tests, --skip, --tags."""

from __future__ import annotations

import pytest

from runner.checklist.load import check_text
from runner.checklist.model import Checklist
from runner.checklist.order import CycleError, stable_order
from runner.engine.plan import plan
from runner.errors import UsageError

STEP = "[{sleep: {duration: 1ms}}]"


def _checklist() -> Checklist:
    checklist, problems = check_text(
        f"""
checklist: plan
tests:
  - {{id: deploy, steps: {STEP}}}
  - {{id: invoke, needs: [deploy], tags: [smoke], steps: {STEP}}}
  - {{id: load, needs: [invoke], tags: [perf], steps: {STEP}}}
  - {{id: cleanup, always: true, steps: {STEP}}}
"""
    )
    assert checklist is not None, problems
    return checklist


def _selected(**kwargs: list[str]) -> dict[str, bool]:
    return {p.test.id: p.selected for p in plan(_checklist(), **kwargs)}


def test_only_pulls_in_what_is_needed_and_always_tests() -> None:
    assert _selected(only=["load"]) == {
        "deploy": True,
        "invoke": True,
        "load": True,
        "cleanup": True,
    }
    assert _selected(only=["deploy"]) == {
        "deploy": True,
        "invoke": False,
        "load": False,
        "cleanup": True,
    }


def test_tags_select_and_skip_removes_with_dependants() -> None:
    assert _selected(tags=["smoke"]) == {
        "deploy": True,
        "invoke": True,
        "load": False,
        "cleanup": True,
    }
    planned = {p.test.id: p for p in plan(_checklist(), skip=["invoke"])}
    assert not planned["load"].selected
    assert planned["load"].reason == "needs invoke, which will not run"
    assert planned["cleanup"].selected


def test_unknown_ids_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="did you mean 'deploy'"):
        plan(_checklist(), only=["deplo"])


def test_a_tag_no_test_has_is_a_usage_error_not_an_empty_approved_run() -> None:
    with pytest.raises(UsageError) as info:
        plan(_checklist(), tags=["smoke", "smok"])
    assert str(info.value) == (
        "--tags: no test tagged 'smok' (did you mean 'smoke'?); tags: perf, smoke"
    )
    bare, _ = check_text(f"checklist: c\ntests: [{{id: a, steps: {STEP}}}]\n", "c.yaml")
    assert bare is not None
    with pytest.raises(UsageError, match="--tags: no test tagged 'x'; no test has tags"):
        plan(bare, tags=["x"])


def test_stable_order_and_cycles() -> None:
    assert stable_order(["c", "a", "b"], {"c": ["b"], "b": ["a"]}) == ["a", "b", "c"]
    assert stable_order(["x", "y", "z"], {}) == ["x", "y", "z"]
    with pytest.raises(CycleError, match="a -> b -> a"):
        stable_order(["a", "b"], {"a": ["b"], "b": ["a"]})

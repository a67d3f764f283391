"""What a run will do: the order of tests (by `needs`) and which of them are selected.

Selection: `only` ids and `tags` pick tests, plus everything they need (run order
would be meaningless without it) and every `always` test (cleanup); `skip`
removes tests. A test whose need is not selected is skipped too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from runner.checklist.model import Checklist, Test
from runner.checklist.order import stable_order
from runner.checklist.references import did_you_mean
from runner.errors import UsageError


@dataclass(frozen=True)
class PlannedTest:
    test: Test
    selected: bool
    reason: str | None = None  # why not selected, or why it was pulled in


def _check_ids(kind: str, ids: Iterable[str], known: Sequence[str]) -> None:
    for test_id in ids:
        if test_id not in known:
            hint = did_you_mean(test_id, known)
            raise UsageError(
                f"{kind}: no test with id {test_id!r}"
                + (f" ({hint})" if hint else "")
                + f"; tests: {', '.join(known)}"
            )


def _with_needs(ids: set[str], checklist: Checklist) -> set[str]:
    out = set(ids)
    todo = list(ids)
    while todo:
        for need in checklist.test(todo.pop()).needs:
            if need not in out:
                out.add(need)
                todo.append(need)
    return out


def plan(
    checklist: Checklist,
    *,
    only: Sequence[str] | None = None,
    skip: Sequence[str] | None = None,
    tags: Sequence[str] | None = None,
) -> list[PlannedTest]:
    """Tests in run order, each marked selected or not (with the reason)."""
    ids = [t.id for t in checklist.tests]
    order = stable_order(ids, {t.id: t.needs for t in checklist.tests})
    _check_ids("--only", only or (), ids)
    _check_ids("--skip", skip or (), ids)
    chosen: set[str] | None = None
    if only:
        chosen = set(only)
    if tags:
        known_tags = sorted({tag for t in checklist.tests for tag in t.tags})
        for tag in tags:  # a misspelt tag would select nothing and approve an empty run
            if tag not in known_tags:
                hint = did_you_mean(tag, known_tags)
                raise UsageError(
                    f"--tags: no test tagged {tag!r}"
                    + (f" ({hint})" if hint else "")
                    + (f"; tags: {', '.join(known_tags)}" if known_tags else "; no test has tags")
                )
        tagged = {t.id for t in checklist.tests if set(t.tags) & set(tags)}
        chosen = tagged if chosen is None else chosen & tagged
    pulled: set[str] = set()
    if chosen is not None:
        full = _with_needs(chosen, checklist)
        pulled = full - chosen
        chosen = full | {t.id for t in checklist.tests if t.always}
    skipped = set(skip or ())
    planned: list[PlannedTest] = []
    unselected: set[str] = set()
    for test_id in order:
        test = checklist.test(test_id)
        missing = [n for n in test.needs if n in unselected]
        if test_id in skipped:
            reason: str | None = "skipped (--skip)"
        elif chosen is not None and test_id not in chosen:
            reason = "not selected (--only/--tags)"
        elif missing and not test.always:
            reason = f"needs {', '.join(missing)}, which will not run"
        else:
            note = "pulled in: a selected test needs it" if test_id in pulled else None
            planned.append(PlannedTest(test, True, note))
            continue
        unselected.add(test_id)
        planned.append(PlannedTest(test, False, reason))
    return planned

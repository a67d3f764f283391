"""Human pass criteria: each `{text, expect}` checked once the test's steps ran.

The expectation is checked against, in this order: the rendered `value:` template;
the output of the step named by `step:`; the output of the test's last step. A
criterion whose target does not exist (the test failed before that step, or was
not run) is recorded as not evaluated (passed=None) when the test did not run, and as
unmet (crossed) when a failed step stopped the test before proving it, with that
step's error as evidence: a failed test never shows only blank boxes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from runner.checklist.expect import check
from runner.checklist.model import Expectation, Test
from runner.checklist.template import TemplateError, render
from runner.engine.redact import redact
from runner.engine.results import UNPROVED, CriterionResult, ExpectationResult

LAST = "__last__"  # key of the last step's output in `outputs`


def evaluate_criteria(
    test: Test,
    outputs: Mapping[str, Any] | None,
    context: Mapping[str, Any],
    secrets: Iterable[str] = (),
    *,
    complete: bool = True,
    failure: str | None = None,
) -> list[CriterionResult]:
    """One CriterionResult per criterion; `outputs` maps step labels (and LAST) to outputs.

    `outputs` None: the test did not run. `complete` False: it stopped at a failed
    step, so criteria on steps that ran are checked and the others not evaluated.
    `failure`: why the test stopped early ("step 2 (deploy) failed: ..."), the
    evidence of every criterion it left unproved.
    """
    results = []
    for criterion in test.criteria:
        if outputs is None:
            results.append(CriterionResult(criterion.text, None))
            continue
        try:
            expectation = Expectation.model_validate(
                render(criterion.expect.model_dump(exclude_unset=True), context)
            )
            if "value" in criterion.model_fields_set:
                target: Any = render(criterion.value, context)
            else:
                key = criterion.step or LAST
                if key not in outputs:
                    results.append(_unproved(criterion.text, criterion.expect, failure))
                    continue
                target = outputs[key]
        except (TemplateError, ValueError) as exc:
            if not complete:  # most likely a value the failed step would have saved
                results.append(CriterionResult(criterion.text, None))
                continue
            failed = ExpectationResult(
                criterion.expect.path, criterion.expect.matcher, None, None, False, str(exc)
            )
            results.append(CriterionResult(criterion.text, False, failed))
            continue
        outcome = check(expectation, target)
        outcome = ExpectationResult(
            outcome.path,
            outcome.matcher,
            redact(outcome.expected, secrets),
            redact(outcome.actual, secrets),
            outcome.passed,
            str(redact(outcome.message, secrets)),
        )
        results.append(CriterionResult(criterion.text, outcome.passed, outcome))
    return results


def _unproved(text: str, expect: Expectation, failure: str | None) -> CriterionResult:
    """A criterion its step gave nothing to check: unmet when a failure stopped the test."""
    if failure is None:
        return CriterionResult(text, None)
    message = UNPROVED + failure
    return CriterionResult(
        text, False, ExpectationResult(expect.path, expect.matcher, None, None, False, message)
    )

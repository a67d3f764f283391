"""Compare two runs (two result.json): changed outcomes and timing regressions, for nightlies.

Outcomes are matched by test id. Timings are matched by test id and step name and
compared for cold start (``cold_start_seconds``), time to an async result
(``wait_seconds`` or ``since_submit``), warm invocation (``warm_seconds``) and the p95
of repeated/parallel steps (LatencySummary). A timing regressed when it grew by more
than `threshold` (a fraction: 0.2 = 20 %) and by at least `min_seconds` (so 0.01 s ->
0.02 s is noise, not a regression).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from runner.engine.results import RunResult, Status
from runner.report.evidence import COLD_KEY, WARM_KEY, number, step_latency, wait_seconds

# How bad an outcome is; a move to a higher rank is a regression.
_RANK = {Status.PASSED: 0, Status.SKIPPED: 0, Status.FAILED: 2, Status.BLOCKED: 2}


@dataclass(frozen=True)
class OutcomeChange:
    test_id: str
    title: str
    old: str | None  # status value; None: the test is not in that run
    new: str | None
    regression: bool


@dataclass(frozen=True)
class TimingChange:
    test_id: str
    step: str
    metric: str  # "cold start" | "wait time" | "warm invocation" | "p95 latency"
    old: float
    new: float
    regression: bool

    @property
    def change(self) -> float:
        """Relative change: 0.25 = 25 % slower."""
        return (self.new - self.old) / self.old if self.old else float("inf")


@dataclass(frozen=True)
class RunDiff:
    old_run: str
    new_run: str
    old_decision: str
    new_decision: str
    threshold: float
    outcomes: list[OutcomeChange]
    timings: list[TimingChange]

    @property
    def regressions(self) -> int:
        return sum(c.regression for c in self.outcomes) + sum(t.regression for t in self.timings)

    @property
    def regressed(self) -> bool:
        return self.regressions > 0


def diff_runs(
    old: RunResult, new: RunResult, *, threshold: float = 0.2, min_seconds: float = 0.5
) -> RunDiff:
    """What changed from `old` to `new`; `threshold` is the allowed relative slow-down."""
    if threshold < 0:
        raise ValueError("threshold must be >= 0")
    return RunDiff(
        old_run=old.run_id,
        new_run=new.run_id,
        old_decision=old.decision.value,
        new_decision=new.decision.value,
        threshold=threshold,
        outcomes=list(_outcomes(old, new)),
        timings=_timings(old, new, threshold, min_seconds),
    )


def _outcomes(old: RunResult, new: RunResult) -> Iterator[OutcomeChange]:
    before = {t.id: t for t in old.tests}
    after = {t.id: t for t in new.tests}
    for test_id in [*before, *(i for i in after if i not in before)]:
        a, b = before.get(test_id), after.get(test_id)
        if a is not None and b is not None and a.status is b.status:
            continue
        regression = a is not None and b is not None and _RANK[b.status] > _RANK[a.status]
        ref = b if b is not None else a
        yield OutcomeChange(
            test_id=test_id,
            title=ref.title if ref is not None else test_id,
            old=a.status.value if a else None,
            new=b.status.value if b else None,
            regression=regression,
        )


def _timings(
    old: RunResult, new: RunResult, threshold: float, min_seconds: float
) -> list[TimingChange]:
    before = dict(_timing_values(old))
    changes = []
    for key, value in _timing_values(new):
        if key not in before:
            continue
        test_id, step, metric = key
        was = before[key]
        grew = value - was
        regression = grew >= min_seconds and value > was * (1 + threshold)
        if regression or abs(grew) >= min_seconds:
            changes.append(TimingChange(test_id, step, metric, was, value, regression))
    return changes


def _timing_values(run: RunResult) -> Iterator[tuple[tuple[str, str, str], float]]:
    for test in run.tests:
        seen: dict[str, int] = {}
        for step in test.steps:
            seen[step.name] = seen.get(step.name, 0) + 1
            name = step.name if seen[step.name] == 1 else f"{step.name} #{seen[step.name]}"
            values = {
                "cold start": number(step.evidence.get(COLD_KEY)),
                "wait time": wait_seconds(step.evidence),
                "warm invocation": number(step.evidence.get(WARM_KEY)),
            }
            for metric, value in values.items():
                if value is not None:
                    yield (test.id, name, metric), value
            latency = step_latency(step)
            if latency is not None:
                yield (test.id, name, "p95 latency"), latency.p95


def render_diff_text(diff: RunDiff) -> str:
    """Plain text for a terminal or a CI log."""
    lines = [
        f"{diff.old_run} -> {diff.new_run}: decision {diff.old_decision} -> {diff.new_decision}",
    ]
    if diff.outcomes:
        lines.append("Changed outcomes:")
        for c in diff.outcomes:
            tag = "REGRESSION " if c.regression else ""
            lines.append(f"  {tag}{c.test_id}: {c.old or 'absent'} -> {c.new or 'absent'}")
    else:
        lines.append("No changed outcomes.")
    pct = f"{diff.threshold * 100:g} %"
    if diff.timings:
        lines.append(f"Timing changes (regression: more than {pct} slower):")
        for t in diff.timings:
            tag = "REGRESSION " if t.regression else ""
            lines.append(
                f"  {tag}{t.test_id} / {t.step}: {t.metric} {t.old:.2f} s -> {t.new:.2f} s "
                f"({t.change * 100:+.0f} %)"
            )
    else:
        lines.append(f"No timing changes beyond {pct}.")
    lines.append(f"{diff.regressions} regression(s).")
    return "\n".join(lines) + "\n"

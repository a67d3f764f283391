"""The HTML report's view-model: what `runner.report.html.build_view` decides to show.

Plain frozen dataclasses; `templates/signoff.html.j2` only formats them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from runner.report.charts import COLD_LABEL_W, Bar, LatencyChart, TimelineChart


@dataclass(frozen=True)
class EvidenceItem:
    key: str
    value: str
    kind: str  # "uri" | "code" | "block" | "text"


@dataclass(frozen=True)
class CriterionView:
    text: str
    mark: str
    cls: str
    label: str
    detail: str


@dataclass(frozen=True)
class StepView:
    name: str
    action: str
    status: str
    cls: str
    duration: str
    attempts: int
    timed_out: bool
    evidence: list[EvidenceItem]
    expectations: list[CriterionView]
    error: str
    output: str
    latency: str
    log: list[str]


@dataclass(frozen=True)
class TestView:
    id: str
    anchor: str
    title: str
    status: str
    cls: str
    duration: str
    critical: bool
    reason: str
    criteria: list[CriterionView]
    steps: list[StepView]
    # Steps and evidence start expanded unless the test passed: a passing test's
    # evidence stays one click away on screen and out of the printout.
    expanded: bool


@dataclass(frozen=True)
class WaitRow:
    test: str
    step: str
    detected_by: str
    wait: str
    requests: str
    attempts: int


@dataclass(frozen=True)
class Issue:
    test_id: str
    anchor: str
    title: str
    text: str


@dataclass(frozen=True)
class ReportView:
    title: str
    description: str
    decision: str
    decision_cls: str
    decision_text: str
    header: list[tuple[str, str]]
    totals: list[tuple[str, int, str]]
    tests_passed: str
    why: list[Issue]
    duration: str
    interrupted: bool
    tests: list[TestView]
    timeline: TimelineChart
    latency: list[LatencyChart]
    cold_warm: list[Bar]
    waits: list[WaitRow]
    notes: str
    issues: list[Issue]
    signoff: list[tuple[str, str]]
    decisions: list[tuple[str, bool, str]]
    generated: str
    environment: list[tuple[str, str]] = field(default_factory=list)
    cold_label_w: float = COLD_LABEL_W
    run_id: str = ""

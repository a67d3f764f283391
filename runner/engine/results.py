"""What a run produced: plain frozen dataclasses, the only input of every renderer.

Renderers (JUnit, HTML, JSON, metrics) read these and nothing else: no pydantic
models, no boto3 objects. `RunResult.to_dict()` / `RunResult.from_dict()` are the
JSON form (`schema_version` says which), so a report can be re-rendered from
`result.json` and two runs can be compared.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

SCHEMA_VERSION = 1


class Status(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    BLOCKED = "blocked"  # not run: a test it needs failed or was blocked
    SKIPPED = "skipped"  # not run: deselected (--only/--skip/--tags) or after --fail-fast


class Decision(str, Enum):
    APPROVED = "APPROVED"
    NEEDS_WORK = "NEEDS WORK"
    BLOCKED = "BLOCKED"

    @property
    def exit_code(self) -> int:
        return {"APPROVED": 0, "NEEDS WORK": 1, "BLOCKED": 2}[self.value]


@dataclass(frozen=True)
class ExpectationResult:
    """One expectation checked: `path` + `matcher` against `expected`, with what was found."""

    path: str
    matcher: str
    expected: Any
    actual: Any
    passed: bool
    message: str  # human sentence: "status: expected equals 'Completed', found 'Failed'"


@dataclass(frozen=True)
class LatencySummary:
    """Aggregate of a repeated/parallel step (seconds)."""

    count: int
    failures: int
    parallel: int
    min: float
    p50: float
    p95: float
    max: float
    samples: tuple[float, ...] = ()


@dataclass(frozen=True)
class StepResult:
    name: str
    action: str
    status: Status
    started_at: datetime
    duration: float  # seconds
    attempts: int = 1
    args: Mapping[str, Any] = field(default_factory=dict)  # rendered, redacted
    output: Any = None  # JSON-able, redacted, possibly truncated
    expectations: tuple[ExpectationResult, ...] = ()
    error: str | None = None  # last error text when failed
    error_code: str | None = None
    timed_out: bool = False
    # Action-supplied facts for the report: inference ids, S3 URIs, how a result was
    # detected, request counts, wait times... Keys are free-form, values JSON-able.
    evidence: Mapping[str, Any] = field(default_factory=dict)
    latency: LatencySummary | None = None
    log: tuple[str, ...] = ()


# Message prefix of a criterion that a failed step left unproved (the rest is the failure).
UNPROVED = "not proved: "


@dataclass(frozen=True)
class CriterionResult:
    """A human pass criterion and the expectation that proved or disproved it."""

    text: str
    passed: bool | None  # None: not evaluated (test blocked or skipped)
    expectation: ExpectationResult | None = None

    @property
    def unproved(self) -> bool:
        """Unmet only because a failed step stopped the test before it could be checked."""
        return (
            self.passed is False
            and self.expectation is not None
            and self.expectation.message.startswith(UNPROVED)
        )


@dataclass(frozen=True)
class TestResult:
    id: str
    title: str
    status: Status
    started_at: datetime | None
    duration: float
    description: str = ""
    critical: bool = False
    always: bool = False
    tags: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    steps: tuple[StepResult, ...] = ()
    criteria: tuple[CriterionResult, ...] = ()
    reason: str | None = None  # why it failed / was blocked / skipped, one line

    __test__ = False  # not a pytest class


@dataclass(frozen=True)
class RunResult:
    run_id: str
    checklist: str  # title
    checklist_path: str
    profile: str
    target: str  # "local" | "aws"
    region: str | None
    started_at: datetime
    finished_at: datetime
    tests: tuple[TestResult, ...]
    decision: Decision
    description: str = ""
    interrupted: bool = False
    # Sign-off header fields: tester, environment, model_version, notes, date, ...
    signoff: Mapping[str, str] = field(default_factory=dict)
    # Free-form facts about where it ran: checkrun version, python, host, endpoint_url...
    environment: Mapping[str, str] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    @property
    def duration(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def totals(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Status}
        for t in self.tests:
            counts[t.status.value] += 1
        counts["total"] = len(self.tests)
        return counts

    def to_dict(self) -> dict[str, Any]:
        return _to_jsonable(self)  # type: ignore[no-any-return,unused-ignore]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunResult:
        return _from_jsonable(cls, data)  # type: ignore[no-any-return,unused-ignore]


def decide(tests: tuple[TestResult, ...] | list[TestResult]) -> Decision:
    """All passed -> APPROVED; a critical test failed or blocked -> BLOCKED; else NEEDS WORK.

    Skipped (deselected) tests do not count against the decision.
    """
    bad = [t for t in tests if t.status in (Status.FAILED, Status.BLOCKED)]
    if not bad:
        return Decision.APPROVED
    if any(t.critical for t in bad):
        return Decision.BLOCKED
    return Decision.NEEDS_WORK


def _to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: _to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, RunResult):
            out["totals"] = value.totals
            out["duration"] = value.duration
        return out
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_to_jsonable(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", errors="replace")
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _from_jsonable(cls: Any, data: Mapping[str, Any]) -> Any:
    kwargs: dict[str, Any] = {}
    hints = {f.name: f for f in dataclasses.fields(cls)}
    for name in hints:
        if name not in data:
            continue
        kwargs[name] = _convert(cls.__name__, name, data[name])
    return cls(**kwargs)


def _convert(owner: str, name: str, raw: Any) -> Any:
    if raw is None:
        return None
    key = f"{owner}.{name}"
    if key in _DATETIMES:
        return datetime.fromisoformat(raw)
    if key in _ENUMS:
        return _ENUMS[key](raw)
    if key in _CHILD:
        child = _CHILD[key]
        if isinstance(raw, list):
            return tuple(_from_jsonable(child, item) for item in raw)
        return _from_jsonable(child, raw)
    if key in _TUPLES:
        return tuple(raw)
    return raw


_DATETIMES = {
    "RunResult.started_at",
    "RunResult.finished_at",
    "TestResult.started_at",
    "StepResult.started_at",
}
_ENUMS: dict[str, type[Enum]] = {
    "RunResult.decision": Decision,
    "TestResult.status": Status,
    "StepResult.status": Status,
}
_CHILD: dict[str, type] = {
    "RunResult.tests": TestResult,
    "TestResult.steps": StepResult,
    "TestResult.criteria": CriterionResult,
    "CriterionResult.expectation": ExpectationResult,
    "StepResult.expectations": ExpectationResult,
    "StepResult.latency": LatencySummary,
}
_TUPLES = {"TestResult.tags", "TestResult.needs", "StepResult.log", "LatencySummary.samples"}

"""Every error checkrun raises on purpose.

CheckrunError                  root: the CLI prints it in one or two lines (traceback with -v)
├── ChecklistError             the checklist (or a file it names) is invalid -> exit 3
│     carries problems: list[Problem] (file, line, column, key, message, hint)
├── UsageError                 the command line is invalid -> exit 3
├── ActionError                a step's action failed; carries code (e.g. an AWS error code),
│   │                          message and evidence for the report
│   └── StepTimeout            the step ran past its timeout
├── LocalStackError            the embedded local stack could not start or serve
└── CleanupError               resources remain after cleanup
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a checklist, located as precisely as we know."""

    message: str
    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    key: str | None = None  # dotted path inside the document, e.g. tests[2].steps[0].retry
    hint: str | None = None

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line, self.column) if p is not None)
        text = f"{where}: " if where else ""
        if self.key:
            text += f"{self.key}: "
        text += self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class CheckrunError(Exception):
    """Root of checkrun's own errors."""


class ChecklistError(CheckrunError):
    """The checklist is invalid; holds every problem found, not only the first."""

    def __init__(self, problems: Sequence[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(CheckrunError):
    """The command line is invalid."""


class ActionError(CheckrunError):
    """A step's action failed. `code` is machine-readable (an AWS error code, 'Timeout', ...)."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        evidence: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.evidence: dict[str, Any] = dict(evidence or {})


class StepTimeout(ActionError):
    """The step did not finish within its timeout."""

    def __init__(self, seconds: float, what: str = "step") -> None:
        super().__init__(f"{what} timed out after {seconds:g}s", code="Timeout")
        self.seconds = seconds


class LocalStackError(CheckrunError):
    """The embedded local stack could not start or serve."""


class CleanupError(CheckrunError):
    """Resources remain after cleanup."""

    def __init__(self, message: str, remaining: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.remaining = list(remaining)


__all__ = [
    "ActionError",
    "ChecklistError",
    "CheckrunError",
    "CleanupError",
    "LocalStackError",
    "Problem",
    "StepTimeout",
    "UsageError",
]

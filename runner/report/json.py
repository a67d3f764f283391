"""`result.json`: the full RunResult as versioned JSON, the input of `checkrun report` and `diff`.

Format (schema_version 1), one object:

- ``format``: always ``"checkrun-result"``; ``schema_version``: int, bumped on any
  incompatible change (fields only ever get added within a version).
- ``run_id``, ``checklist`` (title), ``checklist_path``, ``profile``, ``target``
  (``local``/``aws``), ``region``, ``started_at``/``finished_at`` (ISO 8601 with
  offset), ``duration`` (s), ``decision`` (``APPROVED``/``NEEDS WORK``/``BLOCKED``),
  ``totals`` (passed, failed, blocked, skipped, total), ``interrupted``,
  ``signoff`` (tester, environment, model_version, notes, ...), ``environment``.
- ``tests``: list of {id, title, status (passed/failed/blocked/skipped), started_at,
  duration, critical, always, tags, needs, reason, criteria: [{text, passed (true/
  false/null = not evaluated), expectation}], steps: [{name, action, status,
  started_at, duration, attempts, args, output, expectations: [{path, matcher,
  expected, actual, passed, message}], error, error_code, timed_out, evidence,
  latency: {count, failures, parallel, min, p50, p95, max, samples} | null, log}]}.

Everything in it has been through the engine's redaction (secrets never appear).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from runner.engine.results import SCHEMA_VERSION, RunResult
from runner.errors import UsageError

FORMAT = "checkrun-result"


def result_document(result: RunResult) -> dict[str, Any]:
    """The JSON object for a run: format marker and schema_version first, then the result."""
    body = result.to_dict()
    body.pop("schema_version", None)
    return {"format": FORMAT, "schema_version": SCHEMA_VERSION, **body}


def render_json(result: RunResult) -> str:
    return json.dumps(result_document(result), indent=2, ensure_ascii=False) + "\n"


def load_result(path: Path) -> RunResult:
    """Read a result.json back into a RunResult; a clear UsageError for anything else."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict) or "run_id" not in data or "tests" not in data:
        raise UsageError(f"{path}: not a checkrun result.json (no run_id/tests)")
    if data.get("format", FORMAT) != FORMAT:
        raise UsageError(f"{path}: not a checkrun result.json (format {data['format']!r})")
    version = data.get("schema_version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise UsageError(f"{path}: schema_version {version!r} is not one checkrun writes")
    if version > SCHEMA_VERSION:
        raise UsageError(
            f"{path}: schema_version {version!r} is newer than this checkrun understands "
            f"({SCHEMA_VERSION}); upgrade checkrun"
        )
    try:
        return RunResult.from_dict(data)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise UsageError(f"{path}: malformed result: {_plain(exc)}") from None


def _plain(exc: Exception) -> str:
    """``TestResult.__init__() missing 1 required positional argument: 'status'`` ->
    ``a test has no 'status'``: the user edits JSON, not Python classes."""
    found = re.match(
        r"(\w+)\.__init__\(\) missing \d+ required positional arguments?: (.+)", str(exc)
    )
    if found is None:
        return str(exc) or type(exc).__name__
    what = _WHAT.get(found.group(1), found.group(1))
    return f"{what} has no {found.group(2)}"


_WHAT = {
    "RunResult": "the run",
    "TestResult": "a test",
    "StepResult": "a step",
    "CriterionResult": "a criterion",
    "ExpectationResult": "an expectation",
    "LatencySummary": "a step's latency",
}

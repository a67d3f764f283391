"""Checklist file -> validated `Checklist`, or a ChecklistError listing EVERY problem.

Three passes, all run even when an earlier one finds problems, so `checkrun
validate` reports everything at once: YAML syntax (with positions), the pydantic
models (unknown keys get a "did you mean"), then references: action names and
argument keys, test ids, `needs`, cycles, JMESPath paths, regexes and template
names. Nothing here executes a step.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable
from pathlib import Path as FsPath
from typing import Any

from pydantic import BaseModel, ValidationError

from runner.checklist import model as m
from runner.checklist.references import BUILTIN_NAMES, References, did_you_mean
from runner.checklist.yamlpos import Document, Path, parse
from runner.errors import ChecklistError, Problem


def load_checklist(path: str | FsPath, *, extra_vars: Iterable[str] = ()) -> m.Checklist:
    """Load and fully validate a checklist file; raise ChecklistError with all problems.

    `extra_vars` are names given on the command line (`--var k=v`), so templates
    may use them even if the file does not define them.
    """
    checklist, problems = check_file(path, extra_vars=extra_vars)
    if problems or checklist is None:
        raise ChecklistError(problems or [Problem("invalid checklist", str(path))])
    return checklist


def check_file(
    path: str | FsPath, *, extra_vars: Iterable[str] = ()
) -> tuple[m.Checklist | None, list[Problem]]:
    """Validate without raising: the model (None if invalid) and every problem found."""
    file = str(path)
    try:
        raw = FsPath(path).read_bytes()
    except OSError as exc:
        return None, [Problem(f"cannot read the checklist: {exc.strerror or exc}", file)]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem("not a UTF-8 text file (binary data?)", file, line, None)]
    return check_text(text, file, extra_vars=extra_vars)


def check_text(
    text: str, file: str = "<checklist>", *, extra_vars: Iterable[str] = ()
) -> tuple[m.Checklist | None, list[Problem]]:
    doc = parse(text, file)
    if doc.problems:
        return None, doc.problems
    if doc.data is None:
        return None, [
            Problem(
                "the file is empty: expected a mapping with 'checklist' and 'tests'", file, 1, 1
            )
        ]
    if not isinstance(doc.data, dict):
        kind = "a list" if isinstance(doc.data, list) else f"a {type(doc.data).__name__}"
        return None, [
            doc.problem(
                (), f"expected a mapping with 'checklist' and 'tests' at the top, found {kind}"
            )
        ]
    # Top-level `x-...` keys are free (a place for YAML anchors), as in compose files.
    doc.data = {k: v for k, v in doc.data.items() if not str(k).startswith("x-")}
    checklist: m.Checklist | None = None
    problems: list[Problem] = []
    try:
        checklist = m.Checklist.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(_from_pydantic(exc, doc))
    problems.extend(References(doc, set(extra_vars)).check())
    return (None if problems else checklist), _dedupe(problems)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[Any, ...]] = set()
    out = []
    for p in problems:
        key = (p.line, p.column, p.key, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return sorted(out, key=lambda p: (p.line or 0, p.column or 0))


# --- pydantic errors -> problems -------------------------------------------------------


def _from_pydantic(exc: ValidationError, doc: Document) -> list[Problem]:
    problems = []
    errors = exc.errors()
    # A value that fits no branch of a union gets one error per branch: when one of
    # them is our own explanation (a value_error), it alone says what was expected.
    explained = {_data_path(e["loc"], doc.data) for e in errors if e["type"] == "value_error"}
    for err in errors:
        path = _data_path(err["loc"], doc.data)
        if path in explained and err["type"] not in ("value_error", "extra_forbidden", "missing"):
            continue
        kind = err["type"]
        if kind == "extra_forbidden":
            key = str(path[-1])
            fields = _fields_at(path[:-1])
            hint = did_you_mean(key, fields) or (
                f"expected one of: {', '.join(sorted(fields))}" if fields else None
            )
            problems.append(doc.problem(path, f"unknown key {key!r}", key=True, hint=hint))
        elif kind == "missing":
            missing = str(err["loc"][-1])
            problems.append(doc.problem(path, f"missing required key {missing!r}"))
        else:
            message = str(err["msg"]).removeprefix("Value error, ")
            found = err.get("input")
            if kind not in ("value_error",) and not isinstance(found, (dict, list)):
                message += f" (found {found!r})"
            problems.append(doc.problem(path, message))
    return problems


def _data_path(loc: tuple[Any, ...], data: Any) -> Path:
    """Keep the parts of a pydantic `loc` that index into the YAML data."""
    path: list[str | int] = []
    current = data
    for part in loc:
        if _indexes(current, part):
            path.append(part)
            current = current[part]
        elif isinstance(current, dict) and part == "args" and _step_action(current):
            action = _step_action(current)
            path.append(action or "")
            current = current.get(action)
        elif (
            isinstance(current, dict)
            and isinstance(part, str)
            and part.isidentifier()
            and not part[:1].isupper()
            and "[" not in part
        ):
            path.append(part)  # the missing / unknown key itself
            current = None
        # other parts are pydantic's own (union branches, validator names): skip
    return tuple(path)


def _indexes(container: Any, part: Any) -> bool:
    if isinstance(container, dict):
        return part in container
    return isinstance(container, list) and isinstance(part, int) and 0 <= part < len(container)


def _step_action(step: dict[str, Any]) -> str | None:
    actions = [k for k in step if k not in m.STEP_KEYWORDS]
    return actions[0] if len(actions) == 1 else None


def _fields_at(path: Path) -> set[str]:
    """Known keys of the model at `path` (for did-you-mean), walking the model types."""
    current: Any = m.Checklist
    for part in path:
        current = _unwrap(current)
        if typing.get_origin(current) is list and isinstance(part, str):
            current = _unwrap(typing.get_args(current)[0])  # one mapping standing for a list
        if isinstance(current, type) and issubclass(current, BaseModel):
            if current is m.Step and part not in m.Step.model_fields:
                return set()
            field = current.model_fields.get(str(part))
            if field is None:
                return set()
            current = field.annotation
        elif typing.get_origin(current) is list and isinstance(part, int):
            current = typing.get_args(current)[0]
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return set()
    current = _unwrap(current)
    if typing.get_origin(current) is list:
        current = _unwrap(typing.get_args(current)[0])
    if current is m.Step:
        return set(m.STEP_KEYWORDS)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return set(current.model_fields)
    return set()


def _unwrap(tp: Any) -> Any:
    """Strip Annotated / Optional wrappers; keep list[...] and dict[...]."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = args[0] if len(args) == 1 else tp
            if len(args) != 1:
                return tp
        else:
            return tp


__all__ = ["BUILTIN_NAMES", "check_file", "check_text", "did_you_mean", "load_checklist"]

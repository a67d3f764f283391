"""Checks that need more than one key at a time: names that must refer to something.

Runs on the raw YAML data (defensively typed), so it finds problems even when the
models rejected the file: action names and argument keys, duplicate test ids,
`needs`, cycles, profiles, secrets, criteria steps, JMESPath paths, regexes and
every template's syntax and names.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from runner.checklist import model as m
from runner.checklist.expect import compile_path
from runner.checklist.order import CycleError, stable_order
from runner.checklist.template import TemplateError, is_template, names_in, strings_in
from runner.checklist.yamlpos import Document, Path
from runner.errors import CheckrunError, Problem

# Names every template may use besides vars and saved values.
BUILTIN_NAMES = frozenset({"profile", "run", "env", "vars", "iteration"})


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


class References:
    """One pass over a parsed document collecting reference problems."""

    def __init__(self, doc: Document, extra_vars: set[str]) -> None:
        self.doc = doc
        self.data = _dict(doc.data)
        self.problems: list[Problem] = []
        self.var_names = set(_dict(self.data.get("vars"))) | set(extra_vars)
        for profile in _dict(self.data.get("profiles")).values():
            self.var_names |= set(_dict(_dict(profile).get("vars")))

    def add(self, path: Path, message: str, *, key: bool = False, hint: str | None = None) -> None:
        self.problems.append(self.doc.problem(path, message, key=key, hint=hint))

    def check(self) -> list[Problem]:
        self._profiles_and_secrets()
        self._vars()
        tests = [t if isinstance(t, dict) else {} for t in _list(self.data.get("tests"))]
        ids = self._ids(tests)
        order = self._needs(tests, ids)
        self._steps(tests, order)
        return self.problems

    # --- top level --------------------------------------------------------------------

    def _profiles_and_secrets(self) -> None:
        profiles = _dict(self.data.get("profiles"))
        default = self.data.get("default_profile")
        if isinstance(default, str) and default not in profiles and default != "local":
            self.add(
                ("default_profile",),
                f"no profile named {default!r}",
                hint=did_you_mean(default, profiles)
                or f"profiles: {', '.join(profiles) or 'none'}",
            )
        for i, name in enumerate(_list(self.data.get("secrets"))):
            if isinstance(name, str) and name not in self.var_names:
                self.add(
                    ("secrets", i),
                    f"secret {name!r} is not a var",
                    hint=did_you_mean(name, self.var_names) or "list names defined under vars",
                )

    def _vars(self) -> None:
        allowed = BUILTIN_NAMES | self.var_names
        self._templates(("vars",), self.data.get("vars"), allowed)
        self._templates(("signoff",), self.data.get("signoff"), allowed)
        for name, profile in _dict(self.data.get("profiles")).items():
            self._templates(("profiles", name, "vars"), _dict(profile).get("vars"), allowed)

    def _ids(self, tests: list[dict[str, Any]]) -> list[str]:
        ids: list[str] = []
        for i, test in enumerate(tests):
            test_id = test.get("id")
            if not isinstance(test_id, str):
                ids.append(f"#{i}")
                continue
            if test_id in ids:
                self.add(
                    ("tests", i, "id"),
                    f"duplicate test id {test_id!r}",
                    hint=f"test #{ids.index(test_id) + 1} already uses it",
                )
            ids.append(test_id)
        return ids

    def _needs(self, tests: list[dict[str, Any]], ids: list[str]) -> list[int]:
        needs: dict[str, list[str]] = {}
        for i, test in enumerate(tests):
            listed = test.get("needs")
            listed = [listed] if isinstance(listed, str) else _list(listed)
            valid = []
            for j, need in enumerate(listed):
                path: Path = (
                    ("tests", i, "needs", j)
                    if isinstance(test.get("needs"), list)
                    else ("tests", i, "needs")
                )
                if not isinstance(need, str):
                    continue
                if need not in ids:
                    self.add(
                        path,
                        f"needs {need!r}, but no test has that id",
                        hint=did_you_mean(need, ids),
                    )
                else:
                    valid.append(need)
            needs.setdefault(ids[i], []).extend(valid)
        unique = list(dict.fromkeys(ids))
        try:
            ordered = stable_order(unique, needs)
        except CycleError as exc:
            first = ids.index(exc.cycle[0])
            self.add(
                ("tests", first, "needs"), str(exc), hint="a test cannot (indirectly) need itself"
            )
            return list(range(len(tests)))
        return [ids.index(t) for t in ordered]

    # --- steps and templates ----------------------------------------------------------

    def _steps(self, tests: list[dict[str, Any]], order: list[int]) -> None:
        registry, load_error = _registry()
        if load_error:
            self.problems.append(
                Problem(load_error, self.doc.file, hint="fix or uninstall the plugin")
            )
        saved: set[str] = set()
        for i in order:
            test = tests[i]
            step_names: list[str] = []
            for j, step in enumerate(_list(test.get("steps"))):
                if not isinstance(step, dict):
                    continue
                base: Path = ("tests", i, "steps", j)
                allowed = BUILTIN_NAMES | self.var_names | saved
                self._action(base, step, registry, allowed)
                for name in _dict(step.get("save")):
                    saved.add(str(name))
                for save_name, expression in _dict(step.get("save")).items():
                    self._jmespath((*base, "save", save_name), expression)
                allowed = BUILTIN_NAMES | self.var_names | saved
                self._expectations((*base, "expect"), step.get("expect"), allowed)
                until = step.get("until")
                if isinstance(until, dict) and "path" not in until:
                    self._expectations((*base, "until", "expect"), until.get("expect"), allowed)
                else:
                    self._expectations((*base, "until"), until, allowed)
                if isinstance(step.get("name"), str):
                    step_names.append(step["name"])
            allowed = BUILTIN_NAMES | self.var_names | saved
            for k, criterion in enumerate(_list(test.get("criteria"))):
                if not isinstance(criterion, dict):
                    continue
                where: Path = ("tests", i, "criteria", k)
                step_ref = criterion.get("step")
                if isinstance(step_ref, str) and step_ref not in step_names:
                    self.add(
                        (*where, "step"),
                        f"no step named {step_ref!r} in test {test.get('id')!r}",
                        hint=did_you_mean(step_ref, step_names) or "give the step a `name:`",
                    )
                self._templates((*where, "value"), criterion.get("value"), allowed)
                self._expectations((*where, "expect"), criterion.get("expect"), allowed)

    def _action(
        self,
        base: Path,
        step: dict[str, Any],
        registry: dict[str, Any],
        allowed: set[str] | frozenset[str],
    ) -> None:
        actions = [k for k in step if k not in m.STEP_KEYWORDS]
        if len(actions) > 1:  # the model reports it; say which keys are not actions
            for key in actions:
                if str(key) not in registry:
                    choices = [*m.STEP_KEYWORDS, *registry]
                    self.add(
                        (*base, str(key)),
                        f"unknown key {key!r} in a step (not a step keyword nor an action)",
                        key=True,
                        hint=did_you_mean(str(key), choices),
                    )
            return
        if not actions:
            return
        name = str(actions[0])
        args = step[actions[0]]
        spec = registry.get(name)
        if spec is None:
            self.add(
                (*base, name),
                f"unknown step type {name!r}",
                key=True,
                hint=did_you_mean(name, [*registry, *m.STEP_KEYWORDS])
                or f"known: {', '.join(sorted(registry))}",
            )
        elif spec.args is not None and isinstance(args, (dict, type(None))):
            self._arg_keys((*base, name), name, args or {}, spec.args)
            self._arg_values((*base, name), name, args or {}, spec.args)  # `sleep:` = `{}`
        self._templates((*base, name), args, allowed)

    def _arg_keys(self, path: Path, name: str, args: dict[str, Any], model: Any) -> None:
        if model.model_config.get("extra") == "allow":
            return
        known: set[str] = set()
        for field_name, field in model.model_fields.items():
            known.add(field_name)
            if field.alias:
                known.add(field.alias)
            if isinstance(field.validation_alias, str):
                known.add(field.validation_alias)
        for key in args:
            if key not in known:
                self.add(
                    (*path, str(key)),
                    f"unknown argument {key!r} for {name!r}",
                    key=True,
                    hint=did_you_mean(str(key), known) or f"expected: {', '.join(sorted(known))}",
                )

    def _arg_values(self, path: Path, name: str, args: dict[str, Any], model: Any) -> None:
        """Argument values checked now against the action's model (bad durations, unknown
        matchers in `assert`, missing arguments), except where a template decides the
        value: those are checked at run time, once rendered."""
        try:
            model.model_validate(args)
            return
        except ValidationError as exc:
            errors = exc.errors()
        found: dict[Path, tuple[str, Any]] = {}
        for err in errors:
            where, value = _locate(err["loc"], args)
            if any(True for _ in strings_in(value)) or (
                err["type"] == "extra_forbidden" and len(where) < 2
            ):
                continue  # templated (checked once rendered), or an unknown key (said above)
            if err["type"] == "missing":
                message = f"missing required argument {str(err['loc'][-1])!r} for {name!r}"
            elif err["type"] == "extra_forbidden":
                message = f"unknown key {str(where[-1])!r} in the arguments of {name!r}"
            else:
                message = f"invalid argument for {name!r}: " + str(err["msg"]).removeprefix(
                    "Value error, "
                )
                if err["type"] != "value_error" and not isinstance(value, (dict, list)):
                    message += f" (found {value!r})"
            if where not in found or err["type"] == "value_error":
                found[where] = (message, err["type"])  # a union: one line, ours if we explain
        for where, (message, kind) in found.items():
            hint = None
            if kind == "extra_forbidden" and "expect" in where:
                hint = did_you_mean(str(where[-1]), m.Expectation.model_fields)
            self.add((*path, *where), message, key=kind == "extra_forbidden", hint=hint)

    def _expectations(self, path: Path, value: Any, allowed: set[str] | frozenset[str]) -> None:
        items = value if isinstance(value, list) else ([value] if isinstance(value, dict) else [])
        for n, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            where: Path = (*path, n) if isinstance(value, list) else path
            if isinstance(item.get("path"), str):
                self._jmespath((*where, "path"), item["path"])
            regex = item.get("matches")
            if isinstance(regex, str) and not is_template(regex):
                try:
                    re.compile(regex)
                except re.error as exc:
                    self.add((*where, "matches"), f"invalid regular expression: {exc}")
            for key, expected in item.items():
                if key != "path":
                    self._templates((*where, str(key)), expected, allowed)

    def _jmespath(self, path: Path, expression: Any) -> None:
        if not isinstance(expression, str):
            return
        try:
            compile_path(expression)
        except ValueError as exc:
            self.add(
                path, str(exc), hint="JMESPath, e.g. output.items[0].score; '.' is the whole value"
            )

    def _templates(self, path: Path, value: Any, allowed: set[str] | frozenset[str]) -> None:
        for sub, template in strings_in(value):
            where = (*path, *sub)
            try:
                names = names_in(template)
            except TemplateError as exc:
                self.add(where, f"{exc} in {template!r}")
                continue
            for name in sorted(names - allowed):
                self.add(
                    where,
                    f"template uses {name!r}, which no var, profile or earlier save defines",
                    hint=did_you_mean(name, allowed)
                    or "define it under vars, or save it in an earlier step",
                )


def _locate(loc: tuple[Any, ...], data: Any) -> tuple[Path, Any]:
    """The part of a pydantic `loc` that indexes into `data`, and the value found there."""
    path: list[str | int] = []
    for part in loc:
        if isinstance(data, dict) and part in data:
            path.append(str(part))
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            path.append(part)
            data = data[part]
        elif isinstance(data, dict) and isinstance(part, str) and part.isidentifier():
            path.append(part)  # a missing or unknown key: the error is about the key itself
            data = None
    return tuple(path), data


def _registry() -> tuple[dict[str, Any], str | None]:
    """Every known action, and the error of a family that failed to import (if any)."""
    from runner.actions import registry

    try:
        return registry.load_all(), None
    except CheckrunError as exc:
        return dict(registry._ACTIONS), str(exc)

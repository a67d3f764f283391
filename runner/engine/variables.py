"""Vars and profile for a run: file vars, then the profile's, then --var; secrets marked.

A var is secret when `secrets:` lists it or when it is written
`name: {value: ..., secret: true}`; secret values are masked by `redact` everywhere.
Var values may be templates over `run`, `profile`, `env` and earlier vars.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from runner.checklist.model import Checklist
from runner.checklist.references import did_you_mean
from runner.checklist.template import TemplateError, names_in, render, strings_in
from runner.engine.context import ProfileSettings, RunContext
from runner.errors import ChecklistError, Problem


def resolve_profile(
    checklist: Checklist, name: str | None
) -> tuple[ProfileSettings, dict[str, Any]]:
    """The chosen profile's settings and its var overrides; ChecklistError if unknown."""
    try:
        chosen, profile = checklist.profile(name)
    except KeyError:
        known = ["local", *checklist.profiles]
        hint = did_you_mean(name or "", known)
        raise ChecklistError(
            Problem(
                f"no profile named {name!r}",
                key="--profile",
                hint=hint or f"profiles: {', '.join(dict.fromkeys(known))}",
            )
        ) from None
    settings = ProfileSettings(chosen, profile.target, profile.region, profile.endpoint_url)
    return settings, dict(profile.vars)


def resolve_vars(
    checklist: Checklist,
    profile: ProfileSettings,
    overrides: Mapping[str, Any],
    base: Mapping[str, Any],
    run: RunContext | None = None,
) -> tuple[dict[str, Any], set[str]]:
    """Vars (file, then profile `overrides`, then --var `base`), templates rendered; secrets.

    A var may use another var defined anywhere in the file (resolved in as many
    passes as needed), `run`, `profile` and `env`. --var values are taken as given.
    """
    secret_names = set(checklist.secrets)
    merged: dict[str, Any] = {}
    where: dict[str, str] = {}  # the key each var was written under, for error messages
    for prefix, layer in (("vars", checklist.vars), (f"profiles.{profile.name}.vars", overrides)):
        for name, value in layer.items():
            where[name] = f"{prefix}.{name}"
            if isinstance(value, dict) and set(value) <= {"value", "secret"} and "secret" in value:
                if value.get("secret"):
                    secret_names.add(name)
                value = value.get("value")
            merged[name] = value
    resolved: dict[str, Any] = dict(base)
    pending = {k: v for k, v in merged.items() if k not in resolved}
    while pending:
        before = len(pending)
        errors: dict[str, TemplateError] = {}
        for name, value in list(pending.items()):
            context = {**resolved, **builtin_context(profile, resolved, run)}
            try:
                resolved[name] = render(value, context)
                del pending[name]
            except TemplateError as exc:
                errors[name] = exc
        if pending and len(pending) == before:  # no progress: a real error (or a cycle)
            name, first = next(iter(errors.items()))
            key = where.get(name, f"vars.{name}")
            unset = _unset_env_names(pending[name])
            if unset:
                raise ChecklistError(
                    Problem(
                        f"environment variable {unset[0]} is not set",
                        key=key,
                        hint=f"export {unset[0]}=... or give the var with --var {name}=...",
                    )
                )
            raise ChecklistError(Problem(f"cannot render var: {first}", key=key))
    ordered = {k: resolved[k] for k in [*merged, *base] if k in resolved}
    secret_values = {str(ordered[n]) for n in secret_names if ordered.get(n) not in (None, "")}
    return ordered, secret_values


# env.NAME / env["NAME"], unless a default covers it (`| default(...)`) or it is a method call
_ENV_NAME = re.compile(
    r"""\benv(?:\.([A-Za-z_]\w*)\b|\[\s*['"]([^'"]+)['"]\s*\])(?!\s*\(|\s*\|\s*d(?:efault)?\b)"""
)


def _unset_env_names(value: Any) -> list[str]:
    """`env.NAME` / `env["NAME"]` read by the templates in `value` that the environment lacks."""
    names = [a or b for _, text in strings_in(value) for a, b in _ENV_NAME.findall(text)]
    return [n for n in dict.fromkeys(names) if n not in os.environ]


def builtin_context(
    profile: ProfileSettings, vars: Mapping[str, Any], base_run: RunContext | None
) -> dict[str, Any]:
    run = {"id": "", "started_at": ""}
    if base_run is not None:
        run = {"id": base_run.run_id, "started_at": base_run.started_at.isoformat()}
    return {
        "vars": dict(vars),
        "profile": {
            "name": profile.name,
            "target": profile.target,
            "region": profile.region,
            "endpoint_url": profile.endpoint_url,
        },
        "run": run,
        "env": dict(os.environ),
        "iteration": 0,
    }


def unused_cli_vars(checklist: Checklist, cli_vars: Mapping[str, Any]) -> list[str]:
    """Warnings for --var names that no var declares and no template reads (typos)."""
    declared = set(checklist.vars)
    for profile in checklist.profiles.values():
        declared |= set(profile.vars)
    used: set[str] = set()
    for _, template in strings_in(checklist.model_dump()):
        try:
            used |= names_in(template)
        except TemplateError:
            continue
    known = declared | used
    warnings = []
    for name in cli_vars:
        if name not in known:
            hint = did_you_mean(name, known)
            warnings.append(
                f"--var {name} is not used by the checklist" + (f" ({hint})" if hint else "")
            )
    return warnings

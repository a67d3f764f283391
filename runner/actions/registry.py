"""Step types by name.

An action family is one module that registers its actions with `@action` when it
is imported. Families are found through the `checkrun.actions` entry point group
(name = family, value = module), the built-in ones included, so a third party adds
step types by publishing a package, never by editing the engine.

An action is a function `(args, ctx) -> value | ActionOutput`:

* `args`: the step's arguments, already rendered from templates (and validated by
  the `args` pydantic model when the action declares one: it then gets the model).
* `ctx`: the `StepContext` (run id, profile, ledger, clock, progress, shared state).
* It returns any JSON-able value (what `save`, `expect` and the report see), or an
  `ActionOutput` to add evidence for the report; it raises `ActionError` to fail.

Action modules must not import boto3 at import time: `checkrun validate` loads
every family and must stay well under a second.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel

from runner.errors import CheckrunError

ENTRY_POINT_GROUP = "checkrun.actions"
CORE_FAMILY = "core"  # actions without a "family." prefix (exec, http, sleep, assert, compare)


@dataclass(frozen=True)
class ActionOutput:
    """What an action returns when it has evidence for the report besides its value."""

    value: Any
    evidence: Mapping[str, Any] = field(default_factory=dict)


ActionFunc = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class ActionSpec:
    name: str
    func: ActionFunc
    args: type[BaseModel] | None
    summary: str


_ACTIONS: dict[str, ActionSpec] = {}
_LOADED_FAMILIES: set[str] = set()


def action(name: str, *, args: type[BaseModel] | None = None) -> Callable[[ActionFunc], ActionFunc]:
    """Register `func` as the step type `name` ("exec", "s3.put", "sagemaker.invoke_async")."""

    def register(func: ActionFunc) -> ActionFunc:
        doc = (func.__doc__ or "").strip().splitlines()
        _ACTIONS[name] = ActionSpec(name, func, args, doc[0] if doc else "")
        return func

    return register


def exactly_one(args: BaseModel, *names: str) -> None:
    """For an args model's validator: ValueError unless exactly one of `names` is given."""
    if sum(getattr(args, n) is not None for n in names) != 1:
        raise ValueError(f"give exactly one of {', '.join(names)}")


def family_of(name: str) -> str:
    return name.split(".", 1)[0] if "." in name else CORE_FAMILY


def _family_modules() -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load_family(family: str) -> bool:
    """Import one family's module; False if no entry point names it."""
    if family in _LOADED_FAMILIES:
        return True
    module = _family_modules().get(family)
    if module is None:
        return False
    try:
        importlib.import_module(module)
    except Exception as exc:  # a broken plugin must not take checkrun down
        raise CheckrunError(f"action family {family!r} ({module}) failed to load: {exc}") from exc
    _LOADED_FAMILIES.add(family)
    return True


def load_all() -> dict[str, ActionSpec]:
    """Every registered action, all families imported."""
    for family in _family_modules():
        load_family(family)
    return dict(_ACTIONS)


def get(name: str) -> ActionSpec | None:
    """The action called `name`, importing its family on first use; None if unknown."""
    if name not in _ACTIONS:
        load_family(family_of(name))
    if name not in _ACTIONS and "." not in name:
        load_family(name)  # a family may register one bare step type named after it ("cleanup")
    return _ACTIONS.get(name)

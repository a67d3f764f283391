"""Sandboxed Jinja2 rendering of step arguments, vars and expected values.

A string that is exactly one expression (`"{{ job }}"`) keeps the type of what it
evaluates to, so a saved dict stays a dict; any other string renders to text.
Undefined names are errors (StrictUndefined), never silently empty strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.sandbox import SandboxedEnvironment

from runner.errors import CheckrunError

_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}\s*$", re.DOTALL)


class TemplateError(CheckrunError):
    """A template failed to parse or render; the message says which name or where."""


def _tojson(value: Any) -> str:
    import json

    return json.dumps(value, default=str)


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    """The one sandboxed environment (no access to Python internals from a checklist)."""
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
    env.filters["tojson"] = _tojson
    return env


def is_template(value: str) -> bool:
    return "{{" in value or "{%" in value or "{#" in value


def names_in(template: str) -> set[str]:
    """Top-level names a template reads (raises TemplateError on a syntax error)."""
    env = environment()
    try:
        ast = env.parse(template)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error: {exc.message}") from exc
    return set(meta.find_undeclared_variables(ast)) - set(env.globals)


def strings_in(
    value: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every template string inside a nested value, with its path."""
    if isinstance(value, str):
        if is_template(value):
            yield path, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from strings_in(v, (*path, str(k)))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from strings_in(v, (*path, i))


def render_string(template: str, context: Mapping[str, Any]) -> Any:
    """Render one string; a lone `{{ expr }}` returns the expression's value, typed."""
    if not is_template(template):
        return template
    env = environment()
    try:
        single = _SINGLE_EXPRESSION.match(template)
        if single:
            expr = env.compile_expression(single.group("expr").strip(), undefined_to_none=False)
            result = expr(**context)
            if isinstance(result, jinja2.Undefined):
                raise TemplateError(f"in {template!r}: {result._undefined_message}")
            return result
        return env.from_string(template).render(**context)
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"in {template!r}: {exc.message}") from exc
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"in {template!r}: template syntax error: {exc.message}") from exc
    except jinja2.TemplateError as exc:
        raise TemplateError(f"in {template!r}: {exc}") from exc
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise TemplateError(f"in {template!r}: {type(exc).__name__}: {exc}") from exc


def render(value: Any, context: Mapping[str, Any]) -> Any:
    """Render every string inside a nested value (dicts, lists), keeping other values."""
    if isinstance(value, str):
        return render_string(value, context)
    if isinstance(value, Mapping):
        return {k: render(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, context) for v in value]
    if isinstance(value, tuple):
        return tuple(render(v, context) for v in value)
    return value


def render_lenient(value: Any, context: Mapping[str, Any]) -> Any:
    """Like `render`, but a string whose names are not known yet stays as written (plans)."""
    if isinstance(value, str):
        try:
            return render_string(value, context)
        except TemplateError:
            return value
    if isinstance(value, Mapping):
        return {k: render_lenient(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render_lenient(v, context) for v in value]
    return value

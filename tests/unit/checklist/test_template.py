"""Templates: typed single expressions, strict undefined, the sandbox, name discovery."""

from __future__ import annotations

import pytest

from runner.checklist.template import TemplateError, names_in, render, render_lenient

CONTEXT = {"job": {"id": "abc", "n": 3}, "name": "shirt", "count": 2, "env": {"HOME": "/root"}}


def test_single_expression_keeps_its_type() -> None:
    assert render("{{ job }}", CONTEXT) == {"id": "abc", "n": 3}
    assert render("{{ count + 1 }}", CONTEXT) == 3
    assert render("  {{ job.n }}  ", CONTEXT) == 3


def test_mixed_text_renders_to_a_string() -> None:
    assert render("s3://{{ name }}/{{ count }}", CONTEXT) == "s3://shirt/2"


def test_nested_values_are_rendered_everywhere() -> None:
    value = {"a": ["{{ name }}", 1, {"b": "{{ job.id }}"}], "c": True}
    assert render(value, CONTEXT) == {"a": ["shirt", 1, {"b": "abc"}], "c": True}


def test_env_is_explicit() -> None:
    assert render("{{ env.HOME }}", CONTEXT) == "/root"


@pytest.mark.parametrize("template", ["{{ missing }}", "x-{{ missing }}", "{{ job.nope.deeper }}"])
def test_undefined_names_are_errors(template: str) -> None:
    with pytest.raises(TemplateError, match=r"undefined|has no attribute"):
        render(template, CONTEXT)


def test_sandbox_blocks_python_internals() -> None:
    with pytest.raises(TemplateError):
        render("{{ name.__class__.__mro__[1].__subclasses__() }}", CONTEXT)


def test_syntax_error_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="syntax"):
        names_in("{{ a ")


def test_names_in_lists_top_level_names_only() -> None:
    assert names_in("{{ job.id }}-{{ name | upper }}{% for x in items %}{{ x }}{% endfor %}") == {
        "job",
        "name",
        "items",
    }
    assert names_in("{{ range(3) | list }}") == set()


def test_lenient_rendering_keeps_unknown_templates() -> None:
    assert render_lenient({"a": "{{ name }}", "b": "{{ later }}"}, CONTEXT) == {
        "a": "shirt",
        "b": "{{ later }}",
    }


def test_plain_strings_are_untouched() -> None:
    assert render("no braces { here }", {}) == "no braces { here }"

"""The checklist language as pydantic models: what a valid checklist looks like.

Every model forbids unknown keys (the loader turns that into "unknown key ... did
you mean ..."). A step is written as ONE action name mapped to its arguments plus
the step keywords (`name`, `save`, `expect`, ...); `Step` splits that into
`action` and `args` before validation. The models know nothing about AWS nor
about which actions exist: the loader checks action names against the registry.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: Any) -> float:
    """Seconds from `500ms`, `90s`, `5m`, `1h`, `1h30m` or a plain number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like 500ms, 90s, 5m or 1h, found {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"a duration cannot be negative, found {value!r}")
        return float(value)
    if isinstance(value, str):
        text = value.replace(" ", "")
        if _DURATION.match(text):  # "500ms", "90s", "5m", "1h", also "1h30m"
            return sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(text))
    raise ValueError(f"expected a duration like 500ms, 90s, 5m or 1h, found {value!r}")


Duration = Annotated[float, BeforeValidator(parse_duration, json_schema_input_type=float | str)]


def _as_list(value: Any) -> Any:
    """Let a single mapping stand for a one-item list (`expect: {path: x, equals: 1}`)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


MATCHERS: tuple[str, ...] = (
    "equals",
    "not_equals",
    "contains",
    "matches",
    "between",
    "all_between",
    "length",
    "greater_than",
    "less_than",
    "exists",
    "one_of",
    "type",
)
TYPE_NAMES: tuple[str, ...] = (
    "string",
    "number",
    "integer",
    "boolean",
    "list",
    "object",
    "null",
)


def _template_only(value: Any) -> Any:
    if isinstance(value, str) and "{{" not in value:
        raise ValueError(f"expected a list (or a template like '{{{{ name }}}}'), found {value!r}")
    return value


Template = Annotated[str, AfterValidator(_template_only)]


class Expectation(_Strict):
    """A JMESPath `path` (default `@`, the whole value) and exactly one matcher."""

    path: str = "@"
    equals: Any = None
    not_equals: Any = None
    contains: Any = None
    matches: str | None = None
    # A typed matcher may also be one template ("{{ bounds }}"), rendered before the check.
    between: Annotated[list[Any], Field(min_length=2, max_length=2)] | Template | None = None
    all_between: Annotated[list[Any], Field(min_length=2, max_length=2)] | Template | None = None
    length: Any = None
    greater_than: Any = None
    less_than: Any = None
    exists: bool | None = None
    one_of: list[Any] | Template | None = None
    type: Literal["string", "number", "integer", "boolean", "list", "object", "null"] | None = None

    @model_validator(mode="after")
    def _one_matcher(self) -> Expectation:
        given = [m for m in MATCHERS if m in self.model_fields_set]
        if len(given) != 1:
            found = ", ".join(given) if given else "none"
            raise ValueError(
                f"an expectation needs exactly one matcher ({', '.join(MATCHERS)}); found {found}"
            )
        return self

    @property
    def matcher(self) -> str:
        return next(m for m in MATCHERS if m in self.model_fields_set)

    @property
    def expected(self) -> Any:
        return getattr(self, self.matcher)


Expectations = Annotated[
    list[Expectation],
    BeforeValidator(_as_list, json_schema_input_type=list[Expectation] | Expectation),
]


class Retry(_Strict):
    """How often to retry a step, how long to wait between attempts, and on what."""

    attempts: Annotated[int, Field(ge=1)] = 3
    wait: Literal["fixed", "exponential"] = "exponential"
    initial: Duration = 1.0
    max: Duration = 30.0
    on: list[Literal["error", "expect"]] = ["error"]


def _until_shorthand(value: Any) -> Any:
    if isinstance(value, list) or (isinstance(value, dict) and "path" in value):
        return {"expect": value}
    return value


class Until(_Strict):
    """Poll the step's action until every expectation holds (or the budget runs out)."""

    expect: Expectations
    every: Duration = 1.0
    backoff: Literal["fixed", "exponential"] = "fixed"
    max: Duration = 30.0
    timeout: Duration | None = None
    attempts: Annotated[int, Field(ge=1)] | None = None


def _expect_error_shorthand(value: Any) -> Any:
    if value is True:
        return {}
    if isinstance(value, str):
        return {"code": value}
    return value


class ExpectError(_Strict):
    """The step must fail with an ActionError whose code equals / message matches (regex)."""

    code: str | None = None
    message: str | None = None


STEP_KEYWORDS: tuple[str, ...] = (
    "name",
    "description",
    "save",
    "expect",
    "expect_error",
    "retry",
    "until",
    "timeout",
    "repeat",
    "parallel",
)


class Step(_Strict):
    """One action call: `<action>: {args}` plus the step keywords."""

    action: str
    args: dict[str, Any] = {}
    name: str | None = None
    description: str = ""
    save: dict[str, str] = {}
    expect: Expectations = []
    expect_error: Annotated[
        ExpectError | None,
        BeforeValidator(
            _expect_error_shorthand, json_schema_input_type=ExpectError | bool | str | None
        ),
    ] = None
    retry: Retry | None = None
    until: Annotated[
        Until | None,
        BeforeValidator(
            _until_shorthand,
            json_schema_input_type=Until | list[Expectation] | Expectation | None,
        ),
    ] = None
    timeout: Duration | None = None
    repeat: Annotated[int, Field(ge=1)] = 1
    parallel: Annotated[int, Field(ge=1)] = 1

    @model_validator(mode="before")
    @classmethod
    def _split_action(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "action" in data:
            return data
        actions = [k for k in data if k not in STEP_KEYWORDS]
        if len(actions) != 1:
            found = ", ".join(map(str, actions)) if actions else "none"
            raise ValueError(f"a step needs exactly one action; found {found}")
        name = actions[0]
        args = data[name]
        if args is None:
            args = {}
        if not isinstance(args, dict):
            raise ValueError(
                f"the arguments of {name!r} must be a mapping (key: value), "
                f"found {type(args).__name__}"
            )
        rest = {k: v for k, v in data.items() if k != name}
        return {"action": str(name), "args": args, **rest}

    @property
    def label(self) -> str:
        return self.name or self.action


class Criterion(_Strict):
    """A human pass criterion proved by one expectation.

    The expectation is checked against `value` when given (a template, e.g.
    "{{ result }}"), else against the output of the step called `step`, else
    against the output of the test's last step.
    """

    text: str
    expect: Expectation
    step: str | None = None
    value: Any = None


def _needs_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class Test(_Strict):
    """One checklist item: steps run in order, criteria checked after them."""

    __test__ = False  # not a pytest class

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    title: str | None = None
    description: str = ""
    tags: list[str] = []
    needs: Annotated[
        list[str], BeforeValidator(_needs_list, json_schema_input_type=list[str] | str)
    ] = []
    critical: bool = False
    always: bool = False
    timeout: Duration | None = None
    steps: Annotated[list[Step], Field(min_length=1)]
    criteria: list[Criterion] = []

    @property
    def display_title(self) -> str:
        return self.title or self.id


class Profile(_Strict):
    """Where a run points: the embedded local stack or real AWS, plus var overrides."""

    target: Literal["local", "aws"] = "local"
    region: str | None = None
    endpoint_url: str | None = None
    vars: dict[str, Any] = {}


class Defaults(_Strict):
    timeout: Duration | None = None
    retry: Retry | None = None


class Checklist(_Strict):
    """A whole checklist file.

    `vars` values may be templates; a var is secret (masked in every result, log
    and report) when `secrets:` lists its name or when it is written
    `name: {value: ..., secret: true}`. `default_profile` (else `local`) is used
    when `--profile` is not given; `local` exists even when not declared.
    """

    checklist: str
    description: str = ""
    vars: dict[str, Any] = {}
    secrets: list[str] = []
    profiles: dict[str, Profile] = {}
    default_profile: str | None = None
    defaults: Defaults = Defaults()
    signoff: dict[str, str] = {}
    tests: Annotated[list[Test], Field(min_length=1)]

    def profile(self, name: str | None) -> tuple[str, Profile]:
        """The named profile (default: `default_profile`, else `local`); KeyError if unknown."""
        chosen = name or self.default_profile or "local"
        if chosen in self.profiles:
            return chosen, self.profiles[chosen]
        if chosen == "local":
            return "local", Profile()
        raise KeyError(chosen)

    def test(self, test_id: str) -> Test:
        return next(t for t in self.tests if t.id == test_id)

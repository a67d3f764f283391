# ruff: noqa: E501  (embedded YAML documents keep their natural line length)
"""Bad checklists -> one problem each, with the message, the key and file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.checklist.load import check_file, check_text, load_checklist
from runner.errors import ChecklistError

GOOD_STEP = "      - sleep: {duration: 1ms}\n"


def _doc(tests: str, head: str = "") -> str:
    return f"checklist: t\n{head}tests:\n{tests}"


# (name, yaml text, substring of the message, key, line, column)
CASES = [
    ("tab indentation", "checklist: t\ntests:\n\t- id: a\n", "YAML syntax error", None, 3, 1),
    ("unterminated string", 'checklist: "abc\ntests: []\n', "YAML syntax error", None, 3, 1),
    ("list at top", "- id: a\n", "found a list", None, 1, 1),
    (
        "unknown test key",
        _doc("  - id: a\n    titel: x\n    steps:\n" + GOOD_STEP),
        "unknown key 'titel' (did you mean 'title'?)",
        "tests[0].titel",
        4,
        5,
    ),
    (
        "unknown step type",
        _doc("  - id: a\n    steps:\n      - htp: {url: x}\n"),
        "unknown step type 'htp' (did you mean 'http'?)",
        "tests[0].steps[0].htp",
        5,
        9,
    ),
    (
        "unknown matcher",
        _doc(
            "  - id: a\n    steps:\n      - sleep: {duration: 1ms}\n        expect: {path: a, equal: 1}\n"
        ),
        "unknown key 'equal' (did you mean 'equals'?)",
        "tests[0].steps[0].expect.equal",
        6,
        27,
    ),
    (
        "two actions in one step",
        _doc("  - id: a\n    steps:\n      - sleep: {duration: 1ms}\n        exec: {cmd: [x]}\n"),
        "exactly one action; found sleep, exec",
        "tests[0].steps[0]",
        5,
        9,
    ),
    (
        "misspelt step keyword",
        _doc("  - id: a\n    steps:\n      - sleep: {duration: 1ms}\n        retries: 3\n"),
        "unknown key 'retries' in a step (not a step keyword nor an action) (did you mean 'retry'?)",
        "tests[0].steps[0].retries",
        6,
        9,
    ),
    (
        "typed matcher given a plain string",
        _doc(
            "  - id: a\n    steps:\n      - sleep: {duration: 1ms}\n        expect: {between: abc}\n"
        ),
        "expected a list (or a template like '{{ name }}'), found 'abc'",
        "tests[0].steps[0].expect.between",
        6,
        27,
    ),
    (
        "duplicate test id",
        _doc("  - id: a\n    steps:\n" + GOOD_STEP + "  - id: a\n    steps:\n" + GOOD_STEP),
        "duplicate test id 'a'",
        "tests[1].id",
        6,
        9,
    ),
    (
        "needs a missing test",
        _doc(
            "  - id: deploy\n    steps:\n"
            + GOOD_STEP
            + "  - id: b\n    needs: [deplo]\n    steps:\n"
            + GOOD_STEP
        ),
        "needs 'deplo', but no test has that id (did you mean 'deploy'?)",
        "tests[1].needs[0]",
        7,
        13,
    ),
    (
        "dependency cycle",
        _doc(
            "  - id: a\n    needs: [b]\n    steps:\n"
            + GOOD_STEP
            + "  - id: b\n    needs: [a]\n    steps:\n"
            + GOOD_STEP
        ),
        "dependency cycle: a -> b -> a",
        "tests[0].needs",
        4,
        12,
    ),
    (
        "bad duration",
        _doc("  - id: a\n    timeout: 5 minutes\n    steps:\n" + GOOD_STEP),
        "expected a duration like 500ms, 90s, 5m or 1h, found '5 minutes'",
        "tests[0].timeout",
        4,
        14,
    ),
    (
        "template syntax error",
        _doc("  - id: a\n    steps:\n      - exec: {cmd: ['{{ x ']}\n", head="vars: {x: 1}\n"),
        "template syntax error",
        "tests[0].steps[0].exec.cmd[0]",
        6,
        22,
    ),
    (
        "undefined template name",
        _doc(
            "  - id: a\n    steps:\n      - exec: {cmd: ['{{ bucket }}']}\n",
            head="vars: {buckets: b}\n",
        ),
        "template uses 'bucket', which no var, profile or earlier save defines (did you mean 'buckets'?)",
        "tests[0].steps[0].exec.cmd[0]",
        6,
        22,
    ),
    (
        "save used before it is saved",
        _doc(
            "  - id: a\n    steps:\n      - exec: {cmd: ['{{ job }}']}\n"
            "      - exec: {cmd: [echo]}\n        save: {job: stdout}\n"
        ),
        "template uses 'job'",
        "tests[0].steps[0].exec.cmd[0]",
        5,
        22,
    ),
    (
        "unknown action argument",
        _doc("  - id: a\n    steps:\n      - http: {url: x, metod: GET}\n"),
        "unknown argument 'metod' for 'http' (did you mean 'method'?)",
        "tests[0].steps[0].http.metod",
        5,
        24,
    ),
    (
        "duplicate key",
        _doc("  - id: a\n    id: b\n    steps:\n" + GOOD_STEP),
        "duplicate key 'id'",
        "tests[0].id",
        4,
        5,
    ),
    (
        "missing steps",
        _doc("  - id: a\n"),
        "missing required key 'steps'",
        "tests[0].steps",
        3,
        5,
    ),
    (
        "bad regex",
        _doc(
            "  - id: a\n    steps:\n      - sleep: {duration: 1ms}\n        expect: {matches: '(['}\n"
        ),
        "invalid regular expression",
        "tests[0].steps[0].expect.matches",
        6,
        27,
    ),
    (
        "bad jmespath",
        _doc("  - id: a\n    steps:\n      - sleep: {duration: 1ms}\n        save: {x: 'a[?'}\n"),
        "invalid JMESPath",
        "tests[0].steps[0].save.x",
        6,
        19,
    ),
    (
        "unknown default profile",
        _doc(
            "  - id: a\n    steps:\n" + GOOD_STEP,
            head="default_profile: stagin\nprofiles: {staging: {target: aws}}\n",
        ),
        "no profile named 'stagin' (did you mean 'staging'?)",
        "default_profile",
        2,
        18,
    ),
    (
        "criterion names a missing step",
        _doc(
            "  - id: a\n    steps:\n"
            + GOOD_STEP
            + "    criteria:\n      - {text: t, step: nope, expect: {exists: true}}\n"
        ),
        "no step named 'nope'",
        "tests[0].criteria[0].step",
        7,
        25,
    ),
    (
        "unknown matcher in an assert step's arguments",
        _doc("  - id: a\n    steps:\n      - assert: {value: 1, expect: {equalz: 1}}\n"),
        "unknown key 'equalz' in the arguments of 'assert' (did you mean 'equals'?)",
        "tests[0].steps[0].assert.expect.equalz",
        5,
        37,
    ),
    (
        "bad duration in an action's arguments",
        _doc("  - id: a\n    steps:\n      - sleep: {duration: 1x}\n"),
        "invalid argument for 'sleep': expected a duration like 500ms, 90s, 5m or 1h, found '1x'",
        "tests[0].steps[0].sleep.duration",
        5,
        27,
    ),
    (
        "missing action argument",
        _doc("  - id: a\n    steps:\n      - http: {method: GET}\n"),
        "missing required argument 'url' for 'http'",
        "tests[0].steps[0].http.url",
        5,
        15,
    ),
    (
        "action written without arguments",
        _doc("  - id: a\n    steps:\n      - sleep:\n"),
        "missing required argument 'duration' for 'sleep'",
        "tests[0].steps[0].sleep.duration",
        5,
        15,
    ),
    (
        "exec command as one string without a shell",
        _doc("  - id: a\n    steps:\n      - exec: {cmd: echo hi}\n"),
        "`cmd` is a string: give a list of arguments, or set `shell: true`",
        "tests[0].steps[0].exec",
        5,
        15,
    ),
]


@pytest.mark.parametrize(
    ("text", "message", "key", "line", "column"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_checklist_reports_message_and_location(
    text: str, message: str, key: str | None, line: int, column: int
) -> None:
    checklist, problems = check_text(text, "bad.yaml")
    assert checklist is None
    matching = [p for p in problems if message in p.message + (f" ({p.hint})" if p.hint else "")]
    assert matching, [str(p) for p in problems]
    problem = matching[0]
    assert problem.file == "bad.yaml"
    assert (problem.key, problem.line, problem.column) == (key, line, column), str(problem)


def test_one_message_for_a_value_that_fits_no_branch() -> None:
    text = _doc(
        "  - id: a\n    steps:\n      - sleep: {duration: 1ms}\n        expect: {between: abc}\n"
    )
    _, problems = check_text(text)
    assert len(problems) == 1


def test_all_problems_are_reported_in_one_pass() -> None:
    text = _doc(
        "  - id: a\n    titel: x\n    steps:\n      - htp: {}\n"
        "  - id: a\n    needs: [zz]\n    timeout: soon\n    steps:\n" + GOOD_STEP
    )
    _, problems = check_text(text, "bad.yaml")
    messages = " | ".join(p.message for p in problems)
    for expected in (
        "unknown key 'titel'",
        "unknown step type 'htp'",
        "duplicate test id",
        "needs 'zz'",
        "duration",
    ):
        assert expected in messages


def test_templated_argument_values_are_checked_at_run_time_only() -> None:
    text = _doc(
        "  - id: a\n    steps:\n      - sleep: {duration: '{{ d }}'}\n"
        "      - assert: {value: 1, expect: {between: '{{ range }}'}}\n",
        head="vars: {d: 1s, range: [0, 2]}\n",
    )
    checklist, problems = check_text(text)
    assert problems == [] and checklist is not None


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    _, problems = check_file(path)
    assert problems[0].message.startswith("the file is empty")
    assert (problems[0].line, problems[0].column) == (1, 1)


def test_binary_junk_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.yaml"
    path.write_bytes(b"checklist: t\n\xff\xfe\x00\x01junk")
    _, problems = check_file(path)
    assert "not a UTF-8 text file" in problems[0].message
    assert problems[0].line == 2


@pytest.mark.parametrize(
    "text",
    [
        "checklist: !!python/object/apply:os.system [echo hi]\ntests: []\n",
        "checklist: !!python/name:os.system x\ntests: []\n",
    ],
)
def test_python_tags_are_refused(text: str) -> None:
    _, problems = check_text(text)
    assert len(problems) == 1
    assert "python/" in problems[0].message
    assert (problems[0].line, problems[0].column) == (1, 12)


def test_missing_file_is_a_checklist_error(tmp_path: Path) -> None:
    with pytest.raises(ChecklistError, match="cannot read the checklist"):
        load_checklist(tmp_path / "nope.yaml")


def test_cli_vars_make_template_names_defined() -> None:
    text = _doc("  - id: a\n    steps:\n      - exec: {cmd: ['{{ model_uri }}']}\n")
    assert check_text(text, extra_vars=["model_uri"])[0] is not None
    assert check_text(text)[0] is None


def test_valid_checklist_loads_with_steps_split_into_action_and_args() -> None:
    text = _doc(
        "  - id: a\n    needs: []\n    steps:\n      - name: get\n        http: {url: 'http://x/{{ run.id }}'}\n"
        "        save: {status: status}\n        expect: {path: status, equals: 200}\n"
        "        retry: {attempts: 2, wait: fixed, initial: 500ms}\n        timeout: 1m\n",
        head="defaults: {timeout: 90s}\n",
    )
    checklist, problems = check_text(text)
    assert problems == [] and checklist is not None
    step = checklist.tests[0].steps[0]
    assert (step.action, step.args, step.timeout) == (
        "http",
        {"url": "http://x/{{ run.id }}"},
        60.0,
    )
    assert step.retry is not None and step.retry.initial == 0.5
    assert checklist.defaults.timeout == 90.0
    assert step.expect[0].matcher == "equals"


def test_anchors_live_under_x_keys_and_merge_into_steps() -> None:
    text = (
        "checklist: t\nx-slow: &slow {timeout: 1m, retry: {attempts: 2}}\ntests:\n"
        "  - id: a\n    steps:\n      - <<: *slow\n        sleep: {duration: 1ms}\n"
    )
    checklist, problems = check_text(text)
    assert problems == [] and checklist is not None
    step = checklist.tests[0].steps[0]
    assert step.timeout == 60.0 and step.retry is not None and step.retry.attempts == 2

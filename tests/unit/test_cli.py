"""The command line: exit codes, subcommands, env options, JSON logs, Ctrl-C then cleanup."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runner import cli
from runner.cli import main
from runner.commands import add_output, parse_vars
from runner.errors import LocalStackError, UsageError

PASS = "{sleep: {duration: 1ms}}"
FAIL = "{assert: {value: 1, expect: {equals: 2}}}"


def checklist(tmp_path: Path, *tests: str, head: str = "") -> Path:
    path = tmp_path / "c.yaml"
    path.write_text("checklist: cli\n" + head + "tests:\n" + "".join(tests))
    return path


def item(test_id: str, step: str, extra: str = "") -> str:
    return f"  - {{id: {test_id}, steps: [{step}]{extra}}}\n"


@pytest.mark.parametrize(
    ("tests", "code"),
    [
        ([item("a", PASS)], 0),
        ([item("a", FAIL), item("b", PASS)], 1),
        ([item("a", FAIL, ", critical: true"), item("b", PASS)], 2),
    ],
    ids=["approved", "needs-work", "blocked"],
)
def test_run_exit_code_follows_the_decision(tmp_path: Path, tests: list[str], code: int) -> None:
    path = checklist(tmp_path, *tests)
    assert main([str(path), "--report-dir", str(tmp_path / "r"), "-q"]) == code
    assert (tmp_path / "r" / "result.json").exists()


def test_invalid_checklist_exits_3_with_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = checklist(tmp_path, "  - {id: a, titel: x, steps: [{htp: {}}]}\n")
    assert main([str(path)]) == 3
    err = capsys.readouterr().err
    assert "c.yaml:3:13: tests[0].titel: unknown key 'titel' (did you mean 'title'?)" in err
    assert "unknown step type 'htp'" in err
    assert "2 problems found; nothing was run" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [["run"], ["run", "x.yaml", "--no-such-option"], ["validate"], ["bogus-command-file.yaml"]],
)
def test_bad_command_lines_exit_3_without_traceback(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 3
    assert "Traceback" not in capsys.readouterr().err


def test_unknown_profile_and_unknown_only_id_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = checklist(tmp_path, item("deploy", PASS))
    assert main([str(path), "--profile", "nope"]) == 3
    assert main([str(path), "--only", "deplyo"]) == 3
    err = capsys.readouterr().err
    assert "no profile named 'nope'" in err
    assert "did you mean 'deploy'" in err


def test_unset_env_var_is_named_with_its_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README tour's `token: {value: "{{ env.API_TOKEN }}", secret: true}` without
    API_TOKEN: one located line naming the variable, not Jinja's 'dict object' message."""
    monkeypatch.delenv("CHECKRUN_TOUR_TOKEN", raising=False)
    head = (
        'vars:\n  token: {value: "{{ env.CHECKRUN_TOUR_TOKEN }}", secret: true}\n'
        'profiles:\n  ci:\n    target: local\n    vars: {base: "{{ 1 / 0 }}"}\n'
    )
    path = checklist(tmp_path, item("a", PASS), head=head)
    for argv in (["plan", str(path)], [str(path)]):
        assert main(argv) == 3
        assert capsys.readouterr().err.splitlines() == [
            f"error: {path}:3:10: vars.token: environment variable CHECKRUN_TOUR_TOKEN is not "
            "set (export CHECKRUN_TOUR_TOKEN=... or give the var with --var token=...)",
            "1 problem found; nothing was run",
        ]
    monkeypatch.setenv("CHECKRUN_TOUR_TOKEN", "x")
    assert main(["plan", str(path), "--profile", "ci"]) == 3
    assert capsys.readouterr().err.startswith(
        f"error: {path}:7:18: profiles.ci.vars.base: cannot render var: "
    )


def test_env_names_blamed_only_when_nothing_covers_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from runner.engine.variables import _unset_env_names

    monkeypatch.delenv("CHECKRUN_NOPE", raising=False)
    assert _unset_env_names("{{ env.CHECKRUN_NOPE }}") == ["CHECKRUN_NOPE"]
    assert _unset_env_names({"a": ["{{ env['CHECKRUN_NOPE'] }}"]}) == ["CHECKRUN_NOPE"]
    assert _unset_env_names("{{ env.CHECKRUN_NOPE | default('x') ~ (1 / 0) }}") == []
    assert _unset_env_names("{{ env.get('CHECKRUN_NOPE') ~ (1 / 0) }}") == []


def test_validate_is_quiet_about_nothing_and_runs_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "ran"
    path = checklist(tmp_path, item("a", f"{{exec: {{cmd: [touch, '{marker}']}}}}"))
    assert main(["validate", str(path)]) == 0
    assert "ok (1 tests, 1 steps)" in capsys.readouterr().out
    assert not marker.exists()


def test_plan_shows_order_and_resolved_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = checklist(
        tmp_path,
        item("b", "{assert: {value: '{{ bucket }}/x', expect: {exists: true}}}", ", needs: [a]"),
        item("a", PASS),
        head="vars: {bucket: my-bucket}\n",
    )
    assert main(["plan", str(path), "--var", "bucket=from-cli"]) == 0
    out = capsys.readouterr().out
    order = [m.groups() for m in re.finditer(r"^ *(\d+)\. (\w+): ", out, re.MULTILINE)]
    assert order == [("1", "a"), ("2", "b")], out
    assert "from-cli/x" in out
    assert main(["plan", str(path), "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert [t["id"] for t in plan["tests"]] == ["a", "b"]
    assert plan["tests"][1]["steps"][0]["args"]["value"] == "my-bucket/x"


def test_list_and_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = checklist(tmp_path, item("a", PASS, ", tags: [smoke], critical: true"))
    assert main(["list", str(path)]) == 0
    assert "tags: smoke; critical" in capsys.readouterr().out
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    step = schema["$defs"]["Step"]
    assert {"http", "exec", "retry", "until"} <= set(step["properties"])
    assert step["additionalProperties"] is False


def test_options_come_from_checkrun_env_vars(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = checklist(tmp_path, item("a", FAIL), item("b", PASS))
    monkeypatch.setenv("CHECKRUN_FAIL_FAST", "1")
    monkeypatch.setenv("CHECKRUN_REPORT_DIR", str(tmp_path / "env-reports"))
    monkeypatch.setenv("CHECKRUN_LOG_FORMAT", "json")
    assert main([str(path)]) == 1
    stored = json.loads((tmp_path / "env-reports" / "result.json").read_text())
    assert [t["status"] for t in stored["tests"]] == ["failed", "skipped"]
    capsys.readouterr()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "CHECKRUN_LOG_FORMAT",
            "xml",
            "error: CHECKRUN_LOG_FORMAT: invalid choice 'xml' "
            "(choose from auto, rich, plain, json)",
        ),
        (
            "CHECKRUN_FAIL_FAST",
            "maybe",
            "error: CHECKRUN_FAIL_FAST: expected 1/true/yes/on or 0/false/no/off, found 'maybe'",
        ),
    ],
)
def test_bad_checkrun_env_options_exit_3_naming_the_variable(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
    message: str,
) -> None:
    """A typo in CHECKRUN_<OPTION> is refused like the same typo on the command line."""
    path = checklist(tmp_path, item("a", PASS))
    monkeypatch.setenv(name, value)
    assert main([str(path), "--report-dir", str(tmp_path / "r")]) == 3
    assert capsys.readouterr().err.splitlines() == [message]
    assert not (tmp_path / "r").exists()
    monkeypatch.setenv(name, "off" if name == "CHECKRUN_FAIL_FAST" else "plain")
    assert main([str(path), "--report-dir", str(tmp_path / "r")]) == 0


def test_json_log_format_is_one_object_per_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = checklist(tmp_path, item("a", PASS))
    assert main([str(path), "--log-format", "json", "--report-dir", str(tmp_path / "r")]) == 0
    lines = capsys.readouterr().out.splitlines()
    events = [json.loads(line) for line in lines]
    assert events[0]["event"] == "run_started"
    assert events[-1]["event"] == "run_finished" and events[-1]["decision"] == "APPROVED"
    assert {"test_started", "step_started", "step_finished", "test_finished"} <= {
        e["event"] for e in events
    }


def test_plain_progress_lines_are_timestamped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = checklist(tmp_path, item("a", PASS))
    assert main([str(path), "--log-format", "plain", "--report-dir", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "PASS" in line)
    assert line[2] == ":" and line[5] == ":" and "a (" in line


def _wait_for(condition: Callable[[], bool], what: str, proc: subprocess.Popen[str]) -> None:
    """Poll `condition` (generous deadline: the suite runs on a busy machine)."""
    deadline = time.monotonic() + 120
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"checkrun exited {proc.returncode} before {what}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_mid_step_runs_cleanup_and_exits_130(tmp_path: Path, sig: signal.Signals) -> None:
    started, marker = tmp_path / "started", tmp_path / "cleaned"
    hang = f"import pathlib, time; pathlib.Path({str(started)!r}).touch(); time.sleep(600)"
    path = checklist(
        tmp_path,
        item("hang", f"{{exec: {{cmd: ['{sys.executable}', -c, {json.dumps(hang)}]}}}}"),
        item("after", PASS),
        item("cleanup", f"{{exec: {{cmd: [touch, '{marker}']}}}}", ", always: true"),
    )
    log = tmp_path / "events.jsonl"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "runner", str(path), "--log-format", "json"]
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*command, "--report-dir", str(tmp_path / "r")],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        # The step is truly mid-way once its command runs (the engine is then waiting on it).
        _wait_for(started.exists, "the hanging step to start", proc)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert marker.exists()
    events = [json.loads(line)["event"] for line in log.read_text().splitlines()]
    assert "interrupted" in events and events[-1] == "run_finished"
    stored = json.loads((tmp_path / "r" / "result.json").read_text())
    assert stored["interrupted"] is True
    assert [t["status"] for t in stored["tests"]] == ["failed", "skipped", "passed"]
    assert stored["tests"][0]["steps"][0]["error"] == "interrupted (Ctrl-C / SIGTERM)"


def test_python_dash_m_runner_works() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "runner", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.startswith("checkrun ")


def test_schema_accepts_the_shipped_checklists_and_rejects_typos(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import jsonschema
    import yaml

    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    validator = jsonschema.Draft202012Validator(schema)
    root = Path(__file__).resolve().parents[2] / "checklists"
    for path in sorted(root.glob("*.yaml")):
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
        assert errors == [], path.name
    typo = {"checklist": "t", "tests": [{"id": "a", "steps": [{"htp": {}}]}]}
    assert list(validator.iter_errors(typo))


def test_validate_never_imports_boto3(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "runner",
            "validate",
            str(root / "checklists" / "async.yaml"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert not {m for m in imported if m.split(".")[0] in ("boto3", "botocore", "moto")}


@pytest.fixture
def boom_command() -> Iterator[Callable[[BaseException], None]]:
    """`checkrun boom`: a subcommand registered from code that raises what it is given."""
    raised: list[BaseException] = []

    @cli.subcommand("boom", "raise an exception (tests only)", add_output)
    def cmd_boom(args: object) -> int:
        raise raised[0]

    yield raised.append
    del cli._COMMANDS["boom"]


@pytest.mark.parametrize("verbose", [False, True], ids=["quiet", "verbose"])
def test_an_internal_error_exits_4_not_a_decision(
    boom_command: Callable[[BaseException], None],
    capsys: pytest.CaptureFixture[str],
    verbose: bool,
) -> None:
    boom_command(ZeroDivisionError("division by zero"))
    assert main(["boom", *(["-v"] if verbose else [])]) == cli.EXIT_ERROR == 4
    err = capsys.readouterr().err
    assert "internal error: ZeroDivisionError: division by zero" in err
    assert "run with -v for the traceback" in err
    assert ("Traceback" in err) is verbose


def test_an_error_outside_the_checklist_exits_4(
    boom_command: Callable[[BaseException], None], capsys: pytest.CaptureFixture[str]
) -> None:
    boom_command(LocalStackError("cannot listen on 127.0.0.1:1: port in use"))
    assert main(["boom"]) == 4
    err = capsys.readouterr().err
    assert err.strip() == "error: cannot listen on 127.0.0.1:1: port in use"


def test_var_values_are_yaml_scalars(tmp_path: Path) -> None:
    types = {
        "n": "integer",
        "f": "number",
        "b": "boolean",
        "s": "string",
        "q": "string",
        "e": "string",
        "d": "string",
    }
    checks = "".join(
        f"      - {{assert: {{value: '{{{{ {name} }}}}', expect: {{type: {kind}}}}}}}\n"
        for name, kind in types.items()
    )
    path = tmp_path / "c.yaml"
    path.write_text(
        "checklist: vars\nvars: {n: 1, f: 1.0, b: false, s: x, q: x, e: x, d: x}\n"
        f"tests:\n  - id: types\n    steps:\n{checks}"
        "      - {assert: {value: '{{ n + 1 }}', expect: {equals: 21}}}\n"
    )
    argv = [str(path), "--report-dir", str(tmp_path / "r"), "-q"]
    values = ["n=20", "f=0.5", "b=true", "s=hello world", "q='20'", "e=", "d=2026-01-01"]
    assert main(argv + [a for v in values for a in ("--var", v)]) == 0
    stored = json.loads((tmp_path / "r" / "result.json").read_text())
    assert stored["decision"] == "APPROVED", stored["tests"][0]["reason"]


def test_parse_vars_reads_each_value_as_a_yaml_scalar() -> None:
    assert parse_vars(["n=20", "b=true", "q='20'", "e=", "l=[1, 2]", "x=a=b", "d=2026-01-01"]) == {
        "n": 20,
        "b": True,
        "q": "20",
        "e": "",
        "l": "[1, 2]",
        "x": "a=b",
        "d": "2026-01-01",
    }
    with pytest.raises(UsageError, match="NAME=VALUE"):
        parse_vars(["novalue"])

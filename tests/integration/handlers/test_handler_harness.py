"""Handler contract tests end to end: a real handler process per run, fixture handlers of
every convention, samples from folders, archives and `checkrun payload`."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from runner.handlers import HandlerReport, HandlerSpec, HandlerSpecError, run_handler_tests
from runner.model import pack_model
from runner.payload import PayloadOptions, generate_payloads

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "handlers"
# the shipped example model is also the all-four-functions fixture (one copy)
SCORER = Path(__file__).resolve().parents[3] / "checklists" / "models" / "scorer"
RECORDS = FIXTURES / "payloads" / "records"
NUMERIC = FIXTURES / "payloads" / "numeric"


def _run(model: str | Path, payloads: Path = RECORDS, **fields: object) -> HandlerReport:
    values: dict[str, object] = {
        "handler_name": Path(model).name,
        "model": str(model),
        "payloads": str(payloads),
        "timeout_seconds": 60,
    }
    values.update(fields)
    return run_handler_tests(HandlerSpec.model_validate(values))


def _counts(report: HandlerReport) -> dict[str, tuple[int, int, int]]:
    return {s.function: (s.passed, s.failed, s.skipped) for s in report.summary}


def test_all_four_functions_from_an_archive(tmp_path: Path) -> None:
    archive = pack_model(SCORER, tmp_path / "model.tar.gz")
    report = _run(archive)
    assert report.ok, report.describe_failures()
    # 5 samples; output_fn and end_to_end once per accept type (2)
    assert _counts(report) == {
        "import": (1, 0, 0),
        "model_fn": (1, 0, 0),
        "input_fn": (5, 0, 0),
        "predict_fn": (5, 0, 0),
        "output_fn": (10, 0, 0),
        "end_to_end": (10, 0, 0),
    }
    assert report.defines == ("model_fn", "input_fn", "predict_fn", "output_fn")
    e2e = [r for r in report.results if r.function == "end_to_end"]
    csv_answer = next(
        r for r in e2e if r.sample == "csv_samples/batch_sample.csv" and r.accept == "text/csv"
    )
    assert csv_answer.output is not None
    assert csv_answer.output["content_type"] == "text/csv"
    assert len(csv_answer.output["preview"].splitlines()) == 2  # one score per row
    assert all(not r.uses_default for r in report.results)
    assert all(r.seconds >= 0 for r in report.results)


def test_only_model_fn_and_predict_fn_uses_toolkit_defaults() -> None:
    report = _run(FIXTURES / "model_and_predict", NUMERIC)
    assert report.ok, report.describe_failures()
    by_fn = {r.function: r for r in report.results if r.sample == "json_samples/array_rows.json"}
    assert by_fn["input_fn"].uses_default and by_fn["output_fn"].uses_default
    assert not by_fn["predict_fn"].uses_default
    assert by_fn["input_fn"].output is not None
    assert by_fn["input_fn"].output["shape"] == [2, 2]  # np.array(json.loads(body))
    assert _counts(report)["end_to_end"] == (6, 0, 0)


def test_transform_fn_answers_end_to_end_only() -> None:
    report = _run(FIXTURES / "transform")
    assert report.ok, report.describe_failures()
    counts = _counts(report)
    assert counts["input_fn"] == counts["predict_fn"] == counts["output_fn"] == (0, 0, 5)
    assert counts["end_to_end"] == (10, 0, 0)
    skipped = next(r for r in report.results if r.function == "input_fn")
    assert skipped.reason == "transform_fn handles the whole request"


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (
            "import",
            {"import": (0, 1, 0), "model_fn": (0, 0, 1), "end_to_end": (0, 0, 1)},
        ),
        ("model_fn", {"model_fn": (0, 1, 0), "input_fn": (0, 0, 1), "end_to_end": (0, 0, 1)}),
        ("input_fn", {"input_fn": (0, 5, 0), "predict_fn": (0, 0, 5), "end_to_end": (0, 10, 0)}),
        (
            "predict_fn",
            {"predict_fn": (0, 5, 0), "output_fn": (0, 0, 10), "end_to_end": (0, 10, 0)},
        ),
        ("output_fn", {"predict_fn": (5, 0, 0), "output_fn": (0, 10, 0), "end_to_end": (0, 10, 0)}),
    ],
)
def test_a_handler_raising_in_each_function(where: str, expected: dict) -> None:
    report = _run(FIXTURES / "raising", env={"RAISE_IN": where})
    assert not report.ok
    counts = _counts(report)
    for function, want in expected.items():
        assert counts[function] == want, function
    failure = report.failures[0]
    assert failure.function == where
    assert failure.error == f"ValueError: deliberate failure in {where}"
    assert failure.traceback is not None
    assert "raising/code/inference.py" in failure.traceback
    assert "runner/" not in failure.traceback  # the handler's own frames only
    assert f"deliberate failure in {where}" in report.describe_failures()


def test_handler_prints_go_to_its_log_not_the_results() -> None:
    report = _run(FIXTURES / "raising")
    assert report.ok, report.describe_failures()
    assert "loading weights from" in report.log


def test_hanging_handler_is_stopped_at_the_timeout() -> None:
    # Hanging at import: the call it hangs in is known however slowly the process starts
    # (no timing margin), and every function after it is reported as skipped.
    report = _run(FIXTURES / "raising", env={"HANG_IN": "import"}, timeout_seconds=2)
    assert report.timed_out and not report.ok
    [failure] = report.failures
    assert failure.function == "import"
    assert failure.error == "HandlerStopped: timed out after 2s"
    counts = _counts(report)
    for function in ("model_fn", "input_fn", "predict_fn", "output_fn", "end_to_end"):
        assert counts[function] == (0, 0, 1), function
    assert "timeout" in report.describe_failures()


def _when_file_appears(path: Path, then: threading.Event, limit: float = 120) -> threading.Thread:
    """A thread that sets `then` once `path` exists (or after `limit` seconds, or as soon as
    someone else sets it)."""

    def watch() -> None:
        deadline = time.monotonic() + limit
        while not path.exists() and not then.is_set() and time.monotonic() < deadline:
            time.sleep(0.02)
        then.set()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_a_stop_event_ends_the_run_in_the_call_that_hangs(tmp_path: Path) -> None:
    # stopped once the handler is known to hang in predict_fn: the call it was in fails, the
    # calls it never reached are skipped
    marker = tmp_path / "hanging"
    stop = threading.Event()
    watcher = _when_file_appears(marker, stop)
    spec = HandlerSpec(
        handler_name="raising",
        model=str(FIXTURES / "raising"),
        payloads=str(RECORDS),
        env={"HANG_IN": "predict_fn", "HANG_MARKER": str(marker)},
        timeout_seconds=300,
    )
    report = run_handler_tests(spec, stop=stop)
    stop.set()  # ends the watcher at once if the handler never got to hang
    watcher.join()
    assert marker.read_text() == "predict_fn"
    assert not report.ok and not report.timed_out
    [failure] = report.failures
    assert (failure.function, failure.sample) == ("predict_fn", "csv_samples/batch_sample.csv")
    assert failure.error == (
        "HandlerStopped: cancelled (the step timed out or the run was interrupted)"
    )
    counts = _counts(report)
    assert counts["input_fn"] == (1, 0, 0)
    assert counts["predict_fn"] == (0, 1, 0)
    assert counts["output_fn"] == counts["end_to_end"] == (0, 0, 1)


def test_handler_that_kills_its_process() -> None:
    report = _run(FIXTURES / "raising", env={"EXIT_IN": "output_fn"})
    assert not report.ok and not report.timed_out
    assert report.exit_code == 3
    assert report.failures[-1].function == "output_fn"
    assert "died (exit code 3)" in (report.failures[-1].error or "")


def test_processes_the_handler_leaves_behind_are_stopped(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    report = _run(FIXTURES / "raising", env={"SPAWN_PID_FILE": str(pid_file)})
    assert report.ok, report.describe_failures()
    status = Path(f"/proc/{pid_file.read_text()}/status")

    def stopped() -> bool:  # gone, or a zombie waiting for init to reap it
        try:
            return "State:\tZ" in status.read_text()
        except FileNotFoundError:
            return True

    # SIGKILL is delivered when the kernel next schedules the child: allow it a moment
    deadline = time.monotonic() + 60
    while not stopped() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stopped()


def test_unsupported_accept_type_fails_output_fn() -> None:
    report = _run(SCORER, accept_types=["application/x-npy"])
    assert _counts(report)["output_fn"] == (0, 5, 0)
    assert "unsupported accept type" in (report.failures[0].error or "")


def test_a_toolkit_default_failing_is_reported_with_its_frames() -> None:
    report = _run(FIXTURES / "model_and_predict", NUMERIC, accept_types=["text/html"])
    failures = [r for r in report.failures if r.function == "output_fn"]
    assert len(failures) == 3 and all(r.uses_default for r in failures)
    assert "UnsupportedFormatError: Accept type text/html" in (failures[0].error or "")
    assert "runner/model/codecs.py" in (failures[0].traceback or "")


def test_requirements_txt_is_checked_before_the_import(tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(SCORER, model)
    requirements = model / "code" / "requirements.txt"
    requirements.write_text("numpy>=1.0\n")
    report = _run(model)
    assert report.ok, report.describe_failures()
    assert _counts(report)["requirements"] == (1, 0, 0)
    requirements.write_text("numpy>=1.0\ncheckrun-no-such-package==1.0\n")
    report = _run(model)
    [failure] = report.failures
    assert failure.function == "requirements"
    assert "checkrun-no-such-package==1.0 (not installed)" in (failure.error or "")
    assert _counts(report)["import"] == (0, 0, 1)


def test_switches_choose_the_checks() -> None:
    report = _run(
        SCORER,
        validate_end_to_end=False,
        validate_output_formatting=False,
    )
    counts = _counts(report)
    assert "end_to_end" not in counts
    assert counts["output_fn"] == (0, 0, 10)
    assert counts["predict_fn"] == (5, 0, 0)
    assert report.ok


def test_generated_payloads_feed_the_handler(tmp_path: Path) -> None:
    archive = pack_model(SCORER, tmp_path / "model.tar.gz")
    options = PayloadOptions(
        content_types=["application/json", "text/csv"], special_fields={"amount": "50"}
    )
    generated = generate_payloads(archive, tmp_path / "payload", options)
    report = _run(archive, generated.archive)
    assert report.ok, report.describe_failures()
    assert _counts(report)["end_to_end"] == (4, 0, 0)


def test_nothing_is_left_in_the_work_folder(tmp_path: Path) -> None:
    archive = pack_model(FIXTURES / "raising", tmp_path / "model.tar.gz")
    work = tmp_path / "work"
    work.mkdir()
    spec = HandlerSpec(
        handler_name="raising",
        model=str(archive),
        payloads=str(RECORDS),
        env={"HANG_IN": "model_fn"},
        timeout_seconds=1,
    )
    report = run_handler_tests(spec, work_root=work)
    assert report.timed_out
    assert list(work.iterdir()) == []  # extracted model, samples, job and log all removed


def test_parquet_payloads_feed_the_handler(tmp_path: Path) -> None:  # pyarrow: `test` extra
    options = PayloadOptions(content_types=["application/x-parquet", "application/json"])
    generated = generate_payloads(SCORER, tmp_path / "payload", options)
    report = _run(
        SCORER,
        generated.archive,
        content_types=["application/x-parquet", "application/json"],
        accept_types=["application/json"],
    )
    assert report.ok, report.describe_failures()
    parquet = [r for r in report.results if r.content_type == "application/x-parquet"]
    assert {r.function for r in parquet} == {"input_fn", "predict_fn", "output_fn", "end_to_end"}


def test_invalid_spec_is_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(HandlerSpecError) as info:
        _run(tmp_path / "missing.tar.gz", tmp_path / "none")
    assert len(info.value.problems) == 2


def test_report_serialises(tmp_path: Path) -> None:
    import json

    report = _run(FIXTURES / "raising", env={"RAISE_IN": "predict_fn"})
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is False
    assert data["summary"]["predict_fn"]["failed"] == 5
    assert data["failed"] == 15

"""`checkrun handler` / `checkrun payload` fed bad input, as a user would: each mistake is one
or two clear lines on stderr, exit code 3, no traceback; and Parquet without pyarrow installed
(simulated in a child process whose imports of pyarrow fail)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from runner.cli import main
from runner.model import pack_model

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "handlers"
SCORER = ROOT / "checklists" / "models" / "scorer"
RECORDS = FIXTURES / "payloads" / "records"


def _zip_named_tar_gz(tmp: Path) -> Path:
    path = tmp / "model.tar.gz"
    path.write_bytes(b"PK\x03\x04" + b"\0" * 26)
    return path


def _no_code_folder(tmp: Path) -> Path:
    (tmp / "m").mkdir()
    (tmp / "m" / "weights.json").write_text("{}")
    return pack_model(tmp / "m", tmp / "model.tar.gz")


def _file(path: Path) -> Path:
    path.write_text("1,2\n")
    return path


def _escaping_archive(tmp: Path) -> Path:
    """The scorer packed with one more member, `../escape.txt`, which would land outside."""
    archive = pack_model(SCORER, tmp / "model.tar.gz")
    with tarfile.open(archive, "r:gz") as tar:
        members = [(m, tar.extractfile(m)) for m in tar.getmembers()]
        files = [(m, f.read() if f else None) for m, f in members]
    with tarfile.open(archive, "w:gz") as tar:
        for member, body in files:
            tar.addfile(member, io.BytesIO(body) if body is not None else None)
        escape = tarfile.TarInfo("../escape.txt")
        escape.size = 1
        tar.addfile(escape, io.BytesIO(b"x"))
    return archive


def _hyperparameters(tmp: Path, data: object) -> Path:
    (tmp / "m").mkdir(exist_ok=True)
    (tmp / "m" / "hyperparameters.json").write_text(json.dumps(data))
    return tmp / "m"


def _handler(model: Path, *extra: str, payloads: Path = RECORDS) -> list[str]:
    return ["handler", str(model), "--payloads", str(payloads), *extra]


def _payload(model: Path, out: Path, *extra: str) -> list[str]:
    return ["payload", str(model), "--out", str(out), "--ignore-env", *extra]


# (argv built from a temp folder, a piece of the one error line)
CASES: dict[str, tuple[Callable[[Path], list[str]], str]] = {
    "handler: missing archive": (
        lambda t: _handler(t / "model.tar.gz"),
        "model.tar.gz does not exist",
    ),
    "handler: not a .tar.gz": (
        lambda t: _handler(t / "model.zip"),
        "must be a .tar.gz (or an extracted model folder)",
    ),
    "handler: a zip named .tar.gz": (
        lambda t: _handler(_zip_named_tar_gz(t)),
        "is not a readable tar.gz: a zip file, not a tar.gz",
    ),
    "handler: no code folder": (
        lambda t: _handler(_no_code_folder(t)),
        "no code/ folder in",
    ),
    "handler: archive member outside the archive": (
        lambda t: _handler(_escaping_archive(t)),
        "model: model archive member '../escape.txt' points outside the archive ('..')",
    ),
    "handler: sample of an unsupported type": (
        lambda t: _handler(SCORER, "--content-types", "application/json"),
        "2 samples (csv_samples/batch_sample.csv, csv_samples/sample_001.csv) are text/csv, "
        "which the spec does not support (application/json)",
    ),
    "handler: unknown content type": (
        lambda t: _handler(
            SCORER, "--content-types", "application/foo", payloads=RECORDS / "json_samples"
        ),
        "3 samples (json_samples/array_records.json, json_samples/ndjson_sample.json, "
        "json_samples/single_record.json) are application/json, which the spec does not "
        "support (application/foo)",
    ),
    "handler: sample file of unknown type": (
        lambda t: _handler(SCORER, payloads=_file(t / "rows.txt")),
        "cannot tell the content type of rows.txt; use one of .csv, .json, .jsonl, .ndjson, "
        ".parquet or a samples folder",
    ),
    "handler: no payloads given": (
        lambda t: ["handler", str(SCORER)],
        "payloads: no payload samples given (--payloads DIR|payload.tar.gz, or `payloads` in",
    ),
    "handler: model_fn cannot be skipped": (
        lambda t: _handler(SCORER, "--skip", "model_fn"),
        "model loading cannot be switched off: model_fn always runs",
    ),
    "handler: report file that cannot be written": (
        lambda t: _handler(SCORER, "--json", str(t / "model.zip" / "report.json")),
        "cannot write the report to",
    ),
    "payload: output folder is a file": (
        lambda t: _payload(SCORER, t / "model.zip"),
        "model.zip: it is a file, not a folder",
    ),
    "payload: missing archive": (
        lambda t: _payload(t / "model.tar.gz", t / "out"),
        "model.tar.gz does not exist",
    ),
    "payload: not a tar.gz": (
        lambda t: _payload(_zip_named_tar_gz(t), t / "out"),
        "neither a folder nor a readable tar archive: a zip file, not a tar.gz",
    ),
    "payload: no hyperparameters.json": (
        lambda t: _payload(_no_code_folder(t), t / "out"),
        "no hyperparameters.json in model archive",
    ),
    "payload: hyperparameters missing tab_field_list": (
        lambda t: _payload(_hyperparameters(t, {"full_field_list": ["a"]}), t / "out"),
        "hyperparameters.json: missing 'tab_field_list' (a list of field names)",
    ),
    "payload: hyperparameters missing full_field_list": (
        lambda t: _payload(_hyperparameters(t, {"tab_field_list": []}), t / "out"),
        "hyperparameters.json: missing 'full_field_list' (a list of field names)",
    ),
    "payload: unknown content type": (
        lambda t: _payload(SCORER, t / "out", "--content-types", "application/foo"),
        "invalid payload options: content_types: unsupported content type(s) application/foo",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_clear_line_and_exit_3(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build, needle = CASES[case]
    (tmp_path / "model.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    code = main(build(tmp_path))
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 3, captured
    assert needle in lines[0], lines
    assert lines[0].startswith("error: ")
    # the problem, then at most "1 problem found; nothing was run"
    assert len(lines) <= 2 and "Traceback" not in captured.err, lines
    assert not (tmp_path / "out").exists()  # nothing written on a refused payload


# Imports of pyarrow fail in the child, as when the `parquet` extra is not installed.
WITHOUT_PYARROW = """
import sys
class NoPyarrow:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "pyarrow":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, NoPyarrow())
from runner.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _checkrun_without_pyarrow(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_PYARROW, *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_parquet_without_pyarrow_is_a_clear_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    payload = ["payload", str(SCORER), "--out", str(out), "--ignore-env"]
    parquet = _checkrun_without_pyarrow(*payload, "--content-types", "application/x-parquet")
    assert parquet.returncode == 3, parquet
    assert parquet.stderr.strip() == (
        "error: application/x-parquet payloads need pyarrow: pip install 'checkrun[parquet]'"
    )
    assert not out.exists()
    # the same child without Parquet works: only pyarrow is missing
    plain = _checkrun_without_pyarrow(*payload, "--content-types", "application/json")
    assert plain.returncode == 0, plain
    samples = tmp_path / "samples" / "parquet_samples"
    samples.mkdir(parents=True)
    (samples / "one.parquet").write_bytes(b"PAR1" + b"\0" * 8 + b"PAR1")
    handler = _checkrun_without_pyarrow(
        "handler", str(SCORER), "--payloads", str(tmp_path / "samples"), "--check"
    )
    assert handler.returncode == 3, handler
    lines = handler.stderr.strip().splitlines()
    assert lines[0] == (
        "error: payloads: parquet sample parquet_samples/one.parquet needs pyarrow to be read: "
        "pip install 'checkrun[parquet]'"
    )
    assert len(lines) == 2 and "Traceback" not in handler.stderr

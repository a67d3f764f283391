"""Sample payloads, metadata.json and the atomic payload.tar.gz."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path

import pytest

from runner.payload import (
    PayloadError,
    PayloadOptions,
    build_samples,
    generate_payloads,
    model_fields,
)

HP = {
    "full_field_list": ["id", "amount", "age", "country", "comment", "label"],
    "tab_field_list": ["amount", "age"],
    "cat_field_list": ["country"],
}


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "hyperparameters.json").write_text(json.dumps(HP))
    return folder


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        out = {}
        for m in tar.getmembers():
            handle = tar.extractfile(m)
            assert handle is not None
            out[m.name] = handle.read()
        return out


def test_default_is_one_json_record_with_defaults(model_dir: Path, tmp_path: Path) -> None:
    result = generate_payloads(model_dir, tmp_path / "out")
    members = _members(result.archive)
    assert sorted(members) == ["application_json/sample_payload.json", "metadata.json"]
    record = json.loads(members["application_json/sample_payload.json"])
    text = "DEFAULT_TEXT"
    assert record == {"amount": 0.0, "age": 0.0, "country": text, "comment": text}
    assert list(record) == ["amount", "age", "country", "comment"]


def test_json_and_csv_with_overrides(model_dir: Path, tmp_path: Path) -> None:
    options = PayloadOptions(
        content_types=["application/json", "text/csv"],
        default_numeric_value=1.5,
        default_text_value="SAMPLE, TEXT",
        special_fields={"amount": "100.50", "country": "IN"},
    )
    result = generate_payloads(model_dir, tmp_path / "out", options)
    members = _members(result.archive)
    record = json.loads(members["application_json/sample_payload.json"])
    assert record == {"amount": 100.5, "age": 1.5, "country": "IN", "comment": "SAMPLE, TEXT"}
    row = next(csv.reader(io.StringIO(members["text_csv/sample_payload.csv"].decode())))
    assert row == ["100.5", "1.5", "IN", "SAMPLE, TEXT"]  # headerless, text quoted as needed
    # the unpacked copy matches the archive byte for byte
    assert result.samples["text/csv"].read_bytes() == members["text_csv/sample_payload.csv"]


def test_metadata_describes_fields_and_digests(model_dir: Path, tmp_path: Path) -> None:
    options = PayloadOptions(content_types="application/json, text/csv")
    result = generate_payloads(model_dir, tmp_path / "out", options)
    members = _members(result.archive)
    meta = json.loads(members["metadata.json"])
    assert [f["name"] for f in meta["fields"]] == ["amount", "age", "country", "comment"]
    assert [f["type"] for f in meta["fields"]] == ["numeric", "numeric", "categorical", "text"]
    assert meta["content_types"] == ["application/json", "text/csv"]
    for sample in meta["samples"]:
        assert sample["sha256"] == hashlib.sha256(members[sample["path"]]).hexdigest()
    assert meta["label_name"] == "label"
    assert meta["source"].endswith("hyperparameters.json")


def test_options_from_environment_read_the_variable_checked() -> None:
    env = {
        "CONTENT_TYPES": "text/csv,application/json",
        "DEFAULT_NUMERIC_VALUE": "2",
        "DEFAULT_TEXT_VALUE": "T",
        "SPECIAL_FIELD_amount": "7",
        "amount": "not-this-one",  # the bare name is not an override
    }
    options = PayloadOptions.from_env(env)
    assert options.content_types == ["text/csv", "application/json"]
    assert options.default_numeric_value == 2.0
    assert options.special_fields == {"amount": "7"}
    values = build_samples(model_fields(HP, "hp"), options)[1]["fields"]
    assert {f["name"]: f["value"] for f in values}["amount"] == 7.0


def test_arguments_override_environment() -> None:
    env = {"CONTENT_TYPES": "text/csv", "SPECIAL_FIELD_age": "3"}
    options = PayloadOptions.from_env(
        env, content_types=["application/json"], special_fields={"age": "4"}
    )
    assert options.content_types == ["application/json"]
    assert options.special_fields == {"age": "4"}


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"special_fields": {"amount": "lots"}}, "amount is numeric"),
        ({"special_fields": {"label": "1"}}, "not input fields"),
        ({"special_fields": {"typo": "1"}}, "typo"),
    ],
)
def test_bad_special_fields_fail_and_leave_nothing(
    model_dir: Path, tmp_path: Path, options: dict, needle: str
) -> None:
    out = tmp_path / "out"
    with pytest.raises(PayloadError, match=needle):
        generate_payloads(model_dir, out, PayloadOptions(**options))
    assert not out.exists()  # validated before anything is written


def test_unknown_content_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported content type"):
        PayloadOptions(content_types=["image/jpeg"])


def test_regenerating_replaces_archive_and_leaves_no_staging(
    model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    generate_payloads(model_dir, out)
    result = generate_payloads(model_dir, out, PayloadOptions(content_types=["text/csv"]))
    assert sorted(p.name for p in out.iterdir()) == [
        "application_json",
        "metadata.json",
        "payload.tar.gz",
        "text_csv",
    ]
    assert "text_csv/sample_payload.csv" in _members(result.archive)


def test_archive_only_when_not_unpacked(model_dir: Path, tmp_path: Path) -> None:
    result = generate_payloads(model_dir, tmp_path / "out", unpack=False)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["payload.tar.gz"]
    assert result.samples == {}
    assert result.metadata is None


def test_from_model_archive(model_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(model_dir / "hyperparameters.json", arcname="hyperparameters.json")
    result = generate_payloads(archive, tmp_path / "out")
    assert result.to_dict()["fields"] == 4


def test_parquet_needs_pyarrow(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if the extra were not installed
    out = tmp_path / "out"
    with pytest.raises(PayloadError, match=r"pip install 'checkrun\[parquet\]'"):
        generate_payloads(model_dir, out, PayloadOptions(content_types=["application/x-parquet"]))
    assert not out.exists()  # validated before anything is written


def test_parquet_sample_round_trips(model_dir: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq  # in the `test` extra: this runs in CI

    options = PayloadOptions(content_types=["application/x-parquet"])
    result = generate_payloads(model_dir, tmp_path / "out", options)
    table = pq.read_table(result.samples["application/x-parquet"])
    assert table.to_pylist() == [
        {"amount": 0.0, "age": 0.0, "country": "DEFAULT_TEXT", "comment": "DEFAULT_TEXT"}
    ]

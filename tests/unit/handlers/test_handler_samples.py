"""Reading payload samples: the design notes' folders, `checkrun payload` output, archives."""

from __future__ import annotations

import io
import json
import sys
import tarfile
from pathlib import Path

import pytest

from runner.handlers import SamplesError, load_samples
from runner.payload import PayloadOptions, generate_payloads

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "handlers"


def test_samples_folder_layout_with_json_shapes() -> None:
    samples = {s.name: s for s in load_samples(FIXTURES / "payloads" / "records")}
    assert sorted(samples) == [
        "csv_samples/batch_sample.csv",
        "csv_samples/sample_001.csv",
        "json_samples/array_records.json",
        "json_samples/ndjson_sample.json",
        "json_samples/single_record.json",
    ]
    assert samples["csv_samples/batch_sample.csv"].content_type == "text/csv"
    assert samples["csv_samples/batch_sample.csv"].rows == 2
    assert (
        samples["json_samples/array_records.json"].shape,
        samples["json_samples/array_records.json"].rows,
    ) == ("json-array", 2)
    assert samples["json_samples/ndjson_sample.json"].shape == "ndjson"
    assert samples["json_samples/ndjson_sample.json"].rows == 3
    assert samples["json_samples/single_record.json"].shape == "json-record"
    assert {s.content_type for s in samples.values()} == {"text/csv", "application/json"}


def _model(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    hp = {"full_field_list": ["a", "b"], "tab_field_list": ["a"]}
    (folder / "hyperparameters.json").write_text(json.dumps(hp))
    return folder


def test_generated_payload_archive_and_its_folder_read_the_same(tmp_path: Path) -> None:
    out = tmp_path / "out"
    options = PayloadOptions(content_types=["application/json", "text/csv"])
    generate_payloads(_model(tmp_path), out, options)
    from_archive = load_samples(out / "payload.tar.gz")
    from_folder = load_samples(out)
    assert [(s.name, s.content_type, s.body) for s in from_archive] == [
        (s.name, s.content_type, s.body) for s in from_folder
    ]
    assert [s.name for s in from_archive] == [
        "application_json/sample_payload.json",
        "text_csv/sample_payload.csv",
    ]


def test_folder_with_only_the_archive_reads_the_archive(tmp_path: Path) -> None:
    out = tmp_path / "out"
    generate_payloads(_model(tmp_path), out, unpack=False)
    [sample] = load_samples(out)
    assert sample.source.endswith("payload.tar.gz:application_json/sample_payload.json")


def test_archive_members_outside_sample_folders_are_ignored(tmp_path: Path) -> None:
    archive = tmp_path / "payload.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, body in {
            "../evil/text_csv/x.csv": b"1",
            "metadata.json": b"{}",
            "text_csv/ok.csv": b"1,2\n",
            "other/x.csv": b"3",
        }.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    assert [s.name for s in load_samples(archive)] == ["text_csv/ok.csv"]


def test_single_file_by_extension(tmp_path: Path) -> None:
    sample = tmp_path / "rows.csv"
    sample.write_text("1,2\n")
    assert load_samples(sample)[0].content_type == "text/csv"
    odd = tmp_path / "rows.bin"
    odd.write_bytes(b"x")
    with pytest.raises(SamplesError, match=r"cannot tell the content type of rows\.bin"):
        load_samples(odd)


def test_missing_path_and_unreadable_archive(tmp_path: Path) -> None:
    with pytest.raises(SamplesError, match="do not exist"):
        load_samples(tmp_path / "nope")
    bad = tmp_path / "payload.tar.gz"
    bad.write_bytes(b"garbage")
    with pytest.raises(SamplesError) as info:
        load_samples(bad)
    assert str(info.value) == f"payload archive {bad} cannot be read: neither gzip nor tar data"


def test_invalid_json_is_marked() -> None:
    from runner.handlers.samples import describe

    assert describe("application/json", b"{oops", "x.json") == ("invalid-json", None)


def test_parquet_samples(tmp_path: Path) -> None:  # pyarrow is in the `test` extra
    folder = tmp_path / "samples" / "parquet_samples"
    folder.mkdir(parents=True)
    out = tmp_path / "gen"
    options = PayloadOptions(content_types=["application/x-parquet"])
    generated = generate_payloads(_model(tmp_path), out, options)
    (folder / "one.parquet").write_bytes(generated.samples["application/x-parquet"].read_bytes())
    [sample] = load_samples(tmp_path / "samples")
    assert (sample.content_type, sample.shape, sample.rows) == (
        "application/x-parquet",
        "parquet",
        1,
    )


def test_parquet_without_pyarrow_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "parquet_samples"
    folder.mkdir()
    (folder / "one.parquet").write_bytes(b"PAR1" + b"\0" * 8 + b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(SamplesError, match=r"needs pyarrow.*checkrun\[parquet\]"):
        load_samples(tmp_path)


def test_parquet_that_is_not_parquet(tmp_path: Path) -> None:
    folder = tmp_path / "parquet_samples"
    folder.mkdir()
    (folder / "one.parquet").write_bytes(b"csv,really")
    with pytest.raises(SamplesError, match="no PAR1 magic"):
        load_samples(tmp_path)


def test_one_sample_folder_on_its_own() -> None:
    # `--payloads samples/json_samples` reads that folder as the design notes' json_samples/
    samples = load_samples(FIXTURES / "payloads" / "records" / "json_samples")
    assert [(s.name, s.content_type) for s in samples] == [
        ("json_samples/array_records.json", "application/json"),
        ("json_samples/ndjson_sample.json", "application/json"),
        ("json_samples/single_record.json", "application/json"),
    ]

"""Reading and classifying hyperparameters.json from model folders and archives."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from runner.payload import PayloadError, load_model_fields, model_fields


def _tar(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, body in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return path


HP = {
    "full_field_list": ["id", "age", "country", "note", "label"],
    "tab_field_list": ["age"],
    "cat_field_list": ["country"],
}


def test_fields_classified_and_label_id_dropped_in_order() -> None:
    fields = model_fields(HP, "hp.json")
    assert [(f.name, f.kind) for f in fields.fields] == [
        ("age", "numeric"),
        ("country", "categorical"),
        ("note", "text"),
    ]
    assert (fields.label_name, fields.id_name) == ("label", "id")


def test_custom_label_and_id_names_are_left_out() -> None:
    hp = {
        "full_field_list": ["order_id", "x", "is_fraud", "label"],
        "tab_field_list": ["x"],
        "label_name": "is_fraud",
        "id_name": "order_id",
    }
    fields = model_fields(hp, "hp.json")
    # "label" is an ordinary text column when label_name names another one
    assert fields.names == ["x", "label"]


def test_stringified_lists_as_sagemaker_passes_them() -> None:
    hp = {k: json.dumps(v) for k, v in HP.items()}
    assert model_fields(hp, "hp.json").names == ["age", "country", "note"]


def test_missing_cat_field_list_means_no_categoricals() -> None:
    hp = {"full_field_list": ["a", "b"], "tab_field_list": ["a"]}
    assert [f.kind for f in model_fields(hp, "hp.json").fields] == ["numeric", "text"]


@pytest.mark.parametrize(
    ("hp", "needle"),
    [
        ({"tab_field_list": []}, "missing 'full_field_list'"),
        ({"full_field_list": ["a"]}, "missing 'tab_field_list'"),
        ({"full_field_list": "a,b", "tab_field_list": []}, "not a JSON list"),
        ({"full_field_list": [1, 2], "tab_field_list": []}, "must be a list of field names"),
        ({"full_field_list": ["a", "a"], "tab_field_list": []}, "repeats a"),
        ({"full_field_list": ["a"], "tab_field_list": ["a"], "cat_field_list": ["a"]}, "both"),
        ({"full_field_list": ["a"], "tab_field_list": ["b"]}, "not in 'full_field_list': b"),
        ({"full_field_list": ["id", "label"], "tab_field_list": []}, "no input fields"),
        ({"full_field_list": ["a"], "tab_field_list": [], "label_name": 3}, "'label_name'"),
    ],
)
def test_malformed_hyperparameters_name_file_and_problem(hp: dict, needle: str) -> None:
    with pytest.raises(PayloadError, match=r"hp\.json") as info:
        model_fields(hp, "hp.json")
    assert needle in str(info.value)


def test_reads_shallowest_file_in_a_model_folder(tmp_path: Path) -> None:
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "hyperparameters.json").write_text(
        json.dumps({"full_field_list": ["deep"], "tab_field_list": []})
    )
    (tmp_path / "hyperparameters.json").write_text(json.dumps(HP))
    assert load_model_fields(tmp_path).names == ["age", "country", "note"]


def test_reads_from_archive_without_extracting(tmp_path: Path) -> None:
    archive = _tar(
        tmp_path / "model.tar.gz",
        {"model.bin": b"\0" * 10, "./hyperparameters.json": json.dumps(HP).encode()},
    )
    fields = load_model_fields(archive)
    assert fields.names == ["age", "country", "note"]
    assert fields.source.endswith("model.tar.gz:./hyperparameters.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.tar.gz"]


def test_archive_without_hyperparameters_is_named(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "model.tar.gz", {"model.bin": b"x"})
    with pytest.raises(PayloadError, match=r"no hyperparameters\.json in model archive"):
        load_model_fields(archive)


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "hyperparameters.json").write_text("{not json")
    with pytest.raises(PayloadError, match=r"hyperparameters.json is not valid JSON"):
        load_model_fields(tmp_path)


def test_json_that_is_not_an_object(tmp_path: Path) -> None:
    (tmp_path / "hyperparameters.json").write_text("[1, 2]")
    with pytest.raises(PayloadError, match="must hold a JSON object, found list"):
        load_model_fields(tmp_path)


def test_missing_model_and_non_archive_file(tmp_path: Path) -> None:
    with pytest.raises(PayloadError, match="does not exist"):
        load_model_fields(tmp_path / "nope.tar.gz")
    bogus = tmp_path / "model.tar.gz"
    bogus.write_bytes(b"not a tar")
    with pytest.raises(PayloadError) as info:
        load_model_fields(bogus)
    # one line saying what the file is, not tarfile's one line per compression tried
    assert str(info.value) == (
        f"model {bogus} is neither a folder nor a readable tar archive: neither gzip nor tar data"
    )
    bogus.write_bytes(b"PK\x03\x04" + b"\0" * 26)
    with pytest.raises(PayloadError, match=r"readable tar archive: a zip file, not a tar\.gz$"):
        load_model_fields(bogus)

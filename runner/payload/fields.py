"""The payload fields a model expects, read from the `hyperparameters.json` its training wrote.

Training pipelines save their field lists next to the model (in the model folder, or inside
model.tar.gz). The fields that matter here:

* `full_field_list`: every column, in the order the model reads them (required);
* `tab_field_list`: the numeric ones (required);
* `cat_field_list`: categorical ones, sent as text (optional, default none);
* `label_name` / `id_name`: left out of payloads (defaults "label" and "id").

A field in neither list is text. SageMaker passes training hyperparameters as strings, so a
list may also arrive JSON-encoded (`"[\"a\", \"b\"]"`); both shapes are accepted.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from runner.errors import CheckrunError
from runner.payload.archive import open_archive

HYPERPARAMETERS_FILE = "hyperparameters.json"
MAX_HYPERPARAMETERS_BYTES = 16 * 2**20  # a field list, not a data set

FieldKind = Literal["numeric", "categorical", "text"]


class PayloadError(CheckrunError):
    """Payloads cannot be generated: missing or malformed hyperparameters, bad options."""


@dataclass(frozen=True)
class PayloadField:
    """One input column of the model and how its sample value is written."""

    name: str
    kind: FieldKind


@dataclass(frozen=True)
class ModelFields:
    """The model's input columns (label and id removed), in `full_field_list` order."""

    fields: tuple[PayloadField, ...]
    label_name: str
    id_name: str
    source: str  # where the hyperparameters were read, for messages and metadata

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]


def read_hyperparameters(model: Path) -> tuple[dict[str, Any], str]:
    """The parsed hyperparameters.json of a model folder or model.tar.gz, and where it was found.

    The shallowest `hyperparameters.json` wins (the archive root, usually). Reading from an
    archive never extracts anything to disk.
    """
    model = Path(model)
    if not model.exists():
        raise PayloadError(f"model {model} does not exist (expected a folder or a model.tar.gz)")
    if model.is_dir():
        raw, where = _read_from_folder(model)
    else:
        raw, where = _read_from_archive(model)
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"{where} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise PayloadError(f"{where} must hold a JSON object, found {type(data).__name__}")
    return data, where


def _read_from_folder(folder: Path) -> tuple[bytes, str]:
    candidates: list[Path] = []
    for pattern in ("", "*/", "*/*/"):  # the root first; no deep walk of a large model folder
        candidates = sorted(p for p in folder.glob(pattern + HYPERPARAMETERS_FILE) if p.is_file())
        if candidates:
            break
    if not candidates:
        raise PayloadError(f"no {HYPERPARAMETERS_FILE} in model folder {folder}")
    path = candidates[0]
    if path.stat().st_size > MAX_HYPERPARAMETERS_BYTES:
        raise PayloadError(f"{path} is larger than {MAX_HYPERPARAMETERS_BYTES} bytes")
    return path.read_bytes(), str(path)


def _read_from_archive(archive: Path) -> tuple[bytes, str]:
    try:
        with open_archive(archive) as tar:
            members = [
                m
                for m in tar.getmembers()
                if m.isfile() and PurePosixPath(m.name).name == HYPERPARAMETERS_FILE
            ]
            if not members:
                raise PayloadError(f"no {HYPERPARAMETERS_FILE} in model archive {archive}")
            member = min(members, key=lambda m: (len(PurePosixPath(m.name).parts), m.name))
            if member.size > MAX_HYPERPARAMETERS_BYTES:
                raise PayloadError(
                    f"{archive}:{member.name} is larger than {MAX_HYPERPARAMETERS_BYTES} bytes"
                )
            handle = tar.extractfile(member)
            assert handle is not None  # a regular file member always has content
            return handle.read(), f"{archive}:{member.name}"
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise PayloadError(
            f"model {archive} is neither a folder nor a readable tar archive: {exc}"
        ) from exc


def _name_list(data: Mapping[str, Any], key: str, where: str, *, required: bool) -> list[str]:
    if key not in data:
        if required:
            raise PayloadError(f"{where}: missing {key!r} (a list of field names)")
        return []
    value = data[key]
    if isinstance(value, str):  # SageMaker stringifies hyperparameters
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise PayloadError(f"{where}: {key!r} is a string that is not a JSON list") from exc
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PayloadError(f"{where}: {key!r} must be a list of field names (strings)")
    return list(value)


def _name(data: Mapping[str, Any], key: str, default: str, where: str) -> str:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{where}: {key!r} must be a non-empty string")
    return value


def model_fields(data: Mapping[str, Any], source: str) -> ModelFields:
    """Classify every column of `data` (a parsed hyperparameters.json) for payload generation."""
    full = _name_list(data, "full_field_list", source, required=True)
    numeric = _name_list(data, "tab_field_list", source, required=True)
    categorical = _name_list(data, "cat_field_list", source, required=False)
    label = _name(data, "label_name", "label", source)
    ident = _name(data, "id_name", "id", source)
    problems: list[str] = []
    duplicates = sorted({n for n in full if full.count(n) > 1})
    if duplicates:
        problems.append(f"'full_field_list' repeats {', '.join(duplicates)}")
    both = sorted(set(numeric) & set(categorical))
    if both:
        problems.append(f"fields in both 'tab_field_list' and 'cat_field_list': {', '.join(both)}")
    for key, names in (("tab_field_list", numeric), ("cat_field_list", categorical)):
        unknown = [n for n in names if n not in full]
        if unknown:
            problems.append(f"{key!r} names fields not in 'full_field_list': {', '.join(unknown)}")
    if problems:
        raise PayloadError(f"{source}: " + "; ".join(problems))
    fields: list[PayloadField] = []
    for name in full:
        if name in (label, ident):
            continue
        kind: FieldKind = (
            "numeric" if name in numeric else "categorical" if name in categorical else "text"
        )
        fields.append(PayloadField(name, kind))
    if not fields:
        raise PayloadError(f"{source}: no input fields left once label and id are removed")
    return ModelFields(tuple(fields), label, ident, source)


def load_model_fields(model: Path) -> ModelFields:
    """Read and classify the fields of the model folder or model.tar.gz at `model`."""
    data, source = read_hyperparameters(model)
    return model_fields(data, source)

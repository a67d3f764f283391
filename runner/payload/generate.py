"""Sample payloads from a model's fields, packed as `payload.tar.gz`.

Layout of the archive (and of the unpacked copy written next to it):

    application_json/sample_payload.json   one record: {"field": value, ...}
    text_csv/sample_payload.csv            one headerless row, fields in full_field_list order
    application_x-parquet/sample_payload.parquet   (needs the `parquet` extra: pyarrow)
    metadata.json                          fields, values, options, and every sample's digest

Everything is built in a staging folder inside the output folder and moved into place with
`os.replace`, so a reader never sees a half-written archive and a failure leaves nothing
behind.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from runner.payload.fields import ModelFields, PayloadError, PayloadField, load_model_fields

ARCHIVE_NAME = "payload.tar.gz"
METADATA_NAME = "metadata.json"
SAMPLE_STEM = "sample_payload"
SPECIAL_FIELD_PREFIX = "SPECIAL_FIELD_"
# content type -> file extension; the folder is the content type with "/" replaced by "_"
SUPPORTED_CONTENT_TYPES: dict[str, str] = {
    "application/json": "json",
    "text/csv": "csv",
    "application/x-parquet": "parquet",
}


def content_type_folder(content_type: str) -> str:
    """`application/json` -> `application_json` (the archive's folder for that type)."""
    return content_type.replace("/", "_")


class PayloadOptions(BaseModel):
    """What to generate; the same knobs as the pipeline script's environment variables."""

    model_config = ConfigDict(extra="forbid")

    content_types: list[str] = Field(default_factory=lambda: ["application/json"])
    default_numeric_value: float = 0.0
    default_text_value: str = "DEFAULT_TEXT"
    special_fields: dict[str, str] = Field(default_factory=dict)

    @field_validator("content_types", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("content_types")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one content type is needed")
        unknown = [v for v in value if v not in SUPPORTED_CONTENT_TYPES]
        if unknown:
            raise ValueError(
                f"unsupported content type(s) {', '.join(unknown)}; "
                f"supported: {', '.join(SUPPORTED_CONTENT_TYPES)}"
            )
        return list(dict.fromkeys(value))

    @field_validator("special_fields", mode="before")
    @classmethod
    def _stringify(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): str(v) for k, v in value.items()}
        return value

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: Any) -> PayloadOptions:
        """Options from `CONTENT_TYPES`, `DEFAULT_NUMERIC_VALUE`, `DEFAULT_TEXT_VALUE` and
        `SPECIAL_FIELD_<name>`; `overrides` (not None) win over the environment."""
        values: dict[str, Any] = {}
        if env.get("CONTENT_TYPES"):
            values["content_types"] = env["CONTENT_TYPES"]
        if env.get("DEFAULT_NUMERIC_VALUE"):
            values["default_numeric_value"] = env["DEFAULT_NUMERIC_VALUE"]
        if "DEFAULT_TEXT_VALUE" in env:
            values["default_text_value"] = env["DEFAULT_TEXT_VALUE"]
        special = {
            key[len(SPECIAL_FIELD_PREFIX) :]: value
            for key, value in env.items()
            if key.startswith(SPECIAL_FIELD_PREFIX) and len(key) > len(SPECIAL_FIELD_PREFIX)
        }
        special.update(overrides.pop("special_fields", None) or {})
        if special:
            values["special_fields"] = special
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)


def options_error(exc: ValidationError) -> str:
    """One line for invalid PayloadOptions: each field and what is wrong with it."""
    return "invalid payload options: " + "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'options'}: "
        + str(e["msg"]).removeprefix("Value error, ")
        for e in exc.errors()
    )


@dataclass(frozen=True)
class Sample:
    """One generated payload file."""

    content_type: str
    path: str  # inside the archive, e.g. "text_csv/sample_payload.csv"
    body: bytes


@dataclass(frozen=True)
class PayloadResult:
    """What `generate_payloads` wrote."""

    archive: Path
    samples: dict[str, Path]  # content type -> unpacked file (empty when not unpacked)
    metadata: Path | None
    fields: ModelFields
    values: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "archive": str(self.archive),
            "samples": {ct: str(p) for ct, p in self.samples.items()},
            "metadata": str(self.metadata) if self.metadata else None,
            "fields": len(self.fields.fields),
            "values": self.values,
            "source": self.fields.source,
        }


def field_values(fields: ModelFields, options: PayloadOptions) -> dict[str, Any]:
    """The value every field gets: its SPECIAL_FIELD override, else the default for its kind."""
    known = {f.name: f for f in fields.fields}
    unknown = sorted(set(options.special_fields) - set(known))
    if unknown:
        raise PayloadError(
            f"special field value(s) for {', '.join(unknown)} (SPECIAL_FIELD_<name> or "
            f"special_fields), which are not input fields of the model ({fields.source}; "
            f"label {fields.label_name!r} and id {fields.id_name!r} are never sent)"
        )
    values: dict[str, Any] = {}
    for f in fields.fields:
        values[f.name] = _value(f, options)
    return values


def _value(field: PayloadField, options: PayloadOptions) -> Any:
    special = options.special_fields.get(field.name)
    if field.kind != "numeric":
        return options.default_text_value if special is None else special
    if special is None:
        return options.default_numeric_value
    try:
        return float(special)
    except ValueError:
        raise PayloadError(
            f"{SPECIAL_FIELD_PREFIX}{field.name}={special!r}: {field.name} is numeric "
            "(tab_field_list), the value must be a number"
        ) from None


def render_sample(content_type: str, values: Mapping[str, Any]) -> bytes:
    """The body of one sample of `content_type` holding `values` (field order kept)."""
    if content_type == "application/json":
        return json.dumps(dict(values)).encode()
    if content_type == "text/csv":
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(list(values.values()))
        return buffer.getvalue().encode()
    if content_type == "application/x-parquet":
        return _parquet(values)
    raise PayloadError(f"unsupported content type {content_type!r}")


def _parquet(values: Mapping[str, Any]) -> bytes:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise PayloadError(
            "application/x-parquet payloads need pyarrow: pip install 'checkrun[parquet]'"
        ) from None
    table = pa.table({name: [value] for name, value in values.items()})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def build_samples(
    fields: ModelFields, options: PayloadOptions
) -> tuple[list[Sample], dict[str, Any]]:
    """Every sample file plus the metadata document describing them (nothing written)."""
    values = field_values(fields, options)
    samples = []
    for content_type in options.content_types:
        ext = SUPPORTED_CONTENT_TYPES[content_type]
        path = f"{content_type_folder(content_type)}/{SAMPLE_STEM}.{ext}"
        samples.append(Sample(content_type, path, render_sample(content_type, values)))
    metadata = {
        "generator": "checkrun payload",
        "version": 1,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "source": fields.source,
        "label_name": fields.label_name,
        "id_name": fields.id_name,
        "fields": [
            {"name": f.name, "type": f.kind, "value": values[f.name]} for f in fields.fields
        ],
        "content_types": list(options.content_types),
        "default_numeric_value": options.default_numeric_value,
        "default_text_value": options.default_text_value,
        "special_fields": dict(options.special_fields),
        "samples": [
            {
                "path": s.path,
                "content_type": s.content_type,
                "bytes": len(s.body),
                "sha256": hashlib.sha256(s.body).hexdigest(),
            }
            for s in samples
        ],
    }
    return samples, metadata


def _add(tar: tarfile.TarFile, name: str, body: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(body)
    info.mtime = int(mtime)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(body))


def generate_payloads(
    model: Path,
    out_dir: Path,
    options: PayloadOptions | None = None,
    *,
    unpack: bool = True,
) -> PayloadResult:
    """Write `out_dir/payload.tar.gz` (and, with `unpack`, the same files beside it) for the
    model folder or model.tar.gz at `model`.

    Raises PayloadError (naming the file and what is wrong) for missing or malformed
    hyperparameters and invalid options; nothing is left in `out_dir` then.
    """
    options = options or PayloadOptions()
    fields = load_model_fields(Path(model))
    samples, metadata = build_samples(fields, options)
    documents = [(s.path, s.body) for s in samples]
    documents.append((METADATA_NAME, json.dumps(metadata, indent=2).encode() + b"\n"))

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise PayloadError(f"cannot write payloads to {out_dir}: it is a file, not a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".payload-", dir=out_dir))
    except OSError as exc:
        raise PayloadError(f"cannot write payloads to {out_dir}: {exc.strerror or exc}") from None
    try:
        now = datetime.now(timezone.utc).timestamp()
        staged_archive = staging / ARCHIVE_NAME
        with open(staged_archive, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz") as tar:
                for name, body in documents:
                    _add(tar, name, body, now)
            raw.flush()
            os.fsync(raw.fileno())
        written: dict[str, Path] = {}
        if unpack:
            for name, body in documents:
                staged = staging / "files" / name
                staged.parent.mkdir(parents=True, exist_ok=True)
                staged.write_bytes(body)
            for name, _ in documents:
                final = out_dir / name
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / "files" / name, final)
                written[name] = final
        archive = out_dir / ARCHIVE_NAME
        os.replace(staged_archive, archive)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return PayloadResult(
        archive=archive,
        samples={s.content_type: written[s.path] for s in samples if s.path in written},
        metadata=written.get(METADATA_NAME),
        fields=fields,
        values={f["name"]: f["value"] for f in metadata["fields"]},
    )

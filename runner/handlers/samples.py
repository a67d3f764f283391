"""Payload samples to feed a handler, from a samples folder or a payload.tar.gz.

Two layouts are read, in a folder or inside an archive:

    csv_samples/*.csv            text/csv
    json_samples/*.json          application/json (one record, an array, or NDJSON)
    parquet_samples/*.parquet    application/x-parquet (needs the `parquet` extra: pyarrow)

(or one such folder on its own, e.g. `json_samples/`), and the one `checkrun payload` writes:
a folder per content type, named after it with "/" replaced by "_" (`application_json/`,
`text_csv/`, `application_x-parquet/`). A folder holding no sample folders but a
`payload.tar.gz` is read through the archive. A single file is one sample, its content type
taken from its extension.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from runner.errors import CheckrunError
from runner.payload.archive import open_archive

JSON = "application/json"
CSV = "text/csv"
PARQUET = "application/x-parquet"
PAYLOAD_ARCHIVE = "payload.tar.gz"
MAX_SAMPLES_BYTES = 256 * 2**20  # payload samples, not data sets

# folder -> content type (the design notes' layout)
SAMPLE_FOLDERS: dict[str, str] = {
    "csv_samples": CSV,
    "json_samples": JSON,
    "parquet_samples": PARQUET,
}
EXTENSIONS: dict[str, str] = {
    ".csv": CSV,
    ".json": JSON,
    ".jsonl": JSON,
    ".ndjson": JSON,
    ".parquet": PARQUET,
}


class SamplesError(CheckrunError):
    """The payload samples cannot be read."""


@dataclass(frozen=True)
class PayloadSample:
    """One request body to send to the handler."""

    name: str  # e.g. "csv_samples/sample_001.csv"
    content_type: str
    body: bytes
    source: str  # the file, or "archive:member"
    shape: str  # "csv", "json-record", "json-array", "ndjson", "parquet", "invalid-json", ...
    rows: int | None = None  # records in the sample, when known


def folder_content_type(folder: str) -> str | None:
    """The content type a sample folder stands for, or None for any other folder."""
    if folder in SAMPLE_FOLDERS:
        return SAMPLE_FOLDERS[folder]
    if "_" in folder:
        kind, _, sub = folder.partition("_")
        if kind in ("application", "text") and sub:
            return f"{kind}/{sub}"
    return None


def describe(content_type: str, body: bytes, name: str) -> tuple[str, int | None]:
    """(shape, rows) of a sample: which JSON layout it is, how many rows it carries."""
    if content_type == JSON:
        return _describe_json(body)
    if content_type == CSV:
        lines = [line for line in body.decode("utf-8", "replace").splitlines() if line.strip()]
        return "csv", len(lines)
    if content_type == PARQUET:
        return "parquet", _parquet_rows(body, name)
    return "bytes", None


def _describe_json(body: bytes) -> tuple[str, int | None]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        lines = [line for line in body.splitlines() if line.strip()]
        try:
            records = [json.loads(line) for line in lines]
        except (UnicodeDecodeError, json.JSONDecodeError):
            return "invalid-json", None
        return ("ndjson", len(records)) if len(records) > 1 else ("invalid-json", None)
    if isinstance(data, list):
        return "json-array", len(data)
    return ("json-record" if isinstance(data, dict) else "json-value"), 1


def _parquet_rows(body: bytes, name: str) -> int:
    if not (body.startswith(b"PAR1") and body.endswith(b"PAR1")):
        raise SamplesError(f"parquet sample {name} is not a parquet file (no PAR1 magic)")
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise SamplesError(
            f"parquet sample {name} needs pyarrow to be read: pip install 'checkrun[parquet]'"
        ) from None
    try:
        return int(pq.ParquetFile(pa.BufferReader(body)).metadata.num_rows)
    except Exception as exc:  # pyarrow raises its own ArrowInvalid family
        raise SamplesError(f"parquet sample {name} cannot be read: {exc}") from exc


def _sample(name: str, content_type: str, body: bytes, source: str) -> PayloadSample:
    shape, rows = describe(content_type, body, name)
    return PayloadSample(name, content_type, body, source, shape, rows)


def _visible(path: Path) -> bool:
    return not path.name.startswith(".") and path.is_file()


def _from_folder(folder: Path) -> list[PayloadSample]:
    samples: list[PayloadSample] = []
    sample_folders = [
        d for d in sorted(folder.iterdir()) if d.is_dir() and folder_content_type(d.name)
    ]
    root = folder
    if not sample_folders and (folder / PAYLOAD_ARCHIVE).is_file():
        return _from_archive(folder / PAYLOAD_ARCHIVE)
    if not sample_folders and folder_content_type(folder.name):
        root, sample_folders = folder.parent, [folder]  # given json_samples/ itself
    total = 0
    for sub in sample_folders:
        content_type = folder_content_type(sub.name)
        assert content_type is not None
        for path in sorted(p for p in sub.rglob("*") if _visible(p)):
            total += path.stat().st_size
            if total > MAX_SAMPLES_BYTES:
                raise SamplesError(f"samples in {folder} exceed {MAX_SAMPLES_BYTES} bytes")
            name = path.relative_to(root).as_posix()
            samples.append(_sample(name, content_type, path.read_bytes(), str(path)))
    return samples


def _from_archive(archive: Path) -> list[PayloadSample]:
    samples: list[PayloadSample] = []
    try:
        with open_archive(archive) as tar:
            members = sorted((m for m in tar.getmembers() if m.isfile()), key=lambda m: m.name)
            total = 0
            for member in members:
                parts = PurePosixPath(member.name).parts
                parts = tuple(p for p in parts if p != ".")
                if member.name.startswith("/") or ".." in parts or len(parts) < 2:
                    continue  # metadata.json at the root, or a name we will not trust
                content_type = folder_content_type(parts[0])
                if content_type is None or parts[-1].startswith("."):
                    continue
                total += member.size
                if total > MAX_SAMPLES_BYTES:
                    raise SamplesError(f"samples in {archive} exceed {MAX_SAMPLES_BYTES} bytes")
                handle = tar.extractfile(member)
                assert handle is not None
                name = "/".join(parts)
                samples.append(_sample(name, content_type, handle.read(), f"{archive}:{name}"))
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise SamplesError(f"payload archive {archive} cannot be read: {exc}") from exc
    return samples


def load_samples(path: Path) -> list[PayloadSample]:
    """Every sample under `path` (folder, payload.tar.gz, or one file), sorted by name.

    Raises SamplesError when the path is missing or unreadable; an empty list means the
    folder exists but holds no samples.
    """
    path = Path(path)
    if not path.exists():
        raise SamplesError(f"payload samples {path} do not exist")
    if path.is_dir():
        return _from_folder(path)
    if path.name.endswith((".tar.gz", ".tgz", ".tar")):
        return _from_archive(path)
    content_type = EXTENSIONS.get(path.suffix.lower())
    if content_type is None:
        raise SamplesError(
            f"cannot tell the content type of {path.name}; use one of "
            f"{', '.join(sorted(EXTENSIONS))} or a samples folder"
        )
    return [_sample(path.name, content_type, path.read_bytes(), str(path))]


def content_types_of(samples: Iterable[PayloadSample]) -> list[str]:
    """The distinct content types of `samples`, in first-seen order."""
    return list(dict.fromkeys(s.content_type for s in samples))

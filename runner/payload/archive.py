"""Opening a model.tar.gz or payload.tar.gz for reading, with a one-line error when it is not one.

`tarfile.open(path, "r:*")` reports a file that is no archive with one line per compression it
tried ("- method gz: ReadError('not a gzip file')" ...), which reads like a crash to a user.
`open_archive` raises the same `tarfile.ReadError` with one line saying what the file is, so
callers keep their `except tarfile.TarError` and their messages stay one line.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

# leading bytes -> what the file is, for the error message
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip data that is corrupt or not a tar inside"),
    (b"PK\x03\x04", "a zip file, not a tar.gz"),
    (b"PK\x05\x06", "an empty zip file, not a tar.gz"),
    (b"BZh", "bzip2 data that is corrupt or not a tar inside"),
    (b"\xfd7zXZ", "xz data that is corrupt or not a tar inside"),
)


def _what_it_is(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if not head:
        return "the file is empty"
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    return "neither gzip nor tar data"


def open_archive(path: Path) -> tarfile.TarFile:
    """`tarfile.open(path, "r:*")`, raising a one-line `tarfile.ReadError` for a non-archive."""
    try:
        return tarfile.open(path, "r:*")
    except tarfile.ReadError:
        raise tarfile.ReadError(_what_it_is(Path(path))) from None

"""Safe extraction of a SageMaker `model.tar.gz`.

SageMaker extracts the archive into `/opt/ml/model`; we extract it into a folder of our own,
refusing anything that would write outside that folder (absolute paths, `..`, links pointing
out of the tree), device files and FIFOs, and archives whose members add up to an absurd size.
"""

from __future__ import annotations

import tarfile
from pathlib import Path, PurePosixPath

from runner.errors import CheckrunError


class ModelArchiveError(CheckrunError):
    """The model archive is unreadable or unsafe to extract."""


def _check_member(member: tarfile.TarInfo, dest: Path) -> None:
    """Refuse one member that could escape `dest` or is not a plain file, folder or safe link."""
    name = member.name
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith(("/", "\\")):
        raise ModelArchiveError(f"model archive member {name!r} has an absolute path")
    if ".." in path.parts:
        raise ModelArchiveError(f"model archive member {name!r} points outside the archive ('..')")
    target = (dest / name).resolve()
    if not _inside(target, dest):
        raise ModelArchiveError(f"model archive member {name!r} points outside the archive")
    if member.isdev() or member.isfifo():
        raise ModelArchiveError(f"model archive member {name!r} is a device or FIFO")
    if member.issym() or member.islnk():
        link = member.linkname
        if PurePosixPath(link).is_absolute():
            raise ModelArchiveError(
                f"model archive member {name!r} links to an absolute path {link!r}"
            )
        base = (dest / name).parent if member.issym() else dest
        if not _inside((base / link).resolve(), dest):
            raise ModelArchiveError(
                f"model archive member {name!r} links outside the archive ({link!r})"
            )
    elif not (member.isfile() or member.isdir()):
        raise ModelArchiveError(f"model archive member {name!r} has an unsupported type")


def _inside(path: Path, root: Path) -> bool:
    root = root.resolve()
    return path == root or root in path.parents


def extract_model(archive: Path, dest: Path, *, max_total_bytes: int = 10 * 2**30) -> Path:
    """Extract `archive` (a model.tar.gz) into `dest` safely and return `dest`.

    Every member is checked before anything is written, so a bad archive leaves `dest` empty.
    Raises ModelArchiveError naming the offending member.
    """
    archive = Path(archive)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    dest_resolved = dest.resolve()
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            total = 0
            for member in members:
                _check_member(member, dest_resolved)
                total += max(member.size, 0)
                if total > max_total_bytes:
                    raise ModelArchiveError(
                        f"model archive {archive.name} expands to more than "
                        f"{max_total_bytes} bytes; refusing to extract"
                    )
            # The 'data' filter (Python >= 3.11.4 / 3.12) repeats our checks and strips
            # set-uid bits; older Pythons rely on the checks above.
            if hasattr(tarfile, "data_filter"):
                tar.extractall(dest_resolved, members=members, filter="data")
            else:  # pragma: no cover - old Pythons
                tar.extractall(dest_resolved, members=members)
    except tarfile.TarError as exc:
        raise ModelArchiveError(
            f"model archive {archive} is not a readable tar file: {exc}"
        ) from exc
    except OSError as exc:
        raise ModelArchiveError(f"cannot extract model archive {archive}: {exc}") from exc
    return dest


def pack_model(source: Path, archive: Path) -> Path:
    """Write the contents of folder `source` as a model.tar.gz at `archive` (members at the root).

    The inverse of extract_model, for tests and examples that build models from a folder.
    """
    source = Path(source)
    archive = Path(archive)
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(source.rglob("*")):
            if "__pycache__" in path.parts:
                continue
            tar.add(path, arcname=path.relative_to(source).as_posix(), recursive=False)
    return archive

"""extract_model refuses archives that could write outside the model folder."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from runner.model import ModelArchiveError, extract_model, pack_model

FIXTURES = Path(__file__).parents[2] / "fixtures" / "models"


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _file(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, None


def test_pack_then_extract_round_trips(tmp_path: Path) -> None:
    archive = pack_model(FIXTURES / "echo", tmp_path / "model.tar.gz")
    out = extract_model(archive, tmp_path / "out")
    assert (out / "code" / "inference.py").is_file()
    assert (out / "greeting.txt").read_text().strip() == "hello"


@pytest.mark.parametrize(
    ("member", "needle"),
    [
        (_file("../evil.py"), "outside"),
        (_file("/etc/evil.py"), "absolute"),
        (_file("code/../../evil.py"), "outside"),
        (_link("code/escape", "../../../etc/passwd"), "links outside"),
        (_link("code/abs", "/etc/passwd"), "absolute"),
        (_link("code/hard", "../outside", tarfile.LNKTYPE), "links outside"),
    ],
)
def test_unsafe_member_is_refused(
    tmp_path: Path, member: tuple[tarfile.TarInfo, bytes | None], needle: str
) -> None:
    archive = _tar(tmp_path / "bad.tar.gz", [_file("code/inference.py"), member])
    with pytest.raises(ModelArchiveError, match=needle):
        extract_model(archive, tmp_path / "out")
    assert not (tmp_path / "out" / "code").exists()


def test_device_member_is_refused(tmp_path: Path) -> None:
    info = tarfile.TarInfo("dev/null")
    info.type = tarfile.CHRTYPE
    archive = _tar(tmp_path / "dev.tar.gz", [(info, None)])
    with pytest.raises(ModelArchiveError, match="device"):
        extract_model(archive, tmp_path / "out")


def test_absurd_size_is_refused(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "big.tar.gz", [_file("a.bin", b"0" * 2048)])
    with pytest.raises(ModelArchiveError, match="more than 1000 bytes"):
        extract_model(archive, tmp_path / "out", max_total_bytes=1000)


def test_symlink_inside_the_tree_is_kept(tmp_path: Path) -> None:
    archive = _tar(
        tmp_path / "ok.tar.gz", [_file("weights/v1.bin", b"w"), _link("weights/latest", "v1.bin")]
    )
    out = extract_model(archive, tmp_path / "out")
    assert (out / "weights" / "latest").read_bytes() == b"w"


def test_not_a_tar_file_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "model.tar.gz"
    bogus.write_bytes(b"not a tar")
    with pytest.raises(ModelArchiveError, match="not a readable tar file"):
        extract_model(bogus, tmp_path / "out")

"""code/requirements.txt is checked against the current environment before the model loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.model.requirements import RequirementsError, satisfy_requirements


def _model(tmp_path: Path, text: str) -> Path:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "requirements.txt").write_text(text)
    return tmp_path


def test_no_requirements_file_is_fine(tmp_path: Path) -> None:
    assert satisfy_requirements(tmp_path) == []


def test_installed_requirements_pass_and_options_are_skipped(tmp_path: Path) -> None:
    model = _model(
        tmp_path,
        "--extra-index-url https://example.com\nnumpy>=1.0  # numbers\n"
        "pyyaml\nsomething-windows-only==1.0; sys_platform == 'win32'\n",
    )
    assert satisfy_requirements(model) == [
        "numpy>=1.0",
        "pyyaml",
        'something-windows-only==1.0; sys_platform == "win32"',
    ]


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("checkrun-absent-pkg", "checkrun-absent-pkg (not installed)"),
        ("numpy<1.0", "numpy<1.0 (installed: "),
        ("not a requirement ===", "cannot parse"),
    ],
)
def test_unsatisfied_requirement_is_named(tmp_path: Path, line: str, needle: str) -> None:
    with pytest.raises(RequirementsError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        satisfy_requirements(_model(tmp_path, line + "\n"))

"""`code/requirements.txt`, honoured the way the framework images do: before the model loads.

Policy (why): the images pip-install the file at container start. Doing that on every local
deploy would be slow, need the network and change the runner's own environment, so by default we
*check* each requirement against the current environment (importlib.metadata + packaging, with
environment markers) and refuse to load when one is missing or at the wrong version: the
endpoint goes Failed with a reason that names the requirement, exactly when a real container
would fail to install it or a sign-off would otherwise pass on the wrong library. With
`install=True` (CHECKRUN_INSTALL_REQUIREMENTS=1) missing requirements are pip-installed into a
per-model folder (`<model_dir>/../.checkrun-site`) put first on sys.path, never into the venv.
Lines pip understands but we cannot check (options, URLs, paths, `-r`) are skipped.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from runner.model.codecs import HandlerError


class RequirementsError(HandlerError):
    """A requirement of the model is not satisfied and could not be installed."""


def parse_requirements(path: Path) -> list[Requirement]:
    """The checkable requirements of a requirements.txt (comments/options/URLs skipped)."""
    found: list[Requirement] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-", "git+", "http:", "https:", "file:", ".", "/")):
            continue
        try:
            found.append(Requirement(line))
        except InvalidRequirement as exc:
            raise RequirementsError(f"requirements.txt: cannot parse {line!r}: {exc}") from exc
    return found


def unsatisfied(requirements: list[Requirement]) -> list[str]:
    """Each requirement (that applies here) not met by the current environment, with why."""
    problems = []
    for req in requirements:
        if req.marker is not None and not req.marker.evaluate():
            continue
        try:
            version = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            problems.append(f"{req} (not installed)")
            continue
        if req.specifier and not req.specifier.contains(version, prereleases=True):
            problems.append(f"{req} (installed: {version})")
    return problems


def satisfy_requirements(model_dir: Path, *, install: bool = False) -> list[str]:
    """Check (or install) `code/requirements.txt`; returns the requirements found.

    Raises RequirementsError naming every requirement that is not satisfied.
    """
    path = Path(model_dir) / "code" / "requirements.txt"
    if not path.is_file():
        return []
    requirements = parse_requirements(path)
    missing = unsatisfied(requirements)
    if missing and install:
        site = Path(model_dir).resolve().parent / ".checkrun-site"
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--target",
                str(site),
                "-r",
                str(path),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            raise RequirementsError(
                f"installing code/requirements.txt failed ({'; '.join(missing)}): "
                + " | ".join(tail)
            )
        sys.path.insert(0, str(site))
        return [str(r) for r in requirements]
    if missing:
        raise RequirementsError(
            "code/requirements.txt is not satisfied: "
            + "; ".join(missing)
            + " (install them into this environment, or set CHECKRUN_INSTALL_REQUIREMENTS=1)"
        )
    return [str(r) for r in requirements]

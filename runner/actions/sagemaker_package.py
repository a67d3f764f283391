"""`sagemaker.package_model`: a local model folder -> model.tar.gz -> S3.

A model folder holds the model files at its root and the handler in `code/`
(what SageMaker's framework containers expect). It may also carry a `build.py`
that writes generated files (a catalog, weights) next to it: it runs with this
Python in a staged copy and is left out of the archive.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from runner.actions import s3 as s3_actions
from runner.actions.registry import ActionOutput, action
from runner.engine.context import StepContext
from runner.errors import ActionError


class PackageArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str  # a local model folder (model files at its root, handler in code/)
    uri: str  # where model.tar.gz goes: s3://bucket/key
    build: bool = True  # run the folder's build.py (if any) in a staged copy; not archived


def build_archive(source: Path, build: bool, dest: Path) -> list[str]:
    """Copy the folder, run its `build.py` in the copy, tar it; returns the member names.

    A model folder may carry a `build.py` that writes generated files (a catalog,
    weights) next to it; it runs with this Python in the staged copy and is left
    out of model.tar.gz.
    """
    if not source.is_dir():
        raise ActionError(f"model folder not found: {source}", code="FileNotFound")
    with tempfile.TemporaryDirectory(prefix="checkrun-model-") as tmp:
        stage = Path(tmp) / "model"
        shutil.copytree(source, stage, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        script = stage / "build.py"
        if build and script.is_file():
            proc = subprocess.run(
                [sys.executable, script.name],
                cwd=stage,
                capture_output=True,
                text=True,
                timeout=600,
            )
            if proc.returncode != 0:
                raise ActionError(
                    f"model build.py failed ({proc.returncode}): {proc.stderr.strip()[-500:]}",
                    code="BuildFailed",
                )
            script.unlink()
        names: list[str] = []
        with tarfile.open(dest, "w:gz") as tar:
            for path in sorted(stage.rglob("*")):
                if "__pycache__" in path.parts:
                    continue
                arcname = path.relative_to(stage).as_posix()
                tar.add(path, arcname=arcname, recursive=False)
                names.append(arcname)
    return names


@action("sagemaker.package_model", args=PackageArgs)
def package_model(args: PackageArgs, ctx: StepContext) -> ActionOutput:
    """A local model folder -> model.tar.gz -> S3 (bucket created if missing)."""
    bucket, key = s3_actions.parse_uri(args.uri)
    s3_actions.ensure_bucket(ctx, bucket)
    with tempfile.TemporaryDirectory(prefix="checkrun-pkg-") as tmp:
        archive = Path(tmp) / "model.tar.gz"
        members = build_archive(ctx.run.resolve_path(args.source), args.build, archive)
        data = archive.read_bytes()
    out = s3_actions.upload(ctx, bucket, key, data, "application/x-gzip")
    value = {
        "model_data": out["uri"],
        "size": out["size"],
        "sha256": out["sha256"],
        "files": members,
    }
    return ActionOutput(value, evidence={"model_data": out["uri"], "size": out["size"]})

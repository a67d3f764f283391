"""The handler contract-test spec: what to test, against which model and samples.

A spec is JSON (`checkrun handler SPEC.json`); relative paths in it are resolved against the
spec file's folder. The field names of the original design notes (`packaged_model_path`,
`payload_samples_path`, `supported_content_types`, `supported_accept_types`, `environ_vars`)
are accepted as aliases, so specs written for that tool load unchanged.

`problems()` lists everything wrong at once — missing archive, not a .tar.gz, no code folder,
missing handler functions, no samples, a sample whose content type is not supported — so the
user fixes the spec in one pass rather than one error per run.
"""

from __future__ import annotations

import ast
import json
import os
import tarfile
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from runner.checklist.references import did_you_mean
from runner.errors import ChecklistError, Problem
from runner.handlers.samples import JSON, SamplesError, load_samples
from runner.payload.archive import open_archive

CSV = "text/csv"
MODEL_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")
HANDLER_FUNCTIONS = ("model_fn", "input_fn", "predict_fn", "output_fn", "transform_fn")
# framework images with a default model_fn (FACTS.md: SKLearn and XGBoost load the model file)
FRAMEWORKS_WITH_DEFAULT_MODEL_FN = ("sklearn", "xgboost")
# Fields the design notes' tool writes that mean nothing here: extraction paths it derives
# itself and timestamps. Dropped on load so its spec files still load.
IGNORED_FIELDS = frozenset({"model_paths", "code_paths", "data_paths", "created_at", "updated_at"})


MODEL_FN_ALWAYS_RUNS = (
    "model loading cannot be switched off: model_fn always runs, because input_fn, "
    "predict_fn, output_fn and end to end all need the model it returns; switch those off "
    "instead"
)


class HandlerSpecError(ChecklistError):
    """The spec file is invalid; carries every problem found."""


class HandlerSpec(BaseModel):
    """Specification for testing one SageMaker inference handler offline."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    handler_name: str = Field(min_length=1, description="name shown in reports")
    model: str = Field(
        validation_alias=AliasChoices("model", "packaged_model_path", "model_dir"),
        description="model.tar.gz, or an extracted model folder (with code/inference.py)",
    )
    payloads: str | None = Field(
        default=None,
        validation_alias=AliasChoices("payloads", "payload_samples_path"),
        description="samples folder (csv_samples/, json_samples/, ...) or payload.tar.gz",
    )
    content_types: list[str] = Field(
        default_factory=lambda: [JSON, CSV],
        validation_alias=AliasChoices("content_types", "supported_content_types"),
    )
    accept_types: list[str] = Field(
        default_factory=lambda: [JSON, CSV],
        validation_alias=AliasChoices("accept_types", "supported_accept_types"),
    )
    env: dict[str, str] = Field(
        default_factory=dict,
        validation_alias=AliasChoices("env", "environ_vars"),
        description="environment of the handler process (e.g. SAGEMAKER_PROGRAM)",
    )
    framework: str | None = Field(
        default=None, description="framework image defaults: sklearn, xgboost, pytorch, ..."
    )
    timeout_seconds: float = Field(default=300.0, gt=0, description="whole test run limit")
    step_name: str | None = None
    # Only `true` is accepted: model_fn always runs, since every other check needs the model
    # it returns. The field stays so the design notes' spec files load; `false` is refused
    # with that reason rather than silently ignored.
    validate_model_loading: bool = Field(
        default=True, description="always true: model_fn is tested whenever anything is"
    )
    validate_input_processing: bool = True
    validate_prediction: bool = True
    validate_output_formatting: bool = True
    validate_end_to_end: bool = True

    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)

    @field_validator("validate_model_loading")
    @classmethod
    def _model_fn_always_runs(cls, value: bool) -> bool:
        if not value:
            raise ValueError(MODEL_FN_ALWAYS_RUNS)
        return value

    @model_validator(mode="before")
    @classmethod
    def _drop_ignored(cls, data: object) -> object:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in IGNORED_FIELDS}
        return data

    def with_base_dir(self, base_dir: Path) -> HandlerSpec:
        """This spec with relative paths resolved against `base_dir` (made absolute: the
        handler process runs in the model folder, not the caller's)."""
        self._base_dir = Path(base_dir).absolute()
        return self

    def resolve(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else self._base_dir / p

    @property
    def model_path(self) -> Path:
        return self.resolve(self.model)

    @property
    def payloads_path(self) -> Path | None:
        return self.resolve(self.payloads) if self.payloads else None

    def spec_file_name(self) -> str:
        return f"{self.handler_name}_inference_spec.json"

    def problems(self) -> list[Problem]:
        """Everything wrong with this spec and the files it names (empty: ready to run)."""
        found: list[Problem] = []
        if not self.content_types:
            found.append(Problem("at least one content type is needed", key="content_types"))
        if not self.accept_types:
            found.append(Problem("at least one accept type is needed", key="accept_types"))
        found += _model_problems(self)
        found += _sample_problems(self)
        return found

    def check(self) -> HandlerSpec:
        """Raise HandlerSpecError listing every problem, or return self."""
        problems = self.problems()
        if problems:
            raise HandlerSpecError(problems)
        return self


def _model_problems(spec: HandlerSpec) -> list[Problem]:
    path = spec.model_path
    if not path.exists():
        return [Problem(f"model {path} does not exist", key="model")]
    if path.is_dir():
        return _entry_problems(spec, _folder_sources(path, spec.env), str(path))
    if not path.name.endswith(MODEL_ARCHIVE_SUFFIXES):
        return [
            Problem(f"model {path} must be a .tar.gz (or an extracted model folder)", key="model")
        ]
    try:
        sources = _archive_sources(path)
    except (tarfile.TarError, OSError, EOFError) as exc:
        return [Problem(f"model {path} is not a readable tar.gz: {exc}", key="model")]
    return _entry_problems(spec, sources, str(path))


def _folder_sources(folder: Path, env: dict[str, str]) -> dict[str, bytes | None]:
    """The candidate entry scripts that exist in the model folder, read, and a `code/` marker
    when that folder exists (no walk: a model folder can be large)."""
    out: dict[str, bytes | None] = {}
    if (folder / "code").is_dir():
        out["code/"] = None
    for candidate in _entry_candidates(env):
        path = folder / candidate
        if path.is_file():
            out[candidate] = path.read_bytes()
    return out


def _archive_sources(archive: Path) -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    with open_archive(archive) as tar:
        for member in tar.getmembers():
            name = "/".join(p for p in PurePosixPath(member.name).parts if p != ".")
            if member.isdir():
                out.setdefault(name + "/", None)
                continue
            body = None
            if member.isfile() and name.endswith(".py") and member.size < 2**22:
                handle = tar.extractfile(member)
                body = handle.read() if handle else None
            out[name] = body
    return out


def _entry_candidates(env: dict[str, str]) -> list[str]:
    program = env.get("SAGEMAKER_PROGRAM")
    submit = env.get("SAGEMAKER_SUBMIT_DIRECTORY", "")
    prefix = ""
    if submit.startswith("/opt/ml/model"):
        prefix = submit[len("/opt/ml/model") :].strip("/")
    elif submit and not submit.startswith(("s3://", "/")):
        prefix = submit.strip("/")
    names = [program] if program else ["inference.py"]
    out = [f"{prefix}/{n}" for n in names if prefix]
    out += [f"code/{n}" for n in names]
    if program:
        out.append(program)
    return list(dict.fromkeys(out))


def _entry_problems(spec: HandlerSpec, files: dict[str, bytes | None], where: str) -> list[Problem]:
    candidates = _entry_candidates(spec.env)
    entry = next((c for c in candidates if c in files), None)
    if entry is None:
        has_code = any(n.startswith("code/") for n in files)
        if not has_code and "SAGEMAKER_PROGRAM" not in spec.env:
            message = f"no code/ folder in {where} (the handler goes in code/inference.py)"
        else:
            message = f"no handler script in {where} (looked for {', '.join(candidates)})"
        return [Problem(message, key="model")]
    source = files[entry] or b""
    try:
        tree = ast.parse(source, filename=entry)
    except SyntaxError as exc:
        return [Problem(f"{entry} does not parse: {exc.msg} (line {exc.lineno})", key="model")]
    defined = _top_level_names(tree)
    problems: list[Problem] = []
    has_default_loader = (spec.framework or "") in FRAMEWORKS_WITH_DEFAULT_MODEL_FN
    if "model_fn" not in defined and not has_default_loader:
        problems.append(
            Problem(
                f"{entry} defines no model_fn (the {spec.framework or 'generic'} container "
                "has no default model loader)",
                key="model",
                hint="define model_fn(model_dir) or set framework: sklearn/xgboost",
            )
        )
    if "transform_fn" in defined:
        shadowed = [n for n in ("input_fn", "predict_fn", "output_fn") if n in defined]
        if shadowed:
            problems.append(
                Problem(
                    f"{entry} defines transform_fn and {', '.join(shadowed)}; SageMaker "
                    "calls transform_fn only, so those are never used",
                    key="model",
                )
            )
    return problems


def _top_level_names(tree: ast.Module) -> set[str]:
    """Names bound at module level: defs, assignments and imports (`from x import model_fn`)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names & set(HANDLER_FUNCTIONS)


def _sample_problems(spec: HandlerSpec) -> list[Problem]:
    path = spec.payloads_path
    if path is None:
        return [
            Problem(
                "no payload samples given",
                key="payloads",
                hint="--payloads DIR|payload.tar.gz, or `payloads` in the spec",
            )
        ]
    try:
        samples = load_samples(path)
    except SamplesError as exc:
        return [Problem(str(exc), key="payloads")]
    if not samples:
        return [
            Problem(
                f"no samples in {path}",
                key="payloads",
                hint="csv_samples/*.csv, json_samples/*.json, parquet_samples/*.parquet, "
                "or a payload.tar.gz from `checkrun payload`",
            )
        ]
    problems = []
    unsupported: dict[str, list[str]] = {}
    for sample in samples:
        if sample.content_type not in spec.content_types:
            unsupported.setdefault(sample.content_type, []).append(sample.name)
        if sample.shape == "invalid-json":
            problems.append(Problem(f"sample {sample.name} is not valid JSON", key="payloads"))
    if spec.content_types:  # an empty list is reported once, not per sample
        for content_type, names in unsupported.items():
            problems.append(
                Problem(
                    f"{_samples_phrase(names)} {content_type}, which the spec does not "
                    f"support ({', '.join(spec.content_types)})",
                    key="payloads",
                )
            )
    return problems


def _samples_phrase(names: list[str], shown: int = 3) -> str:
    """`sample a is` / `3 samples (a, b, c) are` / `5 samples (a, b, c, ...) are`."""
    if len(names) == 1:
        return f"sample {names[0]} is"
    listed = ", ".join(names[:shown]) + (", ..." if len(names) > shown else "")
    return f"{len(names)} samples ({listed}) are"


def validation_problems(exc: ValidationError, file: str | None = None) -> list[Problem]:
    """One Problem per field error of `exc`, keyed by the field, without pydantic's
    "Value error, " prefix and links."""
    problems = []
    for e in exc.errors():
        key = ".".join(str(p) for p in e["loc"]) or None
        if e["type"] == "extra_forbidden" and len(e["loc"]) == 1:
            name = str(e["loc"][0])
            hint = did_you_mean(name, SPEC_KEYS) or f"expected one of: {', '.join(SPEC_KEYS)}"
            problems.append(Problem(f"unknown key {name!r}", file=file, key=key, hint=hint))
            continue
        problems.append(Problem(str(e["msg"]).removeprefix("Value error, "), file=file, key=key))
    return problems


SPEC_KEYS = tuple(HandlerSpec.model_fields)


def build_handler_spec(values: dict[str, Any], base_dir: Path) -> HandlerSpec:
    """A spec from field values (files, options, action arguments), paths relative to
    `base_dir`; HandlerSpecError lists every field problem."""
    try:
        spec = HandlerSpec.model_validate(values)
    except ValidationError as exc:
        raise HandlerSpecError(validation_problems(exc)) from None
    return spec.with_base_dir(base_dir)


def load_spec(path: Path) -> HandlerSpec:
    """Read a spec file; HandlerSpecError lists every field problem with its key."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HandlerSpecError(Problem("spec file does not exist", file=str(path))) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HandlerSpecError(Problem(f"not a JSON spec: {exc}", file=str(path))) from exc
    if not isinstance(data, dict):
        raise HandlerSpecError(Problem("the spec must be a JSON object", file=str(path)))
    try:
        spec = HandlerSpec.model_validate(data)
    except ValidationError as exc:  # with the missing files too: every problem in one pass
        problems = validation_problems(exc, str(path)) + _missing_files(data, path)
        raise HandlerSpecError(problems) from None
    return spec.with_base_dir(path.parent)


def _missing_files(data: dict[str, Any], path: Path) -> list[Problem]:
    """`model` / `payloads` (or their aliases) naming nothing, relative to the spec file."""
    problems = []
    fields = (
        ("model", "model", ("model", "packaged_model_path", "model_dir")),
        ("payloads", "payload samples", ("payloads", "payload_samples_path")),
    )
    for name, what, aliases in fields:
        value = next((data[a] for a in aliases if isinstance(data.get(a), str)), None)
        if value and not (path.parent / Path(value).expanduser()).exists():
            where = path.parent / value
            problems.append(Problem(f"{what} {where} does not exist", str(path), key=name))
    return problems


def save_spec(spec: HandlerSpec, path: Path) -> Path:
    """Write `spec` as JSON at `path` atomically (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(spec.model_dump(mode="json"), indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path

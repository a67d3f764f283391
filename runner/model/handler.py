"""Load a user's inference handler and call it the way SageMaker's framework containers do.

The entry script is `code/inference.py`, or the file named by `SAGEMAKER_PROGRAM` (looked up in
`SAGEMAKER_SUBMIT_DIRECTORY`, where `/opt/ml/model` means the model root). Each of `model_fn`,
`input_fn`, `predict_fn`, `output_fn` and `transform_fn` may take a trailing `context`
argument; it is passed only when the function accepts it, as the inference toolkit does.
Missing functions fall back to the toolkit's defaults, or to the framework image's own defaults
when the model's image URI names one (FACTS.md).
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from runner.model import codecs
from runner.model.codecs import HandlerError

CONTAINER_MODEL_DIR = "/opt/ml/model"
DEFAULT_ENTRY = Path("code") / "inference.py"

_FRAMEWORKS = (
    ("huggingface", "huggingface"),
    ("scikit-learn", "sklearn"),
    ("sklearn", "sklearn"),
    ("xgboost", "xgboost"),
    ("pytorch", "pytorch"),
    ("tensorflow", "tensorflow"),
    ("mxnet", "mxnet"),
)


def framework_from_image(image_uri: str | None) -> str | None:
    """Which framework image an image URI names ('sklearn', 'xgboost', 'pytorch', ...) or None."""
    if not image_uri:
        return None
    repository = image_uri.lower().rsplit("/", 1)[-1].split(":", 1)[0]
    for needle, name in _FRAMEWORKS:
        if needle in repository:
            return name
    return None


@dataclass
class Handler:
    """The user's entry module and its handler functions (None where the module has none)."""

    module: ModuleType
    model_fn: Callable[..., Any] | None
    input_fn: Callable[..., Any] | None
    predict_fn: Callable[..., Any] | None
    output_fn: Callable[..., Any] | None
    transform_fn: Callable[..., Any] | None
    entry: Path


def _submit_dir(model_dir: Path, value: str | None) -> Path | None:
    """Map SAGEMAKER_SUBMIT_DIRECTORY to a local folder (container paths are model-relative)."""
    if not value or value.startswith("s3://"):
        return None
    if value == CONTAINER_MODEL_DIR or value.startswith(CONTAINER_MODEL_DIR + "/"):
        return model_dir / value[len(CONTAINER_MODEL_DIR) :].lstrip("/")
    path = Path(value)
    return path if path.is_absolute() else model_dir / path


def find_entry(model_dir: Path, env: Mapping[str, str] | None = None) -> Path:
    """The entry script SageMaker would run for this model; HandlerError says what is missing."""
    env = env or {}
    program = env.get("SAGEMAKER_PROGRAM")
    submit = _submit_dir(model_dir, env.get("SAGEMAKER_SUBMIT_DIRECTORY"))
    if program:
        candidates = [submit / program] if submit else []
        candidates += [model_dir / "code" / program, model_dir / program]
    else:
        candidates = [submit / "inference.py"] if submit else []
        candidates.append(model_dir / DEFAULT_ENTRY)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = ", ".join(
        str(c.relative_to(model_dir)) if c.is_relative_to(model_dir) else str(c) for c in candidates
    )
    raise HandlerError(f"no inference handler found in the model (looked for {looked})")


def _import_entry(entry: Path) -> ModuleType:
    """Import the entry script as a top-level module, its folder first on sys.path."""
    from runner.model import legacy

    legacy.install_if_missing()
    folder = str(entry.parent)
    if folder in sys.path:
        sys.path.remove(folder)
    sys.path.insert(0, folder)
    name = entry.stem
    # A handler loaded earlier in this process under the same name must not shadow this one.
    previous = sys.modules.get(name)
    if previous is not None and getattr(previous, "__file__", None) != str(entry):
        del sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, entry)
    if spec is None or spec.loader is None:
        raise HandlerError(f"cannot import handler {entry}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise HandlerError(
            f"importing handler {entry.name} failed: {type(exc).__name__}: {exc}"
        ) from exc
    return module


def load_handler(model_dir: Path, env: Mapping[str, str] | None = None) -> Handler:
    """Find the entry script, put its folder on sys.path, import it and collect its functions."""
    model_dir = Path(model_dir)
    entry = find_entry(model_dir, env)
    module = _import_entry(entry)

    def fn(name: str) -> Callable[..., Any] | None:
        value = getattr(module, name, None)
        return value if callable(value) else None

    return Handler(
        module=module,
        model_fn=fn("model_fn"),
        input_fn=fn("input_fn"),
        predict_fn=fn("predict_fn"),
        output_fn=fn("output_fn"),
        transform_fn=fn("transform_fn"),
        entry=entry,
    )


@dataclass
class Context:
    """A small stand-in for the toolkit's request context passed to handlers that want one."""

    model_dir: str
    system_properties: dict[str, Any] = field(default_factory=dict)
    request_headers: dict[str, str] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)

    def get_request_header(self, idx: int, key: str) -> str | None:
        """A header of the request being answered (e.g. X-Amzn-SageMaker-Custom-Attributes),
        matched without regard to case as HTTP headers are; `idx` is the batch index (always
        0: the model server runs one request at a time per call)."""
        wanted = key.lower()
        for name, value in self.request_headers.items():
            if name.lower() == wanted:
                return value
        return None

    def set_response_header(self, idx: int, key: str, value: str) -> None:
        """A header of the answer; SageMaker passes X-Amzn-SageMaker-Custom-Attributes back to
        the InvokeEndpoint caller."""
        self.response_headers[key] = value


def _call(function: Callable[..., Any], args: tuple[Any, ...], context: Context) -> Any:
    """Call a handler function, adding `context` when it takes one more argument than given.

    Same rule as the inference toolkit: count the declared parameters.
    """
    try:
        params = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return function(*args)
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) > len(args):
        return function(*args, context)
    return function(*args)


class HandlerRuntime:
    """Runs one handler: loads the model once, then decodes, predicts and encodes requests."""

    def __init__(self, handler: Handler, model_dir: Path, framework: str | None = None) -> None:
        self.handler = handler
        self.model_dir = Path(model_dir)
        self.framework = framework
        self.model: Any = None
        self.context = Context(
            model_dir=str(self.model_dir),
            system_properties={"model_dir": str(self.model_dir), "gpu_id": None},
        )

    def load_model(self) -> Any:
        """model_fn(model_dir[, context]) or the framework's default; keeps the model."""
        if self.handler.model_fn is not None:
            self.model = _call(self.handler.model_fn, (str(self.model_dir),), self.context)
        else:
            self.model = self._default_model()
        return self.model

    def _default_model(self) -> Any:
        """Only the XGBoost image loads a model without model_fn (its pickled `xgboost-model`);
        the SKLearn, PyTorch and generic toolkit images ask for a model_fn."""
        if self.framework == "xgboost":
            path = self.model_dir / "xgboost-model"
            if path.is_file():
                return _unpickle(path)
        raise HandlerError(
            f"{self.handler.entry.name} defines no model_fn and the "
            f"{self.framework or 'generic'} container has no default for this model; "
            "define model_fn(model_dir)"
        )

    def decode(self, body: bytes, content_type: str, context: Context | None = None) -> Any:
        """input_fn(body, content_type[, context]) or the toolkit's default decoder."""
        if self.handler.input_fn is not None:
            return _call(self.handler.input_fn, (body, content_type), context or self.context)
        return codecs.decode(body, content_type, framework=self.framework)

    def predict(self, data: Any, context: Context | None = None) -> Any:
        """predict_fn(data, model[, context]) or the default: model.predict / model(data)."""
        if self.handler.predict_fn is not None:
            return _call(self.handler.predict_fn, (data, self.model), context or self.context)
        model = self.model
        if self.framework in ("sklearn", "xgboost") and hasattr(model, "predict"):
            return model.predict(data)
        if callable(model):
            return model(data)
        if hasattr(model, "predict"):
            return model.predict(data)
        raise HandlerError("no predict_fn and the model is neither callable nor has .predict()")

    def encode(
        self, prediction: Any, accept: str, context: Context | None = None
    ) -> tuple[bytes, str]:
        """output_fn(prediction, accept[, context]) or the default encoder; (body, content type)."""
        if self.handler.output_fn is not None:
            result = _call(self.handler.output_fn, (prediction, accept), context or self.context)
            return self._normalise(result, accept)
        return codecs.encode(prediction, accept)

    def invoke(
        self,
        body: bytes,
        content_type: str,
        accept: str,
        headers: Mapping[str, str] | None = None,
        response_headers: dict[str, str] | None = None,
    ) -> tuple[bytes, str]:
        """Answer one request: transform_fn, or input_fn -> predict_fn -> output_fn.

        `headers` are the request's own (the handler reads e.g. X-Amzn-SageMaker-Custom-Attributes
        with `context.get_request_header(0, name)`); each request gets its own context, as
        requests are answered concurrently. What the handler sets with
        `context.set_response_header(0, name, value)` lands in `response_headers`."""
        content_type = content_type or codecs.JSON
        accept = self.default_accept(accept)
        if self.model is None:
            self.load_model()
        context = replace(
            self.context,
            request_headers=dict(headers or {}),
            response_headers=response_headers if response_headers is not None else {},
        )
        if self.handler.transform_fn is not None:
            result = _call(
                self.handler.transform_fn, (self.model, body, content_type, accept), context
            )
            return self._normalise(result, accept)
        data = self.decode(body, content_type, context)
        return self.encode(self.predict(data, context), accept, context)

    @staticmethod
    def default_accept(accept: str | None) -> str:
        """An absent or '*/*' Accept means the container's default (JSON, as the toolkit)."""
        if not accept or codecs.base_type(accept) == codecs.ANY:
            return os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", codecs.JSON)
        return accept

    def _normalise(self, result: Any, accept: str) -> tuple[bytes, str]:
        """Turn whatever output_fn/transform_fn returned into (body, content type)."""
        from runner.model import legacy

        flask_image = self.framework in ("sklearn", "xgboost")
        if isinstance(result, legacy.Response):
            return result.body_bytes(), result.mimetype or accept
        if isinstance(result, tuple) and len(result) == 2:
            body, content_type = result
            return _to_bytes(body), str(content_type)
        if isinstance(result, (bytes, bytearray, memoryview)):
            return bytes(result), accept
        if isinstance(result, str):
            # Flask-based images send a plain str as text/html (FACTS.md).
            return result.encode("utf-8"), "text/html; charset=utf-8" if flask_image else accept
        if isinstance(result, (dict, list)):
            return codecs.to_json(result), codecs.JSON
        raise HandlerError(
            f"output_fn returned {type(result).__name__}; return bytes, str, a dict or list, "
            "or (body, content_type)"
        )


def _to_bytes(body: Any) -> bytes:
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (dict, list)):
        return codecs.to_json(body)
    return str(body).encode("utf-8")


def _unpickle(path: Path) -> Any:
    """The XGBoost image's default model_fn: a pickled model, else a saved xgboost Booster."""
    import pickle

    try:
        with path.open("rb") as f:
            return pickle.load(f)
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
        try:
            import xgboost
        except ImportError:
            raise HandlerError(
                f"{path.name} is not a pickle and xgboost is not installed to load it"
            ) from exc
        booster = xgboost.Booster()
        booster.load_model(str(path))
        return booster


__all__ = [
    "Context",
    "Handler",
    "HandlerError",
    "HandlerRuntime",
    "find_entry",
    "framework_from_image",
    "load_handler",
]

"""Stand-ins for the container packages older handlers import.

Handlers written for the SKLearn image import `sagemaker_containers` (`from
sagemaker_containers.beta.framework import worker, encoders, content_types` and return
`worker.Response(...)`); PyTorch-era handlers import `sagemaker_inference` (`content_types`,
`decoder`, `encoder`, `errors`). Neither is a dependency of checkrun, so when the real package is
not installed we register small modules that offer the parts handlers use, backed by the same
codecs as the defaults.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import Any

from runner.model import codecs


class Response:
    """`sagemaker_containers.beta.framework.worker.Response`: a body plus a mimetype."""

    def __init__(
        self,
        response: Any = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
        mimetype: str | None = None,
        accept: str | None = None,
        content_type: str | None = None,
    ) -> None:
        self.response = response
        self.status = status
        self.headers = headers or {}
        self.mimetype = accept or mimetype or content_type

    def body_bytes(self) -> bytes:
        body = self.response
        if body is None:
            return b""
        if isinstance(body, (bytes, bytearray)):
            return bytes(body)
        if isinstance(body, str):
            return body.encode("utf-8")
        if isinstance(body, (list, tuple)) and all(isinstance(b, (bytes, str)) for b in body):
            return b"".join(b if isinstance(b, bytes) else b.encode("utf-8") for b in body)
        return codecs.to_json(body)


def _content_types(name: str) -> ModuleType:
    module = ModuleType(name)
    module.JSON = codecs.JSON  # type: ignore[attr-defined]
    module.CSV = codecs.CSV  # type: ignore[attr-defined]
    module.NPY = codecs.NPY  # type: ignore[attr-defined]
    module.OCTET_STREAM = codecs.OCTET_STREAM  # type: ignore[attr-defined]
    module.ANY = codecs.ANY  # type: ignore[attr-defined]
    module.UTF8_TYPES = [codecs.JSON, codecs.CSV]  # type: ignore[attr-defined]
    return module


def _decode(obj: Any, content_type: str) -> Any:
    return codecs.decode(obj, content_type)


def _encode(obj: Any, content_type: str) -> bytes:
    return codecs.encode(obj, content_type)[0]


def _codec_module(name: str) -> ModuleType:
    module = ModuleType(name)
    module.decode = _decode  # type: ignore[attr-defined]
    module.encode = _encode  # type: ignore[attr-defined]
    module.UnsupportedFormatError = codecs.UnsupportedFormatError  # type: ignore[attr-defined]
    return module


def _package(name: str, **children: ModuleType) -> ModuleType:
    module = ModuleType(name)
    module.__path__ = []
    for child_name, child in children.items():
        setattr(module, child_name, child)
        sys.modules[f"{name}.{child_name}"] = child
    sys.modules[name] = module
    return module


def _install_sagemaker_containers() -> None:
    worker = ModuleType("sagemaker_containers.beta.framework.worker")
    worker.Response = Response  # type: ignore[attr-defined]
    errors = ModuleType("sagemaker_containers.beta.framework.errors")
    errors.UnsupportedFormatError = codecs.UnsupportedFormatError  # type: ignore[attr-defined]
    framework = _package(
        "sagemaker_containers.beta.framework",
        worker=worker,
        encoders=_codec_module("sagemaker_containers.beta.framework.encoders"),
        content_types=_content_types("sagemaker_containers.beta.framework.content_types"),
        errors=errors,
    )
    beta = _package("sagemaker_containers.beta", framework=framework)
    _package("sagemaker_containers", beta=beta)


def _install_sagemaker_inference() -> None:
    errors = ModuleType("sagemaker_inference.errors")
    errors.UnsupportedFormatError = codecs.UnsupportedFormatError  # type: ignore[attr-defined]
    errors.GenericInferenceToolkitError = codecs.HandlerError  # type: ignore[attr-defined]
    _package(
        "sagemaker_inference",
        content_types=_content_types("sagemaker_inference.content_types"),
        decoder=_codec_module("sagemaker_inference.decoder"),
        encoder=_codec_module("sagemaker_inference.encoder"),
        errors=errors,
    )


def install_if_missing() -> None:
    """Register the stand-ins for whichever of the two packages is not installed."""
    for name, install in (
        ("sagemaker_containers", _install_sagemaker_containers),
        ("sagemaker_inference", _install_sagemaker_inference),
    ):
        if name in sys.modules:
            continue
        if importlib.util.find_spec(name) is None:
            install()

"""Load and run SageMaker inference handlers (shared by the local stack and handler tests)."""

from runner.model.archive import ModelArchiveError, extract_model, pack_model
from runner.model.codecs import HandlerError, UnsupportedFormatError
from runner.model.handler import (
    Context,
    Handler,
    HandlerRuntime,
    find_entry,
    framework_from_image,
    load_handler,
)

__all__ = [
    "Context",
    "Handler",
    "HandlerError",
    "HandlerRuntime",
    "ModelArchiveError",
    "UnsupportedFormatError",
    "extract_model",
    "find_entry",
    "framework_from_image",
    "load_handler",
    "pack_model",
]

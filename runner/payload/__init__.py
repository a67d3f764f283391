"""Sample payloads for a model, generated from its hyperparameters.json (payload.tar.gz)."""

from runner.payload.fields import (
    ModelFields,
    PayloadError,
    PayloadField,
    load_model_fields,
    model_fields,
    read_hyperparameters,
)
from runner.payload.generate import (
    ARCHIVE_NAME,
    SUPPORTED_CONTENT_TYPES,
    PayloadOptions,
    PayloadResult,
    build_samples,
    content_type_folder,
    generate_payloads,
    render_sample,
)

__all__ = [
    "ARCHIVE_NAME",
    "SUPPORTED_CONTENT_TYPES",
    "ModelFields",
    "PayloadError",
    "PayloadField",
    "PayloadOptions",
    "PayloadResult",
    "build_samples",
    "content_type_folder",
    "generate_payloads",
    "load_model_fields",
    "model_fields",
    "read_hyperparameters",
    "render_sample",
]

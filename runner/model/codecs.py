"""The SageMaker inference toolkit's default decoders and encoders, numpy based.

Where a handler has no `input_fn` / `output_fn`, SageMaker's containers decode JSON with
`np.array(json.loads(body))`, CSV and NPY with numpy, and encode the prediction as JSON
(numpy-aware), CSV or NPY according to the Accept type. (FACTS.md, sagemaker-inference-toolkit
`decoder.py` / `encoder.py`.)
"""

from __future__ import annotations

import io
import json
from typing import Any

from runner.errors import CheckrunError

JSON = "application/json"
CSV = "text/csv"
NPY = "application/x-npy"
LIBSVM = "text/libsvm"
OCTET_STREAM = "application/octet-stream"
ANY = "*/*"


class HandlerError(CheckrunError):
    """The handler could not be loaded or failed; `status` is the HTTP status to answer."""

    def __init__(self, message: str, *, status: int = 500) -> None:
        super().__init__(message)
        self.status = status


class UnsupportedFormatError(HandlerError):
    """The default decoder/encoder does not know this content type (415) or accept type (406)."""


def base_type(content_type: str | None) -> str:
    """'application/json; charset=utf-8' -> 'application/json'."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def decode(body: bytes | str, content_type: str, *, framework: str | None = None) -> Any:
    """Decode a request body the way the toolkit's default input_fn does."""
    import numpy as np

    kind = base_type(content_type)
    if kind == JSON:
        data = np.array(json.loads(_text(body)))
    elif kind == CSV:
        text_body = _text(body)
        data = np.genfromtxt(io.StringIO(text_body), delimiter=",", dtype=float, ndmin=1)
        if data.ndim == 1 and "\n" in text_body.strip():
            data = data.reshape(-1, 1)
    elif kind == NPY:
        raw = body if isinstance(body, bytes) else body.encode("utf-8")
        data = np.load(io.BytesIO(raw), allow_pickle=True)
    elif kind == LIBSVM and framework == "xgboost":
        data = _decode_libsvm(_text(body))
    else:
        raise UnsupportedFormatError(
            f"Content type {content_type or '(none)'} is not supported by the default input_fn "
            f"(supported: {JSON}, {CSV}, {NPY}); define input_fn in the handler",
            status=415,
        )
    if framework in ("sklearn", "xgboost") and data.dtype != object:
        data = data.astype(np.float32)
    return data


def _text(body: bytes | str) -> str:
    return body.decode("utf-8") if isinstance(body, bytes) else body


def _decode_libsvm(text: str) -> Any:
    """Decode 'label idx:val idx:val' lines into a dense float32 matrix (the XGBoost image's)."""
    import numpy as np

    rows: list[dict[int, float]] = []
    for line in text.strip().splitlines():
        parts = line.split()
        feats = {}
        for part in parts[1:] if parts and ":" not in parts[0] else parts:
            idx, val = part.split(":", 1)
            feats[int(idx)] = float(val)
        rows.append(feats)
    width = max((max(r) for r in rows if r), default=-1) + 1
    matrix = np.zeros((len(rows), width), dtype=np.float32)
    for i, row in enumerate(rows):
        for j, value in row.items():
            matrix[i, j] = value
    return matrix


def _to_jsonable(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return value.decode("utf-8")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def to_json(value: Any) -> bytes:
    """numpy-aware JSON, as the toolkit's encoder writes it."""
    return json.dumps(value, default=_to_jsonable).encode("utf-8")


def encode(prediction: Any, accept: str) -> tuple[bytes, str]:
    """Encode a prediction the way the toolkit's default output_fn does; returns (body, type)."""
    import numpy as np

    kind = base_type(accept)
    if kind == JSON:
        return to_json(prediction), JSON
    if kind == CSV:
        buffer = io.StringIO()
        array = np.asarray(prediction)
        np.savetxt(buffer, array if array.ndim else array.reshape(1), delimiter=",", fmt="%s")
        return buffer.getvalue().encode("utf-8"), CSV
    if kind == NPY:
        out = io.BytesIO()
        np.save(out, np.asarray(prediction), allow_pickle=False)
        return out.getvalue(), NPY
    raise UnsupportedFormatError(
        f"Accept type {accept} is not supported by the default output_fn "
        f"(supported: {JSON}, {CSV}, {NPY}); define output_fn in the handler",
        status=406,
    )

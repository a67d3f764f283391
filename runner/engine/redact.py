"""Keep secrets out of results, logs and reports: ONE function everyone calls.

`redact(value, secrets)` returns a JSON-able copy of any nested value with
* the values of vars listed under `secrets:` (and any other given strings),
* AWS access key ids (AKIA.../ASIA...), secret access keys and session tokens
  (by key name, and 40-character secrets after a recognisable label),
* a 40-character secret access key in free text, but only where its context
  says it is one: right after a word naming a secret (`secret`, `secret key`,
  `SecretAccessKey`, ...; separated by a space, `:` or `=`) or right after an
  access key id (`AKIA... wJalr...`, the shape of `aws configure` output and
  credential CSVs). A lone 40-character token (a SHA-1, an S3 ETag, model
  output) is left alone: it is far more often data than a secret,
* STS session tokens anywhere, recognised by the fixed protobuf header their
  base64 starts with (`...oGZXIvYXdz`, `...oJb3JpZ2lu`, `AQoDYXdz`),
* presigned-URL signatures and credentials (X-Amz-Signature, X-Amz-Credential,
  X-Amz-Security-Token, Signature=...),
* values of mapping keys that name credentials (password, authorization, ...)
replaced by `***`. Strings are truncated to `max_chars` so a huge output cannot
bloat a report.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any

MASK = "***"
MAX_CHARS = 100_000

_ACCESS_KEY = re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{16}\b")
_LABELLED_SECRET = re.compile(
    r"(?i)((?:aws_?)?secret_?access_?key|secretaccesskey|aws_?session_?token|sessiontoken"
    r"|x-amz-security-token)(\"?\s*[:=]\s*\"?)([A-Za-z0-9/+=]{16,})"
)
# 40 base64 characters, not part of a longer token: the shape of a secret access key.
_KEY40 = r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
_NAMED_SECRET_KEY = re.compile(
    r"(?i)((?<![A-Za-z])(?:aws[_-]?)?secret(?:[_ -]?access)?(?:[_ -]?key)?"
    r"[\"']?(?:\s*[:=]\s*|\s+)[\"']?)" + _KEY40
)
_KEY_AFTER_KEY_ID = re.compile(
    r"(\b(?:AKIA|ASIA)[A-Z0-9]{16}[\"']?(?:\s*[,:;|]\s*|\s+)[\"']?)" + _KEY40
)
# The base64 of an STS session token starts with a fixed protobuf header.
_SESSION_TOKEN = re.compile(
    r"(?<![A-Za-z0-9/+])(?:[A-Za-z0-9/+]{2}oGZXIvYXdz|[A-Za-z0-9/+]{2}oJb3JpZ2lu|AQoDYXdz)"
    r"[A-Za-z0-9/+=%]{20,}"
)
_PRESIGNED = re.compile(
    r"(?i)((?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|AWSAccessKeyId)=)"
    r"[^&\s\"'#]+"
)
_SECRET_KEYS = re.compile(
    r"(?i)^(password|passwd|authorization|x-amz-security-token|aws_secret_access_key"
    r"|secret_?access_?key|aws_session_token|session_?token|api[_-]?key|x-api-key|secret)$"
)


def redact_text(text: str, secrets: Iterable[str] = (), max_chars: int = MAX_CHARS) -> str:
    """Mask secrets and AWS credentials inside one string."""
    for secret in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _KEY_AFTER_KEY_ID.sub(lambda m: m.group(1) + MASK, text)
    text = _NAMED_SECRET_KEY.sub(lambda m: m.group(1) + MASK, text)
    text = _SESSION_TOKEN.sub(MASK, text)
    text = _ACCESS_KEY.sub(MASK, text)
    text = _LABELLED_SECRET.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
    text = _PRESIGNED.sub(lambda m: m.group(1) + MASK, text)
    if len(text) > max_chars:
        text = text[:max_chars] + f"... [truncated, {len(text) - max_chars} more characters]"
    return text


def redact(value: Any, secrets: Iterable[str] = (), max_chars: int = MAX_CHARS) -> Any:
    """A JSON-able copy of `value` with every secret masked (see the module docstring)."""
    secret_list = [s for s in secrets if isinstance(s, str)]
    return _walk(value, secret_list, max_chars)


def _walk(value: Any, secrets: list[str], max_chars: int) -> Any:
    if isinstance(value, str):
        return redact_text(value, secrets, max_chars)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return redact_text(value.decode("utf-8", errors="replace"), secrets, max_chars)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if hasattr(value, "model_dump"):  # a pydantic model
        value = value.model_dump(by_alias=True)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            key = str(k)
            out[key] = MASK if _SECRET_KEYS.match(key) and v else _walk(v, secrets, max_chars)
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_walk(v, secrets, max_chars) for v in value]
    return redact_text(str(value), secrets, max_chars)

"""Last line of defence before anything is written: redact secrets from a whole RunResult.

The engine already redacts step args, outputs and logs as it records them; renderers
run the same redaction (`runner.engine.redact.redact`) once more over every string of
the result, so a secret that slipped into evidence, an error text or a sign-off note
never reaches a report file. Two unlabelled shapes the engine's patterns leave alone
are masked here as well: a bare 40-character AWS secret access key (a token of exactly
40 base64 characters mixing upper case, lower case and digits; a lower-case hex SHA-1
is left alone) and an STS session token recognised by its fixed prefix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from runner.engine.redact import MASK, redact
from runner.engine.results import RunResult

_BARE_SECRET_KEY = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
# STS session tokens start with a base64 protobuf header: "FwoGZXIvYXdz" / "IQoJb3JpZ2lu...".
_SESSION_TOKEN = re.compile(r"(?:FwoGZXIvYXdz|FQoGZXIvYXdz|IQoJb3JpZ2lu)[A-Za-z0-9/+=%]{20,}")


def redact_result(result: RunResult, secrets: Iterable[str] = ()) -> RunResult:
    """A copy of `result` with every string passed through the engine's redaction."""
    data = _unlabelled(redact(result.to_dict(), list(secrets)))
    return RunResult.from_dict(data)


def _unlabelled(value: Any) -> Any:
    if isinstance(value, str):
        return _BARE_SECRET_KEY.sub(_mask_if_mixed, _SESSION_TOKEN.sub(MASK, value))
    if isinstance(value, dict):
        return {k: _unlabelled(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unlabelled(v) for v in value]
    return value


def _mask_if_mixed(match: re.Match[str]) -> str:
    token = match.group(0)
    mixed = (
        any(c.isupper() for c in token)
        and any(c.islower() for c in token)
        and any(c.isdigit() for c in token)
    )
    return MASK if mixed else token

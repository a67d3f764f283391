"""Last line of defence before anything is written: redact secrets from a whole RunResult.

The engine already redacts step args, outputs and logs as it records them; renderers
run the same redaction (`runner.engine.redact.redact`, the one redaction function of
checkrun: declared secrets, access keys, labelled and unlabelled secret keys, session
tokens, presigned URLs) once more over every string of the result, so a secret that
slipped into evidence, an error text or a sign-off note never reaches a report file.
"""

from __future__ import annotations

from collections.abc import Iterable

from runner.engine.redact import redact
from runner.engine.results import RunResult


def redact_result(result: RunResult, secrets: Iterable[str] = ()) -> RunResult:
    """A copy of `result` with every string passed through the engine's redaction."""
    return RunResult.from_dict(redact(result.to_dict(), list(secrets)))

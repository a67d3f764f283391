"""The embedded local stack: moto's AWS server plus checkrun's SageMaker runtime, one port.

    from runner.local import LocalStack
    with LocalStack() as stack:          # a free port; stack.url for endpoint_url
        ...

Names are imported lazily so that a model-server process (`python -m runner.local.worker`)
does not pay for pydantic, moto or werkzeug at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runner.local.faults import FaultPlan, FaultRule
    from runner.local.serve import serve
    from runner.local.stack import LocalStack

_EXPORTS = {
    "FaultPlan": "runner.local.faults",
    "FaultRule": "runner.local.faults",
    "serve": "runner.local.serve",
    "LocalStack": "runner.local.stack",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'runner.local' has no attribute {name!r}")


__all__ = ["FaultPlan", "FaultRule", "LocalStack", "serve"]

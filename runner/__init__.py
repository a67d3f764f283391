"""checkrun: declarative acceptance tests for asynchronous inference endpoints.

Everything the command line does is a library call:

    from runner import run_checklist
    result = run_checklist("checklists/example.yaml", profile="local")
    print(result.decision)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from runner.checklist.load import load_checklist
    from runner.engine.run import run_checklist

__all__ = ["__version__", "load_checklist", "run_checklist"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so `import runner` (and `checkrun --help`) stays cheap.
    if name == "run_checklist":
        from runner.engine.run import run_checklist

        return run_checklist
    if name == "load_checklist":
        from runner.checklist.load import load_checklist

        return load_checklist
    raise AttributeError(f"module 'runner' has no attribute {name!r}")

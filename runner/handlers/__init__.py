"""Offline handler contract tests: a spec, payload samples, and a harness that runs the handler.

    from runner.handlers import load_spec, run_handler_tests
    report = run_handler_tests(load_spec(Path("spec.json")))
    report.ok, report.summary, report.failures

The handler is loaded by the shared loader in runner.model (the same code the local stack's
model server uses), inside a separate process with the spec's environment.
"""

from runner.handlers.harness import (
    CallResult,
    FunctionSummary,
    HandlerReport,
    run_handler_tests,
)
from runner.handlers.samples import PayloadSample, SamplesError, load_samples
from runner.handlers.spec import HandlerSpec, HandlerSpecError, load_spec, save_spec

__all__ = [
    "CallResult",
    "FunctionSummary",
    "HandlerReport",
    "HandlerSpec",
    "HandlerSpecError",
    "PayloadSample",
    "SamplesError",
    "load_samples",
    "load_spec",
    "run_handler_tests",
    "save_spec",
]

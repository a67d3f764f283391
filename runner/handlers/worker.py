"""The handler-test process: `python -m runner.handlers.worker JOB.json`.

Runs in its own process so a handler's imports, globals, crashes and hangs cannot touch the
runner. It loads the handler with the shared loader (runner.model), then calls model_fn once and
input_fn / predict_fn / output_fn one by one, and the whole request end to end, for every sample
and accept type. Each call is reported as one JSON line on the protocol stream (the original
stdout); the handler's own prints go to stderr, which the parent keeps as the handler's log.
Before each call a "start" line names it, so a parent that kills a hung handler knows which
call hung.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import runner
from runner.model.codecs import base_type

RUNNER_DIR = Path(runner.__file__).resolve().parent
PREVIEW_CHARS = 200


def handler_traceback(exc: BaseException) -> tuple[str, str]:
    """(error, traceback) for `exc` with the runner's own frames left out when the handler has
    frames of its own, so the traceback reads like the handler failed on its own."""
    if exc.__cause__ is not None and type(exc).__module__.startswith("runner."):
        exc = exc.__cause__  # the loader wraps import errors; show the handler's exception
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if not Path(f.filename).resolve().is_relative_to(RUNNER_DIR)]
    shown = own or frames
    text = "Traceback (most recent call last):\n" + "".join(traceback.format_list(shown))
    text += "".join(traceback.format_exception_only(type(exc), exc))
    error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return error, text


def summarise(value: Any) -> dict[str, Any]:
    """A JSON-safe description of what a handler function returned."""
    out: dict[str, Any] = {"type": f"{type(value).__module__}.{type(value).__qualname__}"}
    out["type"] = out["type"].removeprefix("builtins.")
    shape = getattr(value, "shape", None)
    if shape is not None:
        try:
            out["shape"] = [int(d) for d in shape]
        except (TypeError, ValueError):
            out["shape"] = str(shape)
    elif isinstance(value, (list, tuple, dict, str, bytes)):
        out["length"] = len(value)
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        out["dtype"] = str(dtype)
    out["preview"] = repr(value)[:PREVIEW_CHARS]
    return out


def summarise_body(body: bytes, content_type: str) -> dict[str, Any]:
    return {
        "bytes": len(body),
        "content_type": content_type,
        "preview": body[:PREVIEW_CHARS].decode("utf-8", "replace"),
    }


class Reporter:
    """Writes one JSON line per event to the protocol stream."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def emit(self, event: dict[str, Any]) -> None:
        self.stream.write(json.dumps(event, default=str) + "\n")
        self.stream.flush()

    def skipped(self, function: str, reason: str, **where: Any) -> None:
        self.emit(
            {"event": "result", "function": function, "status": "skipped", "seconds": 0.0}
            | where
            | {"reason": reason}
        )

    def call(
        self,
        function: str,
        fn: Callable[[], Any],
        *,
        default: bool,
        describe: Callable[[Any], dict[str, Any]] = summarise,
        **where: Any,
    ) -> tuple[bool, Any]:
        """Time `fn()` and report its outcome with a description of its value; (ok, value)."""
        self.emit({"event": "start", "function": function} | where)
        event: dict[str, Any] = {"event": "result", "function": function} | where
        event["uses_default"] = default
        start = time.perf_counter()
        try:
            value = fn()
        except Exception as exc:
            event["seconds"] = time.perf_counter() - start
            event["error"], event["traceback"] = handler_traceback(exc)
            self.emit(event | {"status": "failed"})
            return False, None
        event["seconds"] = time.perf_counter() - start
        self.emit(event | {"status": "passed", "output": describe(value)})
        return True, value


def _describe_response(result: tuple[bytes, str]) -> dict[str, Any]:
    return summarise_body(*result)


def _check_type(result: tuple[bytes, str], accept: str) -> tuple[bytes, str]:
    body, content_type = result
    if base_type(content_type) != base_type(accept):
        raise ContentTypeMismatch(
            f"asked for {accept}, the handler answered {content_type or 'no content type'}"
        )
    return body, content_type


class ContentTypeMismatch(Exception):
    """The response's content type is not the Accept type asked for."""


FUNCTIONS = ("model_fn", "input_fn", "predict_fn", "output_fn", "transform_fn")


def run(job: dict[str, Any], reporter: Reporter) -> None:
    """Every check of one job; results go to `reporter`."""
    from runner.model import HandlerRuntime, load_handler

    model_dir = Path(job["model_dir"])
    if (model_dir / "code" / "requirements.txt").is_file():
        # the framework images install it before the model loads; the shared check refuses
        # (or, with CHECKRUN_INSTALL_REQUIREMENTS=1, installs) what is missing
        from runner.model.requirements import satisfy_requirements

        install = os.environ.get("CHECKRUN_INSTALL_REQUIREMENTS") == "1"
        ok, _ = reporter.call(
            "requirements",
            lambda: satisfy_requirements(model_dir, install=install),
            default=False,
            describe=lambda found: {"requirements": found},
        )
        if not ok:
            for fn in ("import", "model_fn", "input_fn", "predict_fn", "output_fn", "end_to_end"):
                reporter.skipped(fn, "code/requirements.txt is not satisfied")
            return
    ok, handler = reporter.call(
        "import",
        lambda: load_handler(model_dir, os.environ),
        default=False,
        describe=lambda h: {"entry": str(h.entry)},
    )
    if not ok:
        for fn in ("model_fn", "input_fn", "predict_fn", "output_fn", "end_to_end"):
            reporter.skipped(fn, "the handler did not import")
        return
    defined = [n for n in FUNCTIONS if getattr(handler, n) is not None]
    reporter.emit({"event": "handler", "entry": str(handler.entry), "defines": defined})
    runtime = HandlerRuntime(handler, model_dir, job.get("framework"))
    ok, _ = reporter.call("model_fn", runtime.load_model, default=handler.model_fn is None)
    if not ok:
        for fn in ("input_fn", "predict_fn", "output_fn", "end_to_end"):
            reporter.skipped(fn, "model_fn failed")
        return
    for sample in job["samples"]:
        _sample_checks(reporter, runtime, handler, job, sample)


def _sample_checks(
    reporter: Reporter, runtime: Any, handler: Any, job: dict[str, Any], sample: dict[str, Any]
) -> None:
    body = Path(sample["file"]).read_bytes()
    content_type = sample["content_type"]
    where = {"sample": sample["name"], "content_type": content_type}
    if handler.transform_fn is not None:
        for fn in ("input_fn", "predict_fn", "output_fn"):
            reporter.skipped(fn, "transform_fn handles the whole request", **where)
    else:
        _unit_checks(reporter, runtime, handler, job, body, where)
    if not job["checks"]["end_to_end"]:
        return
    for accept in job["accept_types"]:

        def invoke(accept: str = accept) -> tuple[bytes, str]:
            return _check_type(runtime.invoke(body, content_type, accept), accept)

        reporter.call(
            "end_to_end", invoke, default=False, describe=_describe_response, accept=accept, **where
        )


def _unit_checks(
    reporter: Reporter,
    runtime: Any,
    handler: Any,
    job: dict[str, Any],
    body: bytes,
    where: dict[str, Any],
) -> None:
    """input_fn -> predict_fn -> output_fn (each accept) for one sample, each timed alone."""
    checks: dict[str, bool] = job["checks"]
    accepts: list[str] = job["accept_types"]
    if not checks["input_fn"]:
        for fn in ("input_fn", "predict_fn", "output_fn"):
            reporter.skipped(fn, "input processing is not tested", **where)
        return
    ok, data = reporter.call(
        "input_fn",
        lambda: runtime.decode(body, where["content_type"]),
        default=handler.input_fn is None,
        **where,
    )
    if not ok or not checks["predict_fn"]:
        reason = "input_fn failed" if not ok else "prediction is not tested"
        reporter.skipped("predict_fn", reason, **where)
        for accept in accepts:
            reporter.skipped("output_fn", reason, accept=accept, **where)
        return
    ok, prediction = reporter.call(
        "predict_fn", lambda: runtime.predict(data), default=handler.predict_fn is None, **where
    )
    for accept in accepts:
        if not ok or not checks["output_fn"]:
            reason = "predict_fn failed" if not ok else "output formatting is not tested"
            reporter.skipped("output_fn", reason, accept=accept, **where)
            continue

        def encode(accept: str = accept) -> tuple[bytes, str]:
            return _check_type(runtime.encode(prediction, accept), accept)

        reporter.call(
            "output_fn",
            encode,
            default=handler.output_fn is None,
            describe=_describe_response,
            accept=accept,
            **where,
        )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    job = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    # Keep the real stdout for the protocol; the handler's prints go to stderr (its log).
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    reporter = Reporter(protocol)
    run(job, reporter)
    reporter.emit({"event": "done"})
    protocol.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

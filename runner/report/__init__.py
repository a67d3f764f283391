"""Renderers: RunResult -> JUnit XML, HTML, JSON, Prometheus metrics. They read only RunResult.

`write_reports()` is what a run calls: it always writes ``result.json``, ``junit.xml``
and ``report.html`` into ``report_dir`` (``reports/<run-id>/``), also writes any extra
path asked for (``--json``, ``--junit-xml``, ``--html``, ``--metrics``), and points
``reports/latest`` at the run when the run is in the default place (a folder named
after the run id); a folder chosen with ``--report-dir`` gets exactly its three files
and ``latest`` is left alone, so a custom folder never moves it. `render_reports()`
writes only the paths given (``checkrun report result.json --html ...``). Every
renderer sees the result after one more pass of the engine's secret redaction.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from runner.engine.results import RunResult
from runner.report.json import load_result

__all__ = [
    "DEFAULT_NAMES",
    "link_latest",
    "load_result",
    "render_reports",
    "write_reports",
]

Renderer = Callable[[RunResult], str]

# File names inside reports/<run-id>/.
DEFAULT_NAMES = {"json": "result.json", "junit": "junit.xml", "html": "report.html"}


def _renderers() -> dict[str, Renderer]:
    # Imported on use: `import runner.report` stays cheap for the CLI's fast commands.
    from runner.report.html import render_html
    from runner.report.json import render_json
    from runner.report.junit import render_junit
    from runner.report.metrics import render_metrics

    return {
        "json": render_json,
        "junit": render_junit,
        "html": render_html,
        "metrics": render_metrics,
    }


def write_reports(
    result: RunResult,
    *,
    report_dir: Path,
    json_path: Path | None = None,
    junit_path: Path | None = None,
    html_path: Path | None = None,
    metrics_path: Path | None = None,
    secrets: Iterable[str] = (),
    latest: bool | None = None,
) -> list[Path]:
    """Write JSON, JUnit and HTML under `report_dir` plus the extra paths; return every path.

    ``latest``: True points ``<parent>/latest`` at `report_dir`, False never touches it,
    None (default) does so only when `report_dir` is named after the run id (the
    default ``reports/<run-id>`` layout).
    """
    report_dir = Path(report_dir)
    targets = [(kind, report_dir / name) for kind, name in DEFAULT_NAMES.items()]
    targets += _targets(json_path, junit_path, html_path, metrics_path)
    written = _write_all(result, targets, secrets)
    if latest is None:
        latest = report_dir.name == result.run_id
    if latest:
        link_latest(report_dir)
    return written


def render_reports(
    result: RunResult,
    *,
    json_path: Path | None = None,
    junit_path: Path | None = None,
    html_path: Path | None = None,
    metrics_path: Path | None = None,
    secrets: Iterable[str] = (),
) -> list[Path]:
    """Write only the reports asked for (re-rendering a stored result.json)."""
    return _write_all(result, _targets(json_path, junit_path, html_path, metrics_path), secrets)


def _targets(
    json_path: Path | None,
    junit_path: Path | None,
    html_path: Path | None,
    metrics_path: Path | None,
) -> list[tuple[str, Path]]:
    """(renderer kind, path) for each path given."""
    given = (("json", json_path), ("junit", junit_path), ("html", html_path))
    return [(k, Path(p)) for k, p in (*given, ("metrics", metrics_path)) if p is not None]


def _write_all(
    result: RunResult, targets: list[tuple[str, Path]], secrets: Iterable[str]
) -> list[Path]:
    from runner.report.redaction import redact_result

    renderers = _renderers()
    safe = redact_result(result, secrets)
    rendered: dict[str, str] = {}
    written: list[Path] = []
    for kind, path in targets:
        if path in written:
            continue
        if kind not in rendered:
            rendered[kind] = renderers[kind](safe)
        _write_atomic(path, rendered[kind])
        written.append(path)
    return written


def _write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def link_latest(report_dir: Path) -> Path:
    """Point ``<parent>/latest`` at `report_dir`: a relative symlink, else a text file.

    Where symlinks fail (Windows without developer mode, some mounts) ``latest`` is a
    small text file holding the run folder's name.
    """
    report_dir = Path(report_dir)
    latest = report_dir.parent / "latest"
    tmp = report_dir.parent / f".latest.tmp-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    try:
        tmp.symlink_to(report_dir.name, target_is_directory=True)
        if latest.is_dir() and not latest.is_symlink():
            raise OSError("reports/latest is a real folder; not replacing it")
        os.replace(tmp, latest)
    except OSError:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if latest.is_dir() and not latest.is_symlink():
            return latest
        if latest.is_symlink():
            latest.unlink()
        latest.write_text(report_dir.name + "\n", encoding="utf-8")
    return latest

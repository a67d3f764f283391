"""Progress renderers: plain lines, JSON lines, and the rich live view (forced, no TTY)."""

from __future__ import annotations

import io
import json

from runner.progress import JsonRenderer, PlainRenderer, describe, make_renderer

EVENTS = [
    {
        "time": "2026-01-01T10:00:00.000+00:00",
        "event": "run_started",
        "run_id": "r1",
        "checklist": "c",
        "profile": "local",
        "target": "local",
        "tests": 1,
    },
    {
        "time": "2026-01-01T10:00:01.000+00:00",
        "event": "test_started",
        "test": "deploy",
        "title": "Deploy",
        "index": 1,
        "total": 1,
        "steps": 1,
    },
    {
        "time": "2026-01-01T10:00:01.000+00:00",
        "event": "step_started",
        "test": "deploy",
        "step": "create",
        "action": "x",
        "index": 1,
    },
    {
        "time": "2026-01-01T10:00:02.000+00:00",
        "event": "attempt",
        "test": "deploy",
        "step": "create",
        "attempt": 2,
        "of": 5,
        "wait": 1.5,
        "why": "polling",
        "reason": "status: expected equal to 1",
    },
    {
        "time": "2026-01-01T10:00:03.000+00:00",
        "event": "progress",
        "test": "deploy",
        "step": "create",
        "message": "endpoint Creating (40s)",
    },
    {
        "time": "2026-01-01T10:00:04.000+00:00",
        "event": "step_finished",
        "test": "deploy",
        "step": "create",
        "status": "failed",
        "duration": 3.0,
        "attempts": 2,
        "error": "boom",
    },
    {
        "time": "2026-01-01T10:00:04.000+00:00",
        "event": "test_finished",
        "test": "deploy",
        "title": "Deploy",
        "status": "failed",
        "duration": 3.0,
        "reason": "step 1 (create) failed: boom",
    },
]


def test_plain_lines_say_attempt_n_of_m_and_progress() -> None:
    out = io.StringIO()
    renderer = PlainRenderer(out, verbosity=0)
    for event in EVENTS:
        renderer(event)
    lines = out.getvalue().splitlines()
    assert "10:00:02       deploy > create: polling, attempt 2 of 5 in 1.5s" in lines
    assert "10:00:03       deploy > create: endpoint Creating (40s)" in lines
    assert lines[-1] == "10:00:04 FAIL  deploy (3.00s) - step 1 (create) failed: boom"


def test_quiet_shows_only_test_results() -> None:
    out = io.StringIO()
    renderer = PlainRenderer(out, verbosity=-1)
    for event in EVENTS:
        renderer(event)
    assert out.getvalue().splitlines() == [
        "10:00:04 FAIL  deploy (3.00s) - step 1 (create) failed: boom"
    ]


def test_json_renderer_writes_each_event_as_one_line() -> None:
    out = io.StringIO()
    renderer = JsonRenderer(out)
    for event in EVENTS:
        renderer(event)
    assert [json.loads(line) for line in out.getvalue().splitlines()] == EVENTS


def test_rich_renderer_prints_results_without_colour_when_asked() -> None:
    out = io.StringIO()
    renderer = make_renderer("rich", stream=out, verbosity=0, color=False)
    for event in EVENTS:
        renderer(event)
    renderer.close()
    text = out.getvalue()
    assert "FAIL  deploy (3.00s) - step 1 (create) failed: boom" in text
    assert "\x1b[31m" not in text  # no red


def test_verbose_adds_step_lines() -> None:
    assert describe(EVENTS[2], 0) is None
    assert describe(EVENTS[2], 1) == "      deploy > create ..."


def test_plain_progress_lines_are_throttled_per_step() -> None:
    out = io.StringIO()
    renderer = PlainRenderer(out, verbosity=0)
    for _ in range(3):
        renderer(EVENTS[4])
    assert out.getvalue().count("endpoint Creating") == 1

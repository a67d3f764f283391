"""Report tests share `sample_runs` (also loaded by tests/browser)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from sample_runs import Kind, sample_run

from runner.engine.results import RunResult


@pytest.fixture(params=["approved", "needs_work", "blocked"])
def any_run(request: pytest.FixtureRequest) -> RunResult:
    kind: Kind = request.param
    return sample_run(kind)

"""Sign-off fields of a run: who tested, where, which model, notes, which CI build.

Sources, strongest first:

1. command-line flags ``--tester``, ``--environment``, ``--model-version``, ``--notes``;
2. environment variables ``CHECKRUN_TESTER``, ``CHECKRUN_ENVIRONMENT``,
   ``CHECKRUN_MODEL_VERSION``, ``CHECKRUN_NOTES``;
3. the checklist's ``signoff:`` block (already in ``RunResult.signoff``);
4. what the CI system tells: the tester from ``GITHUB_ACTOR`` / ``GITLAB_USER_LOGIN`` /
   ``BUILD_USER_ID`` (Jenkins), and ``build_url`` from GitHub Actions
   (``GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID``), GitLab
   (``CI_JOB_URL``) or Jenkins (``BUILD_URL``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

from runner.engine.results import RunResult

FIELDS = ("tester", "environment", "model_version", "notes")
_CI_TESTER = ("GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILD_USER_ID")


def resolve_signoff(
    checklist: Mapping[str, str],
    flags: Mapping[str, str | None],
    env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Merge the four sources (see the module docstring); empty values never win."""
    env = os.environ if env is None else env
    merged: dict[str, str] = {}
    tester = next((env[name] for name in _CI_TESTER if env.get(name)), None)
    if tester:
        merged["tester"] = tester
    build = _build_url(env)
    if build:
        merged["build_url"] = build
    merged.update({k: str(v) for k, v in checklist.items() if v not in (None, "")})
    for name in FIELDS:
        value = env.get(f"CHECKRUN_{name.upper()}")
        if value:
            merged[name] = value
    merged.update({k: v for k, v in flags.items() if v})
    return merged


def apply_signoff(
    result: RunResult, flags: Mapping[str, str | None], env: Mapping[str, str] | None = None
) -> RunResult:
    """`result` with its sign-off fields resolved from flags, environment and checklist."""
    return dataclasses.replace(result, signoff=resolve_signoff(result.signoff, flags, env))


def tests_passed(result: RunResult) -> str:
    """The seed's "Tests passed: N / M" figure, the same in HTML, JUnit and the terminal.

    M counts every test of the checklist (async.yaml: the pre-deployment checklist and
    tests 1-14, so 15), skipped ones included, so a partial run (``--only``) cannot look
    complete; the per-status totals beside it say how many were skipped or blocked.
    """
    totals = result.totals
    return f"{totals['passed']} / {totals['total']}"


def _build_url(env: Mapping[str, str]) -> str | None:
    if env.get("GITHUB_RUN_ID") and env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        return f"{server}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
    return env.get("CI_JOB_URL") or env.get("BUILD_URL") or None

"""Fault injection for the local stack: a seeded plan of things that go wrong on purpose.

A plan is a list of rules. Each rule names a kind of fault, which calls it applies to and how
often. Decisions are deterministic for a seed: whether the n-th call matching rule i is hit
depends only on (seed, i, n), not on thread timing.

```yaml
seed: 7
rules:
  - {kind: throttle, api: "sagemaker-runtime:InvokeEndpointAsync", rate: 0.5}
  - {kind: error, api: "s3:GetObject", rate: 0.1, status: 503}
  - {kind: latency, api: "sns:*", seconds: 0.2}
  - {kind: drop_notification, rate: 0.3}
  - {kind: kill_worker, endpoint: "my-endpoint", count: 1}
  - {kind: slow_start, seconds: 2}
```

`kill_worker` kills the model server that took an async invocation: at once (seconds: 0,
before the request reaches it) or `seconds` into the invocation (a crash mid-predict); the job
fails and the server is restarted. `slow_start` delays the model servers' start by `seconds`.
`api` is a glob over "service:Operation" (service as in the request's signing scope); a bare
operation ("GetObject") matches any service. `endpoint` is a glob over endpoint names for the
kinds that act on an endpoint (drop_notification, kill_worker, slow_start). `count` caps how many
times a rule fires.
"""

from __future__ import annotations

import fnmatch
import json
import random
import threading
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from runner.errors import UsageError

FaultKind = Literal[
    "throttle", "error", "latency", "drop_notification", "kill_worker", "slow_start"
]
REQUEST_KINDS = ("throttle", "error", "latency")


class FaultRule(BaseModel):
    """One kind of fault, where it applies and how often."""

    model_config = ConfigDict(extra="forbid")

    kind: FaultKind
    api: str = Field("*", description="glob over 'service:Operation' or 'Operation'")
    endpoint: str = Field("*", description="glob over endpoint names (endpoint-level kinds)")
    rate: float = Field(1.0, ge=0.0, le=1.0, description="share of matching calls hit")
    status: int = Field(500, ge=500, le=599, description="HTTP status for kind=error")
    seconds: float = Field(0.0, ge=0.0, description="delay for latency / slow_start")
    count: int | None = Field(None, ge=1, description="fire at most this many times")

    def matches_api(self, service: str, operation: str) -> bool:
        if ":" in self.api:
            return fnmatch.fnmatchcase(f"{service}:{operation}", self.api)
        return fnmatch.fnmatchcase(operation, self.api)

    def matches_endpoint(self, endpoint: str) -> bool:
        return fnmatch.fnmatchcase(endpoint, self.endpoint)


class FaultPlan(BaseModel):
    """A seeded list of fault rules; ask it `request_faults(...)` or `fires(kind, endpoint)`."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 0
    rules: list[FaultRule] = Field(default_factory=list)

    def model_post_init(self, __context: object) -> None:
        self._lock = threading.Lock()
        self._seen: dict[int, int] = {}
        self._fired: dict[int, int] = {}

    @classmethod
    def from_file(cls, path: Path | str) -> FaultPlan:
        """Read a plan from YAML or JSON; a bad file is a UsageError that says what is wrong."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
            return cls.model_validate(data or {})
        except OSError as exc:
            raise UsageError(f"cannot read fault plan {path}: {exc.strerror}") from exc
        except (yaml.YAMLError, json.JSONDecodeError) as exc:
            raise UsageError(f"fault plan {path} is not valid YAML/JSON: {exc}") from exc
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise UsageError(f"fault plan {path} is invalid: {problems}") from exc

    def _decide(self, index: int, rule: FaultRule) -> bool:
        """Deterministic per (seed, rule, ordinal of the matching call)."""
        with self._lock:
            nth = self._seen.get(index, 0)
            self._seen[index] = nth + 1
            if rule.count is not None and self._fired.get(index, 0) >= rule.count:
                return False
            hit = (
                rule.rate >= 1.0 or random.Random(f"{self.seed}:{index}:{nth}").random() < rule.rate
            )
            if hit:
                self._fired[index] = self._fired.get(index, 0) + 1
            return hit

    def request_faults(self, service: str, operation: str) -> list[FaultRule]:
        """The request-level rules (throttle, error, latency) that fire for this call."""
        return [
            rule
            for index, rule in enumerate(self.rules)
            if rule.kind in REQUEST_KINDS
            and rule.matches_api(service, operation)
            and self._decide(index, rule)
        ]

    def fires(self, kind: FaultKind, endpoint: str) -> FaultRule | None:
        """The first rule of an endpoint-level kind that fires now for `endpoint`, if any."""
        for index, rule in enumerate(self.rules):
            if rule.kind == kind and rule.matches_endpoint(endpoint) and self._decide(index, rule):
                return rule
        return None

    def fired(self) -> dict[str, int]:
        """How often each rule fired so far, keyed 'index:kind' (for reports and tests)."""
        with self._lock:
            return {f"{i}:{self.rules[i].kind}": n for i, n in sorted(self._fired.items())}

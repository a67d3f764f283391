"""Every cloud resource a run creates, on disk the moment it is created.

`ledger.json` is rewritten (write to a temp file, fsync, rename) on every change,
so a run killed with SIGKILL still leaves an exact list for `checkrun cleanup`.
The ledger knows nothing about AWS: a resource is a `kind` string
("sagemaker:endpoint", "s3:object", ...) plus an id and free-form details; the
action family that created it knows how to delete it.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Resource:
    kind: str
    id: str
    region: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    created_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())
    deleted: bool = False


class Ledger:
    """Thread-safe, append-mostly record of a run's resources, flushed on each change."""

    def __init__(self, path: Path | None, run_id: str, meta: dict[str, Any] | None = None) -> None:
        self.path = path
        self.run_id = run_id
        self.meta: dict[str, Any] = dict(meta or {})
        self._resources: list[Resource] = []
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path) -> Ledger:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        ledger = cls(Path(path), data["run_id"], data.get("meta", {}))
        ledger._resources = [Resource(**r) for r in data.get("resources", [])]
        return ledger

    def record(self, kind: str, id: str, region: str | None = None, **details: Any) -> Resource:
        """Remember a resource just created (idempotent for the same kind and id)."""
        with self._lock:
            for r in self._resources:
                if r.kind == kind and r.id == id and not r.deleted:
                    return r
            res = Resource(kind, id, region, details)
            self._resources.append(res)
            self._flush()
            return res

    def mark_deleted(self, kind: str, id: str) -> None:
        with self._lock:
            self._resources = [
                Resource(r.kind, r.id, r.region, r.details, r.created_at, True)
                if r.kind == kind and r.id == id
                else r
                for r in self._resources
            ]
            self._flush()

    def pending(self) -> list[Resource]:
        """Resources not yet deleted, oldest first."""
        with self._lock:
            return [r for r in self._resources if not r.deleted]

    def all(self) -> list[Resource]:
        with self._lock:
            return list(self._resources)

    def _flush(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "run_id": self.run_id,
            "meta": self.meta,
            "resources": [asdict(r) for r in self._resources],
        }
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".ledger-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

"""The one clock every wait, retry and timeout goes through, so tests can inject their own."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float: ...
    def now(self) -> datetime: ...  # timezone-aware UTC
    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> None: ...


class SystemClock:
    """Real time. `sleep` wakes early when `cancel` is set (Ctrl-C, run timeout)."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> None:
        if seconds <= 0:
            return
        if cancel is None:
            time.sleep(seconds)
        else:
            cancel.wait(seconds)

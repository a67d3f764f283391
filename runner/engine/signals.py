"""Ctrl-C and SIGTERM both become KeyboardInterrupt while a run is in progress.

The engine turns a KeyboardInterrupt into "stop this step, skip the rest, run the
always tests, mark the run interrupted" (exit 130), so `kill` from a CI runner
gets the same cleanup as Ctrl-C at a terminal.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def interrupts_raise_keyboard_interrupt() -> Iterator[None]:
    """SIGTERM behaves like Ctrl-C (signals can only be handled in the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    # A shell may start us with SIGINT ignored (`cmd &`): Ctrl-C must still work.
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)

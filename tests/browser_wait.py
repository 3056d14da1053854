"""Polling for the browser tests: the page works asynchronously."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(check: Callable[[], T | None], timeout_s: float = 20.0, what: str = "condition") -> T:
    """Poll until ``check`` returns something truthy; fail naming ``what`` and the last error."""
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:  # element not there yet, stale, …
            last_error = exc
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}" + (f": {last_error}" if last_error else ""))

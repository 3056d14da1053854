"""One writer at a time per data directory, across processes (CLI and API alike).

Writers (ingest, delete, reindex) hold an exclusive ``flock`` on ``<index>/.write.lock``;
readers never take it: SQLite (WAL) gives them a consistent view while a write is under way.
``flock`` locks belong to the open file, so two threads of one process that each open the
lock file exclude each other too.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.errors import AssistantError

LOCK_NAME = ".write.lock"


class WriteBusy(AssistantError):
    """Another process or request is writing to the same data directory."""

    exit_code = 6
    http_status = 503


@contextmanager
def write_lock(index_dir: Path, timeout_s: float | None = 120.0, poll_s: float = 0.1) -> Iterator[None]:
    """Hold the data directory's write lock; ``timeout_s=None`` waits as long as it takes.

    Raises ``WriteBusy`` when the lock is not free within ``timeout_s``."""
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if timeout_s is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        else:
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise WriteBusy(
                            "Kho đang được cập nhật bởi một thao tác khác (nạp, xóa hoặc dựng lại "
                            "chỉ mục). Vui lòng thử lại sau ít phút."
                        ) from None
                    time.sleep(poll_s)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)

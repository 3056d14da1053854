"""The small exception tree. Only ``AssistantError`` subclasses carry messages meant for users.

Each class maps to one CLI exit code and one HTTP status; anything else that escapes is a bug
and is reported to the user as a generic error without a traceback.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every error whose message is shown to a user (Vietnamese first)."""

    exit_code = 1
    http_status = 400

    def __init__(self, message: str, *, source: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source

    def __str__(self) -> str:
        return f"{self.source}: {self.message}" if self.source else self.message


class LoadError(AssistantError):
    """A file cannot be read as a notice (encoding, type, no text layer, corrupt)."""

    http_status = 422


class UnsupportedFileType(LoadError):
    http_status = 415


class ParseError(AssistantError):
    http_status = 422


class NotFound(AssistantError):
    exit_code = 2
    http_status = 404


class SourcesChanged(AssistantError):
    """A notice an answer was citing was deleted or replaced while the answer was composed,
    again on every retry; asking again reads the notices as they now are."""

    exit_code = 2
    http_status = 409


class ConfigError(AssistantError):
    exit_code = 3
    http_status = 500


class IndexStateError(AssistantError):
    """Vector/BM25 indexes do not match the canonical records; ``assistant reindex`` repairs."""

    exit_code = 4
    http_status = 503


class BackendError(AssistantError):
    """An external backend (LLM endpoint, Chroma server) failed or is unreachable."""

    exit_code = 5
    http_status = 502


class DiskFull(AssistantError):
    """The data directory's disk (or quota) is full: nothing half-written is kept."""

    exit_code = 7
    http_status = 507

    def __init__(self, message: str | None = None, *, source: str | None = None) -> None:
        super().__init__(message or (
            "Hết dung lượng đĩa: không ghi được vào thư mục dữ liệu. Hãy giải phóng dung lượng "
            "rồi chạy lại; những gì đã lưu trước đó vẫn nguyên vẹn."
        ), source=source)


def as_disk_full(exc: BaseException) -> DiskFull | None:
    """``DiskFull`` when ``exc`` (or what caused it) is a full disk, however the library that
    met it words it: ``OSError`` ENOSPC/EDQUOT, SQLite's SQLITE_FULL, Chroma's message."""
    import errno
    import sqlite3

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DiskFull):
            return current
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return DiskFull()
        if isinstance(current, sqlite3.Error) and (
            getattr(current, "sqlite_errorcode", None) == 13 or "disk is full" in str(current)
        ):
            return DiskFull()
        text = str(current).lower()
        if "no space left on device" in text or "database or disk is full" in text:
            return DiskFull()
        current = current.__cause__ or current.__context__
    return None

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

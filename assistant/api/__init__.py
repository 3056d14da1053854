"""FastAPI service and the offline web page (``assistant serve``)."""

from __future__ import annotations

from assistant.api.app import create_app

__all__ = ["create_app"]

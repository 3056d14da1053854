"""``/api/uploads/{progress_id}``: how far an upload in progress has got (OCR pages, files).

The page names its upload with a random ``progress_id`` form field and asks here every second
while the upload request is running: a scan of twenty pages takes a minute or more, and the
page shows 'OCR «x.pdf»: trang 7/20' instead of a spinner. Kept in memory (the service is one
process); an entry goes ten minutes after its last change, and there are at most a few hundred.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter

from assistant.errors import NotFound

router = APIRouter(prefix="/api/uploads", tags=["Thông báo"])

_KEEP_S = 600.0
_MAX_ENTRIES = 500
_VALID_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


@dataclass
class _Upload:
    files: int
    done_files: int = 0
    current: str | None = None
    pages_done: int = 0
    pages_total: int = 0
    changed: float = field(default_factory=time.monotonic)


_uploads: dict[str, _Upload] = {}
_lock = threading.Lock()


def valid_id(progress_id: str | None) -> str | None:
    """The id when it is a plausible one, else None (then nothing is tracked)."""
    return progress_id if progress_id and _VALID_ID.match(progress_id) else None


def start(progress_id: str, files: int) -> None:
    with _lock:
        now = time.monotonic()
        for key in [k for k, v in _uploads.items() if now - v.changed > _KEEP_S]:
            del _uploads[key]
        if len(_uploads) >= _MAX_ENTRIES:
            del _uploads[min(_uploads, key=lambda k: _uploads[k].changed)]
        _uploads[progress_id] = _Upload(files)


def file_started(progress_id: str, name: str) -> Callable[[int, int], None]:
    """Mark ``name`` as the file being loaded; returns its OCR page callback."""
    with _lock:
        upload = _uploads.get(progress_id)
        if upload is not None:
            upload.current, upload.pages_done, upload.pages_total = name, 0, 0
            upload.changed = time.monotonic()

    def pages(done: int, total: int) -> None:
        with _lock:
            entry = _uploads.get(progress_id)
            if entry is not None:
                entry.pages_done, entry.pages_total, entry.changed = done, total, time.monotonic()

    return pages


def file_done(progress_id: str) -> None:
    with _lock:
        upload = _uploads.get(progress_id)
        if upload is not None:
            upload.done_files += 1
            upload.changed = time.monotonic()


@router.get("/{progress_id}", summary="Tiến độ một lần tải lên (tệp, trang đang nhận dạng chữ)")
def upload_progress(progress_id: str) -> dict[str, Any]:
    with _lock:
        upload = _uploads.get(progress_id)
        if upload is None:
            raise NotFound("Không có lần tải lên nào với mã này (có thể đã xong từ lâu).")
        return {"files": upload.files, "done_files": upload.done_files, "current": upload.current,
                "pages_done": upload.pages_done, "pages_total": upload.pages_total}

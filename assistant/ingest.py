"""Ingest a batch of files: load -> parse -> canonical store (-> search indexes).

One bad file never stops the batch: it is reported by name and the rest still lands.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Protocol

from assistant.agencies import Gazetteer
from assistant.errors import AssistantError, as_disk_full
from assistant.load import load_bytes, load_path, walk_paths
from assistant.model import LoadedDocument, Notice, OcrInfo
from assistant.parse import parse_document
from assistant.settings import Settings
from assistant.store import Store, StoreOutcome

log = logging.getLogger(__name__)


class FileStatus(StrEnum):
    ADDED = "added"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    SKIPPED = "skipped"


STATUS_LABELS = {
    FileStatus.ADDED: "đã nạp",
    FileStatus.REPLACED: "đã cập nhật",
    FileStatus.UNCHANGED: "không đổi",
    FileStatus.FAILED: "lỗi",
    FileStatus.SKIPPED: "bỏ qua",
}


@dataclass
class FileResult:
    source: str
    status: FileStatus
    notice_id: str | None = None
    kind: str | None = None
    assignments: int = 0
    message: str | None = None
    ocr: OcrInfo | None = None  # how the text was read when it was read by OCR

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "status": self.status.value,
            "notice_id": self.notice_id,
            "kind": self.kind,
            "assignments": self.assignments,
            "error": self.message if self.status is FileStatus.FAILED else None,
            "message": self.message,
            "ocr": self.ocr.model_dump(mode="json") if self.ocr else None,
        }


class NoticeIndexer(Protocol):
    """Keeps the search indexes in step with the canonical store."""

    def notice_stored(self, notice: Notice, replaced: Sequence[str]) -> None: ...


def ingest_paths(
    paths: Iterable[Path],
    store: Store,
    settings: Settings,
    gazetteer: Gazetteer,
    indexer: NoticeIndexer | None = None,
    on_result: Callable[[FileResult], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    on_pages: Callable[[str, int, int], None] | None = None,
) -> list[FileResult]:
    """``on_pages(source, done, total)`` hears of each page of a file read by OCR."""
    walked = walk_paths(paths)
    results: list[FileResult] = []
    for skipped in walked.skipped:
        result = FileResult(
            str(skipped), FileStatus.SKIPPED, message="định dạng không hỗ trợ, bỏ qua"
        )
        results.append(result)
        if on_result:
            on_result(result)
    for refused, reason in walked.refused:
        result = FileResult(str(refused), FileStatus.FAILED, message=reason)
        results.append(result)
        if on_result:
            on_result(result)
    if on_start:
        on_start(len(walked.files))
    for path in walked.files:
        # The source is the resolved path: the same file named relatively, absolutely or from
        # another working folder is one source (a changed file replaces its old version).
        source = str(path.resolve()) if path.exists() else str(path)
        pages = partial(on_pages, source) if on_pages else None
        result = _ingest_one(
            partial(load_path, path, settings.load, source, progress=pages), source, store, gazetteer, indexer
        )
        results.append(result)
        if on_result:
            on_result(result)
    return results


def ingest_upload(
    data: bytes,
    name: str,
    store: Store,
    settings: Settings,
    gazetteer: Gazetteer,
    indexer: NoticeIndexer | None = None,
    loaded: LoadedDocument | None = None,
) -> FileResult:
    """``loaded``: the file already loaded by ``load_upload`` (outside the write lock)."""
    if loaded is not None:
        return _ingest_one(lambda: loaded, name, store, gazetteer, indexer)
    return _ingest_one(lambda: load_bytes(data, name, settings.load), name, store, gazetteer, indexer)


def load_upload(
    data: bytes, name: str, settings: Settings, progress: Callable[[int, int], None] | None = None
) -> LoadedDocument | FileResult:
    """Load an upload before taking the write lock: converting a .doc or reading a scan by OCR
    takes seconds to minutes and needs no lock, and other writers should not wait for it. A
    file that cannot be loaded comes back as its failed result. ``progress(done, total)`` hears
    of each page read by OCR."""
    try:
        return load_bytes(data, name, settings.load, progress)
    except AssistantError as exc:
        return FileResult(name, FileStatus.FAILED, message=exc.message)
    except Exception:  # a bug must not lose the rest of the batch, nor show a traceback
        log.exception("unexpected error while loading %s", name)
        return FileResult(name, FileStatus.FAILED,
                          message="lỗi không mong đợi khi xử lý tệp (chi tiết trong nhật ký chương trình)")


def _ingest_one(
    load: Callable[[], LoadedDocument],
    source: str,
    store: Store,
    gazetteer: Gazetteer,
    indexer: NoticeIndexer | None,
) -> FileResult:
    try:
        document = load()
        notice = parse_document(document, gazetteer)
        outcome, replaced = store.put(notice)
    except AssistantError as exc:
        return FileResult(source, FileStatus.FAILED, message=exc.message)
    except Exception as exc:  # a bug must not lose the rest of the batch, nor show a traceback
        if (full := as_disk_full(exc)) is not None:
            return FileResult(source, FileStatus.FAILED, message=full.message)
        log.exception("unexpected error while ingesting %s", source)
        return FileResult(
            source,
            FileStatus.FAILED,
            message="lỗi không mong đợi khi xử lý tệp (chi tiết trong nhật ký chương trình)",
        )
    result = FileResult(
        source,
        FileStatus(outcome.value),
        notice_id=notice.id,
        kind=notice.kind.value,
        assignments=len(notice.assignments),
        ocr=notice.ocr,
    )
    if indexer is not None and outcome is not StoreOutcome.UNCHANGED:
        try:
            indexer.notice_stored(notice, replaced)
        except Exception as exc:
            # The notice is stored: saying it failed would be false. The search index is
            # marked stale before it is touched, so it is completed later (doctor/reindex,
            # or the next reader).
            full = as_disk_full(exc)
            if full is None:
                log.exception("search index not updated for %s", source)
            reason = full.message if full else "lỗi khi cập nhật chỉ mục"
            result.message = f"đã lưu vào kho nhưng chưa cập nhật được chỉ mục tìm kiếm ({reason})"
    return result

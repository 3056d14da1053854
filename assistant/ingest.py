"""Ingest a batch of files: load -> parse -> canonical store (-> search indexes).

One bad file never stops the batch: it is reported by name and the rest still lands.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Protocol

from assistant.agencies import Gazetteer
from assistant.errors import AssistantError, as_disk_full
from assistant.isolation import run_isolated
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
    """``read_paths`` then ``store_batch``, for callers that hold no lock of their own.
    ``on_pages(source, done, total)`` hears of each page of a file read by OCR."""
    with ParsedBatch() as batch:
        read_paths(paths, settings, gazetteer, batch, on_failed=on_result, on_start=on_start,
                   on_pages=on_pages)
        return store_batch(batch, store, indexer, on_stored=on_result)


class ParsedBatch:
    """Parse outcomes in file order, notices kept in a temporary file until they are stored:
    a batch is read whole before the write lock is taken (reading a scan or a .doc takes
    seconds to minutes, and other writers must not wait for it), and thousands of parsed
    notices held in memory would cost gigabytes."""

    def __init__(self) -> None:
        self._spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close() or the with block
        self._items: list[FileResult | tuple[int, int, str]] = []

    def append(self, parsed: Notice | FileResult) -> None:
        if isinstance(parsed, FileResult):
            self._items.append(parsed)
            return
        try:
            data = parsed.model_dump_json().encode("utf-8")
        except Exception:  # one notice that cannot be kept must not lose the batch
            log.exception("parsed notice of %s could not be spooled", parsed.source)
            self._items.append(_unexpected(parsed.source))
            return
        offset = self._spool.seek(0, os.SEEK_END)
        self._spool.write(data)
        self._items.append((offset, len(data), parsed.source))

    def __len__(self) -> int:
        return len(self._items)

    @property
    def notices(self) -> int:
        """How many parsed notices (not failed or skipped files) the batch holds."""
        return sum(not isinstance(item, FileResult) for item in self._items)

    def __iter__(self) -> Iterator[Notice | FileResult]:
        for item in self._items:
            if isinstance(item, FileResult):
                yield item
                continue
            offset, size, source = item
            self._spool.seek(offset)
            try:
                # As the store reads its rows back: pydantic's own JSON parser stops at a
                # nesting depth the parser allows (200 levels of sections), Python's does not.
                yield Notice.model_validate(json.loads(self._spool.read(size)))
            except Exception:
                log.exception("parsed notice of %s could not be read back", source)
                yield _unexpected(source)

    def close(self) -> None:
        self._spool.close()

    def __enter__(self) -> ParsedBatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_paths(
    paths: Iterable[Path],
    settings: Settings,
    gazetteer: Gazetteer,
    batch: ParsedBatch,
    on_failed: Callable[[FileResult], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    on_read: Callable[[str], None] | None = None,
    on_pages: Callable[[str, int, int], None] | None = None,
) -> None:
    """Load and parse every file under ``paths`` into ``batch`` (no lock needed). Files that
    are skipped, refused or fail are reported to ``on_failed`` at once; ``on_start`` hears how
    many files will be read, ``on_read`` of each one read."""
    def not_read(result: FileResult) -> None:
        batch.append(result)
        if on_failed:
            on_failed(result)

    walked = walk_paths(paths)
    for skipped in walked.skipped:
        not_read(FileResult(str(skipped), FileStatus.SKIPPED, message="định dạng không hỗ trợ, bỏ qua"))
    for refused, reason in walked.refused:
        not_read(FileResult(str(refused), FileStatus.FAILED, message=reason))
    if on_start:
        on_start(len(walked.files))
    for path in walked.files:
        # The source is the resolved path: the same file named relatively, absolutely or from
        # another working folder is one source (a changed file replaces its old version).
        source = str(path.resolve()) if path.exists() else str(path)
        pages = partial(on_pages, source) if on_pages else None
        parsed = parse_isolated(partial(load_path, path, settings.load, source), source, settings,
                                gazetteer, progress=pages)
        if isinstance(parsed, FileResult):
            not_read(parsed)
        else:
            batch.append(parsed)
        if on_read:
            on_read(source)


def store_batch(
    batch: ParsedBatch,
    store: Store,
    indexer: NoticeIndexer | None,
    on_stored: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Store and index what ``read_paths`` parsed (the caller holds the write lock); every
    file's result in file order, ``on_stored`` hearing of each notice stored."""
    results: list[FileResult] = []
    for parsed in batch:
        result = store_parsed(parsed, store, indexer)
        results.append(result)
        if on_stored and not isinstance(parsed, FileResult):
            on_stored(result)
    return results


def ingest_upload(
    data: bytes,
    name: str,
    store: Store,
    settings: Settings,
    gazetteer: Gazetteer,
    indexer: NoticeIndexer | None = None,
) -> FileResult:
    return store_parsed(parse_upload(data, name, settings, gazetteer), store, indexer)


def parse_upload(
    data: bytes,
    name: str,
    settings: Settings,
    gazetteer: Gazetteer,
    progress: Callable[[int, int], None] | None = None,
) -> Notice | FileResult:
    """An uploaded file read and parsed (in a worker process, needing no lock), or its failed
    result; ``store_parsed`` then stores it under the write lock. Converting a .doc or reading
    a scan by OCR takes seconds to minutes, and other writers should not wait for it.
    ``progress(done, total)`` hears of each page read by OCR."""
    return parse_isolated(partial(load_bytes, data, name, settings.load), name, settings, gazetteer,
                          progress=progress)


def parse_isolated(
    load: Callable[..., LoadedDocument],
    source: str,
    settings: Settings,
    gazetteer: Gazetteer,
    progress: Callable[[int, int], None] | None = None,
) -> Notice | FileResult:
    """Load and parse in a worker process with a time and memory limit (assistant/isolation.py),
    so that a hostile file neither holds the caller up for minutes nor keeps its memory.
    ``progress(done, total)`` hears of each page read by OCR, relayed from the worker."""
    try:
        return run_isolated(_load_and_parse, load, gazetteer, name=source, settings=settings.load,
                            progress=progress)
    except AssistantError as exc:
        return FileResult(source, FileStatus.FAILED, message=exc.message)
    except Exception:  # a bug must not lose the rest of the batch, nor show a traceback
        log.exception("unexpected error while reading %s", source)
        return _unexpected(source)


def _load_and_parse(
    load: Callable[..., LoadedDocument], gazetteer: Gazetteer, progress: Callable[[int, int], None] | None = None
) -> Notice:
    return parse_document(load(progress=progress), gazetteer)


def store_parsed(parsed: Notice | FileResult, store: Store, indexer: NoticeIndexer | None) -> FileResult:
    """Store a parsed notice and index it; a failed result passes through unchanged."""
    if isinstance(parsed, FileResult):
        return parsed
    notice = parsed
    source = notice.source
    try:
        outcome, replaced = store.put(notice)
    except AssistantError as exc:
        return FileResult(source, FileStatus.FAILED, message=exc.message)
    except Exception as exc:  # a bug must not lose the rest of the batch, nor show a traceback
        if (full := as_disk_full(exc)) is not None:
            return FileResult(source, FileStatus.FAILED, message=full.message)
        log.exception("unexpected error while ingesting %s", source)
        return _unexpected(source)
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


def _unexpected(source: str) -> FileResult:
    return FileResult(
        source,
        FileStatus.FAILED,
        message="lỗi không mong đợi khi xử lý tệp (chi tiết trong nhật ký chương trình)",
    )

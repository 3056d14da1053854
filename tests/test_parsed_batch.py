"""``ParsedBatch``: what a CLI ingest read before taking the write lock comes back exactly."""

from __future__ import annotations

from pathlib import Path

from assistant.agencies import get_gazetteer
from assistant.ingest import FileResult, FileStatus, ParsedBatch, read_paths
from assistant.model import Notice
from assistant.settings import Settings
from tests.conftest import SAMPLES


class _Watched(ParsedBatch):
    """Keeps what was appended, to compare with what the spool gives back."""

    def __init__(self) -> None:
        super().__init__()
        self.appended: list[Notice | FileResult] = []

    def append(self, parsed: Notice | FileResult) -> None:
        self.appended.append(parsed)
        super().append(parsed)


def test_parsed_notices_come_back_equal_and_in_file_order(tmp_path: Path) -> None:
    (tmp_path / "bad.docx").write_bytes(b"not a zip")
    (tmp_path / "notes.xyz").write_text("x", encoding="utf-8")
    settings = Settings(index=tmp_path / "index")
    failed: list[FileResult] = []
    read: list[str] = []
    with _Watched() as batch:
        read_paths([SAMPLES, tmp_path], settings, get_gazetteer(None), batch, on_failed=failed.append,
                   on_read=read.append)
        items = list(batch)
        assert len(items) == len(batch)
        notices = [item for item in items if not isinstance(item, FileResult)]
        assert batch.notices == len(notices) >= 3
        assert [n.source for n in notices] == [s for s in read if not s.endswith("bad.docx")]
        assert [item.model_dump() if isinstance(item, Notice) else item for item in items] == [
            item.model_dump() if isinstance(item, Notice) else item for item in batch.appended
        ]
    assert {(Path(f.source).name, f.status) for f in failed} == {
        ("bad.docx", FileStatus.FAILED), ("notes.xyz", FileStatus.SKIPPED)
    }


def test_a_notice_that_cannot_be_read_back_fails_by_name_and_the_rest_lands(tmp_path: Path) -> None:
    settings = Settings(index=tmp_path / "index")
    with ParsedBatch() as batch:
        read_paths([SAMPLES], settings, get_gazetteer(None), batch)
        first = next(item for item in batch if isinstance(item, Notice))
        batch._spool.seek(0)
        batch._spool.write(b"{not json")  # the first spooled notice, damaged
        items = list(batch)
    failed = [item for item in items if isinstance(item, FileResult)]
    assert [(f.source, f.status) for f in failed] == [(first.source, FileStatus.FAILED)]
    assert "lỗi không mong đợi" in (failed[0].message or "")
    assert sum(isinstance(item, Notice) for item in items) == len(items) - 1 >= 2

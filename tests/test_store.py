from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from assistant.errors import NotFound
from assistant.model import (
    AgencyRef,
    Assignment,
    DateValue,
    Deadline,
    Level,
    Notice,
    Role,
    Section,
    content_id,
)
from assistant.store import Store, StoreOutcome


def make_notice(text: str, source: str = "a.txt", meeting: dt.date | None = None) -> Notice:
    agency_at = text.index("Phòng")
    return Notice(
        id=content_id(text),
        source=source,
        format="txt",
        text=text,
        level=Level.DISTRICT,
        meeting_date=DateValue(text="x", start=0, end=1, value=meeting) if meeting else None,
        sections=[Section(number="I", marker="I.", heading="NHIỆM VỤ", start=0, end=len(text))],
        assignments=[
            Assignment(
                agency=AgencyRef(
                    text="Phòng TNMT",
                    canonical="Phòng Tài nguyên và Môi trường",
                    level=Level.DISTRICT,
                    start=agency_at,
                    end=agency_at + 10,
                ),
                role=Role.LEAD,
                task=text[agency_at:],
                deadline=Deadline(text="trước ngày 20/4/2024", date=dt.date(2024, 4, 20), start=0, end=1),
                section_path=["I. NHIỆM VỤ"],
                start=agency_at,
                end=len(text),
            )
        ],
    )


def test_same_content_is_a_noop_and_changed_file_replaces(tmp_path: Path) -> None:
    with Store(tmp_path / "db.sqlite3") as store:
        first = make_notice("I. NHIỆM VỤ\nPhòng TNMT rà soát đất công.", meeting=dt.date(2024, 3, 1))
        assert store.put(first) == (StoreOutcome.ADDED, [])
        again = make_notice("I. NHIỆM VỤ\nPhòng TNMT   rà soát đất công.")  # same normalized content
        assert again.id == first.id
        assert store.put(again)[0] is StoreOutcome.UNCHANGED
        changed = make_notice("I. NHIỆM VỤ\nPhòng TNMT rà soát đất công và báo cáo.")
        outcome, replaced = store.put(changed)
        assert outcome is StoreOutcome.REPLACED and replaced == [first.id]
        assert store.ids() == [changed.id]
        assert store.count() == {"notices": 1, "sections": 1, "assignments": 1}


def test_round_trip_and_queries(tmp_path: Path) -> None:
    with Store(tmp_path / "db.sqlite3") as store:
        old = make_notice("I.\nPhòng TNMT việc cũ.", "old.txt", dt.date(2023, 5, 1))
        new = make_notice("I.\nPhòng TNMT việc mới.", "new.txt", dt.date(2024, 5, 1))
        store.put(old)
        store.put(new)
        assert store.get(new.id) == new
        assert store.get(new.id[:6]).id == new.id
        rows = store.assignments(agency="Phòng Tài nguyên và Môi trường")
        assert [r.notice_id for r in rows] == [new.id, old.id]  # newest notice first
        assert [r.notice_id for r in store.assignments(agency="Phòng Tài nguyên và Môi trường", since=dt.date(2024, 1, 1))] == [new.id]
        assert store.assignments(agency="Sở Tài nguyên và Môi trường") == []
        assert len(store.assignments(with_deadline=True, due_before=dt.date(2024, 4, 30))) == 2
        assert store.assignments(with_deadline=True, due_after=dt.date(2024, 5, 1)) == []
        store.delete(old.id)
        with pytest.raises(NotFound):
            store.get(old.id)
        with pytest.raises(NotFound):
            store.delete(old.id)


def test_failed_write_leaves_store_unchanged(tmp_path: Path) -> None:
    with Store(tmp_path / "db.sqlite3") as store:
        good = make_notice("I.\nPhòng TNMT việc một.", "x.txt")
        store.put(good)
        broken = make_notice("I.\nPhòng TNMT việc hai.", "x.txt")
        broken.assignments.append(broken.assignments[0].model_copy())
        # Sabotage the second insert: a NOT NULL column gets None mid-transaction.
        broken.assignments[1].agency.text = None  # type: ignore[assignment]
        with pytest.raises(Exception):  # noqa: B017 - any failure must roll back
            store.put(broken)
        assert store.ids() == [good.id]
        assert store.get(good.id).text == good.text

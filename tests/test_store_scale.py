"""The store's derived query structures (covering indexes, the notices' column facts cached per
version, the words index for places) give the answers the plain definitions give, and a data
directory written by an older version is migrated when it is opened."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from assistant.agencies import get_gazetteer
from assistant.answer import AnswerService
from assistant.answer.assignments import assignment_lines, first_lines
from assistant.answer.citations import words
from assistant.answer.extractive import text_mentions_locality
from assistant.answer.route import Route, RoutedQuestion
from assistant.load import load_path
from assistant.model import Notice
from assistant.parse import parse_document
from assistant.settings import Settings
from assistant.store import Store, notice_words

N = 40
# What a store written before the covering indexes and the words index looked like.
_OLD_INDEXES = """
DROP TRIGGER IF EXISTS notice_words_drop;
DROP TABLE IF EXISTS notice_words;
DROP TABLE IF EXISTS notice_words_ids;
DROP INDEX IF EXISTS assignments_agency_refs;
DROP INDEX IF EXISTS assignments_key_refs;
DROP INDEX IF EXISTS assignments_deadline_refs;
DROP INDEX IF EXISTS notices_summary;
CREATE INDEX assignments_agency ON assignments(agency);
CREATE INDEX assignments_key ON assignments(agency_key);
CREATE INDEX assignments_deadline ON assignments(deadline_date);
"""


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory, scale_generator: ModuleType) -> tuple[list[Notice], list[dict[str, object]]]:
    root = tmp_path_factory.mktemp("store-scale")
    scale_generator.generate(N, 23, root)
    manifest = [json.loads(line) for line in (root / "manifest.jsonl").read_text(encoding="utf-8").splitlines() if line]
    gazetteer = get_gazetteer()
    notices = [parse_document(load_path(path), gazetteer) for path in sorted((root / "notices").iterdir())]
    return notices, manifest


@pytest.fixture(scope="module")
def store(parsed: tuple[list[Notice], list[dict[str, object]]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path = tmp_path_factory.mktemp("store-scale-db") / "notices.sqlite3"
    with Store(path) as s:
        for notice in parsed[0]:
            s.put(notice)
        yield s


def _places(manifest: list[dict[str, object]]) -> list[str]:
    return sorted({str(r["issuer"]).split(" ", 2)[-1] for r in manifest})


def _reference_assignments(store: Store, **where: object) -> list[tuple[str, int]]:
    """The order and filters as one SQL join (what the store did before its caches)."""
    clauses, params = ["1"], []
    meeting = "COALESCE(n.meeting_date, n.issue_date)"
    if where.get("agency"):
        clauses.append("a.agency = ?")
        params.append(where["agency"])
    if where.get("since"):
        clauses.append(f"{meeting} >= ?")
        params.append(str(where["since"]))
    if where.get("until"):
        clauses.append(f"{meeting} <= ?")
        params.append(str(where["until"]))
    if where.get("due_before"):
        clauses.append("a.deadline_date <= ?")
        params.append(str(where["due_before"]))
    rows = store._conn.execute(
        f"SELECT a.notice_id, a.ord FROM assignments a JOIN notices n ON n.id = a.notice_id"
        f" WHERE {' AND '.join(clauses)} ORDER BY {meeting} DESC, n.source, a.ord",
        params,
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def test_notice_words_are_the_word_view() -> None:
    text = "UBND xã Khê-Lĩnh\r\nPhòng TN&MT: hoàn thành trước 31/12/2024; Uỷ ban (Đ/c Hoà)"
    assert notice_words(text) == " " + " ".join(words(text)) + " "


def test_place_from_the_words_index_equals_the_text_check(
    store: Store, parsed: tuple[list[Notice], list[dict[str, object]]]
) -> None:
    notices, manifest = parsed
    asked = [*_places(manifest)[:8], "khe xuyen", "Hà Nội", "xuyen", "Nghị quyết", "Khê-Xuyên"]
    seen: Counter[bool] = Counter()
    for locality in asked:
        key = " ".join(words(locality))
        named = store.ids_naming(key)
        assert named is not None, locality
        expected = {n.id for n in notices if text_mentions_locality(n.text, locality)}
        assert named == expected, locality
        seen[bool(named)] += 1
    assert seen[True] >= 5 and seen[False] >= 1
    # Not plain syllables: the caller reads the texts instead.
    assert store.ids_naming("") is None
    assert store.ids_naming("khê") is None


def test_assignment_order_and_filters_equal_the_join(store: Store) -> None:
    counts = Counter(r.assignment.agency.canonical for r in store.assignments() if r.assignment.agency.canonical)
    agency = counts.most_common(1)[0][0]
    every = store.assignments()
    assert [(r.notice_id, r.assignment) for r in every] == [
        (r.notice_id, r.assignment) for r in store.assignment_rows(store.assignment_refs())
    ]
    meetings = sorted({r.meeting_date for r in every if r.meeting_date})
    since, until = dt.date.fromisoformat(meetings[len(meetings) // 4]), dt.date.fromisoformat(meetings[len(meetings) // 2])
    for where in (
        {},
        {"agency": agency},
        {"agency": agency, "since": since},
        {"since": since, "until": until},
        {"until": until, "due_before": dt.date(2030, 1, 1)},
    ):
        refs = store.assignment_refs(**where)
        assert [(r.notice_id, r.ord) for r in refs] == _reference_assignments(store, **where), where
        assert store.count_assignments(**where) == len(refs)
        groups = store.assignment_notices(**where)
        assert [(n.id, count) for n, count in groups] == list(Counter(r.notice_id for r in refs).items())
        assert store.assignment_refs_of([n.id for n, _ in groups][::-1], **where) == [
            r for n, _ in groups[::-1] for r in refs if r.notice_id == n.id
        ]
        for first, size in ((0, 1), (2, 9), (len(refs) - 3, 10), (len(refs) + 1, 4)):
            page = store.assignments(**where, limit=size, offset=first)
            assert [(r.notice_id, r.assignment) for r in page] == [
                (r.notice_id, r.assignment) for r in store.assignment_rows(refs[first : first + size])
            ]
    period = store.assignments(since=since, until=until)
    assert 0 < len(period) < len(every)
    assert all(r.meeting_date is not None and since.isoformat() <= r.meeting_date <= until.isoformat() for r in period)
    assert store.assignments(since=since, until=until, limit=5, offset=3) == period[3:8]


def test_other_connections_writes_are_seen(
    parsed: tuple[list[Notice], list[dict[str, object]]], tmp_path: Path
) -> None:
    notices = parsed[0][:6]
    path = tmp_path / "notices.sqlite3"
    with Store(path) as reader, Store(path) as writer:
        for notice in notices[:5]:
            writer.put(notice)
        assert {s.id for s in reader.summaries()} == {n.id for n in notices[:5]}
        before = len(reader.assignments())
        fingerprint = reader.fingerprint()
        assert writer.fingerprint() == fingerprint
        writer.put(notices[5])
        assert reader.fingerprint() != fingerprint
        assert reader.fingerprint() == writer.fingerprint()
        assert notices[5].id in {s.id for s in reader.summaries()}
        assert len(reader.assignments()) == before + len(notices[5].assignments)
        gone = notices[0]
        place = words(gone.text)[0]
        writer.delete(gone.id)
        assert gone.id not in {s.id for s in reader.summaries()}
        assert all(r.notice_id != gone.id for r in reader.assignments())
        assert gone.id not in (reader.ids_naming(place) or set())
        assert reader._conn.execute("SELECT COUNT(*) FROM notice_words").fetchone()[0] == 5


def test_a_lost_words_table_is_rebuilt(parsed: tuple[list[Notice], list[dict[str, object]]], tmp_path: Path) -> None:
    notices, _ = parsed
    path = tmp_path / "notices.sqlite3"
    with Store(path) as s:
        for notice in notices[:4]:
            s.put(notice)
        key = words(notices[2].text)[0]
        expected = s.ids_naming(key)
    conn = sqlite3.connect(path)
    conn.executescript("DROP TRIGGER notice_words_drop; DROP TABLE notice_words;")
    conn.close()
    with Store(path) as s:
        assert expected and s.ids_naming(key) == expected


def test_an_older_data_directory_is_migrated_on_open(
    parsed: tuple[list[Notice], list[dict[str, object]]], tmp_path: Path
) -> None:
    notices, manifest = parsed
    path = tmp_path / "notices.sqlite3"
    with Store(path) as s:
        for notice in notices[:12]:
            s.put(notice)
        expected_rows = s.assignments()
    conn = sqlite3.connect(path)
    conn.executescript(_OLD_INDEXES)
    conn.close()
    with Store(path) as s:
        names = {r[0] for r in s._conn.execute("SELECT name FROM sqlite_master")}
        assert {"assignments_agency_refs", "notices_summary", "notice_words", "notice_words_ids"} <= names
        assert "assignments_agency" not in names
        assert s._conn.execute("SELECT COUNT(*) FROM notice_words").fetchone()[0] == 12
        assert s.assignments() == expected_rows
        place = next(p for p in _places(manifest) if any(text_mentions_locality(n.text, p) for n in notices[:12]))
        key = " ".join(words(place))
        assert s.ids_naming(key) == {n.id for n in notices[:12] if text_mentions_locality(n.text, place)}
        plan = " ".join(
            str(r[-1]) for r in s._conn.execute(
                "EXPLAIN QUERY PLAN SELECT a.notice_id, a.ord, a.deadline_text, a.deadline_date"
                " FROM assignments a WHERE a.agency = ?", ("x",)
            )
        )
        assert "COVERING INDEX assignments_agency_refs" in plan


def test_notices_stored_without_words_fall_back_to_the_texts(
    parsed: tuple[list[Notice], list[dict[str, object]]], tmp_path: Path
) -> None:
    notices, manifest = parsed
    path = tmp_path / "index" / "notices.sqlite3"
    with Store(path) as s:
        for notice in notices[:8]:
            s.put(notice)
        # An older version writing beside this one stores a notice without its words.
        other = sqlite3.connect(path)
        other.execute("PRAGMA foreign_keys=ON")
        with other:
            other.execute("DELETE FROM notice_words_ids WHERE notice_id = ?", (notices[0].id,))
        other.close()
        assert s.ids_naming("khe") is None
        service = AnswerService(s, get_gazetteer(), None, Settings(index=path.parent))
        place = str(manifest[0]["issuer"]).split(" ", 2)[-1]
        routed = _locality_question(place)
        summaries = s.summaries()
        expected = [x.id for x in summaries if text_mentions_locality(s.get(x.id).text, place)]
        assert service.context.allowed_ids(summaries, routed, None) == expected
        assert notices[0].id in expected
    with Store(path) as s:  # reopening fills the missing words
        assert s.ids_naming(" ".join(words(place))) == set(expected)


def _locality_question(place: str) -> RoutedQuestion:
    return RoutedQuestion(question="q", effective="q", route=Route.METADATA, locality=place)


def test_first_lines_equal_the_cut_lines(store: Store, tmp_path: Path) -> None:
    service = AnswerService(store, get_gazetteer(), None, Settings(index=tmp_path))
    refs = store.assignment_refs(with_deadline=True)
    refs.sort(key=lambda r: (r.deadline_date is None, r.deadline_date or ""))
    every = assignment_lines(service.context, store.assignment_rows(refs), with_agency=True)
    shared = sum(1 for line in every if ";" in line.prefix)
    assert len(every) < len(refs) and shared  # rows share lines: the case that matters
    for limit in (1, 5, 30, len(every), len(every) + 3):
        for head in (refs[:40], refs):
            full = assignment_lines(service.context, store.assignment_rows(head), with_agency=True)
            lines, cut = first_lines(service.context, head, with_agency=True, limit=limit)
            assert [(x.notice.id, x.start, x.end, x.prefix, x.suffix) for x in lines] == [
                (x.notice.id, x.start, x.end, x.prefix, x.suffix) for x in full[:limit]
            ]
            assert cut == (len(full) > limit)


def test_words_index_matches_whole_words_only(
    parsed: tuple[list[Notice], list[dict[str, object]]], tmp_path: Path
) -> None:
    base = parsed[0][0]
    # The FTS tokenizer splits 'Tân_Sơn' where the word view keeps one word: not a mention.
    joined = base.model_copy(update={"id": "joined0000000000", "source": "joined.txt", "text": base.text + "\nTân_Sơn"})
    spaced = base.model_copy(update={"id": "spaced0000000000", "source": "spaced.txt", "text": base.text + "\nTân - Sơn"})
    with Store(tmp_path / "notices.sqlite3") as s:
        s.put(joined)
        s.put(spaced)
        assert s.ids_naming("tan son") == {"spaced0000000000"}
        assert not text_mentions_locality(joined.text, "Tân Sơn")


def test_a_notice_without_its_records_is_the_notice_less_its_lists(store: Store) -> None:
    notice_id = next(i for i in store.ids() if store.get(i).assignments)
    full = store.get(notice_id)
    light = store.get(notice_id, with_records=False)
    assert light == full.model_copy(update={"sections": [], "assignments": []})
    assert full.sections and not light.sections
    assert store.get(notice_id[:6], with_records=False) == light


def test_without_fts5_places_are_read_from_the_texts(
    parsed: tuple[list[Notice], list[dict[str, object]]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant import store as store_module

    notices, manifest = parsed
    monkeypatch.setattr(store_module, "_WORDS_SCHEMA", "CREATE VIRTUAL TABLE notice_words USING no_such_module(words);")
    path = tmp_path / "index" / "notices.sqlite3"
    with Store(path) as s:
        for notice in notices[:6]:
            s.put(notice)
        assert s.ids_naming("khe") is None
        service = AnswerService(s, get_gazetteer(), None, Settings(index=path.parent))
        place = str(manifest[1]["issuer"]).split(" ", 2)[-1]
        summaries = s.summaries()
        expected = [x.id for x in summaries if text_mentions_locality(s.get(x.id).text, place)]
        assert expected
        assert service.context.allowed_ids(summaries, _locality_question(place), None) == expected

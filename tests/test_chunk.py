from __future__ import annotations

import re

from fictional_notice import Item, ben_lau_notice, build_notice
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.chunk import CHUNKER_VERSION, Chunk, ChunkPart, chunk_notice
from assistant.model import Notice, content_id


def _find(chunks: list[Chunk], needle: str) -> Chunk:
    found = [c for c in chunks if needle in c.text]
    assert len(found) == 1, (needle, [c.text for c in found])
    return found[0]


def test_version_is_a_nonempty_string() -> None:
    assert isinstance(CHUNKER_VERSION, str) and CHUNKER_VERSION


def test_one_chunk_per_item_with_exact_spans_and_heading_path() -> None:
    notice = ben_lau_notice()
    chunks = chunk_notice(notice)
    for chunk in chunks:
        assert chunk.text == notice.text[chunk.start : chunk.end]
        assert chunk.text == chunk.text.strip()
        assert chunk.notice_id == notice.id
    item = _find(chunks, "Đẩy nhanh kiểm đếm")
    assert item.text.startswith("- Đẩy nhanh") and item.text.endswith("20/02/2024.")
    assert item.heading_path == ["II. NHIỆM VỤ TRỌNG TÂM THỜI GIAN TỚI", "2.2. Phòng TNMT, HĐGPMB"]
    # Outer part shortened to its number, agency heading kept in full, then the passage.
    assert "II › 2.2. Phòng TNMT, HĐGPMB\n- Đẩy nhanh" in item.index_text
    assert "Kết luận của đồng chí Chủ tịch UBND thị xã" in item.index_text.splitlines()[0]
    assert "UBND THỊ XÃ BẾN LAU" in item.index_text.splitlines()[0]
    assert "15/01/2024" in item.index_text.splitlines()[0]
    # What is embedded: the innermost heading and the passage (no notice line, no outer part).
    assert item.embed_text == f"2.2. Phòng TNMT, HĐGPMB\n{item.text}"
    assert item.index_text.endswith(item.embed_text) and len(item.embed_text) < len(item.index_text)
    assert _find(chunks, "2.2. Phòng TNMT").embed_text.startswith("II. NHIỆM VỤ TRỌNG TÂM THỜI GIAN TỚI\n2.2.")
    # A heading paragraph is its own chunk; its path does not contain itself.
    heading = _find(chunks, "2.2. Phòng TNMT")
    assert heading.heading_path == ["II. NHIỆM VỤ TRỌNG TÂM THỜI GIAN TỚI"]
    assert _find(chunks, "Ngày 15/01/2024").heading_path == []


def test_header_and_tail_are_packed_but_searchable() -> None:
    notice = ben_lau_notice()
    chunks = chunk_notice(notice)
    header = [c for c in chunks if c.part is ChunkPart.HEADER]
    tail = [c for c in chunks if c.part is ChunkPart.TAIL]
    assert len(header) == 1 and "Số: 07/TB-VP" in header[0].text
    assert len(tail) == 1 and "Nơi nhận:" in tail[0].text and "Hà Thị Mơ" in tail[0].text
    closing = _find(chunks, "thông báo để các cơ quan")
    assert closing.part is ChunkPart.BODY


def test_metadata_is_flat_and_chroma_safe() -> None:
    chunks = chunk_notice(ben_lau_notice())
    for chunk in chunks:
        for key, value in chunk.metadata.items():
            assert isinstance(value, str | int | float | bool), key
        assert chunk.metadata["start"] == chunk.start and chunk.metadata["end"] == chunk.end
    meta = chunks[0].metadata
    assert meta["meeting_date"] == "2024-01-15"
    assert meta["meeting_date_int"] == 20240115
    assert meta["level"] == "huyen"
    assert meta["issuer"] == "UBND THỊ XÃ BẾN LAU"
    assert meta["issuer_key"] == "ubnd thi xa ben lau"
    assert meta["kind"] == "notice"
    assert meta["source"] == "ben-lau.txt"


def test_ids_depend_on_notice_and_span_only() -> None:
    first = chunk_notice(ben_lau_notice())
    again = chunk_notice(ben_lau_notice())
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == len(first)


def test_long_paragraph_is_split_at_sentence_ends() -> None:
    sentences = [f"Câu thứ {i} nói về việc số {i} của phường Đông Vĩ." for i in range(40)]
    long_item = " ".join(sentences)
    notice = build_notice(
        header=[],
        title="Kết luận cuộc họp",
        opening=[],
        body=[Item("1.", long_item, number="1")],
        closing=None,
        recipients=[],
        signature=[],
    )
    chunks = chunk_notice(notice, max_chars=300)
    body = [c for c in chunks if "Câu thứ" in c.text]
    assert len(body) > 1
    for chunk in body:
        assert len(chunk.text) <= 300
        assert chunk.text.endswith("Đông Vĩ.")
        assert chunk.text == notice.text[chunk.start : chunk.end]


def test_word_longer_than_limit_is_cut_hard() -> None:
    notice = build_notice(
        header=[],
        title="x" * 50,
        opening=[],
        body=[],
        closing=None,
        recipients=[],
        signature=[],
    )
    chunks = chunk_notice(notice, max_chars=20)
    assert [len(c.text) for c in chunks] == [20, 20, 10]


def test_notice_without_structure_still_chunks_every_line() -> None:
    text = "Dòng một.\n\n   Dòng hai có ý kiến.  \n\t\nDòng ba ở xã.\n"
    notice = Notice(id=content_id(text), source="x.txt", format="txt", text=text)
    chunks = chunk_notice(notice)
    assert [c.text for c in chunks] == ["Dòng một.", "Dòng hai có ý kiến.", "Dòng ba ở xã."]
    assert all(c.heading_path == [] for c in chunks)


# --- property: spans exact, nothing left out -------------------------------------------------

_WORDS = ["phòng", "Tài", "chính", "ở", "ý", "kiến", "xã", "Đông", "Vĩ", "hoàn", "thành", "2024"]
_word = st.sampled_from(_WORDS)
_sentence = st.lists(_word, min_size=1, max_size=12).map(lambda ws: " ".join(ws) + ".")
_para = st.lists(_sentence, min_size=1, max_size=8).map(" ".join)


@st.composite
def _items(draw: st.DrawFn, depth: int = 0) -> list[Item]:
    count = draw(st.integers(min_value=0 if depth else 1, max_value=3))
    items = []
    for i in range(count):
        marker = ["I.", f"{i + 1}.", "-", "+"][min(depth, 3)]
        children = draw(_items(depth + 1)) if depth < 2 else []
        items.append(
            Item(marker, draw(_para), number=marker.rstrip(".") or None, children=children)
        )
    return items


@st.composite
def _notices(draw: st.DrawFn) -> Notice:
    return build_notice(
        header=draw(st.lists(_para, max_size=3)),
        title=draw(_para),
        opening=draw(st.lists(_para, max_size=2)),
        body=draw(_items()),
        closing=draw(st.one_of(st.none(), _para)),
        recipients=draw(st.lists(_para, max_size=3)),
        signature=draw(st.lists(_para, max_size=2)),
        separator=draw(st.sampled_from(["\n", "\n\n", " \n  ", "\n\t\n"])),
    )


@settings(max_examples=60, deadline=None)
@given(notice=_notices(), max_chars=st.integers(min_value=8, max_value=400))
def test_chunks_are_exact_ordered_and_cover_every_nonblank_character(
    notice: Notice, max_chars: int
) -> None:
    chunks = chunk_notice(notice, max_chars=max_chars)
    covered = bytearray(len(notice.text))
    previous_end = 0
    for chunk in chunks:
        assert chunk.text == notice.text[chunk.start : chunk.end]
        assert chunk.text and chunk.text == chunk.text.strip()
        assert len(chunk.text) <= max_chars
        assert chunk.start >= previous_end  # ordered, no overlap
        previous_end = chunk.end
        covered[chunk.start : chunk.end] = b"\1" * (chunk.end - chunk.start)
    for match in re.finditer(r"\S", notice.text):
        assert covered[match.start()], f"character {match.start()} of the notice is in no chunk"
    assert len({c.id for c in chunks}) == len(chunks)

"""Notice -> chunks: the passages that BM25 and the vector store index.

One chunk per paragraph or list item of the body, so that a retrieved chunk is a citable
passage: ``chunk.text == notice.text[chunk.start:chunk.end]`` always. Paragraphs longer than
``max_chars`` (a stand-in for the embedder's 512-token window) are split at sentence ends
(then clause ends, then spaces). The header block before the opening and the tail
(``Nơi nhận:`` list, signature) are packed into few chunks because their lines are short and
meaningless one by one; nothing of the text is left out, so everything stays searchable.

What BM25 indexes is ``index_text``: a line naming the notice, the heading path
(``II › 2.3. Phòng TNMT, HĐGPMB``) and the passage, because a bullet such as
``- Hoàn thành trước ngày 20/01/2024.`` means nothing without the agency heading it hangs under.
What is embedded is ``embed_text``: the innermost heading and the passage. The notice line
and the outer headings are left to BM25: measured on the team's questions with the default
embedder (scripts/bench_heading_path.py, docs/BENCHMARKS.md), the innermost heading alone kept
recall@5 and MRR within one point of the whole path for 5 % fewer tokens, while no heading
at all lost 3.6 points of recall@5.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from enum import StrEnum
from pathlib import PurePath

from pydantic import BaseModel, Field

from assistant.model import Notice, Section
from assistant.text import collapse_spaces, match_key

# Bump whenever chunk boundaries, ``index_text`` or ``embed_text`` change: it is part of the
# index identity. 2: ``embed_text`` (no notice line) is what the embedder gets. 3: only the
# innermost heading in ``embed_text``.
CHUNKER_VERSION = "3"

MetadataValue = str | int | float | bool

_LABEL_MAX = 120
_TITLE_MAX = 200
_BREADCRUMB_SEP = " › "

# Cut points for long paragraphs, from the most to the least natural; the piece ends after the
# punctuation and the next one starts after the whitespace.
_CUT_LEVELS = (
    re.compile(r"[.!?…]+[\"”’)\]]*\s+"),
    re.compile(r"[;:,]\s+"),
    re.compile(r"\s+"),
)
_LINE = re.compile(r"[^\n]+")


class ChunkPart(StrEnum):
    HEADER = "header"
    BODY = "body"
    TAIL = "tail"


class Chunk(BaseModel):
    id: str = Field(description="Hash of notice id + span: stable while the notice is unchanged.")
    notice_id: str
    text: str = Field(description="The passage exactly as in the notice: text[start:end].")
    start: int
    end: int
    part: ChunkPart = ChunkPart.BODY
    heading_path: list[str] = Field(
        default_factory=list, description="Labels of the enclosing sections, outermost first."
    )
    index_text: str = Field(description="Notice line + heading path + passage: what BM25 indexes.")
    embed_text: str = Field(
        default="",
        description="Heading path + passage: what is embedded. The notice line (title, issuer, "
        "date) is left out: it doubled the tokens per chunk, and embedding it made retrieval worse "
        "on the evaluation questions (docs/BENCHMARKS.md). Empty in chunks stored before it existed.",
    )
    metadata: dict[str, MetadataValue] = Field(
        default_factory=dict, description="Flat, Chroma-safe values used for filtering."
    )


def date_int(value: date) -> int:
    """``YYYYMMDD`` as an int, so stores that compare only numbers can filter date ranges."""
    return value.year * 10000 + value.month * 100 + value.day


def chunk_id(notice_id: str, start: int, end: int) -> str:
    return hashlib.sha256(f"{notice_id}:{start}:{end}".encode()).hexdigest()[:16]


def chunk_notice(notice: Notice, max_chars: int = 1200) -> list[Chunk]:
    """Split a notice into citable passages covering every non-blank character of its text."""
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    text = notice.text
    paragraphs = _paragraphs(text)
    body_start, tail_start = _regions(notice)

    spans: list[tuple[int, int, ChunkPart]] = []
    header = [p for p in paragraphs if p[0] < body_start]
    tail = [p for p in paragraphs if p[0] >= tail_start and p[0] >= body_start]
    body = [p for p in paragraphs if body_start <= p[0] < tail_start]
    spans.extend((s, e, ChunkPart.HEADER) for s, e in _pack(text, header, max_chars))
    for start, end in body:
        spans.extend((s, e, ChunkPart.BODY) for s, e in _split(text, start, end, max_chars))
    spans.extend((s, e, ChunkPart.TAIL) for s, e in _pack(text, tail, max_chars))

    notice_line = _notice_line(notice)
    base_metadata = notice_metadata(notice)
    chunks: list[Chunk] = []
    for start, end, part in spans:
        path = _heading_path(notice, start) if part is ChunkPart.BODY else []
        passage = text[start:end]
        breadcrumb = _breadcrumb(path)
        index_text = "\n".join(line for line in (notice_line, breadcrumb, passage) if line)
        embed_text = "\n".join(line for line in (*path[-1:], passage) if line)
        metadata: dict[str, MetadataValue] = {
            **base_metadata,
            "part": part.value,
            "start": start,
            "end": end,
        }
        if path:
            metadata["heading"] = _BREADCRUMB_SEP.join(path)
        chunks.append(
            Chunk(
                id=chunk_id(notice.id, start, end),
                notice_id=notice.id,
                text=passage,
                start=start,
                end=end,
                part=part,
                heading_path=path,
                index_text=index_text,
                embed_text=embed_text,
                metadata=metadata,
            )
        )
    return chunks


def notice_metadata(notice: Notice) -> dict[str, MetadataValue]:
    """Filterable facts of the notice shared by all its chunks; absent facts are left out
    (Chroma metadata cannot hold ``None``)."""
    meta: dict[str, MetadataValue] = {
        "notice_id": notice.id,
        "source": notice.source,
        "kind": notice.kind.value,
        "level": notice.level.value,
    }
    if notice.issuer is not None:
        meta["issuer"] = collapse_spaces(notice.issuer.text)
        meta["issuer_key"] = match_key(notice.issuer.text)
    if notice.number is not None:
        meta["number"] = collapse_spaces(notice.number.text)
    if notice.meeting_date is not None and notice.meeting_date.value is not None:
        meta["meeting_date"] = notice.meeting_date.value.isoformat()
        meta["meeting_date_int"] = date_int(notice.meeting_date.value)
    if notice.issue_date is not None and notice.issue_date.value is not None:
        meta["issue_date"] = notice.issue_date.value.isoformat()
        meta["issue_date_int"] = date_int(notice.issue_date.value)
    return meta


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """Spans of the non-blank lines, trimmed of surrounding whitespace."""
    out: list[tuple[int, int]] = []
    for match in _LINE.finditer(text):
        line = match.group()
        stripped = line.strip()
        if not stripped:
            continue
        start = match.start() + (len(line) - len(line.lstrip()))
        out.append((start, start + len(stripped)))
    return out


def _regions(notice: Notice) -> tuple[int, int]:
    """Where the body starts and the tail (recipients, signature) starts."""
    body_candidates = [s.start for s in notice.sections]
    if notice.opening is not None:
        body_candidates.append(notice.opening.start)
    body_start = min(body_candidates, default=0)
    tail_candidates = [r.start for r in notice.recipients]
    if notice.signature is not None:
        tail_candidates.append(notice.signature.start)
    if notice.closing is not None:
        # The closing formula is a sentence worth citing on its own; keep it in the body.
        tail_candidates = [t for t in tail_candidates if t >= notice.closing.end]
    tail_start = min((t for t in tail_candidates if t >= body_start), default=len(notice.text))
    return body_start, tail_start


def _pack(text: str, paragraphs: list[tuple[int, int]], max_chars: int) -> list[tuple[int, int]]:
    """Group consecutive short paragraphs into spans of at most ``max_chars``."""
    out: list[tuple[int, int]] = []
    group: tuple[int, int] | None = None
    for start, end in paragraphs:
        if end - start > max_chars:
            if group is not None:
                out.append(group)
                group = None
            out.extend(_split(text, start, end, max_chars))
        elif group is None:
            group = (start, end)
        elif end - group[0] <= max_chars:
            group = (group[0], end)
        else:
            out.append(group)
            group = (start, end)
    if group is not None:
        out.append(group)
    return out


def _split(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` into trimmed pieces of at most ``max_chars``."""
    out: list[tuple[int, int]] = []
    cur = start
    while True:
        while cur < end and text[cur].isspace():
            cur += 1
        if cur >= end:
            return out
        if end - cur <= max_chars:
            out.append((cur, end))
            return out
        piece_end, next_start = cur + max_chars, cur + max_chars
        for pattern in _CUT_LEVELS:
            best: tuple[int, int] | None = None
            for match in pattern.finditer(text, cur, min(end, cur + max_chars + 1)):
                candidate = match.start() + len(match.group().rstrip())
                if cur < candidate <= cur + max_chars:
                    best = (candidate, match.end())
            if best is not None:
                piece_end, next_start = best
                break
        out.append((cur, piece_end))
        cur = next_start


def _heading_path(notice: Notice, position: int) -> list[str]:
    """Labels of the sections enclosing ``position``, not counting one that starts there."""
    path: list[str] = []
    level: list[Section] = notice.sections
    while True:
        inside = next((s for s in level if s.start <= position < s.end), None)
        if inside is None or not notice.text[inside.start : position].strip():
            return path
        path.append(_label(notice.text, inside))
        level = inside.children


def _label(text: str, section: Section) -> str:
    line_end = text.find("\n", section.start)
    if line_end == -1 or line_end > section.end:
        line_end = section.end
    end = line_end
    if section.heading_end is not None and section.start < section.heading_end < line_end:
        end = section.heading_end
    label = collapse_spaces(text[section.start : end])
    if not label.startswith(section.marker.strip()):
        label = collapse_spaces(f"{section.marker} {label}")
    return _truncate(label, _LABEL_MAX)


def _breadcrumb(path: list[str]) -> str:
    """``II › 2.3. Phòng TNMT, HĐGPMB``: the outermost numbered part is shortened to its
    number when deeper headings follow; the inner ones carry the agency or sector names."""
    if not path:
        return ""
    parts = list(path)
    if len(parts) > 1:
        number = parts[0].split(" ", 1)[0].rstrip(".")
        if number and number not in {"-", "+", "*", "•"}:
            parts[0] = number
    return _BREADCRUMB_SEP.join(parts)


def _notice_line(notice: Notice) -> str:
    pieces: list[str] = []
    if notice.title is not None:
        pieces.append(_truncate(collapse_spaces(notice.title.text), _TITLE_MAX))
    else:
        pieces.append(PurePath(notice.source).stem)
    if notice.issuer is not None:
        pieces.append(collapse_spaces(notice.issuer.text))
    when = notice.meeting_date or notice.issue_date
    if when is not None and when.value is not None:
        pieces.append(f"ngày {when.value:%d/%m/%Y}")
    return " — ".join(pieces)


def _truncate(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"

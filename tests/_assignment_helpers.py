"""Test-only: a minimal section-tree builder for hand-written fixtures (the real parser lives in
assistant/parse/structure.py); good enough for one marker per line."""

from __future__ import annotations

import re
from datetime import date

from assistant.model import DateValue, Level, Notice, Section, content_id

_MARKERS = [
    ("roman", re.compile(r"(?P<m>(?:I|II|III|IV|V|VI|VII)\.)\s+")),
    ("num", re.compile(r"(?P<m>\d+(?:\.\d+)*\.)\s*")),
    ("letter", re.compile(r"(?P<m>[a-zđ]\))\s+")),
    ("-", re.compile(r"(?P<m>-)\s+")),
    ("+", re.compile(r"(?P<m>\+)\s+")),
    ("*", re.compile(r"(?P<m>\*)\s+")),
]
_RANK = {"roman": 0, "*": 1, "num": 2, "letter": 6, "-": 7, "+": 8}


def build_sections(text: str) -> list[Section]:
    roots: list[Section] = []
    stack: list[tuple[float, Section]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        start, body = pos, line.rstrip("\n")
        pos += len(line)
        for kind, rx in _MARKERS:
            m = rx.match(body)
            if not m:
                continue
            marker = m.group("m")
            rank: float = _RANK[kind]
            number = None
            heading = None
            if kind == "num":
                rank += marker.count(".") - 1
                number = marker.rstrip(".")
            if kind == "roman":
                number = marker.rstrip(".")
            if kind in ("roman", "num", "letter"):
                heading = body[m.end():].strip()
            while stack and stack[-1][0] >= rank:
                stack.pop()
            section = Section(
                number=number, marker=marker, heading=heading, start=start, end=start,
                heading_start=start + m.end() if heading is not None else None,
                heading_end=start + len(body) if heading is not None else None,
            )
            (stack[-1][1].children if stack else roots).append(section)
            stack.append((rank, section))
            break
    _close(roots, len(text.rstrip()))
    return roots


def _close(sections: list[Section], end: int) -> None:
    for i, section in enumerate(sections):
        section.end = sections[i + 1].start if i + 1 < len(sections) else end
        _close(section.children, section.end)


def make_notice(text: str, level: Level, meeting: date) -> Notice:
    return Notice(
        id=content_id(text), source="fixture", format="txt", text=text, level=level,
        meeting_date=DateValue(text=meeting.isoformat(), start=0, end=0, value=meeting),
        sections=build_sections(text),
    )

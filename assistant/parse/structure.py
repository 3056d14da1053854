"""The section tree of a notice body: ``I.``, ``1.``, ``1.1.``, ``a)``, ``-``, ``+``, ``*``, ``•``.

Nesting follows the marker kinds, in the order a document first uses them inside a parent
(a ``-`` under ``2.3.``, a ``+`` under a ``-``), with three fixed points that hold in every
notice of the corpus: roman numerals are always top level (so are ``*`` parts of a notice
that has no roman numerals), and ``1.1.`` always sits under ``1.`` style numbering rather than
under a bullet that happens to precede it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.errors import ParseError
from assistant.model import Section
from assistant.text import is_caps

_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10}
_ROMAN = re.compile(r"(?P<num>[IVX]{1,5})\.[ \t]*(?=\S)")
# "1.", "1.1.", "2.3.", "10.Công tác" (no space), "2.1 Phòng …" (no final dot after a sub-number);
# never "1.500 tỷ" (a number) nor "2026." (a year: components have at most two digits).
_DECIMAL = re.compile(r"(?P<num>\d{1,2}(?:\.\d{1,2})*)(?P<dot>\.)?(?P<gap>[ \t]*)(?=[^\W\d_])")
_ALPHA = re.compile(r"(?P<num>[a-zđ])\)[ \t]*(?=\S)")
# "(1) Bộ Y tế …", "(a) …": items numbered in parentheses
_PAREN = re.compile(r"\((?P<num>\d{1,2}|[a-zđ])\)[ \t]*(?=[^\W\d_])")
_BULLET = re.compile(r"(?P<bullet>[-–—+*•·])[ \t]*(?=\S)")
_MD_HEADING = re.compile(r"(?P<hashes>#{1,6})[ \t]+(?=\S)")
_BULLET_KIND = {"-": "-", "–": "-", "—": "-", "+": "+", "*": "*", "•": "•", "·": "•"}


@dataclass(frozen=True)
class Line:
    """One non-blank line: ``text == source[start:end]`` (surrounding spaces trimmed)."""

    start: int
    end: int
    text: str


def split_lines(text: str, start: int = 0, end: int | None = None) -> list[Line]:
    stop = len(text) if end is None else min(end, len(text))
    lines: list[Line] = []
    pos = max(0, start)
    while pos < stop:
        newline = text.find("\n", pos, stop)
        line_end = stop if newline < 0 else newline
        raw = text[pos:line_end]
        stripped = raw.strip()
        if stripped:
            left = pos + (len(raw) - len(raw.lstrip()))
            right = left + len(stripped)
            lines.append(Line(left, right, stripped))
        pos = line_end + 1
    return lines


@dataclass(frozen=True)
class Marker:
    kind: str  # "roman", "dec1", "dec2"…, "alpha", "-", "+", "*", "•", "md1"…
    marker: str  # as written, without the following spaces
    number: str | None
    content_offset: int  # characters from the line start to the heading text


def _roman_value(numeral: str) -> int | None:
    total = 0
    previous = 0
    for ch in reversed(numeral):
        value = _ROMAN_VALUES[ch]
        total = total - value if value < previous else total + value
        previous = max(previous, value)
    # Reject odd spellings ("IIII", "VX") that are more likely initials or noise.
    canonical = _to_roman(total)
    return total if canonical == numeral and 0 < total <= 30 else None


def _to_roman(value: int) -> str:
    out = ""
    for amount, numeral in ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while value >= amount:
            out += numeral
            value -= amount
    return out


def classify(line: str) -> Marker | None:
    """The list/heading marker a line starts with, or None for a plain paragraph."""
    if m := _MD_HEADING.match(line):
        return Marker(f"md{len(m.group('hashes'))}", m.group("hashes"), None, m.end())
    if (m := _ROMAN.match(line)) and _roman_value(m.group("num")):
        return Marker("roman", m.group("num") + ".", m.group("num"), m.end())
    if (m := _DECIMAL.match(line)) and (
        m.group("dot") or ("." in m.group("num") and m.group("gap"))
    ):
        number = m.group("num")
        written = line[: m.end()].rstrip()
        return Marker(f"dec{number.count('.') + 1}", written, number, m.end())
    if m := _ALPHA.match(line):
        return Marker("alpha", m.group("num") + ")", m.group("num"), m.end())
    if m := _PAREN.match(line):
        kind = "paren-num" if m.group("num").isdigit() else "paren-alpha"
        return Marker(kind, f"({m.group('num')})", m.group("num"), m.end())
    if m := _BULLET.match(line):
        bullet = m.group("bullet")
        rest = line[m.end() :]
        # "-5%" is a number and "-------" a rule under the issuer, not bullets.
        if (rest[0].isdigit() and m.end() == 1) or not any(ch.isalnum() for ch in rest):
            return None
        return Marker(_BULLET_KIND[bullet], bullet, None, m.end())
    return None


@dataclass
class _Open:
    kind: str
    marker: Marker
    line: Line
    heading_end: int
    end: int
    children: list[_Open] = field(default_factory=list)
    first_child_start: int | None = None



def _pops_to_root(kind: str, has_roman: bool) -> bool:
    return kind == "roman" or (kind == "*" and not has_roman)


def _is_anchor(kind: str, has_roman: bool) -> bool:
    """Kinds a decimal number may nest under (never under a bullet it follows)."""
    return _pops_to_root(kind, has_roman) or kind == "*" or kind.startswith("md")


MAX_SECTION_DEPTH = 200


def parse_sections(text: str, start: int = 0, end: int | None = None) -> list[Section]:
    """Parse ``text[start:end]`` into a tree of sections; spans index into ``text``."""
    lines = split_lines(text, start, end)
    markers = [classify(line.text) for line in lines]
    has_roman = any(m is not None and m.kind == "roman" for m in markers)
    roots: list[_Open] = []
    stack: list[_Open] = []
    index = 0
    while index < len(lines):
        line, marker = lines[index], markers[index]
        index += 1
        if marker is None:
            if stack:
                stack[-1].end = line.end
                for item in stack[:-1]:
                    item.end = line.end
            continue
        heading_end = line.end
        # A caps heading that wraps onto a second caps line ("I. ĐÁNH GIÁ … PHÁT TRIỂN" +
        # "KINH TẾ - XÃ HỘI …") keeps both lines as its heading.
        while (
            marker.kind in ("roman", "dec1")
            and index < len(lines)
            and markers[index] is None
            and is_caps(line.text[marker.content_offset :], 3)
            and is_caps(lines[index].text, 3)
            and len(lines[index].text) <= 160
            and not line.text.endswith((".", ":"))
        ):
            heading_end = lines[index].end
            index += 1
        _attach(marker, line, heading_end, stack, roots, has_roman)
    return [_build(text, item) for item in roots]


def _attach(
    marker: Marker,
    line: Line,
    heading_end: int,
    stack: list[_Open],
    roots: list[_Open],
    has_roman: bool,
) -> None:
    kind = marker.kind
    if kind.startswith("md"):
        level = int(kind[2:])
        while stack and not (stack[-1].kind.startswith("md") and int(stack[-1].kind[2:]) < level):
            stack.pop()
    elif _pops_to_root(kind, has_roman):
        while stack and not stack[-1].kind.startswith("md"):
            stack.pop()
    elif kind.startswith("dec"):
        depth = int(kind[3:])
        while stack:
            top = stack[-1].kind
            if (top.startswith("dec") and int(top[3:]) < depth) or _is_anchor(top, has_roman):
                break
            stack.pop()
    elif any(item.kind == kind for item in stack):
        while stack[-1].kind != kind:
            stack.pop()
        stack.pop()
    if len(stack) >= MAX_SECTION_DEPTH:
        # Real notices nest a handful of levels; a tree this deep would exhaust recursion when
        # built or serialized, so refuse it by name instead of failing obscurely.
        raise ParseError(
            f"Văn bản có danh sách lồng nhau quá sâu (hơn {MAX_SECTION_DEPTH} cấp), "
            "không phải cấu trúc của một thông báo."
        )
    item = _Open(kind, marker, line, heading_end, heading_end)
    if stack:
        parent = stack[-1]
        parent.children.append(item)
        if parent.first_child_start is None:
            parent.first_child_start = line.start
    else:
        roots.append(item)
    for ancestor in stack:
        ancestor.end = max(ancestor.end, heading_end)
    stack.append(item)


def _build(text: str, item: _Open) -> Section:
    line = item.line
    heading_start = line.start + item.marker.content_offset
    body_end = item.first_child_start if item.first_child_start is not None else item.end
    body = text[item.heading_end : body_end].strip() if body_end > item.heading_end else ""
    return Section(
        number=item.marker.number,
        marker=item.marker.marker,
        heading=text[heading_start : item.heading_end],
        body=body,
        start=line.start,
        end=item.end,
        heading_start=heading_start,
        heading_end=item.heading_end,
        children=[_build(text, child) for child in item.children],
    )

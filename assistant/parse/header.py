"""Header and footer fields of a notice: kind, issuer, level, number, place and dates, title,
chair, attendees, opening, closing, recipients, signature — each with its span in the text.

The text is read as lines (the loader gives one paragraph per line). A notice is laid out as
header block → ``THÔNG BÁO`` → trích yếu → opening → body → closing → ``Nơi nhận:`` →
signature; any part may be missing (PDF extraction drops the header, a portal article keeps
only the opening and some tasks), so every zone is found by its own cues, not by position.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections import Counter

from pydantic import BaseModel, Field

from assistant.agencies import get_gazetteer
from assistant.model import DateValue, DocumentKind, Level, Person, Signature, Spanned
from assistant.parse.structure import Line, classify, split_lines
from assistant.text import collapse_spaces, fold, is_caps, unaccent


class HeaderFields(BaseModel):
    """Everything of a notice except its body; spans index into the parsed text."""

    kind: DocumentKind = DocumentKind.OTHER
    issuer: Spanned | None = Field(default=None, description="Issuing body as written")
    issuer_name: str | None = Field(
        default=None,
        description="Readable issuer derived from the text ('UBND thị xã Hoàng Mai'); not spanned",
    )
    level: Level = Level.UNKNOWN
    number: Spanned | None = Field(default=None, description="'12/TB-UBND', '/TB-VP' when blank")
    place: Spanned | None = None
    issue_date: DateValue | None = None
    title: Spanned | None = Field(default=None, description="Trích yếu, possibly several lines")
    meeting_date: DateValue | None = None
    chair: Person | None = None
    attendees: Spanned | None = None
    opening: Spanned | None = None
    closing: Spanned | None = None
    recipients: list[Spanned] = Field(default_factory=list)
    signature: Signature | None = None
    body_start: int = Field(default=0, description="Where the sectioned body begins")
    body_end: int = Field(default=0, description="Where the sectioned body ends")


# --- small text helpers --------------------------------------------------------------------

_UNIT_WORDS = ("thành phố", "thị xã", "thị trấn", "tỉnh", "huyện", "quận", "xã", "phường")
_UNIT_RE = "(?:" + "|".join(w.replace(" ", r"\s+") for w in _UNIT_WORDS) + ")"
_COMMITTEE_RE = r"(?:UBND|Ủy\s+ban\s+nhân\s+dân|Uỷ\s+ban\s+nhân\s+dân)"
# Cities under the central government are province-level although called "thành phố".
_CENTRAL_CITIES = {"ha noi", "ho chi minh", "hai phong", "da nang", "can tho", "hue"}
_NOT_NAME_START = {
    "Phó",
    "Chủ",
    "Bí",
    "Trưởng",
    "Giám",
    "Thứ",
    "Bộ",
    "Ủy",
    "Uỷ",
    "Tỉnh",
    "Thành",
    "Thường",
    "Chánh",
    "Văn",
    "Lãnh",
    "Các",
    "Ban",
    "Sở",
    "Phòng",
    "Trung",
    "Hội",
    "Thủ",
    "UBND",
    "HĐND",
}
_WORD = re.compile(r"[^\W\d_]+")


def _is_name_word(word: str) -> bool:
    return word[:1].isupper() and (len(word) == 1 or word[1:].islower())


def _scan_words(text: str, pos: int, *, caps: bool = False, max_words: int = 5) -> tuple[int, int]:
    """Capitalized words (or, with ``caps``, all-caps words) from ``pos``, separated by single
    spaces: returns (count, end offset)."""
    count, end = 0, pos
    cursor = pos
    while count < max_words:
        m = _WORD.match(text, cursor)
        if not m:
            break
        word = m.group()
        ok = word.isupper() if caps else _is_name_word(word)
        if not ok:
            break
        count, end = count + 1, m.end()
        if end < len(text) and text[end] == " ":
            cursor = end + 1
        else:
            break
    return count, end


def _person_name_at(text: str, pos: int, *, caps: bool = False) -> tuple[str, int] | None:
    m = _WORD.match(text, pos)
    if not m or (not caps and m.group() in _NOT_NAME_START):
        return None
    count, end = _scan_words(text, pos, caps=caps)
    if count < 2:
        return None
    name = text[pos:end]
    return (name.title() if caps else name), end


def _spanned(text: str, start: int, end: int) -> Spanned | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end <= start:
        return None
    return Spanned(text=text[start:end], start=start, end=end)


def _line_block(text: str, lines: list[Line]) -> Spanned | None:
    if not lines:
        return None
    return _spanned(text, lines[0].start, lines[-1].end)


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


# --- dates -----------------------------------------------------------------------------------

_DAY_PART = r"(?:(?:Sáng|Chiều|Tối|Trưa|Vào|Trong)\s+)?"
_DATE_RANGE = re.compile(
    _DAY_PART
    + r"(?:Từ\s+)?ngày\s+(?P<d1>\d{1,2})(?:/(?P<m1>\d{1,2}))?\s*(?:đến|-|–)\s*(?:ngày\s+)?"
    r"(?P<d2>\d{1,2})(?:\s*/\s*(?P<m2>\d{1,2})\s*/\s*(?P<y2>\d{4})|\s+tháng\s+(?P<m3>\d{1,2})\s+năm\s+(?P<y3>\d{4}))",
    re.IGNORECASE,
)
_DATE_SLASH = re.compile(
    _DAY_PART + r"ngày\s+(?P<d>\d{1,2})\s*[/.-]\s*(?P<m>\d{1,2})\s*[/.-]\s*(?P<y>\d{4})",
    re.IGNORECASE,
)
_DATE_WORDS = re.compile(
    _DAY_PART + r"ngày\s+(?P<d>\d{1,2})\s+tháng\s+(?P<m>\d{1,2})\s+năm\s+(?P<y>\d{4})",
    re.IGNORECASE,
)


def find_date(text: str, start: int, end: int) -> DateValue | None:
    """The first date expression in ``text[start:end]``; a range gives its first day."""
    found: list[tuple[int, int, dt.date | None]] = []
    window = text[start:end]
    if m := _DATE_RANGE.search(window):
        month = m.group("m1") or m.group("m2") or m.group("m3")
        year = m.group("y2") or m.group("y3")
        found.append((m.start(), m.end(), _safe_date(int(year), int(month), int(m.group("d1")))))
    for pattern in (_DATE_SLASH, _DATE_WORDS):
        if m := pattern.search(window):
            found.append(
                (
                    m.start(),
                    m.end(),
                    _safe_date(int(m.group("y")), int(m.group("m")), int(m.group("d"))),
                )
            )
    if not found:
        return None
    # The earliest; on a tie the longest (a range beats its own last day).
    s, e, value = min(found, key=lambda item: (item[0], -item[1]))
    return DateValue(text=window[s:e], start=start + s, end=start + e, value=value)


_PLACE_DATE = re.compile(
    r"^(?P<place>[^\W\d_][^,\n]{0,40}?),\s*(?P<date>ngày\s*(?P<d>\d{1,2})?\s*tháng\s*(?P<m>\d{1,2})?\s*năm\s*(?P<y>\d{4}))",
    re.IGNORECASE,
)


# --- zones -----------------------------------------------------------------------------------

_DOC_TYPE = re.compile(r"^THÔNG\s+BÁO\s*$")
# Neighbours of the notice, by the type line that opens them.
_OTHER_TYPES: tuple[tuple[re.Pattern[str], DocumentKind], ...] = (
    (re.compile(r"^BIÊN\s+BẢN\b"), DocumentKind.MINUTES),
    (re.compile(r"^PHIẾU\s+TRÌNH\b"), DocumentKind.ROUTING_SLIP),
    (re.compile(r"^(?:BÀI\s+)?PHÁT\s+BIỂU\b"), DocumentKind.SPEECH),
)
_ADDRESSED = re.compile(r"^Kính\s+gửi\b", re.IGNORECASE)
_SUBJECT_LINE = re.compile(r"^V/v\b")
_NATIONAL = re.compile(r"^(?:CỘNG\s+HÒA|CỘNG\s+HOÀ|Độc\s+lập)", re.IGNORECASE)
_NUMBER_LINE = re.compile(r"^Số\s*:\s*")
_SEPARATOR = re.compile(r"^[-_=*.~\s]{3,}$")
_OPENING_START = re.compile(
    r"^(?:(?:Sáng|Chiều|Tối|Trưa|Vào|Trong|Từ)\s+ngày|Ngày\s+\d|Vào\s+(?:hồi|lúc)\s|Căn\s+cứ"
    r"|Thực\s+hiện|Tại\s|Hôm\s+nay)",
)
_ISSUING_PARAGRAPH = re.compile(
    r"đã\s+(?:có|ban\s+hành)\s+Thông\s+báo\s+(?:số\s+)?(?P<number>\d+/TB-[\wĐđ-]+)", re.IGNORECASE
)
_RECIPIENTS = re.compile(r"^Nơi\s+nhận\s*:?\s*", re.IGNORECASE)
_AUTHORITY = re.compile(r"^(?:TL|KT|TM|TUQ|Q)\.\s*\S")
_SIGN_NOISE = re.compile(r"^\(?(?:đã\s+ký|ký|ký,.*|chữ\s+ký.*)\)?$", re.IGNORECASE)
_CLOSING_CUES = re.compile(
    r"^trên đây là|thông báo (?:để|và|cho|đến)|trân trọng thông báo|tại thông báo này"
    r"|nội dung thông báo này"
)
_CONCLUDES = re.compile(r"(?:kết luận|như sau|sau|chỉ đạo)\s*:$")


def _is_closing(t: str, has_footer: bool) -> bool:
    if classify(t) is not None:
        return False
    # "./." ends the last paragraph of many texts (news sites too); alone it marks a closing
    # formula only in a short paragraph right above a Nơi nhận list or a signature.
    return bool(_CLOSING_CUES.search(fold(t))) or (
        has_footer and t.endswith("./.") and len(t) <= 400
    )



def parse_header(text: str) -> HeaderFields:
    lines = split_lines(text)
    out = HeaderFields(body_start=0, body_end=len(text))
    if not lines:
        return out

    doc_type = next((i for i, ln in enumerate(lines[:20]) if _DOC_TYPE.match(ln.text)), None)
    other_type = None
    if doc_type is None:
        for i, ln in enumerate(lines[:20]):
            kind = next((k for rx, k in _OTHER_TYPES if rx.match(ln.text)), None)
            if kind is not None:
                doc_type, other_type = i, kind
                break
    # Footer first: it bounds everything else.
    footer_index = next((i for i, ln in enumerate(lines) if _RECIPIENTS.match(ln.text)), None)
    recipients: list[Spanned] = []
    signature_lines: list[Line] = []
    if footer_index is not None:
        recipients, signature_lines = _split_footer(text, lines, footer_index)
    else:
        floor = doc_type + 2 if doc_type is not None else 1
        signature_lines = _trailing_signature(lines[floor:])
        footer_index = len(lines) - len(signature_lines)
    out.recipients = recipients
    out.signature = _signature(text, signature_lines)

    # Header block and title.
    header_lines = lines[:doc_type] if doc_type is not None else _leading_header(lines)
    cursor = doc_type + 1 if doc_type is not None else len(header_lines)
    _read_header_block(text, header_lines, out)
    title_lines: list[Line] = []
    issuing: Line | None = None
    if doc_type is not None:
        while cursor < footer_index and _continues_title(lines[cursor], title_lines):
            title_lines.append(lines[cursor])
            cursor += 1
    elif cursor < footer_index and _looks_like_headline(lines[cursor]):
        title_lines.append(lines[cursor])
        cursor += 1
    if cursor < footer_index and (m := _ISSUING_PARAGRAPH.search(lines[cursor].text)):
        issuing = lines[cursor]
        cursor += 1
        _read_issuing_paragraph(text, issuing, m, out)
    if out.title is None:
        out.title = _title_span(text, title_lines)
    while cursor < footer_index and _SEPARATOR.match(lines[cursor].text):
        cursor += 1

    # Opening: up to the first marked line, or through the paragraph announcing conclusions.
    opening_from = cursor
    opening_lines: list[Line] = []
    while cursor < footer_index and classify(lines[cursor].text) is None:
        opening_lines.append(lines[cursor])
        cursor += 1
        if _CONCLUDES.search(fold(opening_lines[-1].text)):
            break
    if cursor == footer_index and len(opening_lines) > 1:
        # Nothing but prose down to the footer (a news article, a notice without numbering):
        # the opening is its first paragraph.
        opening_lines = opening_lines[:1]
        cursor = opening_from + 1
    out.opening = _line_block(text, opening_lines)

    # Closing: the run of closing formulas right before the footer.
    body_end_index = footer_index
    has_footer = footer_index < len(lines)
    closing_lines: list[Line] = []
    index = footer_index - 1
    while index >= cursor and _is_closing(lines[index].text, has_footer):
        closing_lines.insert(0, lines[index])
        index -= 1
    if closing_lines:
        body_end_index = footer_index - len(closing_lines)
    out.closing = _line_block(text, closing_lines)
    out.body_start = (
        lines[cursor].start
        if cursor < len(lines) and cursor < body_end_index
        else (opening_lines[-1].end if opening_lines else 0)
    )
    out.body_end = lines[body_end_index - 1].end if body_end_index > cursor else out.body_start

    today = _today_line(lines[:60])
    if today is not None:
        # minutes: 'Hôm nay, vào hồi 16 giờ 00 phút, ngày 17 tháng 6 năm 2026, …'
        out.meeting_date = find_date(text, today.start, today.end) or out.meeting_date
    if out.meeting_date is None and out.opening:
        out.meeting_date = _meeting_date_outside_bases(text, opening_lines)
    if out.meeting_date is None and out.title:
        out.meeting_date = find_date(text, out.title.start, out.title.end)
    out.chair = _chair(text, out.opening, out.title) or _presiding_member(text, lines[:60])
    out.attendees = _attendees(text, opening_lines)
    if out.issuer is None:
        out.issuer = _infer_issuer(text, out)
    if out.issuer is not None:
        out.issuer_name = _issuer_name(text, out.issuer.text)
        out.level = _level(out.issuer.text)
    out.kind = _kind(text, lines, out, doc_type is not None)
    if out.kind is not DocumentKind.OTHER:
        if other_type is not None:
            out.kind = other_type
        elif doc_type is None and _is_directive(lines):
            out.kind = DocumentKind.DIRECTIVE
    return out


# --- header block ------------------------------------------------------------------------------


def _leading_header(lines: list[Line]) -> list[Line]:
    """Header lines of a document without ``THÔNG BÁO`` (issuer, Quốc hiệu, Số, place/date)."""
    taken: list[Line] = []
    for line in lines[:8]:
        t = line.text
        header_like = (
            _NATIONAL.match(t)
            or _NUMBER_LINE.match(t)
            or _PLACE_DATE.match(t)
            or _SEPARATOR.match(t)
        )
        if header_like or (is_caps(t, 2) and len(t) <= 80 and classify(t) is None):
            taken.append(line)
        else:
            break
    return taken


def _read_header_block(text: str, header: list[Line], out: HeaderFields) -> None:
    issuer_lines: list[Line] = []
    issuer_done = False
    for line in header:
        t = line.text
        if m := _NUMBER_LINE.match(t):
            value = t[m.end() :].strip()
            if value:
                out.number = _spanned(text, line.start + m.end(), line.end)
            issuer_done = True
        elif m := _PLACE_DATE.match(t):
            out.place = _spanned(text, line.start + m.start("place"), line.start + m.end("place"))
            day, month = m.group("d"), m.group("m")
            when = _safe_date(int(m.group("y")), int(month), int(day)) if day and month else None
            s, e = line.start + m.start("date"), line.start + m.end("date")
            out.issue_date = DateValue(text=text[s:e], start=s, end=e, value=when)
        elif _NATIONAL.match(t) or _SEPARATOR.match(t):
            issuer_done = issuer_done or bool(issuer_lines)
        elif not issuer_done and is_caps(_strip_rule(t), 2):
            issuer_lines.append(line)
    if issuer_lines:
        last = issuer_lines[-1]
        end = last.start + len(_strip_rule(last.text))
        out.issuer = _spanned(text, issuer_lines[0].start, end)


def _strip_rule(t: str) -> str:
    """'VĂN PHÒNG CHÍNH PHỦ -------' → 'VĂN PHÒNG CHÍNH PHỦ' (the rule under the name)."""
    return re.sub(r"[\s\-_–—]{3,}$|\s+-+$", "", t).rstrip()


def _continues_title(line: Line, title: list[Line]) -> bool:
    t = line.text
    if _SEPARATOR.match(t) or classify(t) is not None or _RECIPIENTS.match(t):
        return False
    if not title:
        return True
    if _OPENING_START.match(t) or len(collapse_spaces(" ".join(x.text for x in title))) > 400:
        return False
    if t[0].islower() or (is_caps(t, 2) and is_caps(title[-1].text, 2)):
        return True
    # A short line after an unfinished one ("Kết luận của … Chủ tịch" / "Ủy ban nhân dân tỉnh …").
    return len(t) <= 120 and not title[-1].text.endswith((".", ":")) and len(title) < 4


def _looks_like_headline(line: Line) -> bool:
    t = line.text
    marker = classify(t)
    if marker is not None and not marker.kind.startswith("md"):
        return False
    return len(t) <= 300 and not _OPENING_START.match(t) and not _ISSUING_PARAGRAPH.search(t)


def _title_span(text: str, title: list[Line]) -> Spanned | None:
    if not title:
        return None
    first = title[0]
    marker = classify(first.text)
    start = first.start + (marker.content_offset if marker is not None else 0)
    return _spanned(text, start, title[-1].end)


def _read_issuing_paragraph(text: str, line: Line, m: re.Match[str], out: HeaderFields) -> None:
    """'Ngày 20/11/2025, UBND tỉnh X đã có Thông báo 393/TB-UBND Kết luận của …' (a portal
    article quoting a notice): number, issue date and trích yếu."""
    out.number = _spanned(text, line.start + m.start("number"), line.start + m.end("number"))
    if date := find_date(text, line.start, line.start + m.start()):
        out.issue_date = date
    rest = line.start + m.end("number")
    tail = text[rest : line.end]
    lead = len(tail) - len(tail.lstrip(" ,:-–"))
    end = line.end - (1 if text[line.end - 1] == "." else 0)
    out.title = _spanned(text, rest + lead, end)
    if committee := re.search(_COMMITTEE_RE + r"\s+" + _UNIT_RE, line.text, re.IGNORECASE):
        start = line.start + committee.start()
        _, name_end = _scan_words(text, line.start + committee.end() + 1, max_words=4)
        end = (
            name_end
            if name_end > line.start + committee.end() + 1
            else line.start + committee.end()
        )
        out.issuer = _spanned(text, start, end)


# --- footer ------------------------------------------------------------------------------------


def _split_footer(text: str, lines: list[Line], index: int) -> tuple[list[Spanned], list[Line]]:
    recipients: list[Spanned] = []
    current: tuple[int, int] | None = None
    head = lines[index]
    m = _RECIPIENTS.match(head.text)
    assert m is not None
    pending: list[tuple[int, int]] = []
    first_rest = head.text[m.end() :]
    if first_rest:
        current = (head.start + m.end(), head.end)
    cursor = index + 1
    seen_archive = False
    while cursor < len(lines):
        line = lines[cursor]
        t = line.text
        if t.startswith(("-", "–", "+", "•")):
            if current:
                pending.append(current)
            current = (line.start, line.end)
            seen_archive = seen_archive or bool(re.match(r"^[-–+•]\s*Lưu\b", t))
        elif _is_signature_line(t) or seen_archive:
            break
        elif current:
            current = (current[0], line.end)
        else:
            current = (line.start, line.end)
        cursor += 1
    if current:
        pending.append(current)
    for start, end in pending:
        item = text[start:end]
        lead = len(item) - len(item.lstrip("-–+• "))
        if span := _spanned(text, start + lead, end):
            recipients.append(span)
    return recipients, lines[cursor:]


def _is_signature_line(t: str) -> bool:
    if _AUTHORITY.match(t) or _SIGN_NOISE.match(t):
        return True
    return is_caps(t, 2) and not t.endswith((";", ","))


def _trailing_signature(lines: list[Line]) -> list[Line]:
    """A signature block without ``Nơi nhận``: caps position lines and a name at the very end."""
    taken: list[Line] = []
    for line in reversed(lines[-5:]):
        t = line.text
        is_name = (
            not taken and _person_name_at(t, 0) is not None and _person_name_at(t, 0) == (t, len(t))
        )
        if (
            _AUTHORITY.match(t)
            or (is_caps(t, 2) and len(t) <= 60 and classify(t) is None)
            or is_name
        ):
            taken.insert(0, line)
        else:
            break
    if not any(is_caps(x.text, 2) for x in taken):
        return []
    return taken


def _signature(text: str, block: list[Line]) -> Signature | None:
    """Authority lines ('TL. CHỦ TỊCH', 'KT. BỘ TRƯỞNG,' + 'CHỦ NHIỆM'), then position lines,
    then the signer's name, in that order; anything out of order ends the block."""
    authority: list[str] = []
    position: list[str] = []
    signer: str | None = None
    used: list[Line] = []
    for line in block:
        t = line.text
        if _SIGN_NOISE.match(t):
            continue
        caps = is_caps(t, 2)
        if not position and (
            _AUTHORITY.match(t) or (authority and authority[-1].endswith(",") and caps)
        ):
            authority.append(t)
        elif caps and not _AUTHORITY.match(t):
            position.append(t)
        elif (name := _person_name_at(t, 0)) is not None and name[1] == len(t):
            signer = t
            used.append(line)
            break
        else:
            break
        used.append(line)
    if not used:
        return None
    return Signature(
        authority=collapse_spaces(" ".join(authority)) or None,
        position=collapse_spaces(" ".join(position)) or None,
        signer=collapse_spaces(signer) if signer else None,
        start=used[0].start,
        end=used[-1].end,
    )


# --- chair, attendees ----------------------------------------------------------------------------

_COMRADE = re.compile(r"(?:[Đđ]ồng\s+chí|[Đđ]/c)\s+")
_PM = re.compile(r"(?:Phó\s+)?Thủ\s+tướng(?:\s+Chính\s+phủ)?\s+")
_CHAIRPERSON = re.compile(
    r"(?:[Đđ]ồng\s+chí\s+)?(?:Phó\s+)?Chủ\s+tịch\s+" + _COMMITTEE_RE + r"\s+" + _UNIT_RE
)
_POSITION_STOP = re.compile(
    r"\s+(?:chủ\s+trì|đã|dự|kết\s+luận|phát\s+biểu|tại|thống\s+nhất|yêu\s+cầu|cùng|đề\s+nghị)\b|[;:(]|\.(?:\s|$)|$"
)
_SEPARATOR_AFTER_NAME = re.compile(r"\s*[-–,]\s*")


def _person_at(text: str, m: re.Match[str], limit: int) -> Person | None:
    """A person mention whose prefix (``đồng chí``, ``Phó Thủ tướng Chính phủ``…) is ``m``."""
    prefix = m.group()
    start = m.start()
    if _CHAIRPERSON.fullmatch(prefix.rstrip()) or _CHAIRPERSON.match(prefix):
        end = m.end()
        count, name_end = (
            _scan_words(text, end + 1, max_words=4)
            if end < limit and text[end : end + 1] == " "
            else (0, end)
        )
        end = name_end if count else end
        office = collapse_spaces(re.sub(r"^[Đđ]ồng\s+chí\s+", "", text[start:end]))
        return Person(name=None, position=office, start=start, end=end)
    name = _person_name_at(text, m.end())
    if name is None:
        return None
    name_text, end = name
    position: str | None = None
    if _PM.fullmatch(prefix):
        position = collapse_spaces(prefix)
    elif sep := _SEPARATOR_AFTER_NAME.match(text, end):
        stop = _POSITION_STOP.search(text, sep.end(), min(limit, sep.end() + 250))
        stop_at = stop.start() if stop else min(limit, sep.end() + 250)
        if stop_at > sep.end():
            position = collapse_spaces(text[sep.end() : stop_at]).rstrip(",")
            end = stop_at
    return Person(name=name_text, position=position or None, start=start, end=end)


def _mentions(text: str, start: int, end: int) -> list[Person]:
    found: list[Person] = []
    for pattern in (_COMRADE, _PM, _CHAIRPERSON):
        # ``endpos`` instead of slicing: a copy of ``text[:end]`` per call made the chair
        # search quadratic in a long opening.
        for m in pattern.finditer(text, start, end):
            if (person := _person_at(text, m, end)) is not None:
                found.append(person)
    # Overlaps ("đồng chí Chủ tịch UBND …" matched twice): keep the longest per start region.
    found.sort(key=lambda p: (p.start, -(p.end - p.start)))
    kept: list[Person] = []
    for person in found:
        if kept and person.start < kept[-1].end:
            continue
        kept.append(person)
    return kept


_SENTENCE_BREAK = re.compile(r"\.\s+(?=[^\W\d_])")
_NEWLINE = re.compile(r"\n")


class _SentenceStarts:
    """Where the sentence around a position of ``text[floor:ceiling]`` begins: after the last
    '. X' or line break before it. The breaks are found once, so asking for every 'chủ trì' of
    a long opening stays linear."""

    def __init__(self, text: str, floor: int, ceiling: int) -> None:
        self.floor = floor
        # '. X' counts when X (at m.end()) lies before the position; a line break when it does.
        self.after_stop = [m.end() for m in _SENTENCE_BREAK.finditer(text, floor, ceiling)]
        self.after_newline = [m.end() for m in _NEWLINE.finditer(text, floor, ceiling)]

    def before(self, pos: int) -> int:
        best = self.floor
        i = bisect.bisect_left(self.after_stop, pos)
        if i:
            best = max(best, self.after_stop[i - 1])
        j = bisect.bisect_right(self.after_newline, pos)
        if j:
            best = max(best, self.after_newline[j - 1])
        return best


_TODAY = re.compile(r"^Hôm\s+nay\b", re.IGNORECASE)
_LEGAL_BASIS = re.compile(r"^Căn\s+cứ\b", re.IGNORECASE)
# '- Ông Trần Văn A, Phó Trưởng phòng … - Trưởng đoàn.', '- Bà Lê Thị B - chủ trì'
_PRESIDING = re.compile(
    r"^[-+•\s]*(?:Ông|Bà|Đồng chí|Đ/c)\s*:?\s+(?P<name>[^\W\d_][^,\-–(]{3,40}?)\s*[,\-–(][^\n]*?"
    r"(?:Trưởng\s+đoàn|[Cc]hủ\s+trì)\b"
)


def _today_line(lines: list[Line]) -> Line | None:
    return next((ln for ln in lines if _TODAY.match(ln.text)), None)


def _meeting_date_outside_bases(text: str, opening: list[Line]) -> DateValue | None:
    """The first date of the opening that is not the date of a legal basis ('Căn cứ Nghị định
    … ngày 18/12/2024 …' is not when the meeting took place)."""
    for line in opening:
        if _LEGAL_BASIS.match(line.text):
            continue
        found = find_date(text, line.start, line.end)
        if found is not None:
            return found
    return None


def _presiding_member(text: str, lines: list[Line]) -> Person | None:
    """Minutes list who presides among the participants ('… - Trưởng đoàn', '… chủ trì')."""
    for line in lines:
        m = _PRESIDING.match(line.text)
        if m is not None and len(m.group("name").split()) >= 2:
            start = line.start + m.start("name")
            name = m.group("name").strip()
            return Person(name=name, position=None, start=start, end=start + len(name))
    return None


_PRESIDES = re.compile(r"chủ trì")
_PRESIDED_BY = re.compile(r"chủ trì\s+của\s+")
# The chair is named close before 'chủ trì' ('đồng chí <name>, <position of ≤ 250 characters>
# chủ trì'), and the first few mentions of presiding are the ones about the meeting: both
# bounds keep a hostile opening (a megabyte of 'chủ trì' with nobody named) linear.
_CHAIR_LOOKBACK = 1_000
_MAX_PRESIDING_MENTIONS = 20


def _chair(text: str, opening: Spanned | None, title: Spanned | None) -> Person | None:
    if opening is not None:
        folded = fold(text[: opening.end])
        sentences = _SentenceStarts(text, opening.start, opening.end)
        for count, m in enumerate(_PRESIDES.finditer(folded, opening.start)):
            if count == _MAX_PRESIDING_MENTIONS:
                break
            at = m.start()
            after = _PRESIDED_BY.match(folded, at)
            if after:
                people = _mentions(text, after.end(), min(opening.end, after.end() + 300))
                if people and people[0].start == after.end():
                    return people[0]
                continue
            sentence = max(sentences.before(at), at - _CHAIR_LOOKBACK)
            people = [p for p in _mentions(text, sentence, at) if p.end <= at + 1]
            if people:
                return people[-1]
    if title is not None:
        person = _chair_from_title(text, title)
        if person is not None:
            return person
    if opening is not None:
        people = [
            p for p in _mentions(text, opening.start, opening.end) if _PM.match(text, p.start)
        ]
        if people:
            return people[0]
    return None


_CONCLUSIONS_OF = re.compile(r"kết luận của\s+")
_PM_FOLDED = re.compile(r"(?:phó\s+)?thủ\s+tướng(?:\s+chính\s+phủ)?\s+")


def _chair_from_title(text: str, title: Spanned) -> Person | None:
    folded = fold(text[: title.end])
    m = _CONCLUSIONS_OF.search(folded, title.start)
    if not m:
        return None
    at = m.end()
    people = _mentions(text, at, title.end)
    if people and people[0].start == at:
        return people[0]
    # "KẾT LUẬN CỦA PHÓ THỦ TƯỚNG CHÍNH PHỦ BÙI THANH SƠN TẠI …" (all caps).
    pm = _PM_FOLDED.match(folded, at)
    if pm:
        name = _person_name_at(text, pm.end(), caps=True)
        if name is not None:
            # Caps scanning runs on into "TẠI BUỔI LÀM VIỆC": the name stops at the first such word.
            words = text[pm.end() : name[1]].split(" ")
            stops = [i for i, w in enumerate(words) if fold(w) in {"tại", "về", "với", "trong"}]
            words = words[: stops[0]] if stops else words
            end = pm.end() + len(" ".join(words))
            position = ("Phó " if pm.group().startswith("phó") else "") + "Thủ tướng Chính phủ"
            return Person(name=" ".join(words).title(), position=position, start=at, end=end)
    return None


_ATTEND = re.compile(
    r"(?:(?:cùng\s+)?(?:tham\s+)?dự(?:\s+(?:họp|hội\s+nghị|phiên\s+họp|buổi\s+làm\s+việc|cuộc\s+họp))?"
    r"[^.;:\n]{0,60}?\s+có)\s",
    re.IGNORECASE,
)


def _attendees(text: str, opening: list[Line]) -> Spanned | None:
    for i, line in enumerate(opening):
        m = _ATTEND.search(line.text)
        if not m:
            continue
        start = line.start + m.start()
        stop = re.search(r"\.\s+(?=[A-ZĐÀ-Ỹ])", line.text[m.end() :])
        end = line.start + m.end() + stop.start() if stop else line.end
        # Online meetings list each bridge point ("Tại điểm cầu …") in its own paragraph.
        if (
            not stop
            and i + 1 < len(opening)
            and fold(opening[i + 1].text).startswith("tại điểm cầu")
        ):
            end = opening[i + 1].end
        value = text[start:end].rstrip(" .")
        return _spanned(text, start, start + len(value))
    return None


# --- issuer, level, kind -----------------------------------------------------------------------


_ISSUER_IN_TEXT = re.compile(
    r"(?:Văn\s+phòng\s+Chính\s+phủ|(?:Văn\s+phòng\s+(?:HĐND\s*(?:&|và|-)\s*)?)?"
    + _COMMITTEE_RE
    + r"\s+"
    + _UNIT_RE
    + ")",
)


def _infer_issuer(text: str, out: HeaderFields) -> Spanned | None:
    """Issuer of a notice whose header was lost: the committee that held the meeting (opening),
    else who gives notice (closing), else whose conclusions they are (title)."""
    zones: list[tuple[int, int]] = []
    if out.opening:
        zones.append((out.opening.start, out.opening.end))
    if out.closing:
        zones.append((out.closing.start, out.closing.end))
    if out.title:
        zones.append((out.title.start, out.title.end))
    for start, end in zones:
        for m in _ISSUER_IN_TEXT.finditer(text, start, end):
            if fold(m.group()).startswith("văn phòng chính phủ"):
                return _spanned(text, m.start(), m.end())
            name_start = m.end() + 1
            count, name_end = (
                _scan_words(text, name_start, max_words=4)
                if text[m.end() : name_start] == " "
                else (0, 0)
            )
            if count and text[name_start:name_end] not in _NOT_NAME_START:
                return _spanned(text, m.start(), name_end)
            return _spanned(text, m.start(), m.end())
    return None


_ACRONYMS = {"UBND", "HĐND", "MTTQ", "VP", "VPCP", "TW", "TP", "TX"}


def _readable(line: str) -> str:
    """'UBND TỈNH LÀO CAI' → 'UBND tỉnh Lào Cai'; 'VĂN PHÒNG CHÍNH PHỦ' → 'Văn phòng Chính phủ'."""
    if not is_caps(line, 2):
        return line
    words = line.split()
    out: list[str] = []
    proper = False
    for i, word in enumerate(words):
        low = word.lower()
        if word in _ACRONYMS or "&" in word:
            out.append(word)
        elif proper:
            out.append(word.capitalize())
        else:
            out.append(low.capitalize() if i == 0 else low)
        joined = fold(" ".join(out[-2:]))
        proper = (
            proper
            or low in ("tỉnh", "huyện", "quận", "xã", "phường")
            or joined in ("thành phố", "thị xã", "thị trấn")
        )
    result = " ".join(out)
    return re.sub(r"\bchính phủ\b", "Chính phủ", result)


_COMMITTEE_OF = re.compile(r"^(?:UBND|Ủy ban nhân dân|Uỷ ban nhân dân)\s+(?P<place>.+)$", re.IGNORECASE)
_BODY_HEAD = re.compile(r"^(?:Sở|Ban|Phòng|Thanh tra|Công an|Trung tâm|Chi cục|Bộ Chỉ huy)\b", re.IGNORECASE)


def _canonical_body(name: str) -> str:
    """The gazetteer's spelling of a department ('Sở Xây dựng'), else the name as a title."""
    known = get_gazetteer().lookup(name, Level.PROVINCE)
    return known.name if known is not None and not known.is_group else _body_case(name)


def _body_case(name: str) -> str:
    """'Sở công thương' (a caps line made readable) -> 'Sở Công Thương': the words of a body's
    name are capitalized as in the title of a department; 'và' stays lowercase."""
    words = name.split()
    return " ".join([words[0], *(w if w.lower() == "và" else w[:1].upper() + w[1:] for w in words[1:])])


def _issuer_name(text: str, issuer: str) -> str:
    """A readable issuer: 'UBND TỈNH LÀO CAI' + 'VĂN PHÒNG' → 'Văn phòng UBND tỉnh Lào Cai';
    'UBND thị xã' + the locality the text names most ('thị xã Hoàng Mai') → full name."""
    parts = [_readable(collapse_spaces(part)) for part in issuer.split("\n") if part.strip()]
    if len(parts) == 2 and fold(parts[1]) in (
        "văn phòng",
        "văn phòng hđnd và ubnd",
        "văn phòng hđnd - ubnd",
    ):
        name = f"{parts[1]} {parts[0]}"
    elif len(parts) == 2 and (parent := _COMMITTEE_OF.match(parts[0])) and _BODY_HEAD.match(parts[1]):
        # 'UBND TỈNH LÀO CAI' over 'SỞ CÔNG THƯƠNG': the department of that province
        name = f"{_canonical_body(parts[1])} {parent.group('place')}"
    else:
        name = " ".join(parts)
    folded = fold(name)
    unit = next((w for w in _UNIT_WORDS if re.search(r"\b" + w + r"$", folded)), None)
    if unit is None:
        return name
    counts: Counter[str] = Counter()
    for m in re.finditer(r"\b" + unit.replace(" ", r"\s+") + r"\s+", fold(text)):
        count, end = _scan_words(text, m.end(), max_words=3)
        if count:
            words = text[m.end() : end]
            if words.split(" ")[0] not in _NOT_NAME_START:
                counts[words] += 1
    if counts:
        return f"{name} {counts.most_common(1)[0][0]}"
    return name


def _level(issuer: str) -> Level:
    folded = fold(collapse_spaces(issuer))
    if "chính phủ" in folded or "thủ tướng" in folded or re.match(r"^bộ\b", folded):
        return Level.CENTRAL
    positions = [
        (m.start(), m.group())
        for m in re.finditer(r"thành phố|thị xã|thị trấn|tỉnh|huyện|quận|xã|phường", folded)
    ]
    if not positions:
        return Level.UNKNOWN
    _, unit = min(positions)
    if unit == "tỉnh":
        return Level.PROVINCE
    if unit == "thành phố":
        rest = re.sub(r"[^a-z ]", "", unaccent(folded.split("thành phố", 1)[1])).strip()
        return (
            Level.PROVINCE if any(rest.startswith(c) for c in _CENTRAL_CITIES) else Level.DISTRICT
        )
    if unit in ("thị xã", "huyện", "quận"):
        return Level.DISTRICT
    return Level.COMMUNE


_VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽềếểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]")


def _is_directive(lines: list[Line]) -> bool:
    """A letter: 'V/v …' under the number and 'Kính gửi:' before the body."""
    head = lines[:25]
    return any(_ADDRESSED.match(ln.text) for ln in head) and any(
        _SUBJECT_LINE.match(ln.text) for ln in head
    )


def _kind(text: str, lines: list[Line], out: HeaderFields, has_doc_type: bool) -> DocumentKind:
    sample = fold(text[:20000])
    if len(_VIETNAMESE.findall(sample)) < max(5, len(sample) // 200):
        return DocumentKind.OTHER
    title = fold(out.title.text) if out.title else ""
    marked = sum(
        1
        for ln in lines
        if (mk := classify(ln.text)) is not None and mk.kind in ("roman", "dec1", "dec2")
    )
    if (
        has_doc_type
        or out.number is not None
        or out.recipients
        or out.closing is not None
        or title.startswith("kết luận")
        or (marked >= 2 and "kết luận" in sample)
    ):
        return DocumentKind.NOTICE
    if re.search(r"hội nghị|cuộc họp|phiên họp|buổi làm việc|giao ban", sample):
        return DocumentKind.NEWS_ARTICLE
    return DocumentKind.OTHER

"""Who is assigned what: agency, role, task text, deadline and the quote span.

A task is assigned when the text names who is responsible:

* as the subject of a sentence or bullet (``Sở Y tế, UBND các huyện … tiếp tục …``: each joint
  subject gets the task), also after a colon or semicolon (``…: Bộ Nội vụ nghiên cứu …``);
* after ``Giao``/``Yêu cầu``/``Đề nghị`` (``Giao phòng Tài chính Kế hoạch chủ trì: …``);
* as the heading or label the items hang under (``2.3. Phòng TNMT, HĐGPMB`` then ``-`` items;
  ``- Phòng Tài nguyên và Môi trường thị xã:`` then ``+`` items).

``X chủ trì, phối hợp với Y`` gives X the lead role and Y the coordinating role. Agencies named
anywhere else in a sentence are objects (``hướng dẫn phòng Giáo dục…``, ``báo cáo Sở Tài chính``)
and get nothing. Sector headings without an agency (``7. Tài nguyên môi trường``) assign nothing.

Spans: for a subject named in the task itself the span is the bullet or sentence; for a task
that inherits its agency from a heading the span runs from the heading's agency mention to the
end of the task, so that ``text[start:end]`` always contains both the agency and the task.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from assistant.agencies import Gazetteer
from assistant.deadlines import find_deadlines
from assistant.model import AgencyRef, Assignment, Deadline, Level, Notice, Role, Section
from assistant.text import fold, match_key, search_view

_TRIGGER = re.compile(r"(?<!\w)(giao|yeu cau|de nghi)(?!\w)")
# 'được giao', 'bàn giao', 'theo đề nghị', 'Về đề nghị' are not orders to an agency
_NOT_TRIGGER_BEFORE = re.compile(r"(?:duoc|ban|ve|theo|viec|nhan|chuyen|ket qua|da|nhu)\s+$")
_TRIGGER_WORDS = frozenset({"giao", "yêu cầu", "đề nghị"})
_TRIGGER_FILLER = re.compile(r"\s*(?:cho\s+|cac dong chi\s+)?")
_TITLE = re.compile(
    r"\s*(?:thu truong|chu tich|giam doc|lanh dao|truong|pho truong|chanh van phong)\s+"
)
_LIST_GAP = re.compile(r"^[\s,&\-]*(?:(?:va|cung|,)\s*)*$")
_LEAD = re.compile(r"[\s,]*(?:(?:khan truong|tiep tuc|chu dong|can)\s+)*chu tri(?!\w)")
_COORD = re.compile(r"(?<!\w)phoi hop(?:\s+chat che)?(?:\s+voi)?\s+")
_PAST_OR_OBJECT = re.compile(r"^\s*(?:\(|da\b|duoc\b|la\b|cua\b|ve\b|tai\b|trong\b|va\b|nhu\b)")
_REQUESTER_VERB = re.compile(r"^\s*(?:giao|yeu cau|de nghi|chi dao|ket luan|thong bao)(?!\w)")
_OPENER = re.compile(
    r"\s*(?:sau khi|tren co so|can cu|de |trong |doi voi|ngoai ra|dong thoi|nhan dip|truoc mat)"
)
_TOPIC = re.compile(r"\s*ve\s")
_LABEL_PREFIX = re.compile(r"\s*(?:(?:giao|yeu cau|de nghi|doi voi|nhiem vu cua)\s+(?:cho\s+)?)?")
_LABEL_REST = re.compile(
    r"^[\s,]*(?:(?:chu tri|thuc hien|tham muu|can|co trach nhiem|thuc hien cac nhiem vu sau|"
    r"cac nhiem vu sau)\s*)*[:;.\s]*$"
)
_EVALUATION = re.compile(
    r"^\s*(?:[ivx]+\.\s*|\d+\.\s*)?(?:nhung\s+|mot so\s+)?"
    r"(?:ket qua dat duoc|ket qua thuc hien|ton tai|kho khan|han che|danh gia)"
)
_CLOSING = re.compile(
    r"tai thong bao nay|tren day la (?:ket luan|y kien)|tran trong thong bao|thong bao de"
)
_RECIPIENTS = re.compile(r"(?m)^[ \t]*Nơi nhận\s*:")
_BULLET_MARKERS = frozenset("-+*•–")
_ROLE_RANK = {Role.LEAD: 3, Role.ASSIGNED: 2, Role.COORDINATE: 1}


@dataclass
class _Context:
    """Agencies a heading or label hands down to the items under it."""

    refs: list[AgencyRef]
    role: Role
    start: int  # where the label's first agency mention starts


@dataclass
class _Found:
    ref: AgencyRef
    role: Role


@dataclass
class _Extractor:
    notice: Notice
    gazetteer: Gazetteer
    text: str = ""
    view: str = ""
    level: Level | None = None
    on: date | None = None
    limit: int = 0
    results: list[Assignment] = field(default_factory=list)
    _seen: dict[tuple[str, int, int], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.text = self.notice.text
        self.view = search_view(self.text)
        self.level = None if self.notice.level is Level.UNKNOWN else self.notice.level
        meeting = self.notice.meeting_date or self.notice.issue_date
        self.on = meeting.value if meeting is not None else None
        self.limit = len(self.text)
        if self.notice.closing is not None:
            self.limit = min(self.limit, self.notice.closing.start)
        received = _RECIPIENTS.search(self.text)
        if received is not None:
            self.limit = min(self.limit, received.start())
        if self.notice.recipients:
            self.limit = min(self.limit, min(r.start for r in self.notice.recipients))

    # -- tree walk ----------------------------------------------------------------------

    def visit(self, section: Section, path: list[str], inherited: _Context | None) -> None:
        own_start, own_end = self._own_span(section)
        if own_start >= self.limit:
            return
        own_end = min(own_end, self.limit)
        head_s, head_e = self._heading_span(section, own_start, own_end)
        heading_text = self.text[head_s:head_e].strip()
        if heading_text and _EVALUATION.match(search_view(heading_text)):
            return
        context = inherited
        label_ctx = self._label_context(head_s, head_e) if head_e > head_s else None
        # a heading that is itself the task ('2. Về đề nghị …: Bộ Nội vụ …') is not a path step
        label = section.heading if section.heading else None
        in_path = label is not None and (bool(section.children) or label_ctx is not None)
        new_path = path + ([f"{section.marker} {label}".strip()] if in_path else [])
        if label_ctx is not None:
            context = label_ctx
            body_s = head_e
        elif (
            section.number is not None
            and head_e > head_s
            and self.text[head_e:own_end].strip()
            and not self._explicit(head_s, head_e)
        ):
            body_s = head_e  # a sector heading ('7. Tài nguyên môi trường') is not a task
        else:
            body_s = own_start
        is_bullet = section.number is None and section.marker[:1] in _BULLET_MARKERS
        has_children = bool(section.children)
        own_text = self.text[own_start:own_end].rstrip()
        ends_with_colon = own_text.endswith(":")

        if body_s < own_end:
            if has_children and ends_with_colon and label_ctx is None and is_bullet:
                # '- Sở Y tế chủ trì thực hiện các nội dung sau:' introduces the children
                lead = self._explicit(body_s, own_end)
                if lead:
                    main = [f for f in lead if f.role is not Role.COORDINATE]
                    if main:
                        context = _Context([f.ref for f in main], main[0].role, main[0].ref.start)
            elif is_bullet and label_ctx is None:
                self._bullet(body_s, own_end, context, new_path)
            else:
                self._paragraphs(body_s, own_end, context, new_path)

        for child in section.children:
            self.visit(child, new_path, context)

    def _own_span(self, section: Section) -> tuple[int, int]:
        start = section.start
        while start < section.end and self.text[start].isspace():
            start += 1
        if section.marker and self.text.startswith(section.marker, start):
            start += len(section.marker)
        end = section.children[0].start if section.children else section.end
        return start, max(start, end)

    def _heading_span(self, section: Section, own_start: int, own_end: int) -> tuple[int, int]:
        if section.heading_start is not None and section.heading_end is not None:
            return max(section.heading_start, own_start), min(section.heading_end, own_end)
        if section.number is not None:
            newline = self.text.find("\n", own_start, own_end)
            return own_start, newline if newline != -1 else own_end
        # a bullet: the whole item, which is a label when it is only agencies and a colon
        return own_start, own_end

    # -- labels -------------------------------------------------------------------------

    def _label_context(self, start: int, end: int) -> _Context | None:
        """'2.3. Phòng TNMT, HĐGPMB', '- Giao phòng Tài chính Kế hoạch chủ trì:', 'Văn phòng'."""
        while start < end and self.text[start].isspace():
            start += 1
        while end > start and self.text[end - 1].isspace():
            end -= 1
        if start >= end:
            return None
        prefix = _LABEL_PREFIX.match(self.view, start, end)
        pos = prefix.end() if prefix else start
        title = _TITLE.match(self.view, pos, end)
        if title:
            pos = title.end()
        refs, after = self._agency_list(pos, end, lenient=pos > start)
        if refs:
            rest = self.view[after:end]
            if _LABEL_REST.match(rest):
                role = Role.LEAD if re.search(r"chu tri", rest) else Role.ASSIGNED
                return _Context(refs, role, refs[0].start)
            return None
        label = self.text[pos:end].rstrip(" :;.")
        if not label or len(label.split()) > 6:
            return None
        agency = self.gazetteer.lookup(label, self.level, self.on)
        if agency is None:
            return None
        ref = AgencyRef(
            text=label, canonical=agency.name, level=agency.level, is_group=agency.is_group,
            start=pos, end=pos + len(label),
        )
        return _Context([ref], Role.ASSIGNED, pos)

    def _agency_list(self, pos: int, end: int, lenient: bool) -> tuple[list[AgencyRef], int]:
        """Mentions one after another from ``pos``, joined by commas, 'và', '-', '&'."""
        refs: list[AgencyRef] = []
        cursor = pos
        while cursor < end:
            ref = self.gazetteer.match_at(
                self.text, cursor, end, level=self.level, on=self.on, lenient=lenient and not refs
            )
            if ref is None:
                if refs:
                    title = _TITLE.match(self.view, cursor, end)
                    if title:
                        ref = self.gazetteer.match_at(
                            self.text, title.end(), end, level=self.level, on=self.on
                        )
                if ref is None:
                    break
            refs.append(ref)
            cursor = ref.end
            gap = re.match(r"[\s,&\-]*(?:(?:va|cung)\s+)?[\s,]*", self.view[cursor:end])
            if gap is None or gap.end() == 0:
                break
            nxt = cursor + gap.end()
            if not _LIST_GAP.match(self.view[cursor:nxt]):
                break
            cursor = nxt
        if not refs:
            return [], pos
        return refs, refs[-1].end

    # -- explicit assignees in a passage ------------------------------------------------

    def _explicit(self, start: int, end: int) -> list[_Found]:
        """Agencies a passage itself makes responsible: subjects of its clauses, the objects of
        'Giao/Yêu cầu/Đề nghị', and the partners after 'phối hợp với' when it has a principal."""
        found: list[_Found] = []
        for cs, ce in self._clauses(start, end):
            if _TOPIC.match(self.view, cs):
                continue
            principal = self._subject(cs, ce, colon=ce < end and self.text[ce] == ":")
            if not principal and _OPENER.match(self.view, cs):
                comma = self.view.find(", ", cs, ce)
                if comma != -1:
                    principal = self._subject(comma + 1, ce)
            for trig in _TRIGGER.finditer(self.view, cs, ce):
                # the accent-free view confuses 'giao' with 'giáo' (giáo viên)
                if fold(self.text[trig.start() : trig.end()]) not in _TRIGGER_WORDS:
                    continue
                if _NOT_TRIGGER_BEFORE.search(self.view[max(cs, trig.start() - 12) : trig.start()]):
                    continue
                filler = _TRIGGER_FILLER.match(self.view, trig.end(), ce)
                pos = filler.end() if filler else trig.end()
                title = _TITLE.match(self.view, pos, ce)
                if title:
                    pos = title.end()
                refs, after = self._agency_list(pos, ce, lenient=True)
                if refs:
                    role = Role.LEAD if _LEAD.match(self.view, after, ce) else Role.ASSIGNED
                    principal.extend(_Found(r, role) for r in refs)
            found.extend(principal)
            if principal:
                for coord in _COORD.finditer(self.view, cs, ce):
                    refs, _ = self._agency_list(coord.end(), ce, lenient=False)
                    found.extend(_Found(r, Role.COORDINATE) for r in refs)
        return found

    def _subject(self, start: int, end: int, colon: bool = False) -> list[_Found]:
        pos = start
        while pos < end and (self.text[pos].isspace() or self.text[pos] in "-+*•–"):
            pos += 1
        title = _TITLE.match(self.view, pos, end)
        if title:
            pos = title.end()
        refs, after = self._agency_list(pos, end, lenient=False)
        if not refs:
            return []
        rest = self.view[after:end]
        if not rest.strip(" :;,.\n"):
            # 'Phòng Văn hóa – Thông tin, Đài Truyền thanh thị xã: Tập trung …'
            return [_Found(r, Role.ASSIGNED) for r in refs] if colon else []
        if _PAST_OR_OBJECT.match(rest) or _REQUESTER_VERB.match(rest):
            return []
        role = Role.LEAD if _LEAD.match(rest) else Role.ASSIGNED
        return [_Found(r, role) for r in refs]

    def _clauses(self, start: int, end: int) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        cs = start
        for i in range(start, end):
            if self.text[i] in ":;":
                out.append((cs, i))
                cs = i + 1
        out.append((cs, end))
        return [(s, e) for s, e in out if self.text[s:e].strip()]

    # -- units --------------------------------------------------------------------------

    def _bullet(self, start: int, end: int, context: _Context | None, path: list[str]) -> None:
        """A list item: the whole item is the task of its subject (or of the heading's
        agencies); a later sentence naming another agency is that agency's own task."""
        sentences = self._sentences(start, end)
        if not sentences:
            return
        task_s, task_e = sentences[0][0], sentences[-1][1]
        if self._is_closing(task_s, task_e):
            return
        s0, e0 = sentences[0]
        c0 = next((i for i in range(s0, e0) if self.text[i] in ":;"), e0)
        if c0 < e0 and self.text[c0] == ":":
            c0 += 1  # keep the colon so that 'X: task' reads as a subject
        first = self._explicit(s0, c0)
        if first:
            self._emit(first, task_s, task_e, None, path)
        elif context is not None:
            coords = self._coordinators(task_s, task_e)
            self._emit([_Found(r, context.role) for r in context.refs] + coords,
                       task_s, task_e, context.start, path)
        rest_first = self._explicit(c0, e0) if c0 < e0 else []
        if rest_first:
            self._emit(rest_first, task_s, task_e, None, path)
        for s, e in sentences[1:]:
            others = self._explicit(s, e)
            if others:
                self._emit(others, s, e, None, path)

    def _paragraphs(self, start: int, end: int, context: _Context | None, path: list[str]) -> None:
        """Body text: each sentence is a task; one without its own subject continues the
        subject of the sentence before it in the paragraph, else the heading's agencies."""
        carry: list[_Found] = []
        carry_start: int | None = None
        prev_end = start
        for s, e in self._sentences(start, end):
            if "\n" in self.text[prev_end:s]:
                carry, carry_start = [], None
            prev_end = e
            if self._is_closing(s, e):
                continue
            if self.text[s:e].rstrip().endswith(":"):
                continue  # introduces a list
            explicit = self._explicit(s, e)
            if explicit:
                self._emit(explicit, s, e, None, path)
                carry = [f for f in explicit if f.role is not Role.COORDINATE]
                carry_start = min(f.ref.start for f in carry) if carry else None
            elif carry and carry_start is not None:
                self._emit(carry + self._coordinators(s, e), s, e, carry_start, path)
            elif context is not None:
                coords = self._coordinators(s, e)
                self._emit([_Found(r, context.role) for r in context.refs] + coords,
                           s, e, context.start, path)

    def _coordinators(self, start: int, end: int) -> list[_Found]:
        out: list[_Found] = []
        for coord in _COORD.finditer(self.view, start, end):
            refs, _ = self._agency_list(coord.end(), end, lenient=False)
            out.extend(_Found(r, Role.COORDINATE) for r in refs)
        return out

    def _sentences(self, start: int, end: int) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        s = start
        text = self.text
        i = start
        while i < end:
            ch = text[i]
            cut = -1
            if ch == "\n":
                cut = i
            elif ch in ".!?" and i + 1 < end and text[i + 1] in " \t":
                j = i + 1
                while j < end and text[j] in " \t":
                    j += 1
                if j < end and (text[j].isupper() or text[j].isdigit()):
                    cut = i + 1
            if cut != -1:
                out.append((s, cut))
                s = cut
            i += 1
        out.append((s, end))
        trimmed: list[tuple[int, int]] = []
        for a, b in out:
            while a < b and (text[a].isspace() or text[a] in "-+*•–"):
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            if any(ch.isalpha() for ch in text[a:b]):
                trimmed.append((a, b))
        return trimmed

    def _is_closing(self, start: int, end: int) -> bool:
        return start >= self.limit or bool(_CLOSING.search(self.view, start, end))

    # -- output -------------------------------------------------------------------------

    def _emit(
        self,
        found: list[_Found],
        task_s: int,
        task_e: int,
        span_from: int | None,
        path: list[str],
    ) -> None:
        task_e = min(task_e, self.limit)
        if task_e <= task_s:
            return
        deadline = self._deadline(task_s, task_e)
        for item in found:
            start = min(task_s, item.ref.start, span_from if span_from is not None else task_s)
            end = max(task_e, item.ref.end)
            key = (self._identity(item.ref), task_s, task_e)
            if key in self._seen:
                index = self._seen[key]
                if _ROLE_RANK[item.role] > _ROLE_RANK[self.results[index].role]:
                    self.results[index] = self.results[index].model_copy(update={"role": item.role})
                continue
            self._seen[key] = len(self.results)
            self.results.append(
                Assignment(
                    agency=item.ref,
                    role=item.role,
                    task=self.text[task_s:task_e],
                    deadline=deadline,
                    section_path=list(path),
                    start=start,
                    end=end,
                )
            )

    def _identity(self, ref: AgencyRef) -> str:
        if ref.canonical:
            return f"{ref.canonical}|{ref.level.value}"
        return match_key(ref.text)

    def _deadline(self, start: int, end: int) -> Deadline | None:
        deadlines = find_deadlines(self.text, start, end, reference=self.on)
        dated = [d for d in deadlines if d.date is not None]
        if dated:
            return dated[0]
        return deadlines[0] if deadlines else None


def extract_assignments(notice: Notice, gazetteer: Gazetteer) -> list[Assignment]:
    """Every (agency, task) the notice assigns, in document order."""
    extractor = _Extractor(notice, gazetteer)
    for section in notice.sections:
        extractor.visit(section, [], None)
    return sorted(extractor.results, key=lambda a: (a.start, a.end, a.agency.start))

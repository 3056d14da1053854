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

from assistant.agencies import _STOP_BIGRAMS, _STOP_WORDS, Agency, Gazetteer
from assistant.deadlines import find_deadlines
from assistant.model import (
    AgencyRef,
    Assignment,
    Deadline,
    DocumentKind,
    Level,
    Notice,
    Role,
    Section,
)
from assistant.text import fold, match_key, search_view

_TRIGGER = re.compile(r"(?<!\w)(giao|yeu cau|de nghi)(?!\w)")
# 'được giao', 'bàn giao', 'theo đề nghị', 'Về đề nghị' are not orders to an agency
_NOT_TRIGGER_BEFORE = re.compile(r"(?:duoc|ban|ve|theo|viec|nhan|chuyen|ket qua|da|nhu)\s+$")
_TRIGGER_WORDS = frozenset({"giao", "yêu cầu", "đề nghị"})
_TRIGGER_FILLER = re.compile(r"\s*(?:cho\s+|(?:cac\s+)?dong chi\s+)?")
# the head of a body stands for the body: 'Bộ trưởng Bộ Xây dựng', 'Thủ trưởng các sở, ngành'
_TITLE = re.compile(
    r"\s*(?:dong chi\s+)?(?:(?:thu truong|bo truong|chu tich|pho chu tich|giam doc|lanh dao|truong|pho truong|nguoi dung dau|"
    r"chanh van phong)(?:\s*,\s*(?:thu truong|pho giam doc|pho chu tich))?)\s+"
)
# 'Kính gửi: - Thủ trưởng các sở, ban, ngành tỉnh; - Chủ tịch UBND các huyện …': the addressees
# of a directive letter are responsible for its tasks that name nobody
_ADDRESSEES = re.compile(r"(?im)^[ \t]*kính\s+gửi\s*:?")
_LIST_GAP = re.compile(r"^[\s,&\-]*(?:(?:va|cung|,)\s*)*$")
_LEAD = re.compile(r"[\s,]*(?:(?:khan truong|tiep tuc|chu dong|can)\s+)*chu tri(?!\w)")
# partners: 'phối hợp (chặt chẽ) với Y', 'chủ trì cùng với Y', 'chủ trì, làm việc với Y'
_COORD = re.compile(
    r"(?<!\w)(?:phoi hop(?:\s+chat che)?(?:\s+voi)?|(?<=chu tri )cung voi|(?<=chu tri, )lam viec voi)\s+"
)
_PAST_OR_OBJECT = re.compile(r"^\s*(?:\(|da\b|duoc\b|la\b|cua\b|ve\b|tai\b|trong\b|va\b|nhu\b)")
# 'Sở X được giao (nhiệm vụ) …', 'Sở X được giao chủ trì …': the passive names the assignee
_PASSIVE = re.compile(r"^\s*duoc\s+giao(?!\w)(?:\s+(?:nhiem vu|trach nhiem))?")
# 'X chỉ đạo các sở …' still gives X the task of directing; only these make X the requester
_REQUESTER_VERB = re.compile(r"^\s*(?:giao|yeu cau|de nghi|ket luan|thong bao)(?!\w)")
_OPENER = re.compile(
    r"\s*(?:sau khi|tren co so|can cu|de |trong |doi voi|ngoai |dong thoi|nhan dip|truoc mat|"
    r"voi |nham |tuy nhien)"
)
# words before a subject that do not change it: 'Tất cả các địa phương …', 'Trong đó huyện X …'
_SUBJECT_LEAD = re.compile(
    r"\s*(?:(?:tat ca|toan bo|trong do|dong thoi|rieng|"
    # enumerations written out: 'Một là, …', 'Thứ hai, …', 'Cuối cùng, …'
    r"(?:mot|hai|ba|bon|nam|sau|bay|tam|chin|muoi) la|thu (?:nhat|hai|ba|tu|nam|sau|bay|tam|chin|muoi)|"
    r"cuoi cung)\s*,?\s+)+"
)
_MODAL = re.compile(r"\s*(?:can|phai|co trach nhiem)(?!\w)")
# an order given inside someone's task ('khẩn trương giao Ban QLDA cấp xã lập hồ sơ') is part
# of that task, not an assignment by the chair
_TASK_VERB = re.compile(
    r"(?<!\w)(?:khan truong|tham muu|de xuat|chu dong|thuc hien|to chuc|bao cao|huong dan|"
    r"kip thoi|trien khai|phoi hop|chu tri|co trach nhiem|xem xet|nghien cuu)(?!\w)"
)
_TOPIC = re.compile(r"\s*ve\s")
_LABEL_PREFIX = re.compile(
    r"\s*(?:(?:giao|yeu cau|de nghi)\s+(?:cho\s+)?)?"
    r"(?:(?:doi voi|(?:nhiem vu|trach nhiem|trach nhiem thuc hien)(?:\s+cua)?)\s+)?"
)
# a heading that names the agency after 'đối với'/'nhiệm vụ của' hands it to its items,
# whatever topic follows ('## Yêu cầu đối với Sở X trong công tác …')
_HEADING_FOR = re.compile(r"\s*(?:(?:yeu cau|nhiem vu)\s+)?(?:doi voi|cua)\s+")
# 'Ủy ban nhân dân các xã, phường có cụm công nghiệp': a qualifier, still a label
# 'Nhà đầu tư của 02 dự án …:', 'UBND các xã có dự án đi qua:': a qualifier, still a label
_LABEL_QUALIFIER = re.compile(
    r"^\s*(?:co|thuoc|noi co|tren dia ban|cua|tai|o|quan ly)\s+[^:;.]{1,160}[:;.]?\s*$"
)
# partners named too vaguely to be recorded (eval/README rule 2), skipped inside a list
_VAGUE = re.compile(
    r"(?:cac\s+)?(?:nganh chuc nang|nganh|chu dau tu(?: ha tang)?|dia phuong|don vi)(?:\s+lien quan)?"
    r"(?!\w)"
)
# 'các huyện Hải Hậu, Giao Thủy', 'các Tập đoàn: Bưu chính …, Công nghiệp …': each one named
_DISTRIBUTIVE = re.compile(
    r"(?P<committee>(?:ubnd|uy ban nhan dan)\s+)?"
    r"cac\s+(?P<head>huyen|xa|phuong|thi xa|quan|tinh|thanh pho|tap doan|tong cong ty|bo|so|ngan hang)"
    # 'các Bộ, cơ quan: Tài chính, …', 'các tỉnh, thành phố: Tuyên Quang, …'
    r"(?:\s*,\s*(?:co quan|nganh|thanh pho|tinh)(?:\s+lien quan)?)?"
    r"\s*:?\s+"
)
_DISTRIBUTIVE_HEAD = re.compile(
    r"cac\s+(?:tap doan|tong cong ty|bo|so|ngan hang|huyen|xa|phuong|thi xa|quan|tinh|thanh pho)"
    r"(?:\s*,\s*(?:co quan|nganh|thanh pho|tinh)(?:\s+lien quan)?)?\s*$"
)
# a body of another kind named inside a list ('các Bộ: Tài chính, …, Tập đoàn Điện lực Việt Nam')
_OTHER_KIND = re.compile(r"(?:tap doan|tong cong ty|cong ty|ngan hang|uy ban|van phong|thanh tra|kiem toan)\s")
_INTRO_VERB = re.compile(
    r"(?<!\w)(?:can|phai|tap trung|tiep tuc|thuc hien|trien khai|no luc|khan truong|chu dong|"
    r"quan tam|co trach nhiem|day manh|tang cuong)(?!\w)"
)
_SECTOR_WORD = re.compile(r"\s*nganh\s+")
_LABEL_REST = re.compile(
    r"^[\s,]*(?:(?:chu tri|thuc hien|tham muu|can|co trach nhiem|thuc hien cac nhiem vu sau|"
    r"cac nhiem vu sau)\s*)*[:;.\s]*$"
)
_EVALUATION = re.compile(
    r"^\s*(?:[ivx]+\.\s*|\d+\.\s*)?(?:nhung\s+|mot so\s+)?"
    r"(?:ket qua dat duoc|ket qua thuc hien|ton tai|kho khan|han che|danh gia)"
)
# A sentence that only announces the list after it, with or without its colon: '… thực hiện
# các nội dung sau', '… một số nhiệm vụ trọng tâm sau đây.', '… cụ thể như sau'. What it asks
# is what the items ask (an intro, eval/README rule 10).
_ANNOUNCES_LIST = re.compile(
    r"(?:(?:noi dung|nhiem vu|viec|cong viec|giai phap|yeu cau|van de|bien phap|diem|y kien)"
    r"(?:\s+(?:trong tam|cu the|chu yeu|cap bach|quan trong|chinh|can thiet|truoc mat|uu tien|then chot)){0,2}"
    r"\s+sau(?:\s+day)?|nhu sau|(?:nhu\s+)?duoi day|sau day)\s*[:.]?\s*$"
)
# A section-opening topic: 'Đối với nhiệm vụ phát triển kinh tế - xã hội.', 'Về công tác cải
# cách hành chính', 'Lĩnh vực đầu tư công.' over items of its own names what they are about and
# asks nothing by itself; an obligation or a verb of doing in it makes it a task
_TOPIC_OPENER = re.compile(r"\s*(?:doi voi|ve|(?:trong|ve)\s+linh vuc|linh vuc)\s")
# verbs of doing a topic heading does not hold ('Đối với các dự án chậm tiến độ, kiên quyết thu
# hồi chủ trương' is a task)
_ACTION_VERB = re.compile(
    r"(?<!\w)(?:kien quyet|ra soat|kiem tra|xu ly|hoan thanh|hoan thien|day nhanh|xay dung|ban hanh|"
    r"trinh|giai quyet|bao dam|dam bao|chi dao|don doc|tuyen truyen|cap nhat|giai ngan|theo doi|"
    r"tong hop|van dong|dieu chinh|bo tri|thu hoi|lap|sap xep|kien toan|phan dau|uu tien|nang cao|"
    r"thanh tra|cung co|tiep nhan|danh gia|khac phuc|tham dinh|phe duyet|ho tro|to chuc)(?!\w)"
)
_CONNECTIVE = re.compile(r"\s*(?:dong thoi|ben canh do|ngoai ra)\s*,")
_FORWARD = re.compile(r"\s*(?:trong\s+)?thoi gian toi\s*,")
_CLOSING = re.compile(
    r"tai thong bao nay|tren day la (?:ket luan|y kien)|tran trong thong bao|thong bao de"
)
_LIST_ITEM = re.compile(r"[ \t]*(?:[-+*•–]\s|\d+(?:\.\d+)*\.\s|[a-zđ]\)\s)")
_RECIPIENTS = re.compile(r"(?m)^[ \t]*Nơi nhận\s*:")
_BULLET_MARKERS = frozenset("-+*•–")
_ROLE_RANK = {Role.LEAD: 3, Role.ASSIGNED: 2, Role.COORDINATE: 1}


@dataclass
class _Context:
    """Agencies a heading or label hands down to the items under it."""

    refs: list[AgencyRef]
    role: Role
    start: int | None  # where the label's first agency mention starts (None: not quoted)
    # from an intro sentence ('tỉnh X cần … sau:'): reaches the task items that follow, not the
    # bullets under a sector heading ('1. Công tác quy hoạch')
    umbrella: bool = False
    # '- Chủ trì, phối hợp với Y, Z trong …:' under a label: Y and Z coordinate every item below
    partners: list[AgencyRef] = field(default_factory=list)


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
    # intros waiting to learn whether the items after them are tasks: (found, start, end, path,
    # number of results when the intro was read)
    _pending: list[tuple[list[_Found], int, int, list[str], int]] = field(default_factory=list)

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
        mark = len(self._pending)
        self._visit(section, path, inherited)
        self.settle(mark)

    def settle(self, mark: int = 0) -> None:
        """An intro ('… các sở cần tập trung thực hiện các nhiệm vụ sau:') is not a task when the
        items after it are tasks; when none of them is (a list of projects, of places), the
        intro itself is the task."""
        while len(self._pending) > mark:
            found, s, e, path, results_then = self._pending.pop()
            if len(self.results) == results_then:
                self._emit(found, s, e, None, path)

    def _visit(self, section: Section, path: list[str], inherited: _Context | None) -> None:
        own_start, own_end = self._own_span(section)
        if own_start >= self.limit:
            return
        own_end = min(own_end, self.limit)
        head_s, head_e = self._heading_span(section, own_start, own_end)
        heading_text = self.text[head_s:head_e].strip()
        label = section.heading if section.heading else None
        if heading_text and _EVALUATION.match(search_view(heading_text)):
            # an evaluation may end by introducing the tasks ('… thành phố X cần … sau đây:')
            intro = self._intro(head_e, own_end) if section.children else None
            eval_path = path + ([f"{section.marker} {label}".strip()] if label else [])
            # '(Trong) thời gian tới, tỉnh … cần …': the evaluation turns to what comes next
            for line in re.finditer(r"[^\n]+", self.text[head_e:own_end]):
                at = head_e + line.start()
                if _FORWARD.match(self.view, at):
                    self._paragraphs(at, head_e + line.end(), None, eval_path)
            if intro is not None:
                for child in section.children:
                    self.visit(child, eval_path, intro)
            return
        context = inherited
        is_heading = (
            section.number is not None
            or section.marker.startswith("#")
            or self._topic_bullet(section, own_start, own_end)
        )
        has_body = bool(self.text[head_e:own_end].strip())
        label_ctx = (
            self._label_context(head_s, head_e, heading=is_heading and (has_body or bool(section.children)))
            if head_e > head_s
            else None
        )
        # a heading that is itself the task ('2. Về đề nghị …: Bộ Nội vụ …') is not a path step
        in_path = label is not None and (bool(section.children) or label_ctx is not None)
        new_path = path + ([f"{section.marker} {label}".strip()] if in_path else [])
        sector = False
        if label_ctx is not None:
            context = label_ctx
            body_s = head_e
        elif (
            is_heading
            and head_e > head_s
            and (has_body or section.children)
            and not _is_sentence(heading_text)
            and not self._explicit(head_s, head_e)
        ):
            body_s = head_e  # a sector heading ('7. Tài nguyên môi trường') is not a task
            sector = True
        else:
            body_s = own_start
        if sector and context is not None and context.umbrella:
            context = None
        is_bullet = (section.number is None and section.marker[:1] in _BULLET_MARKERS) or (
            # '1. Rà soát …. Xây dựng kịch bản …' under 'tỉnh X cần … sau:' is one task item
            body_s == own_start and context is not None and context.umbrella and is_heading
        )
        has_children = bool(section.children)
        own_text = self.text[own_start:own_end].rstrip()
        ends_with_colon = own_text.endswith(":") or (
            has_children and self._announces_list(own_start, own_start + len(own_text)))
        # '* Đối với nhiệm vụ phát triển kinh tế - xã hội.' heading its items: not a task
        topic_head = has_children and label_ctx is None and self._opens_topic(body_s, own_end)

        if body_s < own_end and not topic_head:
            if has_children and ends_with_colon and label_ctx is None and is_bullet:
                # '- Sở Y tế chủ trì thực hiện các nội dung sau:' introduces the children
                intro = self._intro(body_s, own_end, umbrella=False)
                if intro is not None:
                    context = intro
                elif context is not None:
                    # a subjectless intro under a label keeps the label's agencies, and may make
                    # them lead and name partners for the items below
                    lead = context.role is Role.ASSIGNED and bool(_LEAD.match(self.view, body_s))
                    partners = [f.ref for f in self._coordinators(body_s, own_end)]
                    context = _Context(
                        context.refs, Role.LEAD if lead else context.role, context.start,
                        umbrella=context.umbrella, partners=context.partners + partners,
                    )
            elif is_bullet and label_ctx is None:
                self._bullet(body_s, own_end, context, new_path)
            else:
                intro = self._paragraphs(body_s, own_end, context, new_path, followed=has_children)
                if intro is not None and has_children:
                    context = intro

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
        if section.number is not None or self._topic_bullet(section, own_start, own_end):
            newline = self.text.find("\n", own_start, own_end)
            return own_start, newline if newline != -1 else own_end
        # a bullet: the whole item, which is a label when it is only agencies and a colon
        return own_start, own_end

    def _topic_bullet(self, section: Section, own_start: int, own_end: int) -> bool:
        """'* Đối với công tác phòng, chống dịch' on its own line, the text below it: a heading
        written with a bullet marker."""
        if section.number is not None or section.marker[:1] not in _BULLET_MARKERS:
            return False
        newline = self.text.find("\n", own_start, own_end)
        if newline == -1 or not self.text[newline:own_end].strip():
            return False
        first = self.view[own_start:newline].strip()
        return bool(re.match(r"(?:doi voi|ve)\s", first)) and not first.endswith((".", ";", ":"))

    # -- labels -------------------------------------------------------------------------

    def _label_context(self, start: int, end: int, heading: bool = False) -> _Context | None:
        """'2.3. Phòng TNMT, HĐGPMB', '- Giao phòng Tài chính Kế hoạch chủ trì:', 'Văn phòng',
        '- Giáo dục và Đào tạo:' (a colon label without its head word), and in a heading
        '## Yêu cầu đối với Sở X trong công tác …'."""
        while start < end and self.text[start].isspace():
            start += 1
        while end > start and self.text[end - 1].isspace():
            end -= 1
        if start >= end:
            return None
        prefix = _LABEL_PREFIX.match(self.view, start, end)
        pos = prefix.end() if prefix else start
        names_for = heading and bool(re.search(r"doi voi|nhiem vu|trach nhiem", self.view[start:pos]))
        title = _TITLE.match(self.view, pos, end)
        if title:
            pos = title.end()
        refs, after = self._agency_list(pos, end, lenient=pos > start, groups=True)
        if refs:
            rest = self.view[after:end]
            if _LABEL_REST.match(rest) or names_for or (heading and _LABEL_QUALIFIER.match(rest)):
                role = Role.LEAD if re.search(r"chu tri", rest) else Role.ASSIGNED
                return _Context(refs, role, refs[0].start)
            return None
        label = self.text[pos:end].rstrip(" :;.")
        if not label or len(label.split()) > 8:
            return None
        agency = self.gazetteer.lookup(label, self.level, self.on)
        if agency is None and self.text[start:end].endswith(":"):
            agency = self._sector_agency(label)
        if agency is None:
            return None
        ref = AgencyRef(
            text=label, canonical=agency.name, level=agency.level, is_group=agency.is_group,
            start=pos, end=pos + len(label),
        )
        return _Context([ref], Role.ASSIGNED, pos)

    def _sector_agency(self, name: str) -> Agency | None:
        """'Giáo dục và Đào tạo' as a colon label, 'Ngành Lao động …' as a subject: the
        department of that sector at the issuer's level (Sở in a province, Phòng in a district)."""
        heads = _SECTOR_HEADS.get(self.level, ())
        for head in heads:
            agency = self.gazetteer.lookup(f"{head} {name}", self.level, self.on)
            if agency is not None and not agency.is_group:
                return agency
        return None

    def _agency_list(
        self, pos: int, end: int, lenient: bool, groups: bool = False
    ) -> tuple[list[AgencyRef], int]:
        """Mentions one after another from ``pos``, joined by commas, 'và', '-', '&' (and ';'
        between groups with ``groups``: a heading 'Các sở, ban, ngành; UBND các xã, phường')."""
        refs: list[AgencyRef] = []
        cursor = pos
        last_end = pos
        while cursor < end:
            found = self._mentions_at(cursor, end, lenient=lenient and not refs, in_list=cursor > pos)
            if found is None and refs:
                title = _TITLE.match(self.view, cursor, end)
                if title:
                    found = self._mentions_at(title.end(), end, lenient=False)
            if found is None:
                break
            more, cursor = found
            if not more and not refs and cursor > pos and self.view[pos:cursor].strip() == "":
                break
            if more:
                refs.extend(more)
                last_end = cursor
            gap = re.match(
                r"[\s,;&\-]*(?:(?:va|cung)\s+)?[\s,]*" if groups else r"[\s,&\-]*(?:(?:va|cung)\s+)?[\s,]*",
                self.view[cursor:end],
            )
            if gap is None or gap.end() == 0:
                break
            nxt = cursor + gap.end()
            if not _LIST_GAP.match(self.view[cursor:nxt].replace(";", ",")):
                break
            cursor = nxt
        if not refs:
            return [], pos
        return refs, last_end

    def _mentions_at(
        self, pos: int, end: int, lenient: bool, in_list: bool = False
    ) -> tuple[list[AgencyRef], int] | None:
        """The agencies named at ``pos`` and where the mention ends; an empty list for a partner
        too vague to record ('các ngành'), None when nothing names an agency there."""
        while pos < end and self.text[pos] in " \t":
            pos += 1
        dist = self._distributive(pos, end)
        if dist is not None:
            return dist
        ref = self.gazetteer.match_at(self.text, pos, end, level=self.level, on=self.on, lenient=lenient)
        if ref is not None:
            return [ref], ref.end
        if self.view.startswith("cac ", pos):
            # 'các Ban Quản lý dự án': the units of one kind
            inner = self.gazetteer.match_at(self.text, pos + 4, end, level=self.level, on=self.on)
            if inner is not None and inner.canonical and not inner.is_group:
                return [inner.model_copy(update={"text": self.text[pos : inner.end], "start": pos})], inner.end
        place = self._place_at(pos, end)
        if place is not None:
            return [place], place.end
        sector = _SECTOR_WORD.match(self.view, pos, end)
        if sector is not None:
            named = self._sector_at(pos, sector.end(), end)
            if named is not None:
                return [named], named.end
        bare = re.match(r"dia phuong(?!\w)(?!\s+lien quan)", self.view[pos:end]) if in_list else None
        if bare is not None:
            # 'các sở, ban, ngành, địa phương': the localities under the issuer
            local = self.gazetteer.subordinate(self.level, self.on) or self.gazetteer.get("nhom-ubnd-xa")
            if local is not None:
                stop = pos + bare.end()
                return [AgencyRef(text=self.text[pos:stop], canonical=local.name, level=local.level,
                                  is_group=local.is_group, start=pos, end=stop)], stop
        vague = _VAGUE.match(self.view, pos, end)
        if vague is not None and (in_list or self.view.startswith("cac ", pos)):
            # 'các chủ đầu tư hạ tầng cụm công nghiệp, UBND các xã …': skip up to the next item
            tail = re.match(r"[^,;:.()]{0,40}?(?=,|\s+va\s|$)", self.view[vague.end() : end])
            return [], vague.end() + (tail.end() if tail else 0)
        return None

    def _place_at(self, pos: int, end: int) -> AgencyRef | None:
        """A locality named as a body: 'huyện Nghĩa Hưng', 'xã Quỳnh Liên', and in a central
        notice the province it addresses ('tỉnh Đắk Lắk', 'Thành phố', 'Tỉnh')."""
        m = _PLACE_HEAD.match(self.view, pos, end)
        if m is None or fold(self.text[pos : m.end()]).strip() not in _PLACE_WORDS:
            return None
        head = self.view[pos : m.end()].strip()
        name_end = _capitalized_run(self.text, m.end(), end)
        central = self.level is Level.CENTRAL and head in ("tinh", "thanh pho", "tp")
        if name_end == m.end():
            # a bare 'Tỉnh'/'Thành phố' written with a capital is the addressed locality
            if not (central and self.text[pos].isupper()) or self.view[max(0, pos - 4) : pos] == "voi ":
                return None
            name_end = pos + len(self.text[pos : m.end()].rstrip())
        elif head == "tinh" and not central:
            return None
        written = self.text[pos:name_end]
        if central:
            province = self.gazetteer.get("ubnd-tinh")
            if province is None:
                return None
            return AgencyRef(
                text=written, canonical=province.name, level=province.level, start=pos, end=name_end
            )
        return AgencyRef(text=written, start=pos, end=name_end)

    def _sector_at(self, pos: int, name_start: int, end: int) -> AgencyRef | None:
        words = list(re.finditer(r"\w+", self.text[name_start:end]))
        for n in range(min(8, len(words)), 0, -1):
            name_end = name_start + words[n - 1].end()
            if re.search(r"[,:;.]", self.text[name_start:name_end]):
                continue
            agency = self._sector_agency(self.text[name_start:name_end])
            if agency is not None:
                return AgencyRef(
                    text=self.text[pos:name_end], canonical=agency.name, level=agency.level,
                    start=pos, end=name_end,
                )
        return None

    def _distributive(self, pos: int, end: int) -> tuple[list[AgencyRef], int] | None:
        """'các huyện Hải Hậu, Giao Thủy …' -> 'huyện Hải Hậu', 'Giao Thủy' …: one mention per
        name, as written (the first one takes the shared head word it follows; the others
        cannot, since a mention is always ``text[start:end]``). A name the gazetteer knows with
        the head word ('các Bộ: Tài chính, Xây dựng') gets its canonical name."""
        m = _DISTRIBUTIVE.match(self.view, pos, end)
        if m is None:
            return None
        head = self.text[m.start("head") : m.end("head")]
        # 'UBND các xã: Tân Phú, Hòa Bình': each is that commune's People's Committee
        committee = (
            self.gazetteer.lookup(f"UBND {head}", self.level, self.on) if m.group("committee") else None
        )
        if committee is None and self.level is Level.CENTRAL and fold(head) in ("tỉnh", "thành phố"):
            # a central notice addresses each province by its name (eval/README rule 5)
            committee = self.gazetteer.get("ubnd-tinh")
        refs: list[AgencyRef] = []
        cursor = m.end()
        last = cursor
        while cursor < end:
            name_end = _proper_name(self.text, self.view, cursor, end)
            if name_end == cursor:
                break
            # 'Văn hóa, Thể thao và Du lịch', 'Ngoại giao' are one ministry each: the longest run
            # of words that the gazetteer knows with the head word wins
            longer = self._known_run(head, cursor, end) if committee is None else None
            if longer is not None:
                name_end = longer
            name = self.text[cursor:name_end]
            # 'Tập đoàn Điện lực Việt Nam' named in a list of ministries is its own body
            own = (
                self.gazetteer.match_at(self.text, cursor, name_end, level=self.level, on=self.on)
                if _OTHER_KIND.match(self.view, cursor) and not self.view.startswith(fold(head), cursor)
                else None
            )
            if own is not None and own.end == name_end and committee is None:
                refs.append(own)
                last = name_end
                sep = re.match(r"\s*(?:,|va(?!\w))\s*", self.view[name_end:end])
                if sep is None:
                    break
                cursor = name_end + sep.end()
                continue
            agency = committee or self.gazetteer.lookup(f"{head} {name}", self.level, self.on)
            at = (m.start() if committee is not None else m.start("head")) if not refs else cursor
            refs.append(
                AgencyRef(
                    text=self.text[at:name_end],
                    canonical=agency.name if agency is not None else None,
                    level=agency.level if agency is not None else Level.UNKNOWN,
                    place=name if head.lower() in _PLACE_WORDS else None,
                    start=at,
                    end=name_end,
                )
            )
            last = name_end
            sep = re.match(r"\s*(?:,|va(?!\w))\s*", self.view[name_end:end])
            if sep is None:
                break
            cursor = name_end + sep.end()
        if not refs:
            return None
        return refs, last

    def _known_run(self, head: str, start: int, end: int) -> int | None:
        """End of the longest run of words from ``start`` (across ',' and 'và', at most 10
        words) that the gazetteer knows with ``head``; None if no run is known."""
        best = None
        for m in re.finditer(r"\w+", self.text[start : min(end, start + 120)]):
            stop = start + m.end()
            if m.start() and re.search(r"[;:.()\n]", self.text[start : start + m.start()]):
                break
            if len(self.text[start:stop].split()) > 10:
                break
            if self.gazetteer.lookup(f"{head} {self.text[start:stop]}", self.level, self.on):
                best = stop
        return best

    # -- explicit assignees in a passage ------------------------------------------------

    def _explicit(self, start: int, end: int) -> list[_Found]:
        """Agencies a passage itself makes responsible: subjects of its clauses, the objects of
        'Giao/Yêu cầu/Đề nghị', and the partners after 'phối hợp với' when it has a principal
        (in its own clause or an earlier one: '… X cần rà soát …; phối hợp với Bộ Y …')."""
        found: list[_Found] = []
        had_principal = False
        for cs, ce in self._clauses(start, end):
            if _TOPIC.match(self.view, cs):
                # 'Về đề nghị Bộ Nội vụ tham mưu …' is the topic, not an order; 'Về dự thảo Kế
                # hoạch …, giao Trung tâm X:' orders after the topic
                comma = self.view.find(", ", cs, ce)
                if comma == -1 or not _TRIGGER.search(self.view, comma, ce):
                    continue
                cs = comma + 1
            principal = self._subject(cs, ce, colon=ce < end and self.text[ce] == ":")
            if not principal and _OPENER.match(self.view, cs):
                # 'Để …, giải ngân …, tỉnh X cần …': the subject follows one of the commas
                comma = self.view.find(", ", cs, ce)
                while comma != -1 and not principal:
                    principal = self._subject(comma + 1, ce)
                    comma = self.view.find(", ", comma + 2, ce)
            for trig in _TRIGGER.finditer(self.view, cs, ce):
                # the accent-free view confuses 'giao' with 'giáo' (giáo viên)
                if fold(self.text[trig.start() : trig.end()]) not in _TRIGGER_WORDS:
                    continue
                if _NOT_TRIGGER_BEFORE.search(self.view[max(cs, trig.start() - 12) : trig.start()]):
                    continue
                before = self.view[cs : trig.start()]
                if _TASK_VERB.search(before[before.rfind(",") + 1 :]):
                    continue  # 'khẩn trương giao Ban QLDA cấp xã lập hồ sơ' is part of a task
                filler = _TRIGGER_FILLER.match(self.view, trig.end(), ce)
                pos = filler.end() if filler else trig.end()
                title = _TITLE.match(self.view, pos, ce)
                if title:
                    pos = title.end()
                refs, after = self._agency_list(pos, ce, lenient=True)
                # 'đề nghị, đến nay …, các phòng …', 'tôi đề nghị ngay sau cuộc họp này, các sở …'
                comma = self.view.find(", ", pos, min(ce, pos + 80))
                while not refs and comma != -1:
                    # 'đề nghị, đến nay …, các phòng, ban … tham mưu …': after an aside
                    refs, after = self._agency_list(comma + 2, ce, lenient=False)
                    if refs and (_PAST_OR_OBJECT.match(self.view, after) or not self.view[after:ce].strip()):
                        refs = []
                    comma = self.view.find(", ", comma + 2, ce)
                if refs:
                    role = Role.LEAD if _LEAD.match(self.view, after, ce) else Role.ASSIGNED
                    asks = fold(self.text[trig.start() : trig.end()]) == "đề nghị"
                    principal.extend(
                        _Found(r, Role.REQUEST if asks and self._outside(r) else role) for r in refs
                    )
            found.extend(principal)
            had_principal = had_principal or bool(principal)
            if had_principal:
                found.extend(self._coordinators(cs, ce))
        return found

    def addressees(self) -> tuple[_Context, int] | None:
        """The bodies a directive letter is addressed to ('Kính gửi: …') and where the list
        ends; they hand its subjectless tasks down (not an umbrella: sector headings keep them)."""
        m = _ADDRESSEES.search(self.text, 0, min(self.limit, 3000))
        if m is None:
            return None
        refs: list[AgencyRef] = []
        pos = m.end()
        end = pos
        for line in re.finditer(r"[^\n]*", self.text[pos : pos + 600]):
            s, e = pos + line.start(), pos + line.end()
            if not self.text[s:e].strip():
                continue
            if refs and not re.match(r"\s*[-+•–]", self.text[s:e]):
                break
            body = s + len(self.text[s:e]) - len(self.text[s:e].lstrip(" \t-+•–"))
            title = _TITLE.match(self.view, body, e)
            found, _ = self._agency_list(title.end() if title else body, e, lenient=True)
            if not found:
                break
            refs.extend(found)
            end = e
        if not refs:
            return None
        return _Context(refs, Role.ASSIGNED, None, umbrella=False), end

    def _inherited_role(self, context: _Context, task_start: int) -> Role:
        """'Giao Sở X:' then '- Chủ trì, phối hợp với …': the item makes X the lead."""
        if context.role is Role.ASSIGNED and _LEAD.match(self.view, task_start):
            return Role.LEAD
        return context.role

    def _outside(self, ref: AgencyRef) -> bool:
        """A body outside the issuer's line of command: of a higher level (a ministry asked by a
        province), a company or investor, a Party, Front or elected body (HĐND, Quốc hội)."""
        if (
            self.level is not None
            and ref.level is not Level.UNKNOWN
            and _LEVEL_RANK.get(ref.level, 0) > _LEVEL_RANK.get(self.level, 0)
        ):
            return True
        written = search_view(ref.text if ref.canonical is None else f"{ref.text} {ref.canonical}")
        return bool(_OUTSIDE_BODY.search(written))

    def _subject(self, start: int, end: int, colon: bool = False) -> list[_Found]:
        pos = start
        while pos < end and (self.text[pos].isspace() or self.text[pos] in "-+*•–"):
            pos += 1
        lead = _SUBJECT_LEAD.match(self.view, pos, end)
        if lead:
            pos = lead.end()
        if colon and self.view.startswith("doi voi ", pos):
            pos += len("doi voi ")  # 'Đối với Nhà đầu tư dự án X: khẩn trương …'
        title = _TITLE.match(self.view, pos, end)
        if title:
            pos = title.end()
        refs, after = self._agency_list(pos, end, lenient=False)
        if not refs:
            if colon:
                # '- Giáo dục và Đào tạo: Triển khai …' in a province's notice is the Sở
                label = self.text[pos:end].strip(" :")
                agency = self._sector_agency(label) if 0 < len(label.split()) <= 8 else None
                if agency is not None:
                    at = pos + self.text[pos:end].find(label)
                    ref = AgencyRef(
                        text=label, canonical=agency.name, level=agency.level,
                        is_group=agency.is_group, start=at, end=at + len(label),
                    )
                    return [_Found(ref, Role.ASSIGNED)]
            return []
        rest = self.view[after:end]
        if not rest.strip(" :;,.\n"):
            # 'Phòng Văn hóa – Thông tin, Đài Truyền thanh thị xã: Tập trung …'
            return [_Found(r, Role.ASSIGNED) for r in refs] if colon else []
        passive = _PASSIVE.match(rest)
        if passive is not None:
            role = Role.LEAD if _LEAD.match(rest, passive.end()) else Role.ASSIGNED
            return [_Found(r, role) for r in refs]
        if _PAST_OR_OBJECT.match(rest) or _REQUESTER_VERB.match(rest):
            return []
        role = Role.LEAD if _LEAD.match(rest) else Role.ASSIGNED
        return [_Found(r, role) for r in refs]

    def _modal_subject(self, start: int, end: int) -> list[_Found]:
        """'Ngoài …, trong tháng 01/2024 các phòng cần tập trung …:' — an agency list anywhere in
        an intro sentence, followed by 'cần'/'phải'."""
        for m in re.finditer(r"(?<![\w])\w", self.view[start:end]):
            pos = start + m.start()
            if pos > start and self.text[pos - 1] not in " \t":
                continue
            refs, after = self._agency_list(pos, end, lenient=False)
            if refs and _MODAL.match(self.view, after, end):
                return [_Found(r, Role.ASSIGNED) for r in refs]
        return []

    def _clauses(self, start: int, end: int) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        cs = start
        for i in range(start, end):
            if self.text[i] in ":;…" and not _DISTRIBUTIVE_HEAD.search(self.view, max(start, i - 30), i):
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
            self._emit(first + self._coordinators(c0, task_e), task_s, task_e, None, path)
        elif context is not None:
            coords = self._coordinators(task_s, task_e)
            self._emit([_Found(r, self._inherited_role(context, task_s)) for r in context.refs]
                       + [_Found(r, Role.COORDINATE) for r in context.partners] + coords,
                       task_s, task_e, context.start, path)
        else:
            # 'Rà soát kế hoạch vốn, phối hợp với phòng Tài chính – Kế hoạch …': the lead is
            # unnamed, the named partner still coordinates
            coords = self._coordinators(s0, e0)
            if coords:
                self._emit(coords, task_s, task_e, None, path)
        rest_first = self._explicit(c0, e0) if c0 < e0 else []
        if rest_first:
            self._emit(rest_first, task_s, task_e, None, path)
        for s, e in sentences[1:]:
            others = self._explicit(s, e)
            if others:
                self._emit(others, s, e, None, path)

    def _paragraphs(
        self, start: int, end: int, context: _Context | None, path: list[str], followed: bool = False
    ) -> _Context | None:
        """Body text: each sentence is a task; one without its own subject continues the
        subject of the sentence before it in the paragraph, else the heading's agencies.
        Returns the context an intro ending the body hands to the items after it (``followed``:
        there are items after it)."""
        carry: list[_Found] = []
        carry_start: int | None = None
        prev_end = start
        sentences = self._sentences(start, end)
        intro: _Context | None = None
        for index, (s, e) in enumerate(sentences):
            if "\n" in self.text[prev_end:s] and not _CONNECTIVE.match(self.view, s):
                # 'Đồng thời, chủ trì …' opening the next paragraph continues its subject
                carry, carry_start = [], None
            prev_end = e
            if self._is_closing(s, e):
                continue
            if self.text[s:e].rstrip().endswith(":") or (
                self._announces_list(s, e) and (index < len(sentences) - 1 or followed)
            ):
                found = self._intro_at(s, e, umbrella=True, path=path)
                if index == len(sentences) - 1:
                    intro = found
                continue
            explicit = self._explicit(s, e)
            if explicit:
                self._emit(explicit, s, e, None, path)
                carry = [f for f in explicit if f.role is not Role.COORDINATE]
                carry_start = min(f.ref.start for f in carry) if carry else None
            elif carry and carry_start is not None:
                self._emit(carry + self._coordinators(s, e), s, e, carry_start, path)
            elif context is not None:
                coords = self._coordinators(s, e)
                self._emit([_Found(r, self._inherited_role(context, s)) for r in context.refs]
                           + [_Found(r, Role.COORDINATE) for r in context.partners] + coords,
                           s, e, context.start, path)
        return intro

    def _announces_list(self, start: int, end: int) -> bool:
        """Whether ``text[start:end]`` ends by announcing the list that follows ('… các nội
        dung sau', '… như sau.')."""
        return bool(_ANNOUNCES_LIST.search(self.view[start:end].rstrip()))

    def _opens_topic(self, start: int, end: int) -> bool:
        """Whether ``text[start:end]`` is one sentence naming a topic ('Đối với nhiệm vụ phát
        triển kinh tế - xã hội.', 'Về công tác quy hoạch'), with no agency, no order and no verb
        of doing: the heading of the items under it, written as a bullet or a sentence."""
        sentences = self._sentences(start, end)
        if len(sentences) != 1:
            return False
        s, e = sentences[0]
        if not _TOPIC_OPENER.match(self.view, s, e):
            return False
        view = self.view[s:e]
        return not (
            _TRIGGER.search(view) or _TASK_VERB.search(view) or _INTRO_VERB.search(view)
            or _MODAL.search(view) or _ACTION_VERB.search(view) or self._explicit(s, e)
        )

    def _intro(self, start: int, end: int, umbrella: bool = True) -> _Context | None:
        sentences = self._sentences(start, end)
        if not sentences:
            return None
        s, e = sentences[-1]
        if not (self.text[s:e].rstrip().endswith(":") or self._announces_list(s, e)) or self._is_closing(s, e):
            return None
        return self._intro_at(s, e, umbrella=umbrella, path=[])

    def _intro_at(self, s: int, e: int, umbrella: bool, path: list[str]) -> _Context | None:
        """'… tỉnh X cần tiếp tục …, tập trung một số nội dung sau:' is the subject's own task
        (recorded once) and the context of the items that follow."""
        found = self._explicit(s, e) or self._modal_subject(s, e)
        main = [f for f in found if f.role is not Role.COORDINATE]
        if not main:
            return None
        after = max(f.ref.end for f in main)
        if _INTRO_VERB.search(self.view, after, e):
            # a request with content, not a bare label ('- BQLDA đầu tư xây dựng thành phố:'):
            # a task only if the items it introduces are not tasks themselves
            self._pending.append((found, s, e, list(path), len(self.results)))
        start = None if umbrella else main[0].ref.start
        return _Context([f.ref for f in main], main[0].role, start, umbrella=umbrella)

    def news(self) -> None:
        """A news article reports a meeting: only the chair's explicit requests ('… đề nghị
        phòng Kinh tế cần tập trung …') are assignments, sentence by sentence."""
        body = self.text.find("\n") + 1
        for s, e in self._sentences(body, self.limit):
            if not _TRIGGER.search(self.view, s, e):
                continue
            found = self._explicit(s, e)
            if found:
                self._emit(found, s, e, None, [])

    def _coordinators(self, start: int, end: int) -> list[_Found]:
        out: list[_Found] = []
        for coord in _COORD.finditer(self.view, start, end):
            refs, _ = self._agency_list(coord.end(), end, lenient=True)
            # 'phối hợp với … và các đơn vị liên quan': a partner nobody can look up
            # ('… và địa phương': the localities in general, no one in particular)
            out.extend(
                _Found(r, Role.COORDINATE)
                for r in refs
                if r.canonical != _UNNAMED_PARTNERS and fold(r.text) != "địa phương"
            )
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
        if start >= self.limit:
            return True
        # The closing formula is a plain paragraph; a list item that mentions "tại Thông báo
        # này" ("- Theo dõi, đôn đốc … các nhiệm vụ tại Thông báo này") is a task.
        line_start = self.view.rfind("\n", 0, start) + 1
        if _LIST_ITEM.match(self.view, line_start):
            return False
        return bool(_CLOSING.search(self.view, start, end))

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
        for item in found:
            if span_from is None:
                # the agency is named in the task itself, or the task hangs under an intro that
                # is quoted on its own: the quote is the task
                start, end = task_s, task_e
            else:
                start = min(task_s, item.ref.start, span_from)
                end = max(task_e, item.ref.end)
            # the deadline of the task itself wins over one in a request it answers
            # ('Về … không giải ngân trong năm 2025: UBND tỉnh … trong Quý I năm 2026')
            inside = task_s <= item.ref.start < task_e
            deadline = self._deadline(item.ref.start if inside else task_s, task_e) or (
                self._deadline(task_s, task_e) if inside else None
            )
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
            return f"{ref.canonical}|{ref.level.value}|{match_key(ref.place or '')}"
        return match_key(ref.text)

    def _deadline(self, start: int, end: int) -> Deadline | None:
        deadlines = find_deadlines(self.text, start, end, reference=self.on)
        dated = [d for d in deadlines if d.date is not None]
        if dated:
            return dated[0]
        return deadlines[0] if deadlines else None


_UNNAMED_PARTNERS = "các cơ quan, đơn vị liên quan"
_LEVEL_RANK = {Level.COMMUNE: 1, Level.DISTRICT: 2, Level.PROVINCE: 3, Level.CENTRAL: 4}
# Bodies a People's Committee asks rather than orders: enterprises and investors, Party, Front
# and mass organisations, elected bodies and their committees.
_OUTSIDE_BODY = re.compile(
    r"(?<!\w)(?:cong ty|tong cong ty|tap doan|ngan hang|nha dau tu|chu dau tu|doanh nghiep|"
    r"dang uy|dang bo|tinh uy|thanh uy|huyen uy|mat tran|lien doan|hiep hoi|hoi dong nhan dan|hdnd|"
    r"quoc hoi|toa an|vien kiem sat|doan dai bieu)(?!\w)"
)
_SECTOR_HEADS: dict[Level | None, tuple[str, ...]] = {
    Level.CENTRAL: ("Bộ",),
    Level.PROVINCE: ("Sở",),
    Level.DISTRICT: ("Phòng",),
    Level.COMMUNE: ("Phòng",),
}
_PLACE_HEAD = re.compile(r"(?:thi xa|thi tran|thanh pho|huyen|xa|phuong|quan|tinh|tp)(?!\w)\.?[ \t]*")
_PLACE_WORDS = frozenset(
    {"thị xã", "thị trấn", "thành phố", "huyện", "xã", "phường", "quận", "tỉnh", "tp", "tp."}
)
_NAME_STOP = re.compile(r"(?:,|;|:|\.|\(|\n)")


def _capitalized_run(text: str, pos: int, end: int, limit: int = 4) -> int:
    """End of the capitalized words starting at ``pos`` ('Đắk Lắk', 'Quỳnh Liên')."""
    out = pos
    for words, m in enumerate(re.finditer(r"[ \t]*(\w+)", text[pos:end])):
        if m.start() != out - pos or not m.group(1)[0].isupper() or words >= limit:
            break
        out = pos + m.end()
    return out


def _is_sentence(heading: str) -> bool:
    """A numbered 'heading' that is a whole sentence ('1. Rà soát các chỉ tiêu …, phấn đấu
    hoàn thành ….') is a task, not a sector title."""
    words = len(heading.split())
    return words > 20 or (heading.rstrip().endswith((".", ";")) and words > 6)


def _proper_name(text: str, view: str, pos: int, end: int) -> int:
    """End of a proper name at ``pos`` ('Bưu chính Viễn thông Việt Nam', 'Công nghiệp - Viễn
    thông Quân đội'): from a capitalized word up to a separator or the verb that follows."""
    out = pos
    cursor = pos
    words = list(re.finditer(r"[ \t]*(?:[-–][ \t]*)?(\w+)", text[pos:end]))
    for i, m in enumerate(words):
        if pos + m.start() != cursor or len(range(i)) >= 10:
            break
        w_s, w_e = pos + m.start(1), pos + m.end(1)
        word = text[w_s:w_e]
        if i == 0 and not word[0].isupper():
            break
        if not word[0].isupper():
            key = view[w_s:w_e]
            nxt = view[pos + words[i + 1].start(1) : pos + words[i + 1].end(1)] if i + 1 < len(words) else ""
            if key in _STOP_WORDS or key == "va" or f"{key} {nxt}" in _STOP_BIGRAMS or _TASK_VERB.match(view, w_s):
                break
        out = w_e
        cursor = w_e
        if _NAME_STOP.match(text, cursor):
            break
    return out


def extract_assignments(notice: Notice, gazetteer: Gazetteer) -> list[Assignment]:
    """Every (agency, task) the notice assigns, in document order."""
    extractor = _Extractor(notice, gazetteer)
    opening: _Context | None = None
    if notice.sections:
        # the opening may end with the request the whole body answers ('… yêu cầu các cơ quan,
        # UBND các xã, phường cần tập trung thực hiện một số nhiệm vụ sau:'): recorded once
        first = min(section.start for section in notice.sections)
        line_start = notice.text.rfind("\n", 0, max(0, first - 1)) + 1
        opening = extractor._intro(line_start, first)
    elif notice.kind is DocumentKind.NEWS_ARTICLE:
        extractor.news()
    if notice.kind is DocumentKind.ROUTING_SLIP:
        return []  # a slip proposes who signs; it assigns nothing
    addressees = extractor.addressees() if notice.kind is DocumentKind.DIRECTIVE else None
    for index, section in enumerate(notice.sections):
        if addressees is not None and section.start < addressees[1]:
            continue  # the addressee list itself
        # '… Giao Trung tâm X:' ending the opening, then '-' items before any numbered part
        leading = opening is not None and all(
            s.number is None and s.marker[:1] in _BULLET_MARKERS
            for s in notice.sections[: index + 1]
            if addressees is None or s.start >= addressees[1]
        )
        inherited = opening if leading else None
        if addressees is not None and inherited is None:
            inherited = addressees[0]
        extractor.visit(section, [], inherited)
    extractor.settle()
    return sorted(extractor.results, key=lambda a: (a.start, a.end, a.agency.start))

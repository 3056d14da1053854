"""Report where a Word file departs from Nghị định 30/2020/NĐ-CP, Phụ lục I.

Formatting is resolved the way Word resolves it: run properties, then the run's character
style, then the paragraph style chain, then the document defaults; a theme font
(``asciiTheme="majorHAnsi"``) wins over an explicit name at the same level and is looked up in
the theme part. Header and signature blocks are usually two-column tables, so the walk goes
into tables (and content controls) in document order.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import docx
from docx.document import Document as DocxDocument
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from lxml import etree
from pydantic import BaseModel, Field

from assistant.errors import LoadError
from assistant.settings import LoadSettings
from assistant.text import collapse_spaces, nfc, search_view

Severity = Literal["error", "warning"]

FONT = "Times New Roman"
A4_MM = (210.0, 297.0)
PAGE_TOLERANCE_MM = 1.0
MARGIN_TOLERANCE_MM = 0.5
# NĐ 30/2020 Phụ lục I, mục II: (low, high) in mm.
MARGINS_MM: dict[str, tuple[float, float]] = {
    "top": (20, 25),
    "bottom": (20, 25),
    "left": (30, 35),
    "right": (15, 20),
}
MARGIN_NAMES = {"top": "trên", "bottom": "dưới", "left": "trái", "right": "phải"}
BODY_PT = (13.0, 14.0)
QUOC_HIEU_PT = (12.0, 13.0)
TIEU_NGU_PT = (13.0, 14.0)
DOC_TYPE_PT = (13.0, 14.0)
NOI_NHAN_PT = 12.0
RECIPIENT_PT = 11.0
INDENT_CM = (1.0, 1.27)
INDENT_TOLERANCE_CM = 0.02
PARAGRAPH_GAP_PT = 6.0  # at least this between paragraphs
LINE_MULTIPLE = (1.0, 1.5)  # single to 1.5 lines
LINE_EXACT_MIN_PT = 15.0  # or an exact spacing of at least 15 pt
MAX_LOCATIONS = 3  # offending places listed in one finding; the count says the rest

_QUOC_HIEU_KEY = "cong hoa xa hoi chu nghia viet nam"
# Document types besides THÔNG BÁO that are checked the same way (accent-free keys).
OTHER_DOC_TYPES = frozenset({"bao cao"})
_TIEU_NGU_KEY = "doc lap - tu do - hanh phuc"
_SEPARATOR = re.compile(r"^[\s_\-–—=.*]+$")
_PAGE_FIELD = re.compile(r"^\s*PAGE(?:\s|\\|$)")
_EMU_PER_CM = 360000
_TWIPS_PER_MM = 1440 / 25.4


class Finding(BaseModel):
    rule: str = Field(description="Rule id, e.g. 'margin_left', 'font', 'quoc_hieu'")
    severity: Severity
    where: str = Field(description="Where in the file, in Vietnamese ('bảng 1, hàng 1, cột 2')")
    message: str = Field(description="What departs, in Vietnamese")


class CheckReport(BaseModel):
    source: str
    ok: bool = Field(description="True when no finding is an error")
    findings: list[Finding] = Field(default_factory=list)
    parts: dict[str, str] = Field(
        default_factory=dict,
        description="Where each recognised part was found: quoc_hieu, tieu_ngu, doc_type, "
        "noi_nhan -> location",
    )

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    def rules(self) -> set[str]:
        return {f.rule for f in self.findings}


# ---------------------------------------------------------------- loading


def _open(path: Path, limits: LoadSettings) -> DocxDocument:
    name = path.name
    if not path.is_file():
        raise LoadError(f"Không tìm thấy tệp Word «{name}».", source=str(path))
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise LoadError(
            f"Tệp «{name}» không phải tệp Word (.docx) hợp lệ hoặc đã bị hỏng.", source=str(path)
        ) from exc
    total = sum(info.file_size for info in infos)
    ratios = (info.file_size / max(info.compress_size, 1) for info in infos)
    if total > limits.max_docx_uncompressed_bytes or any(r > limits.max_docx_ratio for r in ratios):
        raise LoadError(
            f"Tệp «{name}» giải nén quá lớn bất thường; từ chối mở để bảo vệ hệ thống.",
            source=str(path),
        )
    try:
        return docx.Document(str(path))
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors…
        raise LoadError(
            f"Không đọc được tệp Word «{name}»: tệp hỏng hoặc không phải định dạng .docx.",
            source=str(path),
        ) from exc


# ---------------------------------------------------------------- style resolution


def _on(el: etree._Element | None) -> bool | None:
    """Value of a toggle property element (w:b, w:i, w:caps); None when absent."""
    if el is None:
        return None
    return el.get(qn("w:val"), "true").lower() not in ("0", "false", "off")


class _Resolver:
    def __init__(self, document: DocxDocument) -> None:
        styles_el = document.styles.element
        self.styles = {s.get(qn("w:styleId")): s for s in styles_el.findall(qn("w:style"))}
        self.default_para_style = next(
            (sid for sid, s in self.styles.items()
             if s.get(qn("w:type")) == "paragraph" and s.get(qn("w:default")) in ("1", "true")),
            None,
        )
        defaults = styles_el.find(qn("w:docDefaults"))
        self.default_rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}") \
            if defaults is not None else None
        self.default_ppr = defaults.find(f"{qn('w:pPrDefault')}/{qn('w:pPr')}") \
            if defaults is not None else None
        self.theme = _theme_fonts(document)

    def _style_chain(self, style_id: str | None) -> list[etree._Element]:
        chain: list[etree._Element] = []
        seen: set[str] = set()
        while style_id and style_id not in seen and style_id in self.styles:
            seen.add(style_id)
            style = self.styles[style_id]
            chain.append(style)
            based = style.find(qn("w:basedOn"))
            style_id = based.get(qn("w:val")) if based is not None else None
        return chain

    def _para_style(self, p: etree._Element) -> str | None:
        pstyle = p.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
        return pstyle.get(qn("w:val")) if pstyle is not None else self.default_para_style

    def run_rprs(self, p: etree._Element, r: etree._Element) -> list[etree._Element]:
        """Run property elements from the most to the least specific."""
        out: list[etree._Element] = []
        rpr = r.find(qn("w:rPr"))
        if rpr is not None:
            out.append(rpr)
            rstyle = rpr.find(qn("w:rStyle"))
            if rstyle is not None:
                out.extend(_children(self._style_chain(rstyle.get(qn("w:val"))), "w:rPr"))
        out.extend(_children(self._style_chain(self._para_style(p)), "w:rPr"))
        if self.default_rpr is not None:
            out.append(self.default_rpr)
        return out

    def para_pprs(self, p: etree._Element) -> list[etree._Element]:
        out: list[etree._Element] = []
        ppr = p.find(qn("w:pPr"))
        if ppr is not None:
            out.append(ppr)
        out.extend(_children(self._style_chain(self._para_style(p)), "w:pPr"))
        if self.default_ppr is not None:
            out.append(self.default_ppr)
        return out

    def font(self, rprs: list[etree._Element], slot: str) -> str | None:
        """Font for ``slot`` ('ascii' or 'hAnsi'); a theme reference beats a name at one level."""
        for rpr in rprs:
            fonts = rpr.find(qn("w:rFonts"))
            if fonts is None:
                continue
            theme = fonts.get(qn(f"w:{slot}Theme"))
            if theme:
                # An unresolvable theme reference is reported under its own name.
                return self.theme.get("major" if theme.startswith("major") else "minor", theme)
            name = fonts.get(qn(f"w:{slot}"))
            if name:
                return name
        return None

    @staticmethod
    def size_pt(rprs: list[etree._Element]) -> float:
        for rpr in rprs:
            sz = rpr.find(qn("w:sz"))
            if sz is not None and sz.get(qn("w:val")):
                return int(sz.get(qn("w:val"))) / 2
        return 10.0  # ECMA-376 default when nothing sets w:sz

    @staticmethod
    def toggle(rprs: list[etree._Element], tag: str) -> bool:
        for rpr in rprs:
            value = _on(rpr.find(qn(tag)))
            if value is not None:
                return value
        return False

    @staticmethod
    def alignment(pprs: list[etree._Element]) -> str:
        for ppr in pprs:
            jc = ppr.find(qn("w:jc"))
            if jc is not None:
                return jc.get(qn("w:val"), "left")
        return "left"

    @staticmethod
    def spacing(pprs: list[etree._Element], attr: str) -> str | None:
        """One attribute of w:spacing; each is inherited on its own."""
        for ppr in pprs:
            el = ppr.find(qn("w:spacing"))
            if el is not None and el.get(qn(f"w:{attr}")) is not None:
                return el.get(qn(f"w:{attr}"))
        return None

    @staticmethod
    def first_line_cm(pprs: list[etree._Element]) -> float:
        for ppr in pprs:
            ind = ppr.find(qn("w:ind"))
            if ind is None:
                continue
            if ind.get(qn("w:hanging")):
                return -_twips(ind.get(qn("w:hanging"))) / 567.0
            if ind.get(qn("w:firstLine")):
                return _twips(ind.get(qn("w:firstLine"))) / 567.0
        return 0.0


def _theme_fonts(document: DocxDocument) -> dict[str, str]:
    """The theme's Latin fonts: {'major': 'Calibri Light', 'minor': 'Calibri'}."""
    out: dict[str, str] = {}
    for rel in document.part.rels.values():
        if rel.reltype != RT.THEME or rel.is_external:
            continue
        try:
            root = etree.fromstring(rel.target_part.blob)
        except etree.XMLSyntaxError:
            return out
        ns = {"a": "http://schemas.openxmlformats.org/drawingml/2006/main"}
        for key in ("major", "minor"):
            xpath = f"//a:{key}Font/a:latin"
            found = root.xpath(xpath, namespaces=ns)
            if found and found[0].get("typeface"):
                out[key] = found[0].get("typeface")
    return out


def _children(elements: list[etree._Element], tag: str) -> list[etree._Element]:
    return [child for el in elements if (child := el.find(qn(tag))) is not None]


def _twips(value: str | None) -> float:
    if not value:
        return 0.0
    # Some writers store measures with units ("1134", "20mm", "1.27cm"); handle the common ones.
    match = re.fullmatch(r"(-?[\d.]+)\s*(mm|cm|in|pt|pc)?", value.strip())
    if not match:
        return 0.0
    number = float(match.group(1))
    unit = match.group(2)
    factor = {None: 1.0, "mm": _TWIPS_PER_MM, "cm": _TWIPS_PER_MM * 10, "in": 1440.0,
              "pt": 20.0, "pc": 240.0}[unit]
    return number * factor


# ---------------------------------------------------------------- walking the document


@dataclass
class _Para:
    el: etree._Element
    text: str
    where: str
    in_table: bool
    container: int  # id of the cell (or 0 for the body) holding the paragraph


def _text(p: etree._Element) -> str:
    parts: list[str] = []
    for node in p.iter(qn("w:t"), qn("w:tab"), qn("w:br")):
        if node.tag == qn("w:t"):
            parts.append(node.text or "")
        else:
            parts.append(" ")
    return nfc("".join(parts))


def _snippet(text: str, limit: int = 40) -> str:
    text = collapse_spaces(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _walk(document: DocxDocument) -> list[_Para]:
    out: list[_Para] = []
    counters = {"p": 0, "tbl": 0}

    def visit(parent: etree._Element, table_label: str | None, container: int) -> None:
        for child in parent:
            if child.tag == qn("w:p"):
                text = _text(child)
                if table_label is None:
                    counters["p"] += 1
                    where = f"đoạn {counters['p']}"
                else:
                    where = table_label
                out.append(_Para(child, text, f"{where} «{_snippet(text)}»",
                                 table_label is not None, container))
            elif child.tag == qn("w:tbl"):
                counters["tbl"] += 1
                label = f"bảng {counters['tbl']}"
                for r, row in enumerate(child.findall(qn("w:tr")), start=1):
                    for c, cell in enumerate(row.findall(qn("w:tc")), start=1):
                        visit(cell, f"{label}, hàng {r}, cột {c}", id(cell))
            elif child.tag == qn("w:sdt"):
                content = child.find(qn("w:sdtContent"))
                if content is not None:
                    visit(content, table_label, container)
            elif child.tag in (qn("w:customXml"), qn("w:smartTag")):
                visit(child, table_label, container)

    visit(document.element.body, None, 0)
    return out


def _runs(p: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    """Runs that carry visible text (their font matters)."""
    for r in p.iter(qn("w:r")):
        text = "".join(t.text or "" for t in r.findall(qn("w:t")))
        if text.strip():
            yield r, text


def _key(text: str) -> str:
    return collapse_spaces(search_view(nfc(text)))


def _fmt(value: float) -> str:
    """Vietnamese number: decimal comma, no trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")


def _range(bounds: tuple[float, float], unit: str) -> str:
    low, high = bounds
    return f"{_fmt(low)}–{_fmt(high)} {unit}" if low != high else f"{_fmt(low)} {unit}"


def _places(paras: list[_Para]) -> str:
    shown = "; ".join(p.where for p in paras[:MAX_LOCATIONS])
    more = len(paras) - MAX_LOCATIONS
    return shown + (f"; và {more} chỗ khác" if more > 0 else "")


# ---------------------------------------------------------------- the checker


class _Checker:
    def __init__(self, document: DocxDocument, source: str) -> None:
        self.document = document
        self.source = source
        self.resolver = _Resolver(document)
        self.paras = _walk(document)
        self.findings: list[Finding] = []
        self.parts: dict[str, str] = {}

    def add(self, rule: str, severity: Severity, where: str, message: str) -> None:
        self.findings.append(Finding(rule=rule, severity=severity, where=where, message=message))

    def run(self) -> CheckReport:
        self.check_page()
        self.check_page_numbers()
        self.check_fonts()
        self.check_header()
        body = self.check_title_and_body()
        self.check_body(body)
        self.check_recipients()
        ok = not any(f.severity == "error" for f in self.findings)
        return CheckReport(source=self.source, ok=ok, findings=self.findings, parts=self.parts)

    # -- page

    def check_page(self) -> None:
        sections = self.document.element.body.findall(f".//{qn('w:sectPr')}")
        for index, sect in enumerate(sections, start=1):
            where = f"mục {index}" if len(sections) > 1 else "trang"
            size = sect.find(qn("w:pgSz"))
            if size is not None:
                w = _twips(size.get(qn("w:w"))) / _TWIPS_PER_MM
                h = _twips(size.get(qn("w:h"))) / _TWIPS_PER_MM
                short, long_ = sorted((w, h))
                if (abs(short - A4_MM[0]) > PAGE_TOLERANCE_MM
                        or abs(long_ - A4_MM[1]) > PAGE_TOLERANCE_MM):
                    self.add("page_size", "error", where,
                             f"Khổ giấy {_fmt(w)}×{_fmt(h)} mm, quy định khổ A4 (210×297 mm)")
            margins = sect.find(qn("w:pgMar"))
            for side, bounds in MARGINS_MM.items():
                raw = margins.get(qn(f"w:{side}")) if margins is not None else None
                if raw is None:
                    continue
                mm = abs(_twips(raw)) / _TWIPS_PER_MM
                low, high = bounds
                if not (low - MARGIN_TOLERANCE_MM <= mm <= high + MARGIN_TOLERANCE_MM):
                    self.add(f"margin_{side}", "error", where,
                             f"Lề {MARGIN_NAMES[side]} {_fmt(round(mm, 1))} mm, "
                             f"quy định {_range(bounds, 'mm')}")

    def check_page_numbers(self) -> None:
        sections = self.document.element.body.findall(f".//{qn('w:sectPr')}")
        if not sections:
            return
        sect = sections[0]
        title_pg = _on(sect.find(qn("w:titlePg"))) is True
        headers: dict[str, etree._Element] = {}
        for ref in sect.findall(qn("w:headerReference")):
            rid = ref.get(qn("r:id"))
            part = self.document.part.related_parts.get(rid) if rid else None
            if part is not None and hasattr(part, "element"):
                headers[ref.get(qn("w:type"), "default")] = part.element
        default = headers.get("default")
        page_paras = [p for p in default.iter(qn("w:p")) if _has_page_field(p)] \
            if default is not None else []
        if not page_paras:
            self.add("page_number", "warning", "đầu trang",
                     "Không thấy số trang (trường PAGE) ở đầu trang; văn bản nhiều trang phải "
                     "đánh số trang từ trang thứ hai, ở giữa đầu trang")
            return
        if not title_pg:
            self.add("page_number", "error", "đầu trang",
                     "Số trang hiện cả ở trang đầu; quy định đánh số từ trang thứ hai "
                     "(chọn «trang đầu khác»)")
        first = headers.get("first")
        if title_pg and first is not None and any(_has_page_field(p)
                                                  for p in first.iter(qn("w:p"))):
            self.add("page_number", "error", "đầu trang đầu tiên",
                     "Trang đầu có số trang; quy định đánh số từ trang thứ hai")
        if self.resolver.alignment(self.resolver.para_pprs(page_paras[0])) != "center":
            self.add("page_number", "warning", "đầu trang",
                     "Số trang chưa căn giữa đầu trang")

    # -- fonts

    def check_fonts(self) -> None:
        offenders: dict[str, list[_Para]] = {}
        for para in self.paras:
            for r, _ in _runs(para.el):
                rprs = self.resolver.run_rprs(para.el, r)
                bad = {f for slot in ("ascii", "hAnsi")
                       if (f := self.resolver.font(rprs, slot)) and f.casefold() != FONT.casefold()}
                if bad:
                    for name in sorted(bad):
                        offenders.setdefault(name, []).append(para)
                    break
        total = sum(1 for p in self.paras if any(True for _ in _runs(p.el)))
        for name, paras in offenders.items():
            self.add("font", "error", _places(paras),
                     f"Phông chữ {name} ở {len(paras)}/{total} đoạn, quy định {FONT}")

    # -- header block

    def _find(self, key: str, *, exact: bool = False) -> _Para | None:
        for para in self.paras:
            k = _key(para.text)
            if (k == key) if exact else (key in k):
                return para
        return None

    def _run_stats(self, para: _Para) -> tuple[set[float], bool, bool, bool]:
        """Sizes, all-bold, all-italic, any-run for the visible runs of a paragraph."""
        sizes: set[float] = set()
        bold = italic = True
        seen = False
        for r, _ in _runs(para.el):
            seen = True
            rprs = self.resolver.run_rprs(para.el, r)
            sizes.add(self.resolver.size_pt(rprs))
            bold = bold and self.resolver.toggle(rprs, "w:b")
            italic = italic and self.resolver.toggle(rprs, "w:i")
        return sizes, bold and seen, italic and seen, seen

    def _check_part(self, rule: str, label: str, para: _Para, bounds: tuple[float, float],
                    *, bold: bool = True, italic: bool | None = None) -> None:
        sizes, is_bold, is_italic, _ = self._run_stats(para)
        low, high = bounds
        wrong = sorted(s for s in sizes if not low <= s <= high)
        if wrong:
            shown = ", ".join(f"{_fmt(s)} pt" for s in wrong)
            self.add(rule, "error", para.where,
                     f"{label} cỡ chữ {shown}, quy định {_range(bounds, 'pt')}")
        if bold and not is_bold:
            self.add(rule, "error", para.where, f"{label} chưa in đậm")
        if italic is True and not is_italic:
            self.add(rule, "error", para.where, f"{label} chưa in nghiêng")

    def check_header(self) -> None:
        quoc_hieu = self._find(_QUOC_HIEU_KEY)
        if quoc_hieu is None:
            self.add("quoc_hieu", "error", "đầu văn bản",
                     "Không tìm thấy Quốc hiệu «CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM»")
        else:
            self.parts["quoc_hieu"] = quoc_hieu.where
            self._check_part("quoc_hieu", "Quốc hiệu", quoc_hieu, QUOC_HIEU_PT)
            letters = [ch for ch in quoc_hieu.text if ch.isalpha()]
            caps = self._all_caps(quoc_hieu)
            if letters and not caps and any(ch.islower() for ch in letters):
                self.add("quoc_hieu", "error", quoc_hieu.where, "Quốc hiệu chưa viết in hoa")
        tieu_ngu = self._find(_TIEU_NGU_KEY)
        if tieu_ngu is None:
            self.add("tieu_ngu", "error", "đầu văn bản",
                     "Không tìm thấy Tiêu ngữ «Độc lập - Tự do - Hạnh phúc»")
        else:
            self.parts["tieu_ngu"] = tieu_ngu.where
            self._check_part("tieu_ngu", "Tiêu ngữ", tieu_ngu, TIEU_NGU_PT)
            if tieu_ngu.text.strip().isupper() or self._all_caps(tieu_ngu):
                self.add("tieu_ngu", "warning", tieu_ngu.where,
                         "Tiêu ngữ viết in hoa toàn bộ; quy định chỉ viết hoa chữ cái đầu")

    def _all_caps(self, para: _Para) -> bool:
        runs = list(_runs(para.el))
        return bool(runs) and all(
            self.resolver.toggle(self.resolver.run_rprs(para.el, r), "w:caps") for r, _ in runs
        )

    # -- title and body

    def check_title_and_body(self) -> list[_Para]:
        doc_type = (
            next((p for p in self.paras if not p.in_table and _key(p.text) == "thong bao"), None)
            or self._find("thong bao", exact=True)
            # "THÔNG BÁO KẾT LUẬN …" written as one line
            or next((p for p in self.paras if not p.in_table and p.text.strip().isupper()
                     and _key(p.text).startswith("thong bao ")), None)
            # the other kinds the product writes (the periodic report on assigned tasks)
            or next((p for p in self.paras if not p.in_table and _key(p.text) in OTHER_DOC_TYPES), None)
        )
        if doc_type is None:
            self.add("doc_type", "error", "sau phần đầu văn bản",
                     "Không tìm thấy tên loại văn bản «THÔNG BÁO»")
            return []
        self.parts["doc_type"] = doc_type.where
        self._check_part("doc_type", "Tên loại văn bản «THÔNG BÁO»", doc_type, DOC_TYPE_PT)
        if not (doc_type.text.strip().isupper() or self._all_caps(doc_type)):
            self.add("doc_type", "error", doc_type.where,
                     "Tên loại văn bản chưa viết in hoa")
        start = self.paras.index(doc_type) + 1
        rest = self.paras[start:]
        index = 0
        title: list[_Para] = []
        # Trích yếu: the centred lines right after the document type.
        while index < len(rest):
            para = rest[index]
            if not para.text.strip() or _SEPARATOR.match(para.text):
                if title:
                    index += 1
                    break
                index += 1
                continue
            pprs = self.resolver.para_pprs(para.el)
            if para.in_table or self.resolver.alignment(pprs) != "center":
                break
            title.append(para)
            index += 1
        if title:
            self.parts["title"] = title[0].where
            not_bold = [p for p in title if not self._run_stats(p)[1]]
            if not_bold:
                self.add("title", "warning", _places(not_bold), "Trích yếu chưa in đậm")
        else:
            self.add("title", "warning", doc_type.where,
                     "Không thấy trích yếu căn giữa ngay dưới «THÔNG BÁO»")
        body: list[_Para] = []
        for para in rest[index:]:
            if _key(para.text).startswith("noi nhan"):
                break
            if para.in_table or not para.text.strip() or _SEPARATOR.match(para.text):
                continue
            body.append(para)
        return body

    def check_body(self, body: list[_Para]) -> None:
        if not body:
            return
        wrong_size: dict[float, list[_Para]] = {}
        not_justified: list[_Para] = []
        wrong_indent: list[_Para] = []
        tight: list[_Para] = []
        wrong_lines: list[_Para] = []
        for para in body:
            sizes, *_ = self._run_stats(para)
            for size in sorted(sizes):
                if not BODY_PT[0] <= size <= BODY_PT[1]:
                    wrong_size.setdefault(size, []).append(para)
            pprs = self.resolver.para_pprs(para.el)
            if self.resolver.alignment(pprs) not in ("both", "distribute"):
                not_justified.append(para)
            indent = self.resolver.first_line_cm(pprs)
            low, high = INDENT_CM
            if not low - INDENT_TOLERANCE_CM <= indent <= high + INDENT_TOLERANCE_CM:
                wrong_indent.append(para)
            gap = sum(_twips(self.resolver.spacing(pprs, side)) for side in ("before", "after"))
            if gap / 20 < PARAGRAPH_GAP_PT - 0.05:
                tight.append(para)
            if not _line_spacing_ok(self.resolver.spacing(pprs, "line"),
                                    self.resolver.spacing(pprs, "lineRule")):
                wrong_lines.append(para)
        total = len(body)
        for size, paras in sorted(wrong_size.items()):
            self.add("body_size", "error", _places(paras),
                     f"Cỡ chữ nội dung {_fmt(size)} pt ở {len(paras)}/{total} đoạn, "
                     f"quy định {_range(BODY_PT, 'pt')}")
        if not_justified:
            self.add("body_alignment", "warning", _places(not_justified),
                     f"{len(not_justified)}/{total} đoạn nội dung chưa căn đều hai lề")
        if wrong_indent:
            cms = sorted({round(self.resolver.first_line_cm(self.resolver.para_pprs(p.el)), 2)
                          for p in wrong_indent})
            shown = ", ".join(f"{_fmt(c)} cm" for c in cms[:MAX_LOCATIONS])
            self.add("body_indent", "warning", _places(wrong_indent),
                     f"{len(wrong_indent)}/{total} đoạn nội dung có thụt đầu dòng {shown}, "
                     f"quy định {_range(INDENT_CM, 'cm')}")

        if tight:
            self.add("body_spacing", "warning", _places(tight),
                     f"{len(tight)}/{total} đoạn nội dung cách đoạn kế dưới "
                     f"{_fmt(PARAGRAPH_GAP_PT)} pt")
        if wrong_lines:
            self.add("line_spacing", "warning", _places(wrong_lines),
                     f"{len(wrong_lines)}/{total} đoạn nội dung có khoảng cách dòng ngoài "
                     f"khoảng dòng đơn đến 1,5 dòng (hoặc cố định từ 15 pt)")

    # -- recipients

    def check_recipients(self) -> None:
        index = next((i for i, p in enumerate(self.paras)
                      if _key(p.text).startswith("noi nhan")), None)
        if index is None:
            self.add("noi_nhan", "error", "cuối văn bản", "Không tìm thấy «Nơi nhận:»")
            return
        head = self.paras[index]
        self.parts["noi_nhan"] = head.where
        sizes, bold, italic, _ = self._run_stats(head)
        if sizes != {NOI_NHAN_PT}:
            shown = ", ".join(f"{_fmt(s)} pt" for s in sorted(sizes))
            self.add("noi_nhan", "error", head.where,
                     f"«Nơi nhận:» cỡ chữ {shown}, quy định {_fmt(NOI_NHAN_PT)} pt")
        if not bold or not italic:
            self.add("noi_nhan", "error", head.where,
                     "«Nơi nhận:» phải in nghiêng và đậm")
        items: list[_Para] = []
        for para in self.paras[index + 1:]:
            if para.container != head.container:
                break
            if para.text.strip():
                items.append(para)
        wrong = [p for p in items if self._run_stats(p)[0] - {RECIPIENT_PT}]
        if wrong:
            self.add("recipients_size", "warning", _places(wrong),
                     f"{len(wrong)}/{len(items)} dòng nơi nhận không phải cỡ chữ "
                     f"{_fmt(RECIPIENT_PT)} pt")


def _line_spacing_ok(line: str | None, rule: str | None) -> bool:
    if line is None:
        return True  # single, the default
    value = _twips(line)
    if rule in (None, "auto"):
        multiple = value / 240
        return LINE_MULTIPLE[0] - 0.01 <= multiple <= LINE_MULTIPLE[1] + 0.01
    # exact / atLeast, in twips; more than 1.5 lines of 14 pt text is too loose
    return LINE_EXACT_MIN_PT <= value / 20 <= 1.5 * 1.15 * BODY_PT[1] + 0.5


def _has_page_field(p: etree._Element) -> bool:
    for simple in p.iter(qn("w:fldSimple")):
        if _PAGE_FIELD.match(simple.get(qn("w:instr"), "")):
            return True
    return any(_PAGE_FIELD.match(instr.text or "") for instr in p.iter(qn("w:instrText")))


def check_docx(path: Path, limits: LoadSettings | None = None) -> CheckReport:
    """Check a .docx against NĐ 30/2020 Phụ lục I; raises ``LoadError`` if it cannot be read."""
    path = Path(path)
    document = _open(path, limits or LoadSettings())
    return _Checker(document, str(path)).run()

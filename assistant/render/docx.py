"""FormalDocument -> Word file in the layout of Nghị định 30/2020/NĐ-CP, Phụ lục I.

The values chosen here sit inside the ranges the decree allows (``assistant.check`` holds the
ranges themselves): A4, margins 20/20/30/15 mm, Times New Roman, body 14 pt.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.text.font import CT_RPr
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.section import Section
from docx.shared import Cm, Length, Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from assistant.model import FormalDocument
from assistant.render.markdown import NOI_NHAN, QUOC_HIEU, TIEU_NGU, one_line, outline_lines

FONT = "Times New Roman"
BODY_PT = 14
HEADER_LEFT_PT = 13  # issuing body and number
QUOC_HIEU_PT = 13
TIEU_NGU_PT = 14
PLACE_DATE_PT = 14
NOI_NHAN_PT = 12
RECIPIENT_PT = 11
FIRST_LINE_INDENT = Cm(1.27)
PARAGRAPH_GAP = Pt(6)
LINE_SPACING = 1.15

PAGE_WIDTH = Mm(210)
PAGE_HEIGHT = Mm(297)
MARGIN_TOP = Mm(20)
MARGIN_BOTTOM = Mm(20)
MARGIN_LEFT = Mm(30)
MARGIN_RIGHT = Mm(15)
TEXT_WIDTH_MM = 210 - 30 - 15

# Header and signature columns; the right header column must hold the Quốc hiệu on one line.
HEADER_COLUMNS_MM = (60, TEXT_WIDTH_MM - 60)
SIGNATURE_COLUMNS_MM = (80, TEXT_WIDTH_MM - 80)
SIGNING_SPACE_LINES = 4


def render_docx(doc: FormalDocument, path: Path) -> None:
    """Write ``doc`` as a .docx at ``path``; readers never see a half-written file."""
    document = Document()
    _set_defaults(document)
    section = document.sections[0]
    _set_page(section)
    _page_numbers(section)
    _header_table(document, doc)
    _title(document, doc)
    for text in doc.opening:
        if text.strip():
            _body_paragraph(document, one_line(text))
    for line in outline_lines(doc.body):
        _body_paragraph(document, line.text, bold=line.is_heading)
    if doc.closing:
        _body_paragraph(document, one_line(doc.closing))
    _signature_table(document, doc)
    _save_atomically(document, path)


def _set_fonts(rpr: CT_RPr) -> None:
    """Times New Roman for every script slot, theme fonts removed (they would win over it)."""
    fonts = rpr.get_or_add_rFonts()
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(qn(f"w:{attr}"), None)
    for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{attr}"), FONT)


def _set_defaults(document: DocxDocument) -> None:
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr_default = defaults.find(qn("w:rPrDefault")) if defaults is not None else None
    if rpr_default is not None:
        rpr = rpr_default.find(qn("w:rPr"))
        if rpr is None:
            rpr = OxmlElement("w:rPr")
            rpr_default.append(rpr)
        _set_fonts(rpr)
    for name in ("Normal", "Header"):
        style = document.styles[name]
        _set_fonts(style.element.get_or_add_rPr())
        style.font.size = Pt(BODY_PT)
    fmt = document.styles["Normal"].paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE


def _set_page(section: Section) -> None:
    section.page_width = PAGE_WIDTH
    section.page_height = PAGE_HEIGHT
    section.top_margin = MARGIN_TOP
    section.bottom_margin = MARGIN_BOTTOM
    section.left_margin = MARGIN_LEFT
    section.right_margin = MARGIN_RIGHT
    section.header_distance = Mm(10)
    section.footer_distance = Mm(10)


def _page_numbers(section: Section) -> None:
    # NĐ 30: numbers centred at the top, from the second page on.
    section.different_first_page_header_footer = True
    section.first_page_header.is_linked_to_previous = False
    header = section.header
    header.is_linked_to_previous = False
    paragraph = header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = _run(paragraph, "", BODY_PT)
    for kind, text in (("begin", None), ("instr", " PAGE "), ("separate", None), ("text", "2"),
                       ("end", None)):
        if kind == "instr":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        elif kind == "text":
            el = OxmlElement("w:t")
            el.text = text
        else:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        run._r.append(el)


def _run(paragraph: Paragraph, text: str, size: int, *, bold: bool = False,
         italic: bool = False) -> Run:
    run = paragraph.add_run(text)
    _set_fonts(run._r.get_or_add_rPr())
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.italic = italic
    return run


def _format(paragraph: Paragraph, *, align: WD_ALIGN_PARAGRAPH, before: Length | int = 0,
            after: Length | int = 0, first_line: Length | None = None) -> None:
    fmt = paragraph.paragraph_format
    fmt.alignment = align
    fmt.space_before = before
    fmt.space_after = after
    fmt.line_spacing = 1.0
    if first_line is not None:
        fmt.first_line_indent = first_line


def _line(paragraph: Paragraph, text: str, size: int, *, bold: bool = False,
          italic: bool = False, align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.CENTER,
          before: Length | int = 0) -> Paragraph:
    _format(paragraph, align=align, before=before)
    _run(paragraph, text, size, bold=bold, italic=italic)
    return paragraph


def _broken_line(paragraph: Paragraph, text: str, size: int, *, bold: bool = False) -> None:
    """A centred header line where a line break in the value is kept ("ỦY BAN NHÂN DÂN\nTHỊ
    XÃ …"): a break inside one paragraph, which text extraction reads as a space."""
    _format(paragraph, align=WD_ALIGN_PARAGRAPH.CENTER)
    pieces = [one_line(piece) for piece in text.splitlines() if piece.strip()]
    for index, piece in enumerate(pieces):
        run = _run(paragraph, piece, size, bold=bold)
        if index < len(pieces) - 1:
            run.add_break()


def _rule_under(paragraph: Paragraph, width_mm: float, column_mm: float) -> None:
    """A short centred horizontal line: the bottom border of an empty, indented paragraph."""
    side = Mm(max(column_mm - width_mm, 0) / 2)
    fmt = paragraph.paragraph_format
    fmt.alignment = WD_ALIGN_PARAGRAPH.CENTER
    fmt.left_indent = side
    fmt.right_indent = side
    # Room above the line, or it touches the descenders of the text it sits under.
    fmt.space_before = Pt(3)
    fmt.space_after = Pt(2)
    fmt.line_spacing = Pt(2)
    ppr = paragraph._p.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("val", "single"), ("sz", "6"), ("space", "1"), ("color", "auto")):
        bottom.set(qn(f"w:{key}"), value)
    border.append(bottom)
    _insert_in_order(ppr, border, _PBDR_SUCCESSORS)


# Elements that must follow pBdr / tblBorders in their parent (ECMA-376 CT_PPr, CT_TblPr):
# Word refuses to open a file whose properties are out of schema order.
_PBDR_SUCCESSORS = (
    "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap", "overflowPunct",
    "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd", "snapToGrid",
    "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc",
    "textDirection", "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle",
    "rPr", "sectPr", "pPrChange",
)
_TBLBORDERS_SUCCESSORS = (
    "shd", "tblLayout", "tblCellMar", "tblLook", "tblCaption", "tblDescription", "tblPrChange",
)


def _insert_in_order(parent: BaseOxmlElement, child: BaseOxmlElement,
                     successors: tuple[str, ...]) -> None:
    names = {qn(f"w:{name}") for name in successors}
    for existing in parent:
        if existing.tag in names:
            existing.addprevious(child)
            return
    parent.append(child)


def _borderless_table(document: DocxDocument, columns_mm: tuple[float, float]) -> Table:
    table = document.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    _insert_in_order(tbl_pr, borders, _TBLBORDERS_SUCCESSORS)
    for col, width in zip(table.columns, columns_mm, strict=True):
        col.width = Mm(width)
    return table


def _fix_widths(table: Table, columns_mm: tuple[float, float]) -> None:
    # Word reads the cell widths, LibreOffice the grid: set both.
    for row in table.rows:
        for cell, width in zip(row.cells, columns_mm, strict=True):
            cell.width = Mm(width)


def _cell_paragraph(cell: _Cell, first: list[bool]) -> Paragraph:
    """The cell's own empty first paragraph, then new ones."""
    if first[0]:
        first[0] = False
        return cell.paragraphs[0]
    return cell.add_paragraph()


def _header_table(document: DocxDocument, doc: FormalDocument) -> None:
    table = _borderless_table(document, HEADER_COLUMNS_MM)
    table.add_row()
    left, right = table.rows[0].cells
    left_first, right_first = [True], [True]
    if doc.issuer_parent:
        _broken_line(_cell_paragraph(left, left_first), doc.issuer_parent.upper(),
                     HEADER_LEFT_PT)
    _broken_line(_cell_paragraph(left, left_first), doc.issuer.upper(), HEADER_LEFT_PT,
                 bold=True)
    _rule_under(_cell_paragraph(left, left_first), 20, HEADER_COLUMNS_MM[0])
    _line(_cell_paragraph(right, right_first), QUOC_HIEU, QUOC_HIEU_PT, bold=True)
    _line(_cell_paragraph(right, right_first), TIEU_NGU, TIEU_NGU_PT, bold=True)
    _rule_under(_cell_paragraph(right, right_first), 66, HEADER_COLUMNS_MM[1])
    number_cell, date_cell = table.rows[1].cells
    _line(number_cell.paragraphs[0], one_line(doc.number), HEADER_LEFT_PT, before=Pt(6))
    _line(date_cell.paragraphs[0], one_line(doc.place_date), PLACE_DATE_PT, italic=True,
          before=Pt(6))
    _fix_widths(table, HEADER_COLUMNS_MM)


def _title(document: DocxDocument, doc: FormalDocument) -> None:
    _line(document.add_paragraph(), one_line(doc.doc_type).upper(), BODY_PT, bold=True,
          before=Pt(24))
    _line(document.add_paragraph(), one_line(doc.title), BODY_PT, bold=True)
    _rule_under(document.add_paragraph(), 50, TEXT_WIDTH_MM)
    document.add_paragraph().paragraph_format.space_after = Pt(6)


def _body_paragraph(document: DocxDocument, text: str, *, bold: bool = False) -> None:
    paragraph = document.add_paragraph()
    _format(paragraph, align=WD_ALIGN_PARAGRAPH.JUSTIFY, before=PARAGRAPH_GAP,
            first_line=FIRST_LINE_INDENT)
    paragraph.paragraph_format.line_spacing = LINE_SPACING
    _run(paragraph, text, BODY_PT, bold=bold)


def _signature_table(document: DocxDocument, doc: FormalDocument) -> None:
    spacer = document.add_paragraph()
    spacer.paragraph_format.space_after = Pt(6)
    table = _borderless_table(document, SIGNATURE_COLUMNS_MM)
    left, right = table.rows[0].cells
    left_first, right_first = [True], [True]
    if doc.recipients:
        _line(_cell_paragraph(left, left_first), NOI_NHAN, NOI_NHAN_PT, bold=True, italic=True,
              align=WD_ALIGN_PARAGRAPH.LEFT)
        for recipient in doc.recipients:
            if recipient.strip():
                _line(_cell_paragraph(left, left_first), one_line(recipient), RECIPIENT_PT,
                      align=WD_ALIGN_PARAGRAPH.LEFT)
    for value in (doc.authority, doc.position):
        if value:
            _line(_cell_paragraph(right, right_first), one_line(value).upper(), BODY_PT,
                  bold=True)
    if doc.signer:
        for _ in range(SIGNING_SPACE_LINES):
            _line(_cell_paragraph(right, right_first), "", BODY_PT)
        _line(_cell_paragraph(right, right_first), one_line(doc.signer), BODY_PT, bold=True)
    _fix_widths(table, SIGNATURE_COLUMNS_MM)


def _save_atomically(document: DocxDocument, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        document.save(tmp_name)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise

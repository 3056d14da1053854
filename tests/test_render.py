"""Rendering a draft notice as text and as an NĐ 30/2020 Word file.

The fixture is a fictional locality (thị xã Bình Khê, tỉnh Vân Sơn). The Markdown output is
compared with a reviewed golden file; regenerate it with ``UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import docx
import pytest
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

from assistant.check import check_docx
from assistant.load import load_path
from assistant.model import FormalDocument, OutlineItem
from assistant.render import QUOC_HIEU, TIEU_NGU, render_docx, render_markdown

GOLDEN = Path(__file__).parent / "golden" / "render"
FONT = "Times New Roman"


def _item(marker: str, text: str | None = None, heading: str | None = None,
          children: list[OutlineItem] | None = None) -> OutlineItem:
    return OutlineItem(marker=marker, text=text, heading=heading, children=children or [])


def binh_khe_notice() -> FormalDocument:
    return FormalDocument(
        issuer_parent="UBND TỈNH VÂN SƠN",
        issuer="ỦY BAN NHÂN DÂN THỊ XÃ BÌNH KHÊ",
        number="Số:      /TB-UBND",
        place_date="Bình Khê, ngày      tháng 3 năm 2025",
        title="Kết luận của đồng chí Lý Minh Khôi, Chủ tịch UBND thị xã tại phiên họp "
        "thường kỳ tháng 02 năm 2025",
        opening=[
            "Ngày 27/02/2025, UBND thị xã Bình Khê tổ chức phiên họp thường kỳ tháng 02 "
            "năm 2025 dưới sự chủ trì của đồng chí Lý Minh Khôi, Chủ tịch UBND thị xã. Dự "
            "họp có các đồng chí Phó Chủ tịch UBND thị xã, lãnh đạo các phòng, ban, đơn vị.",
            "Sau khi nghe báo cáo và ý kiến của các đại biểu, đồng chí Chủ tịch UBND thị xã "
            "kết luận như sau:",
        ],
        body=[
            _item("I.", heading="ĐÁNH GIÁ CHUNG",
                  text="Tháng 02 năm 2025, tình hình kinh tế - xã hội của thị xã tiếp tục ổn "
                  "định; thu ngân sách đạt 21% dự toán; lễ hội đầu xuân diễn ra an toàn."),
            _item("II.", heading="NHIỆM VỤ TRỌNG TÂM THÁNG 3 NĂM 2025", children=[
                _item("1.", heading="Phòng Tài chính - Kế hoạch", children=[
                    _item("-", "Chủ trì, phối hợp với Chi cục Thuế khu vực rà soát các khoản "
                          "thu, báo cáo UBND thị xã trước ngày 15/3/2025."),
                    _item("-", "Tham mưu phân bổ vốn đầu tư công năm 2025, hoàn thành trong "
                          "tháng 3/2025."),
                ]),
                _item("2.", heading="Phòng Tài nguyên và Môi trường", children=[
                    _item("+", "Đẩy nhanh cấp giấy chứng nhận quyền sử dụng đất cho các hộ "
                          "tại phường Đông Khê."),
                    _item("+", "Phối hợp với UBND xã Hòa Khê xử lý dứt điểm điểm tập kết rác "
                          "tự phát ven kênh Tây."),
                ]),
                _item("3.", heading="Các đơn vị khác", children=[
                    _item("3.1.", heading="Phòng Giáo dục và Đào tạo",
                          text="Hoàn thành mua sắm thiết bị Trường Tiểu học Hòa Khê trước "
                          "ngày 30/4/2025."),
                    _item("3.2.", heading="Công an thị xã", children=[
                        _item("a)", "Bảo đảm an ninh trật tự trong mùa lễ hội."),
                        _item("b)", "Báo cáo kết quả về UBND thị xã hàng tuần."),
                    ]),
                ]),
                _item("4.", "Văn phòng HĐND và UBND thị xã theo dõi, đôn đốc việc thực hiện "
                      "Thông báo này."),
            ]),
        ],
        closing="Trên đây là kết luận của đồng chí Chủ tịch UBND thị xã tại phiên họp thường kỳ "
        "tháng 02 năm 2025. UBND thị xã thông báo để các cơ quan, đơn vị biết, thực hiện./.",
        recipients=[
            "- Thường trực Thị ủy, HĐND thị xã;",
            "- Chủ tịch, các PCT UBND thị xã;",
            "- Các phòng, ban, đơn vị có tên trên;",
            "- UBND các xã, phường;",
            "- Lưu: VT, TH.",
        ],
        authority="TL. CHỦ TỊCH",
        position="CHÁNH VĂN PHÒNG",
        signer="Đặng Thu Hà",
    )


# ---------------------------------------------------------------- Markdown


def test_markdown_matches_golden() -> None:
    text = render_markdown(binh_khe_notice())
    golden = GOLDEN / "binh_khe.md"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.is_file(), "golden file missing: run with UPDATE_GOLDEN=1 and review it"
    assert text == golden.read_text(encoding="utf-8")


def test_markdown_layout_one_item_per_line_markers_first() -> None:
    doc = binh_khe_notice()
    lines = [line for line in render_markdown(doc).split("\n") if line]
    assert lines[:8] == [
        "UBND TỈNH VÂN SƠN",
        "ỦY BAN NHÂN DÂN THỊ XÃ BÌNH KHÊ",
        QUOC_HIEU,
        TIEU_NGU,
        "Số:      /TB-UBND",  # the blanks stay for the office to fill in
        "Bình Khê, ngày      tháng 3 năm 2025",
        "THÔNG BÁO",
        doc.title,
    ]
    markers = [line.split(" ")[0] for line in lines]
    for marker in ("I.", "II.", "1.", "2.", "3.", "3.1.", "3.2.", "4.", "-", "+", "a)", "b)"):
        assert marker in markers
    assert not any(line.startswith(("#", " ", "*")) for line in lines)
    assert lines.index("Nơi nhận:") < lines.index("TL. CHỦ TỊCH") < lines.index("Đặng Thu Hà")
    assert lines[-3:] == ["TL. CHỦ TỊCH", "CHÁNH VĂN PHÒNG", "Đặng Thu Hà"]
    # a heading's own body text follows it as an unmarked paragraph
    i = lines.index("3.1. Phòng Giáo dục và Đào tạo")
    assert lines[i + 1].startswith("Hoàn thành mua sắm thiết bị")


def test_markdown_flattens_line_breaks_inside_values() -> None:
    doc = binh_khe_notice()
    doc.body = [_item("-", "Chủ trì rà soát\nvà báo cáo\r\n trước ngày 10/3/2025.")]
    lines = render_markdown(doc).split("\n")
    assert "- Chủ trì rà soát và báo cáo trước ngày 10/3/2025." in lines


def test_line_break_in_issuer_kept_in_word_only(tmp_path: Path) -> None:
    doc = binh_khe_notice()
    doc.issuer = "ỦY BAN NHÂN DÂN\nTHỊ XÃ BÌNH KHÊ"
    assert "ỦY BAN NHÂN DÂN THỊ XÃ BÌNH KHÊ\n" in render_markdown(doc)
    path = tmp_path / "br.docx"
    render_docx(doc, path)
    issuer = docx.Document(str(path)).tables[0].cell(0, 0).paragraphs[1]
    assert issuer.text == "ỦY BAN NHÂN DÂN\nTHỊ XÃ BÌNH KHÊ"
    assert len(issuer._p.xpath(".//w:br")) == 1
    assert "ỦY BAN NHÂN DÂN THỊ XÃ BÌNH KHÊ" in load_path(path).text.split("\n")


def test_markdown_omits_missing_optional_parts() -> None:
    doc = binh_khe_notice()
    doc.issuer_parent = None
    doc.recipients = []
    doc.authority = None
    text = render_markdown(doc)
    assert text.startswith("ỦY BAN NHÂN DÂN THỊ XÃ BÌNH KHÊ\n")
    assert "Nơi nhận" not in text
    assert "TL." not in text


# ---------------------------------------------------------------- Word


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("render") / "binh_khe.docx"
    render_docx(binh_khe_notice(), path)
    return path


@pytest.fixture(scope="module")
def document(rendered: Path) -> DocxDocument:
    return docx.Document(str(rendered))


def _blocks(document: DocxDocument) -> list[Paragraph | Table]:
    return list(document.iter_inner_content())


def _runs_text(paragraph: Paragraph) -> list[str]:
    return [r.text for r in paragraph.runs if r.text.strip()]


def _assert_run(paragraph: Paragraph, size: float, *, bold: bool = False,
                italic: bool = False) -> None:
    runs = [r for r in paragraph.runs if r.text.strip()]
    assert runs, paragraph.text
    for run in runs:
        assert run.font.size == Pt(size), (paragraph.text, run.font.size)
        assert bool(run.font.bold) is bold, paragraph.text
        assert bool(run.font.italic) is italic, paragraph.text
        assert run._r.rPr is not None
        fonts = run._r.rPr.find(qn("w:rFonts"))
        for slot in ("ascii", "hAnsi", "eastAsia", "cs"):
            assert fonts.get(qn(f"w:{slot}")) == FONT
        assert fonts.get(qn("w:asciiTheme")) is None


def test_page_is_a4_with_nd30_margins(document: DocxDocument) -> None:
    section = document.sections[0]
    assert section.page_width is not None and section.page_height is not None
    assert abs(section.page_width - Mm(210)) < Mm(0.1)
    assert abs(section.page_height - Mm(297)) < Mm(0.1)
    # margins are stored in whole twips: 15 mm is 850 twips, 14.99 mm
    for value, low, high in ((section.top_margin, 20, 25), (section.bottom_margin, 20, 25),
                             (section.left_margin, 30, 35), (section.right_margin, 15, 20)):
        assert value is not None and Mm(low - 0.05) <= value <= Mm(high + 0.05)


def test_defaults_are_times_new_roman_without_theme_fonts(document: DocxDocument) -> None:
    fonts = document.styles.element.find(
        f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:rFonts')}")
    assert fonts is not None
    assert {fonts.get(qn(f"w:{slot}")) for slot in ("ascii", "hAnsi", "eastAsia", "cs")} == {FONT}
    assert not any(key.endswith("Theme") or key.endswith("theme") for key in fonts.attrib)


def test_parts_in_order(document: DocxDocument) -> None:
    blocks = _blocks(document)
    assert isinstance(blocks[0], Table) and isinstance(blocks[-1], Table)
    body = [b.text for b in blocks[1:-1] if isinstance(b, Paragraph) and b.text.strip()]
    doc = binh_khe_notice()
    assert body[0] == "THÔNG BÁO"
    assert body[1] == doc.title
    assert body[2:4] == doc.opening
    assert body[4] == "I. ĐÁNH GIÁ CHUNG"
    assert body[-1] == doc.closing
    assert body.index("II. NHIỆM VỤ TRỌNG TÂM THÁNG 3 NĂM 2025") < body.index(
        "1. Phòng Tài chính - Kế hoạch") < body.index("3.2. Công an thị xã") < body.index(
        "a) Bảo đảm an ninh trật tự trong mùa lễ hội.")


def test_header_table(document: DocxDocument) -> None:
    header = _blocks(document)[0]
    assert isinstance(header, Table)
    assert len(header.columns) == 2 and len(header.rows) == 2
    left = [p for p in header.cell(0, 0).paragraphs if p.text.strip()]
    right = [p for p in header.cell(0, 1).paragraphs if p.text.strip()]
    assert [p.text for p in left] == ["UBND TỈNH VÂN SƠN", "ỦY BAN NHÂN DÂN THỊ XÃ BÌNH KHÊ"]
    _assert_run(left[0], 13)
    _assert_run(left[1], 13, bold=True)
    assert [p.text for p in right] == [QUOC_HIEU, TIEU_NGU]
    _assert_run(right[0], 13, bold=True)
    _assert_run(right[1], 14, bold=True)
    number = header.cell(1, 0).paragraphs[0]
    assert number.text == "Số:      /TB-UBND"
    _assert_run(number, 13)
    place_date = header.cell(1, 1).paragraphs[0]
    assert place_date.text.startswith("Bình Khê, ngày")
    _assert_run(place_date, 14, italic=True)
    # the short lines under the issuer and under the Tiêu ngữ: bordered empty paragraphs
    for cell in (header.cell(0, 0), header.cell(0, 1)):
        ruled = [p for p in cell.paragraphs if p._p.find(f".//{qn('w:pBdr')}") is not None]
        assert len(ruled) == 1 and not ruled[0].text
        assert ruled[0]._p is cell.paragraphs[-1]._p


def test_tables_have_no_borders(document: DocxDocument) -> None:
    tables = document.tables
    assert len(tables) == 2
    for table in tables:
        tbl_pr = table._tbl.tblPr
        assert tbl_pr.find(qn("w:tblStyle")) is None  # no style could bring borders back
        borders = tbl_pr.find(qn("w:tblBorders"))
        assert borders is not None
        edges = {child.tag.split("}")[1]: child.get(qn("w:val")) for child in borders}
        assert edges == dict.fromkeys(
            ("top", "left", "bottom", "right", "insideH", "insideV"), "nil")
        assert not table._tbl.xpath(".//w:tcBorders")


def test_title_block(document: DocxDocument) -> None:
    paragraphs = [b for b in _blocks(document) if isinstance(b, Paragraph) and b.text.strip()]
    doc_type, title = paragraphs[0], paragraphs[1]
    assert doc_type.text == "THÔNG BÁO"
    assert doc_type.alignment == 1 and title.alignment == 1  # centred
    _assert_run(doc_type, 14, bold=True)
    _assert_run(title, 14, bold=True)


def test_body_paragraph_format(document: DocxDocument) -> None:
    paragraphs = [b for b in _blocks(document) if isinstance(b, Paragraph) and b.text.strip()]
    body = paragraphs[2:]
    assert len(body) == 2 + 16 + 1  # opening, outline lines, closing
    for paragraph in body:
        fmt = paragraph.paragraph_format
        assert paragraph.alignment == 3  # justified
        assert fmt.first_line_indent is not None
        assert Cm(1) <= fmt.first_line_indent <= Cm(1.27) + 10
        assert fmt.space_before is not None and fmt.space_before >= Pt(6)
        assert fmt.line_spacing is not None and 1.0 <= fmt.line_spacing <= 1.5
    headings = {"I. ĐÁNH GIÁ CHUNG", "II. NHIỆM VỤ TRỌNG TÂM THÁNG 3 NĂM 2025",
                "1. Phòng Tài chính - Kế hoạch", "2. Phòng Tài nguyên và Môi trường",
                "3. Các đơn vị khác", "3.1. Phòng Giáo dục và Đào tạo", "3.2. Công an thị xã"}
    assert headings <= {p.text for p in body}
    for paragraph in body:
        _assert_run(paragraph, 14, bold=paragraph.text in headings)


def test_signature_table(document: DocxDocument) -> None:
    signature = _blocks(document)[-1]
    assert isinstance(signature, Table) and len(signature.columns) == 2
    left = signature.cell(0, 0).paragraphs
    assert left[0].text == "Nơi nhận:"
    _assert_run(left[0], 12, bold=True, italic=True)
    assert [p.text for p in left[1:]] == binh_khe_notice().recipients
    for paragraph in left[1:]:
        _assert_run(paragraph, 11)
    right = signature.cell(0, 1).paragraphs
    texts = [p.text for p in right]
    assert texts[0] == "TL. CHỦ TỊCH" and texts[1] == "CHÁNH VĂN PHÒNG"
    assert texts[-1] == "Đặng Thu Hà"
    assert texts[2:-1] == [""] * 4  # room for the signature
    for paragraph in (right[0], right[1], right[-1]):
        _assert_run(paragraph, 14, bold=True)
        assert paragraph.alignment == 1


def test_page_numbers_from_second_page(document: DocxDocument) -> None:
    section = document.sections[0]
    assert section.different_first_page_header_footer
    default = section.header._element
    instr = [t.text for t in default.iter(qn("w:instrText"))]
    assert [s.strip() for s in instr] == ["PAGE"]
    assert section.header.paragraphs[0].alignment == 1
    first = section.first_page_header
    assert not first.is_linked_to_previous
    assert not list(first._element.iter(qn("w:instrText")))


def test_rendered_docx_passes_check(rendered: Path) -> None:
    report = check_docx(rendered)
    assert report.ok
    assert report.findings == []


def test_word_and_text_read_back_the_same(rendered: Path, tmp_path: Path) -> None:
    """The project's loader sees the same paragraphs, in the same order, in both formats."""
    md = tmp_path / "binh_khe.md"
    md.write_text(render_markdown(binh_khe_notice()), encoding="utf-8")
    from_md = load_path(md).text.split("\n")
    from_docx = load_path(rendered).text.split("\n")
    squeeze = re.compile(r" +")
    assert [squeeze.sub(" ", p) for p in from_md] == [squeeze.sub(" ", p) for p in from_docx]
    assert "- Lưu: VT, TH." in from_docx


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out" / "tb.docx"
    render_docx(binh_khe_notice(), target)
    before = target.read_bytes()
    assert [p.name for p in target.parent.iterdir()] == ["tb.docx"]

    def broken_save(self: object, path: object) -> None:
        Path(str(path)).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(DocxDocument, "save", broken_save)
    with pytest.raises(OSError):
        render_docx(binh_khe_notice(), target)
    assert target.read_bytes() == before  # the old file is untouched
    assert [p.name for p in target.parent.iterdir()] == ["tb.docx"]  # no temp file left


def test_minimal_document_renders_and_passes(tmp_path: Path) -> None:
    doc = FormalDocument(issuer="VĂN PHÒNG", place_date="Vân Sơn, ngày 3 tháng 3 năm 2025",
                         title="Kết luận tại buổi làm việc", recipients=["- Lưu: VT."],
                         body=[_item("-", "Giao Phòng Nội vụ rà soát biên chế.")])
    path = tmp_path / "min.docx"
    render_docx(doc, path)
    report = check_docx(path)
    assert report.ok, report.findings
